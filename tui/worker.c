/* The dashboard's refresh worker: a thread that runs the session step (or a replay
 * seek) into a back buffer while the screen stays responsive, and hands it over;
 * for the first frame of a live run, a preview from the dump alone, which the first
 * refresh waits for before its scan (and then takes the dump's sockets from). */
#include "config.h"

#include "tui/worker.h"
#include "tui/msgview.h"
#include "tui/state.h"
#include "tui/term.h"
#include "program/actions.h"
#include "program/session.h"
#include "model/alert.h"
#include "model/history.h"
#include "recording/record.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "model/vec.h"
#include "recording/schema.h"
#include "recording/replay.h"
#include "sources/source.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The loop reads history and alerts only under the session's lock, which the session
 * holds just while it updates them, so the screen stays responsive during a refresh
 * or a seek. */
struct worker {
	pthread_t thread;
	pthread_mutex_t mu;      /* the fields below */
	pthread_cond_t cv;
	struct source *src;
	struct session *ss;      /* the worker's; its recording is closed after it stopped */
	struct snapshot *back;   /* the worker's; swapped with the front when ready */
	bool want, busy, ready, quit;
	/* The first frame of a live run: the dump alone (owners still being read), made
	 * on a thread of its own while the first refresh waits for it (live.c), shown
	 * unless that refresh is in first (the preview failed). */
	struct snapshot *preview;
	pthread_t preview_thread;
	bool preview_started, preview_ready, preview_taken, first_done;
	/* Replay: a seek asked for (by index or by time), done, the end reached. */
	bool seek_req, seek_by_time, seek_done, from_seek, ended;
	long seek_index;
	double seek_time;
	long pos, count;
	double t_first, t_last;
	bool alerted;            /* the ready refresh fired an alert */
	char *cause;
	char *note;              /* for the status line: why the recording stopped, or
				  * why the alert program could not run */
	/* A replay's recorded alerts and actions, for the message view. */
	char recs[16][256];
	size_t nrecs;
	/* The news of the ready refresh, for the message view, each said once: its alert
	 * transitions (live runs: a replay shows the recorded ones) and verdict changes. */
	char **news;
	size_t nnews, news_cap, news_more;
	/* ... and the thread dumps recorded with them, for the dump viewer. */
	struct {
		char whose[64];
		char *text;          /* malloc'd */
		size_t len;
	} rdumps[4];
	size_t nrdumps;
	int wake[2];             /* worker -> loop: a refresh is ready */
	/* Actions done since the last refresh, for the recording: the loop queues, the
	 * worker (whose the recording is) writes them before its next refresh. */
	struct {
		double time;
		int32_t pid;
		uint64_t start_time;
		char what[256], result[512];
		char *dump;          /* a thread dump read back, malloc'd; NULL when none */
		size_t dump_len;
	} evq[16];
	size_t nevq;
};

void worker_queue_action(void *ctx, const struct action_event *ev)
{
	struct worker *w = ctx;

	pthread_mutex_lock(&w->mu);
	if (w->nevq < sizeof(w->evq) / sizeof(w->evq[0])) {
		w->evq[w->nevq].time = ev->time;
		w->evq[w->nevq].pid = ev->pid;
		w->evq[w->nevq].start_time = ev->start_time;
		snprintf(w->evq[w->nevq].what, sizeof(w->evq[0].what), "%s", ev->action);
		snprintf(w->evq[w->nevq].result, sizeof(w->evq[0].result), "%s%s", ev->result ? "FAILED: " : "",
			 ev->detail ? ev->detail : "");
		w->evq[w->nevq].dump = ev->dump && ev->dump_len ? malloc(ev->dump_len) : NULL;
		w->evq[w->nevq].dump_len = w->evq[w->nevq].dump ? ev->dump_len : 0;
		if (w->evq[w->nevq].dump)
			memcpy(w->evq[w->nevq].dump, ev->dump, ev->dump_len);
		w->nevq++;
	}
	pthread_mutex_unlock(&w->mu);
}

/* Worker side: write the queued actions, tied to the refresh they were done on. */
static void worker_record_actions(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->nevq; i++) {
		struct record_event ev = {
			.kind = EV_ACTION, .time = w->evq[i].time, .pid = w->evq[i].pid,
			.start_time = w->evq[i].start_time, .what = w->evq[i].what, .result = w->evq[i].result,
			.dump = w->evq[i].dump, .dump_len = w->evq[i].dump_len,
		};
		/* A failed event write is not worth stopping the recording for. */
		session_record_event(w->ss, &ev);
		free(w->evq[i].dump);
		w->evq[i].dump = NULL;
	}
	w->nevq = 0;
	pthread_mutex_unlock(&w->mu);
}

