/* The configuration file parser, and leaktop's own keys through options_parse. */
#include "config.h"

#include "model/conf.h"
#include "program/options.h"
#include "tests/testkit.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	{"exec.", CONF_PREFIX, 0, 0, 0, 0},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static char conf_path[64];

static void write_conf_n(const char *text, size_t len)
{
	strcpy(conf_path, "/tmp/check_conf.XXXXXX");
	int fd = mkstemp(conf_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	close(fd);
}

static void write_conf(const char *text)
{
	write_conf_n(text, strlen(text));
}

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
	/* A prefix row takes prefix.NAME, not the prefix alone. */
	broken("exec. = x\n", "/etc/x.conf:1: unknown key: exec.");
	broken("exec.a b = x\n", "/etc/x.conf:1: unknown key: exec.a b");
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
	/* A relative XDG_CONFIG_HOME is ignored (the XDG spec): it read ./rel/leaktop/... */
	setenv("XDG_CONFIG_HOME", "rel", 1);
	p = conf_default_path();
	ck_assert_str_eq(p, "/home/sre/.config/leaktop/leaktop.conf");
	free(p);
	setenv("XDG_CONFIG_HOME", "./x", 1);
	setenv("HOME", "home", 1);
	ck_assert_ptr_null(conf_default_path());
	unsetenv("XDG_CONFIG_HOME");
}
END_TEST

/* --- who may hand root a configuration file ------------------------------------------ */

static char tdir[64];

/* A tree: tdir (0700) / open (mode given) / home (0700) / .config / leaktop / leaktop.conf (0600). */
static void make_tree(mode_t open_mode)
{
	char p[512]; /* three of tdir and the rest: never cut */
	strcpy(tdir, "/tmp/check_conf.trust.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(p, sizeof(p), "mkdir -p %s/open/home/.config/leaktop && echo 'alert.cmd = /bin/x' > "
		 "%s/open/home/.config/leaktop/leaktop.conf && chmod 600 %s/open/home/.config/leaktop/leaktop.conf",
		 tdir, tdir, tdir);
	ck_assert_int_eq(system(p), 0);
	snprintf(p, sizeof(p), "%s/open", tdir);
	ck_assert_int_eq(chmod(p, open_mode), 0);
}

static void drop_tree(void)
{
	char p[128];
	snprintf(p, sizeof(p), "rm -rf %s", tdir);
	ck_assert_int_eq(system(p), 0);
}

/* conf_check_trust on tdir/rel, home tdir/home_rel (NULL: none); returns rc, *why the cause. */
static int trust(const char *rel, const char *home_rel, uid_t ruid, char **why)
{
	char p[256], h[256];
	snprintf(p, sizeof(p), "%s/%s", tdir, rel);
	snprintf(h, sizeof(h), "%s/%s", tdir, home_rel ? home_rel : "");
	int fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	*why = NULL;
	int rc = conf_check_trust(fd, p, ruid, home_rel ? h : NULL, why);
	close(fd);
	return rc;
}

static void chmod_in(const char *rel, mode_t m)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", tdir, rel);
	ck_assert_int_eq(chmod(p, m), 0);
}

#define CONF_REL "open/home/.config/leaktop/leaktop.conf"

/* As root, a file someone else could have written is not used: root ran nobody's
 * alert.cmd from a HOME nobody owned. Tested on the rule itself, with the real user as
 * ruid (or a uid that owns nothing here, to play "someone else"), so it runs as any
 * user; the whole run as root is in tests/bad_input.sh. */
