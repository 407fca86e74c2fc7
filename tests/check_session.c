/* The session step and the --alert-cmd runner: a fake source whose refreshes fire
 * and clear an alert; live, the recording gets the transitions and the program runs
 * once per transition; replayed, neither. */
#include "config.h"

#include "model/alert.h"
#include "recording/record.h"
#include "model/snapshot.h"
#include "sources/source.h"
#include "program/session.h"
#include "program/spawn.h"
#include "tests/testkit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <signal.h>
#include <sys/socket.h>
#include <time.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[TESTKIT_DIR_MAX], hook[96], hook_out[96], db[96];

static void setup(void)
{
	testkit_mkdir(dir, "session");
	snprintf(hook, sizeof(hook), "%s/hook", dir);
	snprintf(hook_out, sizeof(hook_out), "%s/hook.out", dir);
	snprintf(db, sizeof(db), "%s/rec.db", dir);
	FILE *f = fopen(hook, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\necho \"$LEAKTOP_EVENT $LEAKTOP_ALERT $LEAKTOP_PID\" >> \"$HOOK_OUT\"\n");
	fclose(f);
	chmod(hook, 0700);
	setenv("HOOK_OUT", hook_out, 1);
}

static void teardown(void)
{
	(void)testkit_rmdir(dir);
}

/* pid 42 with fds of a 1000 limit: 800 fires fd_usage (75%), 100 clears it. */
static void fill(struct snapshot *s, int64_t fds, double t)
{
	snapshot_clear(s);
	struct proc_rec *p = snapshot_add_proc(s);
	p->pid = 42, p->start_time = 99, p->fds = fds, p->fd_limit = 1000;
	snprintf(p->comm, sizeof(p->comm), "java");
	s->time = t;
	ck_assert_int_eq(snapshot_build(s), 0);
}

/* A source of scripted refreshes: fds per refresh, < 0 for a failed (partial) one. */
struct fake {
	struct source base;
	const int64_t *fds;
	size_t n, i;
};

static int fake_next(struct source *src, struct snapshot *s, char **cause)
{
	struct fake *f = (struct fake *)src;
	if (f->i == f->n)
		return 1;
	int64_t fds = f->fds[f->i++];
	fill(s, fds < 0 ? -fds : fds, 1700000000.0 + (double)f->i);
	s->tick = f->i;
	if (fds < 0) {
		*cause = strdup("fake failure");
		return -EIO;
	}
	return 0;
}

static void fake_free(struct source *src)
{
	(void)src;
}

static const struct source_ops fake_ops = {.name = "fake", .next = fake_next, .free = fake_free};

