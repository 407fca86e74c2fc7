/* A corpus of damaged and hostile recordings, made from a recording the real writer
 * makes here: cut short at 31 points, bytes flipped in the header and in page data,
 * hot journals, side files of other programs, huge and escaping meta values,
 * impossible times and counts, NULLs, missing tables, wrong versions. Every file goes
 * through `leaktop -r` as text, JSON and --report: never a signal (nor a sanitizer
 * report in the sanitizer build), exit 0 or 1, a one-line message, no control byte
 * on stdout, JSON that jq parses. A file cut short replays every refresh wholly
 * before the cut, exactly as the whole file does, then says where it was cut. */
#include "config.h"

#include "model/snapshot.h"
#include "recording/record.h"
#include "tests/testkit.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define REFRESHES 40

static char dir[TESTKIT_DIR_MAX], base[128], bin[4096];

/* A box with 12 processes, one of which leaks CLOSE_WAIT sockets, connections that
 * come and go, queues that move, and UNIX sockets with names: enough rows per
 * refresh (1,000 sockets and more) that the data, not the tables' first pages, makes
 * up most of the file. */
static void make_snap(struct snapshot *s, uint64_t tick)
{
	testkit_refresh(s, tick, 1700000000.5 + (double)tick * 2);
	s->refresh_ms = 10 + (double)(tick % 7);
	for (int i = 0; i < 12; i++) {
		char comm[16], user[16], cmdline[64];
		snprintf(comm, sizeof(comm), "proc%d", i);
		snprintf(user, sizeof(user), "user%d", i);
		snprintf(cmdline, sizeof(cmdline), "/usr/bin/proc%d --serve --port %d", i, 8000 + i);
		TESTKIT_PROC(s, .pid = 100 + i, .ppid = 1, .uid = (uint32_t)i, .start_time = 5000 + (uint64_t)i,
			     .netns = 4026531840ULL, .rss_kb = 1000 + (i == 0 ? tick * 10 : 0), .fd_limit = 1024,
			     .fd_limit_hard = 4096, .state = 'S', .comm = comm, .user = user, .cmdline = cmdline);
	}
	int nsock = 0;
	for (uint64_t c = 0; c < 1000 + tick * 30; c++) {
		bool leaked = c % 4 == 0, churn = c % 4 == 1 && (c + tick) % 5 == 0;
		if (churn)
			continue;
		TESTKIT_SOCK(s, .cookie = 1000 + c, .inode = 20000 + (uint32_t)c, .proto = 6,
			     .state = leaked ? ST_CLOSE_WAIT : ST_ESTABLISHED, .lport = (uint16_t)(8000 + c % 12),
			     .rport = (uint16_t)(30000 + c), .rq = leaked ? 101 : (uint32_t)((c * tick) % 13 == 0 ? c % 97 : 0),
			     .laddr = "127.0.0.1", .raddr = "127.0.0.2", .held = true, .proc = (int32_t)(c % 12),
			     .fd = 10 + (int32_t)c);
		nsock++;
	}
	for (int i = 0; i < 4; i++) {
		char name[32];
		int n = snprintf(name, sizeof(name), "/run/app%d.sock", i);
		uint32_t at = snapshot_add_name(s, name, (size_t)n);
		TESTKIT_SOCK(s, .cookie = 90000 + (uint64_t)i, .inode = 9000 + (uint32_t)i, .family = AF_UNIX,
			     .type = SOCK_STREAM, .state = ST_ESTABLISHED, .held = true, .proc = i, .fd = 5)->un.name = at;
	}
	for (size_t i = 0; i < s->nprocs; i++)
		s->procs[i].fds = 3 + (uint64_t)(nsock / 12);
	ck_assert_int_eq(snapshot_build(s), 0);
	s->totals.file_alloc = 3000 + tick, s->totals.file_max = 1000000;
}

/* The file's size after each refresh was committed: refresh k lies wholly within
 * its first size_after[k] bytes (rows are only appended). */
static off_t size_after[REFRESHES + 1];

