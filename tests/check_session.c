/* The session step and the --alert-cmd runner: a fake source whose refreshes fire
 * and clear an alert; live, the recording gets the transitions and the program runs
 * once per transition; replayed, neither. */
#include "config.h"

#include "model/alert.h"
#include "tui/writers/record.h"
#include "model/snapshot.h"
#include "sources/source.h"
#include "tui/session.h"
#include "tui/spawn.h"

#include <check.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], hook[96], hook_out[96], db[96];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_session.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
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
	unlink(hook), unlink(hook_out), unlink(db);
	rmdir(dir);
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
	session_free(ss); /* waits for the programs it ran, outside the dashboard */
	snapshot_free(s);
	fclose(so.alert_log);
	return transitions;
}

START_TEST(live_records_and_runs_each_transition)
{
	/* fire, hold (no transition), a failed refresh (fed to nothing), clear after
	 * three refreshes clear of the threshold */
	static const int64_t fds[] = {800, 850, -100, 100, 100, 100};
	char *log;
	ck_assert_uint_eq(run(true, fds, 6, &log), 2);
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
	spawn_reap(sp, true);
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

int main(void)
{
	Suite *su = suite_create("session");
	TCase *tc = tcase_create("session");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, live_records_and_runs_each_transition);
	tcase_add_test(tc, replay_never_runs_or_records);
	tcase_add_test(tc, alert_program_gets_env_without_a_shell);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
