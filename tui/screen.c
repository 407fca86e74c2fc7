/* The screen: the header, the panes as tables, the footer and the help screen, and
 * what is up over them (F2, a dialog, the message view), drawn once per loop pass. */
#include "config.h"

#include "tui/screen.h"
#include "tui/act_ui.h"
#include "tui/colsetup.h"
#include "tui/draw.h"
#include "tui/keys.h"
#include "tui/msgview.h"
#include "tui/pane_ports.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "tui/tags.h"
#include "tui/wrap.h"
#include "model/alert.h"
#include "model/history.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

/* --- The header ------------------------------------------------------------ */

/* What fires now: the most severe first. */
static const struct alert *top_alert(const struct app *a, size_t *n)
{
	const struct alert *al = a->alerts ? alerts_active(a->alerts, n) : NULL, *top = NULL;

	if (!al)
		*n = 0;
	for (size_t i = 0; i < *n; i++)
		if (!top || al[i].level > top->level)
			top = &al[i];
	return top;
}

/* Three summary lines, and a fourth for alerts while any fires. */
static int header_lines(const struct app *a)
{
	size_t n;
	if (LINES < 12)
		return 1;
	return LINES >= 16 && top_alert(a, &n) ? 4 : 3;
}

static void draw_alert_line(struct app *a, int y)
{
	size_t n;
	const struct alert *top = top_alert(a, &n);
	char line[400];

	if (!top)
		return;
	/* The count first: the message is what gives way at 80 columns. */
	if (n > 1)
		snprintf(line, sizeof(line), "ALERT %s (+%zu more, m): %s", alert_level_name(top->level), n - 1,
			 top->message);
	else
		snprintf(line, sizeof(line), "ALERT %s: %s", alert_level_name(top->level), top->message);
	draw_text(y, 0, COLS, line, draw_attr(a, top->level == ALERT_CRITICAL ? TH_CRITICAL : TH_WARNING) | A_BOLD,
		  false);
	/* The message view has each alert once, whole, as it fired and cleared (the
	 * worker's news), not again on every frame. */
}

/* Sockets per state in one line, each state in its colour: full names when they
 * fit, the legend letters when not. */
static void draw_states(struct app *a, int y)
{
	const struct snapshot *s = a->s;
	char buf[64];
	int len, x;

	for (int abbrev = 0; abbrev < 2; abbrev++) {
		len = snprintf(buf, sizeof(buf), "TCP %u:", s ? s->totals.sockets : 0);
		for (unsigned st = 1; s && st < ST_COUNT; st++)
			if (s->totals.states[st])
				len += snprintf(buf, sizeof(buf), " %s %u", abbrev ? sk_state_abbrev(st) : sk_state_name(st),
						s->totals.states[st]);
		if (len <= COLS || abbrev) {
			x = snprintf(buf, sizeof(buf), "TCP %u:", s ? s->totals.sockets : 0);
			draw_text(y, 0, COLS, buf, draw_attr(a, TH_HEADER), false);
			for (unsigned st = 1; s && st < ST_COUNT && x < COLS; st++) {
				if (!s->totals.states[st])
					continue;
				const char *name = abbrev ? sk_state_abbrev(st) : sk_state_name(st);
				draw_text(y, x + 1, (int)strlen(name), name, draw_attr(a, TH_STATE + (int)st), false);
				x += 1 + (int)strlen(name);
				int n = snprintf(buf, sizeof(buf), " %u", s->totals.states[st]);
				draw_text(y, x, n, buf, draw_attr(a, TH_HEADER), false);
				x += n;
			}
			return;
		}
	}
}

