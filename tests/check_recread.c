/* A recording from someone else, read as root: nothing is made, written, chowned or
 * followed beside it (hard links and symlinks named like its side files are left
 * alone), it reads on read-only media and for a user who cannot write its folder,
 * another recording's WAL beside it is not merged, a view, trigger or foreign
 * column is refused, a stop signal ends any read, and a number no live run writes
 * ends the replay with its name instead of reaching the output. */
#include "config.h"

#include "recording/frame.h"
#include "model/snapshot.h"
#include "recording/replay.h"
#include "sources/source.h"
#include "recording/record.h"
#include "tests/testkit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[TESTKIT_DIR_MAX], bin[4096];

static void setup(void)
{
	testkit_leaktop(bin, sizeof(bin));
	testkit_mkdir(dir, "recread");
	chmod(dir, 0755);
}

static void teardown(void)
{
	ck_assert_int_eq(testkit_rmdir(dir), 0);
}

/* A server leaking one CLOSE_WAIT socket a refresh, and a client. */
static void make_snap(struct snapshot *s, uint64_t tick)
{
	testkit_refresh(s, tick, 1700000000.5 + (double)tick * 2);
	s->refresh_ms = 10;
	for (int i = 0; i < 2; i++)
		TESTKIT_PROC(s, .pid = 100 + 100 * i, .ppid = 1, .start_time = 5000 + (uint64_t)i, .netns = 4026531840ULL,
			     .rss_kb = 1000 + tick, .fds = 4 + (i ? 1 : (int64_t)tick), .fd_limit = 1024,
			     .fd_limit_hard = 4096, .state = 'S', .comm = i ? "client" : "leakysrv", .user = "root");
	for (uint64_t c = 0; c <= tick; c++)
		TESTKIT_SOCK(s, .cookie = 100 + c, .inode = 2000 + (uint32_t)c, .proto = 6,
			     .state = c ? ST_CLOSE_WAIT : ST_LISTEN, .lport = 8080, .rport = c ? (uint16_t)(40000 + c) : 0,
			     .rq = c ? 101 : 0, .laddr = "127.0.0.1", .raddr = c ? "127.0.0.2" : NULL, .held = true,
			     .proc = 0, .fd = 3 + (int32_t)c);
	ck_assert_int_eq(snapshot_build(s), 0);
	s->totals.file_alloc = 3000 + tick, s->totals.file_max = 1000000;
}

static void write_rec(const char *file, int n)
{
	struct record_info info = {.interval = 2, .boot_time = 1699990000, .clk_tck = 100};
	struct snapshot *s = snapshot_new();
	struct record *r = NULL;
	char *cause = NULL;

	ck_assert_msg(record_open(&r, file, &info, &cause) == 0, "%s", cause);
	for (int t = 1; t <= n; t++) {
		make_snap(s, (uint64_t)t);
		ck_assert_msg(record_snapshot(r, s, &cause) == 0, "%s", cause);
	}
	record_close(r);
	snapshot_free(s);
}

/* The whole file ("" when missing: a process's /proc file may be gone). */
static char *slurp(const char *name)
{
	char *out = testkit_slurp(name, NULL);
	return out ? out : strdup("");
}

/* `leaktop -r file args...` as uid (-1: as we are): its wait status; stdout and
 * stderr in *out and *err (malloc'd). */
