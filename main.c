/* leaktop: parse options, then run the dashboard or batch mode. */
#include "config.h"

#include "outputs/batch.h"
#include "outputs/report.h"
#include "outputs/html.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "sources/procscan.h"
#include "recording/recread.h"
#include "recording/replay.h"
#include "sources/source.h"
#include "sources/stop.h"
#include "program/options.h"
#include "outputs/serve.h"
#include "program/session.h"
#include "tui/tui.h"
#include "recording/record.h"

#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop_signal;

/* Standard output flushed: 0, or 1 once the failure is said in words ("No space left
 * on device", not the writers' "Input/output error"). A reader that went away (EPIPE)
 * chose to stop reading: no error. */
static bool stdout_failed; /* and said so already */

static int stdout_flushed(void)
{
	/* errno as the last write left it: glibc drops what a failed write held, so a
	 * later fflush succeeds and only ferror() remembers. The callers print with errno
	 * cleared first (options_parse for --help). */
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	int e = errno;
	if (stdout_failed || e == EPIPE)
		return stdout_failed;
	stdout_failed = true;
	fprintf(stderr, "leaktop: writing output: %s\n", strerror(e ? e : EIO));
	return 1;
}

/* len bytes to standard output, by write(2), so the error is the system's own. */
static int write_stdout(const char *buf, size_t len)
{
	if (stdout_flushed())
		return 1;
	for (size_t off = 0; off < len;) {
		ssize_t w = write(STDOUT_FILENO, buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			if (errno == EPIPE)
				return 0;
			fprintf(stderr, "leaktop: writing output: %s\n", strerror(errno));
			stdout_failed = true;
			return 1;
		}
		off += (size_t)w;
	}
	return 0;
}

/* A recording whose tables cannot be read whole (cut short, damaged in the middle)
 * still has its refreshes in its frames, each checked: they are replayed into a
 * recording in memory, and the report is made from that. Returns 0 with *out (and
 * *refreshes), or -errno with *cause. */
static int rebuild_in_memory(struct record **out, size_t *refreshes, const char *path, struct record_info *info,
			     char **cause)
{
	struct source *src = NULL;
	struct snapshot *s = snapshot_new();
	struct record *rec = NULL;
	int rc = s ? replay_source_new(&src, path, cause) : -ENOMEM;

	*refreshes = 0;
	if (!rc) {
		*info = *replay_info(src);
		rc = record_open(&rec, NULL, info, cause);
	}
	while (!rc && !stop_signal) {
		char *why = NULL;
		int got = source_next(src, s, &why);
		free(why); /* where the frames end: said by the caller */
		if (got)
			break;
		size_t n = 0;
		const struct record_event *ev = replay_events(src, &n);
		rc = record_snapshot(rec, s, cause);
		for (size_t i = 0; !rc && i < n; i++)
			rc = record_event(rec, &ev[i], cause);
		*refreshes += !rc;
	}
	if (!rc && stop_signal)
		rc = -EINTR;
	if (!rc && !*refreshes)
		rc = text_cause(cause, -EILSEQ, "%s holds no whole refresh", path);
	if (rc)
		record_close(rec);
	else
		*out = rec;
	source_free(src);
	snapshot_free(s);
	return rc;
}