START_TEST(trust_needs_owner_and_no_other_writer)
{
	uid_t me = getuid(), other = me + 4242;
	char *why;

	make_tree(0755);
	ck_assert_msg(trust(CONF_REL, "open/home", me, &why) == 0, "%s", why);
	ck_assert_msg(trust(CONF_REL, NULL, me, &why) == 0, "%s", why);
	if (me != 0) { /* root owns nothing here when the test is not root: all is "another's" */
		ck_assert_int_eq(trust(CONF_REL, "open/home", other, &why), -EPERM);
		ck_assert_ptr_nonnull(strstr(why, CONF_REL " not used: it belongs to "));
		ck_assert_ptr_nonnull(strstr(why, ", not to root or you; as root, leaktop reads"));
		free(why);
	} else if (getpwnam("nobody")) {
		char p[256];
		snprintf(p, sizeof(p), "chown -R nobody %s/open/home", tdir);
		ck_assert_int_eq(system(p), 0);
		ck_assert_int_eq(trust(CONF_REL, "open/home", me, &why), -EPERM);
		ck_assert_ptr_nonnull(strstr(why, CONF_REL " not used: it belongs to nobody (uid "));
		free(why);
		snprintf(p, sizeof(p), "chown root %s/" CONF_REL, tdir);
		ck_assert_int_eq(system(p), 0);
		/* A root-owned file in nobody's folder: nobody could swap it. */
		ck_assert_int_eq(trust(CONF_REL, "open/home", me, &why), -EPERM);
		ck_assert_ptr_nonnull(strstr(why, " not used: its folder "));
		ck_assert_ptr_nonnull(strstr(why, "/open/home/.config/leaktop belongs to nobody"));
		free(why);
	}
	drop_tree();

	/* Writable by others: the file, its folder, a folder up to home. */
	make_tree(0755);
	chmod_in(CONF_REL, 0666);
	ck_assert_int_eq(trust(CONF_REL, "open/home", me, &why), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, " not used: it can be written by anyone (mode 0666); "));
	free(why);
	chmod_in(CONF_REL, 0620);
	ck_assert_int_eq(trust(CONF_REL, "open/home", me, &why), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "it can be written by its group (mode 0620)"));
	free(why);
	chmod_in(CONF_REL, 0644);
	ck_assert_int_eq(trust(CONF_REL, "open/home", me, &why), 0);
	chmod_in("open/home/.config", 0777);
	ck_assert_int_eq(trust(CONF_REL, "open/home", me, &why), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "/open/home/.config can be written by anyone (mode 0777)"));
	free(why);
	chmod_in("open/home/.config", 0775);
	ck_assert_int_eq(trust(CONF_REL, "open/home", me, &why), -EPERM);
	free(why);
	chmod_in("open/home/.config", 0700);
	chmod_in("open/home", 0757);
	ck_assert_int_eq(trust(CONF_REL, "open/home", me, &why), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "/open/home can be written by anyone"));
	free(why);
	/* A sticky folder writable by all (/tmp) passes: no one renames another's file in it. */
	chmod_in("open/home", 01777);
	ck_assert_msg(trust(CONF_REL, "open/home", me, &why) == 0, "%s", why);
	chmod_in("open/home", 0700);
	drop_tree();

	/* Above home is not looked at (ssh's rule), unless the file is not under home. */
	make_tree(0777);
	ck_assert_msg(trust(CONF_REL, "open/home", me, &why) == 0, "%s", why);
	ck_assert_int_eq(trust(CONF_REL, NULL, me, &why), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "/open can be written by anyone (mode 0777)"));
	free(why);
	drop_tree();
}
END_TEST

/* The real file is judged, not the name: a symlink in a safe folder to a file in an
 * unsafe one is refused, and so is one whose target is writable by others. */
START_TEST(trust_follows_the_real_path)
{
	uid_t me = getuid();
	char *why, p[256], t[256];

	make_tree(0777);
	snprintf(p, sizeof(p), "%s/safe", tdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/safe/leaktop.conf", tdir);
	snprintf(t, sizeof(t), "%s/open/evil.conf", tdir);
	FILE *f = fopen(t, "w");
	fputs("alert.cmd = /bin/x\n", f);
	fclose(f);
	chmod(t, 0600);
	ck_assert_int_eq(symlink(t, p), 0);
	ck_assert_int_eq(trust("safe/leaktop.conf", "safe", me, &why), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "safe/leaktop.conf not used: its folder "));
	ck_assert_ptr_nonnull(strstr(why, "/open can be written by anyone"));
	free(why);
	drop_tree();
}
END_TEST

/* Run as root, leaktop reads nobody's file from nobody's HOME no more: options_parse
 * goes on with the defaults (no alert.cmd) and says why on stderr. */