static int run_as(uid_t uid, const char *file, const char *const *args, char **out, char **err)
{
	char o[128], e[128];
	const char *argv[16] = {bin, "-r", file};
	int n = 3, status;
	pid_t pid;

	while (*args && n < 15)
		argv[n++] = *args++;
	argv[n] = NULL;
	snprintf(o, sizeof(o), "/tmp/check_recread.out.%d", (int)getpid());
	snprintf(e, sizeof(e), "/tmp/check_recread.err.%d", (int)getpid());
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		int fo = open(o, O_WRONLY | O_CREAT | O_TRUNC, 0644), fe = open(e, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int in = open("/dev/null", O_RDONLY);
		if (fo < 0 || fe < 0 || in < 0 || dup2(fo, 1) < 0 || dup2(fe, 2) < 0 || dup2(in, 0) < 0)
			_exit(99);
		if (uid != (uid_t)-1 && (setgroups(0, NULL) || setgid(uid) || setuid(uid)))
			_exit(97);
		setenv("TZ", "UTC", 1);
		setenv("HOME", "/nonexistent", 1);
		setenv("XDG_CONFIG_HOME", "/nonexistent", 1);
		alarm(60); /* a hang fails the test, not the suite */
		execv(bin, (char *const *)argv);
		_exit(98);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	*out = slurp(o);
	*err = slurp(e);
	unlink(o);
	unlink(e);
	return status;
}

static int run(const char *file, const char *const *args, char **out, char **err)
{
	return run_as((uid_t)-1, file, args, out, err);
}

static long lines(const char *s)
{
	long n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Every file in d: its name, owner, mode, size and bytes, one line each. */
static char *state_of(const char *d)
{
	struct dirent **e;
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	int n = scandir(d, &e, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		char name[600];
		struct stat st;
		snprintf(name, sizeof(name), "%s/%s", d, e[i]->d_name);
		if (e[i]->d_name[0] != '.' && lstat(name, &st) == 0) {
			fprintf(m, "%s %u:%u %o %lld", e[i]->d_name, (unsigned)st.st_uid, (unsigned)st.st_gid,
				(unsigned)st.st_mode, (long long)st.st_size);
			if (S_ISREG(st.st_mode)) {
				char *bytes = slurp(name);
				unsigned long h = 5381;
				for (size_t j = 0; j < (size_t)st.st_size; j++)
					h = h * 33 ^ (unsigned char)bytes[j];
				fprintf(m, " %lx", h);
				free(bytes);
			}
			fputc('\n', m);
		}
		free(e[i]);
	}
	free(e);
	fclose(m);
	return out;
}

static void copy_data(const char *name, const char *to)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cp '%s/%s' '%s'", TESTDATADIR, name, to);
	ck_assert_int_eq(system(cmd), 0);
}

static const char *const json[] = {"-b", "-o", "json", NULL};
static const char *const text[] = {"-b", NULL};
static const char *const report[] = {"--report", NULL};

/* Item 8: a replay (batch, JSON, report) of a format 3 file, of a format 2 one and
 * of a format 2 one with its WAL makes no file and changes none: no -wal, -shm or
 * -journal left behind, the recording not written. */
START_TEST(replay_makes_and_changes_nothing)
{
	static const char *const files[] = {"new.db", "rec-2.2.db", "rec-2.2-wal.db"};
	char file[160];

	snprintf(file, sizeof(file), "%s/new.db", dir);
	write_rec(file, 4);
	snprintf(file, sizeof(file), "%s/rec-2.2.db", dir);
	copy_data("rec-2.2.db", file);
	snprintf(file, sizeof(file), "%s/rec-2.2-wal.db", dir);
	copy_data("rec-2.2-wal.db", file);
	copy_data("rec-2.2-wal.db-wal", dir);
	char *before = state_of(dir);
	for (size_t i = 0; i < 3; i++) {
		const char *const *ways[] = {json, text, report};
		snprintf(file, sizeof(file), "%s/%s", dir, files[i]);
		for (int w = 0; w < 3; w++) {
			char *out, *err;
			int st = run(file, ways[w], &out, &err);
			ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s", files[i], err);
			ck_assert_msg(lines(out) >= 3, "%s printed %ld lines", files[i], lines(out));
			free(out);
			free(err);
		}
	}
	char *after = state_of(dir);
	ck_assert_msg(!strcmp(before, after), "the folder changed:\n%s\nbecame\n%s", before, after);
	free(before);
	free(after);
}
END_TEST

/* Item 1: root replays a recording in a folder another user owns, where that user
 * put hard links (and, in a second round, symlinks) named FILE-wal, FILE-shm and
 * FILE-journal to a file of root's: that file keeps its owner, mode and bytes, and
 * the replay says the -wal is not read. Formats 3 and 2 (WAL mode). */
START_TEST(side_file_links_left_alone)
{
	static const char *const sides[] = {"-wal", "-shm", "-journal"};
	char theirs[128], ronly[128], secret[160], file[200], side[220];

	if (geteuid() != 0) {
		fprintf(stderr, "check_recread: not root: root's file and nobody's folder cannot be made; skipped\n");
		return;
	}
	snprintf(theirs, sizeof(theirs), "%s/theirs", dir);
	snprintf(ronly, sizeof(ronly), "%s/root-only", dir);
	snprintf(secret, sizeof(secret), "%s/shadow", ronly);
	ck_assert_int_eq(mkdir(ronly, 0700), 0);
	FILE *f = fopen(secret, "w");
	ck_assert_ptr_nonnull(f);
	fputs("root:$6$secret:19000:0:99999:7:::\n", f);
	fclose(f);
	ck_assert_int_eq(chmod(secret, 0600), 0);
	ck_assert_int_eq(mkdir(theirs, 0755), 0);
	for (int round = 0; round < 4; round++) {
		bool hard = round % 2 == 0, old = round >= 2;
		snprintf(file, sizeof(file), "%s/r%d.db", theirs, round);
		if (old)
			copy_data("rec-2.2.db", file);
		else
			write_rec(file, 3);
		for (int i = 0; i < 3; i++) {
			snprintf(side, sizeof(side), "%s%s", file, sides[i]);
			ck_assert_int_eq(hard ? link(secret, side) : symlink(secret, side), 0);
			if (!hard)
				ck_assert_int_eq(lchown(side, 65534, 65534), 0);
		}
		ck_assert_int_eq(chown(file, 65534, 65534), 0);
		ck_assert_int_eq(chmod(file, 0644), 0);
	}
	ck_assert_int_eq(chown(theirs, 65534, 65534), 0);
	char *before = state_of(ronly), *theirs_before = state_of(theirs);
	for (int round = 0; round < 4; round++) {
		char *out, *err;
		snprintf(file, sizeof(file), "%s/r%d.db", theirs, round);
		int st = run(file, json, &out, &err);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "round %d: %s", round, err);
		ck_assert_msg(strstr(err, "-wal") && strstr(err, "not read"), "round %d: no word of the -wal: %s", round, err);
		ck_assert_int_eq(lines(out), round >= 2 ? 4 : 3);
		free(out);
		free(err);
		st = run(file, report, &out, &err);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "round %d report: %s", round, err);
		free(out);
		free(err);
	}
	char *after = state_of(ronly), *theirs_after = state_of(theirs);
	ck_assert_msg(!strcmp(before, after), "root's file changed:\n%s\nbecame\n%s", before, after);
	ck_assert_msg(!strcmp(theirs_before, theirs_after), "their folder changed:\n%s\nbecame\n%s", theirs_before,
		      theirs_after);
	free(before);
	free(after);
	free(theirs_before);
	free(theirs_after);
}
END_TEST