/* A replay passed a recorded event: the loop shows it (status line, message view);
 * past 16 a refresh, the last one says how many more the refresh held. */
static void worker_recorded(void *ctx, const char *line)
{
	struct worker *w = ctx;
	size_t max = sizeof(w->recs) / sizeof(w->recs[0]);

	pthread_mutex_lock(&w->mu);
	if (w->nrecs < max)
		snprintf(w->recs[w->nrecs], sizeof(w->recs[0]), "%s", line);
	else
		snprintf(w->recs[max - 1], sizeof(w->recs[0]), "and %zu more recorded events", w->nrecs - max + 2);
	w->nrecs++;
	pthread_mutex_unlock(&w->mu);
}

/* A replay passed a recorded thread dump: the loop hands it to the dump viewer.
 * More than fit before the loop takes them: the newest are kept. */
static void worker_recorded_dump(void *ctx, const struct record_event *ev)
{
	struct worker *w = ctx;
	size_t max = sizeof(w->rdumps) / sizeof(w->rdumps[0]);
	char *text = malloc(ev->dump_len ? ev->dump_len : 1), when[16];

	if (!text)
		return;
	memcpy(text, ev->dump, ev->dump_len);
	text_time(when, sizeof(when), "%H:%M:%S", ev->time);
	pthread_mutex_lock(&w->mu);
	if (w->nrdumps == max) {
		free(w->rdumps[0].text);
		memmove(w->rdumps, w->rdumps + 1, (max - 1) * sizeof(w->rdumps[0]));
		w->nrdumps--;
	}
	snprintf(w->rdumps[w->nrdumps].whose, sizeof(w->rdumps[0].whose), "pid %d, recorded %s", (int)ev->pid, when);
	w->rdumps[w->nrdumps].text = text;
	w->rdumps[w->nrdumps].len = ev->dump_len;
	w->nrdumps++;
	pthread_mutex_unlock(&w->mu);
}

/* The session's notes go to the status line. */
static void worker_note(void *ctx, const char *msg)
{
	struct worker *w = ctx;

	pthread_mutex_lock(&w->mu);
	free(w->note);
	w->note = strdup(msg);
	pthread_mutex_unlock(&w->mu);
}

/* Every one of them: 38 alerts firing at once are 38 lines (the message view keeps
 * its own bound); past WORKER_NEWS_MAX between two frames, only how many more. */
#define WORKER_NEWS_MAX 1000

static void worker_news(struct worker *w, const char *line)
{
	char *copy = NULL;

	pthread_mutex_lock(&w->mu);
	if (w->nnews < WORKER_NEWS_MAX && !VEC_RESERVE(w->news, w->news_cap, w->nnews + 1) && (copy = strdup(line)))
		w->news[w->nnews++] = copy;
	else
		w->news_more++;
	pthread_mutex_unlock(&w->mu);
}

/* One refresh: 0, 1 at the end of a recording, -errno (a partial refresh). */
static int worker_step(struct worker *w, bool *fired, char **cause)
{
	size_t n;
	char line[448];

	if (session_recording(w->ss))
		worker_record_actions(w);
	int rc = session_step(w->ss, w->back, cause);
	const struct alert *e = session_events(w->ss, &n);
	for (size_t i = 0; i < n; i++) {
		*fired |= e[i].level != ALERT_CLEAR;
		snprintf(line, sizeof(line), "ALERT %s %s: %s", alert_level_name(e[i].level), alert_kind_name(e[i].kind),
			 e[i].message);
		if (w->src->live)
			worker_news(w, line);
	}
	const struct history_change *c = session_changes(w->ss, &n);
	for (size_t i = 0; i < n; i++) {
		history_change_format(&c[i], line, sizeof(line));
		worker_news(w, line);
	}
	return rc;
}

