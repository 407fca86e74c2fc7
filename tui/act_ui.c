/* Process actions in the dashboard: the y/N confirmation and the signal menu, on the
 * tagged processes (tui/tags.c) or the selected one; their outcomes go to the message
 * view (tui/msgview.c). What is checked and done lives in program/ (action_do.c). */
#include "config.h"

#include "tui/act_ui.h"
#include "tui/draw.h"
#include "tui/msgview.h"
#include "tui/panes.h"
#include "tui/tags.h"
#include "tui/state.h"
#include "program/action_do.h"
#include "program/actions.h"
#include "program/restart.h"
#include "program/tdump.h"
#include "model/snapshot.h"
#include "model/conf.h"
#include "model/text.h"
#include "sources/procscan.h"
#include "program/options.h"

#include <curses.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum aui_mode { AUI_NONE, AUI_MENU, AUI_CONFIRM };
enum aui_kind { AUI_SIGNAL, AUI_RESTART };

/* One process an action is about to touch, as the snapshot showed it. */
struct aui_target {
	struct proc_rec p;
	struct action_restart r;
	bool dup;                /* restarts: same command as an earlier target, run once */
	char *refused;           /* restarts: cannot be resolved; skipped */
	enum tdump_disp disp;    /* thread dumps: what SIGQUIT will do to it */
};

struct act_ui {
	enum aui_mode mode;
	struct action_log *log;
	enum aui_kind kind;
	int sig;
	struct aui_target *targets;
	size_t ntargets;
	size_t menu_sel;
	double boot_time;
	long clk_tck;
	char *conf_value;        /* the last restart command read from the config */
	int confirm_key;         /* 'y', or 'K' when a thread dump will kill a target */
};

int act_ui_init(struct app *a)
{
	char *cause = NULL;

	if (!(a->act = calloc(1, sizeof(*a->act))))
		return -ENOMEM;
	a->act->log = action_log_open(NULL, &cause);
	a->act->boot_time = procscan_boot_time("/proc");
	a->act->clk_tck = sysconf(_SC_CLK_TCK);
	if (cause)
		msgview_status(a, true, "%s", cause);
	free(cause);
	return a->act->log ? 0 : -ENOMEM;
}

static void targets_clear(struct act_ui *u)
{
	for (size_t i = 0; i < u->ntargets; i++) {
		action_restart_release(&u->targets[i].r);
		free(u->targets[i].refused);
	}
	free(u->targets);
	u->targets = NULL;
	u->ntargets = 0;
}

void act_ui_free(struct app *a)
{
	struct act_ui *u = a->act;

	if (!u)
		return;
	targets_clear(u);
	action_log_free(u->log);
	free(u->conf_value);
	free(u);
	a->act = NULL;
}

void act_ui_set_hook(struct app *a, void (*hook)(void *ctx, const struct action_event *ev), void *ctx)
{
	action_log_set_hook(a->act->log, hook, ctx);
}

/* --- targets ---------------------------------------------------------------------- */

/* Log an action refused before it was asked for; *line gets the summary. */
static void log_refusal(struct app *a, const struct proc_rec *p, const char *what, int rc, const char *why,
			char **line)
{
	struct act_ui *u = a->act;
	struct action_event ev = {
		.time = (double)time(NULL), .pid = p->pid, .start_time = p->start_time,
		.comm = p->comm, .action = what, .result = rc, .detail = why,
	};
	free(*line);
	*line = NULL;
	action_log_write(u->log, &ev, line);
	if (*line)
		msgview_add(a, MSGLOG_ACTION, *line);
}

/* Take the tagged processes, or else the selected one, as the targets. Those never
 * to be touched (pid 1, leaktop, kernel threads) are refused here, before any prompt,
 * and logged like any other refused action. */
static bool take_targets(struct app *a, const char *what)
{
	struct act_ui *u = a->act;
	const struct proc_rec *sel = panes_selected_proc(a);
	size_t ntags = tags_count(a), n = ntags ? ntags : sel ? 1 : 0, refused = 0;
	char *last = NULL;

	targets_clear(u);
	if (!n) {
		msgview_status(a, true, "select a process first (1: processes pane), or tag some with Space");
		return false;
	}
	if (!(u->targets = calloc(n, sizeof(*u->targets))))
		return false;
	for (size_t i = 0; i < n; i++) {
		const struct proc_rec *p = ntags ? tags_get(a, i) : sel;
		/* A tag is a copy from when it was made: the process as it is now (a name
		 * set after start, an exec since) when the same process is still there. */
		const struct proc_rec *now = ntags && a->s ? snapshot_find_proc(a->s, p->pid) : NULL;
		if (now && now->start_time == p->start_time)
			p = now;
		char *cause = NULL;
		int rc = action_check_target(p, &cause);
		if (rc) {
			log_refusal(a, p, what, rc, cause, &last);
			free(cause);
			refused++;
			continue;
		}
		u->targets[u->ntargets++].p = *p;
	}
	if (refused)
		msgview_status(a, true, u->ntargets ? "%s (and %zu more refused: m for messages)" : "%s",
			    last ? last : "refused", refused - 1);
	free(last);
	if (!u->ntargets) {
		targets_clear(u);
		return false;
	}
	return true;
}

