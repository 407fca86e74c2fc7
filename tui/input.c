/* Key handling: the action behind each key of the key table, the prompts (search,
 * filter, delay, go to), the mouse, and the replay time keys (asked of the worker). */
#include "config.h"

#include "tui/input.h"
#include "tui/act_ui.h"
#include "tui/colsetup.h"
#include "tui/draw.h"
#include "tui/keys.h"
#include "tui/msgview.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "tui/tags.h"
#include "tui/term.h"
#include "tui/worker.h"
#include "model/snapshot.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void move_sel(struct app *a, long delta)
{
	struct pane *p = panes_focused(a);
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
	struct pane *p = panes_focused(a);
	return p->h > 2 ? p->h - 2 : 1;
}

/* --- Actions ----------------------------------------------------------------------- */

static void act_quit(struct app *a) { a->quit = true; }
static void act_help(struct app *a)
{
	a->help = true;
	a->help_top = 0;
}
static void act_up(struct app *a) { move_sel(a, -1); }
static void act_down(struct app *a) { move_sel(a, 1); }
static void act_pgup(struct app *a) { move_sel(a, -page_rows(a)); }
static void act_pgdn(struct app *a) { move_sel(a, page_rows(a)); }
static void act_home(struct app *a) { move_sel(a, -(long)panes_focused(a)->nrows); }
static void act_end(struct app *a) { move_sel(a, (long)panes_focused(a)->nrows); }

static void focus(struct app *a, int pane)
{
	a->drilled = false;
	a->focus = pane;
}
static void act_next_pane(struct app *a) { focus(a, (a->focus + 1) % PANE_MAIN); }
static void act_pane1(struct app *a) { focus(a, PANE_PROCS); }
static void act_pane2(struct app *a) { focus(a, PANE_PORTS); }
static void act_pane3(struct app *a) { focus(a, PANE_BACKLOG); }

/* Next or previous column that is on screen (any pane column when the pane is not
 * drawn); never a column of the text report alone. */
static void sort_step(struct app *a, int dir)
{
	struct pane *p = panes_focused(a);
	const struct view_table_def *t = &view_tables[p->ops->table];
	int n = (int)t->ncols, c = p->sort;

	for (int i = 0; i < n; i++) {
		c = (c + dir + n) % n;
		if (!t->cols[c].text_only && (p->shown[c] || !p->h))
			break;
	}
	if (t->cols[c].text_only)
		return;
	p->sort = c;
	p->invert = false;
	p->sort_chosen = true;
	panes_rebuild(a);
	msgview_status(a, false, "sorted by %s (F2: every column)", t->cols[c].title);
}
static void act_sort_next(struct app *a) { sort_step(a, 1); }
static void act_sort_prev(struct app *a) { sort_step(a, -1); }
static void act_invert(struct app *a)
{
	panes_focused(a)->invert = !panes_focused(a)->invert;
	panes_focused(a)->sort_chosen = true;
	panes_rebuild(a);
}

