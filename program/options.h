/* Command-line options, shared by the dashboard and batch mode. */
#ifndef LEAKTOP_OPTIONS_H
#define LEAKTOP_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "model/alert.h"
#include "model/conf.h"
#include "model/view.h"

/* The shortest refresh interval of the dashboard, whatever -d says (batch mode and
 * --listen take 0: back to back, or a refresh per scrape). */
#define OPTIONS_TUI_MIN_DELAY 0.5

/* What batch mode writes (-o). */
enum out_format { FMT_TEXT, FMT_JSON, FMT_OPENMETRICS, FMT_COUNT };

/* "text" / "json" / "openmetrics" -> format, or -1. */
int options_format_parse(const char *name);
/* format -> its name on the command line. */
const char *options_format_name(enum out_format f);

struct options {
	bool batch;
	long iterations;          /* 0 = until interrupted */
	double delay;             /* seconds between refreshes */
	enum out_format format;
	struct view_filter filter;
	size_t top;               /* rows per list in batch output; 0 = all */
	size_t backlog_max;
	const char *proc_root;    /* "/proc"; tests point it at a fake tree */
	const char *theme;        /* dashboard theme name, NULL for the default */
	bool ascii;               /* draw ASCII only (also when the locale is not UTF-8) */
	/* Settable in leaktop.conf too; the command line wins. */
	struct alert_thresholds alert;
	double growth_window_min; /* the slope window */
	uint32_t ring_bell;           /* the dashboard beeps when an alert fires (--bell, tui.bell = 1) */
	char alert_cmd[1024];
	/* The dashboard's column setup (F2), per pane (processes, ports, backlog,
	 * sockets): tui.procs.columns = "+RSS -LIMIT", tui.procs.sort = "RSS invert". */
	char columns[4][256];
	char sort[4][48];     /* run per alert transition (batch, live dashboard); "" = none */
	/* The configuration file in use ("" with --no-config or no home): restart.COMM
	 * commands are read from it when a restart is asked for (tui/act_ui.c). */
	char config_path[4096];
	const char *write_path;   /* -w: record every refresh to this file */
	const char *read_path;    /* -r: replay this recording instead of the live system */
	bool report;              /* --report: print the recording's handover summary */
	bool report_html;         /* -o html with --report: the HTML page (outputs/html.h) */
	const char *listen;       /* --listen [HOST:]PORT: serve /metrics, or NULL */
	bool sockets;             /* json: list every socket with its holders (--sockets) */
	bool full_scan;           /* hidden --full-scan: readlink every fd every refresh */
	bool step;                /* hidden --step: refresh when a line arrives on stdin */
};

/* The keys of leaktop.conf, fields of struct options: a new setting is one row. */
extern const struct conf_key options_conf_keys[];
extern const size_t options_conf_nkeys;

/* Fill o from the configuration file (--config=FILE, else the default path unless
 * --no-config) and then argv. Returns 0 to run, 1 when --help or --version was printed (exit 0),
 * or -EINVAL with *cause set (exit 2). */
int options_parse(struct options *o, int argc, char **argv, char **cause);
void options_usage(FILE *f);
/* Set key to value in the configuration file at path (F2's columns and sort): its
 * lines for key replaced by one, the rest kept; the file (and its directory) made
 * when missing, mode 0600, replaced whole by a rename. A file leaktop would refuse to
 * read is left alone. 0 or -errno with *cause. */
int options_save_key(const char *path, const char *key, const char *value, char **cause);

#endif
