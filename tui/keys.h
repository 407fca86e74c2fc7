/* The key table: every key the dashboard knows, with the help text F1 shows. */
#ifndef LEAKTOP_KEYS_H
#define LEAKTOP_KEYS_H

enum tui_action {
	ACT_NONE,
	ACT_QUIT, ACT_HELP, ACT_UP, ACT_DOWN, ACT_PGUP, ACT_PGDN, ACT_HOME, ACT_END,
	ACT_NEXT_PANE, ACT_PANE1, ACT_PANE2, ACT_PANE3,
	ACT_SORT_NEXT, ACT_SORT_PREV, ACT_INVERT,
	ACT_SEARCH, ACT_SEARCH_NEXT, ACT_FILTER,
	ACT_PAUSE, ACT_DELAY, ACT_ENTER, ACT_BACK, ACT_REMOTE, ACT_THEME, ACT_REDRAW,
	/* Replay (-r FILE) */
	ACT_STEP_BACK, ACT_STEP_FWD, ACT_MINUTE_BACK, ACT_MINUTE_FWD, ACT_GOTO, ACT_FASTER, ACT_SLOWER,
	ACT_COUNT
};

struct key_binding {
	int key;
	enum tui_action act;
};

struct key_help {
	const char *keys;  /* as the help screen shows them */
	const char *help;
};

extern const struct key_binding keys_table[];
extern const unsigned keys_count;
extern const struct key_help keys_help[ACT_COUNT];

/* The action bound to a curses key code, or ACT_NONE. */
enum tui_action keys_lookup(int key);

#endif
