/* Text laid out in terminal columns: widths by wcwidth, so that a wrapped line or a
 * scrolled one is exactly as wide as the screen it goes to. */
#include "config.h"

#include "tui/wrap.h"
#include "model/text.h"

#include <stdbool.h>
#include <string.h>
#include <wchar.h>

/* The character at s: its length in bytes (at least 1) and its width (*w). */
static size_t char_at(const char *s, size_t n, int *w)
{
	mbstate_t ps;
	wchar_t wc;

	memset(&ps, 0, sizeof(ps));
	size_t len = mbrtowc(&wc, s, n, &ps);
	if (len == (size_t)-1 || len == (size_t)-2 || len == 0) {
		*w = 1;
		return 1;
	}
	*w = wcwidth(wc);
	if (*w < 0)
		*w = 1;
	return len;
}

int wrap_width(const char *s, size_t len)
{
	int cols = 0, w;

	for (size_t i = 0; i < len;) {
		i += char_at(s + i, len - i, &w);
		cols += w;
	}
	return cols;
}

size_t wrap_line(const char *s, int width, size_t *skip)
{
	size_t n = strlen(s), b = 0;
	int used = 0, w;

	while (b < n) {
		size_t len = char_at(s + b, n - b, &w);
		if (used + w > width && b > 0)
			break;
		b += len;
		used += w;
	}
	if (b == n) {
		*skip = n;
		return n;
	}
	/* At a space: the last one in the line's second half, or the one just after it. */
	size_t line = b;
	if (s[b] != ' ')
		for (size_t k = b; k > b / 2; k--)
			if (s[k - 1] == ' ') {
				line = k - 1;
				break;
			}
	size_t next = line;
	while (s[next] == ' ')
		next++;
	while (line > 0 && s[line - 1] == ' ' && line > b / 2)
		line--;
	*skip = next > 0 ? next : 1;
	return line;
}

size_t wrap_count(const char *s, int first_width, int width)
{
	size_t lines = 0, skip;
	int w = first_width;

	do {
		wrap_line(s, w, &skip);
		s += skip;
		lines++;
		w = width;
	} while (*s);
	return lines;
}

const char *wrap_skip(const char *s, int cols)
{
	size_t n = strlen(s);
	int used = 0, w;

	while (*s && used < cols) {
		size_t len = char_at(s, n, &w);
		s += len;
		n -= len;
		used += w;
	}
	return s;
}

size_t wrap_expand_tabs(char *dst, size_t dstsize, const char *src, size_t len)
{
	size_t o = 0;
	int col = 0;

	if (!dstsize)
		return 0;
	dst[0] = '\0';
	for (size_t i = 0; i < len && src[i];) {
		const char *tab = memchr(src + i, '\t', len - i);
		size_t seg = tab ? (size_t)(tab - (src + i)) : len - i;
		size_t w = text_escape_controls(dst + o, dstsize - o, src + i, seg);
		col += wrap_width(dst + o, w);
		o += w;
		i += seg;
		if (!tab)
			break;
		do {
			if (o + 1 >= dstsize)
				return o;
			dst[o++] = ' ';
			dst[o] = '\0';
		} while (++col % 8);
		i++;
	}
	return o;
}