/* Replay file whole in this process (every refresh, then the report): 0 when it
 * worked, else why on stderr. */
static int replay_here(const char *file)
{
	struct source *src = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL;
	int rc = replay_source_new(&src, file, &cause), n = 0;

	while (!rc && (rc = source_next(src, s, &cause)) == 0)
		n++;
	if (rc == 1 && n >= 3)
		rc = 0;
	if (rc)
		fprintf(stderr, "%s: %s (%d refreshes)\n", file, cause ? cause : "?", n);
	source_free(src);
	snapshot_free(s);
	free(cause);
	return rc;
}

/* Item 8: on read-only media (a read-only bind mount of the folder, in a mount
 * namespace of the test's own), a format 3 file and a format 2 (WAL mode) one
 * replay whole. */
START_TEST(read_only_media)
{
	char a[160], b[160];
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "check_recread: not root: no read-only mount can be made; skipped\n");
		return;
	}
	snprintf(a, sizeof(a), "%s/new.db", dir);
	write_rec(a, 4);
	snprintf(b, sizeof(b), "%s/rec-2.2.db", dir);
	copy_data("rec-2.2.db", b);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount(dir, dir, NULL, MS_BIND, NULL) || mount(NULL, dir, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY, NULL))
			_exit(77);
		if (access(a, W_OK) == 0 || errno != EROFS)
			_exit(76);
		_exit(replay_here(a) || replay_here(b) ? 1 : 0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
		fprintf(stderr, "check_recread: no mount namespace here; skipped\n");
		return;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "a replay on read-only media failed (%d)", status);
}
END_TEST

