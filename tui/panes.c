/* Pane plumbing: the pane table, rebuilding every pane's rows from a new snapshot,
 * keeping each selection on the same thing, and the status line's message. */
#include "config.h"

#include "tui/tui.h"
#include "tui/msgview.h"
#include "model/snapshot.h"
#include "model/vec.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct pane_ops *const pane_ops[PANE_COUNT] = {
	[PANE_PROCS] = &pane_procs_ops,
	[PANE_PORTS] = &pane_ports_ops,
	[PANE_BACKLOG] = &pane_backlog_ops,
	[PANE_SOCKS] = &pane_socks_ops,
};

int pane_grow(struct pane *p, size_t n)
{
	if (vec_reserve_min(&p->rows, &p->cap, n, sizeof(*p->rows), 256))
		app_oom();
	return 0;
}

struct pane *app_pane(struct app *a)
{
	return a->drilled ? &a->panes[PANE_SOCKS] : &a->panes[a->focus];
}

void pane_note_key(struct app *a, struct pane *p)
{
	p->have_key = a->s && p->sel < p->nrows;
	if (p->have_key)
		p->key = p->ops->key(a, p->rows[p->sel]);
}

/* Find the selected thing again after a rebuild; if it is gone, stay at the row. */
void pane_select_key(struct app *a, struct pane *p)
{
	if (p->have_key)
		for (size_t i = 0; i < p->nrows; i++) {
			struct row_key k = p->ops->key(a, p->rows[i]);
			if (k.a == p->key.a && k.b == p->key.b) {
				p->sel = i;
				return;
			}
		}
	if (p->sel >= p->nrows)
		p->sel = p->nrows ? p->nrows - 1 : 0;
	pane_note_key(a, p);
}

void app_rebuild(struct app *a)
{
	if (!a->s)
		return;
	a->ctx.s = a->s;
	a->ctx.bl = &a->bl;
	a->ctx.h = a->hist;
	a->ctx.ascii = a->ascii;
	if (view_backlog_build(&a->bl, a->s, &a->o->filter, &a->filter))
		app_oom();
	for (int i = 0; i < PANE_COUNT; i++) {
		struct pane *p = &a->panes[i];
		if (i == PANE_SOCKS && !a->drilled)
			continue;
		p->ops->build(a, p);
		pane_select_key(a, p);
	}
}

void app_message(struct app *a, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->status, sizeof(a->status), fmt, ap);
	va_end(ap);
	a->status_error = error;
	/* Every error, and what the status line may cut, is kept whole for m. */
	if (error)
		msgview_add(a, MSGLOG_ERROR, a->status);
	else if ((int)strlen(a->status) > COLS)
		app_note(a, a->status);
}

void app_note(struct app *a, const char *text)
{
	msgview_add(a, MSGLOG_NOTE, text);
}

void panes_init(struct app *a)
{
	for (int i = 0; i < PANE_COUNT; i++) {
		a->panes[i].ops = pane_ops[i];
		a->panes[i].sort = view_tables[pane_ops[i]->table].default_sort;
	}
}