static void draw_header(struct app *a)
{
	const struct snapshot *s = a->s;
	char line[512], when[32] = "--:--:--";
	int x;

	if (s)
		text_time(when, sizeof(when), "%H:%M:%S", s->time);
	if (a->live) {
		snprintf(line, sizeof(line), "leaktop - %s %s  every %gs  ", a->host, when, a->delay);
	} else if (s) {
		/* A recording: its host, and the date too: the next shift reads it days later. */
		text_time(when, sizeof(when), "%Y-%m-%d %H:%M:%S", s->time);
		snprintf(line, sizeof(line), "leaktop - %s %s  ", a->rhost, when);
	} else {
		snprintf(line, sizeof(line), "leaktop - %s  ", a->rhost);
	}
	draw_text(0, 0, COLS, line, draw_attr(a, TH_HEADER), false);
	x = (int)strlen(line);
	draw_text(0, x, 6, a->live ? "LIVE" : "REPLAY", draw_attr(a, a->live ? TH_LIVE : TH_REPLAY), false);
	x += 7;
	if (!a->live) {
		snprintf(line, sizeof(line), "%ld/%ld x%g %s", a->rpos + 1, a->rcount, a->speed,
			 a->seeking ? "seeking" : a->paused ? "paused" : "playing");
		draw_text(0, x, COLS - x, line, draw_attr(a, TH_HEADER), false);
		x += (int)strlen(line) + 1;
	} else if (a->paused) {
		draw_text(0, x, 6, "PAUSED", draw_attr(a, TH_WARNING), false);
		x += 7;
	}
	if (s && x < COLS) {
		snprintf(line, sizeof(line), "refresh %.0f ms", s->refresh_ms);
		draw_text(0, x, COLS - x, line, draw_attr(a, TH_HEADER), false);
	}
	if (header_lines(a) < 3)
		return;

	draw_states(a, 1);

	int len = 0;
	if (s && s->owners_pending) {
		/* The first frame: the dump is in, the processes are still being read. */
		len = snprintf(line, sizeof(line), "Files -  Procs -  owners: reading");
	} else if (s) {
		const struct totals *t = &s->totals;
		len = snprintf(line, sizeof(line), "Files %llu/%llu  Procs %u", (unsigned long long)t->file_alloc,
			       (unsigned long long)t->file_max, t->procs);
		if (t->unreadable)
			len += snprintf(line + len, sizeof(line) - (size_t)len, " (%u unreadable: not root)", t->unreadable);
		len += snprintf(line + len, sizeof(line) - (size_t)len, "  Unowned %u", t->unowned);
	}
	if (a->filter_text[0])
		snprintf(line + len, sizeof(line) - (size_t)len, "  Filter: %s", a->filter_text);
	draw_text(2, 0, COLS, s || a->filter_text[0] ? line : "reading sockets and processes...",
		  draw_attr(a, TH_HEADER), false);
	if (header_lines(a) > 3)
		draw_alert_line(a, 3);
}

/* The verdict of the selected process (or port), when it is not ok: the reason
 * behind the VERDICT column. Returns false when there is none. */
static bool selected_reason(struct app *a, char *buf, size_t n, int *role)
{
	const struct pane *p = &a->panes[a->drilled ? PANE_SOCKS : a->focus];
	const struct history_stats *st = NULL;
	char who[64] = "";

	if (!a->s || !a->hist)
		return false;
	if (a->drilled && a->drill.kind == DRILL_PROC) {
		const struct proc_rec *r = snapshot_find_proc(a->s, a->drill.pid);
		st = r && r->start_time == a->drill.start_time ? history_proc(a->hist, r->pid, r->start_time) : NULL;
		snprintf(who, sizeof(who), "pid %d", a->drill.pid);
	} else if (a->drilled) {
		st = history_port(a->hist, a->drill.netns, a->drill.port, a->drill.side);
		snprintf(who, sizeof(who), "port %u", a->drill.port);
	} else if (a->focus == PANE_PROCS && p->sel < p->nrows) {
		const struct proc_rec *r = &a->s->procs[p->rows[p->sel]];
		st = history_proc(a->hist, r->pid, r->start_time);
		snprintf(who, sizeof(who), "pid %d %.16s", r->pid, r->comm);
	} else if (a->focus == PANE_PORTS && p->sel < p->nrows) {
		const struct port_agg *g = &a->s->ports[p->rows[p->sel]];
		st = history_port(a->hist, g->netns, g->port, g->side);
		snprintf(who, sizeof(who), "port %u", g->port);
	}
	if (!st || st->verdict == VERDICT_OK)
		return false;
	snprintf(buf, n, "%s %s: %s", leak_verdict_name(st->verdict), who, st->reason);
	*role = st->verdict == VERDICT_LEAK ? TH_CRITICAL : TH_WARNING;
	return true;
}

/* --- Tables ------------------------------------------------------------------ */

/* A pane wider than the screen: hide the first hscroll columns, so that Right shows
 * what is off to the right, and note whether there is more. */
