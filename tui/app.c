/* The dashboard's loop: a worker thread takes refreshes into a back buffer while the
 * screen stays responsive; keys, signals and a hung-up terminal are handled here. */
#include "config.h"

#include "tui/tui.h"
#include "tui/act_ui.h"
#include "tui/actions.h"
#include "tui/keys.h"
#include "model/alert.h"
#include "model/history.h"
#include "model/snapshot.h"
#include "sources/replay.h"
#include "sources/source.h"
#include "tui/writers/record.h"

#include <curses.h>
#include <term.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* --- Signals and restoring the terminal --------------------------------------- */

static volatile sig_atomic_t stop_signal;
static struct termios saved_tty;
static bool have_saved_tty;
static char reset_seq[128];      /* rmcup, cnorm, sgr0: what a crash writes on its way out */
static size_t reset_len;
static bool curses_on;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* A crash: put the terminal back with async-signal-safe calls, then die as before. */
static void on_fatal(int sig)
{
	if (have_saved_tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	if (reset_len && write(STDOUT_FILENO, reset_seq, reset_len) < 0)
		reset_len = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

static void restore_terminal(void)
{
	if (curses_on && !isendwin())
		endwin();
	curses_on = false;
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

static void install_signals(void)
{
	static const int stops[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction sa = {.sa_handler = on_stop};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void add_reset(const char *cap)
{
	const char *s = tigetstr(cap);
	if (s && s != (char *)-1 && reset_len + strlen(s) < sizeof(reset_seq)) {
		memcpy(reset_seq + reset_len, s, strlen(s));
		reset_len += strlen(s);
	}
}

static _Noreturn void app_oom(void)
{
	restore_terminal();
	fputs("leaktop: out of memory\n", stderr);
	exit(1);
}

static int why_fail(char **why, int rc, const char *fmt, const char *arg)
{
	if (asprintf(why, fmt, arg) < 0)
		*why = NULL;
	return rc;
}

/* Can this terminal run the dashboard? A clear message instead of a curses error. */
static int check_terminal(char **why)
{
	const char *term = getenv("TERM");
	int err = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return why_fail(why, -ENOTTY, "%s", "the dashboard needs a terminal on standard input and output");
	if (!term || !*term)
		return why_fail(why, -EINVAL, "%s", "TERM is not set");
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return why_fail(why, -EINVAL, err == -1 ? "no terminfo database found for TERM=%s"
						     : "the terminal type '%s' is unknown", term);
	/* dumb and hardcopy terminals have no cursor addressing: nothing to draw with. */
	const char *cup = tigetstr("cup");
	bool ok = cup && cup != (char *)-1 && tigetflag("gn") != 1 && tigetflag("hc") != 1;
	if (ok) {
		add_reset("rmcup");
		add_reset("cnorm");
		add_reset("sgr0");
	}
	del_curterm(cur_term);
	return ok ? 0 : why_fail(why, -EINVAL, "the terminal type '%s' cannot move the cursor", term);
}

/* --- The refresh worker ------------------------------------------------------- */

/* The worker takes each refresh into the back buffer, records it, and feeds history
 * and alerts; in a replay it also seeks, rebuilding history up to the target. The
 * loop reads history and alerts only under hmu, which the worker holds just while
 * it updates them, so the screen stays responsive during a refresh or a seek. */
struct worker {
	pthread_t thread;
	pthread_mutex_t mu;      /* the fields below */
	pthread_cond_t cv;
	pthread_mutex_t hmu;     /* history and alerts */
	struct source *src;
	struct snapshot *back;   /* the worker's; swapped with the front when ready */
	struct record *rec;      /* the worker's only; closed after it stopped */
	struct history *h;
	struct alerts *al;
	const struct options *o;
	double rebuild_s;        /* history a seek rebuilds before its target */
	bool want, busy, ready, quit;
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
	int wake[2];             /* worker -> loop: a refresh is ready */
	/* Actions done since the last refresh, for the recording: the loop queues, the
	 * worker (whose the recording is) writes them before its next refresh. */
	struct {
		double time;
		int32_t pid;
		uint64_t start_time;
		char what[256], result[512];
	} evq[16];
	size_t nevq;
};

/* The action log's hook (loop side): queue the action for the worker. */
static void worker_queue_action(void *ctx, const struct action_event *ev)
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
		w->nevq++;
	}
	pthread_mutex_unlock(&w->mu);
}

/* Worker side: write the queued actions, tied to the refresh they were done on. */
static void worker_record_actions(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	for (size_t i = 0; i < w->nevq && w->rec; i++) {
		struct record_event ev = {
			.kind = EV_ACTION, .time = w->evq[i].time, .pid = w->evq[i].pid,
			.start_time = w->evq[i].start_time, .what = w->evq[i].what, .result = w->evq[i].result,
		};
		/* A failed event write is not worth stopping the recording for. */
		record_event(w->rec, &ev, NULL);
	}
	w->nevq = 0;
	pthread_mutex_unlock(&w->mu);
}

/* A message for the status line, from the worker. */
static void worker_note(struct worker *w, const char *fmt, const char *arg)
{
	pthread_mutex_lock(&w->mu);
	free(w->note);
	if (asprintf(&w->note, fmt, arg) < 0)
		w->note = NULL;
	pthread_mutex_unlock(&w->mu);
}

/* The alerts of this dashboard: --pid / --port filtered, and --alert-cmd's output
 * kept off the screen. */
static struct alerts *worker_alerts(const struct worker *w)
{
	struct alerts *al = alerts_new(&w->o->alert);
	if (al) {
		alerts_set_filter(al, &w->o->filter);
		alerts_set_dashboard(al, true);
	}
	return al;
}

/* History and alerts take one whole refresh (a partial one would read as sockets
 * closing); live, --alert-cmd runs once per transition. Returns whether an alert
 * fired. */
static bool worker_feed(struct worker *w, const struct snapshot *s)
{
	size_t n;
	bool fired = false;

	pthread_mutex_lock(&w->hmu);
	history_update(w->h, s); /* -ENOMEM leaves it usable, this refresh partly missing */
	if (alerts_update(w->al, s, w->h) > 0) {
		const struct alert *e = alerts_events(w->al, &n);
		for (size_t i = 0; i < n; i++) {
			char *cause = NULL;
			fired |= e[i].level != ALERT_CLEAR;
			if (w->src->live && w->o->alert_cmd[0] &&
			    alerts_run(w->al, w->o->alert_cmd, &e[i], &cause))
				worker_note(w, "%s", cause ? cause : "the alert program could not run");
			free(cause);
		}
	}
	alerts_reap(w->al, 0);
	pthread_mutex_unlock(&w->hmu);
	return fired;
}

/* One refresh: 0, 1 at the end of a recording, -errno (a partial refresh). */
static int worker_step(struct worker *w, bool *fired, char **cause)
{
	if (w->rec)
		worker_record_actions(w);
	int rc = source_next(w->src, w->back, cause);

	if (rc == 1)
		return 1;
	if (w->rec) {
		char *why = NULL;
		if (record_snapshot(w->rec, w->back, &why)) {
			record_close(w->rec);
			w->rec = NULL;
			worker_note(w, "%s; recording stopped", why ? why : "recording failed");
		}
		free(why);
	}
	if (rc == 0)
		*fired = worker_feed(w, w->back);
	return rc;
}

/* Forget history and alerts: a replay went back in time. */
static void worker_reset(struct worker *w)
{
	pthread_mutex_lock(&w->hmu);
	history_clear(w->h);
	struct alerts *al = worker_alerts(w);
	if (al) {
		alerts_free(w->al);
		w->al = al;
	}
	pthread_mutex_unlock(&w->hmu);
}

/* Deliver refresh `target` (or the one at time t). Steps forward from where the
 * replay is when that is close; else rebuilds history from rebuild_s before the
 * target, so a seek costs the same anywhere in a long recording. Returns 0, 1 at
 * the end, 2 when already there, or -errno. */
static int worker_seek(struct worker *w, long target, bool by_time, double t, char **cause)
{
	struct source *src = w->src;
	long n = (long)replay_count(src), pos = replay_pos(src);

	if (!n)
		return 1;
	if (by_time)
		target = replay_find_time(src, t);
	target = target < 0 ? 0 : target >= n ? n - 1 : target;
	if (target == pos)
		return 2;
	long start = replay_find_time(src, replay_time(src, target) - w->rebuild_s);
	if (target > pos && pos >= 0 && pos + 1 >= start) {
		start = pos + 1;
	} else {
		worker_reset(w);
		replay_seek(src, start);
	}
	for (long i = start; i <= target; i++) {
		int rc = source_next(src, w->back, cause);
		if (rc)
			return rc;
		worker_feed(w, w->back);
	}
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	sigset_t fatal;

	/* Other signals are the loop's; a crash here must still restore the terminal. */
	sigemptyset(&fatal);
	for (size_t i = 0; i < NFATAL; i++)
		sigaddset(&fatal, fatal_signals[i]);
	pthread_sigmask(SIG_UNBLOCK, &fatal, NULL);

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
		int rc = seek ? worker_seek(w, index, by_time, t, &cause) : worker_step(w, &fired, &cause);
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
		if (rc != 1 && rc != 2) {
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

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- Panes and selection --------------------------------------------------------- */

static const struct pane_ops *const pane_ops[PANE_COUNT] = {
	[PANE_PROCS] = &pane_procs_ops,
	[PANE_PORTS] = &pane_ports_ops,
	[PANE_BACKLOG] = &pane_backlog_ops,
	[PANE_SOCKS] = &pane_socks_ops,
};

int pane_grow(struct pane *p, size_t n)
{
	if (n <= p->cap)
		return 0;
	size_t cap = p->cap ? p->cap : 256;
	while (cap < n)
		cap *= 2;
	uint32_t *rows = realloc(p->rows, cap * sizeof(*rows));
	if (!rows)
		app_oom();
	p->rows = rows;
	p->cap = cap;
	return 0;
}

struct pane *app_pane(struct app *a)
{
	return a->drilled ? &a->panes[PANE_SOCKS] : &a->panes[a->focus];
}

static void pane_note_key(struct app *a, struct pane *p)
{
	p->have_key = a->s && p->sel < p->nrows;
	if (p->have_key)
		p->key = p->ops->key(a, p->rows[p->sel]);
}

/* Find the selected thing again after a rebuild; if it is gone, stay at the row. */
void pane_select_key(struct app *a, struct pane *p)
{
	if (p->have_key)
		for (size_t i = 0; i < p->nrows; i++) {
			struct row_key k = p->ops->key(a, p->rows[i]);
			if (k.a == p->key.a && k.b == p->key.b) {
				p->sel = i;
				return;
			}
		}
	if (p->sel >= p->nrows)
		p->sel = p->nrows ? p->nrows - 1 : 0;
	pane_note_key(a, p);
}

void app_rebuild(struct app *a)
{
	if (!a->s)
		return;
	a->ctx.s = a->s;
	a->ctx.bl = &a->bl;
	a->ctx.h = a->hist;
	a->ctx.ascii = a->ascii;
	if (view_backlog_build(&a->bl, a->s, &a->o->filter, &a->filter))
		app_oom();
	for (int i = 0; i < PANE_COUNT; i++) {
		struct pane *p = &a->panes[i];
		if (i == PANE_SOCKS && !a->drilled)
			continue;
		p->ops->build(a, p);
		pane_select_key(a, p);
	}
}

void app_message(struct app *a, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->status, sizeof(a->status), fmt, ap);
	va_end(ap);
	a->status_error = error;
}

static void move_sel(struct app *a, long delta)
{
	struct pane *p = app_pane(a);
	long n = (long)p->nrows, sel = (long)p->sel + delta;

	if (!n)
		return;
	if (sel < 0)
		sel = 0;
	if (sel >= n)
		sel = n - 1;
	p->sel = (size_t)sel;
	pane_note_key(a, p);
}

static long page_rows(struct app *a)
{
	struct pane *p = app_pane(a);
	return p->h > 2 ? p->h - 2 : 1;
}

/* --- Actions ----------------------------------------------------------------------- */

static void act_quit(struct app *a) { a->quit = true; }
static void act_help(struct app *a) { a->help = true; }
static void act_up(struct app *a) { move_sel(a, -1); }
static void act_down(struct app *a) { move_sel(a, 1); }
static void act_pgup(struct app *a) { move_sel(a, -page_rows(a)); }
static void act_pgdn(struct app *a) { move_sel(a, page_rows(a)); }
static void act_home(struct app *a) { move_sel(a, -(long)app_pane(a)->nrows); }
static void act_end(struct app *a) { move_sel(a, (long)app_pane(a)->nrows); }

static void focus(struct app *a, int pane)
{
	a->drilled = false;
	a->focus = pane;
}
static void act_next_pane(struct app *a) { focus(a, (a->focus + 1) % PANE_MAIN); }
static void act_pane1(struct app *a) { focus(a, PANE_PROCS); }
static void act_pane2(struct app *a) { focus(a, PANE_PORTS); }
static void act_pane3(struct app *a) { focus(a, PANE_BACKLOG); }

/* Next or previous column that is on screen. */
static void sort_step(struct app *a, int dir)
{
	struct pane *p = app_pane(a);
	int n = (int)view_tables[p->ops->table].ncols, c = p->sort;

	for (int i = 0; i < n; i++) {
		c = (c + dir + n) % n;
		if (p->shown[c] || !p->h)
			break;
	}
	p->sort = c;
	p->invert = false;
	app_rebuild(a);
	app_message(a, false, "sorted by %s", view_tables[p->ops->table].cols[c].title);
}
static void act_sort_next(struct app *a) { sort_step(a, 1); }
static void act_sort_prev(struct app *a) { sort_step(a, -1); }
static void act_invert(struct app *a)
{
	app_pane(a)->invert = !app_pane(a)->invert;
	app_rebuild(a);
}

static void start_prompt(struct app *a, enum prompt_kind k, const char *init)
{
	a->prompt = k;
	snprintf(a->input, sizeof(a->input), "%s", init);
	a->saved_sel = app_pane(a)->sel;
	a->status[0] = '\0';
}
static void act_search(struct app *a) { start_prompt(a, PROMPT_SEARCH, ""); }
static void act_filter(struct app *a) { start_prompt(a, PROMPT_FILTER, a->filter_text); }
static void act_delay(struct app *a)
{
	char d[32];
	snprintf(d, sizeof(d), "%g", a->delay);
	start_prompt(a, PROMPT_DELAY, d);
}

/* Select the first row from `from` on that matches the search. */
static bool search_from(struct app *a, size_t from)
{
	struct pane *p = app_pane(a);

	if (!a->s || !a->search.nterms)
		return false;
	for (size_t n = 0; n < p->nrows; n++) {
		size_t i = (from + n) % p->nrows;
		if (p->ops->match(a, p->rows[i], &a->search)) {
			p->sel = i;
			pane_note_key(a, p);
			return true;
		}
	}
	return false;
}
static void act_search_next(struct app *a)
{
	if (!search_from(a, app_pane(a)->sel + 1))
		app_message(a, false, "no match for '%s'", a->search_text);
}

static void act_pause(struct app *a)
{
	a->paused = !a->paused;
	if (!a->paused)
		a->next_refresh = 0;
	if (!a->live)
		app_message(a, false, "%s at x%g", a->paused ? "paused" : "playing", a->speed);
}

/* --- Replay controls: the worker seeks; the loop only asks. --------------------- */

static bool replay_only(struct app *a)
{
	if (a->live)
		app_message(a, false, "the time keys work on a recording: leaktop -r FILE");
	return !a->live;
}

static void seek_request(struct app *a, long index, bool by_time, double t)
{
	struct worker *w = a->w;

	pthread_mutex_lock(&w->mu);
	w->seek_req = true;
	w->seek_by_time = by_time;
	w->seek_index = index;
	w->seek_time = t;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	a->seeking = true;
	a->want_pos = index;
	a->paused = true; /* a step is a look: playing on would move away from it */
}

static void replay_step(struct app *a, long delta)
{
	if (!replay_only(a))
		return;
	long base = a->seeking ? a->want_pos : a->rpos;
	if (base + delta < 0 || base + delta >= a->rcount) {
		app_message(a, false, "%s of the recording", delta < 0 ? "at the start" : "at the end");
		if (base + delta >= a->rcount)
			seek_request(a, base + delta, false, 0); /* a writer may have added more */
		return;
	}
	seek_request(a, base + delta, false, 0);
}

static void replay_jump(struct app *a, double secs)
{
	if (replay_only(a) && a->s)
		seek_request(a, -1, true, a->s->time + secs);
}

static void act_step_back(struct app *a) { replay_step(a, -1); }
static void act_step_fwd(struct app *a) { replay_step(a, 1); }
static void act_minute_back(struct app *a) { replay_jump(a, -60); }
static void act_minute_fwd(struct app *a) { replay_jump(a, 60); }
static void act_goto(struct app *a)
{
	if (replay_only(a))
		start_prompt(a, PROMPT_GOTO, "");
}
static void replay_speed(struct app *a, double factor)
{
	if (!replay_only(a))
		return;
	a->speed *= factor;
	a->speed = a->speed < 0.25 ? 0.25 : a->speed > 64 ? 64 : a->speed;
	a->next_refresh = 0;
	app_message(a, false, "play speed x%g", a->speed);
}
static void act_faster(struct app *a) { replay_speed(a, 2); }
static void act_slower(struct app *a) { replay_speed(a, 0.5); }

static void act_enter(struct app *a)
{
	struct pane *p = app_pane(a);
	if (a->s && p->sel < p->nrows && p->ops->enter)
		p->ops->enter(a, p);
}

static void act_back(struct app *a)
{
	a->drilled = false;
	a->status[0] = '\0';
}

static void act_remote(struct app *a)
{
	a->remote_ports = !a->remote_ports;
	a->panes[PANE_PORTS].have_key = false;
	a->panes[PANE_PORTS].sel = 0;
	app_rebuild(a);
}

static void act_theme(struct app *a)
{
	char *names[64], *cause = NULL;
	size_t n = theme_names(names, 64), next = 0;

	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], a->theme.name))
			next = (i + 1) % n;
	if (n) {
		if (theme_load(&a->theme, names[next], &cause))
			app_message(a, true, "%s", cause ? cause : "theme failed; using default");
		else
			app_message(a, false, "theme %s", a->theme.name);
		if (!a->color)
			theme_strip_colors(&a->theme);
		draw_init_theme(a);
	}
	free(cause);
	theme_names_free(names, n);
}

static void act_redraw(struct app *a) { clearok(curscr, TRUE); }

/* Space tags in the processes pane (as in htop) and pauses elsewhere, and in a
 * replay (play or pause), where there is nothing to act on. */
static void act_tag(struct app *a)
{
	if (a->live && act_ui_tag(a))
		move_sel(a, 1);
	else
		act_pause(a);
}
static void act_untag(struct app *a) { act_ui_untag_all(a); }

static void (*const actions[ACT_COUNT])(struct app *) = {
	[ACT_QUIT] = act_quit, [ACT_HELP] = act_help, [ACT_UP] = act_up, [ACT_DOWN] = act_down,
	[ACT_PGUP] = act_pgup, [ACT_PGDN] = act_pgdn, [ACT_HOME] = act_home, [ACT_END] = act_end,
	[ACT_NEXT_PANE] = act_next_pane, [ACT_PANE1] = act_pane1, [ACT_PANE2] = act_pane2,
	[ACT_PANE3] = act_pane3, [ACT_SORT_NEXT] = act_sort_next, [ACT_SORT_PREV] = act_sort_prev,
	[ACT_INVERT] = act_invert, [ACT_SEARCH] = act_search, [ACT_SEARCH_NEXT] = act_search_next,
	[ACT_FILTER] = act_filter, [ACT_PAUSE] = act_pause, [ACT_DELAY] = act_delay, [ACT_ENTER] = act_enter,
	[ACT_BACK] = act_back, [ACT_REMOTE] = act_remote, [ACT_THEME] = act_theme, [ACT_REDRAW] = act_redraw,
	[ACT_TAG] = act_tag, [ACT_UNTAG] = act_untag, [ACT_DUMP] = act_ui_dump, [ACT_RESTART] = act_ui_restart,
	[ACT_SIGNAL] = act_ui_signal_menu, [ACT_MESSAGES] = act_ui_messages,
	[ACT_STEP_BACK] = act_step_back, [ACT_STEP_FWD] = act_step_fwd, [ACT_MINUTE_BACK] = act_minute_back,
	[ACT_MINUTE_FWD] = act_minute_fwd, [ACT_GOTO] = act_goto, [ACT_FASTER] = act_faster, [ACT_SLOWER] = act_slower,
};

/* --- Prompts, mouse, keys ----------------------------------------------------------- */

static void prompt_done(struct app *a, bool accept)
{
	enum prompt_kind k = a->prompt;
	char *cause = NULL;

	a->prompt = PROMPT_NONE;
	if (k == PROMPT_SEARCH && !accept) {
		app_pane(a)->sel = a->saved_sel;
		pane_note_key(a, app_pane(a));
	} else if (k == PROMPT_FILTER && accept) {
		struct view_query q;
		if (view_query_parse(&q, a->input, &cause)) {
			app_message(a, true, "filter: %s", cause ? cause : "invalid");
		} else {
			a->filter = q;
			snprintf(a->filter_text, sizeof(a->filter_text), "%s", a->input);
			app_rebuild(a);
		}
	} else if (k == PROMPT_DELAY && accept) {
		char *end;
		double d = strtod(a->input, &end);
		if (end == a->input || *end || !isfinite(d) || d < 0.1 || d > 86400) {
			app_message(a, true, "delay: '%s' is not a number of seconds from 0.1 to 86400", a->input);
		} else {
			a->delay = d;
			a->next_refresh = now_mono() + d;
		}
	} else if (k == PROMPT_GOTO && accept) {
		int secs;
		if (view_parse_clock(a->input, &secs) || !a->s)
			app_message(a, true, "go to: '%s' is not a time like 14:05:00", a->input);
		else
			/* The whole second: the refresh shown as HH:MM:SS is reached by typing it. */
			seek_request(a, -1, true, view_clock_time(a->s->time, secs, a->t_first, a->t_last) + 0.999);
	}
	free(cause);
}

static void prompt_key(struct app *a, int key)
{
	size_t len = strlen(a->input);

	if (key == 27) {
		prompt_done(a, false);
		return;
	}
	if (key == '\n' || key == '\r' || key == KEY_ENTER) {
		prompt_done(a, true);
		return;
	}
	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		if (len)
			a->input[len - 1] = '\0';
	} else if (key >= 32 && key < 127 && len + 1 < sizeof(a->input)) {
		a->input[len] = (char)key;
		a->input[len + 1] = '\0';
	} else {
		return;
	}
	if (a->prompt == PROMPT_SEARCH) {
		/* Incremental: jump to the first match as the text grows. */
		snprintf(a->search_text, sizeof(a->search_text), "%s", a->input);
		a->search.nterms = 0;
		if (a->input[0]) {
			a->search.nterms = 1;
			a->search.terms[0] = (struct view_term){.kind = VQ_TEXT};
			snprintf(a->search.terms[0].text, sizeof(a->search.terms[0].text), "%s", a->input);
			char *end;
			a->search.terms[0].num = strtol(a->input, &end, 10);
			if (*end)
				a->search.terms[0].num = -1;
			search_from(a, a->saved_sel);
		}
	}
}

