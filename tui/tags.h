/* Tagged processes (Space, U): what D, R and k act on when any are tagged. A tag is a
 * copy of the process as the snapshot showed it, found again by pid and start time. */
#ifndef LEAKTOP_TAGS_H
#define LEAKTOP_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "tui/state.h"

#define TAGS_MAX 256

struct proc_rec;

int tags_init(struct app *a);
void tags_free(struct app *a);

/* Space in the processes pane: tag or untag the selected process. false when there is
 * no process under the cursor (the caller then pauses, as Space does elsewhere). */
bool tags_toggle(struct app *a);
void tags_clear(struct app *a);
bool tags_has(const struct app *a, const struct proc_rec *p);
size_t tags_count(const struct app *a);
/* Tag i (< tags_count), in the order they were made. */
const struct proc_rec *tags_get(const struct app *a, size_t i);

#endif