START_TEST(root_skips_another_users_default_file)
{
	struct options o;
	char *cause = NULL, p[256];

	if (geteuid() != 0 || !getpwnam("nobody"))
		return; /* the rule itself is tested above as any user */
	make_tree(0755);
	snprintf(p, sizeof(p), "chown -R nobody %s/open/home", tdir);
	ck_assert_int_eq(system(p), 0);
	snprintf(p, sizeof(p), "%s/open/home", tdir);
	setenv("HOME", p, 1);
	unsetenv("XDG_CONFIG_HOME");
	char *argv[] = {"leaktop", "-b", NULL};
	ck_assert_msg(options_parse(&o, 2, argv, &cause) == 0, "%s", cause);
	ck_assert_str_eq(o.alert_cmd, "");
	/* The restart lookup at R reads the same file with the same check. */
	char *value = NULL;
	ck_assert_int_eq(conf_lookup_file(o.config_path, "alert.cmd", &value, &cause), -EPERM);
	ck_assert_ptr_null(value);
	ck_assert_ptr_nonnull(strstr(cause, "not used: it belongs to nobody"));
	free(cause);
	drop_tree();
}
END_TEST

/* Every spelling getopt takes means the same in the first pass that finds the file:
 * --no-conf, --no-c and --no read the default file (and ran its alert.cmd), --conf=FILE
 * read the default one and R took restart.* from it. */
START_TEST(config_options_in_every_spelling)
{
	struct options o;
	char *cause = NULL, home[64] = "/tmp/check_conf.home.XXXXXX", p[256], arg[128];

	ck_assert_ptr_nonnull(mkdtemp(home));
	snprintf(p, sizeof(p), "mkdir -p %s/.config/leaktop && echo 'alert.cmd = /bin/default' > "
		 "%s/.config/leaktop/leaktop.conf", home, home);
	ck_assert_int_eq(system(p), 0);
	setenv("HOME", home, 1);
	unsetenv("XDG_CONFIG_HOME");
	write_conf("alert.cmd = /bin/named\n");

	const char *none[] = {"--no-config", "--no-conf", "--no-c", "--no"};
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		char *argv[] = {"leaktop", "-b", (char *)none[i], NULL};
		ck_assert_msg(options_parse(&o, 3, argv, &cause) == 0, "%s: %s", none[i], cause);
		ck_assert_msg(!strcmp(o.alert_cmd, ""), "%s read %s", none[i], o.alert_cmd);
		ck_assert_str_eq(o.config_path, "");
	}
	const char *named[] = {"--config=", "--conf=", "--co=", "--config", "--conf"};
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		bool joined = strchr(named[i], '=') != NULL;
		snprintf(arg, sizeof(arg), "%s%s", named[i], joined ? conf_path : "");
		char *argv[] = {"leaktop", arg, joined ? "-b" : conf_path, "-b", NULL};
		int argc = joined ? 2 : 3;
		ck_assert_msg(options_parse(&o, argc + 1, argv, &cause) == 0, "%s: %s", arg, cause);
		ck_assert_msg(!strcmp(o.alert_cmd, "/bin/named"), "%s read %s", arg, o.alert_cmd);
		/* R's restart.* lookup reads config_path: the file the session used. */
		ck_assert_str_eq(o.config_path, conf_path);
	}
	/* After "--", nothing is an option; an abbreviation is ambiguous in neither pass. */
	char *argv2[] = {"leaktop", "-b", "--", "--no-config", NULL};
	ck_assert_int_eq(options_parse(&o, 4, argv2, &cause), -EINVAL);
	ck_assert_str_eq(cause, "unexpected argument '--no-config'");
	free(cause), cause = NULL;
	char *argv3[] = {"leaktop", "-b", NULL};
	ck_assert_int_eq(options_parse(&o, 2, argv3, &cause), 0);
	ck_assert_msg(!strcmp(o.alert_cmd, "/bin/default"), "[%s] %s", o.config_path, o.alert_cmd);
	unlink(conf_path);
	snprintf(p, sizeof(p), "rm -rf %s", home);
	ck_assert_int_eq(system(p), 0);
}
END_TEST

/* F2's save follows no symlink: a symlinked ~/.config/leaktop had root write a file
 * wherever the link's owner pointed it. A new file is 0600, an existing one keeps its
 * mode (but never writable by others). */
