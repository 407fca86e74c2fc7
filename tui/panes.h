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
/* The process under the cursor: the processes pane's row, or the drilled process;
 * NULL when there is none. */
const struct proc_rec *panes_selected_proc(struct app *a);

#endif