static void mouse_event(struct app *a)
{
	MEVENT ev;

	if (getmouse(&ev) != OK || !(ev.bstate & (BUTTON1_CLICKED | BUTTON1_PRESSED)))
		return;
	for (int i = 0; i < PANE_COUNT; i++) {
		struct pane *p = &a->panes[i];
		if ((i == PANE_SOCKS) != a->drilled || !p->h || ev.y < p->y || ev.y >= p->y + p->h)
			continue;
		if (i != PANE_SOCKS)
			a->focus = i;
		if (ev.y == p->y) {
			/* A column header: sort by it, or invert when it already is the one. */
			for (size_t c = 0; c < view_tables[p->ops->table].ncols; c++)
				if (p->shown[c] && ev.x >= p->col_x[c] && ev.x < p->col_x[c] + p->col_w[c] + 1) {
					p->invert = p->sort == (int)c ? !p->invert : false;
					p->sort = (int)c;
					app_rebuild(a);
				}
		} else if (p->top + (size_t)(ev.y - p->y - 1) < p->nrows) {
			p->sel = p->top + (size_t)(ev.y - p->y - 1);
			pane_note_key(a, p);
		}
		return;
	}
}

static void handle_key(struct app *a, int key)
{
	if (key == KEY_RESIZE) {
		clearok(curscr, TRUE);
		return;
	}
	if (a->help) {
		a->help = false;
		return;
	}
	if (act_ui_key(a, key))
		return;
	if (a->prompt != PROMPT_NONE) {
		prompt_key(a, key);
		return;
	}
	if (key == KEY_MOUSE) {
		mouse_event(a);
		return;
	}
	enum tui_action act = keys_lookup(key);
	if (act != ACT_NONE && actions[act]) {
		if (act != ACT_SORT_NEXT && act != ACT_SORT_PREV)
			a->status[0] = '\0';
		actions[act](a);
	}
}

