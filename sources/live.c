/* The live source: one sock_diag dump and one /proc scan per refresh, joined into a
 * snapshot. The two are independent until the join, so the dump runs on a second
 * thread while this one scans /proc. A part that fails shows in the status line;
 * the rest still arrives. */
#include "config.h"

#include "sources/source.h"
#include "sources/procscan.h"
#include "sources/sockdiag.h"
#include "model/snapshot.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct live_source {
	struct source base;
	struct sockdiag *diag;
	struct procscan *scan;
	char *diag_cause; /* why the netlink socket could not be opened */
	uint64_t tick;
	bool full_scan;   /* readlink every fd every refresh (--full-scan, for tests) */
	/* The dump thread's side. It appends to target->socks while this thread fills
	 * target->procs, ->owners and ->totals: distinct fields, never shared until the
	 * join. (A second array swapped in would cost 14 MB at 150k sockets.) */
	struct snapshot *target;
	char *dump_why;
	int dump_rc;
	double dump_ms;
	bool timing;      /* LEAKTOP_TIMING set: each refresh's phases to stderr */
};

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void status_add(struct snapshot *s, const char *what, const char *cause)
{
	size_t len = strlen(s->status);
	snprintf(s->status + len, sizeof(s->status) - len, "%s%s: %s", len ? "; " : "", what,
		 cause ? cause : "failed");
}

/* The dump half of a refresh; runs on its own thread. */
static void *dump_run(void *arg)
{
	struct live_source *l = arg;

	double t0 = now_mono();
	l->dump_rc = sockdiag_dump_tcp(l->diag, l->target, 0, &l->dump_why);
	l->dump_ms = (now_mono() - t0) * 1000.0;
	return NULL;
}

static int live_next(struct source *src, struct snapshot *s, char **cause)
{
	struct live_source *l = (struct live_source *)src;
	double t0 = now_mono();
	struct timespec wall;
	pthread_t worker;
	bool threaded = false;
	char *why = NULL;
	int rc, ret = 0;

	snapshot_clear(s);
	clock_gettime(CLOCK_REALTIME, &wall);
	s->time = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	s->tick = ++l->tick;

	if (!l->diag && sockdiag_open(&l->diag, &why) == 0)
		free(l->diag_cause), l->diag_cause = NULL;
	else if (!l->diag && why)
		free(l->diag_cause), l->diag_cause = why, why = NULL;
	free(why), why = NULL;
	if (l->diag) {
		/* Without a second thread the dump simply runs before the scan. */
		l->target = s;
		threaded = pthread_create(&worker, NULL, dump_run, l) == 0;
		if (!threaded)
			dump_run(l);
	}

	double t_scan = now_mono();
	if (l->full_scan)
		procscan_full_rescan(l->scan);
	if ((rc = procscan_scan(l->scan, s, &why))) {
		status_add(s, "processes", why);
		ret = rc;
	}
	free(why), why = NULL;
	t_scan = now_mono() - t_scan;
	double t_join = now_mono();

	if (!l->diag) {
		status_add(s, "sockets", l->diag_cause);
		ret = -ENOTCONN;
	} else {
		if (threaded)
			pthread_join(worker, NULL);
		if (l->dump_rc) {
			status_add(s, "sockets", l->dump_why);
			ret = l->dump_rc;
		}
		free(l->dump_why), l->dump_why = NULL;
	}
	/* What the dump says changed under known fd numbers is read again now, and the
	 * join redone, so no refresh shows last refresh's owners. */
	double t_wait = now_mono() - t_join, t_recheck = 0, t_build = now_mono();
	int rechecked = 0;
	if ((rc = snapshot_build(s)) == 0 && l->diag) {
		t_recheck = now_mono();
		rechecked = procscan_recheck(l->scan, s);
		t_recheck = now_mono() - t_recheck;
		if (rechecked == 1)
			rc = snapshot_build(s);
	}
	t_build = now_mono() - t_build - t_recheck;
	if (rc) {
		status_add(s, "join", strerror(-rc));
		ret = rc;
	} else {
		procscan_note_dump(l->scan, s);
	}
	s->refresh_ms = (now_mono() - t0) * 1000.0;
	if (l->timing)
		fprintf(stderr, "leaktop: refresh %llu: %.1f ms: scan %.1f, dump %.1f (waited %.1f more), "
			"join %.1f, recheck %.1f%s, %zu sockets, %zu socket fds\n", (unsigned long long)s->tick,
			s->refresh_ms, t_scan * 1e3, l->dump_ms, t_wait * 1e3, t_build * 1e3, t_recheck * 1e3,
			rechecked == 1 ? " (joined again)" : "", s->nsocks, s->nowners);
	if (ret && cause)
		*cause = strdup(s->status);
	return ret;
}

static void live_free(struct source *src)
{
	struct live_source *l = (struct live_source *)src;
	sockdiag_free(l->diag);
	procscan_free(l->scan);
	free(l->diag_cause);
	free(l);
}

static const struct source_ops live_ops = {
	.name = "live",
	.next = live_next,
	.free = live_free,
};

int live_source_new(struct source **out, const char *proc_root, char **cause)
{
	struct live_source *l = calloc(1, sizeof(*l));
	int rc;

	if (!l)
		return -ENOMEM;
	l->base.ops = &live_ops;
	l->base.live = true;
	l->timing = getenv("LEAKTOP_TIMING") != NULL;
	if ((rc = procscan_new(&l->scan, proc_root, cause))) {
		free(l);
		return rc;
	}
	/* A netlink failure is not fatal: it shows in the status line of each refresh. */
	sockdiag_open(&l->diag, &l->diag_cause);
	*out = &l->base;
	return 0;
}

void live_source_full_scan(struct source *src, bool on)
{
	if (src->ops == &live_ops)
		((struct live_source *)src)->full_scan = on;
}
