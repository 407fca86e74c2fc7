/* The processes pane: one row per process, sorted by open fds unless told otherwise. */
#include "config.h"

#include "tui/tui.h"
#include "model/snapshot.h"

#include <stdio.h>

static int procs_build(struct app *a, struct pane *p)
{
	const struct snapshot *s = a->s;

	if (pane_grow(p, s->nprocs))
		return -1;
	p->nrows = 0;
	for (size_t i = 0; i < s->nprocs; i++)
		if (view_proc_match(&a->o->filter, s, &s->procs[i]) && view_query_proc(&a->filter, s, &s->procs[i]))
			p->rows[p->nrows++] = (uint32_t)i;
	view_sort(VT_PROCS, &a->ctx, p->rows, p->nrows, p->sort, p->invert);
	return 0;
}

static struct row_key procs_key(const struct app *a, uint32_t row)
{
	const struct proc_rec *p = &a->s->procs[row];
	return (struct row_key){(uint64_t)p->pid, p->start_time};
}

static int procs_cell_role(const struct app *a, uint32_t row, int col)
{
	const struct proc_rec *p = &a->s->procs[row];

	switch (col) {
	case PC_FDS:
	case PC_FDPCT:
	case PC_LIMIT:
		if (p->fds < 0 || !p->fd_limit || p->fd_limit == UINT64_MAX)
			return -1;
		if ((uint64_t)p->fds * 10 >= p->fd_limit * 9)
			return TH_CRITICAL;
		return (uint64_t)p->fds * 2 >= p->fd_limit ? TH_WARNING : -1;
	case PC_CLOSE_WAIT:
		return p->states[ST_CLOSE_WAIT] ? TH_STATE + ST_CLOSE_WAIT : -1;
	case PC_ESTAB:
		return p->states[ST_ESTABLISHED] ? TH_STATE + ST_ESTABLISHED : -1;
	default:
		return -1;
	}
}

static void procs_enter(struct app *a, struct pane *p)
{
	const struct proc_rec *r = &a->s->procs[p->rows[p->sel]];
	struct drill d = {.kind = DRILL_PROC, .pid = r->pid, .start_time = r->start_time};

	snprintf(d.title, sizeof(d.title), "sockets of %d %s", r->pid, r->cmdline[0] ? r->cmdline : r->comm);
	pane_socks_open(a, &d);
}

static bool procs_match(const struct app *a, uint32_t row, const struct view_query *q)
{
	return view_query_proc(q, a->s, &a->s->procs[row]);
}

const struct pane_ops pane_procs_ops = {
	.table = VT_PROCS,
	.build = procs_build,
	.key = procs_key,
	.cell_role = procs_cell_role,
	.enter = procs_enter,
	.match = procs_match,
};