/* --- Setup and the loop ------------------------------------------------------------- */

static void setup_theme(struct app *a, const char *name)
{
	const char *nc = getenv("NO_COLOR");
	char *cause = NULL;

	a->color = !(nc && *nc) && has_colors();
	if (!a->color)
		name = "mono";
	if (theme_load(&a->theme, name, &cause))
		app_message(a, true, "%s; using the default theme", cause ? cause : "theme failed");
	free(cause);
	if (!a->color)
		theme_strip_colors(&a->theme);
	if (a->color) {
		start_color();
		use_default_colors();
	}
	draw_init_theme(a);
}

static int worker_start(struct app *a, struct worker *w, struct source *src, struct record *rec)
{
	const struct options *o = a->o;
	struct history_opts ho;
	sigset_t all, old;

	history_opts_default(&ho);
	ho.interval_s = a->delay;
	ho.window_s = o->growth_window_min * 60;
	w->o = o;
	w->src = src;
	w->rec = rec;
	/* A seek rebuilds the growth window (and a little): growth figures and verdicts
	 * as live, ages capped at it. 10k sockets, 2 s refreshes: 0.3-0.5 s a seek back. */
	w->rebuild_s = ho.window_s + 30;
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) || !(w->back = snapshot_new()) || !(w->h = history_new(&ho)) ||
	    !(w->al = worker_alerts(w)))
		return -ENOMEM;
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->hmu, NULL);
	pthread_cond_init(&w->cv, NULL);
	w->want = true; /* the first refresh, even for a replay that starts paused */
	/* Signals go to the loop, never to the worker. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	int rc = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	a->w = w;
	return -rc;
}

/* Stop the worker. Returns false when it is still inside a refresh: a refresh of a
 * busy host can take seconds, and leaktop must not wait for it to exit, so the
 * thread is left to end with the process (and what it uses is not freed). When
 * recording, it waits: the refresh under way is finished and committed, then the
 * recording is closed. */
