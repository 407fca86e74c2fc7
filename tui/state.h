/* The dashboard's state, shared by every tui/ module: the panes, the current snapshot,
 * prompts. Types only: each module's functions are in its own header (tui/app.c's,
 * for main.c, in tui/tui.h). No libmnl or libproc2 in here. */
#ifndef LEAKTOP_TUI_STATE_H
#define LEAKTOP_TUI_STATE_H

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
struct tags;
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
	/* Does row match a search term (bare text)? (The backlog orders a group's sockets
	 * as far as the row it looks at.) */
	bool (*match)(struct app *a, uint32_t row, const struct view_query *q);
	/* Rows [lo, hi) are about to be drawn: widen p->data_w to fit them (the
	 * sockets list, whose columns are as wide as the data). */
	void (*measure)(struct app *a, struct pane *p, size_t lo, size_t hi);
};

struct pane {
	const struct pane_ops *ops;
	uint32_t *rows;
	size_t nrows, cap;
	/* The drill-down's rows are put in order only as they are looked at (drawn,
	 * selected, searched: pane_order), as far as `order` says; the other panes'
	 * build sorts them all. */
	bool lazy;
	struct view_order order;
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
	/* History and alerts: the worker's, read under its lock (panes_rebuild, screen_draw). */
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
	struct tags *tags;             /* the tagged processes (tui/tags.c) */
	struct act_ui *act;            /* confirmation, the signal menu (tui/act_ui.c) */
	struct msgview *msgs;          /* the message view and the dump viewer (tui/msgview.c) */
	/* Draw the whole screen now (app.c sets it: screen_draw), for an action that blocks
	 * to show what it waits for first. */
	void (*redraw)(struct app *a);
};

#endif
