/* The one JSON writer: commas, nesting and escaping in one place, streamed onto a
 * FILE. The spacing is the house's JSON Lines (", " and ": ", as Python's json.dumps
 * writes), which readers of `leaktop -b -o json` and its fixtures already hold. */
#include "config.h"

#include "model/jsonw.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

struct jsonw {
	FILE *f;
	unsigned depth;
	/* Per open level: an object (keys wanted) or an array, and whether a value was
	 * written in it already (so the next one needs a comma). */
	bool obj[JSONW_DEPTH];
	bool more[JSONW_DEPTH];
};

struct jsonw *jsonw_new(FILE *f)
{
	struct jsonw *w = calloc(1, sizeof(*w));

	if (w)
		w->f = f;
	return w;
}

void jsonw_free(struct jsonw *w)
{
	free(w);
}

/* The stdio calls without the stream's lock: a writer's FILE is its own while it
 * writes (batch output is one thread), and 150k sockets make a million calls. */
static void put(FILE *f, const void *p, size_t n)
{
	fwrite_unlocked(p, 1, n, f);
}

/* Write s[0..) as a quoted string: runs of plain bytes at once, since most of what
 * goes out (keys, addresses, state names) has nothing to escape. */
static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s, *run = p;
	static const char hex[] = "0123456789abcdef";

	putc_unlocked('"', f);
	for (;; p++) {
		unsigned c = *p;
		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		if (p > run)
			put(f, run, (size_t)(p - run));
		if (!c)
			break;
		if (c == '"' || c == '\\')
			put(f, (const char[2]){'\\', (char)c}, 2);
		else
			put(f, (const char[6]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}, 6);
		run = p + 1;
	}
	putc_unlocked('"', f);
}

/* Before a value: the comma after its sibling and its key, checked against where it
 * goes. */
static void value_begin(struct jsonw *w, const char *key)
{
	if (w->depth) {
		unsigned d = w->depth - 1;
		if (w->obj[d] != (key != NULL))
			abort();
		if (w->more[d])
			put(w->f, ", ", 2);
		w->more[d] = true;
	} else if (key) {
		abort();
	}
	if (key) {
		put_string(w->f, key);
		put(w->f, ": ", 2);
	}
}

/* After a value: one at the top level ends its line. */
static void value_end(struct jsonw *w)
{
	if (!w->depth)
		putc_unlocked('\n', w->f);
}

/* An integer's digits, as %llu would write them (with neg, a minus before). */
static void put_digits(FILE *f, bool neg, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	if (neg)
		*--p = '-';
	put(f, p, (size_t)(buf + sizeof(buf) - p));
}

static void open_level(struct jsonw *w, const char *key, bool obj)
{
	value_begin(w, key);
	if (w->depth == JSONW_DEPTH)
		abort();
	w->obj[w->depth] = obj;
	w->more[w->depth] = false;
	w->depth++;
	putc_unlocked(obj ? '{' : '[', w->f);
}

void jsonw_obj(struct jsonw *w, const char *key)
{
	open_level(w, key, true);
}

void jsonw_arr(struct jsonw *w, const char *key)
{
	open_level(w, key, false);
}

void jsonw_end(struct jsonw *w)
{
	if (!w->depth)
		abort();
	w->depth--;
	putc_unlocked(w->obj[w->depth] ? '}' : ']', w->f);
	value_end(w);
}

void jsonw_str(struct jsonw *w, const char *key, const char *v)
{
	value_begin(w, key);
	if (v)
		put_string(w->f, v);
	else
		put(w->f, "null", 4);
	value_end(w);
}

void jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
	value_begin(w, key);
	put_digits(w->f, v < 0, v < 0 ? -(uint64_t)v : (uint64_t)v);
	value_end(w);
}

void jsonw_uint(struct jsonw *w, const char *key, uint64_t v)
{
	value_begin(w, key);
	put_digits(w->f, false, v);
	value_end(w);
}

void jsonw_num(struct jsonw *w, const char *key, double v, int decimals)
{
	value_begin(w, key);
	if (!isfinite(v))
		put(w->f, "null", 4);
	else if (decimals >= 0)
		fprintf(w->f, "%.*f", decimals, v);
	else
		fprintf(w->f, "%.*g", -decimals, v);
	value_end(w);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	value_begin(w, key);
	put(w->f, v ? "true" : "false", v ? 4 : 5);
	value_end(w);
}

void jsonw_null(struct jsonw *w, const char *key)
{
	value_begin(w, key);
	put(w->f, "null", 4);
	value_end(w);
}