static void *preview_main(void *arg)
{
	struct worker *w = arg;
	char *cause = NULL;
	int rc = live_source_preview(w->src, w->preview, &cause);

	free(cause); /* the refresh says it too, if it still fails */
	pthread_mutex_lock(&w->mu);
	if (rc == 0 && !w->first_done) {
		w->preview_ready = true;
		if (write(w->wake[1], "p", 1) < 0) {
			/* The pipe is full: the loop has a wake-up pending anyway. */
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	/* Other signals are the loop's; a crash here must still restore the terminal. */
	term_thread_signals();
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->want && !w->seek_req && !w->quit)
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->quit)
			break;
		bool seek = w->seek_req, by_time = w->seek_by_time, fired = false;
		long index = w->seek_index;
		double t = w->seek_time;
		w->want = w->seek_req = false;
		w->busy = true;
		pthread_mutex_unlock(&w->mu);
		char *cause = NULL;
		int rc;
		/* Signals are blocked here already: the preview thread takes none either. */
		if (!seek && w->src->live && !w->preview_started && (w->preview = snapshot_new())) {
			live_source_preview_beside(w->src, true);
			w->preview_started = pthread_create(&w->preview_thread, NULL, preview_main, w) == 0;
			if (!w->preview_started)
				live_source_preview_beside(w->src, false); /* the scan waits for none */
		}
		if (seek)
			rc = session_seek(w->ss, by_time ? replay_find_time(w->src, t) : index, w->back, &cause);
		else
			rc = worker_step(w, &fired, &cause);
		if (w->preview_started && !w->first_done) {
			pthread_mutex_lock(&w->mu);
			w->first_done = true;
			pthread_mutex_unlock(&w->mu);
			pthread_join(w->preview_thread, NULL);
			/* A preview the screen has not taken never will be (the first refresh
			 * is here): its memory (a whole dump: ~100 MB at 1M sockets) goes now,
			 * not at exit. */
			pthread_mutex_lock(&w->mu);
			if (!w->preview_taken) {
				w->preview_ready = false;
				snapshot_free(w->preview);
				w->preview = NULL;
			}
			pthread_mutex_unlock(&w->mu);
		}
		long pos = -1, count = 0;
		double first = 0, last = 0;
		if (!w->src->live) {
			count = (long)replay_count(w->src);
			pos = replay_pos(w->src);
			first = replay_time(w->src, 0);
			last = replay_time(w->src, count - 1);
		}
		pthread_mutex_lock(&w->mu);
		free(w->cause);
		w->cause = cause;
		w->busy = false;
		w->pos = pos;
		w->count = count;
		w->t_first = first;
		w->t_last = last;
		w->seek_done |= seek;
		w->ended = rc == 1;
		if (rc != 1 && rc != 2 && rc != -ECANCELED) { /* not one cut short by a stop */
			w->ready = true;
			w->from_seek = seek;
			w->alerted = fired;
		}
		if (write(w->wake[1], "r", 1) < 0) {
			/* The pipe is full: the loop has a wake-up pending anyway. */
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

struct worker *worker_start(struct app *a, struct source *src, struct record *rec)
{
	static struct worker w; /* static: a busy worker may outlive tui_run's frame */
	const struct options *o = a->o;
	struct session_opts so;
	sigset_t all, old;

	session_opts_from(&so, o);
	so.interval_s = a->delay;
	so.quiet_cmd = true; /* --alert-cmd's output kept off the screen */
	so.shared_reads = true; /* the screen reads sockets' ages while a refresh is counted */
	so.note = worker_note;
	so.recorded = worker_recorded;
	so.recorded_dump = worker_recorded_dump;
	so.note_ctx = &w;
	w.src = src;
	if (pipe2(w.wake, O_CLOEXEC | O_NONBLOCK) || !(w.back = snapshot_new()) ||
	    session_new(&w.ss, &so, src, rec)) {
		record_close(rec);
		return NULL;
	}
	pthread_mutex_init(&w.mu, NULL);
	pthread_cond_init(&w.cv, NULL);
	w.want = true; /* the first refresh, even for a replay that starts paused */
	/* Signals go to the loop, never to the worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&w.thread, NULL, worker_main, &w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		session_free(w.ss); /* closes rec */
		return NULL;
	}
	a->w = &w;
	return &w;
}

bool worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	bool busy = w->busy && !session_recording(w->ss);
	w->quit = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (busy) {
		pthread_detach(w->thread);
		return false;
	}
	pthread_join(w->thread, NULL);
	session_free(w->ss);
	w->ss = NULL;
	snapshot_free(w->back);
	snapshot_free(w->preview);
	free(w->cause);
	free(w->note);
	for (size_t i = 0; i < w->nrdumps; i++)
		free(w->rdumps[i].text);
	w->nrdumps = 0;
	for (size_t i = 0; i < w->nnews; i++)
		free(w->news[i]);
	free(w->news);
	w->news = NULL;
	w->nnews = w->news_cap = 0;
	close(w->wake[0]);
	close(w->wake[1]);
	return true;
}

