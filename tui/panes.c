/* Pane plumbing: rebuilding every pane's rows from a new snapshot, keeping each
 * selection on the same thing, and putting a lazy pane's rows in order as they are
 * looked at. */
#include "config.h"

#include "tui/panes.h"
#include "tui/term.h"
#include "model/view.h"
#include "model/snapshot.h"
#include "model/vec.h"

#include <curses.h>

int pane_grow(struct pane *p, size_t n)
{
	if (vec_reserve_min(&p->rows, &p->cap, n, sizeof(*p->rows), 256))
		term_oom();
	return 0;
}

size_t pane_screenful(void)
{
	return (size_t)(LINES > 0 ? LINES : 24);
}

size_t pane_reach(size_t asked, size_t done)
{
	size_t k = asked + pane_screenful();
	return k > 2 * done ? k : 2 * done;
}

/* From the nearer of the pane's ends, as far as pane_reach says. End orders the last
 * rows only. */
void pane_order(struct app *a, struct pane *p, size_t lo, size_t hi)
{
	struct view_order *o = &p->order;
	size_t n = p->nrows;

	if (!p->lazy)
		return;
	if (lo < o->head)
		lo = o->head;
	if (hi > n - o->tail)
		hi = n - o->tail;
	if (lo >= hi)
		return; /* in place already */
	if (hi - o->head <= n - o->tail - lo)
		view_order_head(o, &a->ctx, p->rows, n, pane_reach(hi, o->head));
	else
		view_order_tail(o, &a->ctx, p->rows, n, pane_reach(n - lo, o->tail));
}

/* The row at i, put where it goes; returns that place. */
static size_t pane_place(struct app *a, struct pane *p, size_t i)
{
	if (!p->lazy)
		return i;
	size_t r = view_order_rank(&p->order, &a->ctx, p->rows, p->nrows, i);
	pane_order(a, p, r, r + 1);
	return r;
}

struct pane *panes_focused(struct app *a)
{
	return a->drilled ? &a->panes[PANE_SOCKS] : &a->panes[a->focus];
}

void pane_note_key(struct app *a, struct pane *p)
{
	p->have_key = a->s && p->sel < p->nrows;
	pane_order(a, p, p->sel, p->sel + 1);
	if (p->have_key)
		p->key = p->ops->key(a, p->rows[p->sel]);
}

/* Find the selected thing again after a rebuild; if it is gone, stay at the row. */
void pane_select_key(struct app *a, struct pane *p)
{
	/* Rows in place where it was first: it is most often still there or near. */
	pane_order(a, p, p->sel, p->sel + 1);
	if (p->have_key)
		for (size_t i = 0; i < p->nrows; i++) {
			struct row_key k = p->ops->key(a, p->rows[i]);
			if (k.a == p->key.a && k.b == p->key.b) {
				p->sel = pane_place(a, p, i);
				return;
			}
		}
	if (p->sel >= p->nrows)
		p->sel = p->nrows ? p->nrows - 1 : 0;
	pane_note_key(a, p);
}

void panes_rebuild(struct app *a)
{
	if (!a->s)
		return;
	a->ctx.s = a->s;
	a->ctx.bl = &a->bl;
	a->ctx.h = a->hist;
	a->ctx.ascii = a->ascii;
	if (view_backlog_build(&a->bl, a->s, &a->o->filter, &a->filter))
		term_oom();
	for (int i = 0; i < PANE_COUNT; i++) {
		struct pane *p = &a->panes[i];
		if (i == PANE_SOCKS && !a->drilled)
			continue;
		p->ops->build(a, p);
		pane_select_key(a, p);
	}
}

/* The process under the cursor: the processes pane's row, or the drilled process. */
const struct proc_rec *panes_selected_proc(struct app *a)
{
	if (!a->s)
		return NULL;
	if (a->drilled && a->drill.kind == DRILL_PROC) {
		const struct proc_rec *p = snapshot_find_proc(a->s, a->drill.pid);
		return p && p->start_time == a->drill.start_time ? p : NULL;
	}
	struct pane *p = &a->panes[PANE_PROCS];
	if (a->drilled || a->focus != PANE_PROCS || p->sel >= p->nrows)
		return NULL;
	return &a->s->procs[p->rows[p->sel]];
}
