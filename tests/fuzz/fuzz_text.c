/* libFuzzer target: the escaper that makes process names and command lines safe for
 * a terminal (text_escape) and for JSON (jsonw_str). */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "model/jsonw.h"
#include "model/text.h"

/* No control character (C0, DEL, C1) and valid UTF-8: what a terminal may be sent. */
static bool terminal_safe(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n;) {
		unsigned c = s[i], len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 :
					(c & 0xf8) == 0xf0 ? 4 : 0;
		if (!len || i + len > n || c < 0x20 || c == 0x7f)
			return false;
		unsigned cp = len == 1 ? c : c & (0x7f >> len);
		for (unsigned k = 1; k < len; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
		if (cp < min[len] || (cp >= 0x80 && cp < 0xa0) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp < 0xe000))
			return false;
		i += len;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	/* The first byte picks the destination's size, 1 to 256. */
	size_t dstsize = (size_t)data[0] + 1;
	data++, size--;
	char *dst = malloc(dstsize);
	if (!dst)
		abort();
	size_t n = text_escape(dst, dstsize, (const char *)data, size);
	if (n >= dstsize || strlen(dst) != n || !terminal_safe((const unsigned char *)dst, n)) {
		fprintf(stderr, "text_escape gave %zu bytes into %zu: not terminal-safe\n", n, dstsize);
		abort();
	}
	free(dst);

	/* JSON: a quoted string on a line of its own, with no raw control character. */
	char *s = fuzz_str(data, size), *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct jsonw *w = f ? jsonw_new(f) : NULL;
	if (!w)
		abort();
	jsonw_str(w, NULL, s);
	jsonw_free(w);
	fclose(f);
	if (len < 3 || out[0] != '"' || out[len - 2] != '"' || out[len - 1] != '\n')
		abort();
	for (size_t i = 0; i + 1 < len; i++)
		if ((unsigned char)out[i] < 0x20)
			abort();
	free(out);
	free(s);
	return 0;
}
