/* Recording and replay: synthetic refreshes go through record + replay and come
 * back identical; steady refreshes cost almost no rows; a damaged, truncated or
 * newer file gives a one-line error or a partial replay, never a crash. */
#include "config.h"

#include "outputs/batch.h"
#include "outputs/report.h"
#include "model/history.h"
#include "model/snapshot.h"
#include "recording/recread.h"
#include "recording/replay.h"
#include "sources/source.h"
#include "recording/record.h"
#include "tests/testkit.h"

#include <arpa/inet.h>
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

static char dir[TESTKIT_DIR_MAX], path[128];

static void setup(void)
{
	testkit_mkdir(dir, "record");
	snprintf(path, sizeof(path), "%s/rec.db", dir);
}

static void teardown(void)
{
	ck_assert_int_eq(testkit_rmdir(dir), 0);
}

/* What `leaktop -r file --report` does. */
static int report_of(FILE *f, const char *file, char **cause)
{
	struct sqlite3 *db = NULL;
	struct record_info info;
	int rc = recread_open(&db, file, &info, cause);

	if (!rc)
		rc = report_write(f, db, &info, file, NULL, cause);
	recread_close(db);
	return rc;
}

/* The live fd check's answer: fd 10 of pid 200 was closed before it was asked. */
static bool refuse_fd10(void *ctx, int32_t pid, int32_t fd, uint32_t inode)
{
	(void)ctx, (void)inode;
	return !(pid == 200 && fd == 10);
}

/* UNIX sockets in the order the dump gave them, which changes: a pair connected to
 * each other (one bound to a name with a control character, one abstract with a
 * NUL), and one that binds late when grow is set. */
static void add_unix(struct snapshot *s, uint64_t tick, int grow)
{
	for (int j = 0; j < 3; j++) {
		int i = tick % 2 ? 2 - j : j;
		struct sock_rec *k = TESTKIT_SOCK(s, .cookie = 1200 + (uint64_t)i, .netns = 4026531840ULL, .family = AF_UNIX,
						  .type = i == 2 ? SOCK_DGRAM : SOCK_STREAM, .inode = 4000 + (uint32_t)i,
						  .state = i == 2 ? ST_CLOSE : ST_ESTABLISHED);
		if (i == 0) {
			k->un.name = snapshot_add_name(s, "/run/app\x1bsock", 13);
			k->un.peer = 4001;
		} else if (i == 1) {
			k->un.name = snapshot_add_name(s, "\0dbus\0x", 7);
			k->un.peer = 4000;
			k->rqueue = grow ? (uint32_t)tick : 0;
		} else if (grow && tick >= 6) {
			k->un.name = snapshot_add_name(s, "/tmp/late.sock", 14);
		}
	}
}

/* A server (pid 100) leaking CLOSE_WAIT on 127.0.0.1:8080, one more per refresh,
 * with its clients' orphaned FIN_WAIT2 ends; a client process (pid 200, in a
 * container) holding an ESTABLISHED connection whose queues move, UNIX, UDP and
 * NETLINK sockets, a CLOSED fd, and, when grow is set, an fd the fd check refuses
 * now and then; namespaces, one dumped only now and then; steady tick after tick
 * when grow is 0. */
