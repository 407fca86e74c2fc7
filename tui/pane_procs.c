/* The processes pane: one row per process, those judged leak or suspect first, then by
 * open fds, unless told otherwise. */
#include "config.h"

#include "tui/pane_procs.h"
#include "tui/pane_socks.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "model/history.h"
#include "model/snapshot.h"

#include <math.h>
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
	view_sort_culprits(VT_PROCS, &a->ctx, p->rows, p->nrows, p->sort, p->invert, !p->sort_chosen);
	return 0;
}

static struct row_key procs_key(const struct app *a, uint32_t row)
{
	const struct proc_rec *p = &a->s->procs[row];
	return (struct row_key){(uint64_t)p->pid, p->start_time};
}

/* A whole row stands out past the alert thresholds (--fd-warn, --fd-crit: exactly when
 * the fd_usage alert fires, see view_fd_pct) or when
 * the process is judged to leak (critical) or suspect (warning). */
static int procs_row_role(const struct app *a, const struct proc_rec *p, const struct history_stats *st)
{
	double pct = view_fd_pct(p); /* exact, as the alerts compare it; NAN compares false */

	if (pct >= a->o->alert.fd_crit_pct || (st && st->verdict == VERDICT_LEAK))
		return TH_CRITICAL;
	if (pct >= a->o->alert.fd_warn_pct || (st && st->verdict == VERDICT_SUSPECT))
		return TH_WARNING;
	return -1;
}

static int procs_cell_role(const struct app *a, uint32_t row, int col)
{
	const struct proc_rec *p = &a->s->procs[row];
	const struct history_stats *st = a->hist ? history_proc(a->hist, p->pid, p->start_time) : NULL;
	int role = procs_row_role(a, p, st);

	if (role >= 0)
		return role;
	switch (col) {
	case PC_FDMIN:
	case PC_TREND:
		return st && isfinite(st->fd_growth_per_min) && st->fd_growth_per_min > 0 ? TH_GROWTH : -1;
	case PC_RSSMIN:
	case PC_RSS_TREND:
		return st && st->mem_verdict == VERDICT_LEAK ? TH_GROWTH : -1;
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

static bool procs_match(struct app *a, uint32_t row, const struct view_query *q)
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
