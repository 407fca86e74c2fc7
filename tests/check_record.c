/* Recording and replay: synthetic refreshes go through record + replay and come
 * back identical; steady refreshes cost almost no rows; a damaged, truncated or
 * newer file gives a one-line error or a partial replay, never a crash. */
#include "config.h"

#include "model/batch.h"
#include "model/record.h"
#include "model/report.h"
#include "model/snapshot.h"
#include "sources/replay.h"
#include "sources/source.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64], path[128];

static void setup(void)
{
	strcpy(dir, "/tmp/check_record.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/rec.db", dir);
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* A server (pid 100) leaking CLOSE_WAIT on 127.0.0.1:8080, one more per refresh,
 * with its clients' orphaned FIN_WAIT2 ends; a client process (pid 200) holding an
 * ESTABLISHED connection whose queues move; steady tick after tick when grow is 0. */
static void make_snap(struct snapshot *s, uint64_t tick, int grow)
{
	int leaked = 3 + (grow ? (int)tick : 0);
	struct proc_rec *p;
	struct sock_rec *k;
	struct sock_owner *o;

	snapshot_clear(s);
	s->tick = tick;
	s->time = 1700000000.125 + (double)tick * 2;
	s->refresh_ms = 12.5 + (double)tick;
	if (tick == 2)
		snprintf(s->status, sizeof(s->status), "processes: 1 could not be read");

	p = snapshot_add_proc(s);
	p->pid = 100, p->ppid = 1, p->uid = 0, p->start_time = 5000, p->netns = 4026531840ULL;
	p->rss_kb = 1000 + (grow ? tick : 0), p->fds = 4 + leaked, p->fd_limit = 1024, p->fd_limit_hard = 4096;
	p->state = 'S';
	snprintf(p->comm, sizeof(p->comm), "leakysrv");
	snprintf(p->user, sizeof(p->user), "root");
	snprintf(p->unit, sizeof(p->unit), "leaky.service");
	snprintf(p->cmdline, sizeof(p->cmdline), "/usr/bin/leaky server --name a\\b");
	p = snapshot_add_proc(s);
	p->pid = 200, p->ppid = 1, p->uid = 1000, p->start_time = 6000;
	p->rss_kb = 2000, p->fds = 5, p->fd_limit = UINT64_MAX, p->fd_limit_hard = UINT64_MAX;
	p->state = 'R';
	snprintf(p->comm, sizeof(p->comm), "client");
	snprintf(p->user, sizeof(p->user), "alice");
	snprintf(p->cmdline, sizeof(p->cmdline), "client --hold");

	k = snapshot_add_sock(s);
	k->cookie = 1, k->inode = 1001, k->state = ST_LISTEN, k->family = AF_INET, k->proto = 6;
	k->lport = 8080, k->wqueue = 4096;
	inet_pton(AF_INET, "127.0.0.1", k->laddr);
	o = snapshot_add_owner(s);
	o->inode = 1001, o->proc = 0, o->fd = 3;
	/* The dump's order changes from refresh to refresh; the replay's does not. */
	for (int j = 0; j < leaked; j++) {
		int i = tick % 2 ? leaked - 1 - j : j;
		k = snapshot_add_sock(s);
		k->cookie = 100 + (uint64_t)i, k->inode = 2000 + (uint32_t)i, k->state = ST_CLOSE_WAIT;
		k->family = AF_INET, k->proto = 6, k->lport = 8080, k->rport = (uint16_t)(40000 + i);
		k->rqueue = 101;
		inet_pton(AF_INET, "127.0.0.1", k->laddr);
		inet_pton(AF_INET, "127.0.0.2", k->raddr);
		o = snapshot_add_owner(s);
		o->inode = k->inode, o->proc = 0, o->fd = 4 + i;
		k = snapshot_add_sock(s);
		k->cookie = 500 + (uint64_t)i, k->state = ST_FIN_WAIT2, k->family = AF_INET, k->proto = 6;
		k->lport = (uint16_t)(40000 + i), k->rport = 8080, k->timer = 3;
		inet_pton(AF_INET, "127.0.0.2", k->laddr);
		inet_pton(AF_INET, "127.0.0.1", k->raddr);
	}
	k = snapshot_add_sock(s);
	k->cookie = 900, k->inode = 3000, k->state = ST_ESTABLISHED, k->family = AF_INET6, k->proto = 6;
	k->lport = 50000, k->rport = 443, k->uid = 1000;
	k->rqueue = grow ? (uint32_t)(tick * 7 % 5) : 0, k->wqueue = grow ? (uint32_t)tick : 0;
	inet_pton(AF_INET6, "::1", k->laddr);
	inet_pton(AF_INET6, "2001:db8::1", k->raddr);
	o = snapshot_add_owner(s);
	o->inode = 3000, o->proc = 1, o->fd = 7;
	/* The same port listening in two network namespaces: ports that tie but for netns. */
	for (int ns = 2; ns > 0; ns--) {
		k = snapshot_add_sock(s);
		k->cookie = 950 + (uint64_t)ns, k->netns = 4026532000ULL + (uint64_t)ns, k->state = ST_LISTEN;
		k->family = AF_INET, k->proto = 6, k->lport = 9090, k->wqueue = 128;
	}
	o = snapshot_add_owner(s); /* a unix socket: in no TCP dump */
	o->inode = 4000, o->proc = 1, o->fd = 8;
	ck_assert_int_eq(snapshot_build(s), 0);
	s->totals.unreadable = tick == 2;
	s->totals.file_alloc = 3000 + tick, s->totals.file_max = 1000000;
}

static int cmp_cookie(const void *a, const void *b)
{
	const struct sock_rec *x = a, *y = b;
	return (x->cookie > y->cookie) - (x->cookie < y->cookie);
}

/* Identical except the order of the socket array (the dump's order is not kept). */
static void assert_same(const struct snapshot *a, const struct snapshot *b)
{
	ck_assert_uint_eq(a->tick, b->tick);
	ck_assert(a->time == b->time);
	ck_assert(a->refresh_ms == b->refresh_ms);
	ck_assert_str_eq(a->status, b->status);
	ck_assert_mem_eq(&a->totals, &b->totals, sizeof(a->totals));
	ck_assert_uint_eq(a->nprocs, b->nprocs);
	ck_assert_mem_eq(a->procs, b->procs, a->nprocs * sizeof(*a->procs));
	ck_assert_uint_eq(a->nowners, b->nowners);
	for (size_t i = 0; i < a->nowners; i++) {
		ck_assert_uint_eq(a->owners[i].inode, b->owners[i].inode);
		ck_assert_int_eq(a->owners[i].proc, b->owners[i].proc);
		ck_assert_int_eq(a->owners[i].fd, b->owners[i].fd);
		ck_assert_int_eq(a->owners[i].sock < 0, b->owners[i].sock < 0);
	}
	ck_assert_uint_eq(a->nports, b->nports);
	ck_assert_mem_eq(a->ports, b->ports, a->nports * sizeof(*a->ports));
	ck_assert_uint_eq(a->nsocks, b->nsocks);
	struct sock_rec *x = malloc(a->nsocks * sizeof(*x) + 1), *y = malloc(b->nsocks * sizeof(*y) + 1);
	memcpy(x, a->socks, a->nsocks * sizeof(*x));
	memcpy(y, b->socks, b->nsocks * sizeof(*y));
	qsort(x, a->nsocks, sizeof(*x), cmp_cookie);
	qsort(y, b->nsocks, sizeof(*y), cmp_cookie);
	for (size_t i = 0; i < a->nsocks; i++) {
		/* The owner is an index into the owners, which are the same. */
		ck_assert_msg(!memcmp(&x[i], &y[i], sizeof(*x)), "socket %llu differs",
			      (unsigned long long)x[i].cookie);
	}
	free(x);
	free(y);
}

/* What a user sees: the batch JSON line. A short backlog list ties at its end. */
static char *json_of(const struct snapshot *s)
{
	struct batch_opts bo = {.format = FMT_JSON, .backlog_max = 2, .boot_time = 1699990000, .clk_tck = 100};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_int_eq(batch_write(f, s, NULL, &bo), 0);
	fclose(f);
	return out;
}

static struct record *open_rec(void)
{
	struct record_info info = {.interval = 2, .boot_time = 1699990000, .clk_tck = 100};
	struct record *r = NULL;
	char *cause = NULL;
	int rc = record_open(&r, path, &info, &cause);

	ck_assert_msg(rc == 0, "record_open: %s", cause ? cause : "?");
	return r;
}

static void write_rec(int n, int grow)
{
	struct record *r = open_rec();
	struct snapshot *s = snapshot_new();
	char *cause = NULL;

	for (int t = 1; t <= n; t++) {
		make_snap(s, (uint64_t)t, grow);
		ck_assert_msg(record_snapshot(r, s, &cause) == 0, "%s", cause);
	}
	snapshot_free(s);
	record_close(r);
}

static long count_rows(const char *table)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	char sql[128];
	long n = -1;

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	return n;
}

