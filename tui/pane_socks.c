/* The drill-down: every socket of one process or one port, sortable and filterable.
 * Esc or Backspace goes back to the pane it came from, selection unchanged. */
#include "config.h"

#include "tui/tui.h"
#include "model/snapshot.h"

#include <string.h>

static bool in_drill(const struct app *a, const struct sock_rec *k)
{
	const struct drill *d = &a->drill;
	if (d->kind == DRILL_PORT)
		return k->netns == d->netns && (d->side == SIDE_LOCAL ? k->lport : k->rport) == d->port;
	return false;
}

static int socks_build(struct app *a, struct pane *p)
{
	const struct snapshot *s = a->s;

	p->nrows = 0;
	if (a->drill.kind == DRILL_PROC) {
		const struct proc_rec *r = snapshot_find_proc(s, a->drill.pid);
		if (!r || r->start_time != a->drill.start_time)
			return 0; /* the process is gone: an empty list says so */
		if (pane_grow(p, r->owner_count))
			return -1;
		for (uint32_t i = 0; i < r->owner_count; i++) {
			const struct sock_owner *o = &s->owners[r->owner_first + i];
			if (o->sock >= 0 && view_query_sock(&a->filter, s, &s->socks[o->sock]))
				p->rows[p->nrows++] = (uint32_t)o->sock;
		}
	} else {
		if (pane_grow(p, s->nsocks))
			return -1;
		for (size_t i = 0; i < s->nsocks; i++)
			if (in_drill(a, &s->socks[i]) && view_query_sock(&a->filter, s, &s->socks[i]))
				p->rows[p->nrows++] = (uint32_t)i;
	}
	view_sort(VT_SOCKS, &a->ctx, p->rows, p->nrows, p->sort, p->invert);
	return 0;
}

static struct row_key socks_key(const struct app *a, uint32_t row)
{
	const struct sock_rec *k = &a->s->socks[row];
	return (struct row_key){k->inode ? k->inode : k->cookie, k->inode ? 0 : 1};
}

static int socks_cell_role(const struct app *a, uint32_t row, int col)
{
	if (col == SC_STATE)
		return TH_STATE + a->s->socks[row].state;
	return -1;
}

static bool socks_match(const struct app *a, uint32_t row, const struct view_query *q)
{
	return view_query_sock(q, a->s, &a->s->socks[row]);
}

void pane_socks_open(struct app *a, const struct drill *d)
{
	struct pane *p = &a->panes[PANE_SOCKS];

	a->drill = *d;
	a->drilled = true;
	p->sel = p->top = 0;
	p->have_key = false;
	app_rebuild(a);
}

const struct pane_ops pane_socks_ops = {
	.table = VT_SOCKS,
	.build = socks_build,
	.key = socks_key,
	.cell_role = socks_cell_role,
	.match = socks_match,
};