static void make_base(void)
{
	struct record_info info = {.interval = 2, .boot_time = 1699990000, .clk_tck = 100};
	struct record_event ev = {.kind = EV_ALERT, .what = "fds of proc0 grow"};
	struct snapshot *s = snapshot_new();
	struct record *r = NULL;
	char *cause = NULL;

	ck_assert_msg(record_open(&r, base, &info, &cause) == 0, "%s", cause);
	for (uint64_t t = 1; t <= REFRESHES; t++) {
		struct stat st;
		make_snap(s, t);
		ck_assert_msg(record_snapshot(r, s, &cause) == 0, "%s", cause);
		ck_assert_int_eq(stat(base, &st), 0);
		size_after[t] = st.st_size;
		if (t % 10 == 0) {
			ev.time = s->time;
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		}
	}
	record_close(r);
	snapshot_free(s);
}

static void setup(void)
{
	testkit_leaktop(bin, sizeof(bin));
	testkit_mkdir(dir, "damaged");
	snprintf(base, sizeof(base), "%s/base.db", dir);
	make_base();
}

static void teardown(void)
{
	ck_assert_int_eq(testkit_rmdir(dir), 0);
}

static off_t size_of(const char *file)
{
	struct stat st;
	ck_assert_int_eq(stat(file, &st), 0);
	return st.st_size;
}

/* Copy the first len bytes of from to to, with byte flip (if >= 0) xor'ed. */
static void copy_file(const char *from, const char *to, off_t len, off_t flip)
{
	static const char *const sides[] = {"-wal", "-shm", "-journal"};
	char buf[65536];
	off_t done = 0;
	ssize_t got;

	/* What the replay of the last file left beside it would go with this one. */
	for (int i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), "%s%s", to, sides[i]);
		unlink(buf);
	}
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(in, 0);
	ck_assert_int_ge(out, 0);
	while (done < len && (got = read(in, buf, sizeof(buf))) > 0) {
		if (got > len - done)
			got = (ssize_t)(len - done);
		if (flip >= done && flip < done + got)
			buf[flip - done] ^= 0x55;
		ck_assert_int_eq(write(out, buf, (size_t)got), got);
		done += got;
	}
	close(in);
	close(out);
}

/* Run leaktop -r file ARGS: stdout and stderr to files in dir. Returns the wait status. */
static int run_leaktop(const char *file, const char *const *args)
{
	char out[160], err[160];
	const char *argv[16] = {bin, "-r", file};
	int n = 3;
	pid_t pid;
	int status;

	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int in = open("/dev/null", O_RDONLY);
		if (o < 0 || e < 0 || in < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(in, 0) < 0)
			_exit(99);
		setenv("TZ", "UTC", 1);
		setenv("HOME", dir, 1);
		setenv("XDG_CONFIG_HOME", dir, 1);
		/* A sanitizer report must not pass for leaktop's own exit 1. */
		setenv("ASAN_OPTIONS", "exitcode=86:detect_leaks=1", 1);
		setenv("UBSAN_OPTIONS", "halt_on_error=1:exitcode=87:print_stacktrace=1", 1);
		execv(bin, (char *const *)argv);
		_exit(98);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

/* What a user must never see from any file: a crash, a sanitizer report, an exit
 * other than 0 or 1, an exit 1 without a one-line reason, control bytes on stdout,
 * JSON that does not parse. Returns the lines printed on stdout. */
static long check_run_out(const char *file, const char *what, const char *const *args, bool json, char **stdout_text,
			  char **stderr_text)
{
	char out[160], err[160], cmd[512];
	size_t olen, elen;
	int status = run_leaktop(file, args);
	long lines = 0;

	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(err, sizeof(err), "%s/err", dir);
	char *o = testkit_slurp(out, &olen), *e = testkit_slurp(err, &elen);
	ck_assert(o && e);
	ck_assert_msg(!WIFSIGNALED(status), "%s: leaktop %s killed by signal %d: %s", what, args[0], WTERMSIG(status), e);
	ck_assert_msg(!strstr(e, "Sanitizer") && !strstr(e, "runtime error"), "%s: %s", what, e);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) <= 1, "%s: leaktop %s exited %d: %s", what, args[0],
		      WEXITSTATUS(status), e);
	if (WEXITSTATUS(status) == 1) {
		/* The reason is the last line: one line, starting with the program's name. */
		ck_assert_msg(elen > 10 && e[elen - 1] == '\n', "%s: exit 1 with no reason", what);
		const char *last = e + elen - 1;
		while (last > e && last[-1] != '\n')
			last--;
		ck_assert_msg(!strncmp(last, "leaktop: ", 9), "%s: the reason is not one line: %s", what, e);
	}
	/* One assertion, not one per byte: each costs check a write. */
	size_t bad = olen;
	for (size_t i = 0; i < olen; i++) {
		unsigned char c = (unsigned char)o[i];
		if (bad == olen && c != '\n' && (c < 0x20 || c == 0x7f))
			bad = i;
		lines += c == '\n';
	}
	ck_assert_msg(bad == olen, "%s: byte 0x%02x on stdout at %zu", what, bad < olen ? (unsigned char)o[bad] : 0, bad);
	if (json && olen) {
		snprintf(cmd, sizeof(cmd), "jq -e 'type == \"object\"' '%s' > /dev/null", out);
		ck_assert_msg(system(cmd) == 0, "%s: jq cannot parse the JSON lines", what);
	}
	if (stdout_text)
		*stdout_text = o;
	else
		free(o);
	if (stderr_text)
		*stderr_text = e;
	else
		free(e);
	return lines;
}

