/* The status line, the message view (m) and the thread dump viewer (d). Messages are kept whole in a
 * bounded log (tui/msglog.c) and wrapped to the screen when drawn, so a resize wraps
 * them again; actions are marked and can be shown alone (a). The dump viewer expands
 * tabs and scrolls sideways, as the drill-down does. */
#include "config.h"

#include "tui/msgview.h"
#include "tui/draw.h"
#include "tui/state.h"
#include "tui/term.h"
#include "tui/wrap.h"
#include "program/tdigest.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "model/vec.h"

#include <curses.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DUMPS_MAX 4
#define INDENT 4                 /* a wrapped line's continuation */

enum mv_mode { MV_NONE, MV_MESSAGES, MV_DUMP };

/* A thread dump, one raw line per line: escaped and its tabs expanded when drawn
 * (escaped, a hostile dump of 8 MB could take four times that). */
struct mv_dump {
	char title[160];
	char **lines;
	size_t nlines;
	int widest;              /* columns, expanded: whether Right has anything to show */
};

struct msgview {
	struct msglog *log;
	enum mv_mode mode, back; /* back: where the dump viewer returns to */
	bool actions_only;       /* a: the actions alone */
	size_t top;              /* the first line shown (of the wrapped lines) */
	bool follow;             /* at the end: stay there as messages come */
	size_t open_entry;       /* open at this entry (SIZE_MAX: no) */
	size_t page;             /* lines shown, as drawn last */
	char *buf;               /* an entry, or a dump's line, as shown */
	size_t bufsize;
	struct mv_dump dumps[DUMPS_MAX]; /* oldest first */
	size_t ndumps, dump_top;
	int dump_left;           /* columns scrolled off to the left */
};

int msgview_init(struct app *a)
{
	if (!(a->msgs = calloc(1, sizeof(*a->msgs))) ||
	    !(a->msgs->log = msglog_new(MSGLOG_MAX_ENTRIES, MSGLOG_MAX_BYTES))) {
		free(a->msgs);
		a->msgs = NULL;
		return -ENOMEM;
	}
	a->msgs->open_entry = SIZE_MAX;
	return 0;
}

static void dump_release(struct mv_dump *d)
{
	for (size_t i = 0; i < d->nlines; i++)
		free(d->lines[i]);
	free(d->lines);
}

void msgview_free(struct app *a)
{
	struct msgview *v = a->msgs;

	if (!v)
		return;
	for (size_t d = 0; d < v->ndumps; d++)
		dump_release(&v->dumps[d]);
	msglog_free(v->log);
	free(v->buf);
	free(v);
	a->msgs = NULL;
}

/* --- saying things -------------------------------------------------------------------- */

void msgview_add_at(struct app *a, double t, enum msglog_kind kind, const char *text)
{
	if (a->msgs)
		msglog_add(a->msgs->log, t, kind, text);
}

void msgview_add(struct app *a, enum msglog_kind kind, const char *text)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	/* A replay says what happened when it was recorded, not today. */
	double t = !a->live && a->s ? a->s->time : (double)ts.tv_sec + ts.tv_nsec / 1e9;
	msgview_add_at(a, t, kind, text);
}

void msgview_append(struct app *a, const char *prefix, const char *text, size_t len)
{
	if (a->msgs)
		msglog_append(a->msgs->log, prefix, text, len);
}

size_t msgview_mark(const struct app *a)
{
	return a->msgs ? msglog_count(a->msgs->log) + msglog_dropped(a->msgs->log) : 0;
}

/* --- the message view ------------------------------------------------------------------ */

void msgview_open_at(struct app *a, size_t mark)
{
	struct msgview *v = a->msgs;

	if (!v)
		return;
	if (!msglog_count(v->log)) {
		msgview_status(a, false, "no messages yet");
		return;
	}
	size_t dropped = msglog_dropped(v->log);
	v->open_entry = mark >= dropped ? mark - dropped : 0;
	v->follow = false;
	v->mode = MV_MESSAGES;
}

void msgview_open(struct app *a)
{
	struct msgview *v = a->msgs;

	if (!v)
		return;
	msgview_open_at(a, 0);
	v->open_entry = SIZE_MAX;
	v->follow = true; /* the newest page */
}

static bool shown(const struct msgview *v, const struct msglog_entry *e)
{
	return !v->actions_only || e->kind == MSGLOG_ACTION;
}

