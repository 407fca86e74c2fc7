/* The message view's log: what the dashboard said, each thing once, bounded. An entry
 * repeated at once (the same text again) is counted on the entry it repeats, not
 * added; a note (the whole text of something the screen cut, that holds from refresh
 * to refresh) or an error is counted on its entry as long as that is in the log.
 * Actions (signals, restarts, thread dumps) are marked so that the view can show them
 * alone. No curses. */
#ifndef LEAKTOP_MSGLOG_H
#define LEAKTOP_MSGLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum msglog_kind {
	MSGLOG_EVENT,   /* news: a transition, a recorded event, a status */
	MSGLOG_NOTE,    /* the whole text of something cut on screen: said once */
	MSGLOG_ERROR,   /* an error the status line showed: said once, too */
	MSGLOG_ACTION,  /* an action's outcome, its output, a thread dump */
	MSGLOG_KINDS
};

struct msglog_entry {
	double time;            /* unix seconds: the clock live, the recorded time in a replay */
	double last;            /* when it was said last (repeats) */
	unsigned repeats;       /* said again this many times */
	enum msglog_kind kind;
	uint32_t hash;
	char *text;             /* escaped; lines separated by '\n' */
};

/* At most max_entries entries and about max_bytes of text: the oldest go first. */
#define MSGLOG_MAX_ENTRIES 1000
#define MSGLOG_MAX_BYTES (2u << 20)

struct msglog;

struct msglog *msglog_new(size_t max_entries, size_t max_bytes);
void msglog_free(struct msglog *l);

/* Add text (raw: escaped here; newlines kept as line breaks) said at time t. Returns
 * the entry it went to: new, or the one it repeats. NULL when out of memory. */
const struct msglog_entry *msglog_add(struct msglog *l, double t, enum msglog_kind kind, const char *text);

/* Add more lines to the newest entry (an action's output): raw, each line after the
 * first prefixed with prefix. */
void msglog_append(struct msglog *l, const char *prefix, const char *text, size_t len);

size_t msglog_count(const struct msglog *l);
/* Entry i, 0 the oldest. */
const struct msglog_entry *msglog_get(const struct msglog *l, size_t i);
/* How many entries have been dropped to keep the bound. */
unsigned long msglog_dropped(const struct msglog *l);

#endif
