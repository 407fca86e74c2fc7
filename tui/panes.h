/* Pane plumbing: rebuilding every pane's rows from a new snapshot and keeping each
 * selection on the same thing. */
#ifndef LEAKTOP_PANES_H
#define LEAKTOP_PANES_H

#include <stddef.h>

#include "tui/state.h"

struct proc_rec;

/* Rebuild the backlog and every pane's rows from a->s (the sockets pane when drilled
 * down), each keeping its selection on the same thing. */
void panes_rebuild(struct app *a);
struct pane *panes_focused(struct app *a);  /* the focused (or drill-down) pane */
void pane_note_key(struct app *a, struct pane *p); /* remember the selected row's key */
void pane_select_key(struct app *a, struct pane *p);
int pane_grow(struct pane *p, size_t n);
/* Rows a screen holds: how far past what is needed rows are put in order. */
size_t pane_screenful(void);
/* How far to order rows that are looked at lazily, when the first `asked` are wanted
 * and `done` are in place: a screenful beyond, and at least twice as far as before,
 * so that a search walking 500k rows orders them in some twenty steps, not one per
 * screenful (the drill-down's rows, the backlog's sockets of a group). */
size_t pane_reach(size_t asked, size_t done);
/* Put rows[lo, hi) of the pane in their places (a lazy pane's: see struct pane);
 * whoever reads p->rows[i] of such a pane asks for it first. */
void pane_order(struct app *a, struct pane *p, size_t lo, size_t hi);
/* The process under the cursor: the processes pane's row, or the drilled process;
 * NULL when there is none. */
const struct proc_rec *panes_selected_proc(struct app *a);

#endif