/* v->buf, at least need bytes. */
static void buf_reserve(struct msgview *v, size_t need)
{
	if (need > v->bufsize) {
		char *b = realloc(v->buf, need);
		if (!b)
			term_oom();
		v->buf = b;
		v->bufsize = need;
	}
}

/* Entry e as the view shows it: "10:42:25 ACTION SIGQUIT pid 42 ... (x3, last 10:42:31)". */
static const char *entry_text(struct msgview *v, const struct msglog_entry *e)
{
	char ts[16], last[16] = "", more[48] = "";

	buf_reserve(v, strlen(e->text) + 96);
	text_time(ts, sizeof(ts), "%H:%M:%S", e->time);
	if (e->repeats) {
		/* A note holds from refresh to refresh: when it was seen last says more
		 * than how often the screen showed it. */
		text_time(last, sizeof(last), "%H:%M:%S", e->last);
		if (e->kind == MSGLOG_NOTE)
			snprintf(more, sizeof(more), " (last seen %s)", last);
		else
			snprintf(more, sizeof(more), " (x%u, last %s)", e->repeats + 1, last);
	}
	snprintf(v->buf, v->bufsize, "%s %s%s%s", ts, e->kind == MSGLOG_ACTION ? "ACTION " : "", e->text, more);
	return v->buf;
}

/* Each line of the shown entries wrapped to width: lines [from, to) are drawn at
 * screen line y + (line - from). Returns how many lines there are; *entry_line gets
 * the first line of entry v->open_entry. */
static size_t walk_lines(struct app *a, int width, size_t from, size_t to, int y, size_t *entry_line)
{
	struct msgview *v = a->msgs;
	size_t line = 0, n = msglog_count(v->log);

	for (size_t i = 0; i < n; i++) {
		const struct msglog_entry *e = msglog_get(v->log, i);
		if (!shown(v, e))
			continue;
		if (i == v->open_entry && entry_line)
			*entry_line = line;
		int role = e->kind == MSGLOG_ERROR ? draw_attr(a, TH_CRITICAL) :
			   e->kind == MSGLOG_ACTION ? (int)A_BOLD : (int)A_NORMAL;
		/* Our own copy: each of its lines is cut out in place. */
		char *s = (char *)entry_text(v, e);
		for (;;) {
			char *nl = strchr(s, '\n');
			if (nl)
				*nl = '\0';
			/* One line of the entry, wrapped: the continuation indented. */
			const char *p = s;
			bool first = true;
			do {
				size_t skip, len = wrap_line(p, first ? width : width - INDENT, &skip);
				if (line >= from && line < to) {
					char out[2048];
					snprintf(out, sizeof(out), "%*s%.*s", first ? 0 : INDENT, "", (int)len, p);
					draw_text(y + (int)(line - from), 0, COLS, out, role, false);
				}
				line++;
				p += skip;
				first = false;
			} while (*p);
			if (!nl)
				break;
			s = nl + 1;
		}
	}
	return line;
}

static int view_height(void)
{
	return LINES - 3 > 2 ? LINES - 3 : 2;
}

/* A box of h lines above the key bar, its title reversed; returns its first line. */
static int mv_box(struct app *a, int h, const char *title)
{
	int y = LINES - 1 - h;

	if (y < 0)
		y = 0;
	for (int i = y; i < LINES; i++) {
		move(i, 0);
		attrset(A_NORMAL);
		clrtoeol();
	}
	draw_text(y, 0, COLS, title, draw_attr(a, TH_TITLE) | (int)A_REVERSE, false);
	return y + 1;
}

/* The view's own keys, where the key bar is. */
static void mv_keys(struct app *a, const char *keys)
{
	draw_text(LINES - 1, 0, COLS, keys, draw_attr(a, TH_KEY), false);
}

