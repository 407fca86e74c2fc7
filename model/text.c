/* Escaping untrusted text. A process can name itself "\e[2J"; leaktop often runs as
 * root, so nothing from /proc reaches the terminal raw. And the one helper that
 * writes an error message for a caller (char **cause). */
#include "config.h"

#include "model/text.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is not one or is a
 * character that must not reach a terminal raw. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	if (cp >= 0x80 && cp < 0xa0) /* C1 controls, CSI among them */
		return 0;
	/* Bidirectional controls reorder what follows them on screen ("evil\u202Etxt.exe"):
	 * embeddings and overrides, isolates, and the invisible marks. */
	if ((cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200e ||
	    cp == 0x200f || cp == 0x061c)
		return 0;
	return len;
}

static size_t escape(char *dst, size_t dstsize, const char *src, size_t srclen, bool backslash)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t o = 0;

	if (dstsize == 0)
		return 0;
	for (size_t i = 0; i < srclen && s[i];) {
		size_t n = utf8_len(s + i, srclen - i);
		char esc[5];
		const char *out = (const char *)s + i;
		size_t outlen = n;

		if (n == 0 || s[i] < 0x20 || s[i] == 0x7f) {
			static const char hex[] = "0123456789abcdef";
			esc[0] = '\\', esc[1] = 'x', esc[2] = hex[s[i] >> 4], esc[3] = hex[s[i] & 15];
			out = esc, outlen = 4, n = 1;
		} else if (s[i] == '\\' && backslash) {
			out = "\\\\", outlen = 2;
		}
		if (o + outlen >= dstsize)
			break;
		memcpy(dst + o, out, outlen);
		o += outlen;
		i += n;
	}
	dst[o] = '\0';
	return o;
}

size_t text_escape(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	return escape(dst, dstsize, src, srclen, true);
}

size_t text_escape_controls(char *dst, size_t dstsize, const char *src, size_t srclen)
{
	return escape(dst, dstsize, src, srclen, false);
}

int text_cause(char **cause, int rc, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (!cause)
		return rc;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(*cause);
	*cause = msg;
	return rc;
}

struct tm *text_tm(double t, bool utc, struct tm *tm)
{
	if (!isfinite(t) || fabs(t) >= 1e12)
		return NULL;
	time_t tt = (time_t)t;
	return utc ? gmtime_r(&tt, tm) : localtime_r(&tt, tm);
}

double text_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

char *text_time(char *buf, size_t n, const char *fmt, double t)
{
	struct tm tm;

	if (!n)
		return buf;
	/* fmt is checked at every call (the format attribute in text.h); GCC does not carry
	 * that over to strftime here. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	if (!text_tm(t, false, &tm) || !strftime(buf, n, fmt, &tm))
		snprintf(buf, n, "?");
#pragma GCC diagnostic pop
	return buf;
}
