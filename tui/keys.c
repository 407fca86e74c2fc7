/* The key bindings (htop conventions), their help text and the key bar, as tables:
 * the help screen, the key bar and the man page's KEYS are all read from here. */
#include "config.h"

#include "tui/keys.h"
#include "tui/wrap.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

#define CTRL(c) ((c) & 0x1f)

const struct key_binding keys_table[] = {
	{KEY_F(1), ACT_HELP, "F1"}, {'h', ACT_HELP, "h"}, {'?', ACT_HELP, "?"},
	{KEY_UP, ACT_UP, "Up"}, {KEY_DOWN, ACT_DOWN, "Down"},
	{KEY_PPAGE, ACT_PGUP, "PgUp"}, {KEY_NPAGE, ACT_PGDN, "PgDn"},
	{KEY_HOME, ACT_HOME, "Home"}, {KEY_END, ACT_END, "End"},
	{KEY_LEFT, ACT_LEFT, "Left"}, {KEY_RIGHT, ACT_RIGHT, "Right"},
	{'\t', ACT_NEXT_PANE, "Tab"}, {'1', ACT_PANE1, "1"}, {'2', ACT_PANE2, "2"}, {'3', ACT_PANE3, "3"},
	{'\n', ACT_ENTER, "Enter"}, {'\r', ACT_ENTER, "Enter"}, {KEY_ENTER, ACT_ENTER, "Enter"},
	{27, ACT_BACK, "Esc"}, {KEY_BACKSPACE, ACT_BACK, "Bksp"}, {127, ACT_BACK, "Bksp"}, {CTRL('h'), ACT_BACK, "Bksp"},
	{KEY_F(2), ACT_SETUP, "F2"}, {'S', ACT_SETUP, "S"},
	{KEY_F(6), ACT_SORT_NEXT, "F6"}, {'>', ACT_SORT_NEXT, ">"}, {'.', ACT_SORT_NEXT, "."},
	{'<', ACT_SORT_PREV, "<"}, {',', ACT_SORT_PREV, ","},
	{'I', ACT_INVERT, "I"},
	{KEY_F(3), ACT_SEARCH, "F3"}, {'/', ACT_SEARCH, "/"}, {'n', ACT_SEARCH_NEXT, "n"},
	{KEY_F(4), ACT_FILTER, "F4"}, {'\\', ACT_FILTER, "\\"},
	{'r', ACT_REMOTE, "r"},
	{'p', ACT_PAUSE, "p"}, {' ', ACT_TAG, "Space"}, {'U', ACT_UNTAG, "U"},
	{'D', ACT_DUMP, "D"}, {'R', ACT_RESTART, "R"}, {KEY_F(9), ACT_SIGNAL, "F9"}, {'k', ACT_SIGNAL, "k"},
	{'m', ACT_MESSAGES, "m"}, {'d', ACT_DUMP_VIEW, "d"},
	{'s', ACT_DELAY, "s"}, {'t', ACT_THEME, "t"}, {CTRL('l'), ACT_REDRAW, "Ctrl-L"},
	{'[', ACT_STEP_BACK, "["}, {']', ACT_STEP_FWD, "]"}, {'{', ACT_MINUTE_BACK, "{"}, {'}', ACT_MINUTE_FWD, "}"},
	{'g', ACT_GOTO, "g"}, {'+', ACT_FASTER, "+"}, {'=', ACT_FASTER, "="}, {'-', ACT_SLOWER, "-"},
	{KEY_F(10), ACT_QUIT, "F10"}, {'q', ACT_QUIT, "q"},
};
const unsigned keys_count = sizeof(keys_table) / sizeof(keys_table[0]);