static long check_run(const char *file, const char *what, const char *const *args, bool json)
{
	return check_run_out(file, what, args, json, NULL, NULL);
}

static const char *const text_args[] = {"-b", "-n", "0", NULL};
static const char *const json_args[] = {"-b", "-n", "0", "-o", "json", NULL};
static const char *const report_args[] = {"--report", NULL};

/* Every output of one file; returns the refreshes its JSON replay gave. */
static long replay_every_way(const char *file, const char *what)
{
	check_run(file, what, text_args, false);
	check_run(file, what, report_args, false);
	return check_run(file, what, json_args, true);
}

/* Cut at 31 points: each cut replays, directly, every refresh that lies wholly
 * before the cut (at least those committed while the file was no longer than the
 * cut), exactly as the whole file replays them, then says in one line that it was
 * cut and how many refreshes are whole. The counts are printed for the README. */
START_TEST(cut_short_at_31_points)
{
	char bad[160], *full = NULL, counts[32 * 4] = "";
	off_t size = size_of(base);
	long whole = check_run_out(base, "the whole file", json_args, true, &full, NULL);

	ck_assert_int_eq(whole, REFRESHES);
	replay_every_way(base, "the whole file");
	snprintf(bad, sizeof(bad), "%s/cut.db", dir);
	for (int i = 1; i < 32; i++) {
		char what[64], *out, *err;
		off_t cut = size * i / 32, pages = cut / 65536 * 65536;
		long before = 0;
		snprintf(what, sizeof(what), "cut at %d/32", i);
		copy_file(base, bad, cut, -1);
		long n = check_run_out(bad, what, json_args, true, &out, &err);
		/* Text and the report (other code, same file) for one in four, to keep it quick. */
		if (i % 4 == 0) {
			check_run(bad, what, text_args, false);
			check_run(bad, what, report_args, false);
		}
		for (int k = 1; k <= REFRESHES; k++)
			if (size_after[k] <= pages)
				before = k;
		ck_assert_msg(n >= before, "%s: replays %ld, but %ld were committed before it", what, n, before);
		ck_assert_int_lt(n, REFRESHES);
		ck_assert_msg(!strncmp(out, full, strlen(out)), "%s: the replayed refreshes differ from the whole file's", what);
		char words[2][80];
		snprintf(words[0], sizeof(words[0]), "the first %ld of its", n);
		snprintf(words[1], sizeof(words[1]), "its %ld refreshes before the cut are whole", n);
		ck_assert_msg(strstr(err, "is cut short") && (strstr(err, words[0]) || strstr(err, words[1]) ||
							       (n == 0 && (strstr(err, "no refresh before the cut") ||
									   strstr(err, "nothing in it can be replayed")))),
			      "%s: %s", what, err);
		snprintf(counts + strlen(counts), sizeof(counts) - strlen(counts), " %ld", n);
		free(out);
		free(err);
	}
	fprintf(stderr, "check_damaged: %d refreshes, %lld bytes cut at 1/32 .. 31/32 replay:%s\n", REFRESHES,
		(long long)size, counts);
	free(full);
}
END_TEST

