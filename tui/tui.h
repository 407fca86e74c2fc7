/* The dashboard's shared state: panes, the current snapshot, prompts. Only tui/
 * files include this; main.c calls tui_run. No libmnl or libproc2 in here. */
#ifndef LEAKTOP_TUI_H
#define LEAKTOP_TUI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/view.h"
#include "themes/theme.h"
#include "program/options.h"

struct snapshot;
struct source;
struct record;
struct history;
struct alerts;
struct worker;
struct app;
struct act_ui;
struct msgview;

/* What keeps a selection on the same thing across refreshes: pid + start time for a
 * process, inode (or cookie) for a socket, port + side + netns for a port. */
struct row_key {
	uint64_t a, b;
};

enum pane_id { PANE_PROCS, PANE_PORTS, PANE_BACKLOG, PANE_SOCKS, PANE_COUNT };
#define PANE_MAIN 3 /* the first three are switched with Tab or 1/2/3 */

/* A backlog row with this bit is a single socket (position in view_backlog.socks). */
#define ROW_SOCK 0x80000000u

struct pane;

struct pane_ops {
	enum view_table table;
	/* Fill p->rows from the snapshot: filtered and sorted. 0 or -ENOMEM. */
	int (*build)(struct app *a, struct pane *p);
	struct row_key (*key)(const struct app *a, uint32_t row);
	/* Theme role for one cell, or -1 for the row's normal look. */
	int (*cell_role)(const struct app *a, uint32_t row, int col);
	/* Draw row itself instead of by columns (the backlog's socket rows); returns
	 * false to draw by columns. */
	bool (*draw_row)(struct app *a, struct pane *p, int y, uint32_t row, int attr);
	/* Draw a column whose view_col has no fmt (the ports bar). */
	void (*draw_cell)(struct app *a, struct pane *p, int y, int x, int w, uint32_t row, int col, bool sel);
	/* The flexible column's title, when it says more than the table's. */
	void (*title)(const struct app *a, const struct pane *p, char *buf, size_t n);
	void (*enter)(struct app *a, struct pane *p);
	/* Does row match a search term (bare text)? */
	bool (*match)(const struct app *a, uint32_t row, const struct view_query *q);
};

struct pane {
	const struct pane_ops *ops;
	uint32_t *rows;
	size_t nrows, cap;
	size_t sel, top;
	int sort;
	bool invert;
	bool sort_chosen;             /* the user's sort; else leak and suspect rows come first */
	struct row_key key;       /* the selected row's key, to find it again */
	bool have_key;
	/* Where it was drawn last, for the mouse. */
	int y, h;
	int col_x[VIEW_MAX_COLS], col_w[VIEW_MAX_COLS];
	bool shown[VIEW_MAX_COLS];
	uint8_t want[VIEW_MAX_COLS];  /* enum view_want: the F2 column setup's choices */
	int data_w[VIEW_MAX_COLS];    /* widths the data needs (0: the table's) */
	int hscroll;                  /* columns scrolled off to the left (sockets list) */
	bool scrolls;                 /* wider than the screen: Left/Right scroll it */
};

enum prompt_kind { PROMPT_NONE, PROMPT_SEARCH, PROMPT_FILTER, PROMPT_DELAY, PROMPT_GOTO };

enum drill_kind { DRILL_PROC, DRILL_PORT };

struct drill {
	enum drill_kind kind;
	int32_t pid;
	uint64_t start_time;
	uint16_t port;
	uint8_t side;
	uint64_t netns;
	char title[300];
};

struct app {
	const struct options *o;
	struct worker *w;
	const struct snapshot *s;      /* NULL until the first refresh arrives */
	struct view_ctx ctx;
	struct view_backlog bl;
	struct view_query filter;
	char filter_text[128];
	struct view_query search;
	char search_text[128];
	struct pane panes[PANE_COUNT];
	int focus;                     /* PANE_PROCS .. PANE_BACKLOG */
	bool drilled;                  /* the sockets pane covers the others */
	struct drill drill;
	uint8_t port_sides;            /* enum view_port_sides: r cycles them */
	uint32_t ports_max;            /* the busiest port's count: the bars' scale */
	struct row_key expanded[32];   /* backlog groups shown socket by socket */
	size_t nexpanded;
	bool live;                     /* LIVE, or REPLAY from a recording */
	bool paused;                   /* a replay starts paused: Space plays it */
	/* History and alerts: the worker's, read under its lock (app_rebuild, draw). */
	const struct history *hist;
	const struct alerts *alerts;
	/* Replay: where it is (index of the refresh shown, of how many), the span of
	 * the recording, the play speed and a seek under way. */
	long rpos, rcount, want_pos;
	double t_first, t_last;
	double speed;
	bool seeking;
	char rhost[64];
	double delay;
	double next_refresh;           /* monotonic seconds */
	bool ascii;
	bool color;                    /* colours are in use (not NO_COLOR, terminal has them) */
	struct theme theme;
	char status[256];
	bool status_error;
	char host[64];
	enum prompt_kind prompt;
	char input[128];
	size_t saved_sel;              /* where a search started, for Esc */
	bool help;
	size_t help_top;               /* the help screen scrolls */
	size_t help_lines;             /* how many lines it has, wrapped as drawn last */
	bool setup;                    /* the F2 column setup is up (tui/colsetup.c) */
	size_t setup_sel;
	bool quit;
	struct act_ui *act;            /* tags, confirmation, the signal menu (tui/act_ui.c) */
	struct msgview *msgs;          /* the message view and the dump viewer (tui/msgview.c) */
};

