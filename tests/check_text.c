/* Untrusted text and times made safe to print: the escaper and the time formatter. */
#include "config.h"

#include "model/text.h"
#include "tests/testkit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A damaged recording can hold any time: none may crash a front end (localtime_r
 * gives NULL beyond what a struct tm holds, and a double beyond time_t is undefined
 * to convert). */
START_TEST(times_out_of_range_print_as_unknown)
{
	static const double bad[] = {1e18, -1e18, 1e300, INFINITY, -INFINITY, NAN, 9.3e15};
	char buf[32];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_str_eq(text_time(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", bad[i]), "?");
	setenv("TZ", "UTC", 1);
	ck_assert_str_eq(text_time(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", 1764625800.9), "2025-12-01 21:50:00");
	ck_assert_str_eq(text_time(buf, sizeof(buf), "%H:%M", 0), "00:00");
	/* Too small a buffer for the text: "?" rather than garbage. */
	ck_assert_str_eq(text_time(buf, 4, "%Y-%m-%d", 0), "?");
}
END_TEST

/* Every character that can change what the terminal shows is escaped, whatever
 * output it goes to: the escaped text is what the snapshot holds. */
START_TEST(escaper_stops_controls_and_bidi_overrides)
{
	char buf[128];

	text_escape(buf, sizeof(buf), "\x1b]0;owned\x07", 11);
	ck_assert_str_eq(buf, "\\x1b]0;owned\\x07");
	/* RIGHT-TO-LEFT OVERRIDE would show "evil\u202Etxt.sh" as "evilhs.txt". */
	text_escape(buf, sizeof(buf), "evil\xe2\x80\xaetxt.sh", 13);
	ck_assert_str_eq(buf, "evil\\xe2\\x80\\xaetxt.sh");
	/* First strong isolate (U+2068) and pop directional isolate (U+2069). */
	text_escape(buf, sizeof(buf), "a\xe2\x81\xa8" "b\xe2\x81\xa9", 8);
	ck_assert_str_eq(buf, "a\\xe2\\x81\\xa8b\\xe2\\x81\\xa9");
	/* Text escaped once already is not escaped again; raw controls still are. */
	text_escape(buf, sizeof(buf), "a\x1b" "b\\c", 5);
	char twice[128];
	text_escape_controls(twice, sizeof(twice), buf, strlen(buf));
	ck_assert_str_eq(twice, buf);
	text_escape_controls(twice, sizeof(twice), "x\\x1b\x07", 6);
	ck_assert_str_eq(twice, "x\\x1b\\x07");
	/* Ordinary non-ASCII text is kept: an en dash (U+2013) and an e acute. */
	text_escape(buf, sizeof(buf), "a\xe2\x80\x93" "caf\xc3\xa9", 9);
	ck_assert_str_eq(buf, "a\xe2\x80\x93" "caf\xc3\xa9");
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "text",
		 .tests = TESTKIT_TESTS(
			times_out_of_range_print_as_unknown,
			escaper_stops_controls_and_bidi_overrides)},
	};

	return TESTKIT_RUN("text", cases);
}
