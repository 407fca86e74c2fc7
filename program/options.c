/* Parsing the command line. --help reads like a man page's synopsis and options. */
#include "config.h"

#include "program/options.h"
#include "program/userfile.h"
#include "model/text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { OPT_LIST_OPTIONS = 1024 }; /* hidden: for completion and tests */

void options_usage(FILE *f)
{
	fputs("Usage: leaktop [OPTION]...\n"
	      "A top for socket and file-descriptor leaks: which process's fd table grows, which\n"
	      "ports pile up in which TCP state, and where unread bytes sit in Recv-Q.\n"
	      "\n"
	      "Modes:\n"
	      "  (default)                 the full-screen dashboard\n"
	      "  -b, --batch               print refreshes to standard output, like top -b\n"
	      "\n"
	      "Refresh:\n"
	      "  -d, --delay=SECS          seconds between refreshes (fractions allowed; 0 means\n"
	      "                            back to back in batch mode); default 2\n"
	      "  -n, --iterations=N        stop after N refreshes; default 1 in batch mode,\n"
	      "                            0 (forever) in the dashboard\n"
	      "\n"
	      "Batch output:\n"
	      "  -o, --format=FORMAT       text (default), json (one JSON object per line and\n"
	      "                            refresh) or openmetrics (Prometheus metrics, for\n"
	      "                            node_exporter's textfile collector: one exposition,\n"
	      "                            the last refresh's, written when the run ends); with\n"
	      "                            --report: markdown (default) or html (one page with charts)\n"
	      "      --top=N               processes and ports listed; default 20 for text and\n"
	      "                            openmetrics (the rest summed as \"other\"), 0 (all)\n"
	      "                            for json\n"
	      "      --listen=[HOST:]PORT  serve openmetrics on http://HOST:PORT/metrics (HOST\n"
	      "                            127.0.0.1 unless given), a fresh refresh per scrape\n"
	      "                            at most every --delay seconds\n"
	      "      --backlog=N           sockets listed by Recv-Q; default 10 for text, 100 for json\n"
	      "      --sockets             json: add a \"sockets\" array with every socket and the\n"
	      "                            processes and fds that hold it\n"
	      "\n"
	      "History and alerts (also settable in the configuration file, see below):\n"
	      "      --growth-window=MIN   minutes of history a growth rate is fitted over;\n"
	      "                            default 5\n"
	      "      --fd-warn=PCT         alert when a process uses PCT% of its fd limit;\n"
	      "                            default 75 (warning)\n"
	      "      --fd-crit=PCT         the same, critical; default 90\n"
	      "      --close-wait-alert=N  alert when a process or port holds more than N\n"
	      "                            CLOSE_WAIT sockets; default 100\n"
	      "      --eta-alert=MIN       alert when a process will run out of fds within MIN\n"
	      "                            minutes at its growth; default 30\n"
	      "      --file-nr-alert=PCT   alert when the system uses PCT% of fs.file-max;\n"
	      "                            default 75\n"
	      "      --alert-cmd=PROGRAM   run PROGRAM (no shell) once per alert and once when\n"
	      "                            it clears, details in LEAKTOP_* environment\n"
	      "                            variables (live runs only, never a replay)\n"
	      "      --config=FILE         read settings from FILE; default\n"
	      "                            ~/.config/leaktop/leaktop.conf when it exists\n"
	      "      --no-config           ignore the configuration file\n"
	      "\n"
	      "Recording:\n"
	      "  -w, --write=FILE          record every refresh to FILE (SQLite, mode 0600);\n"
	      "                            an existing file is never overwritten\n"
	      "  -r, --read=FILE           replay a recording instead of the live system; with\n"
	      "                            --batch, every recorded refresh unless -n says fewer\n"
	      "      --report              with -r: print the handover report (Markdown, or\n"
	      "                            HTML with -o html) and exit\n"
	      "\n"
	      "Filters:\n"
	      "  -p, --pid=PID[,PID...]    only these processes and the sockets they hold\n"
	      "  -P, --port=PORT[,PORT...] only sockets with this local or remote port\n"
	      "      --netns=INODE[,...]   only processes, sockets and ports in these network\n"
	      "                            namespaces (inodes as in ls -iL /proc/PID/ns/net)\n"
	      "\n"
	      "Dashboard:\n"
	      "      --theme=NAME          colour theme: default, light, mono, high-contrast, or\n"
	      "                            one of yours in ~/.config/leaktop/themes/NAME.theme\n"
	      "      --ascii               draw ASCII only (automatic when the locale is not UTF-8)\n"
	      "      --bell                ring the terminal bell when an alert fires\n"
	      "\n"
	      "Other:\n"
	      "      --proc-root=DIR       read processes from DIR instead of /proc (testing)\n"
	      "  -h, --help                show this help and exit\n"
	      "  -V, --version             show the version and exit\n"
	      "\n"
	      "Configuration file: `key = value` lines, `#` comments. Keys: alert.fd_warn,\n"
	      "alert.fd_crit, alert.close_wait, alert.eta_minutes, alert.file_nr, alert.cmd,\n"
	      "history.window_minutes (the options above, in that order), tui.bell (1: --bell),\n"
	      "tui.PANE.columns and tui.PANE.sort (PANE: procs, ports, backlog, sockets; the\n"
	      "dashboard's F2 column setup writes them).\n"
	      "\n"
	      "Exit status: 0 on success, 1 when a refresh could not be taken, 2 on a usage error;\n"
	      "batch mode stopped by a signal N ends by it (128+N: 143 after SIGTERM).\n"
	      "Without root, other users' processes cannot be read: their fds and sockets are\n"
	      "counted as not readable, and their sockets show without an owner, and only\n"
	      "leaktop's own network namespace is visible.\n",
	      f);
}

