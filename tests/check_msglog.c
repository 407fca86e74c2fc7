/* The message view's log: each thing said once, repeats counted on the entry they
 * repeat, news kept in order, actions marked, the log bounded, text escaped. */
#include "config.h"

#include "tui/msglog.h"
#include "tests/testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct msglog *l;

static void setup(void)
{
	l = msglog_new(MSGLOG_MAX_ENTRIES, MSGLOG_MAX_BYTES);
	ck_assert_ptr_nonnull(l);
}

static void teardown(void)
{
	msglog_free(l);
}

/* How many entries hold exactly text. */
static size_t entries_of(const char *text)
{
	size_t n = 0;
	for (size_t i = 0; i < msglog_count(l); i++)
		n += !strcmp(msglog_get(l, i)->text, text);
	return n;
}

/* The same line again at once is counted, not added: a message view that said the
 * same thing every refresh (3-4 lines every 2 s) buried what mattered. */
START_TEST(the_same_line_twice_in_a_row_is_counted)
{
	const char *a = "ALERT warning: pid 7 (pool) holds 224 CLOSE_WAIT sockets (more than 100)";
	for (int i = 0; i < 10; i++)
		msglog_add(l, 1000 + 2 * i, MSGLOG_EVENT, a);
	ck_assert_uint_eq(msglog_count(l), 1);
	const struct msglog_entry *e = msglog_get(l, 0);
	ck_assert_uint_eq(e->repeats, 9);
	ck_assert(e->time == 1000 && e->last == 1018);
	/* News in between: the next one is news again, in order. */
	msglog_add(l, 1020, MSGLOG_EVENT, "cleared: pid 7");
	msglog_add(l, 1022, MSGLOG_EVENT, a);
	ck_assert_uint_eq(msglog_count(l), 3);
	ck_assert_uint_eq(entries_of(a), 2);
}
END_TEST

/* A note (the whole text of an alert or reason the screen cut) holds: with 40 of
 * them noted at every refresh, each is in the log once, however many refreshes. It
 * used to be said again once 32 others had been (a ring of 32 hashes). */
START_TEST(forty_notes_over_ten_refreshes_are_said_once_each)
{
	char text[128];
	for (int r = 0; r < 10; r++)
		for (int p = 0; p < 40; p++) {
			snprintf(text, sizeof(text), "ALERT warning: pid %d (client) holds 11 CLOSE_WAIT sockets", 100 + p);
			msglog_add(l, 1000 + 2 * r, MSGLOG_NOTE, text);
		}
	ck_assert_uint_eq(msglog_count(l), 40);
	for (size_t i = 0; i < 40; i++) {
		ck_assert_uint_eq(msglog_get(l, i)->repeats, 9);
		ck_assert(msglog_get(l, i)->last == 1018);
	}
	/* An error too: one that comes back every refresh is one entry. */
	for (int r = 0; r < 5; r++) {
		msglog_add(l, 2000 + r, MSGLOG_ERROR, "/proc/net: permission denied");
		msglog_add(l, 2000 + r, MSGLOG_EVENT, r % 2 ? "a" : "b");
	}
	ck_assert_uint_eq(entries_of("/proc/net: permission denied"), 1);
}
END_TEST

/* Actions are marked, kept in order among the rest, and each one is news. */
START_TEST(actions_are_marked_and_each_is_news)
{
	msglog_add(l, 1, MSGLOG_NOTE, "reason: leak pid 42");
	msglog_add(l, 2, MSGLOG_ACTION, "SIGQUIT pid 42 (java, start 9): ok: dumped (still running)");
	msglog_append(l, "  ", "d: read the thread dump", 23);
	msglog_add(l, 3, MSGLOG_ACTION, "restart pid 42 (java, start 9): ok: ran systemctl restart java");
	msglog_append(l, "  | ", "line one\r\nline two\n", 19);
	ck_assert_uint_eq(msglog_count(l), 3);
	ck_assert_int_eq(msglog_get(l, 1)->kind, MSGLOG_ACTION);
	ck_assert_str_eq(msglog_get(l, 1)->text,
			 "SIGQUIT pid 42 (java, start 9): ok: dumped (still running)\n  d: read the thread dump");
	/* CRLF output: lines, no \x0d. */
	ck_assert_str_eq(msglog_get(l, 2)->text, "restart pid 42 (java, start 9): ok: ran systemctl restart java\n"
						  "  | line one\n  | line two");
}
END_TEST

/* Text from outside (names, a restart command's output) never reaches the terminal
 * raw; newlines stay line breaks. */
START_TEST(text_is_escaped)
{
	msglog_add(l, 1, MSGLOG_EVENT, "name \x1b[2J\nsecond\tline");
	ck_assert_str_eq(msglog_get(l, 0)->text, "name \\x1b[2J\nsecond\\x09line");
	msglog_append(l, "| ", "\x07" "bell", 5);
	ck_assert_str_eq(msglog_get(l, 0)->text, "name \\x1b[2J\nsecond\\x09line\n| \\x07bell");
}
END_TEST

/* Bounded: the oldest go, by count and by size, and how many went is known. */
START_TEST(the_log_is_bounded)
{
	char text[64];
	for (int i = 0; i < 5000; i++) {
		snprintf(text, sizeof(text), "event %d", i);
		msglog_add(l, i, MSGLOG_EVENT, text);
	}
	ck_assert_uint_eq(msglog_count(l), MSGLOG_MAX_ENTRIES);
	ck_assert_uint_eq(msglog_dropped(l), 5000 - MSGLOG_MAX_ENTRIES);
	ck_assert_str_eq(msglog_get(l, 0)->text, "event 4000");
	ck_assert_str_eq(msglog_get(l, MSGLOG_MAX_ENTRIES - 1)->text, "event 4999");
	ck_assert_ptr_null(msglog_get(l, MSGLOG_MAX_ENTRIES));

	struct msglog *small = msglog_new(100, 1000);
	char big[400];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	for (int i = 0; i < 10; i++) {
		big[0] = (char)('a' + i);
		msglog_add(small, i, MSGLOG_ACTION, big);
	}
	ck_assert_uint_eq(msglog_count(small), 2); /* 2 x 399 bytes fit in 1000, not 3 */
	ck_assert_int_eq(msglog_get(small, 1)->text[0], 'j');
	msglog_free(small);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "msglog", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			the_same_line_twice_in_a_row_is_counted,
			forty_notes_over_ten_refreshes_are_said_once_each,
			actions_are_marked_and_each_is_news,
			text_is_escaped,
			the_log_is_bounded)},
	};

	return TESTKIT_RUN("msglog", cases);
}
