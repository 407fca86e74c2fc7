/* Actions on real child processes: signals only reach the process the snapshot saw,
 * refusals, restart commands run without a shell, where a dump went, the action log. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "program/action_do.h"
#include "program/actions.h"
#include "program/restart.h"
#include "tests/testkit.h"

static char tmp[TESTKIT_DIR_MAX];
static pid_t kids[8];
static int nkids;
static char *marker_path; /* the child's copy: where its SIGQUIT handler writes */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void setup(void)
{
	testkit_mkdir(tmp, "actions");
	nkids = 0;
	action_no_pidfd = false;
}

static void teardown(void)
{
	for (int i = 0; i < nkids; i++) {
		kill(kids[i], SIGKILL);
		waitpid(kids[i], NULL, 0);
	}
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static char *path_in(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ % 4];
	snprintf(b, sizeof(bufs[0]), "%s/%s", tmp, name);
	return b;
}

/* A fake /proc (under tmp) where PID's cgroup is text; returns its root. */
static const char *fake_cgroup(int pid, const char *text)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/proc/%d", tmp, pid);
	mkdir(path_in("proc"), 0700);
	mkdir(dir, 0700);
	strcat(dir, "/cgroup");
	FILE *f = fopen(dir, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path_in("proc");
}

static void on_quit(int sig)
{
	int fd = open(marker_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd >= 0) {
		(void)!write(fd, "QUIT\n", 5);
		close(fd);
	}
	/* What a JVM does: the dump goes to its stdout. */
	(void)!write(1, "Full thread dump\n", 17);
}

/* A child that writes marker when SIGQUIT arrives, with stdout (and stderr, unless
 * err_path) to out_path when given. Returns once its handler is installed. */
static pid_t spawn_trap(const char *marker, const char *out_path, const char *err_path)
{
	int ready[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		marker_path = strdup(marker);
		signal(SIGQUIT, on_quit);
		if (out_path) {
			int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			dup2(fd, 1);
			dup2(fd, 2);
			close(fd);
		}
		if (err_path) {
			int fd = open(err_path, O_WRONLY);
			dup2(fd, 2);
			close(fd);
		}
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &c, 1), 1);
	close(ready[0]);
	kids[nkids++] = pid;
	return pid;
}

/* Field 22 of /proc/PID/stat, parsed here independently of the code under test. */
static unsigned long long start_of(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	char *s = strrchr(buf, ')') + 2;
	for (int field = 3; field < 22; field++)
		s = strchr(s, ' ') + 1;
	ck_assert_int_eq(sscanf(s, "%llu", &v), 1);
	return v;
}

