/* The drill-down: every socket of one process or one port, sortable and filterable.
 * Esc or Backspace goes back to the pane it came from, selection unchanged. */
#include "config.h"

#include "tui/pane_socks.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "model/snapshot.h"

#include <string.h>

static bool in_drill(const struct app *a, const struct sock_rec *k)
{
	const struct drill *d = &a->drill;
	if (d->kind == DRILL_PORT)
		return sock_netns(a->s, k) == d->netns && (d->side == SIDE_LOCAL ? k->lport : k->rport) == d->port;
	return false;
}

/* A process's socket fd whose socket is in no dump counts as CLOSED only where
 * every kind of socket was dumped (snapshot_build's rule); else it is unknown. */
static bool owner_listed(const struct snapshot *s, const struct sock_owner *o)
{
	const struct netns_rec *n;
	if (o->sock >= 0)
		return true;
	return o->sock != OWNER_STALE && s->closed_valid && (n = snapshot_find_netns(s, s->procs[o->proc].netns)) &&
	       n->dumped;
}

/* What the filter sees of a row: the socket, or a CLOSED stand-in held by its owner. */
static const struct sock_rec *row_sock(const struct app *a, uint32_t row, struct sock_rec *tmp)
{
	const struct snapshot *s = a->s;
	if (!(row & VIEW_ROW_OWNER))
		return &s->socks[row];
	const struct sock_owner *o = &s->owners[row & ~VIEW_ROW_OWNER];
	if (o->sock >= 0)
		return &s->socks[o->sock];
	*tmp = (struct sock_rec){.state = ST_CLOSED_FD, .inode = o->inode, .owner = (int32_t)(row & ~VIEW_ROW_OWNER)};
	return tmp;
}

/* How many rows the widths are measured on when a refresh comes: all of them up to
 * this, else this many spread over the list (formatting the addresses of 500k
 * sockets took longer than the refresh). The rows drawn are measured too
 * (socks_measure), so no cell on screen is cut. */
#define WIDTH_SAMPLE 2048

/* Widen the TYPE, LOCAL and REMOTE columns to fit row: those columns are as wide as
 * the data. */
static void widen(struct app *a, struct pane *p, uint32_t row)
{
	char buf[256];
	const struct view_table_def *t = &view_tables[VT_SOCKS];
	static const int cols[] = {SC_TYPE, SC_LOCAL, SC_REMOTE};

	for (size_t j = 0; j < sizeof(cols) / sizeof(cols[0]); j++) {
		int c = cols[j];
		t->cols[c].fmt(&a->ctx, row, buf, sizeof(buf));
		int w = (int)strlen(buf); /* escaped names: ASCII or UTF-8, near enough */
		if (w > p->data_w[c])
			p->data_w[c] = w > 120 ? 120 : w;
	}
}

static void socks_measure(struct app *a, struct pane *p, size_t lo, size_t hi)
{
	for (size_t i = lo; i < hi && i < p->nrows; i++)
		widen(a, p, p->rows[i]);
}

static int socks_build(struct app *a, struct pane *p)
{
	const struct snapshot *s = a->s;
	struct sock_rec tmp;

	p->nrows = 0;
	view_order_init(&p->order, VT_SOCKS, p->sort, p->invert);
	p->lazy = true;
	if (a->drill.kind == DRILL_PROC) {
		/* Every socket fd of the process, one row per fd: TCP, UDP, UNIX and the
		 * CLOSED ones (in no dump: reset, never connected, still held). */
		const struct proc_rec *r = snapshot_find_proc(s, a->drill.pid);
		if (!r || r->start_time != a->drill.start_time)
			return 0; /* the process is gone: an empty list says so */
		if (pane_grow(p, r->owner_count))
			return -1;
		for (uint32_t i = 0; i < r->owner_count; i++) {
			uint32_t row = VIEW_ROW_OWNER | (r->owner_first + i);
			if (owner_listed(s, &s->owners[r->owner_first + i]) &&
			    view_query_sock(&a->filter, s, row_sock(a, row, &tmp)))
				p->rows[p->nrows++] = row;
		}
	} else {
		if (pane_grow(p, s->nsocks))
			return -1;
		for (size_t i = 0; i < s->nsocks; i++)
			if (in_drill(a, &s->socks[i]) && view_query_sock(&a->filter, s, &s->socks[i]))
				p->rows[p->nrows++] = (uint32_t)i;
	}
	/* Measured in the snapshot's order, the same rows each refresh while the list
	 * stays the same size; then ordered only as far as they are looked at. */
	memset(p->data_w, 0, sizeof(p->data_w));
	size_t step = p->nrows > WIDTH_SAMPLE ? (p->nrows + WIDTH_SAMPLE - 1) / WIDTH_SAMPLE : 1;
	for (size_t i = 0; i < p->nrows; i += step)
		widen(a, p, p->rows[i]);
	return 0;
}

static struct row_key socks_key(const struct app *a, uint32_t row)
{
	struct sock_rec tmp;
	const struct sock_rec *k = row_sock(a, row, &tmp);
	if (row & VIEW_ROW_OWNER) /* the fd: a socket two fds hold is two rows */
		return (struct row_key){k->inode, 2 + (uint64_t)(uint32_t)a->s->owners[row & ~VIEW_ROW_OWNER].fd};
	return (struct row_key){k->inode ? k->inode : k->cookie, k->inode ? 0 : 1};
}

static int socks_cell_role(const struct app *a, uint32_t row, int col)
{
	struct sock_rec tmp;
	unsigned st = row_sock(a, row, &tmp)->state;
	if (col == SC_STATE || (col == SC_TYPE && st == ST_CLOSED_FD))
		return TH_STATE + (int)st;
	return -1;
}

static bool socks_match(struct app *a, uint32_t row, const struct view_query *q)
{
	struct sock_rec tmp;
	return view_query_sock(q, a->s, row_sock(a, row, &tmp));
}

void pane_socks_open(struct app *a, const struct drill *d)
{
	struct pane *p = &a->panes[PANE_SOCKS];

	a->drill = *d;
	a->drilled = true;
	p->sel = p->top = 0;
	p->hscroll = 0;
	p->have_key = false;
	panes_rebuild(a);
}

const struct pane_ops pane_socks_ops = {
	.table = VT_SOCKS,
	.build = socks_build,
	.key = socks_key,
	.cell_role = socks_cell_role,
	.match = socks_match,
	.measure = socks_measure,
};
