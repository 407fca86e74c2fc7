/* Batch output (`leaktop --batch`): a top -b style text report or JSON Lines, both
 * views of the same snapshot. */
#ifndef LEAKTOP_BATCH_H
#define LEAKTOP_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "model/view.h"
#include "program/options.h"

struct snapshot;
struct history;
struct alerts;

struct batch_opts {
	enum out_format format;
	struct view_filter filter;
	size_t top;          /* processes and ports shown; 0 = all */
	size_t backlog_max;  /* sockets in the backlog list */
	double boot_time;    /* unix seconds at boot, to turn start ticks into times */
	long clk_tck;
	const struct alerts *alerts; /* its transitions of this refresh go out too; may be NULL */
	bool sockets;        /* json: a "sockets" array with every socket and its holders */
};

/* Write one refresh. h may be NULL (no history yet): growth, ETA and verdicts are
 * then null in JSON and "-" in text. Returns 0 or -errno (EIO when
 * the stream failed: a closed pipe is for the caller to notice). */
int batch_write(FILE *f, const struct snapshot *s, const struct history *h, const struct batch_opts *o);

#endif