static int lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;
	if (!f)
		return 0;
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static int count_rows(const char *sql)
{
	sqlite3 *h;
	sqlite3_stmt *q;
	ck_assert_int_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(h, sql, -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	int n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(h);
	return n;
}

/* Run the session over the scripted refreshes; returns the transitions it reported
 * and what went to the alert log. */
static size_t run(bool live, const int64_t *fds, size_t n, char **log)
{
	struct fake src = {.base = {.ops = &fake_ops, .live = live}, .fds = fds, .n = n};
	struct record_info info = {.interval = 1};
	struct record *rec = NULL;
	char *cause = NULL;
	ck_assert_msg(record_open(&rec, db, &info, &cause) == 0, "%s", cause ? cause : "");

	struct session_opts so = {.interval_s = 1, .window_s = 60, .alert_cmd = hook};
	alert_thresholds_default(&so.alert);
	size_t len;
	so.alert_log = open_memstream(log, &len);
	struct session *ss;
	ck_assert_int_eq(session_new(&ss, &so, &src.base, rec), 0);
	struct snapshot *s = snapshot_new();
	size_t transitions = 0;
	int rc;
	while ((rc = session_step(ss, s, &cause)) != 1) {
		size_t k;
		session_events(ss, &k);
		transitions += k;
		if (rc < 0)
			ck_assert_uint_eq(k, 0);
		free(cause), cause = NULL;
	}
	session_free(ss); /* waits for none of the programs it ran */
	snapshot_free(s);
	fclose(so.alert_log);
	return transitions;
}

/* Poll for cond(arg) for up to 10 s (the machine may be loaded): a program leaktop
 * started ends on its own time. */
static bool eventually(bool (*cond)(const void *), const void *arg)
{
	for (int i = 0; i < 1000; i++) {
		if (cond(arg))
			return true;
		usleep(10000);
	}
	return cond(arg);
}

static bool has_lines(const void *want)
{
	return lines(hook_out) >= *(const int *)want;
}

START_TEST(live_records_and_runs_each_transition)
{
	/* fire, hold (no transition), a failed refresh (fed to nothing), clear after
	 * three refreshes clear of the threshold */
	static const int64_t fds[] = {800, 850, -100, 100, 100, 100};
	char *log;
	ck_assert_uint_eq(run(true, fds, 6, &log), 2);
	int two = 2;
	ck_assert(eventually(has_lines, &two));
	ck_assert_int_eq(lines(hook_out), 2);
	FILE *f = fopen(hook_out, "r");
	char l1[64], l2[64];
	ck_assert(fgets(l1, sizeof(l1), f) && fgets(l2, sizeof(l2), f));
	fclose(f);
	/* One run per transition; the two programs run side by side, so either may
	 * write first. */
	if (strcmp(l1, "fire fd_usage 42\n")) {
		char t[64];
		memcpy(t, l1, sizeof(t)), memcpy(l1, l2, sizeof(t)), memcpy(l2, t, sizeof(t));
	}
	ck_assert_str_eq(l1, "fire fd_usage 42\n");
	ck_assert_str_eq(l2, "clear fd_usage 42\n");
	ck_assert_int_eq(count_rows("SELECT count(*) FROM refresh"), 6);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM event WHERE kind = 'alert' AND pid = 42"), 2);
	/* Each with the refresh it happened on: the first and the last. */
	ck_assert_int_eq(count_rows("SELECT count(*) FROM event e JOIN refresh r ON r.tick = e.tick "
				    "WHERE e.what LIKE 'warning fd_usage: pid 42 (java) uses 80%' AND r.time = 1700000001"), 1);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM event WHERE what LIKE 'clear fd_usage:%cleared'"), 1);
	ck_assert_ptr_nonnull(strstr(log, "leaktop: alert warning fd_usage: pid 42 (java) uses 80% of its fd limit"));
	/* The verdict's changes, each once: near the limit is worth a look, then not. */
	ck_assert_ptr_nonnull(strstr(log, "leaktop: verdict pid 42 (java) judged suspect (was ok): 800 fds, 80% of the fd limit\n"));
	ck_assert_ptr_nonnull(strstr(log, "leaktop: verdict pid 42 (java) is ok again (was suspect): "));
	const char *first = strstr(log, "judged suspect");
	ck_assert_ptr_null(strstr(first + 1, "judged suspect"));
	free(log);
}
END_TEST

START_TEST(replay_never_runs_or_records)
{
	static const int64_t fds[] = {800, 100, 100, 100, 900};
	char *log;
	/* The alerts are still worked out (the dashboard's alert line, JSON's array)... */
	/* fire, clear, fire again (the jump from 100 to 900 is one step: no growth, so
	 * no time to exhaustion and no fd_eta alert) */
	ck_assert_uint_eq(run(false, fds, 5, &log), 3);
	ck_assert_ptr_nonnull(strstr(log, "leaktop: alert warning fd_usage"));
	free(log);
	/* ... but nothing runs and no alert goes into a recording. */
	ck_assert_int_eq(access(hook_out, F_OK), -1);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM event"), 0);
	ck_assert_int_eq(count_rows("SELECT count(*) FROM refresh"), 5);
}
END_TEST

static bool all_reaped(const void *sp)
{
	spawn_reap((struct spawn *)sp);
	return spawn_running(sp) == 0;
}

START_TEST(alert_program_gets_env_without_a_shell)
{
	char out[128], line[512];
	snprintf(out, sizeof(out), "%s/env", dir);
	FILE *f = fopen(hook, "w");
	fprintf(f, "#!/bin/sh\nenv > \"$ALERT_OUT\"\n");
	fclose(f);
	setenv("ALERT_OUT", out, 1);
	setenv("LEAKTOP_PORT", "stale", 1); /* leaktop's own values replace inherited ones */

	struct snapshot *s = snapshot_new();
	struct alerts *a = alerts_new(NULL);
	fill(s, 800, 0);
	ck_assert_int_eq(alerts_update(a, s, NULL), 1);
	size_t n;
	struct alert e = alerts_events(a, &n)[0];
	snprintf(e.comm, sizeof(e.comm), "x;touch %.40s/pwned", dir);
	struct spawn *sp = spawn_new(false);
	char *cause = NULL;
	ck_assert_int_eq(spawn_alert(sp, hook, &e, &cause), 0);
	ck_assert(eventually(all_reaped, sp));
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1); /* no zombie left */

	int seen = 0;
	char want[192];
	snprintf(want, sizeof(want), "LEAKTOP_COMM=x;touch %.40s/pwned\n", dir);
	ck_assert_ptr_nonnull(f = fopen(out, "r"));
	while (fgets(line, sizeof(line), f)) {
		seen += !strcmp(line, "LEAKTOP_ALERT=fd_usage\n");
		seen += !strcmp(line, "LEAKTOP_LEVEL=warning\n");
		seen += !strcmp(line, "LEAKTOP_EVENT=fire\n");
		seen += !strcmp(line, "LEAKTOP_PID=42\n");
		seen += !strcmp(line, "LEAKTOP_VALUE=80\n");
		seen += !strcmp(line, "LEAKTOP_THRESHOLD=75\n");
		seen += !strcmp(line, "LEAKTOP_PORT=\n");
		seen += !strcmp(line, want);
		seen += !strcmp(line, "LEAKTOP_MESSAGE=pid 42 (java) uses 80% of its fd limit (800 of 1000)\n");
	}
	fclose(f);
	ck_assert_int_eq(seen, 9);
	snprintf(want, sizeof(want), "%s/pwned", dir);
	ck_assert_int_eq(access(want, F_OK), -1);

	/* A program that is not there is reported, not silently lost. */
	ck_assert_int_eq(spawn_alert(sp, "/nonexistent/leaktop-hook", &e, &cause), -ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, "/nonexistent/leaktop-hook"));
	free(cause);
	spawn_free(sp);
	alerts_free(a);
	snapshot_free(s);
	unlink(out);
}
END_TEST