static void scroll_columns(struct pane *p, const struct view_table_def *t, const int *widths)
{
	int total = -1, nshown = 0, skipped = 0;

	for (size_t c = 0; c < t->ncols; c++)
		if (p->shown[c])
			total += widths[c] + 1, nshown++;
	if (p->hscroll >= nshown)
		p->hscroll = nshown ? nshown - 1 : 0;
	/* No further than the point where the last column is on screen. */
	for (size_t c = 0; c < t->ncols && total > COLS && skipped < p->hscroll; c++)
		if (p->shown[c]) {
			p->shown[c] = false;
			total -= widths[c] + 1;
			skipped++;
		}
	p->hscroll = skipped;
	p->scrolls = total > COLS;
}

/* "+12 more" on the header line, at the right of the flexible column's title: rows
 * below what the pane shows. Where the title leaves no room for it, "+12". */
static void draw_more(struct app *a, const struct pane *p, const struct view_table_def *t, int y, int title_w,
		      size_t more, bool focused)
{
	char mark[32];

	for (size_t c = 0; c < t->ncols; c++) {
		if (!t->cols[c].flex || !p->shown[c])
			continue;
		/* What shows of the column: a sockets list runs off the screen's edge. */
		int w = p->col_x[c] + p->col_w[c] > COLS ? COLS - p->col_x[c] : p->col_w[c];
		int len = snprintf(mark, sizeof(mark), " +%zu more", more);
		if (title_w + len > w)
			len = snprintf(mark, sizeof(mark), " +%zu", more);
		int x = p->col_x[c] + (w < len ? len : w) - len;
		if (x + len > COLS)
			x = COLS - len;
		draw_text(y, x < 0 ? 0 : x, len, mark, draw_attr(a, focused ? TH_COLHEAD : TH_DIMSEL) | (int)A_BOLD,
			  false);
		return;
	}
}

static void draw_table(struct app *a, struct pane *p, int y, int h, bool focused)
{
	const struct view_table_def *t = &view_tables[p->ops->table];
	int widths[VIEW_MAX_COLS], x = 0;
	char buf[512];

	p->y = y;
	p->h = h;
	if (h <= 0)
		return;
	/* Keep the selection on screen; a pane not focused shows its top rows (the
	 * culprits, by default), wherever its selection is. */
	int rows = h - 1;
	if (p->sel >= p->nrows)
		p->sel = p->nrows ? p->nrows - 1 : 0;
	if (!focused)
		p->top = 0;
	else if (p->sel < p->top)
		p->top = p->sel;
	if (focused && rows > 0 && p->sel >= p->top + (size_t)rows)
		p->top = p->sel - (size_t)rows + 1;
	/* The rows shown in their places, and measured where the data sets the widths. */
	if (rows > 0 && a->s) {
		pane_order(a, p, p->top, p->top + (size_t)rows);
		if (p->ops->measure)
			p->ops->measure(a, p, p->top, p->top + (size_t)rows);
	}
	/* The sockets list scrolls sideways; the other panes drop columns to fit. */
	bool scroll = p == &a->panes[PANE_SOCKS];
	view_layout_want(p->ops->table, scroll ? -1 : COLS, p->want, scroll ? p->data_w : NULL, p->shown, widths);
	if (scroll)
		scroll_columns(p, t, widths);
	/* The column headers; the sorted one stands out. */
	int flex_title_w = 0;
	move(y, 0);
	attrset(draw_attr(a, focused ? TH_COLHEAD : TH_DIMSEL));
	hline(' ', COLS);
	for (size_t c = 0; c < t->ncols; c++) {
		p->col_w[c] = p->shown[c] ? widths[c] : 0;
		p->col_x[c] = x;
		if (!p->shown[c])
			continue;
		const char *title = t->cols[c].title;
		if (t->cols[c].flex && p->ops->title && a->s) {
			p->ops->title(a, p, buf, sizeof(buf));
			title = buf;
		}
		bool sorted = (int)c == p->sort;
		char tb[520];
		snprintf(tb, sizeof(tb), "%s%s", title, sorted ? (p->invert ? "^" : "") : "");
		if (t->cols[c].flex)
			flex_title_w = wrap_width(tb, strlen(tb));
		draw_text(y, x, widths[c], tb, draw_attr(a, sorted ? TH_SORTED : focused ? TH_COLHEAD : TH_DIMSEL),
			  !t->cols[c].left);
		x += widths[c] + 1;
	}
	if (rows > 0 && a->s && p->top + (size_t)rows < p->nrows)
		draw_more(a, p, t, y, flex_title_w, p->nrows - p->top - (size_t)rows, focused);
	for (int r = 0; r < rows; r++) {
		size_t i = p->top + (size_t)r;
		int yy = y + 1 + r;
		if (!a->s || i >= p->nrows) {
			if (!a->s || i > 0 || r > 0)
				continue;
			draw_text(yy, 0, COLS, a->s->owners_pending ? "  (owners: reading)" :
				  a->filter_text[0] ? "  (nothing matches the filter)" : "  (none)", A_NORMAL, false);
			continue;
		}
		uint32_t row = p->rows[i];
		bool sel = i == p->sel;
		int rattr = sel ? draw_attr(a, focused ? TH_SELECTED : TH_DIMSEL) : draw_attr(a, TH_NORMAL);
		if (sel) {
			move(yy, 0);
			attrset(rattr);
			hline(' ', COLS);
		}
		if (p->ops->draw_row && p->ops->draw_row(a, p, yy, row, rattr))
			continue;
		/* Tagged processes: bold, and a '*' in the first column, for terminals
		 * without colour or bold. */
		bool tagged = p == &a->panes[PANE_PROCS] && tags_has(a, &a->s->procs[row]);
		if (tagged)
			rattr |= A_BOLD;
		for (size_t c = 0; c < t->ncols; c++) {
			if (!p->shown[c])
				continue;
			if (!t->cols[c].fmt) {
				p->ops->draw_cell(a, p, yy, p->col_x[c], widths[c], row, (int)c, sel && focused);
				continue;
			}
			t->cols[c].fmt(&a->ctx, row, buf, sizeof(buf));
			int role = sel ? -1 : p->ops->cell_role ? p->ops->cell_role(a, row, (int)c) : -1;
			draw_text(yy, p->col_x[c], widths[c], buf, role >= 0 ? draw_attr(a, role) : rattr, !t->cols[c].left);
			if (sel && p->col_x[c] + widths[c] < COLS)
				draw_text(yy, p->col_x[c] + widths[c], 1, " ", rattr, false);
		}
		if (tagged)
			draw_text(yy, 0, 1, "*", rattr, false);
	}
}

