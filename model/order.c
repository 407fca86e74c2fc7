/* Putting rows in order: the whole list by a column (the panes, the text report), or
 * only as far as it is looked at (view_order: the drill-down's sockets; the backlog's
 * sockets of a group), with one quickselect for both. A port with 500k sockets shows
 * 20 of them: sorting all 500k at every refresh held the screen for seconds. */
#include "config.h"

#include "model/view.h"

#include <stdlib.h>

#define CMP(x, y) (((x) > (y)) - ((x) < (y)))

struct sort_arg {
	enum view_table t;
	const struct view_col *col;
	const struct view_ctx *c;
	int dir;
	bool culprits;
};

static struct sort_arg sort_arg(enum view_table t, const struct view_ctx *c, int col, bool invert, bool culprits)
{
	const struct view_table_def *d = &view_tables[t];
	if (col < 0 || (size_t)col >= d->ncols)
		col = d->default_sort;
	struct sort_arg arg = {.t = t, .col = &d->cols[col], .c = c, .dir = d->cols[col].asc ? 1 : -1,
			       .culprits = culprits && c->h};
	if (invert)
		arg.dir = -arg.dir;
	return arg;
}

/* Ties by index: no two rows are equal, so there is one order, whichever way it is
 * reached (a full sort, or a selection of the first rows, then the next). */
static int rows_cmp(const struct sort_arg *x, uint32_t ia, uint32_t ib)
{
	int r = x->culprits ? view_culprit_rank(x->t, x->c, ib) - view_culprit_rank(x->t, x->c, ia) : 0;
	if (!r)
		r = x->col->cmp(x->c, ia, ib) * x->dir;
	return r ? r : CMP(ia, ib);
}

static int cmp_rows(const void *a, const void *b, void *arg)
{
	return rows_cmp(arg, *(const uint32_t *)a, *(const uint32_t *)b);
}

void view_sort_culprits(enum view_table t, const struct view_ctx *c, uint32_t *rows, size_t n, int col,
			bool invert, bool culprits)
{
	struct sort_arg arg = sort_arg(t, c, col, invert, culprits);
	if (n)
		qsort_r(rows, n, sizeof(*rows), cmp_rows, &arg);
}

void view_sort(enum view_table t, const struct view_ctx *c, uint32_t *rows, size_t n, int col, bool invert)
{
	view_sort_culprits(t, c, rows, n, col, invert, false);
}

/* --- The selection ------------------------------------------------------------- */

static void swap_rows(uint32_t *v, size_t i, size_t j)
{
	uint32_t t = v[i];
	v[i] = v[j];
	v[j] = t;
}

/* v[lo, hi) with its first k in order before the rest (which stay in no order):
 * a quickselect, then a sort of what it selected, each part by itself. */
static void select_first(uint32_t *v, size_t lo, size_t hi, size_t k, view_before_fn *before, const void *arg)
{
	while (hi - lo > 16) {
		size_t mid = lo + (hi - lo) / 2;
		/* The median of three, for a pivot, at hi - 1. */
		if (before(arg, v[mid], v[lo]))
			swap_rows(v, mid, lo);
		if (before(arg, v[hi - 1], v[lo]))
			swap_rows(v, hi - 1, lo);
		if (before(arg, v[mid], v[hi - 1]))
			swap_rows(v, mid, hi - 1);
		uint32_t pivot = v[hi - 1];
		size_t store = lo;
		for (size_t i = lo; i < hi - 1; i++)
			if (before(arg, v[i], pivot))
				swap_rows(v, i, store++);
		swap_rows(v, store, hi - 1);
		/* v[lo, store) come before the pivot, at store, and v(store, hi) after it. */
		if (k <= store - lo) {
			hi = store;
		} else {
			select_first(v, lo, store, store - lo, before, arg); /* the part before the pivot: all of it sorted */
			k -= store - lo + 1;
			lo = store + 1;
			if (!k)
				return;
		}
	}
	for (size_t i = lo + 1; i < hi; i++) /* few left: insertion */
		for (size_t j = i; j > lo && before(arg, v[j], v[j - 1]); j--)
			swap_rows(v, j, j - 1);
}

void view_select(uint32_t *v, size_t n, size_t k, view_before_fn *before, const void *arg)
{
	if (k > n)
		k = n;
	if (k)
		select_first(v, 0, n, k, before, arg);
}

/* --- Rows in place as they are looked at ----------------------------------------- */

static bool row_before(const void *arg, uint32_t a, uint32_t b)
{
	return rows_cmp(arg, a, b) < 0;
}

static bool row_after(const void *arg, uint32_t a, uint32_t b)
{
	return rows_cmp(arg, a, b) > 0;
}

void view_order_init(struct view_order *o, enum view_table t, int col, bool invert)
{
	*o = (struct view_order){.t = t, .col = col, .invert = invert};
}

void view_order_head(struct view_order *o, const struct view_ctx *c, uint32_t *rows, size_t n, size_t k)
{
	size_t end = n - o->tail;
	if (k > end)
		k = end;
	if (k <= o->head)
		return;
	struct sort_arg arg = sort_arg(o->t, c, o->col, o->invert, false);
	view_select(rows + o->head, end - o->head, k - o->head, row_before, &arg);
	o->head = k;
}

void view_order_tail(struct view_order *o, const struct view_ctx *c, uint32_t *rows, size_t n, size_t k)
{
	size_t mid = n - o->head - o->tail;
	if (k > n - o->head)
		k = n - o->head;
	if (k <= o->tail)
		return;
	/* The last rows of the middle are the first in the reverse order: selected to
	 * its front, largest first, then swapped end for end to its back. */
	struct sort_arg arg = sort_arg(o->t, c, o->col, o->invert, false);
	uint32_t *m = rows + o->head;
	size_t got = k - o->tail;
	view_select(m, mid, got, row_after, &arg);
	for (size_t i = 0; i < got && i < mid - 1 - i; i++)
		swap_rows(m, i, mid - 1 - i);
	o->tail = k;
}

size_t view_order_rank(const struct view_order *o, const struct view_ctx *c, const uint32_t *rows, size_t n,
		       size_t i)
{
	if (i < o->head || i >= n - o->tail)
		return i;
	/* Every row of the top part comes before the middle, every one of the bottom part
	 * after it: only the middle is counted. */
	struct sort_arg arg = sort_arg(o->t, c, o->col, o->invert, false);
	size_t rank = o->head;
	for (size_t j = o->head; j < n - o->tail; j++)
		rank += row_before(&arg, rows[j], rows[i]);
	return rank;
}
