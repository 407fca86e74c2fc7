/* Command-line options, shared by the dashboard and batch mode. */
#ifndef LEAKTOP_OPTIONS_H
#define LEAKTOP_OPTIONS_H

#include <stdbool.h>
#include <stdio.h>

#include "model/batch.h"
#include "model/view.h"

struct options {
	bool batch;
	long iterations;          /* 0 = until interrupted */
	double delay;             /* seconds between refreshes */
	enum batch_format format;
	struct view_filter filter;
	size_t top;               /* rows per list in batch output; 0 = all */
	size_t backlog_max;
	const char *proc_root;    /* "/proc"; tests point it at a fake tree */
	const char *theme;        /* dashboard theme name, NULL for the default */
	bool ascii;               /* draw ASCII only (also when the locale is not UTF-8) */
};

/* Fill o from argv. Returns 0 to run, 1 when --help or --version was printed (exit 0),
 * or -EINVAL with *cause set (exit 2). */
int options_parse(struct options *o, int argc, char **argv, char **cause);
void options_usage(FILE *f);

#endif