#define OPT_FIELD(f) offsetof(struct options, f)
const struct conf_key options_conf_keys[] = {
	{"alert.fd_warn", CONF_DOUBLE, OPT_FIELD(alert.fd_warn_pct), 0, 1, 100},
	{"alert.fd_crit", CONF_DOUBLE, OPT_FIELD(alert.fd_crit_pct), 0, 1, 100},
	{"alert.close_wait", CONF_UINT, OPT_FIELD(alert.close_wait), 0, 0, 4e9},
	{"alert.eta_minutes", CONF_DOUBLE, OPT_FIELD(alert.eta_min), 0, 0, 1e6},
	{"alert.file_nr", CONF_DOUBLE, OPT_FIELD(alert.file_nr_pct), 0, 1, 100},
	{"alert.cmd", CONF_STRING, OPT_FIELD(alert_cmd), sizeof(((struct options *)0)->alert_cmd), 0, 0},
	{"history.window_minutes", CONF_DOUBLE, OPT_FIELD(growth_window_min), 0, 0.1, 1440},
	/* restart.COMM = command: read when a restart is asked for (program/actions.c). */
	{"restart.", CONF_PREFIX, 0, 0, 0, 0},
	{"tui.bell", CONF_UINT, OPT_FIELD(ring_bell), 0, 0, 1},
	/* The column setup (F2): written by the dashboard, tui/colsetup.c. */
#define PANE_KEYS(i, name)                                                                                   \
	{"tui." name ".columns", CONF_STRING, OPT_FIELD(columns[i]), sizeof(((struct options *)0)->columns[i]), 0, 0}, \
	{"tui." name ".sort", CONF_STRING, OPT_FIELD(sort[i]), sizeof(((struct options *)0)->sort[i]), 0, 0}
	PANE_KEYS(0, "procs"), PANE_KEYS(1, "ports"), PANE_KEYS(2, "backlog"), PANE_KEYS(3, "sockets"),
#undef PANE_KEYS
};
const size_t options_conf_nkeys = sizeof(options_conf_keys) / sizeof(options_conf_keys[0]);

enum {
	OPT_TOP = 256, OPT_BACKLOG, OPT_PROC_ROOT, OPT_NETNS, OPT_LISTEN, OPT_THEME, OPT_ASCII, OPT_BELL, OPT_REPORT,
	OPT_CONFIG, OPT_NO_CONFIG, OPT_SOCKETS, OPT_FULL_SCAN, OPT_STEP,
	OPT_CONF_KEY /* last: OPT_CONF_KEY + i is conf_options[i] */
};

static const char *const format_names[FMT_COUNT] = {
	[FMT_TEXT] = "text",
	[FMT_JSON] = "json",
	[FMT_OPENMETRICS] = "openmetrics",
};

