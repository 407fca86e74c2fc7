/* The thread dump on real children: one that catches SIGQUIT dumps and lives, one
 * with the default action dies and is reported as terminated (never "ok"), one that
 * ignores it is reported as ignored; the dump is read back from its stdout file. */
#include "config.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tui/actions.h"
#include "tui/tdump.h"

enum child_kind { CHILD_CATCH, CHILD_DEFAULT, CHILD_IGNORE, CHILD_FIFO_BOTH, CHILD_FIFO_ERR };

static char tmp[64];
static pid_t kid;

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/check_tdump.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	kid = 0;
	tdump_wait_ms = 2000;
	/* Actions are logged; keep the log out of the home directory. */
	setenv("XDG_STATE_HOME", tmp, 1);
}

static void teardown(void)
{
	char cmd[128];

	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	(void)!system(cmd);
}

static void on_quit(int sig)
{
	static const char dump[] = "Full thread dump\n\"main\" BLOCKED\n\tat Handler.handle(Handler.java:36)\n";
	(void)sig;
	(void)!write(1, dump, sizeof(dump) - 1);
}

/* A FIFO with no writer, which the FIFO children's handlers put on their stdout or
 * stderr: whoever opens it to read blocks until a writer comes, which never does. */
static char fifo[128];

static void swap_in_fifo(int which)
{
	int fd = open(fifo, O_RDONLY | O_NONBLOCK);
	if (which & 1)
		dup2(fd, 1);
	if (which & 2)
		dup2(fd, 2);
}

/* Both outputs become the FIFO before anything is written. */
static void on_quit_fifo_both(int sig)
{
	(void)sig;
	swap_in_fifo(3);
}

/* The dump goes to stdout (the file); then stderr becomes the FIFO. */
static void on_quit_fifo_err(int sig)
{
	on_quit(sig);
	swap_in_fifo(2);
}

/* A child with SIGQUIT caught, default or ignored, stdout and stderr to out (when
 * given), no core file. Returns once it is set up. */
static pid_t spawn(enum child_kind k, const char *out)
{
	int ready[2];
	char c;

	ck_assert_int_eq(pipe(ready), 0);
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		struct rlimit no_core = {0, 0};
		setrlimit(RLIMIT_CORE, &no_core);
		signal(SIGQUIT, k == CHILD_CATCH ? on_quit : k == CHILD_IGNORE ? SIG_IGN : k == CHILD_FIFO_BOTH ?
			on_quit_fifo_both : k == CHILD_FIFO_ERR ? on_quit_fifo_err : SIG_DFL);
		if (out) {
			int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0600);
			dup2(fd, 1);
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
	return kid;
}

static struct proc_rec target(pid_t pid)
{
	struct proc_rec p = {.pid = pid, .ppid = getpid()};
	int32_t ppid;
	uint32_t flags;

	ck_assert_int_eq(action_proc_stat(pid, &p.start_time, &ppid, &flags), 0);
	strcpy(p.comm, "app");
	return p;
}

static bool alive(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == 0;
}

START_TEST(test_disposition)
{
	static const struct {
		enum child_kind kind;
		enum tdump_disp disp;
		int key;
	} cases[] = {
		{CHILD_CATCH, TDUMP_CAUGHT, 'y'},
		{CHILD_DEFAULT, TDUMP_DEFAULT, 'K'},
		{CHILD_IGNORE, TDUMP_IGNORED, 'y'},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum tdump_disp d;
		pid_t pid = spawn(cases[i].kind, NULL);
		ck_assert_int_eq(tdump_disposition("/proc", pid, &d), 0);
		ck_assert_int_eq(d, cases[i].disp);
		ck_assert_int_eq(tdump_confirm_key(d), cases[i].key);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		kid = 0;
	}
	/* The warning a person reads before a process that will die. */
	ck_assert_ptr_nonnull(strstr(tdump_disp_warning(TDUMP_DEFAULT), "TERMINATE"));
	ck_assert_ptr_nonnull(strstr(tdump_disp_warning(TDUMP_IGNORED), "nothing"));
	enum tdump_disp d;
	ck_assert_int_lt(tdump_disposition("/proc", 0x7ffffff0, &d), 0);
	ck_assert_int_eq(d, TDUMP_UNKNOWN);
	ck_assert_int_eq(tdump_confirm_key(d), 'K');
}
END_TEST

START_TEST(test_caught_dumps_and_reads_back)
{
	char out[128], *line = NULL, *dump = NULL;
	size_t len = 0;

	snprintf(out, sizeof(out), "%s/app.log", tmp);
	pid_t pid = spawn(CHILD_CATCH, out);
	/* What was in the file before is not part of the dump. */
	FILE *f = fopen(out, "a");
	fputs("started\n", f);
	fclose(f);
	struct proc_rec p = target(pid);
	ck_assert_int_eq(tdump_do(NULL, &p, &line, &dump, &len), 0);
	ck_assert_msg(strstr(line, "ok: dumped (still running)") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "read back") != NULL, "%s", line);
	ck_assert_ptr_nonnull(dump);
	ck_assert_str_eq(dump, "Full thread dump\n\"main\" BLOCKED\n\tat Handler.handle(Handler.java:36)\n");
	ck_assert(alive(pid));
	free(line);
	free(dump);
}
END_TEST

/* A target whose SIGQUIT handler puts a FIFO with no writer on its stdout and stderr:
 * the dump was read back by opening /proc/PID/fd/1 again, which blocked for ever (the
 * dashboard froze: the clock stopped, q did nothing). The case's timeout fails a
 * block. Now the file opened before the signal is read: nothing was appended. */
