/* The column setup (F2, as in htop): every column of the focused pane, hidden by the
 * width or not; pick which show and which one sorts. Saved in leaktop.conf. */
#include "config.h"

#include "tui/colsetup.h"
#include "tui/draw.h"
#include "tui/keys.h"
#include "tui/msgview.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "model/conf.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The conf keys' pane names, in enum pane_id order (program/options.c has the keys). */
static const char *const pane_names[PANE_COUNT] = {
	[PANE_PROCS] = "procs", [PANE_PORTS] = "ports", [PANE_BACKLOG] = "backlog", [PANE_SOCKS] = "sockets",
};

static int pane_index(struct app *a, const struct pane *p)
{
	return (int)(p - a->panes);
}

/* The pane's columns a pane can show: the table's, less the text report's. */
static size_t setup_cols(const struct pane *p, int *cols)
{
	const struct view_table_def *t = &view_tables[p->ops->table];
	size_t n = 0;
	for (size_t c = 0; c < t->ncols; c++)
		if (!t->cols[c].text_only)
			cols[n++] = (int)c;
	return n;
}

void colsetup_conf_value(const struct pane *p, bool sort, char *buf, size_t n)
{
	const struct view_table_def *t = &view_tables[p->ops->table];
	size_t len = 0;

	buf[0] = '\0';
	if (sort) {
		snprintf(buf, n, "%s%s", t->cols[p->sort].title, p->invert ? " invert" : "");
		return;
	}
	for (size_t c = 0; c < t->ncols && len < n; c++)
		if (!t->cols[c].text_only && p->want[c] != VIEW_AUTO)
			len += (size_t)snprintf(buf + len, n - len, "%s%c%s", len ? " " : "",
						p->want[c] == VIEW_HIDE ? '-' : '+', t->cols[c].title);
}

void colsetup_parse(struct pane *p, const char *columns, const char *sort)
{
	enum view_table t = p->ops->table;
	char copy[256], *save = NULL;

	snprintf(copy, sizeof(copy), "%s", columns ? columns : "");
	for (char *w = strtok_r(copy, " ,", &save); w; w = strtok_r(NULL, " ,", &save)) {
		int c = view_col_find(t, w + (*w == '-' || *w == '+'));
		if (c >= 0)
			p->want[c] = *w == '-' ? VIEW_HIDE : VIEW_PIN;
	}
	snprintf(copy, sizeof(copy), "%s", sort ? sort : "");
	char *title = strtok_r(copy, " ", &save), *inv = title ? strtok_r(NULL, " ", &save) : NULL;
	int c = title ? view_col_find(t, title) : -1;
	if (c >= 0) {
		p->sort = c;
		p->invert = inv && !strcasecmp(inv, "invert");
		p->sort_chosen = true;
	}
}

void colsetup_apply_conf(struct app *a)
{
	for (int i = 0; i < PANE_COUNT; i++)
		colsetup_parse(&a->panes[i], a->o->columns[i], a->o->sort[i]);
}

static void save(struct app *a, struct pane *p)
{
	char key[64], value[256], *cause = NULL;
	int i = pane_index(a, p);

	if (!a->o->config_path[0]) {
		msgview_status(a, false, "columns set for this run (no configuration file: --no-config)");
		return;
	}
	colsetup_conf_value(p, false, value, sizeof(value));
	snprintf(key, sizeof(key), "tui.%s.columns", pane_names[i]);
	int rc = options_save_key(a->o->config_path, key, value, &cause);
	if (!rc) {
		/* A sort not chosen stays the default: the culprits first. */
		if (p->sort_chosen)
			colsetup_conf_value(p, true, value, sizeof(value));
		else
			value[0] = '\0';
		snprintf(key, sizeof(key), "tui.%s.sort", pane_names[i]);
		rc = options_save_key(a->o->config_path, key, value, &cause);
	}
	if (rc)
		msgview_status(a, true, "columns not saved: %s", cause ? cause : "cannot write the configuration file");
	else
		msgview_status(a, false, "columns saved in %s", a->o->config_path);
	free(cause);
}

void colsetup_open(struct app *a)
{
	struct pane *p = panes_focused(a);
	int cols[VIEW_MAX_COLS];
	size_t n = setup_cols(p, cols);

	a->setup = true;
	a->setup_sel = 0;
	for (size_t i = 0; i < n; i++)
		if (cols[i] == p->sort)
			a->setup_sel = i;
}

