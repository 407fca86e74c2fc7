/* The key table: no key does two things, every action has a key, and the help
 * screen (built from the same table) names every action. */
#include "config.h"

#include "tui/keys.h"

#include <check.h>
#include <curses.h>
#include <stdlib.h>

START_TEST(no_key_is_bound_twice)
{
	for (unsigned i = 0; i < keys_count; i++)
		for (unsigned j = i + 1; j < keys_count; j++)
			ck_assert_msg(keys_table[i].key != keys_table[j].key, "key %d bound twice", keys_table[i].key);
}
END_TEST

START_TEST(every_action_has_a_key_and_help)
{
	for (int act = ACT_NONE + 1; act < ACT_COUNT; act++) {
		bool bound = false;
		for (unsigned i = 0; i < keys_count; i++)
			bound |= keys_table[i].act == (enum tui_action)act;
		ck_assert_msg(bound, "action %d has no key", act);
	}
	/* Actions that share a help line (Up/Down) are covered by their partner's. */
	int lines = 0;
	for (int act = ACT_NONE + 1; act < ACT_COUNT; act++)
		lines += keys_help[act].keys != NULL;
	ck_assert_int_ge(lines, ACT_COUNT - 8);
}
END_TEST

START_TEST(htop_and_top_keys)
{
	ck_assert_int_eq(keys_lookup('q'), ACT_QUIT);
	ck_assert_int_eq(keys_lookup(KEY_F(10)), ACT_QUIT);
	ck_assert_int_eq(keys_lookup(KEY_F(1)), ACT_HELP);
	ck_assert_int_eq(keys_lookup(KEY_F(3)), ACT_SEARCH);
	ck_assert_int_eq(keys_lookup(KEY_F(4)), ACT_FILTER);
	ck_assert_int_eq(keys_lookup(KEY_F(6)), ACT_SORT_NEXT);
	ck_assert_int_eq(keys_lookup('I'), ACT_INVERT);
	ck_assert_int_eq(keys_lookup(' '), ACT_PAUSE);
	ck_assert_int_eq(keys_lookup(27), ACT_BACK);
	/* The replay keys. */
	ck_assert_int_eq(keys_lookup('['), ACT_STEP_BACK);
	ck_assert_int_eq(keys_lookup(']'), ACT_STEP_FWD);
	ck_assert_int_eq(keys_lookup('{'), ACT_MINUTE_BACK);
	ck_assert_int_eq(keys_lookup('}'), ACT_MINUTE_FWD);
	ck_assert_int_eq(keys_lookup('g'), ACT_GOTO);
	ck_assert_int_eq(keys_lookup('+'), ACT_FASTER);
	ck_assert_int_eq(keys_lookup('-'), ACT_SLOWER);
	/* Kept free for the actions issue. */
	static const int reserved[] = {'D', 'R', 'k', KEY_F(9)};
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		ck_assert_int_eq(keys_lookup(reserved[i]), ACT_NONE);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("keys");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, no_key_is_bound_twice);
	tcase_add_test(tc, every_action_has_a_key_and_help);
	tcase_add_test(tc, htop_and_top_keys);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