/* Can this terminal run the dashboard? 0, or 2 after saying why on stderr. */
int tui_preflight(void);

/* Run the dashboard on src (live or a replay), recording every refresh to rec when
 * it is not NULL, until the user quits or a signal arrives. Takes src and rec: both
 * are closed on the way out. Returns the exit status. */
int tui_run(const struct options *o, struct source *src, struct record *rec);

/* app.c: the loop. */
double app_now(void);                  /* monotonic seconds */

/* term.c: the terminal and signals. */
extern volatile sig_atomic_t term_stop_signal; /* SIGINT, SIGTERM, SIGHUP or SIGQUIT came */
void term_install_signals(void);
void term_thread_signals(void);        /* a thread: unblock the crash signals (restore first) */
void term_save(void);                  /* keep the tty settings a crash restores */
void term_started(void);               /* curses is on: restore it on exit */
void term_restore(void);
_Noreturn void app_oom(void);          /* restores the terminal, says so, exits 1 */

/* worker.c: the refresh worker. worker_start takes rec (closed on failure too) and
 * returns NULL when it cannot start. */
struct action_event;
struct worker *worker_start(struct app *a, struct source *src, struct record *rec);
/* Stop it. Returns false when it is still inside a refresh: a refresh of a busy host
 * can take seconds, and leaktop must not wait for it to exit, so the thread is left to
 * end with the process (and what it uses is not freed). When recording, it waits: the
 * refresh under way is finished and committed, then the recording is closed. */
bool worker_stop(struct worker *w);
int worker_wake_fd(const struct worker *w);   /* readable when a refresh is ready */
/* Take a finished refresh into *front (unless paused; a replay's seek always) and ask
 * for the next one when it is due. Called between worker_lock and worker_unlock. */
bool worker_poll(struct app *a, struct snapshot **front);
/* A replay seek: to refresh index, or (by_time) to the last one at or before t. */
void worker_seek_request(struct worker *w, long index, bool by_time, double t);
/* The action log's hook: queue an action for the recording (ctx is the worker). */
void worker_queue_action(void *ctx, const struct action_event *ev);
/* History and alerts are the worker's: the loop reads them (a->hist, a->alerts) only
 * between these. */
void worker_lock(struct app *a);
void worker_unlock(struct app *a);

/* panes.c: pane plumbing. */
void panes_init(struct app *a);
void app_rebuild(struct app *a);
void app_message(struct app *a, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
struct pane *app_pane(struct app *a);  /* the focused (or drill-down) pane */
void pane_note_key(struct app *a, struct pane *p); /* remember the selected row's key */
void pane_select_key(struct app *a, struct pane *p);
int pane_grow(struct pane *p, size_t n);

/* input.c: one key (or KEY_RESIZE, KEY_MOUSE) from the terminal. */
void input_key(struct app *a, int key);

/* draw.c */
void draw_init_theme(struct app *a);
int draw_attr(const struct app *a, int role);
void draw_screen(struct app *a);
/* Text clipped (by display width) to w columns, padded with spaces; right-aligned
 * when right. Control characters never reach the terminal. */
void draw_text(int y, int x, int w, const char *s, int attr, bool right);
const char *draw_block(const struct app *a);

/* colsetup.c: F2, which columns of the focused pane show and which sorts. */
void colsetup_open(struct app *a);
bool colsetup_key(struct app *a, int key);  /* true while it is up and took the key */
void colsetup_draw(struct app *a);
/* The config file's tui.<pane>.columns and tui.<pane>.sort, applied to the panes. */
void colsetup_apply_conf(struct app *a);
/* A column's want and sort as the conf value: "+RSS -LIMIT", "RSS invert". */
void colsetup_conf_value(const struct pane *p, bool sort, char *buf, size_t n);
/* Parse them back (unknown titles are skipped): the pane's want[] and sort. */
void colsetup_parse(struct pane *p, const char *columns, const char *sort);

/* The full text of something cut on screen (an alert, a reason, a status) goes to
 * the message view once: said again while it is there, it is only counted (m shows
 * it): panes.c. News (a transition: fired, cleared, judged) goes there with
 * msgview_add(a, MSGLOG_EVENT, text) instead, each time it happens. */
void app_note(struct app *a, const char *text);

/* The panes. */
extern const struct pane_ops pane_procs_ops, pane_ports_ops, pane_backlog_ops, pane_socks_ops;
/* Without colour the bars are letters: "States: W=CLOSE_WAIT ..." for the footer. */
void pane_ports_legend(const struct app *a, char *buf, size_t n);
/* Drill down into the sockets of a process or a port. */
void pane_socks_open(struct app *a, const struct drill *d);

#endif