static void start_prompt(struct app *a, enum prompt_kind k, const char *init)
{
	a->prompt = k;
	snprintf(a->input, sizeof(a->input), "%s", init);
	a->saved_sel = panes_focused(a)->sel;
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
	struct pane *p = panes_focused(a);

	if (!a->s || !a->search.nterms)
		return false;
	for (size_t n = 0; n < p->nrows; n++) {
		size_t i = (from + n) % p->nrows;
		pane_order(a, p, i, i + 1);
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
	if (!search_from(a, panes_focused(a)->sel + 1))
		msgview_status(a, false, "no match for '%s'", a->search_text);
}

static void act_pause(struct app *a)
{
	a->paused = !a->paused;
	if (!a->paused)
		a->next_refresh = 0;
	if (!a->live)
		msgview_status(a, false, "%s at x%g", a->paused ? "paused" : "playing", a->speed);
}

/* --- Replay controls: the worker seeks; the loop only asks. --------------------- */

static bool replay_only(struct app *a)
{
	if (a->live)
		msgview_status(a, false, "the time keys work on a recording: leaktop -r FILE");
	return !a->live;
}

static void seek_request(struct app *a, long index, bool by_time, double t)
{
	worker_seek_request(a->w, index, by_time, t);
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
		msgview_status(a, false, "%s of the recording", delta < 0 ? "at the start" : "at the end");
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
	msgview_status(a, false, "play speed x%g", a->speed);
}
static void act_faster(struct app *a) { replay_speed(a, 2); }
static void act_slower(struct app *a) { replay_speed(a, 0.5); }

static void act_enter(struct app *a)
{
	struct pane *p = panes_focused(a);
	if (a->s && p->sel < p->nrows && p->ops->enter)
		p->ops->enter(a, p);
}

static void act_setup(struct app *a) { colsetup_open(a); }

/* The sockets list scrolls sideways by a column; Left at its edge goes back. */
static void act_left(struct app *a)
{
	struct pane *p = panes_focused(a);
	if (a->drilled && p->hscroll > 0)
		p->hscroll--;
	else if (a->drilled)
		a->drilled = false;
}
static void act_right(struct app *a)
{
	struct pane *p = panes_focused(a);
	if (a->drilled && p->scrolls)
		p->hscroll++;
}

static void act_back(struct app *a)
{
	a->drilled = false;
	a->status[0] = '\0';
}

static void act_remote(struct app *a)
{
	a->port_sides = (uint8_t)((a->port_sides + 1) % VIEW_PORTS_SIDES);
	a->panes[PANE_PORTS].have_key = false;
	a->panes[PANE_PORTS].sel = 0;
	panes_rebuild(a);
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
			msgview_status(a, true, "%s", cause ? cause : "theme failed; using default");
		else
			msgview_status(a, false, "theme %s", a->theme.name);
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
	if (a->live && tags_toggle(a))
		move_sel(a, 1);
	else
		act_pause(a);
}
static void act_untag(struct app *a) { tags_clear(a); }

static void (*const actions[ACT_COUNT])(struct app *) = {
	[ACT_QUIT] = act_quit, [ACT_HELP] = act_help, [ACT_UP] = act_up, [ACT_DOWN] = act_down,
	[ACT_PGUP] = act_pgup, [ACT_PGDN] = act_pgdn, [ACT_HOME] = act_home, [ACT_END] = act_end,
	[ACT_NEXT_PANE] = act_next_pane, [ACT_PANE1] = act_pane1, [ACT_PANE2] = act_pane2,
	[ACT_PANE3] = act_pane3, [ACT_SORT_NEXT] = act_sort_next, [ACT_SORT_PREV] = act_sort_prev,
	[ACT_INVERT] = act_invert, [ACT_SEARCH] = act_search, [ACT_SEARCH_NEXT] = act_search_next,
	[ACT_FILTER] = act_filter, [ACT_PAUSE] = act_pause, [ACT_DELAY] = act_delay, [ACT_ENTER] = act_enter,
	[ACT_BACK] = act_back, [ACT_REMOTE] = act_remote, [ACT_THEME] = act_theme, [ACT_REDRAW] = act_redraw,
	[ACT_TAG] = act_tag, [ACT_UNTAG] = act_untag, [ACT_DUMP] = act_ui_dump, [ACT_RESTART] = act_ui_restart,
	[ACT_SIGNAL] = act_ui_signal_menu, [ACT_MESSAGES] = msgview_open, [ACT_DUMP_VIEW] = msgview_open_dump,
	[ACT_SETUP] = act_setup, [ACT_LEFT] = act_left, [ACT_RIGHT] = act_right,
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
		panes_focused(a)->sel = a->saved_sel;
		pane_note_key(a, panes_focused(a));
	} else if (k == PROMPT_FILTER && accept) {
		struct view_query q;
		if (view_query_parse(&q, a->input, &cause)) {
			msgview_status(a, true, "filter: %s", cause ? cause : "invalid");
		} else {
			a->filter = q;
			snprintf(a->filter_text, sizeof(a->filter_text), "%s", a->input);
			panes_rebuild(a);
		}
	} else if (k == PROMPT_DELAY && accept) {
		char *end;
		double d = strtod(a->input, &end);
		if (end == a->input || *end || !isfinite(d) || d < OPTIONS_TUI_MIN_DELAY || d > 86400) {
			msgview_status(a, true, "delay: '%s' is not a number of seconds from %g to 86400", a->input,
				    OPTIONS_TUI_MIN_DELAY);
		} else {
			a->delay = d;
			a->next_refresh = term_now() + d;
		}
	} else if (k == PROMPT_GOTO && accept) {
		int secs;
		if (view_parse_clock(a->input, &secs) || !a->s)
			msgview_status(a, true, "go to: '%s' is not a time like 14:05:00", a->input);
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
	} else if (key == ('u' & 0x1f)) {
		a->input[0] = '\0'; /* Ctrl-U: the whole line, as a shell does */
	} else if (key == ('w' & 0x1f)) {
		/* Ctrl-W: the word before the cursor, and the spaces after it. */
		while (len && a->input[len - 1] == ' ')
			len--;
		while (len && a->input[len - 1] != ' ')
			len--;
		a->input[len] = '\0';
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
			/* Cut to the term's size, on purpose (said so gcc -O1 does not warn). */
			snprintf(a->search.terms[0].text, sizeof(a->search.terms[0].text), "%.*s",
				 (int)sizeof(a->search.terms[0].text) - 1, a->input);
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
					p->sort_chosen = true;
					panes_rebuild(a);
				}
		} else if (p->top + (size_t)(ev.y - p->y - 1) < p->nrows) {
			p->sel = p->top + (size_t)(ev.y - p->y - 1);
			pane_note_key(a, p);
		}
		return;
	}
}

/* The help scrolls like a pane; q, Esc, F1 (and h, ?) close it. */
static void help_key(struct app *a, int key)
{
	long page = LINES > 3 ? LINES - 2 : 1, top = (long)a->help_top;
	long last = (long)a->help_lines - page;
	enum tui_action act = keys_lookup(key);

	if (act == ACT_QUIT || act == ACT_BACK || act == ACT_HELP) {
		a->help = false;
		return;
	}
	top += act == ACT_UP ? -1 : act == ACT_DOWN ? 1 : act == ACT_PGUP ? -page : act == ACT_PGDN ? page : 0;
	if (act == ACT_HOME)
		top = 0;
	if (act == ACT_END || top > last)
		top = last;
	a->help_top = top < 0 ? 0 : (size_t)top;
}

void input_key(struct app *a, int key)
{
	if (key == KEY_RESIZE) {
		clearok(curscr, TRUE);
		return;
	}
	if (a->help) {
		help_key(a, key);
		return;
	}
	if (colsetup_key(a, key))
		return;
	if (act_ui_key(a, key))
		return;
	if (msgview_key(a, key))
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

