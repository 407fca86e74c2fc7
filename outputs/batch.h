/* Batch output (`leaktop --batch`): a top -b style text report or JSON Lines, both
 * views of the same snapshot. */
#ifndef LEAKTOP_BATCH_H
#define LEAKTOP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "outputs/batch_opts.h"

struct snapshot;
struct history;

/* Write one refresh. h may be NULL (no history yet): growth, ETA and verdicts are
 * then null in JSON and "-" in text. Returns 0 or -errno (EIO when
 * the stream failed: a closed pipe is for the caller to notice). */
int batch_write(FILE *f, const struct snapshot *s, const struct history *h, const struct batch_opts *o);

#endif