static void draw_messages(struct app *a)
{
	struct msgview *v = a->msgs;
	int h = view_height(), width = COLS > 20 ? COLS - 1 : 20;
	size_t rows = (size_t)(h - 1), n = msglog_count(v->log), nact = 0, open_line = SIZE_MAX;
	char title[200];

	for (size_t i = 0; i < n; i++)
		nact += msglog_get(v->log, i)->kind == MSGLOG_ACTION;
	size_t total = walk_lines(a, width, 0, 0, 0, &open_line);
	size_t last = total > rows ? total - rows : 0;
	if (open_line != SIZE_MAX)
		v->top = open_line;
	v->open_entry = SIZE_MAX;
	if (v->follow || v->top > last)
		v->top = last;
	v->follow = v->top == last;
	v->page = rows;
	size_t end = v->top + rows < total ? v->top + rows : total;
	if (v->actions_only)
		snprintf(title, sizeof(title), " Actions (%zu of %zu messages): lines %zu-%zu of %zu ", nact, n,
			 total ? v->top + 1 : 0, end, total);
	else
		snprintf(title, sizeof(title), " Messages (%zu, %zu action%s): lines %zu-%zu of %zu ", n, nact,
			 nact == 1 ? "" : "s", total ? v->top + 1 : 0, end, total);
	int y = mv_box(a, h, title);
	if (!total)
		draw_text(y, 0, COLS, v->actions_only ? "  (no actions yet)" : "  (none)", A_NORMAL, false);
	walk_lines(a, width, v->top, v->top + rows, y, NULL);
	const char *all = v->actions_only ? "a all" : "a actions only";
	snprintf(title, sizeof(title), "Up/Down PgUp/PgDn Home/End scroll  %s  %sEsc close", all,
		 v->ndumps ? "d thread dump  " : "");
	mv_keys(a, title);
}

/* --- the thread dump viewer -------------------------------------------------------------- */

/* A dump's raw line as shown: escaped, its tabs expanded (in v->buf). */
static const char *dump_line(struct msgview *v, const char *raw)
{
	size_t n = strlen(raw), tabs = 0;

	for (size_t i = 0; i < n; i++)
		tabs += raw[i] == '\t';
	/* Each byte may become \xNN, each tab up to 8 spaces. */
	buf_reserve(v, n * 4 + tabs * 8 + 1);
	wrap_expand_tabs(v->buf, v->bufsize, raw, n);
	return v->buf;
}

void msgview_keep_dump(struct app *a, const char *whose, const char *text, size_t len)
{
	struct msgview *v = a->msgs;
	struct mv_dump *d;

	if (!v || !text)
		return;
	if (v->ndumps == DUMPS_MAX) {
		dump_release(&v->dumps[0]);
		memmove(v->dumps, v->dumps + 1, (DUMPS_MAX - 1) * sizeof(*v->dumps));
		v->ndumps--;
	}
	d = &v->dumps[v->ndumps];
	memset(d, 0, sizeof(*d));
	snprintf(d->title, sizeof(d->title), "Thread dump of %s", whose);
	/* Its digest first (program/tdigest.h): where the application's threads are. */
	char *with_digest = tdigest_prepend(text, len, &len);
	if (with_digest)
		text = with_digest;
	size_t cap = 0;
	for (const char *s = text, *end = text + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (vec_reserve_min(&d->lines, &cap, d->nlines + 1, sizeof(*d->lines), 256))
			break;
		if (!(d->lines[d->nlines] = strndup(s, n)))
			break;
		const char *shown = dump_line(v, d->lines[d->nlines++]);
		int cols = wrap_width(shown, strlen(shown));
		d->widest = cols > d->widest ? cols : d->widest;
		s = nl ? nl + 1 : end;
	}
	free(with_digest);
	v->ndumps++;
}

size_t msgview_ndumps(const struct app *a)
{
	return a->msgs ? a->msgs->ndumps : 0;
}

void msgview_open_dump(struct app *a)
{
	struct msgview *v = a->msgs;

	if (!v)
		return;
	if (!v->ndumps) {
		msgview_status(a, false, a->live ? "no thread dump yet: D takes one (SIGQUIT)"
					      : "no thread dump recorded up to here");
		return;
	}
	v->back = v->mode == MV_MESSAGES ? MV_MESSAGES : MV_NONE;
	v->dump_top = 0;
	v->dump_left = 0;
	v->mode = MV_DUMP;
}