START_TEST(test_fifo_swapped_in_never_blocks)
{
	char out[128], *line = NULL, *dump = NULL;
	size_t len = 0;

	snprintf(out, sizeof(out), "%s/app.log", tmp);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pid_t pid = spawn(CHILD_FIFO_BOTH, out);
	struct proc_rec p = target(pid);
	ck_assert_int_eq(tdump_do(NULL, &p, &line, &dump, &len), 0);
	ck_assert_msg(strstr(line, "ok: dumped (still running)") != NULL, "%s", line);
	ck_assert_msg(strstr(line, "(nothing was appended to it)") != NULL, "%s", line);
	ck_assert_ptr_null(dump);
	ck_assert(alive(pid));
	/* Its outputs are the FIFO now: a second dump reads nothing and blocks on nothing. */
	free(line), line = NULL;
	ck_assert_int_eq(tdump_do(NULL, &p, &line, &dump, &len), 0);
	ck_assert_msg(strstr(line, "the dump went to ") != NULL && strstr(line, "read back") == NULL, "%s", line);
	ck_assert_ptr_null(dump);
	free(line);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	/* stderr swapped after the dump went to stdout: the dump is still read back. */
	kid = 0;
	pid = spawn(CHILD_FIFO_ERR, out);
	p = target(pid);
	line = NULL;
	ck_assert_int_eq(tdump_do(NULL, &p, &line, &dump, &len), 0);
	ck_assert_msg(strstr(line, "read back") != NULL, "%s", line);
	ck_assert_ptr_nonnull(dump);
	ck_assert_ptr_nonnull(strstr(dump, "Full thread dump\n"));
	free(line);
	free(dump);
}
END_TEST

/* The capture on its own: a FIFO or a terminal on fd 1 or 2 is never opened, and
 * what is opened is read through the descriptor opened before the signal. */
START_TEST(test_capture_opens_only_regular_files)
{
	char out[128];
	struct tdump_capture c;

	snprintf(out, sizeof(out), "%s/app.log", tmp);
	snprintf(fifo, sizeof(fifo), "%s/fifo", tmp);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	pid_t pid = spawn(CHILD_FIFO_BOTH, NULL);
	kill(pid, SIGQUIT); /* both outputs become the FIFO */
	char fd2[64];
	struct stat st;
	snprintf(fd2, sizeof(fd2), "/proc/%d/fd/2", (int)pid);
	for (int i = 0; i < 1000 && !(stat(fd2, &st) == 0 && S_ISFIFO(st.st_mode)); i++)
		usleep(10000);
	ck_assert_int_eq(tdump_capture_begin("/proc", pid, &c), 0);
	tdump_capture_release(&c);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	kid = 0;
	pid = spawn(CHILD_FIFO_BOTH, out);
	ck_assert_int_eq(tdump_capture_begin("/proc", pid, &c), 1);
	kill(pid, SIGQUIT);
	FILE *f = fopen(out, "a"); /* appended after the swap, to the file: still read */
	fputs("late line\n", f);
	fclose(f);
	ck_assert_int_eq(tdump_capture_end(&c, 1000, 200), 0);
	ck_assert_ptr_nonnull(c.text);
	ck_assert_str_eq(c.text, "late line\n");
	tdump_capture_release(&c);
}
END_TEST

START_TEST(test_default_terminates_not_ok)
{
	char *line = NULL, *dump = NULL;
	size_t len = 0;
	pid_t pid = spawn(CHILD_DEFAULT, NULL);
	struct proc_rec p = target(pid);

	ck_assert_int_eq(tdump_do(NULL, &p, &line, &dump, &len), -ESRCH);
	ck_assert_msg(strstr(line, "FAILED: terminated") != NULL, "%s", line);
	ck_assert_ptr_null(strstr(line, "ok"));
	ck_assert_ptr_null(dump);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGQUIT);
	kid = 0;
	free(line);
}
END_TEST

START_TEST(test_ignored_says_nothing_happened)
{
	char *line = NULL;
	pid_t pid = spawn(CHILD_IGNORE, NULL);
	struct proc_rec p = target(pid);

	ck_assert_int_eq(tdump_do(NULL, &p, &line, NULL, NULL), -ENOTSUP);
	ck_assert_msg(strstr(line, "FAILED: ignored") != NULL, "%s", line);
	ck_assert(alive(pid));
	free(line);
	/* action_do_signal takes the same path for SIGQUIT. */
	ck_assert_int_eq(action_do_signal(NULL, &p, SIGQUIT, &line), -ENOTSUP);
	free(line);
}
END_TEST

START_TEST(test_outcome_reused_pid)
{
	pid_t pid = spawn(CHILD_CATCH, NULL);
	struct proc_rec p = target(pid);

	/* Another start time: not the process that was signalled, so it is gone. */
	ck_assert_int_eq(tdump_wait_outcome("/proc", pid, p.start_time + 1, TDUMP_CAUGHT, 100), TDUMP_TERMINATED);
	ck_assert_int_eq(tdump_wait_outcome("/proc", pid, p.start_time, TDUMP_CAUGHT, 100), TDUMP_DUMPED);
	ck_assert_int_eq(tdump_wait_outcome("/proc", pid, p.start_time, TDUMP_IGNORED, 100), TDUMP_NOTHING);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("tdump");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_disposition);
	tcase_add_test(tc, test_caught_dumps_and_reads_back);
	tcase_add_test(tc, test_default_terminates_not_ok);
	tcase_add_test(tc, test_ignored_says_nothing_happened);
	tcase_add_test(tc, test_outcome_reused_pid);
	tcase_add_test(tc, test_fifo_swapped_in_never_blocks);
	tcase_add_test(tc, test_capture_opens_only_regular_files);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