int options_format_parse(const char *name)
{
	for (int i = 0; i < FMT_COUNT; i++)
		if (!strcmp(name, format_names[i]))
			return i;
	return -1;
}

const char *options_format_name(enum out_format f)
{
	return f < FMT_COUNT ? format_names[f] : NULL;
}

/* Command-line options that set a configuration key, checked the same way. */
static const struct {
	const char *option, *key;
} conf_options[] = {
	{"fd-warn", "alert.fd_warn"},
	{"fd-crit", "alert.fd_crit"},
	{"close-wait-alert", "alert.close_wait"},
	{"eta-alert", "alert.eta_minutes"},
	{"file-nr-alert", "alert.file_nr"},
	{"alert-cmd", "alert.cmd"},
	{"growth-window", "history.window_minutes"},
};
#define N_CONF_OPTIONS (sizeof(conf_options) / sizeof(conf_options[0]))

static const struct option long_options[] = {
	{"batch", no_argument, NULL, 'b'},
	{"delay", required_argument, NULL, 'd'},
	{"iterations", required_argument, NULL, 'n'},
	{"format", required_argument, NULL, 'o'},
	{"top", required_argument, NULL, OPT_TOP},
	{"backlog", required_argument, NULL, OPT_BACKLOG},
	{"pid", required_argument, NULL, 'p'},
	{"port", required_argument, NULL, 'P'},
	{"netns", required_argument, NULL, OPT_NETNS},
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"proc-root", required_argument, NULL, OPT_PROC_ROOT},
	{"theme", required_argument, NULL, OPT_THEME},
	{"ascii", no_argument, NULL, OPT_ASCII},
	{"bell", no_argument, NULL, OPT_BELL},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"no-config", no_argument, NULL, OPT_NO_CONFIG},
	{"fd-warn", required_argument, NULL, OPT_CONF_KEY + 0},
	{"fd-crit", required_argument, NULL, OPT_CONF_KEY + 1},
	{"close-wait-alert", required_argument, NULL, OPT_CONF_KEY + 2},
	{"eta-alert", required_argument, NULL, OPT_CONF_KEY + 3},
	{"file-nr-alert", required_argument, NULL, OPT_CONF_KEY + 4},
	{"alert-cmd", required_argument, NULL, OPT_CONF_KEY + 5},
	{"growth-window", required_argument, NULL, OPT_CONF_KEY + 6},
	{"write", required_argument, NULL, 'w'},
	{"read", required_argument, NULL, 'r'},
	{"report", no_argument, NULL, OPT_REPORT},
	{"sockets", no_argument, NULL, OPT_SOCKETS},
	/* Not in --help: for the tests that check the incremental fd map. */
	{"full-scan", no_argument, NULL, OPT_FULL_SCAN},
	{"step", no_argument, NULL, OPT_STEP},
	{"help", no_argument, NULL, 'h'},
	{"version", no_argument, NULL, 'V'},
	{"list-options", no_argument, NULL, OPT_LIST_OPTIONS},
	{0},
};

/* The parser's own list of long options, one a line: "--name", "--name=" when it
 * takes a value, "--name=a|b" when the value is one of a fixed set. Shell completion
 * reads it, and a test checks each one is in --help and in the man page, so neither
 * can drift from the parser. Hidden: not for people. */
static void list_options(FILE *f)
{
	/* For tests only, so not in --help, the man page or completion. */
	static const char *const hidden[] = {"full-scan", "step", "list-options"};

	for (const struct option *lo = long_options; lo->name; lo++) {
		bool skip = false;
		for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
			skip = skip || !strcmp(lo->name, hidden[i]);
		if (skip)
			continue;
		fprintf(f, "--%s%s", lo->name, lo->has_arg == required_argument ? "=" : "");
		for (int i = 0; lo->val == 'o' && i < FMT_COUNT; i++)
			fprintf(f, "%s%s", i ? "|" : "", options_format_name((enum out_format)i));
		if (lo->val == 'o')
			fputs("|markdown|html", f);
		fputc('\n', f);
	}
}

/* A refused command line: -EINVAL and the message. */
#define fail(cause, ...) text_cause(cause, -EINVAL, __VA_ARGS__)

/* A whole number from 0 to max. Row counts are bounded so that what is sized from
 * them (the backlog's array, say) cannot overflow. */
#define ROWS_MAX 1000000L