/* --- the program isolated, time-limited, never waited for ------------------------- */

static char self_exe[4096];

/* This test program itself, run as the alert program (PROBE_OUT set): it writes what
 * it was given, as "key value" lines. */
static int probe(const char *out)
{
	FILE *f = fopen(out, "w");
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;

	if (!f || !d)
		return 1;
	fprintf(f, "session_leader %d\n", getsid(0) == getpid());
	fprintf(f, "group_leader %d\n", getpgrp() == getpid());
	int tty = open("/dev/tty", O_RDWR | O_NOCTTY);
	fprintf(f, "tty %d\n", tty >= 0);
	fputs("fds", f);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && atoi(de->d_name) != dirfd(d) && atoi(de->d_name) != fileno(f) &&
		    atoi(de->d_name) != tty)
			fprintf(f, " %s", de->d_name);
	fputc('\n', f);
	closedir(d);
	/* What exec keeps of leaktop's: the signals ignored and blocked (a handler is
	 * reset by exec, and this program's own runtime, ASan's, sets some). */
	FILE *sf = fopen("/proc/self/status", "r");
	char line[256];
	while (sf && fgets(line, sizeof(line), sf))
		if (!strncmp(line, "SigIgn:", 7) || !strncmp(line, "SigBlk:", 7))
			fprintf(f, "%.6s %llx\n", line, strtoull(line + 7, NULL, 16));
	if (sf)
		fclose(sf);
	/* stdin is /dev/null */
	struct stat st, null;
	fprintf(f, "stdin_null %d\n", !fstat(0, &st) && !stat("/dev/null", &null) && st.st_rdev == null.st_rdev);
	return fclose(f) ? 1 : 0;
}

static bool exists(const void *path)
{
	return access(path, F_OK) == 0;
}

static struct alert probe_alert(void)
{
	struct alert e = {.kind = ALERT_FD_USAGE, .level = ALERT_WARNING, .pid = 42, .value = 80, .threshold = 75};
	snprintf(e.comm, sizeof(e.comm), "java");
	snprintf(e.message, sizeof(e.message), "probe");
	return e;
}