int worker_wake_fd(const struct worker *w)
{
	return w->wake[0];
}

/* A replay's recorded events and dumps, with the refresh they were recorded with
 * (now on screen): stamped with its time. An action is marked as one. */
static void take_recorded(struct app *a, struct worker *w)
{
	size_t nrecs = w->nrecs < 16 ? w->nrecs : 16;

	for (size_t i = 0; i < nrecs; i++)
		msgview_add(a, strncmp(w->recs[i], "recorded action", 15) ? MSGLOG_EVENT : MSGLOG_ACTION, w->recs[i]);
	if (nrecs && !a->status_error)
		msgview_status(a, false, "%s%s", w->recs[nrecs - 1], nrecs > 1 ? " (m: all)" : "");
	w->nrecs = 0;
	for (size_t i = 0; i < w->nrdumps; i++) {
		msgview_keep_dump(a, w->rdumps[i].whose, w->rdumps[i].text, w->rdumps[i].len);
		free(w->rdumps[i].text);
	}
	if (w->nrdumps)
		msgview_append(a, "  ", "d: read the recorded thread dump", 32);
	w->nrdumps = 0;
}

bool worker_poll(struct app *a, struct snapshot **front)
{
	struct worker *w = a->w;
	bool swapped = false;
	double now = term_now();
	double delay = a->live ? a->delay : a->delay / a->speed;

	pthread_mutex_lock(&w->mu);
	if (w->seek_done) {
		w->seek_done = false;
		a->seeking = w->seek_req;
	}
	/* The preview, until the first refresh is there (it then has nothing to add). */
	if (w->preview_ready && !w->ready && !a->s) {
		struct snapshot *t = *front;
		*front = w->preview;
		w->preview = t;
		w->preview_taken = true;
		a->s = *front;
		swapped = true;
	}
	w->preview_ready = false;
	/* Never while busy: a seek asked for while a refresh was ready runs at once, into
	 * w->back (where that refresh is, superseded), and a swap then would hand the
	 * worker the front snapshot the screen is drawn from. */
	if (w->ready && !w->busy && (!a->paused || w->from_seek || !a->s || a->s->owners_pending)) {
		struct snapshot *t = *front;
		*front = w->back;
		w->back = t;
		w->ready = false;
		a->s = *front;
		/* Live, never sooner than the refresh itself took: at most half of leaktop's
		 * time goes to refreshing, however short -d (180k sockets take ~0.3 s). */
		a->next_refresh = now + (a->live && a->s->refresh_ms / 1000 > delay ? a->s->refresh_ms / 1000 : delay);
		swapped = true;
		if (w->cause && !a->status[0])
			msgview_status(a, true, "%s", w->cause);
		if (w->alerted && !w->from_seek && a->o->ring_bell)
			beep();
	}
	if (w->note) {
		msgview_status(a, true, "%s", w->note);
		free(w->note);
		w->note = NULL;
	}
	if (swapped)
		take_recorded(a, w);
	/* This refresh's alert transitions and verdict changes: news, each said once. */
	for (size_t i = 0; i < w->nnews; i++) {
		msgview_add(a, MSGLOG_EVENT, w->news[i]);
		free(w->news[i]);
	}
	w->nnews = 0;
	if (w->news_more) {
		char more[64];
		snprintf(more, sizeof(more), "and %zu more alerts and verdict changes", w->news_more);
		msgview_add(a, MSGLOG_EVENT, more);
		w->news_more = 0;
	}
	if (!a->live) {
		a->rpos = w->pos;
		a->rcount = w->count;
		a->t_first = w->t_first;
		a->t_last = w->t_last;
		if (w->ended && !a->paused) {
			a->paused = true;
			msgview_status(a, false, "end of the recording: [ and { go back, g goes to a time");
		}
		w->ended = false;
	}
	if (!a->paused && !w->ready && !w->busy && !w->want && !w->seek_req && now >= a->next_refresh) {
		w->want = true;
		pthread_cond_signal(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return swapped;
}

void worker_seek_request(struct worker *w, long index, bool by_time, double t)
{
	pthread_mutex_lock(&w->mu);
	w->seek_req = true;
	w->seek_by_time = by_time;
	w->seek_index = index;
	w->seek_time = t;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
}

void worker_lock(struct app *a)
{
	session_lock(a->w->ss);
	a->hist = session_history(a->w->ss);
	a->alerts = session_alerts(a->w->ss); /* a seek back replaces them, under this lock */
}

void worker_unlock(struct app *a)
{
	session_unlock(a->w->ss);
}
