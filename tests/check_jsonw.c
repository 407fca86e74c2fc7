/* The JSON writer: what a reader of `leaktop -b -o json` parses. Escaping of every
 * byte a hostile name may hold, commas and nesting, numbers JSON can hold (never nan
 * or inf), and misuse caught as the bug it is. */
#include "config.h"

#include "model/jsonw.h"
#include "tests/testkit.h"

#include <check.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *out;
static size_t len;
static FILE *f;
static struct jsonw *w;
static size_t from; /* what written() returned up to */

static void setup(void)
{
	out = NULL, len = 0, from = 0;
	f = open_memstream(&out, &len);
	ck_assert_ptr_nonnull(f);
	w = jsonw_new(f);
	ck_assert_ptr_nonnull(w);
}

static void teardown(void)
{
	jsonw_free(w);
	fclose(f);
	free(out);
}

/* What was written since the last call. */
static const char *written(void)
{
	fflush(f);
	const char *s = out + from;
	from = len;
	return s;
}

/* One string as a value of its own: its JSON line without the newline. */
static const char *str_json(const char *s)
{
	static char buf[512];

	written();
	jsonw_str(w, NULL, s);
	snprintf(buf, sizeof(buf), "%s", written());
	ck_assert_uint_gt(strlen(buf), 0);
	ck_assert_int_eq(buf[strlen(buf) - 1], '\n');
	buf[strlen(buf) - 1] = '\0';
	return buf;
}

/* Every byte a name can hold: control bytes (what would move a terminal's cursor or
 * end a JSON string) as \u00XX, the quote and the backslash escaped, the rest, UTF-8
 * and invalid bytes alike, as they are (the terminal escaping was done before). */
START_TEST(escapes_every_control_byte)
{
	for (unsigned c = 1; c < 256; c++) {
		char in[2] = {(char)c, 0}, want[16];
		if (c < 0x20 || c == 0x7f)
			snprintf(want, sizeof(want), "\"\\u%04x\"", c);
		else if (c == '"' || c == '\\')
			snprintf(want, sizeof(want), "\"\\%c\"", c);
		else
			snprintf(want, sizeof(want), "\"%c\"", c);
		ck_assert_msg(!strcmp(str_json(in), want), "byte 0x%02x: %s, not %s", c, str_json(in), want);
	}
	ck_assert_str_eq(str_json("\x1b[31mevil\n"), "\"\\u001b[31mevil\\u000a\"");
	ck_assert_str_eq(str_json("tab\there\x7f"), "\"tab\\u0009here\\u007f\"");
	/* A name escaped for the terminal (text_escape) keeps its backslash, escaped. */
	ck_assert_str_eq(str_json("java\\x1b]0;pwned\\x07\""), "\"java\\\\x1b]0;pwned\\\\x07\\\"\"");
	ck_assert_str_eq(str_json("caf\xc3\xa9 \xff\xe2\x80\xae"), "\"caf\xc3\xa9 \xff\xe2\x80\xae\"");
	ck_assert_str_eq(str_json(""), "\"\"");
	ck_assert_str_eq(str_json(NULL), "null");
}
END_TEST

/* Commas between siblings only, at every depth, empty containers, and keys escaped
 * like any string. Each value at the top level is a line of its own (JSON Lines). */
START_TEST(nesting_and_commas)
{
	jsonw_obj(w, NULL);
	jsonw_uint(w, "a", 1);
	jsonw_arr(w, "b");
	jsonw_int(w, NULL, 1);
	jsonw_int(w, NULL, -2);
	jsonw_obj(w, NULL);
	jsonw_null(w, "c");
	jsonw_end(w);
	jsonw_arr(w, NULL);
	jsonw_end(w);
	jsonw_end(w);
	jsonw_obj(w, "d");
	jsonw_end(w);
	jsonw_arr(w, "e");
	jsonw_end(w);
	jsonw_bool(w, "t", true);
	jsonw_bool(w, "f", false);
	jsonw_str(w, "k\"ey\x01", "v");
	jsonw_end(w);
	ck_assert_str_eq(written(), "{\"a\": 1, \"b\": [1, -2, {\"c\": null}, []], \"d\": {}, \"e\": [], "
				    "\"t\": true, \"f\": false, \"k\\\"ey\\u0001\": \"v\"}\n");

	/* The next line starts afresh: no comma carried over from the last. */
	jsonw_arr(w, NULL);
	jsonw_end(w);
	jsonw_uint(w, NULL, 7);
	jsonw_obj(w, NULL);
	jsonw_str(w, "x", NULL);
	jsonw_end(w);
	ck_assert_str_eq(written(), "[]\n7\n{\"x\": null}\n");

	/* As deep as it goes. */
	for (int i = 0; i < JSONW_DEPTH; i++)
		jsonw_arr(w, NULL);
	for (int i = 0; i < JSONW_DEPTH; i++)
		jsonw_end(w);
	char want[2 * JSONW_DEPTH + 2];
	memset(want, '[', JSONW_DEPTH);
	memset(want + JSONW_DEPTH, ']', JSONW_DEPTH);
	strcpy(want + 2 * JSONW_DEPTH, "\n");
	ck_assert_str_eq(written(), want);
}
END_TEST