/* Item 8: a user who cannot write the folder (nobody, in root's 0755 folder; or, not
 * root, the test's own folder made 0555) replays a 0644 recording of each format,
 * and leaves nothing. */
START_TEST(reader_cannot_write_the_folder)
{
	char sub[128], a[160], b[160];

	snprintf(sub, sizeof(sub), "%s/ro", dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	snprintf(a, sizeof(a), "%s/new.db", sub);
	write_rec(a, 4);
	snprintf(b, sizeof(b), "%s/rec-2.2.db", sub);
	copy_data("rec-2.2.db", b);
	chmod(a, 0644);
	chmod(b, 0644);
	if (geteuid() != 0)
		ck_assert_int_eq(chmod(sub, 0555), 0);
	char *before = state_of(sub);
	for (int i = 0; i < 2; i++) {
		char *out, *err;
		int st = run_as(geteuid() == 0 ? 65534 : (uid_t)-1, i ? b : a, json, &out, &err);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s: %s", i ? b : a, err);
		ck_assert_int_eq(lines(out), 4);
		free(out);
		free(err);
		st = run_as(geteuid() == 0 ? 65534 : (uid_t)-1, i ? b : a, report, &out, &err);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s report: %s", i ? b : a, err);
		free(out);
		free(err);
	}
	char *after = state_of(sub);
	ck_assert_msg(!strcmp(before, after), "the folder changed:\n%s\nbecame\n%s", before, after);
	chmod(sub, 0755);
	free(before);
	free(after);
}
END_TEST

/* Item 7: another recording's WAL copied beside a file as FILE-wal is not merged:
 * beside a format 3 file (which never has one) and beside a format 2 one (where it
 * would replace the file's pages), the replay is the file's own and says why the
 * WAL was left out. A format 2 file's own WAL is read (check_record); not when it
 * belongs to another user, nor while another program has it open. */
START_TEST(foreign_wal_not_merged)
{
	char a[160], wal[200], *alone, *with, *err;
	int st;

	/* Format 3. */
	snprintf(a, sizeof(a), "%s/a.db", dir);
	write_rec(a, 3);
	st = run(a, json, &alone, &err);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(err);
	snprintf(wal, sizeof(wal), "%s-wal", a);
	copy_data("rec-2.2-wal.db-wal", wal);
	st = run(a, json, &with, &err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", err);
	ck_assert_str_eq(with, alone);
	ck_assert_msg(strstr(err, "a.db-wal is beside") && strstr(err, "not read"), "%s", err);
	ck_assert_ptr_null(strstr(with, "leakysrv\", \"user\": \"root\", \"netns\": 4026532"));
	free(alone), free(with), free(err);

	/* Format 2: a copy of rec-2.2.db with 4 KB pages, like the WAL's own file. */
	snprintf(a, sizeof(a), "%s/b.db", dir);
	copy_data("rec-2.2.db", a);
	testkit_sql(a, "PRAGMA journal_mode=DELETE; PRAGMA page_size=4096; VACUUM; PRAGMA journal_mode=WAL");
	char *want = slurp(TESTDATADIR "/rec-2.2.json");
	snprintf(wal, sizeof(wal), "%s-wal", a);
	copy_data("rec-2.2-wal.db-wal", wal);
	st = run(a, json, &with, &err);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s", err);
	ck_assert_msg(!strcmp(with, want), "the replay of b.db took in another recording's WAL");
	ck_assert_msg(strstr(err, "b.db-wal is not this recording's"), "%s", err);
	free(want), free(with), free(err);

	/* Its own WAL, but another user's: not read. */
	if (geteuid() == 0) {
		snprintf(a, sizeof(a), "%s/rec-2.2-wal.db", dir);
		copy_data("rec-2.2-wal.db", a);
		snprintf(wal, sizeof(wal), "%s-wal", a);
		copy_data("rec-2.2-wal.db-wal", wal);
		ck_assert_int_eq(chown(wal, 65534, 65534), 0);
		st = run(a, json, &with, &err);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		ck_assert_int_eq(lines(with), 3);
		ck_assert_msg(strstr(err, "belongs to nobody"), "%s", err);
		free(with), free(err);
		ck_assert_int_eq(chown(wal, 0, 0), 0);
	}

	/* Its own WAL while another program has it open (SQLite's shared memory):
	 * a writer could reuse it under this reader. */
	snprintf(a, sizeof(a), "%s/c.db", dir);
	copy_data("rec-2.2-wal.db", a);
	snprintf(wal, sizeof(wal), "%s-wal", a);
	copy_data("rec-2.2-wal.db-wal", wal);
	int ready[2];
	ck_assert_int_eq(pipe(ready), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sqlite3 *db;
		if (sqlite3_open(a, &db) || sqlite3_exec(db, "SELECT count(*) FROM refresh", NULL, NULL, NULL))
			_exit(1);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	char x;
	ck_assert_int_eq(read(ready[0], &x, 1), 1);
	st = run(a, json, &with, &err);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(lines(with), 3);
	ck_assert_msg(strstr(err, "in use by another program"), "%s", err);
	free(with), free(err);
	close(ready[0]);
	close(ready[1]);
}
END_TEST

/* The column names of table t in file, comma-separated. */
static char *columns_of(const char *file, const char *t)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	char sql[128], *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);

	ck_assert_int_eq(sqlite3_open(file, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s')", t);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
	for (int i = 0; sqlite3_step(q) == SQLITE_ROW; i++)
		fprintf(m, "%sx AS %s", i ? ", " : "", sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	sqlite3_close(db);
	fclose(m);
	return out;
}

/* A replay of file (batch, then the report) ends at once, exit 1, with words on its
 * last line. */
static void assert_refused_fast(const char *file, const char *words, const char *what)
{
	const char *const *ways[] = {json, report};

	for (int w = 0; w < 2; w++) {
		char *out, *err;
		int st = run(file, ways[w], &out, &err);
		ck_assert_msg(!WIFSIGNALED(st), "%s: leaktop killed by signal %d (a hang ended by alarm?)", what,
			      WTERMSIG(st));
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: exit %d", what, WEXITSTATUS(st));
		ck_assert_msg(strstr(err, words), "%s: '%s' lacks '%s'", what, err, words);
		ck_assert_int_eq(lines(err), 1);
		free(out);
		free(err);
	}
}

/* Item 4: a table replaced by a view that never ends (a recursive CTE): refused at
 * once, as are a trigger, a generated column, a column renamed or of another type. */
START_TEST(views_triggers_and_foreign_columns_refused)
{
	static const char *const tables[] = {"meta", "refresh", "sock", "fd_stale", "sock_change"};
	static const struct {
		const char *sql, *words;
	} edits[] = {
		{"CREATE TRIGGER t AFTER INSERT ON refresh BEGIN DELETE FROM sock; END", "it has a trigger (t)"},
		{"CREATE VIEW v AS SELECT 1", "it has a view (v)"},
		{"ALTER TABLE proc ADD COLUMN g INTEGER GENERATED ALWAYS AS (pid * 2) VIRTUAL", "has a column g"},
		{"ALTER TABLE sock_gone RENAME COLUMN tick TO when_", "has a column when_ where leaktop has tick"},
		{"DROP TABLE fd_gone; CREATE TABLE fd_gone(fd INTEGER NOT NULL, tick TEXT NOT NULL)", "has a column tick"},
		{"DROP TABLE port_gone", "it has no table port_gone"},
	};
	char file[160], stmt[1024], what[128];

	snprintf(file, sizeof(file), "%s/v.db", dir);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		unlink(file);
		write_rec(file, 3);
		char *cols = columns_of(file, tables[i]);
		snprintf(stmt, sizeof(stmt), "DROP TABLE %s; CREATE VIEW %s AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
			 "SELECT x + 1 FROM c) SELECT %s FROM c", tables[i], tables[i], cols);
		free(cols);
		testkit_sql(file, stmt);
		snprintf(what, sizeof(what), "%s as an endless view", tables[i]);
		snprintf(stmt, sizeof(stmt), "it has a view (%s)", tables[i]);
		assert_refused_fast(file, stmt, what);
	}
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		unlink(file);
		write_rec(file, 3);
		testkit_sql(file, edits[i].sql);
		assert_refused_fast(file, edits[i].words, edits[i].sql);
	}
}
END_TEST

static double cpu_seconds(pid_t pid)
{
	char name[64], *s;
	unsigned long ut = 0, st = 0;

	snprintf(name, sizeof(name), "/proc/%d/stat", (int)pid);
	s = slurp(name);
	const char *p = strrchr(s, ')');
	if (p)
		sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st);
	free(s);
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* Item 4: a file whose tables are leaktop's, but whose key makes the format 2 read
 * quadratic (sock_change keyed by (tick, sock), 20,000 sockets): it would read for
 * many minutes; SIGINT, SIGTERM and SIGHUP each end leaktop within seconds, by that
 * signal, as when a live run in batch mode is stopped. */
START_TEST(stop_signal_ends_any_read)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	char file[160];

	snprintf(file, sizeof(file), "%s/slow.db", dir);
	copy_data("rec-2.2.db", file);
	testkit_sql(file, "PRAGMA journal_mode=DELETE;"
		     "CREATE TABLE sc2(sock INTEGER NOT NULL, tick INTEGER NOT NULL, state INTEGER NOT NULL, rqueue INTEGER "
		     "NOT NULL, wqueue INTEGER NOT NULL, timer INTEGER NOT NULL, retrans INTEGER NOT NULL, inode INTEGER NOT "
		     "NULL, uid INTEGER NOT NULL, state_age_ms INTEGER, PRIMARY KEY(tick, sock)) WITHOUT ROWID;"
		     "INSERT INTO sc2 SELECT * FROM sock_change; DROP TABLE sock_change; ALTER TABLE sc2 RENAME TO sock_change;"
		     "WITH RECURSIVE n(i) AS (SELECT 100000 UNION ALL SELECT i + 1 FROM n WHERE i < 120000) "
		     "INSERT INTO sock(id, cookie, netns, family, proto, type, laddr, lport, raddr, rport, name, peer, first_tick) "
		     "SELECT i, i, 0, 2, 6, 1, '127.0.0.1', 1, '127.0.0.1', 2, '', 0, (SELECT min(tick) FROM refresh) FROM n;"
		     "INSERT INTO sock_change SELECT id, first_tick, 1, 0, 0, 0, 0, 0, 0, NULL FROM sock WHERE id >= 100000;"
		     "PRAGMA journal_mode=WAL;");
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			int fd = open("/dev/null", O_WRONLY);
			if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
				_exit(99);
			alarm(600);
			execl(bin, bin, "-r", file, "-b", (char *)NULL);
			_exit(98);
		}
		/* Busy reading: a second of CPU (polled, however loaded the machine). */
		for (int w = 0; w < 1200 && cpu_seconds(pid) < 1.0; w++) {
			ck_assert_msg(waitpid(pid, NULL, WNOHANG) == 0, "leaktop ended before it was signalled");
			usleep(50000);
		}
		ck_assert_int_eq(waitpid(pid, NULL, WNOHANG), 0);
		ck_assert_int_eq(kill(pid, sigs[i]), 0);
		int status = 0;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		pid_t got = 0;
		for (int w = 0; w < 200 && !(got = waitpid(pid, &status, WNOHANG)); w++)
			usleep(50000);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (!got) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		ck_assert_msg(got == pid, "signal %d: leaktop still reading 10 s after it", sigs[i]);
		/* Stopped as a live run stops: the read ends, then leaktop by the signal. */
		ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == sigs[i], "signal %d: status %#x, not ended by it",
			      sigs[i], status);
		fprintf(stderr, "check_recread: signal %d ended the read in %.2f s\n", sigs[i],
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	}
}
END_TEST

