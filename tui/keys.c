/* The key bindings (htop conventions) and their help text, as tables. Keys D, R, k,
 * F9 are kept free for process actions. */
#include "config.h"

#include "tui/keys.h"

#include <curses.h>

#define CTRL(c) ((c) & 0x1f)

const struct key_binding keys_table[] = {
	{'q', ACT_QUIT}, {KEY_F(10), ACT_QUIT},
	{'h', ACT_HELP}, {'?', ACT_HELP}, {KEY_F(1), ACT_HELP},
	{KEY_UP, ACT_UP}, {KEY_DOWN, ACT_DOWN},
	{KEY_PPAGE, ACT_PGUP}, {KEY_NPAGE, ACT_PGDN},
	{KEY_HOME, ACT_HOME}, {KEY_END, ACT_END},
	{'\t', ACT_NEXT_PANE}, {'1', ACT_PANE1}, {'2', ACT_PANE2}, {'3', ACT_PANE3},
	{'>', ACT_SORT_NEXT}, {'.', ACT_SORT_NEXT}, {KEY_F(6), ACT_SORT_NEXT},
	{'<', ACT_SORT_PREV}, {',', ACT_SORT_PREV},
	{'I', ACT_INVERT},
	{'/', ACT_SEARCH}, {KEY_F(3), ACT_SEARCH}, {'n', ACT_SEARCH_NEXT},
	{KEY_F(4), ACT_FILTER}, {'\\', ACT_FILTER},
	{' ', ACT_PAUSE}, {'p', ACT_PAUSE},
	{'d', ACT_DELAY},
	{'\n', ACT_ENTER}, {'\r', ACT_ENTER}, {KEY_ENTER, ACT_ENTER},
	{27, ACT_BACK}, {KEY_BACKSPACE, ACT_BACK}, {127, ACT_BACK}, {CTRL('h'), ACT_BACK}, {KEY_LEFT, ACT_BACK},
	{'r', ACT_REMOTE},
	{'t', ACT_THEME},
	{CTRL('l'), ACT_REDRAW},
	{'[', ACT_STEP_BACK}, {']', ACT_STEP_FWD}, {'{', ACT_MINUTE_BACK}, {'}', ACT_MINUTE_FWD},
	{'g', ACT_GOTO}, {'+', ACT_FASTER}, {'=', ACT_FASTER}, {'-', ACT_SLOWER},
};
const unsigned keys_count = sizeof(keys_table) / sizeof(keys_table[0]);

const struct key_help keys_help[ACT_COUNT] = {
	[ACT_NONE] = {NULL, NULL},
	[ACT_UP] = {"Up Down", "move the selection"},
	[ACT_DOWN] = {NULL, NULL},
	[ACT_PGUP] = {"PgUp PgDn", "move a page"},
	[ACT_PGDN] = {NULL, NULL},
	[ACT_HOME] = {"Home End", "first or last row"},
	[ACT_END] = {NULL, NULL},
	[ACT_NEXT_PANE] = {"Tab", "next pane"},
	[ACT_PANE1] = {"1", "processes pane"},
	[ACT_PANE2] = {"2", "ports pane (state histogram per port)"},
	[ACT_PANE3] = {"3", "backlog pane (Recv-Q by process and port)"},
	[ACT_ENTER] = {"Enter", "sockets of the process or port; expand a backlog row"},
	[ACT_BACK] = {"Esc Bksp Left", "back from the sockets list"},
	[ACT_SORT_NEXT] = {"F6 > .", "sort by the next column"},
	[ACT_SORT_PREV] = {"< ,", "sort by the previous column"},
	[ACT_INVERT] = {"I", "invert the sort order"},
	[ACT_SEARCH] = {"/ F3", "search (Enter keeps, Esc goes back)"},
	[ACT_SEARCH_NEXT] = {"n", "next search match"},
	[ACT_FILTER] = {"F4 \\", "filter: cmd:X user:X port:N state:S pid:N or text"},
	[ACT_REMOTE] = {"r", "ports pane: local or remote ports"},
	[ACT_PAUSE] = {"Space p", "pause or resume refreshing (replay: play or pause)"},
	[ACT_DELAY] = {"d", "set the refresh delay"},
	[ACT_THEME] = {"t", "next colour theme"},
	[ACT_REDRAW] = {"Ctrl-L", "redraw the screen"},
	[ACT_STEP_BACK] = {"[ ]", "replay: one refresh back or forward"},
	[ACT_STEP_FWD] = {NULL, NULL},
	[ACT_MINUTE_BACK] = {"{ }", "replay: a minute back or forward"},
	[ACT_MINUTE_FWD] = {NULL, NULL},
	[ACT_GOTO] = {"g", "replay: go to a time (HH:MM:SS)"},
	[ACT_FASTER] = {"+ -", "replay: play faster or slower"},
	[ACT_SLOWER] = {NULL, NULL},
	[ACT_HELP] = {"F1 h ?", "this help"},
	[ACT_QUIT] = {"F10 q", "quit"},
};

enum tui_action keys_lookup(int key)
{
	for (unsigned i = 0; i < keys_count; i++)
		if (keys_table[i].key == key)
			return keys_table[i].act;
	return ACT_NONE;
}
