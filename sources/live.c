/* The live source: one /proc scan and the sock_diag dumps of every network namespace
 * per refresh, joined into a snapshot, and a preview of the first one (the dump alone,
 * which that refresh waits for, then takes). Once the fd map is warm, leaktop's own netns
 * (nearly always the big one) is dumped on a second thread while the scan runs; the
 * other namespaces are found by the scan and dumped after it. A part that fails shows
 * in the status line; the rest still arrives. */
#include "config.h"

#include "sources/source.h"
#include "sources/procscan.h"
#include "sources/nsdump.h"
#include "sources/stop.h"
#include "model/text.h"
#include "model/snapshot.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct live_source {
	struct source base;
	struct nsdump *dump;
	struct procscan *scan;
	char *proc_root;
	uint64_t tick;
	long scan_delay_ms; /* LEAKTOP_TEST_SCAN_DELAY_MS: the first scan starts that late
			     * (tests of the preview, which is otherwise gone too soon), or
			     * that of refresh LEAKTOP_TEST_SCAN_DELAY_TICK (tests of a stop
			     * signal mid-refresh); a stop signal ends the wait */
	uint64_t scan_delay_tick;
	bool full_scan;   /* readlink every fd every refresh (--full-scan, for tests) */
	bool preview;     /* a preview dump runs beside the first refresh */
	/* ... and the first refresh waits until it is done (preview_running false). */
	pthread_mutex_t preview_mu;
	pthread_cond_t preview_cv;
	bool preview_running;
	/* The preview, when its dump of the own netns (on this source's handle, so with
	 * tcp_info: the sockets' ages) came through: the first refresh takes its sockets
	 * instead of dumping them again. Set before preview_running goes false. */
	const struct snapshot *preview_snap;
	bool timing;      /* LEAKTOP_TIMING set: each refresh's phases to stderr */
};

struct own_dump {
	struct nsdump *dump;
	struct snapshot *s;
	double ms;
};

static void *own_dump_run(void *arg)
{
	struct own_dump *d = arg;
	double t = text_mono();
	nsdump_dump_own(d->dump, d->s);
	d->ms = (text_mono() - t) * 1e3;
	return NULL;
}

/* The preview is done (or failed), waiting at most ms for it. */
static bool preview_done(struct live_source *l, int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_nsec += ms * 1000000L;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	pthread_mutex_lock(&l->preview_mu);
	if (l->preview_running)
		pthread_cond_timedwait(&l->preview_cv, &l->preview_mu, &ts);
	bool done = !l->preview_running;
	pthread_mutex_unlock(&l->preview_mu);
	return done;
}

static void preview_running(struct live_source *l, bool on)
{
	pthread_mutex_lock(&l->preview_mu);
	l->preview_running = on;
	pthread_cond_broadcast(&l->preview_cv);
	pthread_mutex_unlock(&l->preview_mu);
}

/* The first refresh, once its scan is done: take the sockets of the preview's dump
 * (copied: the screen may be showing the preview). False when there are none to
 * take: the refresh dumps the own netns itself. */
static bool preview_take(struct live_source *l, struct snapshot *s)
{
	bool done;
	while (!(done = preview_done(l, 50)) && !stop_asked())
		;
	pthread_mutex_lock(&l->preview_mu);
	const struct snapshot *p = l->preview_snap;
	l->preview_snap = NULL;
	pthread_mutex_unlock(&l->preview_mu);
	/* (with the names, namespaces and IPv6 addresses the sockets index) */
	bool took = p && !stop_asked() && s->nsocks == 0 && s->names_len == 0 && s->nsock_ns == 0 &&
		s->naddr6 == 0 && snapshot_copy_socks(s, p) == 0;
	if (took) {
		procscan_dump_early(l->scan, nsdump_own(l->dump));
	} else if (done) { /* (not while the preview may still use the handle) */
		nsdump_own_again(l->dump);
	}
	return took;
}

static void status_add(struct snapshot *s, const char *what, const char *cause)
{
	size_t len = strlen(s->status);
	snprintf(s->status + len, sizeof(s->status) - len, "%s%s: %s", len ? "; " : "", what,
		 cause ? cause : "failed");
}