static int parse_count(const char *arg, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int set_conf_option(struct options *o, int i, const char *arg, char **cause)
{
	const struct conf_key *k = conf_find(options_conf_keys, options_conf_nkeys, conf_options[i].key);
	char *why = NULL;

	if (!k)
		abort(); /* conf_options names a key the table lacks */
	if (!conf_set(k, o, arg, &why))
		return 0;
	/* why starts with the key's name; the person typed the option's. */
	const char *what = why && strchr(why, ':') ? strchr(why, ':') + 2 : why;
	text_cause(cause, -EINVAL, "--%s=%s: %s", conf_options[i].option, arg, what ? what : "bad value");
	free(why);
	return -EINVAL;
}

#define SHORT_OPTIONS "bd:n:o:p:P:r:w:hV"

/* The configuration file comes before the other options, so they can override it.
 * --config and --no-config are found by getopt_long itself, in a first pass that acts
 * on nothing else: every spelling it accepts (--conf=FILE, --config FILE, --no-c,
 * --no) means the same here as in the real pass. The last --config wins; --no-config
 * wins over any. */
static void find_config(int argc, char **argv, const char **path, bool *skip)
{
	int c, quiet = opterr;

	opterr = 0; /* the real pass reports what is wrong */
	optind = 0; /* 0, not 1: glibc starts over whole */
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		if (c == OPT_CONFIG)
			*path = optarg;
		else if (c == OPT_NO_CONFIG)
			*skip = true;
	}
	opterr = quiet;
	optind = 0;
}

/* A file leaktop would not use (as root, someone else's; a home it cannot read): one
 * line, and leaktop goes on without it. */
static bool passed_over(int rc)
{
	return rc == -EPERM || rc == -EACCES || rc == -ENOTDIR;
}

static int load_config(struct options *o, int argc, char **argv, char **cause)
{
	const char *path = NULL;
	char *def = NULL;
	bool skip = false;
	int rc = 0;

	find_config(argc, argv, &path, &skip);
	o->config_path[0] = '\0';
	if (skip)
		return 0;
	if (!path)
		path = def = conf_default_path();
	if (path) {
		/* R reads restart.COMM from this same file, whatever happens to it here. */
		snprintf(o->config_path, sizeof(o->config_path), "%s", path);
		rc = conf_load(path, !def, options_conf_keys, options_conf_nkeys, o, cause);
	}
	/* Someone else's home (sudo -u), or as root a file someone else could have
	 * written: not worth refusing to start over, and not to be used either. A broken
	 * line of a file leaktop may use does stop it. */
	if (passed_over(rc) && (rc == -EPERM || def)) {
		fprintf(stderr, "leaktop: %s; using the defaults\n", *cause ? *cause : "configuration file not used");
		free(*cause);
		*cause = NULL;
		rc = 0;
	}
	free(def);
	return rc ? -EINVAL : 0;
}

