/* The session step: source -> recording -> history -> alerts -> the front end, and
 * the alert program per live transition. No curses: batch and --listen use it too. */
#include "config.h"

#include "program/session.h"
#include "program/options.h"
#include "program/spawn.h"
#include "model/alert.h"
#include "model/history.h"
#include "recording/schema.h"
#include "recording/record.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "recording/replay.h"
#include "sources/source.h"

#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct session {
	struct session_opts o;
	char alert_cmd[1024];
	struct source *src;        /* lent */
	struct record *rec;        /* owned; NULL when none or after it failed */
	bool rec_failed;
	struct history *h;
	struct alerts *al;
	struct spawn *sp;          /* live runs with --alert-cmd only */
	bool fresh;                /* al's transitions are the last step's */
	const struct snapshot *last_fed; /* the caller's, as the history last had it */
	bool timing;               /* LEAKTOP_TIMING: the history's update to stderr */
	pthread_mutex_t mu;        /* h and al */
};

void session_opts_from(struct session_opts *so, const struct options *o)
{
	*so = (struct session_opts){
		.interval_s = o->delay,
		.window_s = o->growth_window_min * 60,
		.alert = o->alert,
		.filter = o->filter,
		.alert_cmd = o->alert_cmd,
	};
}

static void session_note(struct session *ss, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void session_note(struct session *ss, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (ss->o.note)
		ss->o.note(ss->o.note_ctx, msg);
	else
		fprintf(stderr, "leaktop: %s\n", msg);
}

static struct alerts *session_new_alerts(const struct session *ss)
{
	struct alerts *al = alerts_new(&ss->o.alert);
	if (al)
		alerts_set_filter(al, &ss->o.filter);
	return al;
}

int session_new(struct session **out, const struct session_opts *so, struct source *src, struct record *rec)
{
	struct session *ss = calloc(1, sizeof(*ss));
	struct history_opts ho;

	*out = NULL;
	if (!ss)
		return -ENOMEM;
	ss->o = *so;
	snprintf(ss->alert_cmd, sizeof(ss->alert_cmd), "%s", so->alert_cmd ? so->alert_cmd : "");
	ss->o.alert_cmd = ss->alert_cmd;
	ss->src = src;
	ss->rec = rec;
	ss->timing = getenv("LEAKTOP_TIMING") != NULL;
	history_opts_default(&ho);
	ho.interval_s = so->interval_s;
	ho.window_s = so->window_s;
	ho.shared_reads = so->shared_reads;
	/* A verdict never reads ok where an alert fires: the same thresholds. */
	ho.leak.cw_pile = so->alert.close_wait > ho.leak.cw_min ? so->alert.close_wait : ho.leak.cw_min;
	ho.leak.fd_warn_pct = so->alert.fd_warn_pct;
	/* A JVM's default heap is a share of the machine's memory: known live only. */
	if (src->live) {
		long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
		ho.phys_kb = pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size / 1024 : 0;
	}
	pthread_mutex_init(&ss->mu, NULL);
	ss->h = history_new(&ho);
	ss->al = session_new_alerts(ss);
	/* A replay never runs a program: it has no runner to run one with. */
	if (src->live && ss->alert_cmd[0])
		ss->sp = spawn_new(so->quiet_cmd);
	if (!ss->h || !ss->al || (src->live && ss->alert_cmd[0] && !ss->sp)) {
		ss->rec = NULL; /* the caller still owns it when this fails */
		session_free(ss);
		return -ENOMEM;
	}
	*out = ss;
	return 0;
}

void session_free(struct session *ss)
{
	if (!ss)
		return;
	record_close(ss->rec);
	spawn_free(ss->sp); /* never waits: a stuck program must not hold up a stop */
	alerts_free(ss->al);
	history_free(ss->h);
	pthread_mutex_destroy(&ss->mu);
	free(ss);
}

static void session_record(struct session *ss, const struct snapshot *s)
{
	char *why = NULL;

	if (!ss->rec || !record_snapshot(ss->rec, s, &why))
		return;
	session_note(ss, "%s; recording stopped", why ? why : "recording failed");
	free(why);
	record_close(ss->rec);
	ss->rec = NULL;
	ss->rec_failed = true;
}

/* The ages kept for the last snapshot shown while it was updated go before each
 * refresh or seek: not held beside the dump and the join (the dashboard's peak; the
 * table has them), and not left for a seek's first update to find still in use. */
static void session_drop_kept(struct session *ss)
{
	if (!ss->o.shared_reads)
		return;
	pthread_mutex_lock(&ss->mu);
	history_drop_kept_ages(ss->h);
	pthread_mutex_unlock(&ss->mu);
}

/* History and alerts take one whole refresh. */
static void session_feed(struct session *ss, const struct snapshot *s)
{
	double t0 = ss->timing ? text_mono() : 0;
	/* The front end reads the history under the lock while the sockets are counted
	 * (at a million sockets, most of a second without keys otherwise); what it shows
	 * meanwhile is the last snapshot fed (the dashboard swaps each refresh in before
	 * it asks for the next), whose ages are kept for it. */
	int rc = ss->last_fed != s ? history_keep_ages(ss->h, ss->last_fed) : 0;
	if (rc)
		session_note(ss, "%s", "out of memory for sockets' ages; they show again after this refresh");
	ss->last_fed = s;
	double t_kept = ss->timing ? text_mono() - t0 : 0;
	pthread_mutex_lock(&ss->mu);
	rc = history_update_begin(ss->h, s);
	pthread_mutex_unlock(&ss->mu);
	if (!rc)
		rc = history_update_socks(ss->h, s);
	pthread_mutex_lock(&ss->mu);
	if (!rc)
		rc = history_update_end(ss->h, s);
	if (rc)
		session_note(ss, "%s", "out of memory for history; growth figures are incomplete");
	ss->fresh = alerts_update(ss->al, s, ss->h) >= 0;
	if (!ss->fresh)
		session_note(ss, "%s", "out of memory for alerts");
	else
		alerts_raise(ss->al, ss->h);
	pthread_mutex_unlock(&ss->mu);
	if (ss->timing)
		fprintf(stderr, "leaktop: history and alerts %llu: %.1f ms (ages kept for the screen %.1f)\n",
			(unsigned long long)s->tick, (text_mono() - t0) * 1e3, t_kept * 1e3);
}

/* Each transition of a live refresh: logged, recorded, and handed to --alert-cmd. */
static void session_transitions(struct session *ss, const struct snapshot *s)
{
	size_t n, busy = 0;
	const struct alert *e = session_events(ss, &n);

	for (size_t i = 0; i < n; i++) {
		char line[ALERT_MESSAGE_MAX + 64];
		snprintf(line, sizeof(line), "%s %s: %s", alert_level_name(e[i].level), alert_kind_name(e[i].kind),
			 e[i].message);
		if (ss->o.alert_log)
			fprintf(ss->o.alert_log, "leaktop: alert %s\n", line);
		if (!ss->src->live)
			continue; /* a replay's alerts are shown, never acted on or recorded again */
		if (ss->rec) {
			struct record_event ev = {
				.kind = EV_ALERT, .time = s->time, .pid = e[i].pid, .start_time = e[i].start_time,
				.what = line,
			};
			/* A failed event write is not worth stopping the recording for. */
			record_event(ss->rec, &ev, NULL);
		}
		char *cause = NULL;
		int rc = ss->sp ? spawn_alert(ss->sp, ss->alert_cmd, &e[i], &cause) : 0;
		if (rc == -EBUSY)
			busy++; /* said once below, not once per transition */
		else if (rc)
			session_note(ss, "%s", cause ? cause : "the alert program could not run");
		free(cause);
	}
	if (busy)
		session_note(ss, "alert command not run for %zu transition%s: %d earlier ones still run (each is "
			     "killed after %d s)", busy, busy == 1 ? "" : "s", SPAWN_MAX_RUNNING, spawn_time_limit_ms / 1000);
	int killed = ss->sp ? spawn_reap(ss->sp) : 0;
	if (killed)
		session_note(ss, "alert command %s ran over %d s: killed (%d)", ss->alert_cmd, spawn_time_limit_ms / 1000,
			     killed);
	/* Verdict changes are news too: said once, where the transitions go. */
	const struct history_change *c = session_changes(ss, &n);
	for (size_t i = 0; ss->o.alert_log && i < n; i++) {
		char line[LEAK_REASON_MAX + 128];
		history_change_format(&c[i], line, sizeof(line));
		fprintf(ss->o.alert_log, "leaktop: verdict %s\n", line);
	}
}

/* A replayed refresh's recorded event (an alert or action of the live run) as one
 * line for the front end. */
void session_event_line(const struct record_event *ev, char *buf, size_t n)
{
	char when[16], pid[24] = "";

	text_time(when, sizeof(when), "%H:%M:%S", ev->time);
	if (ev->pid)
		snprintf(pid, sizeof(pid), " pid %d", (int)ev->pid);
	snprintf(buf, n, "recorded %s %s%s: %s%s%s", record_event_name(ev->kind), when, pid,
		 ev->what ? ev->what : "", ev->result && *ev->result ? ": " : "", ev->result ? ev->result : "");
}

/* What was recorded with the refresh a replay just delivered: shown, never redone. */
static void session_take_recorded(struct session *ss)
{
	size_t n = 0;
	const struct record_event *ev = replay_events(ss->src, &n);

	for (size_t i = 0; i < n; i++) {
		char line[768];
		session_event_line(&ev[i], line, sizeof(line));
		if (ss->o.recorded)
			ss->o.recorded(ss->o.note_ctx, line);
		else
			fprintf(stderr, "leaktop: %s\n", line);
		if (ev[i].dump && ss->o.recorded_dump)
			ss->o.recorded_dump(ss->o.note_ctx, &ev[i]);
	}
}

int session_step(struct session *ss, struct snapshot *out, char **cause)
{
	session_drop_kept(ss);
	int rc = source_next(ss->src, out, cause);

	ss->fresh = false;
	if (rc == 1 || rc == -ECANCELED) /* a refresh cut short by a stop: not recorded */
		return rc;
	if (!ss->src->live)
		session_take_recorded(ss);
	session_record(ss, out);
	if (rc == 0) {
		session_feed(ss, out);
		session_transitions(ss, out);
	}
	return rc;
}

int session_seek(struct session *ss, long target, struct snapshot *out, char **cause)
{
	struct source *src = ss->src;
	long n = (long)replay_count(src), pos = replay_pos(src);

	ss->fresh = false;
	if (!n)
		return 1;
	target = target < 0 ? 0 : target >= n ? n - 1 : target;
	if (target == pos)
		return 2;
	session_drop_kept(ss);
	/* The growth window (and a little): growth figures and verdicts as live, ages
	 * capped at it. 10k sockets, 2 s refreshes: 0.3-0.5 s a seek back. */
	long start = replay_find_time(src, replay_time(src, target) - (ss->o.window_s + 30));
	if (target > pos && pos >= 0 && pos + 1 >= start) {
		start = pos + 1;
	} else {
		struct alerts *al = session_new_alerts(ss);
		pthread_mutex_lock(&ss->mu);
		history_clear(ss->h);
		if (al) {
			alerts_free(ss->al);
			ss->al = al;
		}
		pthread_mutex_unlock(&ss->mu);
		replay_seek(src, start);
	}
	for (long i = start; i <= target; i++) {
		int rc = source_next(src, out, cause);
		if (rc)
			return rc;
		if (i == target)
			session_take_recorded(ss);
		session_feed(ss, out);
	}
	ss->fresh = false; /* the steps on the way are not news */
	return 0;
}

const struct history_change *session_changes(const struct session *ss, size_t *n)
{
	if (!ss->fresh) {
		*n = 0;
		return NULL;
	}
	return history_changes(ss->h, n);
}

const struct alert *session_events(const struct session *ss, size_t *n)
{
	if (!ss->fresh) {
		*n = 0;
		return NULL;
	}
	return alerts_events(ss->al, n);
}

void session_lock(struct session *ss)
{
	pthread_mutex_lock(&ss->mu);
}

void session_unlock(struct session *ss)
{
	pthread_mutex_unlock(&ss->mu);
}

const struct history *session_history(const struct session *ss)
{
	return ss->h;
}

const struct alerts *session_alerts(const struct session *ss)
{
	return ss->al;
}

int session_record_event(struct session *ss, const struct record_event *ev)
{
	return ss->rec ? record_event(ss->rec, ev, NULL) : 0;
}

bool session_recording(const struct session *ss)
{
	return ss->rec != NULL;
}

bool session_recording_failed(const struct session *ss)
{
	return ss->rec_failed;
}