static void draw_dump(struct app *a)
{
	struct msgview *v = a->msgs;
	const struct mv_dump *d = &v->dumps[v->ndumps - 1];
	int h = view_height();
	size_t rows = (size_t)(h - 1);
	char title[300], where[64] = "";

	v->page = rows;
	if (v->dump_left)
		snprintf(where, sizeof(where), ", columns %d-", v->dump_left + 1);
	snprintf(title, sizeof(title), " %s: lines %zu-%zu of %zu%s ", d->title, d->nlines ? v->dump_top + 1 : 0,
		 v->dump_top + rows < d->nlines ? v->dump_top + rows : d->nlines, d->nlines, where);
	int y = mv_box(a, h, title);
	for (size_t r = 0; r < rows && v->dump_top + r < d->nlines; r++)
		draw_text(y + (int)r, 0, COLS, wrap_skip(dump_line(v, d->lines[v->dump_top + r]), v->dump_left), A_NORMAL,
			  false);
	mv_keys(a, d->widest > COLS ? "Up/Down PgUp/PgDn Home/End scroll  Left/Right sideways  Esc close"
				    : "Up/Down PgUp/PgDn Home/End scroll  Esc close");
}

/* --- keys --------------------------------------------------------------------------------- */

/* Up, Down, PgUp, PgDn, Home, End (and b, Space, g, G, as in less) on a position. */
static bool scroll_key(int key, size_t *top, size_t page, size_t last)
{
	if (key == KEY_UP && *top > 0)
		(*top)--;
	else if (key == KEY_DOWN && *top < last)
		(*top)++;
	else if (key == KEY_PPAGE || key == 'b')
		*top = *top > page ? *top - page : 0;
	else if (key == KEY_NPAGE || key == ' ')
		*top = *top + page < last ? *top + page : last;
	else if (key == KEY_HOME || key == 'g')
		*top = 0;
	else if (key == KEY_END || key == 'G')
		*top = last;
	else
		return key == KEY_UP || key == KEY_DOWN;
	return true;
}

static void dump_key(struct app *a, int key)
{
	struct msgview *v = a->msgs;
	const struct mv_dump *d = &v->dumps[v->ndumps - 1];
	size_t page = v->page ? v->page : 1, last = d->nlines > page ? d->nlines - page : 0;
	int step = COLS / 4 > 8 ? COLS / 4 : 8;

	if (scroll_key(key, &v->dump_top, page, last))
		return;
	if (key == KEY_RIGHT) {
		if (v->dump_left + COLS < d->widest)
			v->dump_left += step;
	} else if (key == KEY_LEFT && v->dump_left > 0) {
		v->dump_left = v->dump_left > step ? v->dump_left - step : 0;
	} else if (key == 27 || key == 'q' || key == 'd' || key == KEY_LEFT || key == KEY_BACKSPACE) {
		v->mode = v->back;
	} else if (key == 'm') {
		v->mode = MV_MESSAGES;
	}
}

static void messages_key(struct app *a, int key)
{
	struct msgview *v = a->msgs;
	size_t page = v->page ? v->page : 1;

	/* The end is where the drawing puts it: far enough is the end. */
	if (scroll_key(key, &v->top, page, SIZE_MAX / 2)) {
		v->follow = key == KEY_END || key == 'G';
		return;
	}
	if (key == 'a') {
		v->actions_only = !v->actions_only;
		v->follow = true;
	} else if (key == 'd') {
		msgview_open_dump(a);
	} else if (key == 27 || key == 'q' || key == 'm' || key == '\n' || key == '\r' || key == KEY_ENTER ||
		   key == KEY_LEFT || key == KEY_BACKSPACE) {
		v->mode = MV_NONE;
	}
}

bool msgview_key(struct app *a, int key)
{
	struct msgview *v = a->msgs;

	if (!v || v->mode == MV_NONE || key == KEY_RESIZE || key == KEY_MOUSE)
		return false;
	if (v->mode == MV_DUMP)
		dump_key(a, key);
	else
		messages_key(a, key);
	return true;
}

bool msgview_draw(struct app *a)
{
	struct msgview *v = a->msgs;

	if (!v || v->mode == MV_NONE)
		return false;
	if (v->mode == MV_DUMP && v->ndumps)
		draw_dump(a);
	else
		draw_messages(a);
	return true;
}

void msgview_status(struct app *a, bool error, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(a->status, sizeof(a->status), fmt, ap);
	va_end(ap);
	a->status_error = error;
	/* Every error, and what the status line may cut, is kept whole for m. */
	if (error)
		msgview_add(a, MSGLOG_ERROR, a->status);
	else if ((int)strlen(a->status) > COLS)
		msgview_note(a, a->status);
}

void msgview_note(struct app *a, const char *text)
{
	msgview_add(a, MSGLOG_NOTE, text);
}