/* Refresh tick's frame in file, column col of every row of table t set to v, written
 * back with a good CRC: a frame any writer could make. Format 3's data is its frames. */
static void edit_frame(const char *file, int tick, enum schema_table t, unsigned col, struct frame_value v)
{
	struct frame_value vals[FRAME_MAX_COLS];
	struct frame_reader fr;
	struct frame_buf out = {0};
	enum schema_table tt;
	sqlite3 *db;
	sqlite3_stmt *q;
	int edited = 0;

	ck_assert_int_eq(sqlite3_open(file, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT data FROM frame WHERE kind = 'refresh' AND tick = ?1", -1, &q, NULL),
			 SQLITE_OK);
	sqlite3_bind_int(q, 1, tick);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(frame_open(&fr, sqlite3_column_blob(q, 0), (size_t)sqlite3_column_bytes(q, 0), SCHEMA_V_NOW), 0);
	frame_begin(&out);
	while (frame_next(&fr, &tt, vals) == 1) {
		if (tt == t) {
			vals[col] = v;
			edited++;
		}
		ck_assert_int_eq(frame_add_row(&out, tt, vals), 0);
	}
	ck_assert_int_gt(edited, 0);
	ck_assert_int_eq(frame_end(&out), 0);
	sqlite3_finalize(q);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "UPDATE frame SET data = ?1 WHERE kind = 'refresh' AND tick = ?2", -1, &q,
					    NULL), SQLITE_OK);
	sqlite3_bind_blob(q, 1, out.b, (int)out.len, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, tick);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_DONE);
	sqlite3_finalize(q);
	sqlite3_close(db);
	frame_free(&out);
}

