/* The key table: no key does two things, every action has a key, and the help
 * screen (built from the same table) names every action. */
#include "config.h"

#include "tui/keys.h"
#include "tui/wrap.h"
#include "tests/testkit.h"

#include <curses.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	/* Every action has a help text, or shares the line of the one before it. */
	ck_assert_ptr_nonnull(keys_help[ACT_NONE + 1].help);
}
END_TEST

/* The help's words, in order: a key entry's keys, then its text. */
static size_t entry_words(char *out, size_t size)
{
	char keys[128];
	const char *text;
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; (text = keys_help_entry(i, keys, sizeof(keys))); i++)
		len += (size_t)snprintf(out + len, size - len, "%s %s ", keys, text);
	return len;
}

/* s with every run of spaces made one space, none at the ends. */
static void squeeze(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++)
		if (*p != ' ' || (o > s && o[-1] != ' '))
			*o++ = *p;
	while (o > s && o[-1] == ' ')
		o--;
	*o = '\0';
}

/* The help is drawn from the tables: every key of the key table and of the views'
 * (the confirmation's K among them) is named in it, and at 80 columns every line fits
 * and no word is cut or lost: it wraps (its lines used to be cut at 80, and the K
 * that confirms a thread dump which terminates was not in it). */
START_TEST(help_names_every_key)
{
	char keys[128], want[160];
	const char *text;
	bool k_found = false;

	for (unsigned k = 0; k < keys_count; k++) {
		bool found = false;
		snprintf(want, sizeof(want), " %s ", keys_table[k].name);
		for (size_t i = 0; !found && keys_help_entry(i, keys + 1, sizeof(keys) - 2); i++) {
			keys[0] = ' ';
			strcat(keys, " ");
			found = strstr(keys, want) != NULL;
		}
		ck_assert_msg(found, "key %s is not in the help", keys_table[k].name);
	}
	for (size_t i = 0; (text = keys_help_entry(i, keys, sizeof(keys))); i++)
		if (!strcmp(keys, "K"))
			k_found = strstr(text, "thread dump") && strstr(text, "terminates");
	ck_assert_msg(k_found, "the help does not say what K confirms");
	for (size_t i = 0; i < keys_more_n; i++)
		ck_assert(keys_more[i].help && *keys_more[i].help);

	/* Wrapped at 80: each line fits, and the lines say every word of the tables. */
	static char words[32768], lines[32768];
	size_t n = keys_help_lines(80, 0, NULL, 0), len = 0, nentries = 0;
	while (keys_help_entry(nentries, keys, sizeof(keys)))
		nentries++;
	ck_assert_uint_gt(n, nentries); /* some help text is longer than a line */
	for (size_t i = 0; i < n; i++) {
		char line[512];
		ck_assert_uint_eq(keys_help_lines(80, i, line, sizeof(line)), n);
		ck_assert_msg(wrap_width(line, strlen(line)) <= 80, "help line %zu is %d wide: %s", i,
			      wrap_width(line, strlen(line)), line);
		len += (size_t)snprintf(lines + len, sizeof(lines) - len, "%s ", line);
	}
	entry_words(words, sizeof(words));
	squeeze(words);
	squeeze(lines);
	ck_assert_str_eq(lines, words);

	char names[64];
	ck_assert_str_eq(keys_names(ACT_ENTER, names, sizeof(names)), "Enter");
	ck_assert_str_eq(keys_names(ACT_BACK, names, sizeof(names)), "Esc Bksp");
	ck_assert_str_eq(keys_names(ACT_SIGNAL, names, sizeof(names)), "F9 k");
}
END_TEST

/* The key bar shows keys that do what it says, and at 80 columns the ones an
 * on-call user needs: help, search, filter, sort, kill, quit, dump and restart
 * (live); play, step and go to (replay). */