/* --- Footer, key bar, help ------------------------------------------------------- */

/* The bottom line, as in htop: F1Help F2Setup ... F10Quit; a replay's time keys. */
static void draw_keybar(struct app *a, int y)
{
	const struct key_hint *bar = a->live ? keys_bar_live : keys_bar_replay;
	size_t n = a->live ? keys_bar_live_n : keys_bar_replay_n;
	bool fit[16];
	int x = 0;

	keys_bar_fit(bar, n < 16 ? n : 16, COLS, fit);
	move(y, 0);
	attrset(draw_attr(a, TH_KEY));
	hline(' ', COLS);
	for (size_t i = 0; i < n && i < 16; i++) {
		if (!fit[i])
			continue;
		int kw = (int)strlen(bar[i].key), lw = (int)strlen(bar[i].label) + 1;
		draw_text(y, x, kw, bar[i].key, draw_attr(a, TH_KEYNAME), false);
		x += kw;
		draw_text(y, x, lw, bar[i].label, draw_attr(a, TH_KEY), false);
		x += lw;
	}
}

/* The message line: a prompt, a status, the legend or the selected row's reason.
 * What it cuts is in the message view whole (m). */
static void draw_message_line(struct app *a, int y)
{
	static const char *const prompts[] = {
		[PROMPT_SEARCH] = "Search: ", [PROMPT_FILTER] = "Filter: ", [PROMPT_DELAY] = "Delay (seconds): ",
		[PROMPT_GOTO] = "Go to (HH:MM:SS): ",
	};
	char line[400];
	int role;

	move(y, 0);
	attrset(A_NORMAL);
	clrtoeol();
	if (a->prompt != PROMPT_NONE) {
		snprintf(line, sizeof(line), "%s%s", prompts[a->prompt], a->input);
		draw_text(y, 0, COLS, line, draw_attr(a, TH_STATUS), false);
	} else if (a->status[0]) {
		draw_text(y, 0, COLS, a->status, draw_attr(a, a->status_error ? TH_CRITICAL : TH_STATUS), false);
	} else if (!a->color && !a->drilled && a->focus == PANE_PORTS) {
		pane_ports_legend(a, line, sizeof(line));
		draw_text(y, 0, COLS, line, A_NORMAL, false);
	} else if (selected_reason(a, line, sizeof(line), &role)) {
		/* Whole in the message view as the verdict changed (the worker's news): not
		 * again on every frame, its figures moving. */
		draw_text(y, 0, COLS, line, draw_attr(a, role), false);
	}
}