static void sql(const char *stmt)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(round_trip)
{
	struct snapshot *want = snapshot_new(), *got = snapshot_new();
	struct source *src;
	char *cause = NULL;

	write_rec(12, 1);
	ck_assert_int_eq(replay_source_new(&src, path, &cause), 0);
	ck_assert(!src->live);
	ck_assert_uint_eq(replay_count(src), 12);
	ck_assert(replay_info(src)->boot_time == 1699990000);
	ck_assert_int_eq(replay_info(src)->clk_tck, 100);
	for (uint64_t t = 1; t <= 12; t++) {
		ck_assert_int_eq(source_next(src, got, &cause), 0);
		make_snap(want, t, 1);
		assert_same(want, got);
		char *a = json_of(want), *b = json_of(got);
		ck_assert_str_eq(a, b);
		free(a);
		free(b);
	}
	ck_assert_int_eq(source_next(src, got, &cause), 1);

	/* Seeking: back to refresh 5, then forward one, and by time. */
	replay_seek(src, 4);
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	make_snap(want, 5, 1);
	assert_same(want, got);
	ck_assert_int_eq(replay_pos(src), 4);
	replay_seek(src, replay_pos(src) - 1);
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	ck_assert_uint_eq(got->tick, 4);
	ck_assert_int_eq(replay_find_time(src, replay_time(src, 8) + 0.5), 8);
	ck_assert_int_eq(replay_find_time(src, 0), 0);
	ck_assert_int_eq(replay_find_time(src, 1e12), 11);
	replay_seek(src, 1000);
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	ck_assert_uint_eq(got->tick, 12);
	source_free(src);
	snapshot_free(want);
	snapshot_free(got);
}
END_TEST