START_TEST(bytes_flipped)
{
	static const int header[] = {0, 16, 17, 18, 19, 20, 21, 24, 28, 31, 32, 36, 40, 44, 48, 52, 56, 60, 64, 68, 92, 96, 99};
	char bad[160], what[64];
	off_t size = size_of(base);

	snprintf(bad, sizeof(bad), "%s/flip.db", dir);
	for (size_t i = 0; i < sizeof(header) / sizeof(header[0]); i++) {
		snprintf(what, sizeof(what), "header byte %d flipped", header[i]);
		copy_file(base, bad, size, header[i]);
		/* Every output for one in three; JSON (the most checked) for each. */
		ck_assert_int_le(i % 3 ? check_run(bad, what, json_args, true) : replay_every_way(bad, what), REFRESHES);
	}
	/* In page data: a byte of every other 64 KB page, at a place that moves. */
	for (off_t page = 0; page * 65536 < size; page += 2) {
		off_t at = page * 65536 + 100 + (page * 5231) % 65000;
		snprintf(what, sizeof(what), "byte %lld flipped", (long long)at);
		copy_file(base, bad, size, at);
		ck_assert_int_le(replay_every_way(bad, what), REFRESHES);
	}
}
END_TEST

/* A writer killed mid-transaction in rollback-journal mode (sqlite3 editing the file)
 * leaves a journal. Beside a format 2 file (WAL mode, as tests/data/rec-2.2.db) the
 * replay names it and the way out it names works; a file killed while being created
 * holds no refresh. Beside a format 3 file, whose journal leaktop keeps in memory,
 * it is another program's: not read (said), and the file replays the refreshes it
 * still holds whole; rolled back, all of them. */
START_TEST(hot_journals)
{
	static const char *const words[] = {"PRAGMA integrity_check", "holds no refresh", "-journal is beside"};
	char bad[160], journal[512], *err;

	for (int round = 0; round < 3; round++) {
		snprintf(bad, sizeof(bad), "%s/hot%d.db", dir, round);
		snprintf(journal, sizeof(journal), "%s-journal", bad);
		if (round == 0) {
			snprintf(journal, sizeof(journal), "cp '%s/rec-2.2.db' '%s'", TESTDATADIR, bad);
			ck_assert_int_eq(system(journal), 0);
			snprintf(journal, sizeof(journal), "%s-journal", bad);
			testkit_sql(bad, "PRAGMA journal_mode=DELETE");
		} else if (round == 2) {
			copy_file(base, bad, size_of(base), -1);
		}
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			sqlite3 *db;
			if (sqlite3_open(bad, &db) != SQLITE_OK)
				_exit(1);
			sqlite3_exec(db, "PRAGMA cache_size=2; BEGIN", NULL, NULL, NULL);
			if (round == 1)
				sqlite3_exec(db, "CREATE TABLE meta(key, value); INSERT INTO meta SELECT 'k', "
					     "zeroblob(100000) FROM (SELECT 1 UNION SELECT 2 UNION SELECT 3)", NULL, NULL, NULL);
			else
				sqlite3_exec(db, "UPDATE sock SET name = hex(zeroblob(2000)) WHERE id % 7 = 0", NULL, NULL, NULL);
			kill(getpid(), SIGKILL);
			_exit(2);
		}
		int status;
		ck_assert_int_eq(waitpid(pid, &status, 0), pid);
		ck_assert_int_eq(access(journal, F_OK), 0);
		long n = check_run_out(bad, "a hot journal", json_args, true, NULL, &err);
		ck_assert_msg(strstr(err, words[round]), "round %d: %s", round, err);
		free(err);
		replay_every_way(bad, "a hot journal");
		if (round == 0)
			ck_assert_int_eq(n, 0);
		if (round == 1)
			continue;
		/* What the message says to do (or sqlite3 would do anyway): open it once
		 * writable, as its owner. */
		testkit_sql(bad, "PRAGMA integrity_check");
		ck_assert_int_eq(check_run(bad, "a rolled back journal", json_args, true), round == 2 ? REFRESHES : 4);
	}
}
END_TEST

/* Side files of other programs beside a format 3 file, none of which it ever has: a
 * WAL (another recording's), a -shm: not read, and it replays whole. */
START_TEST(side_files_of_others)
{
	char bad[160], side[1024], *err;

	snprintf(bad, sizeof(bad), "%s/sides.db", dir);
	copy_file(base, bad, size_of(base), -1);
	snprintf(side, sizeof(side), "cp '%s/rec-2.2-wal.db-wal' '%s-wal' && head -c 32768 /dev/urandom > '%s-shm'",
		 TESTDATADIR, bad, bad);
	ck_assert_int_eq(system(side), 0);
	ck_assert_int_eq(check_run_out(bad, "a foreign WAL", json_args, true, NULL, &err), REFRESHES);
	ck_assert_msg(strstr(err, "sides.db-wal is beside"), "%s", err);
	free(err);
	replay_every_way(bad, "a foreign WAL");
}
END_TEST