/* Like the restart command: its own session, no terminal, fds 0-2 only, every signal
 * at its default and none blocked. It inherited the NETLINK socket and pipes, ran with
 * SIGPIPE ignored (TTIN/TTOU too in the dashboard) and shared leaktop's session. */
START_TEST(alert_program_is_isolated)
{
	char out[128], line[256];
	int leak[2], sock;
	sigset_t block;

	snprintf(out, sizeof(out), "%s/probe", dir);
	setenv("PROBE_OUT", out, 1);
	/* What leaktop holds when it runs one: fds without CLOEXEC, signals ignored and
	 * blocked. */
	ck_assert_int_eq(pipe(leak), 0);
	ck_assert_int_ge(sock = socket(AF_NETLINK, SOCK_RAW, NETLINK_SOCK_DIAG), 0);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);

	const bool quiet[] = {false, true};
	for (int q = 0; q < 2; q++) {
		unlink(out);
		struct spawn *sp = spawn_new(quiet[q]);
		struct alert e = probe_alert();
		char *cause = NULL;
		ck_assert_msg(spawn_alert(sp, self_exe, &e, &cause) == 0, "%s", cause);
		ck_assert(eventually(all_reaped, sp));
		spawn_free(sp);
		FILE *f = fopen(out, "r");
		ck_assert_ptr_nonnull(f);
		int seen = 0;
		while (fgets(line, sizeof(line), f)) {
			seen += !strcmp(line, "session_leader 1\n");
			seen += !strcmp(line, "group_leader 1\n");
			seen += !strcmp(line, "tty 0\n");
			seen += !strcmp(line, "SigBlk 0\n");
			seen += !strcmp(line, "SigIgn 0\n");
			seen += !strcmp(line, "stdin_null 1\n");
			if (!strncmp(line, "fds", 3))
				ck_assert_msg(!strcmp(line, "fds 0 1 2\n"), "the program got fds: %s", line + 3);
			else
				seen += 0;
		}
		fclose(f);
		ck_assert_int_eq(seen, 6);
	}
	close(leak[0]), close(leak[1]), close(sock);
	unlink(out);
	unsetenv("PROBE_OUT");
}
END_TEST

static bool gone(const void *pidp)
{
	pid_t pid = *(const pid_t *)pidp;
	/* Dead, or a zombie nobody reaped yet. */
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return true;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	char *c = strrchr(buf, ')');
	return c && c[1] == ' ' && c[2] == 'Z';
}

static pid_t read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = 0;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%d", &pid), 1);
	fclose(f);
	return pid;
}

/* A program that never ends (exec sleep) is not waited for: session_free returns at
 * once (batch mode waited for it, so SIGTERM waited too), and the program and what it
 * started in its process group are killed at the time limit, leaktop or not. */
START_TEST(stuck_program_killed_at_the_limit_never_waited_for)
{
	char pidf[128], bgf[128];
	snprintf(pidf, sizeof(pidf), "%s/pid", dir);
	snprintf(bgf, sizeof(bgf), "%s/bg", dir);
	FILE *f = fopen(hook, "w");
	fprintf(f, "#!/bin/sh\nsleep 300 &\necho $! > %s\necho $$ > %s.tmp\nmv %s.tmp %s\nexec sleep 300\n", bgf, pidf,
		pidf, pidf);
	fclose(f);
	spawn_time_limit_ms = 1500;

	static const int64_t fds[] = {800};
	struct fake src = {.base = {.ops = &fake_ops, .live = true}, .fds = fds, .n = 1};
	struct session_opts so = {.interval_s = 1, .window_s = 60, .alert_cmd = hook};
	alert_thresholds_default(&so.alert);
	struct session *ss;
	struct snapshot *s = snapshot_new();
	char *cause = NULL;
	ck_assert_int_eq(session_new(&ss, &so, &src.base, NULL), 0);
	ck_assert_int_eq(session_step(ss, s, &cause), 0);
	ck_assert(eventually(exists, pidf));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	session_free(ss); /* the test's 4 s timeout fails it if this waits out sleep 300 */
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 2, "session_free waited for the alert program");
	snapshot_free(s);
	pid_t pid = read_pid(pidf), bgpid = read_pid(bgf);
	ck_assert(eventually(gone, &pid));
	ck_assert(eventually(gone, &bgpid));
	while (waitpid(-1, NULL, 0) > 0) /* the watchdog, leaktop's child */
		;
	unlink(pidf), unlink(bgf);
}
END_TEST