START_TEST(save_follows_no_symlink)
{
	char *cause = NULL, p[512], t[256];
	struct stat st;

	make_tree(0755);
	snprintf(t, sizeof(t), "%s/target", tdir);
	ck_assert_int_eq(mkdir(t, 0700), 0);
	const char *links[] = {"open/home/.config", "open/home/.config/leaktop"};
	for (size_t i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "rm -rf %s/open/home/.config && mkdir -p %s/open/home/.config", tdir, tdir);
		ck_assert_int_eq(system(p), 0);
		snprintf(p, sizeof(p), "%s/%s", tdir, links[i]);
		if (i == 0)
			rmdir(p);
		ck_assert_int_eq(symlink(t, p), 0);
		snprintf(p, sizeof(p), "%s/" CONF_REL, tdir);
		ck_assert_int_eq(options_save_key(p, "tui.procs.sort", "RSS", &cause), -ELOOP);
		ck_assert_ptr_nonnull(strstr(cause, links[i]));
		ck_assert_ptr_nonnull(strstr(cause, " is a symbolic link: leaktop writes its files through none"));
		free(cause), cause = NULL;
		snprintf(p, sizeof(p), "%s/leaktop.conf", t);
		ck_assert_int_ne(access(p, F_OK), 0);
		snprintf(p, sizeof(p), "%s/leaktop/leaktop.conf", t);
		ck_assert_int_ne(access(p, F_OK), 0);
	}
	/* The file itself a symlink: replaced by nothing, written through never. */
	snprintf(p, sizeof(p), "rm -rf %s/open/home/.config && mkdir -p %s/open/home/.config/leaktop", tdir, tdir);
	ck_assert_int_eq(system(p), 0);
	snprintf(t, sizeof(t), "%s/target/x.conf", tdir);
	close(open(t, O_CREAT | O_WRONLY, 0600));
	snprintf(p, sizeof(p), "%s/" CONF_REL, tdir);
	ck_assert_int_eq(symlink(t, p), 0);
	ck_assert_int_eq(options_save_key(p, "tui.procs.sort", "RSS", &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "is a symbolic link: leaktop replaces only a regular file"));
	free(cause), cause = NULL;
	ck_assert_int_eq(stat(t, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	unlink(p);

	/* Missing folders are made (0700), the new file is 0600; 0644 stays 0644. */
	snprintf(p, sizeof(p), "rm -rf %s/open/home/.config", tdir);
	ck_assert_int_eq(system(p), 0);
	snprintf(p, sizeof(p), "%s/" CONF_REL, tdir);
	ck_assert_msg(options_save_key(p, "tui.procs.sort", "RSS", &cause) == 0, "%s", cause);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	chmod(p, 0644);
	ck_assert_msg(options_save_key(p, "tui.ports.sort", "RECV-Q", &cause) == 0, "%s", cause);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	char *value = NULL;
	ck_assert_int_eq(conf_lookup_file(p, "tui.procs.sort", &value, &cause), 0);
	ck_assert_str_eq(value, "RSS");
	free(value);
	snprintf(p, sizeof(p), "%s/open/home/.config/leaktop", tdir);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	drop_tree();
}
END_TEST

/* The startup check and the lookup at R read the same lines: a restart line cannot
 * hide in the tail of a long comment (the lookup read 4,096-byte chunks and ran
 * `touch smuggled`), and a long restart command is not cut at 1,024 bytes. */
START_TEST(long_lines_mean_one_thing)
{
	struct options o;
	char *cause = NULL, arg[96], *value = NULL, *text = malloc(20000);
	size_t n = 0;

	text[n++] = '#';
	memset(text + n, 'a', 4094), n += 4094;
	n += (size_t)sprintf(text + n, "restart.sleep = /usr/bin/touch smuggled\nrestart.java = /opt/rj");
	for (int i = 0; i < 600; i++)
		n += (size_t)sprintf(text + n, " arg%d", i);
	strcpy(text + n, "\n");
	write_conf(text);
	snprintf(arg, sizeof(arg), "--config=%s", conf_path);
	char *argv[] = {"leaktop", "-b", arg, NULL};
	ck_assert_msg(options_parse(&o, 3, argv, &cause) == 0, "%s", cause);
	ck_assert_int_eq(conf_lookup_file(conf_path, "restart.sleep", &value, &cause), -ENOENT);
	ck_assert_ptr_null(value);
	ck_assert_int_eq(conf_lookup_file(conf_path, "restart.java", &value, &cause), 0);
	ck_assert_uint_gt(strlen(value), 4000);
	ck_assert_str_eq(value + strlen(value) - 7, " arg599");
	free(value);

	/* Saving a key keeps that comment whole and its tail a comment. */
	ck_assert_int_eq(options_save_key(conf_path, "restart.sleep", "/bin/true", &cause), 0);
	ck_assert_int_eq(conf_lookup_file(conf_path, "restart.sleep", &value, &cause), 0);
	ck_assert_str_eq(value, "/bin/true");
	free(value);
	FILE *f = fopen(conf_path, "r");
	char *back = calloc(1, 20000);
	ck_assert_uint_gt(fread(back, 1, 19999, f), 0);
	fclose(f);
	ck_assert_ptr_nonnull(strstr(back, "arestart.sleep = /usr/bin/touch smuggled\nrestart.java = /opt/rj arg0"));
	ck_assert_ptr_nonnull(strstr(back, " arg599\nrestart.sleep = /bin/true\n"));
	free(back);
	free(text);
	unlink(conf_path);
}
END_TEST

/* What is not a regular file of at most 1 MB is refused with a message that says so:
 * /dev/zero once grew to 1 GB, a FIFO blocked forever before the first draw. */
START_TEST(special_files_refused)
{
	struct demo d = {0};
	char *cause = NULL, fifo[64] = "/tmp/check_conf.fifo.XXXXXX";

	ck_assert_int_eq(conf_load("/dev/zero", true, keys, NKEYS, &d, &cause), -EINVAL);
	ck_assert_str_eq(cause, "/dev/zero: not a regular file (a FIFO, device or socket is not read)");
	free(cause), cause = NULL;
	ck_assert_int_eq(conf_load("/tmp", true, keys, NKEYS, &d, &cause), -EISDIR);
	ck_assert_str_eq(cause, "/tmp: is a directory, not a file");
	free(cause), cause = NULL;

	ck_assert_ptr_nonnull(mkdtemp(fifo));
	strcat(fifo, "/f");
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	ck_assert_int_eq(conf_load(fifo, true, keys, NKEYS, &d, &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "not a regular file"));
	free(cause), cause = NULL;
	char *value = NULL;
	ck_assert_int_eq(conf_lookup_file(fifo, "restart.java", &value, &cause), -EINVAL);
	free(cause), cause = NULL;
	unlink(fifo);
	*strrchr(fifo, '/') = '\0';
	rmdir(fifo);

	/* Over 1 MB: refused whole, not read in part. */
	char *big = malloc(CONF_FILE_MAX + 2);
	memset(big, '#', CONF_FILE_MAX + 1);
	big[CONF_FILE_MAX + 1] = '\0';
	write_conf(big);
	free(big);
	ck_assert_int_eq(conf_load(conf_path, true, keys, NKEYS, &d, &cause), -EFBIG);
	ck_assert_ptr_nonnull(strstr(cause, ": larger than 1024 KB: refused, not cut"));
	free(cause), cause = NULL;
	unlink(conf_path);
}
END_TEST

/* A NUL byte ended the file silently (what followed was never read); now it is an
 * error of its line. Bytes from the file are escaped in messages. */
START_TEST(nul_and_escapes_in_the_file)
{
	struct demo d = {0};
	char *cause = NULL, want[96];

	write_conf_n("ratio = 0.5\ncount = 3\0\nrestart.java = x\n", 38);
	ck_assert_int_eq(conf_load(conf_path, true, keys, NKEYS, &d, &cause), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: NUL byte", conf_path);
	ck_assert_str_eq(cause, want);
	free(cause), cause = NULL;
	unlink(conf_path);
	broken("\x1b[2Jkey = 1\n", "/etc/x.conf:1: unknown key: \\x1b[2Jkey");
	broken("\x1b]0;owned\x07\n", "/etc/x.conf:1: expected 'key = value': \\x1b]0;owned\\x07");
}
END_TEST

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

/* restart.COMM lines (any COMM) do not stop leaktop, and are read at the moment a
 * restart is asked for, the last one winning, with the parser's quote rule. */
START_TEST(prefix_keys_accepted_and_looked_up)
{
	struct options o;
	char *cause = NULL, arg[96], *value;
	write_conf("alert.fd_warn = 50\nrestart.java = /usr/local/bin/restart-jetty --fast\n"
		   "restart.python3 = systemctl restart 'my app'\nrestart.java = /opt/rj \"two words\"\n"
		   "restart.node = \"  /opt/spaced  \"\n");
	snprintf(arg, sizeof(arg), "--config=%s", conf_path);
	char *argv[] = {"leaktop", "-b", arg, NULL};
	ck_assert_msg(options_parse(&o, 3, argv, &cause) == 0, "%s", cause);
	ck_assert_str_eq(o.config_path, conf_path);
	ck_assert_int_eq(conf_lookup_file(o.config_path, "restart.java", &value, &cause), 0);
	ck_assert_str_eq(value, "/opt/rj \"two words\"");
	free(value);
	ck_assert_int_eq(conf_lookup_file(o.config_path, "restart.python3", &value, &cause), 0);
	ck_assert_str_eq(value, "systemctl restart 'my app'");
	free(value);
	ck_assert_int_eq(conf_lookup_file(o.config_path, "restart.node", &value, &cause), 0);
	ck_assert_str_eq(value, "  /opt/spaced  ");
	free(value);
	ck_assert_int_eq(conf_lookup_file(o.config_path, "restart.perl", &value, &cause), -ENOENT);
	ck_assert_ptr_null(value);
	ck_assert_int_eq(conf_lookup_file("/nonexistent/x.conf", "restart.java", &value, &cause), -ENOENT);
	ck_assert_ptr_null(cause);
	unlink(conf_path);
	char *argv2[] = {"leaktop", "-b", "--no-config", NULL};
	ck_assert_int_eq(options_parse(&o, 3, argv2, &cause), 0);
	ck_assert_str_eq(o.config_path, "");
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

/* -d 0 in the dashboard refreshed every 0.1 s, back to back on a big box: a core
 * busy. The dashboard keeps a floor; batch mode and --listen may go back to back. */
START_TEST(dashboard_delay_has_a_floor)
{
	struct options o;
	char *cause = NULL;
	char *dash[] = {"leaktop", "--no-config", "-d", "0", NULL};
	ck_assert_int_eq(options_parse(&o, 4, dash, &cause), 0);
	ck_assert_double_eq(o.delay, OPTIONS_TUI_MIN_DELAY);
	ck_assert_double_eq(OPTIONS_TUI_MIN_DELAY, 0.5);
	char *dash2[] = {"leaktop", "--no-config", "-d", "0.2", NULL};
	ck_assert_int_eq(options_parse(&o, 4, dash2, &cause), 0);
	ck_assert_double_eq(o.delay, 0.5);
	char *dash3[] = {"leaktop", "--no-config", "-d", "3", NULL};
	ck_assert_int_eq(options_parse(&o, 4, dash3, &cause), 0);
	ck_assert_double_eq(o.delay, 3);
	char *batch[] = {"leaktop", "--no-config", "-b", "-d", "0", NULL};
	ck_assert_int_eq(options_parse(&o, 5, batch, &cause), 0);
	ck_assert_double_eq(o.delay, 0);
	char *listen[] = {"leaktop", "--no-config", "--listen", "127.0.0.1:0", "-d", "0", NULL};
	ck_assert_int_eq(options_parse(&o, 6, listen, &cause), 0);
	ck_assert_double_eq(o.delay, 0);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "conf",
		 .tests = TESTKIT_TESTS(
			parses_values_comments_and_quotes,
			broken_lines_name_file_and_line,
			missing_file_is_fine_unless_asked_for,
			default_path_follows_xdg,
			options_read_the_file_and_the_command_line_wins,
			options_report_a_broken_config_line,
			prefix_keys_accepted_and_looked_up,
			long_lines_mean_one_thing,
			special_files_refused,
			nul_and_escapes_in_the_file,
			trust_needs_owner_and_no_other_writer,
			trust_follows_the_real_path,
			root_skips_another_users_default_file,
			config_options_in_every_spelling,
			save_follows_no_symlink,
			dashboard_delay_has_a_floor)},
	};

	return TESTKIT_RUN("conf", cases);
}
