/* Theme files: parsing roles, colours and attributes; a broken file names its line
 * and leaves the default; the shipped themes all parse. */
#include "config.h"

#include "themes/theme.h"
#include "model/conf.h"
#include "tests/testkit.h"
#include <errno.h>
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(parses_roles_colours_and_attributes)
{
	struct theme t;
	char *cause = NULL;
	theme_default(&t);
	ck_assert_int_eq(theme_parse(&t,
				     "# a comment\n"
				     "\n"
				     "header = white,blue bold   # trailing comment\n"
				     "state.close_wait = bright-red reverse underline\n"
				     "selected = 208,default\n",
				     "x.theme", &cause), 0);
	ck_assert_int_eq(t.roles[TH_HEADER].fg, 7);
	ck_assert_int_eq(t.roles[TH_HEADER].bg, 4);
	ck_assert_uint_eq(t.roles[TH_HEADER].attrs, TA_BOLD);
	ck_assert_int_eq(t.roles[TH_STATE + ST_CLOSE_WAIT].fg, 9);
	ck_assert_uint_eq(t.roles[TH_STATE + ST_CLOSE_WAIT].attrs, TA_REVERSE | TA_UNDERLINE);
	ck_assert_int_eq(t.roles[TH_SELECTED].fg, 208);
	ck_assert_int_eq(t.roles[TH_SELECTED].bg, THEME_DEFAULT_COLOR);
	/* Roles the file does not name keep the default. */
	struct theme d;
	theme_default(&d);
	ck_assert_mem_eq(&t.roles[TH_STATUS], &d.roles[TH_STATUS], sizeof(d.roles[0]));
}
END_TEST

START_TEST(every_role_has_a_name)
{
	for (unsigned r = 0; r < TH_COUNT; r++)
		ck_assert_ptr_nonnull(theme_role_name(r));
	ck_assert_str_eq(theme_role_name(TH_STATE + ST_CLOSE_WAIT), "state.close_wait");
	ck_assert_ptr_null(theme_role_name(TH_COUNT));
}
END_TEST

static void expect_error(const char *text, const char *want)
{
	struct theme t;
	char *cause = NULL;
	theme_default(&t);
	ck_assert_int_lt(theme_parse(&t, text, "bad.theme", &cause), 0);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, want), "'%s' lacks '%s'", cause, want);
	free(cause);
}

START_TEST(broken_files_name_the_file_and_line)
{
	expect_error("header = white\nheadr = red\n", "bad.theme:2: unknown role 'headr'");
	expect_error("# ok\n\nstatus = purple\n", "bad.theme:3: unknown colour or attribute 'purple'");
	expect_error("status = 256\n", "bad.theme:1:");
	expect_error("status red\n", "bad.theme:1:");
	expect_error("status = red blue\n", "bad.theme:1:");
	expect_error("\x1b[2J = red\n", "bad.theme:1: unknown role '\\x1b[2J'");
}
END_TEST

static char dir[TESTKIT_DIR_MAX];