#define I(v) {.type = FV_INT, .i = (v)}
#define R(v) {.type = FV_REAL, .d = (v)}

/* The replay of file stops after refresh `before`, exit 1, with words on its one
 * line, and no number of the edit reaches the output. */
static void assert_stops(const char *file, long before, const char *words, const char *what)
{
	char *out, *err;
	int st = run(file, json, &out, &err);

	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "%s: exit %d", what, st);
	ck_assert_msg(lines(out) == before, "%s: %ld refreshes replayed", what, lines(out));
	ck_assert_msg(strstr(err, words), "%s: '%s' lacks '%s'", what, err, words);
	ck_assert_int_eq(lines(err), 1);
	ck_assert_ptr_null(strstr(out, "18446744073709551"));
	ck_assert_ptr_null(strstr(out, "9223372036854775"));
	ck_assert_ptr_null(strstr(out, "inf"));
	free(out);
	free(err);
}

/* Item 11: numbers no live run writes, in refresh 3 of 5 (in its frame: format 3's
 * data; in its rows: format 2's): the replay stops before it, naming the column and
 * the value, and none reaches the output. */
START_TEST(hostile_numbers_refused_where_read)
{
	static const struct {
		enum schema_table t;
		unsigned col;
		struct frame_value v;
		const char *words;
	} frames[] = {
		{TB_PROC_CHANGE, PROCCH_FDS, I(INT64_MAX), "proc_change.fds is 9223372036854775807"},
		{TB_PROC_CHANGE, PROCCH_FDS, I(INT64_MAX - 1000), "proc_change.fds is"},
		{TB_PROC_CHANGE, PROCCH_FDS, I(-2), "proc_change.fds is -2"},
		{TB_PROC_CHANGE, PROCCH_RSS_KB, I(-1), "proc_change.rss_kb is -1"},
		{TB_PROC_CHANGE, PROCCH_RSS_KB, I(9000000000000000000), "proc_change.rss_kb is 9000000000000000000"},
		{TB_PROC_CHANGE, PROCCH_PPID, I(-7), "proc_change.ppid is -7"},
		{TB_PROC_CHANGE, PROCCH_FD_LIMIT, I(INT64_MAX), NULL}, /* an unlimited-like limit: fine */
		{TB_SOCK_CHANGE, SOCKCH_RQUEUE, I(-1), "sock_change.rqueue is -1"},
		{TB_SOCK_CHANGE, SOCKCH_UID, I(4294967296), "sock_change.uid is 4294967296"},
		{TB_SOCK_CHANGE, SOCKCH_STATE, I(200), "sock_change.state is 200"},
		{TB_SOCK, SOCK_LPORT, I(70000), "sock.lport is 70000"},
		{TB_FD, FD_FD, I(-1), "fd.fd is -1"},
		{TB_PORT_CHANGE, PORTCH_COUNT, I(-1), "port_change.count is -1"},
		{TB_PORT_CHANGE, PORTCH_RECV_Q, I(-1), "port_change.recv_q is -1"},
		{TB_PORT_CHANGE, PORTCH_STATES + ST_CLOSE_WAIT, I(-5), "port_change.close_wait is -5"},
		{TB_REFRESH, REFRESH_TIME, R(INFINITY), "refresh.time is inf"},
		{TB_REFRESH, REFRESH_TIME, R(-INFINITY), "refresh.time is -inf"},
		{TB_REFRESH, REFRESH_TIME, R(NAN), "refresh.time is"}, /* NaN */
		{TB_REFRESH, REFRESH_MS, R(-1), "refresh.refresh_ms is -1"},
		{TB_REFRESH, REFRESH_TICK, I(3000), "another refresh's row"},
	};
	static const struct {
		const char *sql, *words;
	} tables[] = {
		{"UPDATE proc_change SET fds = 9223372036854775807 WHERE tick = 3", "proc_change.fds is 9223372036854775807"},
		{"UPDATE proc_change SET rss_kb = -1 WHERE tick = 3", "proc_change.rss_kb is -1"},
		{"UPDATE proc_change SET fd_limit = -1 WHERE tick = 3", "proc_change.fd_limit is -1"},
		{"UPDATE port_change SET count = -1 WHERE tick = 3", "port_change.count is -1"},
		{"UPDATE sock_change SET state = 'x' WHERE tick = 3", "sock_change.state is text"},
		{"UPDATE sock_change SET inode = 1.5 WHERE tick = 3", "sock_change.inode is a real"},
		{"UPDATE sock SET lport = 70000 WHERE first_tick = 3", "sock.lport is 70000"},
		{"UPDATE refresh SET refresh_ms = -1 WHERE tick = 3", "refresh.refresh_ms is -1"},
		{"UPDATE refresh SET time = 9e999 WHERE tick = 3", "its tick or time is none a leaktop writes"},
	};
	char file[160], what[160];

	snprintf(file, sizeof(file), "%s/n.db", dir);
	for (size_t i = 0; i < sizeof(frames) / sizeof(frames[0]); i++) {
		unlink(file);
		write_rec(file, 5);
		edit_frame(file, 3, frames[i].t, frames[i].col, frames[i].v);
		snprintf(what, sizeof(what), "frame edit %zu (%s)", i, frames[i].words ? frames[i].words : "fine");
		if (frames[i].words) {
			assert_stops(file, 2, frames[i].words, what);
			continue;
		}
		char *out, *err;
		int st = run(file, json, &out, &err);
		ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0 && lines(out) == 5, "%s: %s", what, err);
		free(out);
		free(err);
	}
	/* The frame table's own time of refresh 3, and a byte of its frame flipped. */
	unlink(file);
	write_rec(file, 5);
	testkit_sql(file, "UPDATE frame SET time = 9e999 WHERE kind = 'refresh' AND tick = 3");
	assert_stops(file, 2, "its tick or time is none a leaktop writes", "frame.time inf");
	unlink(file);
	write_rec(file, 5);
	testkit_sql(file, "UPDATE frame SET data = substr(data, 1, 20) || x'ff' || substr(data, 22) "
		     "WHERE kind = 'refresh' AND tick = 3");
	assert_stops(file, 2, "fails its CRC", "a byte of a frame");

	/* Format 2: the rows themselves. */
	snprintf(file, sizeof(file), "%s/rec-2.2.db", dir);
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		unlink(file);
		copy_data("rec-2.2.db", file);
		/* '|' between statements that need the file opened again. */
		testkit_sql(file, tables[i].sql);
		assert_stops(file, 2, tables[i].words, tables[i].sql);
	}
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown, .timeout = 300,
		 .tests = TESTKIT_TESTS(
			replay_makes_and_changes_nothing,
			side_file_links_left_alone,
			read_only_media,
			reader_cannot_write_the_folder,
			foreign_wal_not_merged,
			views_triggers_and_foreign_columns_refused,
			stop_signal_ends_any_read,
			hostile_numbers_refused_where_read)},
	};

	return TESTKIT_RUN("recread", cases);
}
