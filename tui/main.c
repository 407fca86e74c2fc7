/* leaktop: parse options, then run the dashboard or batch mode. */
#include "config.h"

#include "model/batch.h"
#include "model/snapshot.h"
#include "sources/source.h"
#include "tui/options.h"
#include "tui/tui.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static double boot_time(const char *proc_root)
{
	char path[4096], line[256];
	double bt = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stat", proc_root);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

/* Sleep for secs, waking early on a stop signal. */
static void pause_for(double secs)
{
	struct timespec ts = {.tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
	while (!stop_signal && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int run_batch(const struct options *o, struct source *src)
{
	struct snapshot *s = snapshot_new();
	struct batch_opts bo = {
		.format = o->format,
		.filter = o->filter,
		.top = o->top,
		.backlog_max = o->backlog_max,
		.boot_time = boot_time(o->proc_root),
		.clk_tck = sysconf(_SC_CLK_TCK),
	};
	int status = 0;

	if (!s)
		return 1;
	for (long i = 0; !stop_signal && (o->iterations == 0 || i < o->iterations); i++) {
		char *cause = NULL;
		int rc = source_next(src, s, &cause);
		if (rc == 1)
			break;
		if (rc < 0) {
			fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-rc));
			status = 1;
		}
		free(cause);
		if ((rc = batch_write(stdout, s, NULL, &bo))) {
			if (rc != -EPIPE)
				fprintf(stderr, "leaktop: writing output: %s\n", strerror(-rc));
			status = rc == -EPIPE ? status : 1;
			break;
		}
		if (o->iterations == 0 || i + 1 < o->iterations)
			pause_for(o->delay);
	}
	snapshot_free(s);
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	struct source *src = NULL;
	char *cause = NULL;
	int rc = options_parse(&o, argc, argv, &cause);

	if (rc) {
		if (rc < 0)
			fprintf(stderr, "leaktop: %s\n", cause ? cause : "bad arguments");
		free(cause);
		return rc < 0 ? 2 : 0;
	}
	if (!o.batch)
		return tui_run(&o);

	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if ((rc = live_source_new(&src, o.proc_root, &cause))) {
		fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-rc));
		free(cause);
		return 1;
	}
	rc = run_batch(&o, src);
	source_free(src);
	return rc;
}