/* --- the config lookup -------------------------------------------------------------- */

/* restart.COMM from the configuration file leaktop started with, read now, so an
 * edit takes effect without restarting leaktop. */
static const char *conf_lookup(void *ctx, const char *key)
{
	struct app *a = ctx;
	char *cause = NULL;
	int rc;

	if (!a->o->config_path[0])
		return NULL;
	free(a->act->conf_value);
	rc = conf_lookup_file(a->o->config_path, key, &a->act->conf_value, &cause);
	if (rc && cause)
		msgview_add(a, MSGLOG_ERROR, cause);
	free(cause);
	return rc ? NULL : a->act->conf_value;
}

/* --- starting an action ------------------------------------------------------------- */

static void start_signal(struct app *a, int sig)
{
	struct act_ui *u = a->act;

	if (!a->live) {
		msgview_status(a, true, "actions need the live system, not a recording");
		return;
	}
	if (!take_targets(a, action_sig_name(sig)))
		return;
	u->kind = AUI_SIGNAL;
	u->sig = sig;
	u->confirm_key = 'y';
	/* What SIGQUIT does depends on the target: a JVM dumps, most others die. */
	for (size_t i = 0; sig == SIGQUIT && i < u->ntargets; i++) {
		tdump_disposition("/proc", u->targets[i].p.pid, &u->targets[i].disp);
		if (tdump_confirm_key(u->targets[i].disp) != 'y')
			u->confirm_key = tdump_confirm_key(u->targets[i].disp);
	}
	u->mode = AUI_CONFIRM;
}

void act_ui_dump(struct app *a)
{
	start_signal(a, SIGQUIT);
}

void act_ui_signal_menu(struct app *a)
{
	if (!a->live) {
		msgview_status(a, true, "actions need the live system, not a recording");
		return;
	}
	if (!panes_selected_proc(a) && !tags_count(a)) {
		msgview_status(a, true, "select a process first (1: processes pane), or tag some with Space");
		return;
	}
	a->act->menu_sel = 0;
	a->act->mode = AUI_MENU;
}

void act_ui_restart(struct app *a)
{
	struct act_ui *u = a->act;
	size_t ok = 0;
	char *last = NULL;

	if (!a->live) {
		msgview_status(a, true, "actions need the live system, not a recording");
		return;
	}
	if (!take_targets(a, "restart"))
		return;
	for (size_t i = 0; i < u->ntargets; i++) {
		struct aui_target *t = &u->targets[i];
		int rc = action_restart_resolve(&t->p, NULL, conf_lookup, a, a->o->config_path, &t->r, &t->refused);
		if (rc && !t->refused)
			t->refused = strdup("cannot be restarted");
		if (t->refused) {
			log_refusal(a, &t->p, "restart", rc, t->refused, &last);
			continue;
		}
		/* Two processes of one service: restart it once. */
		for (size_t j = 0; j < i; j++)
			if (!u->targets[j].refused && !strcmp(u->targets[j].r.shown, t->r.shown))
				t->dup = true;
		ok++;
	}
	free(last);
	if (!ok) {
		/* Nothing can run: say why without a prompt, in full (what to configure). */
		msgview_status(a, true, "%s", u->targets[0].refused);
		targets_clear(u);
		msgview_open(a);
		return;
	}
	u->kind = AUI_RESTART;
	u->confirm_key = 'y';
	u->mode = AUI_CONFIRM;
}

/* --- doing it ------------------------------------------------------------------------ */

/* The status line alone: the message view has the action's line already. */
static void status_only(struct app *a, bool error, const char *text)
{
	snprintf(a->status, sizeof(a->status), "%s", text);
	a->status_error = error;
}