/* Integers whole at both ends of their range; doubles as the output asks (digits
 * after the point, or significant digits), and what JSON cannot hold (a figure
 * unknown, never reached, or a damaged recording's) null. */
START_TEST(numbers)
{
	jsonw_arr(w, NULL);
	jsonw_int(w, NULL, INT64_MIN);
	jsonw_int(w, NULL, INT64_MAX);
	jsonw_uint(w, NULL, UINT64_MAX);
	jsonw_uint(w, NULL, 0);
	jsonw_num(w, NULL, 1700000000.5, 3);
	jsonw_num(w, NULL, 74.9, 2);
	jsonw_num(w, NULL, -848.26, 1);
	jsonw_num(w, NULL, 2.6, 0);
	jsonw_num(w, NULL, 3329.0, -6);
	jsonw_num(w, NULL, 0.1234567, -6);
	jsonw_num(w, NULL, 1e18, -6);
	jsonw_num(w, NULL, NAN, 2);
	jsonw_num(w, NULL, INFINITY, 0);
	jsonw_num(w, NULL, -INFINITY, -6);
	jsonw_end(w);
	ck_assert_str_eq(written(), "[-9223372036854775808, 9223372036854775807, 18446744073709551615, 0, "
				    "1700000000.500, 74.90, -848.3, 3, 3329, 0.123457, 1e+18, null, null, null]\n");

	/* A huge finite figure (a damaged recording) is all digits, still a number. */
	jsonw_num(w, NULL, -1e300, 2);
	const char *s = written();
	ck_assert_int_eq(s[0], '-');
	ck_assert_uint_eq(strspn(s + 1, "0123456789"), 301);
	ck_assert_str_eq(s + 302, ".00\n");
}
END_TEST

/* Nothing is cut or reordered where the writer's gathering fills up: a name longer
 * than all of it, escapes across its edge, a number longer than any leaktop writes. */
START_TEST(long_values_whole)
{
	static char name[20001], want[6 * 20000 + 3];
	char *p = want;

	*p++ = '"';
	for (size_t i = 0; i < sizeof(name) - 1; i++) {
		name[i] = i % 3 ? 'a' + (char)(i % 26) : '\x1b';
		p += i % 3 ? sprintf(p, "%c", name[i]) : sprintf(p, "\\u001b");
	}
	strcpy(p, "\"\n");
	jsonw_str(w, NULL, name);
	ck_assert_str_eq(written(), want);

	char big[1024];
	snprintf(big, sizeof(big), "[1.%0600d, 2]\n", 0);
	jsonw_arr(w, NULL);
	jsonw_num(w, NULL, 1.0, 600);
	jsonw_uint(w, NULL, 2);
	jsonw_end(w);
	ck_assert_str_eq(written(), big);
}
END_TEST

/* A line cut short (an error midway) still goes out when the writer is freed. */
START_TEST(free_sends_the_rest)
{
	jsonw_obj(w, NULL);
	jsonw_uint(w, "tick", 3);
	ck_assert_str_eq(written(), "");
	jsonw_free(w);
	w = NULL;
	ck_assert_str_eq(written(), "{\"tick\": 3");
}
END_TEST

/* A writer used wrongly is a bug in leaktop: it stops rather than write JSON no
 * reader can parse. */
START_TEST(key_in_an_array)
{
	jsonw_arr(w, NULL);
	jsonw_uint(w, "pid", 1);
}
END_TEST

START_TEST(no_key_in_an_object)
{
	jsonw_obj(w, NULL);
	jsonw_uint(w, NULL, 1);
}
END_TEST

START_TEST(key_at_the_top)
{
	jsonw_obj(w, "time");
}
END_TEST

START_TEST(end_with_nothing_open)
{
	jsonw_obj(w, NULL);
	jsonw_end(w);
	jsonw_end(w);
}
END_TEST

START_TEST(too_deep)
{
	for (int i = 0; i <= JSONW_DEPTH; i++)
		jsonw_arr(w, NULL);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			escapes_every_control_byte,
			nesting_and_commas,
			numbers,
			long_values_whole,
			free_sends_the_rest),
		 /* Misuse is a bug: the writer aborts. */
		 .signal = SIGABRT,
		 .aborting = TESTKIT_TESTS(
			key_in_an_array,
			no_key_in_an_object,
			key_at_the_top,
			end_with_nothing_open,
			too_deep)},
	};

	return TESTKIT_RUN("jsonw", cases);
}