/* The handover report (Markdown or HTML) of a recording, on standard output. */
static int run_report(const struct options *o)
{
	int (*writer)(FILE *, struct sqlite3 *, const struct record_info *, const char *,
		      const struct alert_thresholds *, char **) =
		o->report_html ? html_report_write : report_write;
	struct sqlite3 *db = NULL;
	struct record *whole = NULL;
	struct record_info info = {0};
	char *cause = NULL, *buf = NULL;
	size_t len = 0, n = 0;
	long long have, want;
	/* Made whole first: then a write error is reported as itself, and a report cut
	 * by a damaged recording is not half-printed. */
	FILE *f = open_memstream(&buf, &len);
	int rc = f ? recread_open(&db, o->read_path, &info, &cause) : -ENOMEM;
	/* A cut file's tables may read without an error and still miss rows of its last
	 * refreshes: its frames (format 3) are what is sure. */
	bool cut = recread_cut_short(o->read_path, &have, &want), frames = !rc && cut && info.major >= 3;

	if (!rc && info.warning[0])
		fprintf(stderr, "leaktop: %s\n", info.warning);
	if (!rc && !frames)
		rc = writer(f, db, &info, o->read_path, &o->alert, &cause);
	if (rc == -EILSEQ && info.major >= 3) {
		/* Damaged in the middle: the frames before the damage. */
		frames = true;
		rc = 0;
		fclose(f);
		free(buf);
		buf = NULL;
		f = open_memstream(&buf, &len);
	}
	recread_close(db);
	if (frames && f) {
		free(cause);
		cause = NULL;
		rc = rebuild_in_memory(&whole, &n, o->read_path, &info, &cause);
		if (!rc)
			rc = writer(f, record_db(whole), &info, o->read_path, &o->alert, &cause);
		record_close(whole);
		if (!rc && cut)
			fprintf(stderr, "leaktop: %s is cut short (%lld of %lld bytes): the report covers its %zu "
				"refreshes before the cut\n", o->read_path, have, want, n);
		else if (!rc)
			fprintf(stderr, "leaktop: %s is damaged: the report covers its %zu refreshes before the damage\n",
				o->read_path, n);
	}
	if (f && fclose(f) && !rc)
		rc = -ENOMEM;
	if (rc)
		fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-rc));
	free(cause);
	int status = rc ? 1 : write_stdout(buf, len);
	free(buf);
	return status;
}

static void on_stop(int sig)
{
	__atomic_store_n(&stop_signal, sig, __ATOMIC_RELAXED); /* a refresh's threads read it too */
}

/* Batch mode told to stop by a signal ends by that signal, once its output and its
 * recording are whole: a shell sees 128+N, a parent WIFSIGNALED. */
static _Noreturn void die_by_signal(int sig)
{
	sigset_t set;

	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	_exit(128 + sig); /* not reached: its default action ends the process */
}

/* Sleep for secs, waking early on a stop signal. */
static void pause_for(double secs)
{
	struct timespec ts = {.tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9)};
	while (!stop_signal && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The session batch mode and --listen share: growth over --growth-window, alert
 * transitions on stderr (JSON carries them in its "alerts" array instead). */
static int new_session(struct session **ss, const struct options *o, bool log_alerts, struct source *src,
		       struct record *rec)
{
	struct session_opts so;

	session_opts_from(&so, o);
	so.alert_log = log_alerts ? stderr : NULL;
	if (session_new(ss, &so, src, rec)) {
		fputs("leaktop: out of memory\n", stderr);
		record_close(rec);
		return 1;
	}
	return 0;
}

static int run_batch(const struct options *o, struct source *src, struct record *rec)
{
	struct snapshot *s = snapshot_new();
	struct session *ss = NULL;
	struct batch_opts bo = {
		.format = o->format,
		.filter = o->filter,
		.top = o->top,
		.backlog_max = o->backlog_max,
		.boot_time = procscan_boot_time(o->proc_root),
		.clk_tck = sysconf(_SC_CLK_TCK),
		.sockets = o->sockets,
	};
	int status = 0;
	/* OpenMetrics is one exposition ending in "# EOF": only the last refresh's is
	 * written, when the run ends (-n, the end of a recording, or a stop signal), its
	 * growth figures over every refresh read. */
	char *last = NULL;
	size_t last_len = 0;

	if (new_session(&ss, o, o->format == FMT_TEXT, src, rec))
		return 1;
	if (!s) {
		fputs("leaktop: out of memory\n", stderr);
		status = 1;
		goto out;
	}
	bo.alerts = session_alerts(ss);
	if (!src->live) {
		/* Process start times are relative to the recorded machine's boot. */
		bo.boot_time = replay_info(src)->boot_time;
		bo.clk_tck = replay_info(src)->clk_tck;
	}
	for (long i = 0; !stop_signal && (o->iterations == 0 || i < o->iterations); i++) {
		char *cause = NULL;
		int rc = session_step(ss, s, &cause);
		if (rc == 1 || rc == -ECANCELED) { /* a refresh cut short by a stop: no output */
			free(cause);
			break;
		}
		if (rc < 0) {
			fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-rc));
			status = 1;
		}
		free(cause);
		if (rc < 0 && !src->live)
			break; /* a damaged recording: what came before it was replayed */
		if (session_recording_failed(ss))
			status = 1;
		char *buf = NULL;
		size_t len = 0;
		FILE *f = o->format == FMT_OPENMETRICS ? open_memstream(&buf, &len) : stdout;
		rc = f ? batch_write(f, s, session_history(ss), &bo) : -ENOMEM;
		if (f && f != stdout && fclose(f))
			rc = rc ? rc : -ENOMEM;
		if (f != stdout) {
			free(last);
			last = rc ? NULL : buf, last_len = rc ? 0 : len;
			if (rc)
				free(buf);
		}
		if (rc) {
			if (rc != -EPIPE)
				fprintf(stderr, "leaktop: writing output: %s\n", strerror(-rc));
			stdout_failed = rc != -EPIPE;
			status = rc == -EPIPE ? status : 1;
			break;
		}
		if (o->iterations && i + 1 >= o->iterations)
			break;
		if (o->step) {
			/* --step (tests): the next refresh when a line arrives; EOF ends. */
			char line[64];
			if (!fgets(line, sizeof(line), stdin))
				break;
		} else if (src->live) {
			pause_for(o->delay);
		}
	}
	if (last && write_stdout(last, last_len))
		status = 1;