/* With SPAWN_MAX_RUNNING programs stuck, the next transition is skipped at once
 * (batch and --listen waited for them all: a scrape hung 15 s). */
START_TEST(full_runner_skips_instead_of_waiting)
{
	char pids[128];
	snprintf(pids, sizeof(pids), "%s/pids", dir);
	ck_assert_int_eq(mkdir(pids, 0700), 0);
	FILE *f = fopen(hook, "w");
	fprintf(f, "#!/bin/sh\necho $$ > %s/$$\nexec sleep 300\n", pids);
	fclose(f);
	spawn_time_limit_ms = 120000; /* none ends while the runner fills, however slow */
	struct spawn *sp = spawn_new(false);
	struct alert e = probe_alert();
	char *cause = NULL;
	for (int i = 0; i < SPAWN_MAX_RUNNING; i++)
		ck_assert_msg(spawn_alert(sp, hook, &e, &cause) == 0, "%s", cause);
	ck_assert_uint_eq(spawn_running(sp), SPAWN_MAX_RUNNING);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(spawn_alert(sp, hook, &e, &cause), -EBUSY);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ck_assert_msg(t1.tv_sec - t0.tv_sec < 2, "a full runner waited");
	ck_assert_ptr_nonnull(strstr(cause, "not run: 64 still run"));
	free(cause);
	/* The programs (each its own process group) ended here; their watchdogs then
	 * end too and are reaped, none counted as killed at the limit. */
	int n = 0;
	for (int i = 0; i < 1000 && n < SPAWN_MAX_RUNNING; i++) {
		DIR *d = opendir(pids);
		struct dirent *de;
		n = 0;
		while (d && (de = readdir(d)))
			n += de->d_name[0] != '.';
		if (d)
			closedir(d);
		usleep(10000);
	}
	ck_assert_int_eq(n, SPAWN_MAX_RUNNING);
	DIR *d = opendir(pids);
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			ck_assert_int_eq(kill(-atoi(de->d_name), SIGKILL), 0);
	closedir(d);
	int killed = 0;
	for (int i = 0; i < 1000 && spawn_running(sp); i++) {
		killed += spawn_reap(sp);
		usleep(10000);
	}
	ck_assert_uint_eq(spawn_running(sp), 0);
	ck_assert_int_eq(killed, 0);
	spawn_free(sp);
}
END_TEST

/* Killed at the limit: reaped as such (the session notes "ran over"). */
START_TEST(limit_kill_is_counted)
{
	FILE *f = fopen(hook, "w");
	fprintf(f, "#!/bin/sh\nexec sleep 300\n");
	fclose(f);
	spawn_time_limit_ms = 1000;
	struct spawn *sp = spawn_new(true);
	struct alert e = probe_alert();
	char *cause = NULL;
	ck_assert_msg(spawn_alert(sp, hook, &e, &cause) == 0, "%s", cause);
	int killed = 0;
	for (int i = 0; i < 1500 && spawn_running(sp); i++) {
		killed += spawn_reap(sp);
		usleep(10000);
	}
	ck_assert_uint_eq(spawn_running(sp), 0);
	ck_assert_int_eq(killed, 1);
	spawn_free(sp);
}
END_TEST

int main(int argc, char **argv)
{
	const char *probe_out = getenv("PROBE_OUT");
	(void)argc;
	if (probe_out && argv[0] && strstr(argv[0], "check_session") && getenv("LEAKTOP_ALERT"))
		return probe(probe_out);
	ssize_t n = readlink("/proc/self/exe", self_exe, sizeof(self_exe) - 1);
	self_exe[n > 0 ? n : 0] = '\0';
	const struct testkit_case cases[] = {
		{.name = "session", .setup = setup, .teardown = teardown, .timeout = 20,
		 .tests = TESTKIT_TESTS(
			live_records_and_runs_each_transition,
			replay_never_runs_or_records,
			alert_program_gets_env_without_a_shell,
			alert_program_is_isolated,
			stuck_program_killed_at_the_limit_never_waited_for,
			full_runner_skips_instead_of_waiting,
			limit_kill_is_counted)},
	};

	return TESTKIT_RUN("session", cases);
}
