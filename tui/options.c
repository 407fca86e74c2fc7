/* Parsing the command line. --help reads like a man page's synopsis and options. */
#include "config.h"

#include "tui/options.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	      "  -o, --format=FORMAT       text (default) or json (one JSON object per line and\n"
	      "                            refresh)\n"
	      "      --top=N               processes and ports listed; default 20 for text,\n"
	      "                            0 (all) for json\n"
	      "      --backlog=N           sockets listed by Recv-Q; default 10 for text, 100 for json\n"
	      "\n"
	      "Filters:\n"
	      "  -p, --pid=PID[,PID...]    only these processes and the sockets they hold\n"
	      "  -P, --port=PORT[,PORT...] only sockets with this local or remote port\n"
	      "\n"
	      "Dashboard:\n"
	      "      --theme=NAME          colour theme: default, light, mono, high-contrast, or\n"
	      "                            one of yours in ~/.config/leaktop/themes/NAME.theme\n"
	      "      --ascii               draw ASCII only (automatic when the locale is not UTF-8)\n"
	      "\n"
	      "Other:\n"
	      "      --proc-root=DIR       read processes from DIR instead of /proc (testing)\n"
	      "  -h, --help                show this help and exit\n"
	      "  -V, --version             show the version and exit\n"
	      "\n"
	      "Exit status: 0 on success, 1 when a refresh could not be taken, 2 on a usage error.\n"
	      "Without root, other users' processes cannot be read: their fds and sockets are\n"
	      "counted as not readable, and their sockets show without an owner.\n",
	      f);
}

enum { OPT_TOP = 256, OPT_BACKLOG, OPT_PROC_ROOT, OPT_THEME, OPT_ASCII };

static const struct option long_options[] = {
	{"batch", no_argument, NULL, 'b'},
	{"delay", required_argument, NULL, 'd'},
	{"iterations", required_argument, NULL, 'n'},
	{"format", required_argument, NULL, 'o'},
	{"top", required_argument, NULL, OPT_TOP},
	{"backlog", required_argument, NULL, OPT_BACKLOG},
	{"pid", required_argument, NULL, 'p'},
	{"port", required_argument, NULL, 'P'},
	{"proc-root", required_argument, NULL, OPT_PROC_ROOT},
	{"theme", required_argument, NULL, OPT_THEME},
	{"ascii", no_argument, NULL, OPT_ASCII},
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
	for (const struct option *lo = long_options; lo->name; lo++) {
		if (lo->val == OPT_LIST_OPTIONS)
			continue;
		fprintf(f, "--%s%s", lo->name, lo->has_arg == required_argument ? "=" : "");
		for (int i = 0; lo->val == 'o' && i < FMT_COUNT; i++)
			fprintf(f, "%s%s", i ? "|" : "", batch_format_name((enum batch_format)i));
		fputc('\n', f);
	}
}

static int fail(char **cause, const char *fmt, const char *arg)
{
	if (asprintf(cause, fmt, arg) < 0)
		*cause = NULL;
	return -EINVAL;
}

static int parse_count(const char *arg, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int options_parse(struct options *o, int argc, char **argv, char **cause)
{
	long iterations = -1, top = -1, backlog = -1;
	int c;

	memset(o, 0, sizeof(*o));
	o->delay = 2.0;
	o->proc_root = "/proc";
	optind = 1;
	while ((c = getopt_long(argc, argv, "bd:n:o:p:P:hV", long_options, NULL)) != -1) {
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
			if (parse_count(optarg, &iterations))
				return fail(cause, "invalid iteration count '%s'", optarg);
			break;
		case 'o': {
			int fmt = batch_format_parse(optarg);
			if (fmt < 0)
				return fail(cause, "unknown format '%s': expected text or json", optarg);
			o->format = (enum batch_format)fmt;
			break;
		}
		case OPT_TOP:
			if (parse_count(optarg, &top))
				return fail(cause, "invalid --top '%s'", optarg);
			break;
		case OPT_BACKLOG:
			if (parse_count(optarg, &backlog))
				return fail(cause, "invalid --backlog '%s'", optarg);
			break;
		case 'p':
			if (view_filter_pids(&o->filter, optarg, cause))
				return -EINVAL;
			break;
		case 'P':
			if (view_filter_ports(&o->filter, optarg, cause))
				return -EINVAL;
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
		case 'h':
			options_usage(stdout);
			return 1;
		case 'V':
			printf("leaktop %s\n", PACKAGE_VERSION);
			return 1;
		case OPT_LIST_OPTIONS:
			list_options(stdout);
			return 1;
		default:
			return fail(cause, "%s", "try 'leaktop --help' for the options");
		}
	}
	if (optind < argc)
		return fail(cause, "unexpected argument '%s'", argv[optind]);
	o->iterations = iterations >= 0 ? iterations : (o->batch ? 1 : 0);
	o->top = top >= 0 ? (size_t)top : (o->format == FMT_JSON ? 0 : 20);
	o->backlog_max = backlog >= 0 ? (size_t)backlog : (o->format == FMT_JSON ? 100 : 10);
	return 0;
}