static void run_confirmed(struct app *a)
{
	struct act_ui *u = a->act;
	size_t done = 0, failed = 0, dumps = 0;
	char *last = NULL, ts[16];
	bool show_view = false;
	size_t mark = msgview_mark(a);

	u->mode = AUI_NONE;
	text_time(ts, sizeof(ts), "%H:%M:%S", (double)time(NULL));
	for (size_t i = 0; i < u->ntargets; i++) {
		struct aui_target *t = &u->targets[i];
		char *line = NULL;
		int rc;

		if (u->kind == AUI_SIGNAL && u->sig == SIGQUIT) {
			char *dump = NULL;
			size_t len = 0;
			msgview_status(a, false, "SIGQUIT to pid %d: waiting to see what it does", (int)t->p.pid);
			a->redraw(a);
			rc = tdump_do(u->log, &t->p, &line, &dump, &len);
			if (line)
				msgview_add(a, MSGLOG_ACTION, line);
			if (dump) {
				char whose[PROC_COMM_MAX + 64];
				snprintf(whose, sizeof(whose), "pid %d %s, %s", (int)t->p.pid, t->p.comm, ts);
				msgview_keep_dump(a, whose, dump, len);
				msgview_append(a, "  ", "d: read the thread dump", 23);
				dumps++;
			}
			free(dump);
			free(last);
			last = line;
			rc ? failed++ : done++;
			continue;
		} else if (u->kind == AUI_SIGNAL) {
			rc = action_do_signal(u->log, &t->p, u->sig, &line);
		} else if (t->refused || t->dup) {
			continue;
		} else {
			struct action_output out;
			/* Say what is happening: the command may take a while. */
			msgview_status(a, false, "running: %s", t->r.shown);
			a->redraw(a);
			rc = action_do_restart(u->log, &t->p, &t->r, &out, &line);
			if (line)
				msgview_add(a, MSGLOG_ACTION, line);
			if (out.buf && out.len)
				msgview_append(a, "  | ", out.buf, out.len);
			if (out.truncated)
				msgview_append(a, "  | ", "(output cut at 64 KB)", 21);
			action_output_release(&out);
			show_view = true;
			free(last);
			last = line;
			rc ? failed++ : done++;
			continue;
		}
		if (line)
			msgview_add(a, MSGLOG_ACTION, line);
		free(last);
		last = line;
		rc ? failed++ : done++;
	}
	char status[sizeof(a->status)];
	if (done + failed == 1)
		snprintf(status, sizeof(status), "%s%s", dumps ? "d reads the dump: " : "", last ? last : "");
	else
		snprintf(status, sizeof(status), "%s: %zu done, %zu failed (m: messages%s)",
			 u->kind == AUI_SIGNAL ? action_sig_name(u->sig) : "restart", done, failed,
			 dumps ? ", d: the last dump" : "");
	status_only(a, failed > 0, status);
	free(last);
	targets_clear(u);
	u->mode = AUI_NONE;
	if (show_view)
		msgview_open_at(a, mark); /* at this restart's summary: the first line it added */
}

/* --- keys ----------------------------------------------------------------------------- */

bool act_ui_key(struct app *a, int key)
{
	struct act_ui *u = a->act;

	if (!u || u->mode == AUI_NONE)
		return false;
	switch (u->mode) {
	case AUI_CONFIRM:
		if (u->confirm_key == 'y' ? key == 'y' || key == 'Y' : key == u->confirm_key) {
			run_confirmed(a);
		} else {
			targets_clear(u);
			u->mode = AUI_NONE;
			if (u->confirm_key != 'y' && (key == 'y' || key == 'Y'))
				msgview_status(a, true, "cancelled; nothing was sent (type %c to send a signal that terminates)",
					    u->confirm_key);
			else
				msgview_status(a, false, "cancelled; nothing was sent");
		}
		break;
	case AUI_MENU:
		if (key == KEY_UP && u->menu_sel > 0)
			u->menu_sel--;
		else if (key == KEY_DOWN && u->menu_sel + 1 < action_nsigs)
			u->menu_sel++;
		else if (key == KEY_HOME)
			u->menu_sel = 0;
		else if (key == KEY_END)
			u->menu_sel = action_nsigs - 1;
		else if (key == '\n' || key == '\r' || key == KEY_ENTER) {
			u->mode = AUI_NONE;
			start_signal(a, action_sigs[u->menu_sel].sig);
		} else if (key == 27 || key == 'q' || key == KEY_F(10) || key == KEY_F(9) || key == KEY_LEFT) {
			u->mode = AUI_NONE;
		}
		break;
	case AUI_NONE:
		break;
	}
	return true;
}

/* --- drawing --------------------------------------------------------------------------- */