int options_parse(struct options *o, int argc, char **argv, char **cause)
{
	long iterations = -1, top = -1, backlog = -1;
	bool report_fmt = false;
	const char *fmt_arg = NULL; /* -o as given, for a mode that has no use for it */
	int c;

	*cause = NULL; /* an out parameter: whatever it held is the caller's */
	_Static_assert(N_CONF_OPTIONS == 7, "a long option per conf_options row");
	memset(o, 0, sizeof(*o));
	o->delay = 2.0;
	o->proc_root = "/proc";
	alert_thresholds_default(&o->alert);
	o->growth_window_min = 5;
	if (load_config(o, argc, argv, cause))
		return -EINVAL;
	while ((c = getopt_long(argc, argv, SHORT_OPTIONS, long_options, NULL)) != -1) {
		switch (c) {
		case 'b':
			o->batch = true;
			break;
		case 'd': {
			char *end;
			errno = 0;
			o->delay = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->delay) || o->delay < 0 || o->delay > 86400)
				return fail(cause, "invalid delay '%s': expected seconds, like 2 or 0.5", optarg);
			break;
		}
		case 'n':
			if (parse_count(optarg, LONG_MAX, &iterations))
				return fail(cause, "invalid iteration count '%s'", optarg);
			break;
		case 'o': {
			int fmt = options_format_parse(optarg);
			fmt_arg = optarg;
			/* The report's formats. */
			if (!strcmp(optarg, "html") || !strcmp(optarg, "markdown") || !strcmp(optarg, "md")) {
				o->report_html = !strcmp(optarg, "html");
				report_fmt = true;
				break;
			}
			if (fmt < 0)
				return fail(cause, "unknown format '%s': expected text, json, openmetrics, markdown or html",
					    optarg);
			o->format = (enum out_format)fmt;
			break;
		}
		case OPT_TOP:
			if (parse_count(optarg, ROWS_MAX, &top))
				return fail(cause, "invalid --top '%s': expected a count from 0 to 1000000", optarg);
			break;
		case OPT_BACKLOG:
			if (parse_count(optarg, ROWS_MAX, &backlog))
				return fail(cause, "invalid --backlog '%s': expected a count from 0 to 1000000", optarg);
			break;
		case 'p':
			if (!*optarg) /* --pid "$(pidof x)" with no x: not "everything" */
				return fail(cause, "%s: an empty list matches nothing; leave the option out to see everything", "--pid");
			if (view_filter_pids(&o->filter, optarg, cause))
				return -EINVAL;
			break;
		case 'P':
			if (!*optarg) /* --pid "$(pidof x)" with no x: not "everything" */
				return fail(cause, "%s: an empty list matches nothing; leave the option out to see everything", "--port");
			if (view_filter_ports(&o->filter, optarg, cause))
				return -EINVAL;
			break;
		case OPT_NETNS:
			if (!*optarg) /* --pid "$(pidof x)" with no x: not "everything" */
				return fail(cause, "%s: an empty list matches nothing; leave the option out to see everything", "--netns");
			if (view_filter_netns(&o->filter, optarg, cause))
				return -EINVAL;
			break;
		case OPT_LISTEN:
			o->listen = optarg;
			break;
		case OPT_PROC_ROOT:
			o->proc_root = optarg;
			break;
		case OPT_THEME:
			o->theme = optarg;
			break;
		case OPT_ASCII:
			o->ascii = true;
			break;
		case OPT_BELL:
			o->ring_bell = 1;
			break;
		case OPT_CONFIG:
		case OPT_NO_CONFIG:
			break; /* read before the other options */
		case OPT_SOCKETS:
			o->sockets = true;
			break;
		case OPT_FULL_SCAN:
			o->full_scan = true;
			break;
		case OPT_STEP:
			o->step = true;
			break;
		case 'w':
			o->write_path = optarg;
			break;
		case 'r':
			o->read_path = optarg;
			break;
		case OPT_REPORT:
			o->report = true;
			break;
		/* errno cleared: a failed write's own is what the caller reports. */
		case 'h':
			errno = 0;
			options_usage(stdout);
			return 1;
		case 'V':
			errno = 0;
			printf("leaktop %s\n", PACKAGE_VERSION);
			return 1;
		case OPT_LIST_OPTIONS:
			errno = 0;
			list_options(stdout);
			return 1;
		default:
			if (c >= OPT_CONF_KEY && c < OPT_CONF_KEY + (int)N_CONF_OPTIONS) {
				if (set_conf_option(o, c - OPT_CONF_KEY, optarg, cause))
					return -EINVAL;
				break;
			}
			return fail(cause, "%s", "try 'leaktop --help' for the options");
		}
	}
	if (optind < argc)
		return fail(cause, "unexpected argument '%s'", argv[optind]);
	if (o->alert.fd_crit_pct < o->alert.fd_warn_pct) {
		return fail(cause, "the fd warning threshold (%g%%) is above the critical one (%g%%): set --fd-crit too",
			    o->alert.fd_warn_pct, o->alert.fd_crit_pct);
	}
	/* -r FILE -o html: a report is the only thing HTML can be. */
	if (report_fmt && o->read_path && !o->batch && !o->listen)
		o->report = true;
	if (report_fmt && !o->report)
		return fail(cause, "%s", "markdown and html are report formats: leaktop -r FILE --report -o html");
	if (o->report && !o->read_path)
		return fail(cause, "%s", "--report needs a recording: leaktop -r FILE --report");
	/* Every output format a mode cannot write is an error, never quietly another. */
	if (o->report && (o->batch || o->listen))
		return fail(cause, "--report prints one report and exits: it takes neither %s",
			    o->batch ? "--batch" : "--listen");
	if (o->report && fmt_arg && !report_fmt)
		return fail(cause, "--report writes markdown or html, not %s: leaktop -r FILE --report -o html "
			    "(-o %s is for --batch)", fmt_arg, fmt_arg);
	if (o->listen && fmt_arg && o->format != FMT_OPENMETRICS)
		return fail(cause, "--listen serves openmetrics only, not %s (-o %s is for --batch)", fmt_arg, fmt_arg);
	if (!o->report && !o->listen && !o->batch && fmt_arg)
		return fail(cause, "-o %s: the dashboard has no output format; add --batch (-b) for %s output", fmt_arg,
			    fmt_arg);
	if (o->listen)
		o->format = FMT_OPENMETRICS;
	if (o->sockets && (o->format != FMT_JSON || o->report || o->listen || !o->batch))
		return fail(cause, "%s", "--sockets adds a list to JSON output only: leaktop -b -o json --sockets");
	/* The dashboard refreshes at most every OPTIONS_TUI_MIN_DELAY, and then only as
	 * often as a refresh takes: -d 0 kept a core busy on a big box. */
	if (!o->batch && !o->listen && !o->report && !o->read_path && o->delay < OPTIONS_TUI_MIN_DELAY)
		o->delay = OPTIONS_TUI_MIN_DELAY;
	if (o->read_path && o->write_path)
		return fail(cause, "%s", "-r and -w cannot be combined: a replay is not recorded again");
	/* A replay in batch mode prints the whole recording unless told otherwise. */
	o->iterations = iterations >= 0 ? iterations : (o->batch && !o->read_path ? 1 : 0);
	o->top = top >= 0 ? (size_t)top : (o->format == FMT_JSON ? 0 : 20);
	o->backlog_max = backlog >= 0 ? (size_t)backlog : (o->format == FMT_JSON ? 100 : 10);
	return 0;
}