static int live_next(struct source *src, struct snapshot *s, char **cause)
{
	struct live_source *l = (struct live_source *)src;
	double t0 = text_mono();
	struct timespec wall;
	char *why = NULL;
	int rc, ret = 0;

	snapshot_clear(s);
	clock_gettime(CLOCK_REALTIME, &wall);
	s->time = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	s->tick = ++l->tick;

	/* The first scan reads every fd link and costs far more than a dump: overlapping
	 * would save little, and running the dumps after it lets the very first refresh
	 * tell CLOSED sockets (an fd the scan saw, in no dump, still open: there all
	 * along). Later, the own netns is dumped during the scan, and an fd first read in
	 * that scan waits one refresh before it may count as CLOSED (procscan_fd_check).
	 * So does the dashboard's first refresh, which takes the preview's dump, made
	 * before its scan, rather than dump a million sockets twice. */
	struct own_dump early = { .dump = l->dump, .s = s };
	pthread_t thread;
	bool overlap = l->tick > 1 && !l->full_scan && nsdump_own(l->dump) &&
		pthread_create(&thread, NULL, own_dump_run, &early) == 0;
	procscan_dump_early(l->scan, overlap ? nsdump_own(l->dump) : 0);
	for (long ms = 0; l->tick == l->scan_delay_tick && ms < l->scan_delay_ms && !stop_asked(); ms += 10)
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000L }, NULL);
	/* The first scan waits for the preview (its dump and join): sharing the cores with
	 * the scan made the first frame take about twice as long at a million sockets
	 * (doc/performance.md), for owners no sooner. */
	while (l->tick == 1 && l->preview && !preview_done(l, 50) && !stop_asked())
		;
	double t_scan = text_mono();
	if (l->full_scan)
		procscan_full_rescan(l->scan);
	rc = procscan_scan(l->scan, s, &why);
	t_scan = text_mono() - t_scan;
	if (overlap)
		pthread_join(thread, NULL);
	double t_take = text_mono();
	bool reused = l->tick == 1 && l->preview && preview_take(l, s);
	t_take = text_mono() - t_take;
	if (stop_asked()) { /* told to stop: no half refresh goes anywhere */
		free(why);
		return text_cause(cause, -ECANCELED, "stopped");
	}
	if (rc) {
		status_add(s, "processes", why);
		ret = rc;
	}
	free(why), why = NULL;
	double t_dump = text_mono();
	if ((rc = nsdump_dump(l->dump, s, &why))) /* adds to the status line itself */
		ret = rc;
	free(why);
	if (stop_asked())
		return text_cause(cause, -ECANCELED, "stopped");
	t_dump = text_mono() - t_dump + early.ms / 1e3 + t_take;
	/* What the dumps say changed under known fd numbers is read again now, and the
	 * join redone, so no refresh shows the last refresh's owners. */
	double t_build = text_mono(), t_recheck = 0;
	int rechecked = 0;
	if ((rc = snapshot_build_checked(s, procscan_fd_check, l->scan)) == 0) {
		t_recheck = text_mono();
		rechecked = procscan_recheck(l->scan, s);
		t_recheck = text_mono() - t_recheck;
		if (rechecked == 1)
			rc = snapshot_build_checked(s, procscan_fd_check, l->scan);
	}
	t_build = text_mono() - t_build - t_recheck;
	if (rc) {
		status_add(s, "join", strerror(-rc));
		ret = rc;
	} else {
		procscan_note_dump(l->scan, s);
	}
	s->refresh_ms = (text_mono() - t0) * 1000.0;
	if (l->timing) {
		/* The heap as malloc has it: what is in use (its mapped part, big arrays,
		 * counted in), and what it holds free (fragments it has not given back). */
		struct mallinfo2 mi = mallinfo2();
		fprintf(stderr, "leaktop: refresh %llu: %.1f ms: scan %.1f, dumps %.1f%s, join %.1f, "
			"recheck %.1f%s, %zu sockets, %zu socket fds; heap %.1f MB in use (%.1f MB "
			"mapped), %.1f MB free\n", (unsigned long long)s->tick,
			s->refresh_ms, t_scan * 1e3, t_dump * 1e3,
			overlap ? " (own beside the scan)" : reused ? " (own from the preview)" : "",
			t_build * 1e3, t_recheck * 1e3,
			rechecked == 1 ? " (joined again)" : "", s->nsocks, s->nowners,
			(double)(mi.uordblks + mi.hblkhd) / 1048576.0, (double)mi.hblkhd / 1048576.0,
			(double)mi.fordblks / 1048576.0);
	}
	if (ret && cause)
		*cause = strdup(s->status);
	return ret;
}

