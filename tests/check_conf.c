/* The configuration file parser, and leaktop's own keys through options_parse. */
#include "config.h"

#include "model/conf.h"
#include "tui/options.h"

#include <check.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct demo {
	double ratio;
	uint32_t count;
	char name[8];
};

static const struct conf_key keys[] = {
	{"ratio", CONF_DOUBLE, offsetof(struct demo, ratio), 0, 0, 1},
	{"count", CONF_UINT, offsetof(struct demo, count), 0, 1, 1000},
	{"restart.java", CONF_STRING, offsetof(struct demo, name), sizeof(((struct demo *)0)->name), 0, 0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

START_TEST(parses_values_comments_and_quotes)
{
	struct demo d = {0};
	char *cause = NULL;
	const char *text = "# a comment\n"
			   "\n"
			   "ratio = 0.25\n"
			   "  count=42  \n"
			   "   # indented comment\n"
			   "restart.java = \" a b \"";
	ck_assert_int_eq(conf_parse(text, "t.conf", keys, NKEYS, &d, &cause), 0);
	ck_assert_ptr_null(cause);
	ck_assert_double_eq(d.ratio, 0.25);
	ck_assert_uint_eq(d.count, 42);
	ck_assert_str_eq(d.name, " a b ");
}
END_TEST

static void broken(const char *text, const char *want)
{
	struct demo d = {0};
	char *cause = NULL;
	ck_assert_int_eq(conf_parse(text, "/etc/x.conf", keys, NKEYS, &d, &cause), -EINVAL);
	ck_assert_ptr_nonnull(cause);
	ck_assert_str_eq(cause, want);
	free(cause);
}

START_TEST(broken_lines_name_file_and_line)
{
	broken("ratio = 0.5\n\nthis line is wrong\n", "/etc/x.conf:3: expected 'key = value': this line is wrong");
	broken("# ok\nratoi = 0.5\n", "/etc/x.conf:2: unknown key: ratoi");
	broken("count = 1.5\n", "/etc/x.conf:1: count: expected a whole number from 1 to 1000");
	broken("count = 0\n", "/etc/x.conf:1: count: expected a whole number from 1 to 1000");
	broken("ratio = 2\n", "/etc/x.conf:1: ratio: expected a number from 0 to 1");
	broken("ratio =\n", "/etc/x.conf:1: ratio: expected a number from 0 to 1");
	broken("restart.java = toolongvalue\n", "/etc/x.conf:1: value of restart.java is too long (at most 7 characters)");
	broken("= 3\n", "/etc/x.conf:1: expected a key before '='");
}
END_TEST

START_TEST(missing_file_is_fine_unless_asked_for)
{
	struct demo d = {0};
	char *cause = NULL;
	ck_assert_int_eq(conf_load("/nonexistent/leaktop.conf", false, keys, NKEYS, &d, &cause), 0);
	ck_assert_int_eq(conf_load("/nonexistent/leaktop.conf", true, keys, NKEYS, &d, &cause), -ENOENT);
	ck_assert_str_eq(cause, "/nonexistent/leaktop.conf: No such file or directory");
	free(cause);
}
END_TEST

START_TEST(default_path_follows_xdg)
{
	setenv("XDG_CONFIG_HOME", "/x", 1);
	char *p = conf_default_path();
	ck_assert_str_eq(p, "/x/leaktop/leaktop.conf");
	free(p);
	unsetenv("XDG_CONFIG_HOME");
	setenv("HOME", "/home/sre", 1);
	p = conf_default_path();
	ck_assert_str_eq(p, "/home/sre/.config/leaktop/leaktop.conf");
	free(p);
}
END_TEST

static char conf_path[64];

static void write_conf(const char *text)
{
	strcpy(conf_path, "/tmp/check_conf.XXXXXX");
	int fd = mkstemp(conf_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

START_TEST(options_read_the_file_and_the_command_line_wins)
{
	struct options o;
	char *cause = NULL;
	write_conf("alert.fd_warn = 50\nalert.close_wait = 7\nalert.cmd = /usr/local/bin/page-me\n"
		   "history.window_minutes = 2\n");
	char arg[96];
	snprintf(arg, sizeof(arg), "--config=%s", conf_path);
	char *argv[] = {"leaktop", "-b", arg, "--close-wait-alert", "9", NULL};
	ck_assert_int_eq(options_parse(&o, 5, argv, &cause), 0);
	ck_assert_double_eq(o.alert.fd_warn_pct, 50);
	ck_assert_double_eq(o.alert.fd_crit_pct, 90); /* untouched: the default */
	ck_assert_uint_eq(o.alert.close_wait, 9);
	ck_assert_str_eq(o.alert_cmd, "/usr/local/bin/page-me");
	ck_assert_double_eq(o.growth_window_min, 2);
	unlink(conf_path);
}
END_TEST

START_TEST(options_report_a_broken_config_line)
{
	struct options o;
	char *cause = NULL, arg[96], want[128];
	write_conf("alert.fd_warn = 50\nalert.fd_crit = lots\n");
	snprintf(arg, sizeof(arg), "--config=%s", conf_path);
	char *argv[] = {"leaktop", "-b", arg, NULL};
	ck_assert_int_eq(options_parse(&o, 3, argv, &cause), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: alert.fd_crit: expected a number from 1 to 100", conf_path);
	ck_assert_str_eq(cause, want);
	free(cause);
	/* --no-config skips it; a bad option value names the option. */
	char *argv2[] = {"leaktop", "-b", arg, "--no-config", "--eta-alert=soon", NULL};
	ck_assert_int_eq(options_parse(&o, 5, argv2, &cause), -EINVAL);
	ck_assert_str_eq(cause, "--eta-alert=soon: expected a number from 0 to 1e+06");
	free(cause);
	unlink(conf_path);
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *su = suite_create("conf");
	TCase *tc = tcase_create("conf");
	tcase_add_test(tc, parses_values_comments_and_quotes);
	tcase_add_test(tc, broken_lines_name_file_and_line);
	tcase_add_test(tc, missing_file_is_fine_unless_asked_for);
	tcase_add_test(tc, default_path_follows_xdg);
	tcase_add_test(tc, options_read_the_file_and_the_command_line_wins);
	tcase_add_test(tc, options_report_a_broken_config_line);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(conf_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