int options_save_key(const char *path, const char *key, const char *value, char **cause)
{
	char dir[4096], tmp[300], *text = NULL, *out = NULL;
	const char *base = path;
	size_t len = 0, outlen = 0;
	struct stat st;
	int fd = -1, dfd = userfile_open_folder(path, dir, sizeof(dir), &base, cause), rc = dfd < 0 ? dfd : 0;
	mode_t mode = 0600; /* a new file: it may name commands leaktop runs */
	bool had = false;

	/* As root, a file leaktop would not read is not written either. */
	if (!rc && geteuid() == 0)
		rc = conf_check_trust(dfd, dir, getuid(), getenv("HOME"), cause);
	if (!rc && snprintf(tmp, sizeof(tmp), ".%s.tmp", base) >= (int)sizeof(tmp))
		rc = text_cause(cause, -ENAMETOOLONG, "%s: name too long", path);
	if (!rc && !fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW)) {
		had = true;
		if (!S_ISREG(st.st_mode))
			rc = text_cause(cause, -EINVAL, "%s is %s: leaktop replaces only a regular file", path,
					S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
		/* Its mode kept (0644 stays readable), never writable by others. */
		mode = st.st_mode & 0755;
	}
	if (!rc && had && (rc = conf_read(path, &text, &len, cause)) == -ENOENT)
		rc = 0, free(*cause), *cause = NULL;
	if (!rc)
		rc = conf_with_key(text, len, path, key, value, &out, &outlen, cause);
	/* A new file beside it, then rename: a reader never sees half a file. */
	if (!rc && unlinkat(dfd, tmp, 0) && errno != ENOENT)
		rc = -errno;
	if (!rc && (fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)) < 0)
		rc = -errno;
	if (!rc) {
		if (fchmod(fd, mode) || (had && geteuid() == 0 && fchown(fd, st.st_uid, st.st_gid)))
			rc = -errno;
		for (size_t off = 0; off < outlen && !rc;) {
			ssize_t w = write(fd, out + off, outlen - off);
			if (w < 0 && errno != EINTR)
				rc = -errno;
			else if (w > 0)
				off += (size_t)w;
		}
		if (close(fd) && !rc)
			rc = -errno;
		if (!rc && renameat(dfd, tmp, dfd, base))
			rc = -errno;
		if (rc)
			unlinkat(dfd, tmp, 0);
	}
	if (rc && !*cause)
		text_cause(cause, rc, "%s: %s", path, strerror(-rc));
	if (dfd >= 0)
		close(dfd);
	free(text);
	free(out);
	return rc;
}