static bool worker_stop(struct worker *w)
{
	pthread_mutex_lock(&w->mu);
	bool busy = w->busy && !w->rec;
	w->quit = true;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->mu);
	if (busy) {
		pthread_detach(w->thread);
		return false;
	}
	pthread_join(w->thread, NULL);
	record_close(w->rec);
	w->rec = NULL;
	snapshot_free(w->back);
	history_free(w->h);
	alerts_free(w->al);
	free(w->cause);
	free(w->note);
	close(w->wake[0]);
	close(w->wake[1]);
	return true;
}

/* Take a finished refresh (unless paused; a replay's seek always) and ask for the
 * next one when it is due. Called with hmu held. */
static bool worker_poll(struct app *a, struct snapshot **front)
{
	struct worker *w = a->w;
	bool swapped = false;
	double now = now_mono();
	double delay = a->live ? a->delay : a->delay / a->speed;

	pthread_mutex_lock(&w->mu);
	if (w->seek_done) {
		w->seek_done = false;
		a->seeking = w->seek_req;
	}
	if (w->ready && (!a->paused || w->from_seek || !a->s)) {
		struct snapshot *t = *front;
		*front = w->back;
		w->back = t;
		w->ready = false;
		a->s = *front;
		a->next_refresh = now + delay;
		swapped = true;
		if (w->cause && !a->status[0])
			app_message(a, true, "%s", w->cause);
		if (w->alerted && !w->from_seek && a->o->ring_bell)
			beep();
	}
	if (w->note) {
		app_message(a, true, "%s", w->note);
		free(w->note);
		w->note = NULL;
	}
	if (!a->live) {
		a->rpos = w->pos;
		a->rcount = w->count;
		a->t_first = w->t_first;
		a->t_last = w->t_last;
		if (w->ended && !a->paused) {
			a->paused = true;
			app_message(a, false, "end of the recording: [ and { go back, g goes to a time");
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

static void init_panes(struct app *a)
{
	for (int i = 0; i < PANE_COUNT; i++) {
		a->panes[i].ops = pane_ops[i];
		a->panes[i].sort = view_tables[pane_ops[i]->table].default_sort;
	}
}

/* History and alerts are the worker's: the loop reads them only between these. */
static void app_lock(struct app *a)
{
	pthread_mutex_lock(&a->w->hmu);
	a->hist = a->w->h;
	a->alerts = a->w->al; /* a seek back replaces them, under this lock */
}

static void app_unlock(struct app *a)
{
	pthread_mutex_unlock(&a->w->hmu);
}

int tui_preflight(void)
{
	char *cause = NULL;

	setlocale(LC_ALL, "");
	if (check_terminal(&cause)) {
		fprintf(stderr, "leaktop: %s.\nleaktop: use 'leaktop --batch' for plain text output "
				"(or set TERM, e.g. TERM=xterm).\n", cause ? cause : "no usable terminal");
		free(cause);
		return 2;
	}
	return 0;
}

int tui_run(const struct options *o, struct source *src, struct record *rec)
{
	static struct app app;
	struct app *a = &app;
	static struct worker w; /* static: a busy worker may outlive this frame */
	struct snapshot *front = NULL;
	int status = 0, idle_reads = 0;
	long refreshes = 0;

	setlocale(LC_ALL, "");
	install_signals();
	a->o = o;
	a->live = src->live;
	a->delay = o->delay > 0.1 ? o->delay : 0.1;
	a->speed = 1;
	if (!a->live) {
		/* A replay plays at the recorded pace, and starts paused at its first refresh. */
		const struct record_info *ri = replay_info(src);
		a->delay = ri->interval > 0.1 ? ri->interval : 0.1;
		a->paused = true;
		snprintf(a->rhost, sizeof(a->rhost), "%.63s", ri->host);
	}
	const char *cs = nl_langinfo(CODESET);
	a->ascii = o->ascii || !cs || strcmp(cs, "UTF-8");
	gethostname(a->host, sizeof(a->host) - 1);
	init_panes(a);
	if (!(front = snapshot_new()) || worker_start(a, &w, src, rec)) {
		fputs("leaktop: cannot start the refresh thread\n", stderr);
		record_close(rec);
		source_free(src);
		return 1;
	}

	have_saved_tty = tcgetattr(STDIN_FILENO, &saved_tty) == 0;
	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fputs("leaktop: cannot start the terminal; use 'leaktop --batch'\n", stderr);
		if (worker_stop(&w))
			source_free(src);
		return 2;
	}
	curses_on = true;
	atexit(restore_terminal);
	set_term(scr);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
	mouseinterval(0);
	setup_theme(a, o->theme ? o->theme : "default");
	if (act_ui_init(a))
		app_oom();
	if (rec)
		act_ui_set_hook(a, worker_queue_action, &w);

	while (!a->quit && !stop_signal) {
		app_lock(a);
		if (worker_poll(a, &front)) {
			app_rebuild(a);
			refreshes++;
		}
		draw_screen(a);
		app_unlock(a);
		if (o->iterations > 0 && refreshes >= o->iterations)
			break; /* -n N, as in top: N refreshes shown, then out */

		double wait = a->paused ? 1.0 : a->next_refresh - now_mono();
		if (wait > 1.0 || wait < 0)
			wait = wait < 0 ? 0.2 : 1.0;
		struct pollfd pf[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = w.wake[0], .events = POLLIN}};
		int n = poll(pf, 2, (int)(wait * 1000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		if (pf[1].revents & POLLIN) {
			char buf[64];
			while (read(w.wake[0], buf, sizeof(buf)) > 0)
				;
		}
		if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break; /* the terminal went away (ssh dropped, pane closed) */
		/* Keys, and a KEY_RESIZE that SIGWINCH left whenever it came. */
		int k, got = 0;
		app_lock(a);
		while ((k = getch()) != ERR) {
			handle_key(a, k);
			got++;
		}
		app_unlock(a);
		/* Readable but nothing to read, again and again: end of file. Never spin. */
		if (n > 0 && (pf[0].revents & POLLIN))
			idle_reads = got ? 0 : idle_reads + 1;
		if (idle_reads >= 3)
			break;
	}
	restore_terminal();
	delscreen(scr);
	if (stop_signal == SIGINT)
		status = 130;
	if (!worker_stop(&w)) {
		/* A refresh is still reading a slow /proc: leave it behind and exit now,
		 * without waiting for it or freeing what it still uses. */
		fflush(NULL);
		_exit(status);
	}
	source_free(src);
	snapshot_free(front);
	view_backlog_free(&a->bl);
	act_ui_free(a);
	for (int i = 0; i < PANE_COUNT; i++)
		free(a->panes[i].rows);
	return status;
}
