/* The thread dump on real children: one that catches SIGQUIT dumps and lives, one
 * with the default action dies and is reported as terminated (never "ok"), one that
 * ignores it is reported as ignored; the dump is read back from its stdout file.
 * And its digest, on real JVM dumps (tests/data/poolwait.sh made them): the thread
 * waiting in an exhausted HttpClient pool is named with the application frame that
 * asked, not by the JDK's Unsafe.park. */
#include "config.h"

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

#include "program/action_do.h"
#include "program/actions.h"
#include "program/tdigest.h"
#include "program/tdump.h"
#include "tests/testkit.h"

enum child_kind { CHILD_CATCH, CHILD_DEFAULT, CHILD_IGNORE, CHILD_FIFO_BOTH, CHILD_FIFO_ERR };

static char tmp[TESTKIT_DIR_MAX];
static pid_t kid;

static void setup(void)
{
	testkit_mkdir(tmp, "tdump");
	kid = 0;
	tdump_wait_ms = 2000;
	/* Actions are logged; keep the log out of the home directory. */
	setenv("XDG_STATE_HOME", tmp, 1);
}

static void teardown(void)
{
	if (kid > 0) {
		kill(kid, SIGKILL);
		waitpid(kid, NULL, 0);
	}
	(void)testkit_rmdir(tmp);
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

/* --- the digest ------------------------------------------------------------------ */

static char *fixture(const char *name, size_t *len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", TESTDATADIR, name);
	ck_assert_msg((f = fopen(path, "r")) != NULL, "%s", path);
	char *buf = malloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static size_t digest(const char *dump, size_t len, char lines[][TDIGEST_LINE], size_t max)
{
	struct tdigest d;

	ck_assert_int_eq(tdigest_parse(dump, len, &d), 0);
	size_t n = tdigest_lines(&d, len, lines, max);
	tdigest_release(&d);
	return n;
}

/* A real exhausted HttpClient 4.5 pool: main waits for a connection. The line that
 * matters comes right after the states, and names PoolWait, not Unsafe.park. */
START_TEST(test_digest_pool_main)
{
	size_t len, n;
	char *dump = fixture("tdump_poolwait_main.txt", &len), lines[8][TDIGEST_LINE];
	struct tdigest d;

	n = digest(dump, len, lines, 8);
	ck_assert_uint_ge(n, 3);
	ck_assert_str_eq(lines[0], "19 threads: 8 RUNNABLE, 8 with no state, 2 WAITING, 1 TIMED_WAITING");
	ck_assert_str_eq(lines[1], "1 thread WAITING for a pooled connection (HttpClient 4: "
				   "AbstractConnPool.getPoolEntryBlocking:391) asked by PoolWait.fetch:38, called from "
				   "PoolWait.main:77: main");
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(!strstr(lines[i], "Unsafe.park") && !strstr(lines[i], "Object.wait"), "%s", lines[i]);
	/* The JVM's own threads are one line, last. */
	ck_assert_str_eq(lines[n - 1], "15 threads inside the JVM (no Java frame): Signal Dispatcher, Service Thread "
				       "and 13 more");
	/* The group, for the handover's next steps. */
	ck_assert_int_eq(tdigest_parse(dump, len, &d), 0);
	ck_assert_uint_eq(d.threads, 19);
	ck_assert_int_ge(d.groups[0].wait, 0);
	ck_assert(tdigest_waits[d.groups[0].wait].pool);
	ck_assert_str_eq(tdigest_waits[d.groups[0].wait].lib, "HttpClient 4");
	ck_assert(d.groups[0].app);
	ck_assert_str_eq(d.groups[0].at, "PoolWait.fetch:38");
	ck_assert_str_eq(d.groups[0].from, "PoolWait.main:77");
	tdigest_release(&d);
	free(dump);
}
END_TEST

/* A real Jetty server whose handlers lease from an exhausted pool: the 20 handler
 * threads waiting are one line with the handler that asked; Jetty's idle threads are
 * told as Jetty's, after the application's. */
START_TEST(test_digest_pool_jetty)
{
	size_t len, n;
	char *dump = fixture("tdump_poolwait_jetty.txt", &len), lines[8][TDIGEST_LINE];

	n = digest(dump, len, lines, 8);
	ck_assert_uint_eq(n, 8);
	ck_assert_str_eq(lines[0], "65 threads: 25 TIMED_WAITING, 22 WAITING, 10 RUNNABLE, 8 with no state");
	static const char waiting[] = "20 threads WAITING for a pooled connection (HttpClient 4: AbstractConnPool."
				      "getPoolEntryBlocking:391) asked by PoolWait.fetch:38, called from "
				      "PoolWait$Proxy.handle:49: qtp";
	ck_assert_msg(!strncmp(lines[1], waiting, sizeof(waiting) - 1), "%s", lines[1]);
	ck_assert_msg(strstr(lines[1], " and 18 more"), "%s", lines[1]);
	ck_assert_str_eq(lines[2], "1 thread WAITING at PoolWait.main:69: main");
	ck_assert_msg(strstr(lines[3], "threads TIMED_WAITING in Jetty code only, at BlockingArrayQueue.poll:"), "%s",
		      lines[3]);
	/* What did not fit is counted, not dropped: the lines add up to every thread. */
	size_t sum = 0, k;
	for (size_t i = 1; i + 1 < n; i++)
		sum += strtoul(lines[i], NULL, 10);
	ck_assert_msg(sscanf(lines[n - 1], "%zu more threads in", &k) == 1, "%s", lines[n - 1]);
	ck_assert_uint_eq(sum + k, 65);
	free(dump);
}
END_TEST

/* Threads blocked on a monitor are told with the thread that holds it. */
START_TEST(test_digest_lock_holder)
{
	size_t len;
	char *dump = fixture("tdump_blocked.txt", &len), lines[8][TDIGEST_LINE];

	digest(dump, len, lines, 8);
	ck_assert_str_eq(lines[1], "8 threads BLOCKED at Blocked.handle:8 on a lock held by main (TIMED_WAITING at "
				   "Blocked.main:22): worker-0, worker-1 and 6 more");
	ck_assert_str_eq(lines[2], "1 thread TIMED_WAITING at Blocked.main:22: main");
	free(dump);
}
END_TEST

/* Other pools and other dump formats, written with the frames those libraries print:
 * Hikari under jstack -l's "- Thread t@N" headers and module-prefixed frames, an
 * HttpClient 5 shaded into an application's jar, commons-pool2 under Jedis. */
START_TEST(test_digest_other_pools)
{
	static const char dump[] =
		"\"db-query-7\" - Thread t@625\r\n"
		"   java.lang.Thread.State: TIMED_WAITING\r\n"
		"\tat java.base@11.0.16/jdk.internal.misc.Unsafe.park(Native Method)\r\n"
		"\tat java.base@11.0.16/java.util.concurrent.locks.LockSupport.parkNanos(LockSupport.java:234)\r\n"
		"\tat com.zaxxer.hikari.util.ConcurrentBag.borrow(ConcurrentBag.java:151)\r\n"
		"\tat com.zaxxer.hikari.pool.HikariPool.getConnection(HikariPool.java:180)\r\n"
		"\tat com.zaxxer.hikari.HikariDataSource.getConnection(HikariDataSource.java:128)\r\n"
		"\tat app//com.example.orders.OrderDao.load(OrderDao.java:42)\r\n"
		"\tat app//com.example.orders.OrderService$$Lambda$77/0x0000000800c0b000.get(Unknown Source)\r\n"
		"\tat app//com.example.orders.OrderService.find(OrderService.java:17)\r\n"
		"\r\n"
		"\"docker-poll\" #31 daemon prio=5 os_prio=0 tid=0x1 nid=0x2 in Object.wait()\n"
		"   java.lang.Thread.State: TIMED_WAITING (on object monitor)\n"
		"\tat java.lang.Object.wait(java.base@17/Native Method)\n"
		"\tat com.github.dockerjava.zerodep.shaded.org.apache.hc.core5.concurrent.BasicFuture.get(BasicFuture.java:101)\n"
		"\tat com.github.dockerjava.zerodep.shaded.org.apache.hc.client5.http.impl.io."
		"PoolingHttpClientConnectionManager$1.get(PoolingHttpClientConnectionManager.java:278)\n"
		"\tat com.github.dockerjava.zerodep.shaded.org.apache.hc.client5.http.impl.classic.InternalExecRuntime."
		"acquireEndpoint(InternalExecRuntime.java:113)\n"
		"\tat com.example.ci.Poller.run(Poller.java:88)\n"
		"\n"
		"\"redis-1\" #40 prio=5 os_prio=0 tid=0x3 nid=0x4 waiting on condition\n"
		"   java.lang.Thread.State: WAITING (parking)\n"
		"\tat jdk.internal.misc.Unsafe.park(java.base@17/Native Method)\n"
		"\tat org.apache.commons.pool2.impl.LinkedBlockingDeque.takeFirst(LinkedBlockingDeque.java:1324)\n"
		"\tat org.apache.commons.pool2.impl.GenericObjectPool.borrowObject(GenericObjectPool.java:306)\n"
		"\tat redis.clients.jedis.util.Pool.getResource(Pool.java:38)\n"
		"\tat com.example.cache.Cache.get(Cache.java:21)\n"
		"\n"
		"\"busy\" #41 prio=5 os_prio=0 tid=0x5 nid=0x6 runnable\n"
		"   java.lang.Thread.State: RUNNABLE\n"
		"\tat org.apache.http.pool.AbstractConnPool.getPoolEntryBlocking(AbstractConnPool.java:380)\n"
		"\tat com.example.Fast.call(Fast.java:3)\n"
		"\"quoted output\" is not a thread\n";
	char lines[8][TDIGEST_LINE];
	size_t n = digest(dump, sizeof(dump) - 1, lines, 8);

	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(lines[0], "4 threads: 2 TIMED_WAITING, 1 WAITING, 1 RUNNABLE");
	/* Pool waits first, one thread each, in the order of the dump. */
	ck_assert_str_eq(lines[1], "1 thread TIMED_WAITING for a pooled connection (Hikari: HikariPool.getConnection:180)"
				   " asked by com.example.orders.OrderDao.load:42, called from "
				   "com.example.orders.OrderService.find:17: db-query-7");
	ck_assert_str_eq(lines[2], "1 thread TIMED_WAITING for a pooled connection (HttpClient 5: "
				   "PoolingHttpClientConnectionManager$1.get:278) asked by com.example.ci.Poller.run:88: "
				   "docker-poll");
	ck_assert_str_eq(lines[3], "1 thread WAITING for a pooled connection (commons-pool2: "
				   "GenericObjectPool.borrowObject:306) asked by com.example.cache.Cache.get:21: redis-1");
	/* A thread running through the pool is not waiting in it. */
	ck_assert_str_eq(lines[4], "1 thread RUNNABLE at com.example.Fast.call:3: busy");
}
END_TEST

/* A dump is outside input: 30000 threads, each somewhere else, each blocked on a lock
 * of its own that another holds, are grouped by hash (no scan per thread), and those
 * beyond the bound are counted, not read. */
START_TEST(test_digest_many_threads)
{
	size_t cap = 30000 * 200, len = 0;
	char *dump = malloc(cap), lines[4][TDIGEST_LINE];

	for (int i = 0; i < 30000; i++)
		len += (size_t)snprintf(dump + len, cap - len,
					"\"t%d\" #%d\n   java.lang.Thread.State: BLOCKED\n\tat app.C%d.m(C.java:%d)\n"
					"\t- waiting to lock <0x%x>\n\t- locked <0x%x>\n",
					i, i, i, i, i + 1, i);
	size_t n = digest(dump, len, lines, 4);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(lines[0], "30000 threads: 20000 BLOCKED; 10000 not read (only the first 20000 are)");
	ck_assert_str_eq(lines[1], "1 thread BLOCKED at app.C0.m:0 on a lock held by t1 (BLOCKED at app.C1.m:1): t0");
	ck_assert_str_eq(lines[3], "19998 more threads in 19998 other places");
	free(dump);
}
END_TEST

START_TEST(test_digest_not_java)
{
	char lines[4][TDIGEST_LINE];

	ck_assert_uint_eq(digest("segfault\n", 9, lines, 4), 1);
	ck_assert_str_eq(lines[0], "no Java threads found in 9 bytes of output");
	ck_assert_uint_eq(digest("", 0, lines, 4), 1);
}
END_TEST

/* The dump viewer's text: the digest, then the dump untouched. */
START_TEST(test_digest_prepend)
{
	size_t len, out_len = 0;
	char *dump = fixture("tdump_poolwait_main.txt", &len);
	char *out = tdigest_prepend(dump, len, &out_len);

	ck_assert_ptr_nonnull(out);
	static const char head[] = "Digest (the dump follows):\n- 19 threads: ";
	ck_assert_msg(!strncmp(out, head, sizeof(head) - 1), "%.80s", out);
	ck_assert_ptr_nonnull(strstr(out, "\n- 1 thread WAITING for a pooled connection (HttpClient 4: "));
	ck_assert_uint_eq(strlen(out), out_len);
	ck_assert(out_len > len && !memcmp(out + out_len - len, dump, len));
	/* A blank line between them. */
	ck_assert(out[out_len - len - 1] == '\n' && out[out_len - len - 2] == '\n');
	free(out);
	free(dump);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown, .timeout = 30,
		 .tests = TESTKIT_TESTS(
			test_disposition,
			test_caught_dumps_and_reads_back,
			test_default_terminates_not_ok,
			test_ignored_says_nothing_happened,
			test_outcome_reused_pid,
			test_fifo_swapped_in_never_blocks,
			test_capture_opens_only_regular_files)},
		{.name = "digest",
		 .tests = TESTKIT_TESTS(
			test_digest_pool_main,
			test_digest_pool_jetty,
			test_digest_lock_holder,
			test_digest_other_pools,
			test_digest_many_threads,
			test_digest_not_java,
			test_digest_prepend)},
	};

	return TESTKIT_RUN("tdump", cases);
}