/* Wait (bounded) for the child's handler to have written the marker. */
static bool wait_for_file(const char *path)
{
	struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
	for (int i = 0; i < 1000; i++) {
		if (access(path, F_OK) == 0)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* --- argv splitting ----------------------------------------------------------------- */

static char **split_ok(const char *cmd, int expect_n)
{
	char **argv = NULL, *cause = NULL;
	int n = 0;

	ck_assert_msg(action_split_argv(cmd, &argv, &cause) == 0, "split %s: %s", cmd, cause);
	while (argv[n])
		n++;
	ck_assert_int_eq(n, expect_n);
	return argv;
}

START_TEST(test_split_words)
{
	char **a = split_ok("  /usr/local/bin/restart-jetty\t--fast   now ", 3);
	ck_assert_str_eq(a[0], "/usr/local/bin/restart-jetty");
	ck_assert_str_eq(a[1], "--fast");
	ck_assert_str_eq(a[2], "now");
	action_argv_free(a);

	a = split_ok("cmd 'two words' \"and three words\" a\"b c\"d '' x\\ y", 6);
	ck_assert_str_eq(a[1], "two words");
	ck_assert_str_eq(a[2], "and three words");
	ck_assert_str_eq(a[3], "ab cd");
	ck_assert_str_eq(a[4], "");
	ck_assert_str_eq(a[5], "x y");
	action_argv_free(a);

	a = split_ok("cmd \"say \\\"hi\\\" c:\\\\dir \\n\" 'it'\\''s'", 3);
	ck_assert_str_eq(a[1], "say \"hi\" c:\\dir \\n");
	ck_assert_str_eq(a[2], "it's");
	action_argv_free(a);
}
END_TEST

START_TEST(test_split_metacharacters_literal)
{
	char **a = split_ok("cmd a;b x|y $(rm -rf /) `id` >out * ~ && $HOME", 12);
	const char *want[] = {"cmd", "a;b", "x|y", "$(rm", "-rf", "/)", "`id`", ">out", "*", "~", "&&", "$HOME"};
	for (int i = 0; i < 12; i++)
		ck_assert_str_eq(a[i], want[i]);
	action_argv_free(a);
	a = split_ok("cmd '$HOME;|' \"$(x)\"", 3);
	ck_assert_str_eq(a[1], "$HOME;|");
	ck_assert_str_eq(a[2], "$(x)");
	action_argv_free(a);
}
END_TEST

START_TEST(test_split_errors)
{
	char **argv = (char **)1, *cause = NULL;

	ck_assert_int_eq(action_split_argv("cmd 'open", &argv, &cause), -EINVAL);
	ck_assert_ptr_null(argv);
	ck_assert_ptr_nonnull(strstr(cause, "unterminated '"));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(action_split_argv("cmd \"open \\\"", &argv, &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "unterminated \""));
	free(cause);
	cause = NULL;
	ck_assert_int_eq(action_split_argv("  \t ", &argv, &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "empty"));
	free(cause);
}
END_TEST

START_TEST(test_argv_format)
{
	char *argv[] = {"/bin/restart", "--fast", "two words", "it's", "a;b", "\x1b[2J", NULL};
	char buf[256];

	action_argv_format(argv, buf, sizeof(buf));
	ck_assert_str_eq(buf, "/bin/restart --fast 'two words' 'it'\"'\"'s' 'a;b' '\\x1b[2J'");
	/* What is shown splits back into the same words (a line to paste). */
	char **back = NULL, *cause = NULL;
	char *plainv[] = {"/bin/restart", "it's", "two  words", NULL};
	action_argv_format(plainv, buf, sizeof(buf));
	ck_assert_int_eq(action_split_argv(buf, &back, &cause), 0);
	for (size_t i = 0; plainv[i]; i++)
		ck_assert_str_eq(back[i], plainv[i]);
	ck_assert_ptr_null(back[3]);
	action_argv_free(back);
}
END_TEST

/* Found by fuzz_argv: a long line of quotes wrote past a 4,096-byte buffer. */
START_TEST(test_argv_format_long)
{
	static char quotes[1200], word[5000];
	char *argv[] = {"cmd", quotes, word, NULL};
	char buf[512];

	memset(quotes, '\'', sizeof(quotes) - 1);
	memset(word, 'x', sizeof(word) - 1);
	action_argv_format(argv, buf, sizeof(buf));
	ck_assert_uint_lt(strlen(buf), sizeof(buf));
	ck_assert(!strncmp(buf, "cmd ''\"'\"''\"'\"'", 14));
}
END_TEST

/* --- signals ------------------------------------------------------------------------ */

START_TEST(test_signal_table)
{
	const char *first[] = {"QUIT", "TERM", "KILL", "HUP", "INT", "USR1", "USR2"};

	ck_assert_uint_ge(action_nsigs, 7);
	for (size_t i = 0; i < 7; i++)
		ck_assert_str_eq(action_sigs[i].name, first[i]);
	ck_assert_int_eq(action_sigs[0].sig, SIGQUIT);
	for (size_t i = 0; i < action_nsigs; i++)
		for (size_t j = i + 1; j < action_nsigs; j++)
			ck_assert_int_ne(action_sigs[i].sig, action_sigs[j].sig);
	ck_assert_str_eq(action_sig_name(SIGQUIT), "SIGQUIT");
	ck_assert_str_eq(action_sig_name(SIGKILL), "SIGKILL");
}
END_TEST

START_TEST(test_refuse_special_pids)
{
	char *cause = NULL;

	ck_assert_int_eq(action_signal(1, 0, SIGTERM, &cause), -EPERM);
	ck_assert_ptr_nonnull(strstr(cause, "pid 1 is init"));
	ck_assert_int_eq(action_signal(getpid(), start_of(getpid()), SIGQUIT, &cause), -EPERM);
	ck_assert_ptr_nonnull(strstr(cause, "leaktop itself"));
	ck_assert_int_eq(action_signal(2, 0, SIGQUIT, &cause), -EPERM);
	ck_assert_ptr_nonnull(strstr(cause, "kernel"));
	ck_assert_int_eq(action_signal(0, 0, SIGQUIT, &cause), -EINVAL);
	ck_assert_int_eq(action_signal(-5, 0, SIGQUIT, &cause), -EINVAL);
	free(cause);
	cause = NULL;

	/* Kernel threads, as the snapshot marks them. */
	struct proc_rec p = {.pid = 4242, .ppid = 2, .start_time = 7};
	strcpy(p.comm, "kworker/0:1");
	ck_assert_int_eq(action_check_target(&p, &cause), -EPERM);
	ck_assert_ptr_nonnull(strstr(cause, "kernel thread"));
	p.ppid = 0;
	p.flags = PROC_KTHREAD;
	ck_assert_int_eq(action_check_target(&p, &cause), -EPERM);
	ck_assert_ptr_nonnull(strstr(cause, "kernel thread"));
	p.pid = 1;
	p.flags = 0;
	ck_assert_int_eq(action_check_target(&p, &cause), -EPERM);
	ck_assert_ptr_nonnull(strstr(cause, "init"));
	free(cause);
}
END_TEST

/* The heart of it: a start time that does not match means another process owns the
 * pid now; nothing may be sent. The right one is delivered. Both with a pidfd and on
 * the kill() path. */
static void check_identity_guard(void)
{
	const char *marker = path_in("quit.marker");
	pid_t pid = spawn_trap(marker, NULL, NULL);
	unsigned long long st = start_of(pid);
	char *cause = NULL;

	ck_assert_int_eq(action_signal(pid, st + 1, SIGQUIT, &cause), -ESTALE);
	ck_assert_ptr_nonnull(strstr(cause, "no longer the process you selected"));
	ck_assert_ptr_nonnull(strstr(cause, "nothing was"));
	free(cause);
	cause = NULL;
	ck_assert(alive(pid));
	ck_assert_int_ne(access(marker, F_OK), 0);

	ck_assert_msg(action_signal(pid, st, SIGQUIT, &cause) == 0, "%s", cause);
	ck_assert(wait_for_file(marker));
	ck_assert_str_eq(slurp(marker), "QUIT\n");
	ck_assert(alive(pid)); /* it trapped the signal */

	/* Gone: refused as exited. */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	nkids--;
	ck_assert_int_eq(action_signal(pid, st, SIGQUIT, &cause), -ESRCH);
	ck_assert_ptr_nonnull(strstr(cause, "exited"));
	free(cause);
}

START_TEST(test_signal_pidfd)
{
	check_identity_guard();
}
END_TEST

START_TEST(test_signal_kill_fallback)
{
	action_no_pidfd = true;
	check_identity_guard();
}
END_TEST

START_TEST(test_signal_permission_denied)
{
	const char *marker = path_in("perm.marker");
	pid_t pid, who;
	int status;

	if (geteuid() != 0)
		return; /* needs a process of another user: dropping root makes one */
	pid = spawn_trap(marker, NULL, NULL);
	unsigned long long st = start_of(pid);
	/* Someone else (nobody) tries to dump root's process. */
	who = fork();
	ck_assert_int_ge(who, 0);
	if (who == 0) {
		char *cause = NULL;
		if (setresuid(65534, 65534, 65534))
			_exit(2);
		int rc = action_signal(pid, st, SIGQUIT, &cause);
		_exit(rc == -EPERM && cause && !strncmp(cause, "permission denied: ", 19) ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(who, &status, 0), who);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	ck_assert(alive(pid));
	ck_assert_int_ne(access(marker, F_OK), 0);
}
END_TEST

START_TEST(test_describe)
{
	struct proc_rec p = {.pid = 1234, .start_time = 360000}; /* an hour after boot */
	char buf[160], want[160];
	time_t now = time(NULL);
	struct tm tm;

	setenv("TZ", "UTC", 1);
	tzset();
	strcpy(p.comm, "java");
	strcpy(p.user, "alice");
	/* Booted two hours ago: started an hour ago, today (unless midnight is between). */
	time_t start = now - 3600;
	gmtime_r(&start, &tm);
	action_describe(&p, (double)(now - 7200), 100, buf, sizeof(buf));
	if (tm.tm_yday == gmtime_r(&now, &(struct tm){0})->tm_yday)
		strftime(want, sizeof(want), "pid 1234 alice java, started %H:%M:%S", &tm);
	else
		strftime(want, sizeof(want), "pid 1234 alice java, started %Y-%m-%d %H:%M:%S", &tm);
	ck_assert_str_eq(buf, want);
	/* Booted in 2024: the date is shown. */
	action_describe(&p, 1704067200.0, 100, buf, sizeof(buf));
	ck_assert_str_eq(buf, "pid 1234 alice java, started 2024-01-01 01:00:00");
	/* A boot time no calendar holds (a damaged recording): no date, no crash. */
	action_describe(&p, 1e300, 100, buf, sizeof(buf));
	ck_assert_str_eq(buf, "pid 1234 alice java, started ?");
	action_describe(&p, INFINITY, 100, buf, sizeof(buf));
	ck_assert_str_eq(buf, "pid 1234 alice java, started ?");
}
END_TEST

/* --- where the dump went ------------------------------------------------------------ */

START_TEST(test_dump_dest_file)
{
	const char *out = path_in("jetty\x1b[31m.out");
	pid_t pid = spawn_trap(path_in("m"), out, "/dev/null");
	char buf[1024], want[512];

	action_dump_dest(pid, "", buf, sizeof(buf));
	snprintf(want, sizeof(want), "the dump went to %s/jetty\\x1b[31m.out (stderr: /dev/null: it was lost)",
		 tmp);
	ck_assert_str_eq(buf, want);
	ck_assert_ptr_null(strchr(buf, '\x1b'));

	/* Deleted since (logrotate without copytruncate): said once, plainly. */
	unlink(out);
	action_dump_dest(pid, "", buf, sizeof(buf));
	snprintf(want, sizeof(want),
		 "the dump went to %s/jetty\\x1b[31m.out, a file since deleted (stderr: /dev/null: it was lost)", tmp);
	ck_assert_str_eq(buf, want);

	pid = spawn_trap(path_in("m2"), out, NULL);
	action_dump_dest(pid, "", buf, sizeof(buf));
	snprintf(want, sizeof(want), "the dump went to %s/jetty\\x1b[31m.out", tmp);
	ck_assert_str_eq(buf, want);
}
END_TEST

START_TEST(test_dump_dest_journal)
{
	int sv[2];
	pid_t pid;
	char buf[1024];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(sv[1], 1);
		dup2(sv[1], 2);
		for (;;)
			pause();
	}
	kids[nkids++] = pid;
	/* /proc/PID/fd is in place once the child runs; wait for both dup2s (with only
	 * the first done, the answer names fd 1's old file, then the journal). */
	const char *want = "the dump went to the journal (journalctl -u jetty.service)";
	for (int i = 0; i < 1000; i++) {
		action_dump_dest(pid, "jetty.service", buf, sizeof(buf));
		if (!strcmp(buf, want))
			break;
		usleep(5000);
	}
	ck_assert_str_eq(buf, want);
	action_dump_dest(pid, "", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "the dump went to a socket, socket:["));
}
END_TEST

START_TEST(test_do_signal_reports_dump_and_logs)
{
	const char *out = path_in("app.log");
	const char *marker = path_in("quit.marker");
	pid_t pid = spawn_trap(marker, out, NULL);
	struct proc_rec p = {.pid = pid, .ppid = getpid(), .start_time = start_of(pid)};
	char *line = NULL, *cause = NULL, want[256];
	struct stat st;

	strcpy(p.comm, "java");
	setenv("XDG_STATE_HOME", path_in("state"), 1);
	struct action_log *log = action_log_open(NULL, &cause);
	ck_assert_ptr_nonnull(log);
	ck_assert_msg(cause == NULL, "%s", cause);
	ck_assert_str_eq(action_log_path(log), path_in("state/leaktop/actions.log"));

	ck_assert_int_eq(action_do_signal(log, &p, SIGQUIT, &line), 0);
	ck_assert(wait_for_file(marker));
	snprintf(want, sizeof(want),
		 "SIGQUIT pid %d (java, start %llu): ok: dumped (still running); the dump went to %s, 17 bytes read back",
		 (int)pid, (unsigned long long)p.start_time, out);
	ck_assert_str_eq(line, want);
	free(line);

	/* A refusal is logged too. */
	p.start_time++;
	ck_assert_int_eq(action_do_signal(log, &p, SIGTERM, &line), -ESTALE);
	ck_assert_ptr_nonnull(strstr(line, "SIGTERM pid"));
	ck_assert_ptr_nonnull(strstr(line, "FAILED: refused"));
	free(line);
	ck_assert(alive(pid));

	ck_assert_int_eq(stat(action_log_path(log), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	char *text = slurp(action_log_path(log));
	ck_assert_ptr_nonnull(strstr(text, want));
	ck_assert_ptr_nonnull(strstr(text, " user="));
	ck_assert_ptr_nonnull(strstr(text, "SIGTERM pid"));
	ck_assert_int_eq(text[strlen(text) - 1], '\n');
	int lines = 0;
	for (char *c = text; *c; c++)
		lines += *c == '\n';
	ck_assert_int_eq(lines, 2);
	action_log_free(log);
}
END_TEST

/* --- the action log ------------------------------------------------------------------ */

static int hook_calls;
static int hook_pid;
static char hook_action[64];

static void hook(void *ctx, const struct action_event *ev)
{
	hook_calls++;
	hook_pid = ev->pid;
	snprintf(hook_action, sizeof(hook_action), "%s", ev->action);
	ck_assert_ptr_nonnull(ev->user);
	ck_assert_ptr_eq(ctx, &hook_calls);
}

/* What the snapshot escaped is logged as shown, not escaped twice ("\\x1b" was logged
 * "\\\\x1b"); a control character that slipped through is still escaped. */
START_TEST(test_log_escapes_once)
{
	char *cause = NULL, *line = NULL;
	struct action_log *log = action_log_open(path_in("actions.log"), &cause);
	struct action_event ev = {.time = 1.7e9, .pid = 42, .start_time = 7, .comm = "evil\\x1b[2J\\\\",
				  .action = "SIGQUIT", .detail = "sent; the dump went to /tmp/a\\x07b raw\x1b"};

	ck_assert_ptr_nonnull(log);
	ck_assert_int_eq(action_log_write(log, &ev, &line), 0);
	ck_assert_str_eq(line, "SIGQUIT pid 42 (evil\\x1b[2J\\\\, start 7): ok: sent; the dump went to "
			       "/tmp/a\\x07b raw\\x1b");
	char *text = slurp(path_in("actions.log"));
	ck_assert_ptr_nonnull(strstr(text, line));
	ck_assert_ptr_nonnull(strstr(text, "2023-11-14T22:13:20Z user="));
	free(line);
	/* A time no calendar holds is no crash either. */
	ev.time = INFINITY;
	ck_assert_int_eq(action_log_write(log, &ev, NULL), 0);
	text = slurp(path_in("actions.log"));
	ck_assert_ptr_nonnull(strstr(text, "\n? user="));
	action_log_free(log);
	free(cause);
}
END_TEST

START_TEST(test_log_without_home)
{
	char *cause = NULL, *line = NULL;
	struct action_log *log;

	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	log = action_log_open(NULL, &cause);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_null(action_log_path(log));
	ck_assert_ptr_nonnull(strstr(cause, "not logged to a file"));
	free(cause);
	cause = NULL;

	/* The action still happens, and still reaches the hook and the status line. */
	const char *marker = path_in("m");
	pid_t pid = spawn_trap(marker, NULL, NULL);
	struct proc_rec p = {.pid = pid, .start_time = start_of(pid)};
	strcpy(p.comm, "java");
	hook_calls = 0;
	action_log_set_hook(log, hook, &hook_calls);
	ck_assert_int_eq(action_do_signal(log, &p, SIGQUIT, &line), 0);
	ck_assert(wait_for_file(marker));
	ck_assert_ptr_nonnull(strstr(line, "SIGQUIT pid"));
	ck_assert_int_eq(hook_calls, 1);
	ck_assert_int_eq(hook_pid, pid);
	ck_assert_str_eq(hook_action, "SIGQUIT");
	free(line);
	action_log_free(log);

	/* A state directory that cannot be made (a file is in the way). */
	int fd = open(path_in("file"), O_WRONLY | O_CREAT, 0600);
	close(fd);
	setenv("XDG_STATE_HOME", path_in("file"), 1);
	log = action_log_open(NULL, &cause);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_null(action_log_path(log));
	ck_assert_ptr_nonnull(strstr(cause, "not logged to a file"));
	free(cause);
	action_log_free(log);
	action_log_free(NULL);
}
END_TEST

/* The log goes through no symlinked folder: as root under someone else's HOME, a
 * ~/.local/state pointing elsewhere had root make folders and a file there. */
START_TEST(test_log_through_no_symlink)
{
	char *cause = NULL, home[256], target[256], link[300];
	struct action_log *log;

	snprintf(home, sizeof(home), "%s", path_in("home"));
	snprintf(target, sizeof(target), "%s", path_in("target"));
	ck_assert_int_eq(mkdir(home, 0700), 0);
	ck_assert_int_eq(mkdir(target, 0700), 0);
	snprintf(link, sizeof(link), "%s/.local", home);
	ck_assert_int_eq(symlink(target, link), 0);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", home, 1);
	log = action_log_open(NULL, &cause);
	ck_assert_ptr_nonnull(log);
	ck_assert_ptr_null(action_log_path(log));
	ck_assert_msg(strstr(cause, "/home/.local is a symbolic link") != NULL, "%s", cause);
	free(cause), cause = NULL;
	action_log_free(log);
	snprintf(link, sizeof(link), "%s/state", target);
	ck_assert_int_ne(access(link, F_OK), 0);
	/* The log file itself a symlink: not followed either. */
	ck_assert_int_eq(unlink(path_in("home/.local")), 0);
	setenv("XDG_STATE_HOME", home, 1);
	ck_assert_int_eq(mkdir(path_in("home/leaktop"), 0700), 0);
	snprintf(link, sizeof(link), "%s/victim", target);
	close(open(link, O_WRONLY | O_CREAT, 0600));
	ck_assert_int_eq(symlink(link, path_in("home/leaktop/actions.log")), 0);
	log = action_log_open(NULL, &cause);
	ck_assert_ptr_null(action_log_path(log));
	free(cause);
	action_log_free(log);
	struct stat st;
	ck_assert_int_eq(stat(link, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	/* A real folder: the log is made there, 0600. */
	unsetenv("XDG_STATE_HOME");
	log = action_log_open(NULL, &cause);
	ck_assert_msg(action_log_path(log) != NULL, "%s", cause ? cause : "");
	ck_assert_int_eq(stat(action_log_path(log), &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	action_log_free(log);
}
END_TEST

/* --- restart ------------------------------------------------------------------------ */

static const char *conf_cmd;
static char conf_key[128];

static const char *lookup(void *ctx, const char *key)
{
	snprintf(conf_key, sizeof(conf_key), "%s", key);
	return !strcmp(key, ctx) ? conf_cmd : NULL;
}

/* A "restart" helper that writes each argument on a line, <like this>. */
static const char *write_helper(int exit_code)
{
	const char *script = path_in("restart-app");
	FILE *f = fopen(script, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\nfor a in \"$@\"; do printf '<%%s>\\n' \"$a\"; done > %s/argv.txt\n"
		   "echo restarting app\necho done >&2\nexit %d\n", tmp, exit_code);
	fclose(f);
	chmod(script, 0700);
	return script;
}

START_TEST(test_restart_configured_no_shell)
{
	const char *script = write_helper(0);
	pid_t pid = spawn_trap(path_in("m"), NULL, NULL);
	struct proc_rec p = {.pid = pid, .ppid = getpid(), .start_time = start_of(pid)};
	struct action_restart r;
	struct action_output out;
	char cmd[1024], want[1024], *cause = NULL, *line = NULL;

	strcpy(p.comm, "leakyjava");
	snprintf(cmd, sizeof(cmd),
		 "%s --fast \"two words\" 'semi;colon|pipe' $(touch %s/pwned) >%s/redir * `id` \"$HOME\"", script,
		 tmp, tmp);
	conf_cmd = cmd;
	const char *root = fake_cgroup(pid, "0::/user.slice/user-0.slice/session-1.scope\n");
	ck_assert_msg(action_restart_resolve(&p, root, lookup, "restart.leakyjava", NULL, &r, &cause) == 0, "%s", cause);
	ck_assert(!r.systemd);
	ck_assert_str_eq(conf_key, "restart.leakyjava");
	snprintf(want, sizeof(want),
		 "%s --fast 'two words' 'semi;colon|pipe' '$(touch' '%s/pwned)' '>%s/redir' '*' '`id`' '$HOME'",
		 script, tmp, tmp);
	ck_assert_str_eq(r.shown, want);

	ck_assert_int_eq(action_do_restart(NULL, &p, &r, &out, &line), 0);
	snprintf(want, sizeof(want),
		 "<--fast>\n<two words>\n<semi;colon|pipe>\n<$(touch>\n<%s/pwned)>\n<>%s/redir>\n<*>\n<`id`>\n<$HOME>\n",
		 tmp, tmp);
	ck_assert_str_eq(slurp(path_in("argv.txt")), want);
	ck_assert_int_ne(access(path_in("pwned"), F_OK), 0);
	ck_assert_int_ne(access(path_in("redir"), F_OK), 0);
	ck_assert_str_eq(out.buf, "restarting app\ndone\n");
	ck_assert_ptr_nonnull(strstr(line, "restart: "));
	ck_assert_ptr_nonnull(strstr(line, ": ok: exit 0: done"));
	free(line);
	action_output_release(&out);
	action_restart_release(&r);
}
END_TEST

START_TEST(test_restart_failure_and_stale)
{
	const char *script = write_helper(3);
	pid_t pid = spawn_trap(path_in("m"), NULL, NULL);
	struct proc_rec p = {.pid = pid, .ppid = getpid(), .start_time = start_of(pid)};
	struct action_restart r;
	struct action_output out;
	char *cause = NULL, *line = NULL;

	strcpy(p.comm, "app");
	conf_cmd = script;
	ck_assert_int_eq(action_restart_resolve(&p, fake_cgroup(pid, "0::/\n"), lookup, "restart.app", NULL, &r, &cause), 0);
	ck_assert_int_ne(action_do_restart(NULL, &p, &r, &out, &line), 0);
	ck_assert_ptr_nonnull(strstr(line, "FAILED: exit 3: done"));
	free(line);
	action_output_release(&out);

	/* The pid was reused since the snapshot: the command must not run. */
	unlink(path_in("argv.txt"));
	p.start_time++;
	ck_assert_int_eq(action_do_restart(NULL, &p, &r, &out, &line), -ESTALE);
	ck_assert_ptr_nonnull(strstr(line, "no longer the process you selected"));
	ck_assert_int_ne(access(path_in("argv.txt"), F_OK), 0);
	free(line);
	action_output_release(&out);
	action_restart_release(&r);
}
END_TEST

START_TEST(test_restart_resolution)
{
	struct proc_rec p = {.pid = 4242, .ppid = 1, .start_time = 1};
	struct action_restart r;
	char *cause = NULL;
	const char *root = fake_cgroup(4242, "0::/system.slice/jetty.service\n");

	strcpy(p.comm, "java");
	conf_cmd = "/usr/local/bin/restart-jetty --fast";
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.java", NULL, &r, &cause), 0);
	ck_assert(r.systemd);
	ck_assert_str_eq(r.argv[0], "systemctl");
	ck_assert_str_eq(r.argv[1], "restart");
	ck_assert_str_eq(r.argv[2], "jetty.service");
	ck_assert_ptr_null(r.argv[3]);
	ck_assert_str_eq(r.shown, "systemctl restart jetty.service");
	action_restart_release(&r);

	/* A scope (a login session) cannot be restarted: the configured command is used. */
	fake_cgroup(4242, "0::/user.slice/user-1000.slice/session-3.scope\n");
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.java", NULL, &r, &cause), 0);
	ck_assert(!r.systemd);
	ck_assert_str_eq(r.shown, "/usr/local/bin/restart-jetty --fast");
	action_restart_release(&r);

	/* Nothing configured: say why there is no unit, which file and which line. */
	setenv("HOME", "/home/oncall", 1);
	unsetenv("XDG_CONFIG_HOME");
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.other", NULL, &r, &cause), -ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, "it is in session-3.scope, which is not a service, and systemctl restarts only services"));
	free(cause), cause = NULL;
	fake_cgroup(4242, "0::/\n");
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.other", NULL, &r, &cause), -ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, "not in a systemd service"));
	ck_assert_ptr_nonnull(strstr(cause, "/home/oncall/.config/leaktop/leaktop.conf: restart.java = "));
	ck_assert_ptr_null(r.argv);
	free(cause);
	cause = NULL;
	/* Started with --config=FILE: that file is named; with --no-config, said so. */
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.other", "/etc/lt.conf", &r, &cause), -ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, "Add a line to /etc/lt.conf: restart.java = "));
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.other", "", &r, &cause), -ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, "without --no-config"));
	free(cause);
	cause = NULL;

	/* A configured command that does not parse. */
	conf_cmd = "restart 'oops";
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.java", NULL, &r, &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "unterminated"));
	free(cause);
	cause = NULL;

	/* Gone since the snapshot: nothing is proposed. */
	p.pid = 4243;
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.java", NULL, &r, &cause), -ESRCH);
	ck_assert_ptr_nonnull(strstr(cause, "pid 4243 has exited since the snapshot"));
	free(cause);
	cause = NULL;

	/* Never pid 1, even with a unit. */
	p.pid = 1;
	fake_cgroup(1, "0::/system.slice/init.service\n");
	ck_assert_int_eq(action_restart_resolve(&p, root, lookup, "restart.java", NULL, &r, &cause), -EPERM);
	free(cause);
}
END_TEST

/* The unit R restarts, from real /proc/PID/cgroup shapes (tests/data/cgroup): the
 * innermost service, a user's as systemctl --user -M UID@; a process in
 * user@1000.service/app.slice/leaky.service was given user@1000.service, the whole
 * user manager. Refused with a reason: scopes, the user manager itself, odd names. */
START_TEST(test_restart_unit_fixtures)
{
	static const struct {
		const char *file, *shown, *refused;
	} cases[] = {
		{"system-service", "systemctl restart nginx.service", NULL},
		{"user-service", "systemctl --user -M 1000@ restart leaky.service", NULL},
		{"user-service-v1", "systemctl --user -M 1000@ restart leaky.service", NULL},
		{"user-template", "systemctl --user -M 1001@ restart app-worker@3.service", NULL},
		{"user-session-slice", "systemctl --user -M 1000@ restart dbus-broker.service", NULL},
		{"delegated", "systemctl restart app.service", NULL},
		{"user-manager", NULL, "in init.scope, the user manager: restarting it would end every program"},
		{"user-manager-v1", NULL, "it is user@1000.service, a user's service manager"},
		{"session-scope", NULL, "in session-3.scope, which is not a service"},
		{"docker-scope", NULL, "is not a service, and systemctl restarts only services"},
		{"user-podman", NULL, "podman-1234.scope, which is not a service"},
		{"init", NULL, "init.scope, which is not a service"},
		{"dash", NULL, "-evil.service, which is not a name leaktop hands to systemctl"},
		{"shell", NULL, "which is not a name leaktop hands to systemctl"},
		{"odd-manager", NULL, "runs under user@root.service, not a user manager leaktop knows"},
		{"root", NULL, "not in a systemd service"},
		{"no-unit", NULL, "not in a systemd service"},
	};
	const char *srcdir = getenv("srcdir") ? getenv("srcdir") : ".";
	struct proc_rec p = {.pid = 4242, .ppid = 1, .start_time = 1};
	strcpy(p.comm, "leaky");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[512], text[4096], *cause = NULL;
		snprintf(path, sizeof(path), "%s/tests/data/cgroup/%s.cgroup", srcdir, cases[i].file);
		FILE *f = fopen(path, "r");
		ck_assert_msg(f != NULL, "%s", path);
		text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
		fclose(f);
		struct action_restart r;
		conf_cmd = NULL;
		int rc = action_restart_resolve(&p, fake_cgroup(4242, text), lookup, "restart.leaky", "/etc/lt.conf",
						&r, &cause);
		if (cases[i].shown) {
			ck_assert_msg(rc == 0, "%s: %s", cases[i].file, cause);
			ck_assert(r.systemd);
			ck_assert_str_eq(r.shown, cases[i].shown);
			action_restart_release(&r);
		} else {
			ck_assert_msg(rc == -ENOENT, "%s: %d %s", cases[i].file, rc, rc ? cause : r.shown);
			ck_assert_msg(strstr(cause, cases[i].refused) != NULL, "%s: %s", cases[i].file, cause);
			ck_assert_ptr_nonnull(strstr(cause, "Add a line to /etc/lt.conf: restart.leaky = "));
			/* The reason is the file's text, escaped: no raw control byte. */
			for (const char *c = cause; *c; c++)
				ck_assert_int_ge((unsigned char)*c, 0x20);
		}
		free(cause);
	}
}
END_TEST

START_TEST(test_run_isolation)
{
	struct action_output out;
	char *cause = NULL;

	/* stdin is /dev/null: cat ends at once instead of waiting on ours (a terminal in
	 * the dashboard; here a pipe nobody writes). */
	int in[2];
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(dup2(in[0], 0), 0);
	char *cat[] = {"cat", NULL};
	ck_assert_int_eq(action_run(cat, 5000, &out, &cause), 0);
	ck_assert(!out.timed_out);
	ck_assert(WIFEXITED(out.status) && WEXITSTATUS(out.status) == 0);
	ck_assert_uint_eq(out.len, 0);
	action_output_release(&out);

	/* None of our fds leak in; it is a session leader without a terminal. */
	int fd = open("/dev/null", O_RDONLY);
	ck_assert_int_eq(dup2(fd, 57), 57);
	char *sh[] = {"sh", "-c", "ls /proc/$$/fd; ps -o tty= -p $$ 2>/dev/null || echo '?'", NULL};
	ck_assert_int_eq(action_run(sh, 20000, &out, &cause), 0);
	ck_assert_msg(strstr(out.buf, "57") == NULL, "fd 57 leaked: %s", out.buf);
	ck_assert_msg(strstr(out.buf, "\n?") != NULL, "has a terminal: %s", out.buf);
	action_output_release(&out);
	close(57);
	close(fd);

	/* Not found: said, not a silent exit 127. */
	char *nope[] = {"/nonexistent/restart-me", NULL};
	ck_assert_int_eq(action_run(nope, 20000, &out, &cause), -ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, "cannot run /nonexistent/restart-me"));
	action_output_release(&out);
	free(cause);
}
END_TEST

START_TEST(test_run_bounds)
{
	struct action_output out;
	char *cause = NULL, status[64];

	char *big[] = {"head", "-c", "200000", "/dev/zero", NULL};
	ck_assert_int_eq(action_run(big, 20000, &out, &cause), 0);
	ck_assert_uint_eq(out.len, ACTION_OUTPUT_MAX);
	ck_assert(out.truncated);
	action_output_release(&out);

	char *hang[] = {"sleep", "30", NULL};
	ck_assert_int_eq(action_run(hang, 300, &out, &cause), 0);
	ck_assert(out.timed_out);
	ck_assert(WIFSIGNALED(out.status) && WTERMSIG(out.status) == SIGKILL);
	action_status_text(&out, 30000, status, sizeof(status));
	ck_assert_str_eq(status, "timed out after 30 s, killed");
	action_output_release(&out);

	/* A command that leaves a daemon holding the pipe open returns when it exits. */
	char *daemon[] = {"sh", "-c", "sleep 5 & echo started", NULL};
	ck_assert_int_eq(action_run(daemon, 20000, &out, &cause), 0);
	ck_assert(!out.timed_out);
	ck_assert_str_eq(out.buf, "started\n");
	action_output_release(&out);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown, .timeout = 30,
		 .tests = TESTKIT_TESTS(
			test_split_words,
			test_split_metacharacters_literal,
			test_split_errors,
			test_argv_format,
			test_argv_format_long,
			test_signal_table,
			test_refuse_special_pids,
			test_signal_pidfd,
			test_signal_kill_fallback,
			test_signal_permission_denied,
			test_describe,
			test_dump_dest_file,
			test_dump_dest_journal,
			test_do_signal_reports_dump_and_logs,
			test_log_escapes_once,
			test_log_without_home,
			test_log_through_no_symlink,
			test_restart_configured_no_shell,
			test_restart_failure_and_stale,
			test_restart_resolution,
			test_restart_unit_fixtures,
			test_run_isolation,
			test_run_bounds)},
	};

	return TESTKIT_RUN("actions", cases);
}
