/* The one JSON writer: commas, nesting and escaping in one place, streamed onto a
 * FILE. The spacing is the house's JSON Lines (", " and ": ", as Python's json.dumps
 * writes), which readers of `leaktop -b -o json` and its fixtures already hold. */
#include "config.h"

#include "model/jsonw.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct jsonw {
	FILE *f;
	unsigned depth;
	/* Per open level: an object (keys wanted) or an array, and whether a value was
	 * written in it already (so the next one needs a comma). */
	bool obj[JSONW_DEPTH];
	bool more[JSONW_DEPTH];
	/* What goes out, gathered: 150k sockets are some two million small pieces,
	 * and one stdio call each cost more than the rest of the output. */
	size_t len;
	char buf[8192];
};

struct jsonw *jsonw_new(FILE *f)
{
	struct jsonw *w = malloc(sizeof(*w));

	if (w) {
		w->f = f;
		w->depth = 0;
		w->len = 0;
	}
	return w;
}

static void flush(struct jsonw *w)
{
	if (w->len)
		fwrite(w->buf, 1, w->len, w->f);
	w->len = 0;
}

void jsonw_free(struct jsonw *w)
{
	if (w)
		flush(w);
	free(w);
}

static void put(struct jsonw *w, const void *p, size_t n)
{
	if (n > sizeof(w->buf) - w->len) {
		flush(w);
		if (n > sizeof(w->buf)) {
			fwrite(p, 1, n, w->f);
			return;
		}
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_char(struct jsonw *w, char c)
{
	if (w->len == sizeof(w->buf))
		flush(w);
	w->buf[w->len++] = c;
}

/* Write s[0..) as a quoted string: runs of plain bytes at once, since most of what
 * goes out (keys, addresses, state names) has nothing to escape. */
static void put_string(struct jsonw *w, const char *s)
{
	/* The bytes that end a run: NUL, the other controls, DEL, '"' and '\\'. */
	static const bool stop[256] = {
		[0x00 ... 0x1f] = true, ['"'] = true, ['\\'] = true, [0x7f] = true,
	};
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s, *run = p;

	put_char(w, '"');
	for (;; p++) {
		unsigned c = *p;
		if (!stop[c])
			continue;
		if (p > run)
			put(w, run, (size_t)(p - run));
		if (!c)
			break;
		if (c == '"' || c == '\\')
			put(w, (const char[2]){'\\', (char)c}, 2);
		else
			put(w, (const char[6]){'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]}, 6);
		run = p + 1;
	}
	put_char(w, '"');
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
			put(w, ", ", 2);
		w->more[d] = true;
	} else if (key) {
		abort();
	}
	if (key) {
		put_string(w, key);
		put(w, ": ", 2);
	}
}

/* After a value: one at the top level ends its line, and goes out. */
static void value_end(struct jsonw *w)
{
	if (!w->depth) {
		put_char(w, '\n');
		flush(w);
	}
}

/* An integer's digits, as %llu would write them (with neg, a minus before). */
static void put_digits(struct jsonw *w, bool neg, uint64_t v)
{
	char buf[24], *p = buf + sizeof(buf);

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	if (neg)
		*--p = '-';
	put(w, p, (size_t)(buf + sizeof(buf) - p));
}

static void open_level(struct jsonw *w, const char *key, bool obj)
{
	value_begin(w, key);
	if (w->depth == JSONW_DEPTH)
		abort();
	w->obj[w->depth] = obj;
	w->more[w->depth] = false;
	w->depth++;
	put_char(w, obj ? '{' : '[');
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
	put_char(w, w->obj[w->depth] ? '}' : ']');
	value_end(w);
}

void jsonw_str(struct jsonw *w, const char *key, const char *v)
{
	value_begin(w, key);
	if (v)
		put_string(w, v);
	else
		put(w, "null", 4);
	value_end(w);
}

void jsonw_int(struct jsonw *w, const char *key, int64_t v)
{
	value_begin(w, key);
	put_digits(w, v < 0, v < 0 ? -(uint64_t)v : (uint64_t)v);
	value_end(w);
}

void jsonw_uint(struct jsonw *w, const char *key, uint64_t v)
{
	value_begin(w, key);
	put_digits(w, false, v);
	value_end(w);
}

void jsonw_num(struct jsonw *w, const char *key, double v, int decimals)
{
	char num[512];
	int n = 4;

	value_begin(w, key);
	if (!isfinite(v))
		memcpy(num, "null", 4);
	else if (decimals >= 0)
		n = snprintf(num, sizeof(num), "%.*f", decimals, v);
	else
		n = snprintf(num, sizeof(num), "%.*g", -decimals, v);
	if (n >= 0 && (size_t)n < sizeof(num)) {
		put(w, num, (size_t)n);
	} else {
		/* Longer than any double at the decimals leaktop asks (1e308 at %.3f is
		 * 313 bytes): written straight out rather than cut. */
		flush(w);
		fprintf(w->f, decimals >= 0 ? "%.*f" : "%.*g", decimals >= 0 ? decimals : -decimals, v);
	}
	value_end(w);
}

void jsonw_bool(struct jsonw *w, const char *key, bool v)
{
	value_begin(w, key);
	put(w, v ? "true" : "false", v ? 4 : 5);
	value_end(w);
}

void jsonw_null(struct jsonw *w, const char *key)
{
	value_begin(w, key);
	put(w, "null", 4);
	value_end(w);
}
