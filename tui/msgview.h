/* What the dashboard says: the status line, the message view (m), what was said, whole
 * and each thing once, and the thread dump viewer (d), the dumps taken or recorded. */
#ifndef LEAKTOP_MSGVIEW_H
#define LEAKTOP_MSGVIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "tui/msglog.h"

struct app;

int msgview_init(struct app *a);
void msgview_free(struct app *a);

/* The status line: fmt said there, and kept whole for m when it is an error or longer
 * than the screen is wide. */
void msgview_status(struct app *a, bool error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The full text of something cut on screen (an alert, a reason, a status) goes to
 * the message view once: said again while it is there, it is only counted (m shows
 * it). News (a transition: fired, cleared, judged) goes there with
 * msgview_add(a, MSGLOG_EVENT, text) instead, each time it happens. */
void msgview_note(struct app *a, const char *text);

/* Say text (raw: escaped here; newlines break lines) in the message view, stamped
 * with the time of the refresh shown in a replay, the clock when live. */
void msgview_add(struct app *a, enum msglog_kind kind, const char *text);
/* ... stamped with t (unix seconds). */
void msgview_add_at(struct app *a, double t, enum msglog_kind kind, const char *text);
/* More lines (raw) for the newest message, each after a line break and prefix: an
 * action's output. */
void msgview_append(struct app *a, const char *prefix, const char *text, size_t len);
/* How many messages there are: msgview_open_at(mark) opens the view at the first one
 * said after it was taken. */
size_t msgview_mark(const struct app *a);

/* m: open at the newest page. */
void msgview_open(struct app *a);
void msgview_open_at(struct app *a, size_t mark);
/* d: open the latest thread dump (Esc goes back to where it was opened). */
void msgview_open_dump(struct app *a);

/* Keep a thread dump (raw text) for the viewer; whose names it in the title: "pid 42
 * java, 10:12:03". The oldest of more than a few goes. */
void msgview_keep_dump(struct app *a, const char *whose, const char *text, size_t len);
size_t msgview_ndumps(const struct app *a);

/* While the view or the viewer is up, it takes every key: true when it took this one. */
bool msgview_key(struct app *a, int key);
/* Draw what is up over the panes; false when nothing is. */
bool msgview_draw(struct app *a);

#endif