/* Values no live run writes, one file each. */
START_TEST(hostile_values)
{
	static const char *const edits[] = {
		"UPDATE meta SET value = printf('%.*c', 1000000, 'A') WHERE key = 'host'",
		"UPDATE meta SET value = char(27) || ']0;owned' || char(7) || char(27) || '[2J' || char(10) || 'x' "
		"WHERE key IN ('host', 'kernel', 'leaktop_version')",
		"UPDATE meta SET value = 'nan' WHERE key IN ('interval', 'start_time', 'boot_time', 'clk_tck')",
		"UPDATE meta SET value = '1e18' WHERE key IN ('interval', 'start_time', 'boot_time', 'clk_tck')",
		"UPDATE meta SET value = '-1' WHERE key IN ('interval', 'start_time', 'boot_time', 'clk_tck')",
		"UPDATE meta SET value = '0' WHERE key = 'clk_tck'",
		"UPDATE refresh SET time = 1e18",
		"UPDATE refresh SET time = 9e999",
		"UPDATE refresh SET time = -9e999, refresh_ms = 9e999",
		"UPDATE refresh SET time = -1",
		"UPDATE refresh SET time = 1e18 WHERE tick = 20",
		"UPDATE refresh SET status = char(27) || '[31m' || printf('%.*c', 100000, 'x')",
		"UPDATE event SET time = 1e18, what = char(27) || '[2J', kind = 'bogus', pid = -1",
		"UPDATE event SET time = 9e999, start_time = 9223372036854775807",
		"UPDATE proc_change SET fds = -5, rss_kb = -1, fd_limit = -1, fd_limit_hard = -1, ppid = -1",
		"UPDATE proc SET start_time = 1000000000000000000, pid = -1 WHERE pid = 100",
		"UPDATE proc SET start_time = 9223372036854775807, pid = 2147483648, uid = -1",
		"UPDATE proc SET comm = char(27) || '[2J' || char(0) || 'x', cmdline = printf('%.*c', 100000, 'y')",
		"UPDATE port SET port = 1000000000 WHERE id % 2 = 0; UPDATE port SET port = -1 WHERE id % 2 = 1",
		"UPDATE port_change SET count = -1, close_wait = -1, recv_q = -1, accept_q = 4294967296, pids = '-1,x,,99999999999'",
		"UPDATE port SET side = 'sideways', proto = 1234",
		"UPDATE sock SET lport = 99999999, rport = -5, family = 200, proto = 300, laddr = 'not an address'",
		"UPDATE sock SET family = 1, name = printf('%.*c', 5000, 'z') || char(27)",
		"UPDATE sock_change SET state = 255, rqueue = -1, wqueue = 1e18, timer = -1, inode = -1",
		"UPDATE sock_change SET state = 'abc', rqueue = x'00ff', uid = 1.5",
		"UPDATE fd SET proc = 999999, fd = -1",
		"UPDATE sock_gone SET tick = 0; INSERT INTO proc_gone SELECT id, first_tick FROM proc",
		"UPDATE sock SET first_tick = -1",
		"UPDATE sock_gone SET sock = sock + 1000000",
		"UPDATE sock_change SET tick = tick - 1 WHERE tick = 20",
		"DELETE FROM sock_change WHERE tick = 20",
		"UPDATE frame SET data = zeroblob(100) WHERE kind = 'refresh' AND tick = 10",
		"UPDATE frame SET kind = 'event' WHERE tick = 10",
		"DELETE FROM frame WHERE tick = 20",
		"UPDATE frame SET id = -id WHERE tick = 30",
		"UPDATE frame SET tick = tick + 1000 WHERE tick = 5",
		"INSERT INTO refresh SELECT tick + 1000, time, refresh_ms, status, sockets, procs, unreadable, file_alloc, "
		"file_max, closed_valid, netns_limited FROM refresh",
		"UPDATE refresh SET tick = -tick",
		"INSERT INTO refresh VALUES(9223372036854775807, 1e18, 1, '', 0, 0, 0, 0, 0, 1, 0)",
		"PRAGMA application_id = 0",
		"PRAGMA application_id = 12345",
		"UPDATE meta SET value = '3.0' WHERE key = 'format_version'",
		"UPDATE meta SET value = '1.0' WHERE key = 'format_version'",
		"UPDATE meta SET value = 'abc' WHERE key = 'format_version'",
		"UPDATE meta SET value = '99999999999999999999.1' WHERE key = 'format_version'",
		"UPDATE meta SET value = '-2.0' WHERE key = 'format_version'",
		"DELETE FROM meta WHERE key = 'format_version'",
	};
	char bad[160], what[600];

	snprintf(bad, sizeof(bad), "%s/hostile.db", dir);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		copy_file(base, bad, size_of(base), -1);
		testkit_sql(bad, edits[i]);
		snprintf(what, sizeof(what), "%.500s", edits[i]);
		ck_assert_int_le(replay_every_way(bad, what), 2 * REFRESHES + 1);
	}
	/* A file edited to the same values as written reads the same. */
	copy_file(base, bad, size_of(base), -1);
	testkit_sql(bad, "PRAGMA application_id = 0");
	ck_assert_int_eq(replay_every_way(bad, "a salvaged copy (no application_id)"), REFRESHES);
}
END_TEST