START_TEST(steady_adds_almost_no_rows)
{
	struct snapshot *s = snapshot_new();
	struct record *r = open_rec();
	const char *tables[] = {"sock", "sock_change", "proc", "proc_change", "fd", "port", "port_change"};
	long before[7];
	char *cause = NULL;

	make_snap(s, 1, 0);
	ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
	for (int i = 0; i < 7; i++)
		before[i] = count_rows(tables[i]);
	ck_assert_int_eq(before[0], (long)s->nsocks);
	for (uint64_t t = 2; t <= 30; t++) {
		make_snap(s, t, 0);
		ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
	}
	for (int i = 0; i < 7; i++)
		ck_assert_msg(count_rows(tables[i]) == before[i], "%s grew on a steady box", tables[i]);
	ck_assert_int_eq(count_rows("refresh"), 30);

	/* A tick that does not move forward is refused, the file stays as it was. */
	ck_assert_int_eq(record_snapshot(r, s, &cause), -EINVAL);
	free(cause);
	record_close(r);
	snapshot_free(s);
}
END_TEST

START_TEST(mode_0600_and_no_overwrite)
{
	struct record *r = NULL;
	struct record_info info = {.interval = 1};
	struct snapshot *s = snapshot_new();
	char *cause = NULL, side[160];
	struct stat st;

	umask(0);
	r = open_rec();
	make_snap(s, 1, 0);
	ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	snprintf(side, sizeof(side), "%s-wal", path);
	ck_assert_int_eq(stat(side, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	snprintf(side, sizeof(side), "%s-shm", path);
	ck_assert_int_eq(stat(side, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	record_close(r);

	/* An existing recording is never overwritten. */
	off_t size = (stat(path, &st), st.st_size);
	ck_assert_int_eq(record_open(&r, path, &info, &cause), -EEXIST);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(cause, "already exists"));
	free(cause), cause = NULL;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_size, size);

	/* Nor is a symlink followed. */
	snprintf(side, sizeof(side), "%s/link.db", dir);
	ck_assert_int_eq(symlink("/tmp/check_record_target_never_created", side), 0);
	ck_assert_int_ne(record_open(&r, side, &info, &cause), 0);
	free(cause), cause = NULL;
	ck_assert_int_eq(access("/tmp/check_record_target_never_created", F_OK), -1);

	/* An empty file (mktemp) is fine, and made 0600. */
	snprintf(side, sizeof(side), "%s/empty.db", dir);
	int fd = open(side, O_CREAT | O_WRONLY, 0666);
	close(fd);
	ck_assert_int_eq(record_open(&r, side, &info, &cause), 0);
	ck_assert_int_eq(stat(side, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	record_close(r);
	snapshot_free(s);
}
END_TEST

static void assert_refused(const char *file, const char *words)
{
	struct source *src = NULL;
	char *cause = NULL;

	ck_assert_int_lt(replay_source_new(&src, file, &cause), 0);
	ck_assert_ptr_null(src);
	ck_assert_msg(cause && strstr(cause, words), "'%s' lacks '%s'", cause ? cause : "(null)", words);
	ck_assert_ptr_null(strchr(cause, '\n'));
	free(cause), cause = NULL;
	ck_assert_int_lt(report_write(stdout, file, &cause), 0);
	ck_assert_msg(cause && strstr(cause, words), "report: '%s' lacks '%s'", cause ? cause : "(null)", words);
	free(cause);
}

START_TEST(version_refusal)
{
	struct source *src;
	char *cause = NULL;

	write_rec(2, 0);
	/* A newer minor version reads fine. */
	sql("UPDATE meta SET value = '1.7' WHERE key = 'format_version'");
	ck_assert_int_eq(replay_source_new(&src, path, &cause), 0);
	ck_assert_int_eq(replay_info(src)->minor, 7);
	source_free(src);
	sql("UPDATE meta SET value = '2.0' WHERE key = 'format_version'");
	assert_refused(path, "format 2.0 recording, from a newer leaktop");
}
END_TEST

START_TEST(not_a_recording)
{
	char other[160];
	FILE *f;

	assert_refused("/nonexistent/rec.db", "No such file");
	snprintf(other, sizeof(other), "%s/text.db", dir);
	f = fopen(other, "w");
	fputs("this is not a database, just text that is long enough to look like a header page\n", f);
	fclose(f);
	assert_refused(other, "not a leaktop recording");
	/* Another program's SQLite database. */
	snprintf(path, sizeof(path), "%s/other.db", dir);
	sql("CREATE TABLE t(x); INSERT INTO t VALUES(1);");
	assert_refused(path, "not a leaktop recording");
	assert_refused(dir, "not a leaktop recording");
}
END_TEST

/* Replay everything a damaged file gives, and its report: an error or a partial
 * replay, never a crash (the suite forks: a crash fails the test). */
static int replay_all(const char *file)
{
	struct source *src = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL;
	int n = 0, rc;
	FILE *null = fopen("/dev/null", "w");

	if (replay_source_new(&src, file, &cause) == 0) {
		while ((rc = source_next(src, s, &cause)) == 0)
			n++;
		if (rc < 0)
			ck_assert_msg(cause && *cause && !strchr(cause, '\n'), "an error says why, on one line");
		source_free(src);
	} else {
		ck_assert_msg(cause && *cause && !strchr(cause, '\n'), "a refusal says why, on one line");
	}
	free(cause), cause = NULL;
	if (report_write(null, file, &cause))
		ck_assert_msg(cause && *cause, "the report says why it failed");
	free(cause);
	fclose(null);
	snapshot_free(s);
	return n;
}

static void copy_file(const char *from, const char *to, off_t len, off_t flip)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char buf[65536];
	off_t done = 0;
	ssize_t got;

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	while (done < len && (got = read(in, buf, sizeof(buf))) > 0) {
		if (got > len - done)
			got = (ssize_t)(len - done);
		if (flip >= done && flip < done + got)
			buf[flip - done] ^= 0x5a;
		ck_assert_int_eq(write(out, buf, (size_t)got), got);
		done += got;
	}
	close(in);
	close(out);
}

START_TEST(truncated_and_corrupted)
{
	char bad[160];
	struct stat st;

	write_rec(40, 1);
	ck_assert_int_eq(replay_all(path), 40);
	ck_assert_int_eq(stat(path, &st), 0);
	snprintf(bad, sizeof(bad), "%s/bad.db", dir);
	/* Truncated at many offsets, page boundaries and in between. */
	for (off_t len = 0; len < st.st_size; len += len < 8192 ? 509 : 2039) {
		copy_file(path, bad, len, -1);
		ck_assert_int_le(replay_all(bad), 40);
	}
	/* One byte flipped, all over the file. */
	for (off_t at = 0; at < st.st_size; at += 97) {
		copy_file(path, bad, st.st_size, at);
		ck_assert_int_le(replay_all(bad), 40);
	}
}
END_TEST

/* A leaktop killed mid-recording: no close, no checkpoint, the WAL holds it all. */
START_TEST(killed_writer_replays_to_last_refresh)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct record *r = open_rec();
		struct snapshot *s = snapshot_new();
		for (uint64_t t = 1; t <= 7; t++) {
			make_snap(s, t, 1);
			if (record_snapshot(r, s, NULL))
				_exit(1);
		}
		kill(getpid(), SIGKILL);
		_exit(2);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	struct source *src;
	struct snapshot *want = snapshot_new(), *got = snapshot_new();
	char *cause = NULL;
	ck_assert_int_eq(replay_source_new(&src, path, &cause), 0);
	ck_assert_uint_eq(replay_count(src), 7);
	replay_seek(src, 6);
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	make_snap(want, 7, 1);
	assert_same(want, got);
	source_free(src);
	snapshot_free(want);
	snapshot_free(got);
}
END_TEST

START_TEST(report_names_the_leak)
{
	struct record *r = open_rec();
	struct snapshot *s = snapshot_new();
	struct record_event ev = {.kind = EV_ACTION, .time = 1700000030, .pid = 100, .start_time = 5000,
				  .what = "thread dump | SIGQUIT", .result = "sent"};
	char *cause = NULL, *out = NULL;
	size_t len = 0;

	for (uint64_t t = 1; t <= 20; t++) {
		make_snap(s, t, 1);
		ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
		if (t == 10)
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
	}
	record_close(r);
	FILE *f = open_memstream(&out, &len);
	ck_assert_int_eq(report_write(f, path, &cause), 0);
	fclose(f);
	/* leakysrv went from 4 + 3 + 1 to 4 + 3 + 20 fds. */
	ck_assert_msg(strstr(out, "| 100 | leakysrv | root | 8 | 27 | +19 |"), "%s", out);
	/* 23 in CLOSE_WAIT on 8080 at the end, the oldest there from the start. */
	ck_assert_msg(strstr(out, "| 8080 | 23 | 23 | >= 38s |"), "%s", out);
	ck_assert_msg(strstr(out, "| 8080 | local | 2323 |"), "%s", out);
	ck_assert_msg(strstr(out, "| action | 100 | thread dump \\| SIGQUIT | sent |"), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "20 refreshes every 2s"));
	free(out);
	snapshot_free(s);
}
END_TEST

static Suite *record_suite(void)
{
	Suite *su = suite_create("record");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, steady_adds_almost_no_rows);
	tcase_add_test(tc, mode_0600_and_no_overwrite);
	tcase_add_test(tc, version_refusal);
	tcase_add_test(tc, not_a_recording);
	tcase_add_test(tc, truncated_and_corrupted);
	tcase_add_test(tc, killed_writer_replays_to_last_refresh);
	tcase_add_test(tc, report_names_the_leak);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	SRunner *sr = srunner_create(record_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