START_TEST(key_bar_at_80_columns)
{
	static const struct {
		const struct key_hint *bar;
		const size_t *n;
		const char *must[8];
	} bars[] = {
		{keys_bar_live, &keys_bar_live_n, {"F1", "F3", "F4", "F6", "F9", "F10", "D", "R"}},
		{keys_bar_replay, &keys_bar_replay_n, {"F1", "Space", "[]", "{}", "g", "F10"}},
	};
	for (size_t b = 0; b < 2; b++) {
		bool fit[16];
		ck_assert_uint_le(*bars[b].n, 16);
		keys_bar_fit(bars[b].bar, *bars[b].n, 80, fit);
		for (size_t i = 0; i < *bars[b].n; i++) {
			bool bound = false;
			for (unsigned k = 0; k < keys_count; k++)
				bound |= keys_table[k].act == bars[b].bar[i].act &&
					 (strstr(bars[b].bar[i].key, keys_table[k].name) != NULL);
			ck_assert_msg(bound, "the bar's %s is not bound to its action", bars[b].bar[i].key);
		}
		for (size_t m = 0; m < 8 && bars[b].must[m]; m++) {
			bool shown = false;
			for (size_t i = 0; i < *bars[b].n; i++)
				shown |= fit[i] && !strcmp(bars[b].bar[i].key, bars[b].must[m]);
			ck_assert_msg(shown, "%s is not on the key bar at 80 columns", bars[b].must[m]);
		}
		/* At 40 columns, Help and Quit still are. */
		keys_bar_fit(bars[b].bar, *bars[b].n, 40, fit);
		ck_assert(fit[0]);
		int width = 0;
		for (size_t i = 0; i < *bars[b].n; i++)
			width += fit[i] ? (int)(strlen(bars[b].bar[i].key) + strlen(bars[b].bar[i].label)) + 1 : 0;
		ck_assert_int_le(width, 41);
	}
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
	ck_assert_int_eq(keys_lookup(27), ACT_BACK);
	/* Process actions, as in htop: Space tags (and pauses outside the processes
	 * pane), k and F9 signal; p pauses everywhere. */
	ck_assert_int_eq(keys_lookup(' '), ACT_TAG);
	ck_assert_int_eq(keys_lookup('p'), ACT_PAUSE);
	ck_assert_int_eq(keys_lookup('D'), ACT_DUMP);
	ck_assert_int_eq(keys_lookup('R'), ACT_RESTART);
	ck_assert_int_eq(keys_lookup('k'), ACT_SIGNAL);
	ck_assert_int_eq(keys_lookup(KEY_F(9)), ACT_SIGNAL);
	ck_assert_int_eq(keys_lookup('U'), ACT_UNTAG);
	/* d reads the latest thread dump from anywhere; s sets the delay, as in top. */
	ck_assert_int_eq(keys_lookup('d'), ACT_DUMP_VIEW);
	ck_assert_int_eq(keys_lookup('s'), ACT_DELAY);
	ck_assert_int_eq(keys_lookup('m'), ACT_MESSAGES);
	/* The replay keys. */
	ck_assert_int_eq(keys_lookup('['), ACT_STEP_BACK);
	ck_assert_int_eq(keys_lookup(']'), ACT_STEP_FWD);
	ck_assert_int_eq(keys_lookup('{'), ACT_MINUTE_BACK);
	ck_assert_int_eq(keys_lookup('}'), ACT_MINUTE_FWD);
	ck_assert_int_eq(keys_lookup('g'), ACT_GOTO);
	ck_assert_int_eq(keys_lookup('+'), ACT_FASTER);
	ck_assert_int_eq(keys_lookup('-'), ACT_SLOWER);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "table",
		 .tests = TESTKIT_TESTS(
			no_key_is_bound_twice,
			every_action_has_a_key_and_help,
			htop_and_top_keys,
			help_names_every_key,
			key_bar_at_80_columns)},
	};

	setlocale(LC_ALL, "C.UTF-8");
	return TESTKIT_RUN("keys", cases);
}
