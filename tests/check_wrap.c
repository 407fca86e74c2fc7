/* Text laid out in terminal columns: wrapping at spaces by display width, a
 * sideways scroll that never splits a wide character, tabs expanded. */
#include "config.h"

#include "tui/wrap.h"
#include "tests/testkit.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every line of s wrapped to width, "|"-separated. */
static const char *wrapped(const char *s, int width)
{
	static char out[1024];
	size_t o = 0, skip;

	out[0] = '\0';
	while (*s) {
		size_t len = wrap_line(s, width, &skip);
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%.*s", o ? "|" : "", (int)len, s);
		ck_assert_int_le(wrap_width(s, len), width);
		s += skip;
	}
	return out;
}

START_TEST(wraps_at_spaces_within_the_width)
{
	ck_assert_str_eq(wrapped("stalled at 300 for 24s (pool exhausted?)", 16),
			 "stalled at 300|for 24s (pool|exhausted?)");
	/* A word longer than the line is broken where the line ends (the only space is in
	 * its first half); the space at a break is dropped. */
	ck_assert_str_eq(wrapped("a 1234567890123 b", 6), "a 1234|567890|123 b");
	ck_assert_str_eq(wrapped("fits", 10), "fits");
	ck_assert_uint_eq(wrap_count("fits", 10, 10), 1);
	ck_assert_uint_eq(wrap_count("stalled at 300 for 24s (pool exhausted?)", 16, 16), 3);
	/* A first line narrower than the rest (a time stamp before it). */
	ck_assert_uint_eq(wrap_count("one two three four", 4, 20), 2);
}
END_TEST

START_TEST(wide_characters_count_two_columns)
{
	/* Three CJK characters, two columns each. */
	const char *s = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e";
	ck_assert_int_eq(wrap_width(s, strlen(s)), 6);
	ck_assert_str_eq(wrapped(s, 4), "\xe6\x97\xa5\xe6\x9c\xac|\xe8\xaa\x9e");
	/* Scrolled by one column: the character cut in two is left out whole. */
	ck_assert_str_eq(wrap_skip(s, 1), "\xe6\x9c\xac\xe8\xaa\x9e");
	ck_assert_str_eq(wrap_skip(s, 2), "\xe6\x9c\xac\xe8\xaa\x9e");
	ck_assert_str_eq(wrap_skip("abcdef", 4), "ef");
	ck_assert_str_eq(wrap_skip("abc", 10), "");
}
END_TEST

START_TEST(tabs_expand_to_eight_columns)
{
	char out[256];

	wrap_expand_tabs(out, sizeof(out), "\tat PoolLeak.main(PoolLeak.java:42)", 35);
	ck_assert_str_eq(out, "        at PoolLeak.main(PoolLeak.java:42)");
	wrap_expand_tabs(out, sizeof(out), "ab\tc\td", 6);
	ck_assert_str_eq(out, "ab      c       d");
	/* A control character is escaped, four columns wide, and the tab stop counts it. */
	wrap_expand_tabs(out, sizeof(out), "\x1b" "ab\tc", 5);
	ck_assert_str_eq(out, "\\x1bab  c");
	ck_assert_ptr_null(strchr(out, '\t'));
	/* Cut at the buffer's end, terminated. */
	wrap_expand_tabs(out, 6, "\t\t\t", 3);
	ck_assert_uint_eq(strlen(out), 5);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "wrap",
		 .tests = TESTKIT_TESTS(
			wraps_at_spaces_within_the_width,
			wide_characters_count_two_columns,
			tabs_expand_to_eight_columns)},
	};

	setlocale(LC_ALL, "C.UTF-8");
	return TESTKIT_RUN("wrap", cases);
}