static const struct source_ops live_ops;

/* The first frame: the own netns dumped on this source's handle (the first refresh
 * takes these sockets, preview_take) and built alone. */
static int preview_make(struct live_source *l, struct snapshot *s, char **cause)
{
	struct timespec wall;
	double t0 = text_mono();
	int rc;

	snapshot_clear(s);
	clock_gettime(CLOCK_REALTIME, &wall);
	s->time = (double)wall.tv_sec + (double)wall.tv_nsec / 1e9;
	double t_dump = text_mono();
	rc = nsdump_dump_own(l->dump, s);
	t_dump = text_mono() - t_dump;
	struct netns_rec *ns = nsdump_own(l->dump) ? snapshot_add_netns(s, nsdump_own(l->dump), rc == 0) : NULL;
	if (ns)
		ns->own = true;
	s->owners_pending = true;
	double t_build = text_mono();
	if (!rc)
		rc = snapshot_build(s);
	t_build = text_mono() - t_build;
	if (rc) {
		if (cause)
			*cause = strdup(s->status[0] ? s->status : strerror(-rc));
		return rc;
	}
	s->refresh_ms = (text_mono() - t0) * 1000.0;
	if (l->timing)
		fprintf(stderr, "leaktop: preview: %.1f ms: dump %.1f, join %.1f, %zu sockets\n", s->refresh_ms,
			t_dump * 1e3, t_build * 1e3, s->nsocks);
	return 0;
}

int live_source_preview(struct source *src, struct snapshot *s, char **cause)
{
	struct live_source *l = (struct live_source *)src;

	if (src->ops != &live_ops)
		return -EINVAL;
	int rc = preview_make(l, s, cause);
	pthread_mutex_lock(&l->preview_mu);
	l->preview_snap = rc == 0 ? s : NULL;
	pthread_mutex_unlock(&l->preview_mu);
	preview_running(l, false); /* done or failed: the first scan may start */
	return rc;
}

void live_source_preview_beside(struct source *src, bool on)
{
	struct live_source *l = (struct live_source *)src;

	if (src->ops != &live_ops)
		return;
	l->preview = on;
	preview_running(l, on);
}

static void live_free(struct source *src)
{
	struct live_source *l = (struct live_source *)src;
	free(l->proc_root);
	nsdump_free(l->dump);
	procscan_free(l->scan);
	pthread_mutex_destroy(&l->preview_mu);
	pthread_cond_destroy(&l->preview_cv);
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
	pthread_mutex_init(&l->preview_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->preview_cv, &ca);
	pthread_condattr_destroy(&ca);
	const char *delay = getenv("LEAKTOP_TEST_SCAN_DELAY_MS");
	l->scan_delay_ms = delay ? strtol(delay, NULL, 10) : 0;
	const char *tick = getenv("LEAKTOP_TEST_SCAN_DELAY_TICK");
	l->scan_delay_tick = tick ? strtoull(tick, NULL, 10) : 1;
	if (!(l->proc_root = strdup(proc_root ? proc_root : "/proc"))) {
		free(l);
		return -ENOMEM;
	}
	if ((rc = procscan_new(&l->scan, proc_root, cause))) {
		free(l->proc_root);
		free(l);
		return rc;
	}
	if ((rc = nsdump_new(&l->dump, proc_root, cause))) {
		procscan_free(l->scan);
		free(l->proc_root);
		free(l);
		return rc;
	}
	*out = &l->base;
	return 0;
}

void live_source_full_scan(struct source *src, bool on)
{
	if (src->ops == &live_ops)
		((struct live_source *)src)->full_scan = on;
}