/* Which columns would show now: the pane's layout at this width. */
static void layout(struct app *a, struct pane *p, bool *shown)
{
	int widths[VIEW_MAX_COLS];
	view_layout_want(p->ops->table, p == &a->panes[PANE_SOCKS] ? -1 : COLS, p->want, p->data_w, shown, widths);
}

bool colsetup_key(struct app *a, int key)
{
	if (!a->setup)
		return false;
	struct pane *p = panes_focused(a);
	int cols[VIEW_MAX_COLS];
	size_t n = setup_cols(p, cols);
	bool shown[VIEW_MAX_COLS];
	enum tui_action act = keys_lookup(key);
	int c = cols[a->setup_sel < n ? a->setup_sel : 0];

	if (key == KEY_RESIZE || key == KEY_MOUSE)
		return false;
	if (act == ACT_UP && a->setup_sel > 0)
		a->setup_sel--;
	else if (act == ACT_DOWN && a->setup_sel + 1 < n)
		a->setup_sel++;
	else if (act == ACT_HOME || act == ACT_PGUP)
		a->setup_sel = 0;
	else if (act == ACT_END || act == ACT_PGDN)
		a->setup_sel = n - 1;
	else if (key == ' ') {
		/* On screen: hide it. Off (hidden, or no room): pin it, so that columns
		 * left to the width give way. */
		layout(a, p, shown);
		p->want[c] = shown[c] ? VIEW_HIDE : VIEW_PIN;
		layout(a, p, shown);
		if (!shown[c] && p->want[c] == VIEW_PIN)
			msgview_status(a, false, "%s: no room; hide another column (Space) to make some",
				    view_tables[p->ops->table].cols[c].title);
	} else if (key == 's' || act == ACT_ENTER) {
		p->invert = p->sort == c ? !p->invert : false;
		p->sort = c;
		p->sort_chosen = true;
		panes_rebuild(a);
	} else if (act == ACT_INVERT) {
		p->invert = !p->invert;
		p->sort_chosen = true;
		panes_rebuild(a);
	} else if (act == ACT_BACK || act == ACT_QUIT || act == ACT_SETUP || act == ACT_LEFT) {
		a->setup = false;
		save(a, p);
	}
	return true;
}

void colsetup_draw(struct app *a)
{
	struct pane *p = panes_focused(a);
	const struct view_table_def *t = &view_tables[p->ops->table];
	int cols[VIEW_MAX_COLS];
	size_t n = setup_cols(p, cols);
	bool shown[VIEW_MAX_COLS];
	char line[160];
	static const char *const titles[PANE_COUNT] = {
		[PANE_PROCS] = "processes", [PANE_PORTS] = "ports", [PANE_BACKLOG] = "backlog", [PANE_SOCKS] = "sockets",
	};

	layout(a, p, shown);
	int h = (int)n + 2, y = LINES - 1 - h;
	if (y < 0)
		y = 0;
	snprintf(line, sizeof(line), " Columns of the %s pane: Space show/hide, Enter or s sort, I invert, Esc done",
		 titles[pane_index(a, p)]);
	draw_text(y, 0, COLS, line, draw_attr(a, TH_TITLE), false);
	size_t top = a->setup_sel + 2 >= (size_t)(LINES - 1 - y) ? a->setup_sel + 3 - (size_t)(LINES - 1 - y) : 0;
	for (size_t r = 0; top + r < n && y + 1 + (int)r < LINES - 1; r++) {
		size_t i = top + r;
		int c = cols[i];
		const char *mark = shown[c] ? "[x]" : p->want[c] == VIEW_HIDE ? "[ ]" : "[-]";
		const char *why = shown[c] ? (p->want[c] == VIEW_PIN ? "shown (kept)" : "shown")
				  : p->want[c] == VIEW_HIDE ? "hidden" : "no room at this width";
		snprintf(line, sizeof(line), " %s %-12s %-22s %s", mark, t->cols[c].title, why,
			 c == p->sort ? (p->invert ? "sorted (inverted)" : "sorted") : "");
		draw_text(y + 1 + (int)r, 0, COLS, line,
			  i == a->setup_sel ? draw_attr(a, TH_SELECTED) : draw_attr(a, TH_NORMAL), false);
	}
}
