/* One session step, the only refresh loop: the next snapshot from the source, into
 * the recording, the history and the alerts, and --alert-cmd once per transition on
 * live runs. Batch mode, --listen and the dashboard's worker all call it. */
#ifndef LEAKTOP_SESSION_H
#define LEAKTOP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "model/alert.h"
#include "model/view.h"

struct options;
struct source;
struct record;
struct record_event;
struct snapshot;
struct history;
struct history_change;
struct session;

struct session_opts {
	double interval_s;          /* the refresh interval, for the history */
	double window_s;            /* the growth window */
	struct alert_thresholds alert;
	struct view_filter filter;  /* the processes and ports that raise alerts */
	const char *alert_cmd;      /* run per transition on live runs; NULL or "" for none */
	bool quiet_cmd;             /* the dashboard: its output to /dev/null */
	bool shared_reads;          /* the dashboard: the history is read (session_lock)
				     * while a refresh is counted (history_opts) */
	FILE *alert_log;            /* transitions as "leaktop: alert LEVEL KIND: MESSAGE" and
				     * verdict changes as "leaktop: verdict pid 42 (java) judged
				     * leak (was suspect): REASON", or NULL */
	/* What goes wrong without stopping the session (the recording stopped, the alert
	 * program could not run): to note(note_ctx, msg), or to stderr when note is NULL. */
	void (*note)(void *ctx, const char *msg);
	void *note_ctx;
	/* A replay: each event (alert, action) recorded with a refresh the replay delivers
	 * (each step, and a seek's target), as one line session_event_line() made, to
	 * recorded(note_ctx, line); to stderr as "leaktop: recorded ..." when NULL. */
	void (*recorded)(void *ctx, const char *line);
	/* ... and, when not NULL, each such event that kept a thread dump (ev->dump), after
	 * its line: the dashboard's dump viewer shows recorded dumps too. */
	void (*recorded_dump)(void *ctx, const struct record_event *ev);
};

/* The options' history window, thresholds, filter and --alert-cmd; no log, no note. */
void session_opts_from(struct session_opts *so, const struct options *o);

/* A session on src (lent: the caller frees it after session_free), recording to rec
 * when it is not NULL (taken: session_free closes it). Returns 0 or -ENOMEM. */
int session_new(struct session **out, const struct session_opts *so, struct source *src, struct record *rec);
/* Closes the recording. Never waits for an alert program: one still running keeps
 * its time limit without leaktop (program/spawn.h). NULL is fine. */
void session_free(struct session *ss);

/* One refresh into out: read it, record it, and when it is whole feed the history
 * and the alerts (a partial refresh would read as sockets closing), then log each
 * transition, record it as an EV_ALERT event and run --alert-cmd for it (live runs
 * only: a replay never runs a program). Returns 0, 1 at the end of a recording, or
 * -errno for a partial refresh (out holds what came, *cause says why), recorded as
 * such; -ECANCELED for one cut short by a stop signal (sources/stop.h), recorded
 * nowhere, to be shown nowhere. */
int session_step(struct session *ss, struct snapshot *out, char **cause);

/* Replay: deliver refresh `index` (clamped) into out. Steps forward from where the
 * replay is when that is close; else forgets history and alerts and rebuilds them
 * from the growth window (and a little) before the target, so a seek costs the same
 * anywhere in a long recording. Nothing is recorded or run. Returns 0, 1 when the
 * recording is empty or ended, 2 when already there, or -errno. */
int session_seek(struct session *ss, long index, struct snapshot *out, char **cause);

/* A recorded event as one line for a person: "recorded action 21:50:03 pid 42: thread
 * dump: sent SIGQUIT". */
void session_event_line(const struct record_event *ev, char *buf, size_t n);

/* The alert transitions of the last step (none after a partial refresh or a seek). */
const struct alert *session_events(const struct session *ss, size_t *n);
/* The verdict changes of the last step (history_changes; none after a partial
 * refresh or a seek): what a front end says once, as news. */
const struct history_change *session_changes(const struct session *ss, size_t *n);

/* History and alerts change inside session_step and session_seek under this lock;
 * another thread reads them only while holding it (a seek back replaces the alerts). */
void session_lock(struct session *ss);
void session_unlock(struct session *ss);
const struct history *session_history(const struct session *ss);
const struct alerts *session_alerts(const struct session *ss);

/* Store an event (the dashboard's actions) with the last recorded refresh; nothing
 * without a recording. Returns 0 or -errno. */
int session_record_event(struct session *ss, const struct record_event *ev);
/* Is a recording being written (and has not failed)? */
bool session_recording(const struct session *ss);
/* Did writing the recording fail (it was then closed)? */
bool session_recording_failed(const struct session *ss);

#endif
