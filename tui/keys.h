/* The key table: every key the dashboard knows, by name, with the help text F1 shows
 * and the key bar on the bottom line. */
#ifndef LEAKTOP_KEYS_H
#define LEAKTOP_KEYS_H

#include <stdbool.h>
#include <stddef.h>

enum tui_action {
	ACT_NONE,
	ACT_HELP, ACT_QUIT, ACT_UP, ACT_DOWN, ACT_PGUP, ACT_PGDN, ACT_HOME, ACT_END, ACT_LEFT, ACT_RIGHT,
	ACT_NEXT_PANE, ACT_PANE1, ACT_PANE2, ACT_PANE3, ACT_ENTER, ACT_BACK,
	ACT_SETUP, ACT_SORT_NEXT, ACT_SORT_PREV, ACT_INVERT,
	ACT_SEARCH, ACT_SEARCH_NEXT, ACT_FILTER, ACT_REMOTE,
	ACT_PAUSE, ACT_TAG, ACT_UNTAG, ACT_DUMP, ACT_RESTART, ACT_SIGNAL, ACT_MESSAGES, ACT_DUMP_VIEW,
	ACT_DELAY, ACT_THEME, ACT_REDRAW,
	/* Replay (-r FILE) */
	ACT_STEP_BACK, ACT_STEP_FWD, ACT_MINUTE_BACK, ACT_MINUTE_FWD, ACT_GOTO, ACT_FASTER, ACT_SLOWER,
	ACT_COUNT
};

struct key_binding {
	int key;
	enum tui_action act;
	const char *name;  /* as the help screen and the man page name it */
};

struct key_help {
	/* NULL: shares the line of the action before it (Up and Down). */
	const char *help;
	bool replay;       /* listed under "Replay" */
};

/* One entry of the key bar: the key as shown, its label, and the action it stands
 * for (check_keys holds the bar to the table). */
struct key_hint {
	const char *key, *label;
	enum tui_action act;
	int prio;          /* at narrow widths the lowest go first */
};

extern const struct key_binding keys_table[];
extern const unsigned keys_count;
extern const struct key_help keys_help[ACT_COUNT];
extern const struct key_hint keys_bar_live[], keys_bar_replay[];
extern const size_t keys_bar_live_n, keys_bar_replay_n;

/* The action bound to a curses key code, or ACT_NONE. */
enum tui_action keys_lookup(int key);

/* Every key bound to act, by name, space-separated, each name once: "Enter" for
 * '\n', '\r' and KEY_ENTER. Returns buf. */
char *keys_names(enum tui_action act, char *buf, size_t size);

/* Keys that only a view or a prompt takes (the confirmation's y and K, the message
 * view's, the dump viewer's, ...), for the help: a section title (keys NULL) and the
 * keys under it. */
struct key_more {
	const char *keys, *help;
};
extern const struct key_more keys_more[];
extern const size_t keys_more_n;

/* Entry i of the help: a section title (keys gets "") or keys and what they do. The
 * key table's actions come first, the ones without a help text sharing the line of
 * the one before (Down after Up), then the replay's, then keys_more. Returns the
 * text, or NULL past the end. */
const char *keys_help_entry(size_t i, char *keys, size_t size);

/* The help screen, from the tables, wrapped to width columns: every key of the key
 * table, the replay's, then keys_more. Writes line `want` (when there is one) to buf
 * and returns how many lines there are. */
size_t keys_help_lines(int width, size_t want, char *buf, size_t size);

/* Which entries of the bar fit in width columns ("KEYLabel " each), the most
 * important first, left in table order: fills fit[] and returns how many fit. */
size_t keys_bar_fit(const struct key_hint *bar, size_t n, int width, bool *fit);

#endif