/* A box of h lines at the bottom, above the footer; returns its first line. */
static int act_box(struct app *a, int h, const char *title)
{
	int y = LINES - 1 - h;

	if (y < 0)
		y = 0;
	for (int i = y; i < LINES - 1; i++) {
		move(i, 0);
		attrset(A_NORMAL);
		clrtoeol();
	}
	draw_text(y, 0, COLS, title, draw_attr(a, TH_TITLE) | (int)A_REVERSE, false);
	return y + 1;
}

static void draw_confirm(struct app *a)
{
	struct act_ui *u = a->act;
	int room = LINES - 5, shown = 0;
	char title[160], line[1024], who[256];

	if (room < 1)
		room = 1;
	char many[32] = "";
	if (u->ntargets > 1)
		snprintf(many, sizeof(many), " %zu processes", u->ntargets);
	if (u->kind == AUI_SIGNAL)
		snprintf(title, sizeof(title), " Send %s%s to%s: ", action_sig_name(u->sig),
			 u->sig == SIGQUIT ? " (thread dump)" : "", many);
	else
		snprintf(title, sizeof(title), " Restart%s by running: ", many);
	bool quit = u->kind == AUI_SIGNAL && u->sig == SIGQUIT;
	int lines_each = u->kind == AUI_RESTART || quit ? 2 : 1;
	int want = (int)u->ntargets * lines_each;
	int h = (want < room ? want : room) + 1;
	int y = act_box(a, h, title);
	for (size_t i = 0; i < u->ntargets && shown + lines_each <= room; i++, shown += lines_each) {
		const struct aui_target *t = &u->targets[i];
		action_describe(&t->p, u->boot_time, u->clk_tck, who, sizeof(who));
		snprintf(line, sizeof(line), "  %s", who);
		draw_text(y++, 0, COLS, line, A_NORMAL, false);
		if (u->kind == AUI_RESTART) {
			if (t->refused)
				snprintf(line, sizeof(line), "    skipped: %s", t->refused);
			else if (t->dup)
				snprintf(line, sizeof(line), "    (same command as above, run once)");
			else
				snprintf(line, sizeof(line), "    $ %s", t->r.shown);
			draw_text(y++, 0, COLS, line, t->refused ? draw_attr(a, TH_WARNING) : (int)A_BOLD, false);
		} else if (quit) {
			snprintf(line, sizeof(line), "    %s", tdump_disp_warning(t->disp));
			draw_text(y++, 0, COLS, line,
				  tdump_confirm_key(t->disp) != 'y' ? draw_attr(a, TH_WARNING) | (int)A_BOLD : (int)A_NORMAL,
				  false);
		}
	}
	if (shown / lines_each < (int)u->ntargets) {
		snprintf(line, sizeof(line), "  ... and %zu more", u->ntargets - (size_t)(shown / lines_each));
		draw_text(y - 1, 0, COLS, line, A_NORMAL, false);
	}
	if (u->confirm_key == 'y')
		snprintf(line, sizeof(line), "y: yes, do it   any other key: cancel");
	else
		snprintf(line, sizeof(line), "%c (capital): yes, even if it terminates   any other key: cancel",
			 u->confirm_key);
	draw_text(LINES - 1, 0, COLS, line, draw_attr(a, TH_STATUS) | (int)A_BOLD, false);
}

static void draw_menu(struct app *a)
{
	struct act_ui *u = a->act;
	int h = (int)action_nsigs + 1, room = LINES - 3;
	char line[160];

	if (h > room)
		h = room;
	int rows = h - 1, y = act_box(a, h, " Send which signal? (Enter: choose, Esc: cancel) ");
	size_t top = u->menu_sel >= (size_t)rows ? u->menu_sel - (size_t)rows + 1 : 0;
	for (int r = 0; r < rows && top + (size_t)r < action_nsigs; r++) {
		const struct action_sig *s = &action_sigs[top + (size_t)r];
		bool sel = top + (size_t)r == u->menu_sel;
		snprintf(line, sizeof(line), " %2d %-6s %s", s->sig, s->name, s->what);
		draw_text(y + r, 0, COLS, line, sel ? draw_attr(a, TH_SELECTED) : (int)A_NORMAL, false);
	}
}

bool act_ui_draw(struct app *a)
{
	struct act_ui *u = a->act;

	if (!u)
		return false;
	switch (u->mode) {
	case AUI_CONFIRM:
		draw_confirm(a);
		return true;
	case AUI_MENU:
		draw_menu(a);
		return true;
	case AUI_NONE:
		break;
	}
	return false;
}