const struct key_help keys_help[ACT_COUNT] = {
	[ACT_HELP] = {"this help (Up/Down/PgUp/PgDn scroll it; q, Esc or F1 close it)"},
	[ACT_UP] = {"move the selection"},
	[ACT_DOWN] = {NULL},
	[ACT_PGUP] = {"move a page"},
	[ACT_PGDN] = {NULL},
	[ACT_HOME] = {"first or last row"},
	[ACT_END] = {NULL},
	[ACT_LEFT] = {"sockets list: scroll sideways when the columns do not fit; Left at the edge goes back"},
	[ACT_RIGHT] = {NULL},
	[ACT_NEXT_PANE] = {"next pane"},
	[ACT_PANE1] = {"processes pane"},
	[ACT_PANE2] = {"ports pane (state histogram per port)"},
	[ACT_PANE3] = {"backlog pane (Recv-Q by process and port)"},
	[ACT_ENTER] = {"sockets of the process or port; expand a backlog row"},
	[ACT_BACK] = {"back from the sockets list"},
	[ACT_SETUP] = {"columns: which show and which one sorts (saved in leaktop.conf)"},
	[ACT_SORT_NEXT] = {"sort by the next column"},
	[ACT_SORT_PREV] = {"sort by the previous column"},
	[ACT_INVERT] = {"invert the sort order"},
	[ACT_SEARCH] = {"search (Enter keeps, Esc goes back)"},
	[ACT_SEARCH_NEXT] = {"next search match"},
	[ACT_FILTER] = {"filter: cmd:X user:X port:N state:S pid:N or text"},
	[ACT_REMOTE] = {"ports pane: both sides, remote or local ports"},
	[ACT_PAUSE] = {"pause or resume refreshing (replay: play or pause)"},
	[ACT_TAG] = {"processes pane: tag or untag (D R k act on all tagged); elsewhere and in a replay, pause"},
	[ACT_UNTAG] = {"untag all"},
	[ACT_DUMP] = {"thread dump: SIGQUIT, after y to confirm"},
	[ACT_RESTART] = {"restart (systemctl or restart.COMM in leaktop.conf), after y"},
	[ACT_SIGNAL] = {"send a signal: menu, QUIT first, then y"},
	[ACT_MESSAGES] = {"messages: alerts, reasons and action results in full, each once"},
	[ACT_DUMP_VIEW] = {"the latest thread dump (taken with D, or recorded in a replay)"},
	[ACT_DELAY] = {"set the refresh delay"},
	[ACT_THEME] = {"next colour theme"},
	[ACT_REDRAW] = {"redraw the screen"},
	[ACT_STEP_BACK] = {"one refresh back or forward", true},
	[ACT_STEP_FWD] = {NULL, true},
	[ACT_MINUTE_BACK] = {"a minute back or forward", true},
	[ACT_MINUTE_FWD] = {NULL, true},
	[ACT_GOTO] = {"go to a time (HH:MM:SS)", true},
	[ACT_FASTER] = {"play faster or slower", true},
	[ACT_SLOWER] = {NULL, true},
	[ACT_QUIT] = {"quit"},
};

/* The bottom line, as in htop: F-keys first. */
const struct key_hint keys_bar_live[] = {
	{"F1", "Help", ACT_HELP, 9}, {"F2", "Setup", ACT_SETUP, 5}, {"F3", "Search", ACT_SEARCH, 7},
	{"F4", "Filter", ACT_FILTER, 7}, {"F6", "Sort", ACT_SORT_NEXT, 6}, {"F9", "Kill", ACT_SIGNAL, 4},
	{"D", "Dump", ACT_DUMP, 4}, {"R", "Restart", ACT_RESTART, 3}, {"m", "Msgs", ACT_MESSAGES, 2},
	{"F10", "Quit", ACT_QUIT, 8},
};
const size_t keys_bar_live_n = sizeof(keys_bar_live) / sizeof(keys_bar_live[0]);

/* A replay: its time keys matter more than the actions (which need the live system). */
const struct key_hint keys_bar_replay[] = {
	{"F1", "Help", ACT_HELP, 9}, {"Space", "Play", ACT_PAUSE, 8}, {"[]", "Step", ACT_STEP_BACK, 7},
	{"{}", "Minute", ACT_MINUTE_BACK, 6}, {"g", "Goto", ACT_GOTO, 6}, {"+-", "Speed", ACT_FASTER, 5},
	{"F3", "Search", ACT_SEARCH, 4}, {"F6", "Sort", ACT_SORT_NEXT, 3}, {"F10", "Quit", ACT_QUIT, 8},
};
const size_t keys_bar_replay_n = sizeof(keys_bar_replay) / sizeof(keys_bar_replay[0]);

enum tui_action keys_lookup(int key)
{
	for (unsigned i = 0; i < keys_count; i++)
		if (keys_table[i].key == key)
			return keys_table[i].act;
	return ACT_NONE;
}

char *keys_names(enum tui_action act, char *buf, size_t size)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (unsigned i = 0; i < keys_count; i++) {
		if (keys_table[i].act != act)
			continue;
		bool seen = false;
		for (unsigned j = 0; j < i; j++)
			seen |= keys_table[j].act == act && !strcmp(keys_table[j].name, keys_table[i].name);
		if (!seen && len < size)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", len ? " " : "", keys_table[i].name);
	}
	return buf;
}