static void write_theme(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s.theme", dir, name);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void dir_setup(void)
{
	testkit_mkdir(dir, "theme");
	setenv("LEAKTOP_THEME_PATH", dir, 1);
	setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
}

static void dir_teardown(void)
{
	ck_assert_int_eq(testkit_rmdir(dir), 0);
}

START_TEST(load_falls_back_to_default_on_a_broken_file)
{
	struct theme t, d;
	char *cause = NULL;
	write_theme("broken", "title = red\nnonsense\n");
	theme_default(&d);
	ck_assert_int_lt(theme_load(&t, "broken", &cause), 0);
	ck_assert_ptr_nonnull(strstr(cause, "broken.theme:2:"));
	ck_assert_str_eq(t.name, "default");
	ck_assert_mem_eq(t.roles, d.roles, sizeof(d.roles));
	free(cause);
}
END_TEST

START_TEST(load_finds_user_themes_and_lists_them)
{
	struct theme t;
	char *cause = NULL, *names[16];
	write_theme("mine", "title = yellow,black\n");
	ck_assert_int_eq(theme_load(&t, "mine", &cause), 0);
	ck_assert_str_eq(t.name, "mine");
	ck_assert_int_eq(t.roles[TH_TITLE].fg, 3);
	ck_assert_int_lt(theme_load(&t, "missing", &cause), 0);
	ck_assert_ptr_nonnull(strstr(cause, "not found"));
	free(cause);
	cause = NULL;
	ck_assert_int_lt(theme_load(&t, "../etc/passwd", &cause), 0);
	free(cause);
	size_t n = theme_names(names, 16);
	bool mine = false, def = false;
	for (size_t i = 0; i < n; i++) {
		mine |= !strcmp(names[i], "mine");
		def |= !strcmp(names[i], "default");
	}
	ck_assert(mine && def);
	theme_names_free(names, n);
}
END_TEST

/* A theme file is read whole or refused with a message: a FIFO froze the dashboard
 * before its first draw, a file over 16 KB lost its tail silently, a NUL ended it. */
START_TEST(load_reads_whole_files_or_refuses)
{
	struct theme t;
	char *cause = NULL, path[128], *text = malloc(CONF_FILE_MAX + 2);

	memset(text, '#', 20000);
	text[19999] = '\n';
	strcpy(text + 20000, "title = yellow,black\n");
	write_theme("long", text);
	ck_assert_msg(theme_load(&t, "long", &cause) == 0, "%s", cause);
	ck_assert_int_eq(t.roles[TH_TITLE].fg, 3);

	memset(text, '#', CONF_FILE_MAX + 1);
	text[CONF_FILE_MAX + 1] = '\0';
	write_theme("huge", text);
	ck_assert_int_eq(theme_load(&t, "huge", &cause), -EFBIG);
	ck_assert_ptr_nonnull(strstr(cause, "huge.theme: larger than 1024 KB"));
	ck_assert_str_eq(t.name, "default");
	free(cause), cause = NULL;
	free(text);

	snprintf(path, sizeof(path), "%s/fifo.theme", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	ck_assert_int_eq(theme_load(&t, "fifo", &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "fifo.theme: not a regular file"));
	free(cause), cause = NULL;

	snprintf(path, sizeof(path), "%s/nul.theme", dir);
	FILE *f = fopen(path, "w");
	fwrite("title = red\n\0title = blue\n", 1, 26, f);
	fclose(f);
	ck_assert_int_eq(theme_load(&t, "nul", &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "nul.theme: a NUL byte"));
	free(cause);
}
END_TEST

/* Every LEAKTOP_THEME_PATH entry is searched, not the first 8. */
START_TEST(load_searches_every_path_entry)
{
	struct theme t;
	char *cause = NULL, env[1024] = "";

	for (int i = 0; i < 12; i++)
		snprintf(env + strlen(env), sizeof(env) - strlen(env), "/nonexistent/%d:", i);
	snprintf(env + strlen(env), sizeof(env) - strlen(env), "%s", dir);
	setenv("LEAKTOP_THEME_PATH", env, 1);
	write_theme("far", "title = yellow\n");
	ck_assert_msg(theme_load(&t, "far", &cause) == 0, "%s", cause);
	ck_assert_str_eq(t.name, "far");
	char *names[16];
	size_t n = theme_names(names, 16);
	bool far = false;
	for (size_t i = 0; i < n; i++)
		far |= !strcmp(names[i], "far");
	ck_assert(far);
	theme_names_free(names, n);
}
END_TEST

START_TEST(shipped_themes_parse_and_mono_has_no_colour)
{
	static const char *const shipped[] = {"default", "light", "mono", "high-contrast"};
	setenv("LEAKTOP_THEME_PATH", SRCDIR "/themes", 1);
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		struct theme t;
		char *cause = NULL;
		ck_assert_msg(theme_load(&t, shipped[i], &cause) == 0, "%s: %s", shipped[i], cause);
		ck_assert_str_eq(t.name, shipped[i]);
		ck_assert_int_eq(theme_has_colors(&t), strcmp(shipped[i], "mono") != 0);
	}
	/* The shipped default file says what the built-in default says. */
	struct theme file, builtin;
	theme_load(&file, "default", NULL);
	theme_default(&builtin);
	ck_assert_mem_eq(file.roles, builtin.roles, sizeof(builtin.roles));
	theme_strip_colors(&builtin);
	ck_assert(!theme_has_colors(&builtin));
	ck_assert(builtin.roles[TH_SELECTED].attrs & TA_REVERSE);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "parse",
		 .tests = TESTKIT_TESTS(
			parses_roles_colours_and_attributes,
			every_role_has_a_name,
			broken_files_name_the_file_and_line)},
		{.name = "load", .setup = dir_setup, .teardown = dir_teardown,
		 .tests = TESTKIT_TESTS(
			load_falls_back_to_default_on_a_broken_file,
			load_finds_user_themes_and_lists_them,
			load_reads_whole_files_or_refuses,
			load_searches_every_path_entry,
			shipped_themes_parse_and_mono_has_no_colour)},
	};

	return TESTKIT_RUN("theme", cases);
}