/* NULL where the writer always puts a value (the NOT NULLs edited out of the schema),
 * and each table missing. */
START_TEST(nulls_and_missing_tables)
{
	static const char *const tables[] = {"meta", "state", "refresh", "sock", "sock_change", "proc", "proc_change",
					     "fd", "fd_stale", "netns", "port", "port_change", "event", "sock_gone",
					     "proc_gone", "fd_gone", "netns_gone", "port_gone", "event_dump"};
	char bad[160], stmt[512], what[128];

	snprintf(bad, sizeof(bad), "%s/null.db", dir);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		copy_file(base, bad, size_of(base), -1);
		testkit_sql(bad, "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(sql, 'NOT NULL', '') "
			    "WHERE type = 'table'");
		sqlite3 *db;
		sqlite3_stmt *q;
		ck_assert_int_eq(sqlite3_open(bad, &db), SQLITE_OK);
		snprintf(stmt, sizeof(stmt), "SELECT name FROM pragma_table_info('%s')", tables[i]);
		ck_assert_int_eq(sqlite3_prepare_v2(db, stmt, -1, &q, NULL), SQLITE_OK);
		while (sqlite3_step(q) == SQLITE_ROW) {
			snprintf(stmt, sizeof(stmt), "UPDATE %s SET %s = NULL", tables[i], (const char *)sqlite3_column_text(q, 0));
			/* A primary key keeps its value. */
			sqlite3_exec(db, stmt, NULL, NULL, NULL);
		}
		sqlite3_finalize(q);
		sqlite3_close(db);
		snprintf(what, sizeof(what), "NULLs in %s", tables[i]);
		ck_assert_int_le(replay_every_way(bad, what), REFRESHES);

		copy_file(base, bad, size_of(base), -1);
		snprintf(stmt, sizeof(stmt), "DROP TABLE %s", tables[i]);
		testkit_sql(bad, stmt);
		snprintf(what, sizeof(what), "no table %s", tables[i]);
		ck_assert_int_le(replay_every_way(bad, what), REFRESHES);
	}
}
END_TEST

int main(void)
{
	/* The JSON is checked by jq (Debian package jq, which `setup --test` installs). */
	if (system("command -v jq > /dev/null") != 0) {
		puts("SKIP: needs jq");
		return TESTKIT_SKIP;
	}
	/* Two cases of about equal cost: make check-damaged runs them side by side
	 * (CK_RUN_CASE), each test in its own folder. */
	/* 900 s: a case takes 40-90 s on 2 idle cores, and timed out at 300 s once with
	 * the box at load 13 (five other builds and their test suites beside it). */
	const struct testkit_case cases[] = {
		{.name = "edited", .setup = setup, .teardown = teardown, .timeout = 900,
		 .tests = TESTKIT_TESTS(
			hot_journals,
			side_files_of_others,
			hostile_values,
			nulls_and_missing_tables)},
		{.name = "cut", .setup = setup, .teardown = teardown, .timeout = 900,
		 .tests = TESTKIT_TESTS(
			cut_short_at_31_points,
			bytes_flipped)},
	};

	return TESTKIT_RUN("damaged", cases);
}
