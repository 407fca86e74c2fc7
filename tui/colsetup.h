/* F2, the column setup: which columns of the focused pane show and which sorts, and
 * the config file's tui.<pane>.columns and tui.<pane>.sort. */
#ifndef LEAKTOP_COLSETUP_H
#define LEAKTOP_COLSETUP_H

#include <stdbool.h>
#include <stddef.h>

#include "tui/state.h"

void colsetup_open(struct app *a);
bool colsetup_key(struct app *a, int key);  /* true while it is up and took the key */
void colsetup_draw(struct app *a);
/* The config file's tui.<pane>.columns and tui.<pane>.sort, applied to the panes. */
void colsetup_apply_conf(struct app *a);
/* A column's want and sort as the conf value: "+RSS -LIMIT", "RSS invert". */
void colsetup_conf_value(const struct pane *p, bool sort, char *buf, size_t n);
/* Parse them back (unknown titles are skipped): the pane's want[] and sort. */
void colsetup_parse(struct pane *p, const char *columns, const char *sort);

#endif
