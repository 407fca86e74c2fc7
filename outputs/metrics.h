/* Fleet metrics: one refresh in the OpenMetrics text format (a Prometheus
 * node_exporter textfile, or the body of a /metrics scrape). */
#ifndef LEAKTOP_METRICS_H
#define LEAKTOP_METRICS_H

#include <stdint.h>
#include <stdio.h>

struct snapshot;
struct history;
struct batch_opts;

#define METRICS_CONTENT_TYPE "application/openmetrics-text; version=1.0.0; charset=utf-8"

/* Write the refresh: totals, then the top o->top processes (by fds) and ports (by
 * sockets), each with the rest summed into one series labelled "other" so the label
 * cardinality stays bounded (o->top 0 = every one). Ends with "# EOF". */
void metrics_write(FILE *f, const struct snapshot *s, const struct history *h,
		   const struct batch_opts *o);

/* Write s as a label value: backslash, double quote and newline escaped. */
void metrics_label_value(FILE *f, const char *s);

#endif