static void make_snap(struct snapshot *s, uint64_t tick, int grow)
{
	int leaked = 3 + (grow ? (int)tick : 0);

	testkit_refresh(s, tick, 1700000000.125 + (double)tick * 2);
	s->refresh_ms = 12.5 + (double)tick;
	if (tick == 2)
		snprintf(s->status, sizeof(s->status), "processes: 1 could not be read");

	TESTKIT_PROC(s, .pid = 100, .ppid = 1, .uid = 0, .start_time = 5000, .netns = 4026531840ULL,
		     .rss_kb = 1000 + (grow ? tick : 0), .fds = 4 + leaked, .fd_limit = 1024, .fd_limit_hard = 4096,
		     .state = 'S', .comm = "leakysrv", .user = "root", .unit = "leaky.service",
		     .cmdline = "/usr/bin/leaky server --name a\\b");
	TESTKIT_PROC(s, .pid = 200, .ppid = 1, .uid = 1000, .start_time = 6000, .rss_kb = 2000, .fds = 5,
		     .fd_limit = UINT64_MAX, .fd_limit_hard = UINT64_MAX, .state = 'R', .netns = 4026531840ULL,
		     .comm = "client", .user = "alice", .cmdline = "client --hold", .container = "docker:0123456789ab");
	/* in a namespace of its own, not always dumped */
	TESTKIT_PROC(s, .pid = 300, .ppid = 1, .start_time = 7000, .netns = 4026532002ULL, .fds = 4, .fd_limit = 1024,
		     .fd_limit_hard = 1024, .state = 'S', .comm = "sidecar", .container = "k8s:pod-a");

	s->netns_limited = grow && tick == 3;
	snapshot_add_netns(s, 4026532002ULL, !grow || tick % 3 != 0);
	add_unix(s, tick, grow);

	TESTKIT_SOCK(s, .cookie = 1, .inode = 1001, .state = ST_LISTEN, .proto = 6, .lport = 8080, .wq = 4096,
		     .laddr = "127.0.0.1", .held = true, .proc = 0, .fd = 3);
	/* The dump's order changes from refresh to refresh; the replay's does not. */
	for (int j = 0; j < leaked; j++) {
		int i = tick % 2 ? leaked - 1 - j : j;
		TESTKIT_SOCK(s, .cookie = 100 + (uint64_t)i, .inode = 2000 + (uint32_t)i, .state = ST_CLOSE_WAIT,
			     .proto = 6, .lport = 8080, .rport = (uint16_t)(40000 + i), .rq = 101, .laddr = "127.0.0.1",
			     .raddr = "127.0.0.2", .held = true, .proc = 0, .fd = 4 + i);
		TESTKIT_SOCK(s, .cookie = 500 + (uint64_t)i, .state = ST_FIN_WAIT2, .proto = 6,
			     .lport = (uint16_t)(40000 + i), .rport = 8080, .timer = 3, .laddr = "127.0.0.2",
			     .raddr = "127.0.0.1");
	}
	TESTKIT_SOCK(s, .cookie = 900, .inode = 3000, .state = ST_ESTABLISHED, .family = AF_INET6, .proto = 6,
		     .lport = 50000, .rport = 443, .uid = 1000, .rq = grow ? (uint32_t)(tick * 7 % 5) : 0,
		     .wq = grow ? (uint32_t)tick : 0, .laddr = "::1", .raddr = "2001:db8::1", .held = true, .proc = 1,
		     .fd = 7);
	/* The same port listening in two network namespaces: ports that tie but for netns. */
	for (int ns = 2; ns > 0; ns--)
		TESTKIT_SOCK(s, .cookie = 950 + (uint64_t)ns, .netns = 4026532000ULL + (uint64_t)ns, .state = ST_LISTEN,
			     .proto = 6, .lport = 9090, .wq = 128);
	testkit_owner(s, 1, 8, 4000); /* a UNIX socket */
	testkit_owner(s, 1, 9, 4100); /* in no dump: CLOSED */
	if (grow && tick % 4 == 1) /* in no dump, and gone when checked: not CLOSED */
		testkit_owner(s, 1, 10, 4200);
	testkit_owner(s, 2, 3, 4300); /* in no dump, in a namespace dumped now and then */
	/* One port number, TCP and UDP: two ports. */
	TESTKIT_SOCK(s, .cookie = 1300, .inode = 5000, .proto = IPPROTO_UDP, .type = SOCK_DGRAM, .state = ST_CLOSE,
		     .lport = 5353, .rq = grow ? (uint32_t)tick : 0, .held = true, .proc = 1, .fd = 11);
	TESTKIT_SOCK(s, .cookie = 1301, .inode = 5001, .proto = IPPROTO_TCP, .type = SOCK_STREAM, .state = ST_LISTEN,
		     .lport = 5353, .held = true, .proc = 1, .fd = 12);
	TESTKIT_SOCK(s, .cookie = 1400, .inode = 5100, .family = AF_NETLINK, .proto = 0, .type = SOCK_RAW,
		     .state = ST_CLOSE, .held = true, .proc = 1, .fd = 13);
	ck_assert_int_eq(snapshot_build_checked(s, refuse_fd10, NULL), 0);
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
	ck_assert_int_eq(a->closed_valid, b->closed_valid);
	ck_assert_int_eq(a->netns_limited, b->netns_limited);
	ck_assert_uint_eq(a->nnetns, b->nnetns);
	ck_assert_mem_eq(a->netns, b->netns, a->nnetns * sizeof(*a->netns));
	ck_assert_uint_eq(a->nprocs, b->nprocs);
	ck_assert_mem_eq(a->procs, b->procs, a->nprocs * sizeof(*a->procs));
	ck_assert_uint_eq(a->nowners, b->nowners);
	for (size_t i = 0; i < a->nowners; i++) {
		ck_assert_uint_eq(a->owners[i].inode, b->owners[i].inode);
		ck_assert_int_eq(a->owners[i].proc, b->owners[i].proc);
		ck_assert_int_eq(a->owners[i].fd, b->owners[i].fd);
		ck_assert_int_eq(a->owners[i].sock < 0, b->owners[i].sock < 0);
		ck_assert_int_eq(a->owners[i].sock == OWNER_STALE, b->owners[i].sock == OWNER_STALE);
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
		/* A UNIX name's offset depends on the dump's order: the text must match. */
		if (x[i].family == AF_UNIX && y[i].family == AF_UNIX) {
			ck_assert_str_eq(snapshot_name(a, x[i].un.name), snapshot_name(b, y[i].un.name));
			x[i].un.name = y[i].un.name = 0;
		}
		/* The namespace and the addresses are the same; where the snapshot keeps
		 * them (an index into its tables) depends on the dump's order. */
		ck_assert_uint_eq(sock_netns(a, &x[i]), sock_netns(b, &y[i]));
		ck_assert_mem_eq(sock_laddr(a, &x[i]).b, sock_laddr(b, &y[i]).b, 16);
		ck_assert_mem_eq(sock_raddr(a, &x[i]).b, sock_raddr(b, &y[i]).b, 16);
		x[i].ns = y[i].ns = 0;
		if (x[i].family == AF_INET6 && !x[i].mapped && y[i].family == AF_INET6 && !y[i].mapped)
			x[i].v6 = y[i].v6 = 0;
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
	const char *tables[] = {"sock", "sock_change", "proc", "proc_change", "fd", "port", "port_change", "netns",
				"fd_stale"};
	long before[9];
	char *cause = NULL;

	make_snap(s, 1, 0);
	ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
	for (int i = 0; i < 9; i++)
		before[i] = count_rows(tables[i]);
	ck_assert_int_eq(before[0], (long)s->nsocks);
	for (uint64_t t = 2; t <= 30; t++) {
		make_snap(s, t, 0);
		ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
	}
	for (int i = 0; i < 9; i++)
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
	/* The journal is in memory: no side file beside the recording, ever. */
	static const char *const sides[] = {"-wal", "-shm", "-journal"};
	for (int i = 0; i < 3; i++) {
		snprintf(side, sizeof(side), "%s%s", path, sides[i]);
		ck_assert_msg(access(side, F_OK) == -1, "%s exists while recording", side);
	}
	record_close(r);
	for (int i = 0; i < 3; i++) {
		snprintf(side, sizeof(side), "%s%s", path, sides[i]);
		ck_assert_msg(access(side, F_OK) == -1, "%s exists once closed", side);
	}

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
	ck_assert_int_lt(report_of(stdout, file, &cause), 0);
	ck_assert_msg(cause && strstr(cause, words), "report: '%s' lacks '%s'", cause ? cause : "(null)", words);
	free(cause);
}

START_TEST(version_refusal)
{
	struct source *src;
	char *cause = NULL;

	write_rec(2, 0);
	/* A newer minor version reads fine. */
	sql("UPDATE meta SET value = '3.7' WHERE key = 'format_version'");
	ck_assert_int_eq(replay_source_new(&src, path, &cause), 0);
	ck_assert_int_eq(replay_info(src)->minor, 7);
	source_free(src);
	sql("UPDATE meta SET value = '4.0' WHERE key = 'format_version'");
	assert_refused(path, "format 4.0 recording, from a newer leaktop");
	/* A number too large for any int is a newer format too, not a negative one. */
	sql("UPDATE meta SET value = '99999999999999999999.1' WHERE key = 'format_version'");
	assert_refused(path, "format 99999999999999999999.1 recording, from a newer leaktop");
	/* 1.x has no UNIX names, namespaces or CLOSED fds: refused, not half replayed. */
	sql("UPDATE meta SET value = '1.0' WHERE key = 'format_version'");
	assert_refused(path, "format 1.0 recording, from an older leaktop");
	sql("UPDATE meta SET value = '3.x' WHERE key = 'format_version'");
	assert_refused(path, "its format version is '3.x'");
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

/* A leaktop killed mid-recording: no close; every refresh committed is in the file. */
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
	ck_assert_int_eq(report_of(f, path, &cause), 0);
	fclose(f);
	/* leakysrv went from 4 + 3 + 1 to 4 + 3 + 20 fds. */
	ck_assert_msg(strstr(out, "| 100 | leakysrv | root | 8 | 27 | +19 |"), "%s", out);
	/* 23 in CLOSE_WAIT on 8080 at the end, the oldest there from the start. */
	ck_assert_msg(strstr(out, "| 8080 | local | 23 | 23 | >= 38s | 22:13:22 | pid 100 leakysrv |"), "%s", out);
	ck_assert_msg(strstr(out, "| 8080 | local | 2323 |"), "%s", out);
	/* UDP 5353's queue peaked at 20, apart from the TCP port of the same number. */
	ck_assert_msg(strstr(out, "| 5353/udp | local | 20 |"), "%s", out);
	ck_assert_msg(strstr(out, "| action | 100 | thread dump \\| SIGQUIT | sent |"), "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "20 refreshes every 2s"));
	free(out);
	snapshot_free(s);
}
END_TEST

#define DUMP "\"main\" #1\n   java.lang.Thread.State: RUNNABLE\n\tat Main.run(Main.java:7)\n\0tail\x1b"

/* The events recorded with a refresh come back with that refresh, and only with it,
 * whether the replay steps to it or seeks back to it. */
START_TEST(replay_events_of_a_refresh)
{
	struct record *r = open_rec();
	struct snapshot *s = snapshot_new();
	struct record_event alert = {.kind = EV_ALERT, .time = 1700000006, .what = "fds of 100 grow 40/min"};
	struct record_event action = {.kind = EV_ACTION, .time = 1700000007, .pid = 100, .start_time = 5000,
				      .what = "thread dump\x1b[2J", .result = "sent SIGQUIT",
				      .dump = DUMP, .dump_len = sizeof(DUMP) - 1};
	const struct record_event *ev;
	struct source *src;
	char *cause = NULL;
	size_t n;

	for (uint64_t t = 1; t <= 5; t++) {
		make_snap(s, t, 1);
		ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
		if (t == 3) {
			ck_assert_int_eq(record_event(r, &alert, &cause), 0);
			ck_assert_int_eq(record_event(r, &action, &cause), 0);
		}
	}
	record_close(r);
	ck_assert_int_eq(replay_source_new(&src, path, &cause), 0);
	ck_assert_ptr_null(replay_events(src, &n));
	ck_assert_uint_eq(n, 0);
	for (long i = 0; i < 5; i++) {
		ck_assert_int_eq(source_next(src, s, &cause), 0);
		ev = replay_events(src, &n);
		ck_assert_uint_eq(n, i == 2 ? 2 : 0);
	}
	replay_seek(src, 2);
	ck_assert_int_eq(source_next(src, s, &cause), 0);
	ev = replay_events(src, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(ev[0].kind, EV_ALERT);
	ck_assert(ev[0].time == 1700000006);
	ck_assert_int_eq(ev[0].pid, 0);
	ck_assert_str_eq(ev[0].what, "fds of 100 grow 40/min");
	ck_assert_ptr_null(ev[0].result);
	ck_assert_int_eq(ev[1].kind, EV_ACTION);
	ck_assert_int_eq(ev[1].pid, 100);
	ck_assert_uint_eq(ev[1].start_time, 5000);
	/* Text from the file is escaped again: it may have been edited since. */
	ck_assert_str_eq(ev[1].what, "thread dump\\x1b[2J");
	ck_assert_str_eq(ev[1].result, "sent SIGQUIT");
	/* The thread dump kept with the action comes back with it, byte for byte, so the
	 * dashboard's dump viewer can show it; the alert has none. */
	ck_assert_ptr_null(ev[0].dump);
	ck_assert_uint_eq(ev[1].dump_len, sizeof(DUMP) - 1);
	ck_assert_mem_eq(ev[1].dump, DUMP, sizeof(DUMP) - 1);
	ck_assert_int_eq(source_next(src, s, &cause), 0);
	ck_assert_ptr_null(replay_events(src, &n));
	source_free(src);
	snapshot_free(s);
}
END_TEST

/* Steady refreshes whose CLOSE_WAIT sockets the first one gives a kernel bound of
 * 2 minutes in their state, as sock_diag does. */
static void make_aged_snap(struct snapshot *s, uint64_t tick)
{
	make_snap(s, tick, 0);
	for (size_t i = 0; tick == 1 && i < s->nsocks; i++)
		if (s->socks[i].state == ST_CLOSE_WAIT)
			s->socks[i].state_age_ms = 120000;
}

/* The kernel's bound of a socket's time in its state (first refresh only, as
 * sock_diag gives it) comes back from a replay: the first replayed refresh holds it,
 * so the CLOSE_WAIT pile's age reads as ">=2m" from the start, not as the replay's
 * own few seconds; a step to the next refresh has none, as live; a seek keeps it, a
 * lower bound still. */
START_TEST(kernel_age_bound_replays)
{
	struct snapshot *want = snapshot_new(), *got = snapshot_new();
	struct record *r = open_rec();
	struct history *h = history_new(NULL);
	struct source *src;
	char *cause = NULL;
	double age, state_age;

	for (uint64_t t = 1; t <= 3; t++) {
		make_aged_snap(want, t);
		ck_assert_msg(record_snapshot(r, want, &cause) == 0, "%s", cause);
	}
	record_close(r);

	ck_assert_int_eq(replay_source_new(&src, path, &cause), 0);
	ck_assert_int_eq(replay_info(src)->minor, RECORD_FORMAT_MINOR);
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	const struct sock_rec *k = NULL;
	for (size_t i = 0; i < got->nsocks; i++)
		if (got->socks[i].cookie == 100)
			k = &got->socks[i];
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->state, ST_CLOSE_WAIT);
	ck_assert_uint_eq(k->state_age_ms, 120000);
	make_aged_snap(want, 1);
	assert_same(want, got);
	ck_assert_int_eq(history_update(h, got), 0);
	ck_assert(history_sock_age_bound(h, got, k));
	ck_assert_int_eq(history_sock_age(h, got, k, &age, &state_age), 0);
	ck_assert_double_ge(state_age, 120);
	const struct history_stats *st = history_proc(h, 100, 5000);
	ck_assert_ptr_nonnull(st);
	ck_assert(st->close_wait_oldest_bound);
	ck_assert_double_ge(st->close_wait_oldest_s, 120);

	/* A step: the live run knew no bound on its second refresh either. */
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	make_snap(want, 2, 0);
	assert_same(want, got);
	ck_assert_int_eq(history_update(h, got), 0);
	ck_assert(history_sock_age_bound(h, got, k));

	/* A seek starts a history afresh: the bound recorded at refresh 1 is still one. */
	replay_seek(src, 1);
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	ck_assert_uint_eq(got->tick, 2);
	for (size_t i = 0; i < got->nsocks; i++)
		if (got->socks[i].state == ST_CLOSE_WAIT)
			ck_assert_uint_eq(got->socks[i].state_age_ms, 120000);
	history_free(h);
	source_free(src);
	snapshot_free(want);
	snapshot_free(got);
}
END_TEST

/* Someone holds the file in a read transaction (an sqlite3 query) for longer than a
 * commit waits: that refresh is left out of the recording, which goes on, and the
 * next refresh records what changed since the last one written. */
START_TEST(reader_holding_the_file_costs_a_refresh_not_the_recording)
{
	struct snapshot *want = snapshot_new(), *got = snapshot_new();
	struct record *r = open_rec();
	struct source *src;
	char *cause = NULL, x;
	int ready[2], done[2];

	make_snap(want, 1, 1);
	ck_assert_int_eq(record_snapshot(r, want, &cause), 0);
	ck_assert_int_eq(pipe(ready), 0);
	ck_assert_int_eq(pipe(done), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *db;
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ||
		    sqlite3_exec(db, "BEGIN; SELECT count(*) FROM frame", NULL, NULL, NULL) || write(ready[1], "x", 1) != 1)
			_exit(1);
		_exit(read(done[0], &x, 1) == 1 ? 0 : 1); /* the read lock held till then */
	}
	ck_assert_int_eq(read(ready[0], &x, 1), 1);
	make_snap(want, 2, 1);
	ck_assert_msg(record_snapshot(r, want, &cause) == 0, "%s", cause ? cause : "?");
	ck_assert_int_eq(write(done[1], "x", 1), 1);
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	make_snap(want, 3, 1);
	ck_assert_msg(record_snapshot(r, want, &cause) == 0, "%s", cause ? cause : "?");
	record_close(r);

	ck_assert_int_eq(replay_source_new(&src, path, &cause), 0);
	ck_assert_uint_eq(replay_count(src), 2);
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	ck_assert_uint_eq(got->tick, 1);
	ck_assert_int_eq(source_next(src, got, &cause), 0);
	make_snap(want, 3, 1);
	assert_same(want, got);
	source_free(src);
	snapshot_free(want);
	snapshot_free(got);
	close(ready[0]), close(ready[1]), close(done[0]), close(done[1]);
}
END_TEST

/* A limit no count of fds reaches and no signed 64-bit integer holds (setrlimit takes
 * any up to RLIM_INFINITY) is recorded as unlimited: the recording goes on, and the
 * replay reads it back as the live run showed it. */
START_TEST(huge_fd_limit_reads_as_unlimited)
{
	struct snapshot *s = snapshot_new();
	struct record *r = open_rec();
	struct source *src;
	char *cause = NULL;

	for (uint64_t t = 1; t <= 2; t++) {
		make_snap(s, t, 0);
		s->procs[0].fd_limit = (1ULL << 63) + 5;
		ck_assert_msg(record_snapshot(r, s, &cause) == 0, "%s", cause ? cause : "?");
	}
	record_close(r);
	ck_assert_int_eq(replay_source_new(&src, path, &cause), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_msg(source_next(src, s, &cause) == 0, "%s", cause ? cause : "?");
		for (size_t p = 0; p < s->nprocs; p++)
			if (s->procs[p].pid == 100)
				ck_assert_uint_eq(s->procs[p].fd_limit, UINT64_MAX);
	}
	source_free(src);
	snapshot_free(s);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown, .timeout = 120,
		 .tests = TESTKIT_TESTS(
			round_trip,
			steady_adds_almost_no_rows,
			mode_0600_and_no_overwrite,
			version_refusal,
			not_a_recording,
			killed_writer_replays_to_last_refresh,
			report_names_the_leak,
			replay_events_of_a_refresh,
			kernel_age_bound_replays,
			reader_holding_the_file_costs_a_refresh_not_the_recording,
			huge_fd_limit_reads_as_unlimited)},
	};

	return TESTKIT_RUN("record", cases);
}
