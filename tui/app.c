/* The dashboard's loop: set up the terminal and the theme, start the refresh worker,
 * then draw, wait for a key or a refresh, and handle it, until told to stop. */
#include "config.h"

#include "tui/tui.h"
#include "tui/act_ui.h"
#include "tui/colsetup.h"
#include "tui/draw.h"
#include "tui/input.h"
#include "tui/msgview.h"
#include "tui/pane_backlog.h"
#include "tui/pane_ports.h"
#include "tui/pane_procs.h"
#include "tui/pane_socks.h"
#include "tui/panes.h"
#include "tui/screen.h"
#include "tui/state.h"
#include "tui/tags.h"
#include "tui/term.h"
#include "tui/worker.h"
#include "model/snapshot.h"
#include "recording/replay.h"
#include "sources/source.h"
#include "recording/record.h"

#include <curses.h>
#include <errno.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int tui_preflight(void)
{
	char *cause = NULL;

	setlocale(LC_ALL, "");
	if (term_check(&cause)) {
		fprintf(stderr, "leaktop: %s.\nleaktop: use 'leaktop --batch' for plain text output "
				"(or set TERM, e.g. TERM=xterm).\n", cause ? cause : "no usable terminal");
		free(cause);
		return 2;
	}
	return 0;
}

static const struct pane_ops *const pane_ops[PANE_COUNT] = {
	[PANE_PROCS] = &pane_procs_ops,
	[PANE_PORTS] = &pane_ports_ops,
	[PANE_BACKLOG] = &pane_backlog_ops,
	[PANE_SOCKS] = &pane_socks_ops,
};

/* Every pane its table and the table's default sort. */
static void setup_panes(struct app *a)
{
	for (int i = 0; i < PANE_COUNT; i++) {
		a->panes[i].ops = pane_ops[i];
		a->panes[i].sort = view_tables[pane_ops[i]->table].default_sort;
	}
}

static void setup_theme(struct app *a, const char *name)
{
	const char *nc = getenv("NO_COLOR");
	char *cause = NULL;

	a->color = !(nc && *nc) && has_colors();
	if (!a->color)
		name = "mono";
	if (theme_load(&a->theme, name, &cause))
		msgview_status(a, true, "%s; using the default theme", cause ? cause : "theme failed");
	free(cause);
	if (!a->color)
		theme_strip_colors(&a->theme);
	if (a->color) {
		start_color();
		use_default_colors();
	}
	draw_init_theme(a);
}

/* Home and End as terminals send them whatever terminfo says (tmux, PuTTY, xterm in
 * either cursor mode): without these, ESC [ 1 ~ reads as Esc, then '['. */
static void define_keys(void)
{
	static const struct {
		const char *seq;
		int key;
	} seqs[] = {
		{"\033[1~", KEY_HOME}, {"\033[7~", KEY_HOME}, {"\033[H", KEY_HOME}, {"\033OH", KEY_HOME},
		{"\033[4~", KEY_END},  {"\033[8~", KEY_END},  {"\033[F", KEY_END},  {"\033OF", KEY_END},
	};
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
		if (key_defined(seqs[i].seq) <= 0)
			define_key(seqs[i].seq, seqs[i].key);
}

/* When this process started, on term_now's clock: the first frames' LEAKTOP_TIMING
 * lines count from launch, as a person sees them (to the kernel's 10 ms tick). */
static double launch_time(void)
{
	struct timespec boot;
	char buf[1024];
	unsigned long long start = 0;
	double now = term_now();
	FILE *f = fopen("/proc/self/stat", "re");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	/* Field 22 (starttime), counted after the command's closing parenthesis. */
	const char *p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &start) != 1 || clock_gettime(CLOCK_BOOTTIME, &boot))
		return now;
	double age = (double)boot.tv_sec + (double)boot.tv_nsec / 1e9 - (double)start / (double)sysconf(_SC_CLK_TCK);
	return age > 0 ? now - age : now;
}

