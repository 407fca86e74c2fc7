/* What a batch refresh is written with: the format, the filter, how many rows. Shared
 * by batch.c and metrics.c (which batch.c calls for OpenMetrics), so that neither
 * includes the other's header both ways. */
#ifndef LEAKTOP_BATCH_OPTS_H
#define LEAKTOP_BATCH_OPTS_H

#include <stdbool.h>
#include <stddef.h>

#include "model/view.h"
#include "program/options.h"

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

#endif