/* Two lines at the bottom: messages over the key bar; one on a short terminal,
 * where a message takes the key bar's place. */
static int footer_lines(void)
{
	return LINES >= 10 ? 2 : 1;
}

static void draw_footer(struct app *a)
{
	if (footer_lines() == 2) {
		draw_message_line(a, LINES - 2);
		draw_keybar(a, LINES - 1);
	} else if (a->prompt != PROMPT_NONE || a->status[0]) {
		draw_message_line(a, LINES - 1);
	} else {
		draw_keybar(a, LINES - 1);
	}
}

/* The help, wrapped to the width; the theme and the mouse after the keys. */
static void draw_help(struct app *a)
{
	char line[512], tail[160];
	int width = COLS > 1 ? COLS - 1 : 1;
	size_t n = keys_help_lines(width, 0, NULL, 0), rows = LINES > 2 ? (size_t)LINES - 2 : 1;

	snprintf(tail, sizeof(tail), "Theme %s. Mouse: click a column header to sort, a row to select.", a->theme.name);
	size_t ntail = wrap_count(tail, width, width), total = n + 1 + ntail;
	a->help_lines = total;
	erase();
	if (a->help_top + rows > total)
		a->help_top = total > rows ? total - rows : 0;
	snprintf(line, sizeof(line), "leaktop %s help: Up/Down/PgUp/PgDn scroll, q Esc F1 close%s", PACKAGE_VERSION,
		 a->help_top + rows < total ? "  (more below)" : "");
	draw_text(0, 0, COLS, line, draw_attr(a, TH_TITLE), false);
	for (size_t r = 0; r < rows; r++) {
		size_t i = a->help_top + r;
		line[0] = '\0';
		if (i < n) {
			keys_help_lines(width, i, line, sizeof(line));
		} else if (i > n && i < total) {
			/* The tail, wrapped: line i - n - 1 of it. */
			const char *t = tail;
			size_t skip, len = wrap_line(t, width, &skip);
			for (size_t k = n + 1; k < i; k++) {
				t += skip;
				len = wrap_line(t, width, &skip);
			}
			snprintf(line, sizeof(line), "%.*s", (int)len, t);
		} else if (i >= total) {
			break;
		}
		draw_text(1 + (int)r, 0, COLS, line, A_NORMAL, false);
	}
	draw_keybar(a, LINES - 1);
}

void screen_draw(struct app *a)
{
	if (a->help) {
		draw_help(a);
		refresh();
		return;
	}
	erase();
	if (LINES < 4 || COLS < 16) {
		draw_text(0, 0, COLS, "leaktop: terminal too small", A_NORMAL, false);
		refresh();
		return;
	}
	draw_header(a);
	int top = header_lines(a), avail = LINES - top - footer_lines();
	if (a->drilled) {
		char t[400];
		const struct pane *sp = &a->panes[PANE_SOCKS];
		snprintf(t, sizeof(t), "%zu %s  (Esc: back%s)", sp->nrows, a->drill.title,
			 sp->scrolls || sp->hscroll ? ", Left/Right: more columns" : "");
		draw_text(top, 0, COLS, t, draw_attr(a, TH_TITLE), false);
		draw_table(a, &a->panes[PANE_SOCKS], top + 1, avail - 1, true);
	} else if (avail >= 12) {
		/* All three panes: the focused one gets half, the others a quarter each. */
		int other = avail / 4, y = top;
		for (int i = 0; i < PANE_MAIN; i++) {
			int h = i == a->focus ? avail - 2 * other : other;
			draw_table(a, &a->panes[i], y, h, i == a->focus);
			y += h;
		}
	} else {
		/* Too short for three: one pane at a time. */
		for (int i = 0; i < PANE_MAIN; i++)
			a->panes[i].h = 0;
		draw_table(a, &a->panes[a->focus], top, avail, true);
	}
	draw_footer(a);
	if (a->setup)
		colsetup_draw(a);
	if (act_ui_draw(a) || msgview_draw(a)) {
		curs_set(0);
	} else if (a->prompt != PROMPT_NONE) {
		curs_set(1);
		static const int plen[] = {[PROMPT_SEARCH] = 8, [PROMPT_FILTER] = 8, [PROMPT_DELAY] = 17, [PROMPT_GOTO] = 18};
		move(LINES - footer_lines(), plen[a->prompt] + (int)strlen(a->input) < COLS ? plen[a->prompt] + (int)strlen(a->input) : COLS - 1);
	} else {
		curs_set(0);
	}
	refresh();
}