/* Keys that only a view or a prompt takes, for the help: a section title (keys NULL),
 * then its keys. */
const struct key_more keys_more[] = {
	{NULL, "Confirming D, R and k:"},
	{"y", "yes, do it"},
	{"K", "thread dump (D) of a process that SIGQUIT terminates (it has no handler): yes, even so; "
	      "y does not send it"},
	{"other keys", "cancel: nothing is sent"},
	{NULL, "Signal menu (k F9):"},
	{"Up Down Home End", "choose a signal"},
	{"Enter", "send it (after y)"},
	{"Esc q", "cancel"},
	{NULL, "Messages (m):"},
	{"Up Down PgUp PgDn Home End", "scroll"},
	{"a", "the actions alone (signals, restarts, thread dumps), or every message"},
	{"d", "the latest thread dump"},
	{"Esc q m", "close"},
	{NULL, "Thread dump (d):"},
	{"Up Down PgUp PgDn Home End", "scroll"},
	{"Left Right", "scroll sideways; Left at the left edge goes back"},
	{"Esc q d", "close"},
	{NULL, "Prompts (/ F3, F4, s, g):"},
	{"Enter", "keep"},
	{"Esc", "go back"},
	{"Ctrl-U Ctrl-W", "clear the line; delete a word"},
	{NULL, "Column setup (F2 S):"},
	{"Up Down", "choose a column"},
	{"Space", "show or hide it"},
	{"Enter s", "sort by it"},
	{"I", "invert the sort"},
	{"Esc", "done (saved in leaktop.conf)"},
};
const size_t keys_more_n = sizeof(keys_more) / sizeof(keys_more[0]);

const char *keys_help_entry(size_t i, char *keys, size_t size)
{
	size_t n = 0;
	int section = -1;

	keys[0] = '\0';
	for (int act = ACT_NONE + 1; act < ACT_COUNT; act++) {
		if (!keys_help[act].help)
			continue;
		if ((int)keys_help[act].replay != section) {
			section = keys_help[act].replay;
			if (n++ == i)
				return section ? "Replay (leaktop -r FILE):" : "Keys:";
		}
		if (n++ != i)
			continue;
		char more[64];
		keys_names((enum tui_action)act, keys, size);
		for (int next = act + 1; next < ACT_COUNT && !keys_help[next].help; next++)
			snprintf(keys + strlen(keys), size - strlen(keys), " %s",
				 keys_names((enum tui_action)next, more, sizeof(more)));
		return keys_help[act].help;
	}
	if (i - n >= keys_more_n)
		return NULL;
	snprintf(keys, size, "%s", keys_more[i - n].keys ? keys_more[i - n].keys : "");
	return keys_more[i - n].help;
}

#define HELP_KEYS 18 /* the key column: "  " and 16 characters */

size_t keys_help_lines(int width, size_t want, char *buf, size_t size)
{
	char keys[128];
	const char *text;
	size_t line = 0, skip;

	if (size)
		buf[0] = '\0';
	if (width < HELP_KEYS + 12)
		width = HELP_KEYS + 12;
	for (size_t i = 0; (text = keys_help_entry(i, keys, sizeof(keys))); i++) {
		int indent = keys[0] ? HELP_KEYS + 1 : 0;
		/* Keys wider than their column go on a line of their own. */
		if (keys[0] && (int)strlen(keys) > HELP_KEYS - 2) {
			if (line++ == want && size)
				snprintf(buf, size, "  %s", keys);
			keys[0] = '\0';
		}
		bool first = true;
		do {
			size_t len = wrap_line(text, width - indent, &skip);
			if (line++ == want && size) {
				if (indent && first)
					snprintf(buf, size, "  %-*s %.*s", HELP_KEYS - 2, keys, (int)len, text);
				else
					snprintf(buf, size, "%*s%.*s", indent, "", (int)len, text);
			}
			text += skip;
			first = false;
		} while (*text);
	}
	return line;
}

size_t keys_bar_fit(const struct key_hint *bar, size_t n, int width, bool *fit)
{
	size_t count = 0;
	int used = 0;

	for (size_t i = 0; i < n; i++)
		fit[i] = false;
	/* The most important first, whatever their place on the line. */
	for (int prio = 9; prio >= 0; prio--)
		for (size_t i = 0; i < n; i++) {
			int w = (int)(strlen(bar[i].key) + strlen(bar[i].label)) + 1;
			if (bar[i].prio == prio && used + w <= width + 1) {
				fit[i] = true;
				used += w;
				count++;
			}
		}
	return count;
}