out:
	free(last);
	session_free(ss);
	snapshot_free(s);
	return status;
}

int main(int argc, char **argv)
{
	struct options o;
	struct source *src = NULL;
	char *cause = NULL;
	/* Every array of 1 MB or more is a mapping of its own: freed, it goes back to
	 * the system at once, and grown, it is remapped, not copied. Left to itself,
	 * malloc raises that bar to the size of each big block freed (up to 32 MB), and
	 * the next refresh's arrays then come from the heap and stay there: at a million
	 * sockets the dashboard grew from 200 to 235 MB over its first minute. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	int rc = options_parse(&o, argc, argv, &cause);

	if (rc) {
		if (rc < 0)
			fprintf(stderr, "leaktop: %s\n", cause ? cause : "bad arguments");
		free(cause);
		/* --help, --version: printed, and said when that failed. */
		return rc < 0 ? 2 : stdout_flushed();
	}
	if (o.report)
		return run_report(&o);
	/* The dashboard says first whether the terminal can run it at all. */
	if (!o.batch && !o.listen && (rc = tui_preflight()))
		return rc;

	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A recording's queries end when one of them comes, whatever the file holds, and
	 * so does a refresh of the live system (between dump messages and processes). */
	stop_on(&stop_signal);

	int lfd = -1;
	char bound[80];
	if (o.listen) {
		lfd = serve_listen(o.listen, bound, sizeof(bound), &cause);
		if (lfd < 0) {
			fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-lfd));
			free(cause);
			return 1;
		}
	}
	if (o.read_path)
		rc = replay_source_new(&src, o.read_path, &cause);
	else
		rc = live_source_new(&src, o.proc_root, &cause);
	if (rc) {
		fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-rc));
		free(cause);
		return 1;
	}
	/* A side file the replay left out (another recording's WAL beside it). */
	if (o.read_path && replay_info(src)->warning[0])
		fprintf(stderr, "leaktop: %s\n", replay_info(src)->warning);
	live_source_full_scan(src, o.full_scan);
	struct record *rec = NULL;
	if (o.write_path) {
		struct record_info info = {
			.interval = o.delay,
			.boot_time = procscan_boot_time(o.proc_root),
			.clk_tck = sysconf(_SC_CLK_TCK),
		};
		if ((rc = record_open(&rec, o.write_path, &info, &cause))) {
			fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-rc));
			free(cause);
			source_free(src);
			return 1;
		}
	}
	if (lfd >= 0) {
		struct batch_opts bo = {.format = FMT_OPENMETRICS, .filter = o.filter, .top = o.top};
		/* The address goes to stdout so a script can find a port picked with :0. */
		printf("leaktop: serving http://%s/metrics\n", bound);
		struct session *ss = NULL;
		if (stdout_flushed()) {
			record_close(rec);
			rc = 1;
		} else {
			rc = new_session(&ss, &o, true, src, rec);
		}
		if (!rc) {
			rc = serve_run(lfd, ss, &bo, o.delay, &stop_signal);
			session_free(ss);
		}
		close(lfd);
	} else if (!o.batch) {
		return tui_run(&o, src, rec); /* it closes src and rec */
	} else {
		rc = run_batch(&o, src, rec);
	}
	source_free(src);
	/* What a writer left unflushed, or a failure it could not say in words. */
	if (stdout_flushed())
		rc = 1;
	/* --listen is a service: a stop signal is how it is meant to end (status 0). */
	if (lfd < 0 && stop_signal)
		die_by_signal(stop_signal);
	return rc;
}
