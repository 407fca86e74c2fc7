/* The message view's log: a ring of entries, each said once (see msglog.h). */
#include "config.h"

#include "tui/msglog.h"
#include "model/text.h"

#include <stdlib.h>
#include <string.h>

struct msglog {
	struct msglog_entry *e;   /* a ring: e[(start + i) % cap] is entry i */
	size_t cap, start, n;
	size_t bytes, max_bytes;
	unsigned long dropped;
};

struct msglog *msglog_new(size_t max_entries, size_t max_bytes)
{
	struct msglog *l = calloc(1, sizeof(*l));

	if (!l || !(l->e = calloc(max_entries ? max_entries : 1, sizeof(*l->e)))) {
		free(l);
		return NULL;
	}
	l->cap = max_entries ? max_entries : 1;
	l->max_bytes = max_bytes;
	return l;
}

void msglog_free(struct msglog *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++)
		free(l->e[(l->start + i) % l->cap].text);
	free(l->e);
	free(l);
}

size_t msglog_count(const struct msglog *l)
{
	return l ? l->n : 0;
}

const struct msglog_entry *msglog_get(const struct msglog *l, size_t i)
{
	return i < l->n ? &l->e[(l->start + i) % l->cap] : NULL;
}

unsigned long msglog_dropped(const struct msglog *l)
{
	return l->dropped;
}

/* FNV-1a: to compare texts quickly. */
static uint32_t hash_text(const char *s)
{
	uint32_t h = 2166136261u;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* text[0..len) escaped line by line, each line after the first with prefix, appended
 * to *buf (malloc'd, may be NULL). 0 or -1. */
static int escape_lines(char **buf, const char *prefix, const char *text, size_t len)
{
	size_t have = *buf ? strlen(*buf) : 0, plen = strlen(prefix);
	/* Every byte may become "\xNN"; every line gets a newline and the prefix. */
	size_t nl = 1;
	for (size_t i = 0; i < len; i++)
		nl += text[i] == '\n';
	size_t cap = have + len * 4 + nl * (plen + 1) + 1;
	char *out = realloc(*buf, cap);
	if (!out)
		return -1;
	*buf = out;
	size_t o = have;
	bool first = !have;
	for (const char *s = text, *end = text + len; s < end || first;) {
		const char *e = memchr(s, '\n', (size_t)(end - s));
		size_t n = e ? (size_t)(e - s) : (size_t)(end - s);
		if (n && s[n - 1] == '\r')
			n--; /* CRLF output: the line, not a \x0d at its end */
		if (!first) {
			out[o++] = '\n';
			memcpy(out + o, prefix, plen);
			o += plen;
		}
		o += text_escape_controls(out + o, cap - o, s, n);
		first = false;
		if (!e)
			break;
		s = e + 1;
	}
	out[o] = '\0';
	return 0;
}

/* The oldest entry goes. */
static void drop_oldest(struct msglog *l)
{
	struct msglog_entry *e = &l->e[l->start];

	l->bytes -= strlen(e->text);
	free(e->text);
	l->start = (l->start + 1) % l->cap;
	l->n--;
	l->dropped++;
}

static struct msglog_entry *newest(struct msglog *l)
{
	return l->n ? &l->e[(l->start + l->n - 1) % l->cap] : NULL;
}

const struct msglog_entry *msglog_add(struct msglog *l, double t, enum msglog_kind kind, const char *text)
{
	char *esc = NULL;

	if (!l || escape_lines(&esc, "", text, strlen(text)))
		return NULL;
	uint32_t h = hash_text(esc);
	struct msglog_entry *last = newest(l), *same = NULL;
	if (last && last->kind == kind && last->hash == h && !strcmp(last->text, esc))
		same = last;
	/* A note or an error holds: once it is in the log, it is not said again. */
	for (size_t i = l->n; !same && (kind == MSGLOG_NOTE || kind == MSGLOG_ERROR) && i-- > 0;) {
		struct msglog_entry *e = &l->e[(l->start + i) % l->cap];
		if (e->kind == kind && e->hash == h && !strcmp(e->text, esc))
			same = e;
	}
	if (same) {
		free(esc);
		same->repeats++;
		same->last = t;
		return same;
	}
	size_t len = strlen(esc);
	while (l->n && (l->n == l->cap || l->bytes + len > l->max_bytes))
		drop_oldest(l);
	struct msglog_entry *e = &l->e[(l->start + l->n) % l->cap];
	*e = (struct msglog_entry){.time = t, .last = t, .kind = kind, .hash = h, .text = esc};
	l->n++;
	l->bytes += len;
	return e;
}

void msglog_append(struct msglog *l, const char *prefix, const char *text, size_t len)
{
	struct msglog_entry *e = newest(l);

	if (!e || !len)
		return;
	size_t before = strlen(e->text);
	if (escape_lines(&e->text, prefix, text, len) == 0) {
		l->bytes += strlen(e->text) - before;
		e->hash = hash_text(e->text);
	}
	while (l->n > 1 && l->bytes > l->max_bytes)
		drop_oldest(l);
}