int tui_run(const struct options *o, struct source *src, struct record *rec)
{
	static struct app app;
	struct app *a = &app;
	struct worker *w;
	struct snapshot *front = NULL;
	int status = 0, idle_reads = 0;
	long refreshes = 0;
	/* LEAKTOP_TIMING: how long each key took to reach the screen, and where the time
	 * went on this thread (waiting for the session's lock, rebuilding the panes); and
	 * what each refresh shown cost this thread, which a key arriving meanwhile waits
	 * for before it is even read. */
	bool timing = getenv("LEAKTOP_TIMING") != NULL;
	double t_key = -1, t_wait = 0, t_rebuild = 0, t_launch = timing ? launch_time() : 0;
	bool drawn_first = false, drawn_owners = false;

	setlocale(LC_ALL, "");
	term_install_signals();
	a->o = o;
	a->redraw = screen_draw;
	a->live = src->live;
	a->delay = o->delay > OPTIONS_TUI_MIN_DELAY ? o->delay : OPTIONS_TUI_MIN_DELAY;
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
	setup_panes(a);
	colsetup_apply_conf(a);
	if (!(front = snapshot_new())) {
		record_close(rec);
		rec = NULL;
	}
	if (!front || !(w = worker_start(a, src, rec))) { /* it takes rec */
		fputs("leaktop: cannot start the refresh thread\n", stderr);
		snapshot_free(front);
		source_free(src);
		return 1;
	}

	term_save();
	SCREEN *scr = newterm(NULL, stdout, stdin);
	if (!scr) {
		fputs("leaktop: cannot start the terminal; use 'leaktop --batch'\n", stderr);
		if (worker_stop(w))
			source_free(src);
		return 2;
	}
	term_started();
	set_term(scr);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	define_keys();
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	mousemask(BUTTON1_CLICKED | BUTTON1_PRESSED, NULL);
	mouseinterval(0);
	setup_theme(a, o->theme ? o->theme : "default");
	if (msgview_init(a) || tags_init(a) || act_ui_init(a))
		term_oom();
	if (rec)
		act_ui_set_hook(a, worker_queue_action, w);

	while (!a->quit && !term_stop_signal) {
		double t0 = timing ? term_now() : 0;
		worker_lock(a);
		double t1 = timing ? term_now() : 0, t2 = t1;
		bool shown = worker_poll(a, &front);
		if (shown) {
			panes_rebuild(a);
			refreshes += !a->s->owners_pending; /* the preview is no refresh */
			t2 = timing ? term_now() : 0;
		}
		screen_draw(a);
		worker_unlock(a);
		if (timing && a->s && (!drawn_first || (!drawn_owners && !a->s->owners_pending))) {
			fprintf(stderr, "leaktop: %s drawn %.1f ms from launch (panes rebuilt %.1f ms)\n",
				a->s->owners_pending ? "first frame (owners pending)" : drawn_first ? "owners" :
				"first frame, with owners", (term_now() - t_launch) * 1e3, (t2 - t1) * 1e3);
			drawn_first = true;
			drawn_owners = !a->s->owners_pending;
		}
		if (timing && shown)
			fprintf(stderr, "leaktop: refresh on screen: panes rebuilt %.1f ms, drawn %.1f ms\n", (t2 - t1) * 1e3,
				(term_now() - t2) * 1e3);
		if (timing && t_key >= 0) {
			fprintf(stderr, "leaktop: key to screen %.1f ms: lock waits %.1f ms, panes rebuilt %.1f ms\n",
				(term_now() - t_key) * 1e3, (t_wait + t1 - t0) * 1e3, (t_rebuild + t2 - t1) * 1e3);
			t_key = -1;
		}
		if (o->iterations > 0 && refreshes >= o->iterations)
			break; /* -n N, as in top: N refreshes shown, then out */

		double wait = a->paused ? 1.0 : a->next_refresh - term_now();
		if (wait > 1.0 || wait < 0)
			wait = wait < 0 ? 0.2 : 1.0;
		struct pollfd pf[2] = {{.fd = STDIN_FILENO, .events = POLLIN}, {.fd = worker_wake_fd(w), .events = POLLIN}};
		int n = poll(pf, 2, (int)(wait * 1000) + 1);
		if (n < 0 && errno != EINTR)
			break;
		if (pf[1].revents & POLLIN) {
			char buf[64];
			while (read(worker_wake_fd(w), buf, sizeof(buf)) > 0)
				;
		}
		if (pf[0].revents & (POLLHUP | POLLERR | POLLNVAL))
			break; /* the terminal went away (ssh dropped, pane closed) */
		/* Keys, and a KEY_RESIZE that SIGWINCH left whenever it came. */
		int k, got = 0;
		double tk = timing ? term_now() : 0;
		worker_lock(a);
		double tl = timing ? term_now() : 0;
		while ((k = getch()) != ERR) {
			input_key(a, k);
			got++;
		}
		worker_unlock(a);
		if (timing && got) { /* the keys' own rebuilds count as rebuilding */
			t_key = tk;
			t_wait = tl - tk;
			t_rebuild = term_now() - tl;
		}
		/* Readable but nothing to read, again and again: end of file. Never spin. */
		if (n > 0 && (pf[0].revents & POLLIN))
			idle_reads = got ? 0 : idle_reads + 1;
		if (idle_reads >= 3)
			break;
	}
	term_restore();
	delscreen(scr);
	if (term_stop_signal == SIGINT)
		status = 130;
	if (!worker_stop(w)) {
		/* A refresh is still reading a slow /proc: leave it behind and exit now,
		 * without waiting for it or freeing what it still uses. */
		fflush(NULL);
		_exit(status);
	}
	source_free(src);
	snapshot_free(front);
	view_backlog_free(&a->bl);
	act_ui_free(a);
	tags_free(a);
	msgview_free(a);
	for (int i = 0; i < PANE_COUNT; i++)
		free(a->panes[i].rows);
	return status;
}
