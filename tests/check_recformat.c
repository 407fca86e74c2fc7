/* The recording's formats: a new recording has format 3.0's schema and no other;
 * columns a later format adds come last; real recordings of every older format
 * (tests/data) replay to the very text, JSON and report they gave when made. */
#include "config.h"

#include "recording/schema.h"
#include "recording/record.h"
#include "tests/testkit.h"

#include <dirent.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[TESTKIT_DIR_MAX], path[128];

static void setup(void)
{
	testkit_mkdir(dir, "recformat");
	snprintf(path, sizeof(path), "%s/rec.db", dir);
}

static void teardown(void)
{
	ck_assert_int_eq(testkit_rmdir(dir), 0);
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

/* The names in the test's folder, sorted, joined by spaces (out, the output, left out). */
static char *names_here(void)
{
	struct dirent **e;
	char *out = calloc(1, 4096);
	int n = scandir(dir, &e, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(e[i]->d_name, ".") && strcmp(e[i]->d_name, "..") && strcmp(e[i]->d_name, "out"))
			snprintf(out + strlen(out), 4096 - strlen(out), "%s%s", *out ? " " : "", e[i]->d_name);
		free(e[i]);
	}
	free(e);
	return out;
}

/* A fixture of tests/data copied to the test's folder (and its WAL, when it has
 * one): the source tree may be read-only, and nothing may be made beside it. */
static void copy_fixture(const char *name, char *out, size_t n)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s/%s' '%s/' && { [ ! -e '%s/%s-wal' ] || cp '%s/%s-wal' '%s/'; }", TESTDATADIR, name,
		 dir, TESTDATADIR, name, TESTDATADIR, name, dir);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(out, n, "%s/%s", dir, name);
}

/* What `leaktop -r FILE ARGS` prints, run from the test's folder with no
 * configuration of the user's and the clock in UTC. */
static char *leaktop_out(const char *file, const char *args)
{
	char cmd[8192], out[192], bin[4096];

	testkit_leaktop(bin, sizeof(bin));
	snprintf(out, sizeof(out), "%s/out", dir);
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && HOME='%s' XDG_CONFIG_HOME='%s' TZ=UTC '%s' -r '%s' %s > out 2>/dev/null", dir,
		 dir, dir, bin, file, args);
	ck_assert_msg(system(cmd) == 0, "%s", cmd);
	return testkit_slurp(out, NULL);
}

/* Real recordings of each older format (tests/data/rec-2.0.sh made them with the
 * leaktop of their time; rec-2.2-wal.sh a format 2.2 one whose writer was killed,
 * its last refreshes still in its WAL) replay to the very text, JSON and report they
 * gave when they were made: files in the hands of the next shift keep replaying
 * whatever the code that reads them becomes. And nothing is left beside them. */
START_TEST(older_formats_replay_as_recorded)
{
	static const struct {
		const char *file, *args, *want;
	} runs[] = {
		{"rec-2.0.db", "-b", "rec-2.0.txt"},
		{"rec-2.0.db", "-b -o json", "rec-2.0.json"},
		{"rec-2.0.db", "--report", "rec-2.0.md"},
		{"rec-2.1.db", "-b", "rec-2.1.txt"},
		{"rec-2.1.db", "-b -o json", "rec-2.1.json"},
		{"rec-2.1.db", "--report", "rec-2.1.md"},
		{"rec-2.2.db", "-b", "rec-2.2.txt"},
		{"rec-2.2.db", "-b -o json", "rec-2.2.json"},
		{"rec-2.2.db", "--report", "rec-2.2.md"},
		{"rec-2.2-wal.db", "-b -o json", "rec-2.2-wal.json"},
	};
	char copy[192];

	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++) {
		char want_path[512], *want, *got, *before, *after;
		copy_fixture(runs[i].file, copy, sizeof(copy));
		before = names_here();
		got = leaktop_out(runs[i].file, runs[i].args);
		after = names_here();
		snprintf(want_path, sizeof(want_path), "%s/%s", TESTDATADIR, runs[i].want);
		want = testkit_slurp(want_path, NULL);
		ck_assert_ptr_nonnull(want);
		ck_assert_ptr_nonnull(got);
		ck_assert_msg(!strcmp(want, got), "leaktop -r %s %s differs from %s:\n%s", runs[i].file, runs[i].args,
			      runs[i].want, got);
		ck_assert_msg(!strcmp(before, after), "leaktop -r %s left files: [%s] became [%s]", runs[i].file, before,
			      after);
		free(want);
		free(got);
		free(before);
		free(after);
	}
	/* The killed writer's file alone holds the refreshes it had checkpointed. */
	unlink(copy);
	copy_fixture("rec-2.2-wal.db", copy, sizeof(copy));
	char wal[256];
	snprintf(wal, sizeof(wal), "%s-wal", copy);
	ck_assert_int_eq(unlink(wal), 0);
	char *alone = leaktop_out("rec-2.2-wal.db", "-b -o json");
	size_t lines = 0;
	for (const char *c = alone; *c; c++)
		lines += *c == '\n';
	ck_assert_uint_eq(lines, 3);
	free(alone);
}
END_TEST

/* The tables a new recording gets are format 3.0's: a column added to recording/schema
 * without a new format version fails here. Every table keeps its rows in the order
 * written (no key but the row id, no index), on 64 KB pages; the frame table holds
 * what a reader replays. */
START_TEST(new_recording_has_the_format_3_0_schema)
{
	static const char want[] =
		"index|sqlite_autoindex_meta_1|meta|(null)\n"
		"table|event|event|CREATE TABLE event(id INTEGER PRIMARY KEY, tick INTEGER NOT NULL, time REAL NOT NULL, kind TEXT NOT NULL, pid INTEGER, start_time INTEGER, what TEXT NOT NULL, result TEXT)\n"
		"table|event_dump|event_dump|CREATE TABLE event_dump(event INTEGER PRIMARY KEY, text BLOB NOT NULL)\n"
		"table|fd|fd|CREATE TABLE fd(id INTEGER PRIMARY KEY, proc INTEGER NOT NULL, fd INTEGER NOT NULL, inode INTEGER NOT NULL, first_tick INTEGER NOT NULL)\n"
		"table|fd_gone|fd_gone|CREATE TABLE fd_gone(fd INTEGER NOT NULL, tick INTEGER NOT NULL)\n"
		"table|fd_stale|fd_stale|CREATE TABLE fd_stale(fd INTEGER NOT NULL, tick INTEGER NOT NULL)\n"
		"table|frame|frame|CREATE TABLE frame(id INTEGER PRIMARY KEY, tick INTEGER NOT NULL, time REAL NOT NULL, kind TEXT NOT NULL, data BLOB NOT NULL)\n"
		"table|meta|meta|CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL)\n"
		"table|netns|netns|CREATE TABLE netns(id INTEGER PRIMARY KEY, inode INTEGER NOT NULL, dumped INTEGER NOT NULL, own INTEGER NOT NULL, first_tick INTEGER NOT NULL)\n"
		"table|netns_gone|netns_gone|CREATE TABLE netns_gone(netns INTEGER NOT NULL, tick INTEGER NOT NULL)\n"
		"table|port|port|CREATE TABLE port(id INTEGER PRIMARY KEY, netns INTEGER NOT NULL, port INTEGER NOT NULL, side TEXT NOT NULL, proto INTEGER NOT NULL, first_tick INTEGER NOT NULL)\n"
		"table|port_change|port_change|CREATE TABLE port_change(port INTEGER NOT NULL, tick INTEGER NOT NULL, count INTEGER NOT NULL, recv_q INTEGER NOT NULL, accept_q INTEGER NOT NULL, accept_max INTEGER NOT NULL, pids TEXT NOT NULL, pids_truncated INTEGER NOT NULL, unknown INTEGER NOT NULL, established INTEGER NOT NULL, syn_sent INTEGER NOT NULL, syn_recv INTEGER NOT NULL, fin_wait1 INTEGER NOT NULL, fin_wait2 INTEGER NOT NULL, time_wait INTEGER NOT NULL, close INTEGER NOT NULL, close_wait INTEGER NOT NULL, last_ack INTEGER NOT NULL, listen INTEGER NOT NULL, closing INTEGER NOT NULL, new_syn_recv INTEGER NOT NULL, closed INTEGER NOT NULL)\n"
		"table|port_gone|port_gone|CREATE TABLE port_gone(port INTEGER NOT NULL, tick INTEGER NOT NULL)\n"
		"table|proc|proc|CREATE TABLE proc(id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, start_time INTEGER NOT NULL, uid INTEGER NOT NULL, netns INTEGER NOT NULL, comm TEXT NOT NULL, user TEXT NOT NULL, unit TEXT NOT NULL, cmdline TEXT NOT NULL, container TEXT NOT NULL, first_tick INTEGER NOT NULL)\n"
		"table|proc_change|proc_change|CREATE TABLE proc_change(proc INTEGER NOT NULL, tick INTEGER NOT NULL, ppid INTEGER NOT NULL, state TEXT NOT NULL, flags INTEGER NOT NULL, rss_kb INTEGER NOT NULL, fds INTEGER NOT NULL, fd_limit INTEGER, fd_limit_hard INTEGER)\n"
		"table|proc_gone|proc_gone|CREATE TABLE proc_gone(proc INTEGER NOT NULL, tick INTEGER NOT NULL)\n"
		"table|refresh|refresh|CREATE TABLE refresh(tick INTEGER PRIMARY KEY, time REAL NOT NULL, refresh_ms REAL NOT NULL, status TEXT NOT NULL, sockets INTEGER, procs INTEGER, unreadable INTEGER, file_alloc INTEGER, file_max INTEGER, closed_valid INTEGER NOT NULL, netns_limited INTEGER NOT NULL)\n"
		"table|sock|sock|CREATE TABLE sock(id INTEGER PRIMARY KEY, cookie INTEGER NOT NULL, netns INTEGER NOT NULL, family INTEGER NOT NULL, proto INTEGER NOT NULL, type INTEGER NOT NULL, laddr TEXT NOT NULL, lport INTEGER NOT NULL, raddr TEXT NOT NULL, rport INTEGER NOT NULL, name TEXT NOT NULL, peer INTEGER NOT NULL, first_tick INTEGER NOT NULL)\n"
		"table|sock_change|sock_change|CREATE TABLE sock_change(sock INTEGER NOT NULL, tick INTEGER NOT NULL, state INTEGER NOT NULL, rqueue INTEGER NOT NULL, wqueue INTEGER NOT NULL, timer INTEGER NOT NULL, retrans INTEGER NOT NULL, inode INTEGER NOT NULL, uid INTEGER NOT NULL, state_age_ms INTEGER)\n"
		"table|sock_gone|sock_gone|CREATE TABLE sock_gone(sock INTEGER NOT NULL, tick INTEGER NOT NULL)\n"
		"table|state|state|CREATE TABLE state(num INTEGER PRIMARY KEY, name TEXT NOT NULL)\n";
	char *got = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&got, &len);
	sqlite3 *db;
	sqlite3_stmt *q;

	record_close(open_rec());
	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name",
					    -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		for (int c = 0; c < 4; c++) {
			const char *text = (const char *)sqlite3_column_text(q, c);
			fprintf(f, "%s%c", text ? text : "(null)", c == 3 ? '\n' : '|');
		}
	sqlite3_finalize(q);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(q, 0), 65536);
	sqlite3_finalize(q);
	sqlite3_close(db);
	fclose(f);
	size_t same = 0;
	while (want[same] && want[same] == got[same])
		same++;
	ck_assert_msg(!want[same] && !got[same], "the schema differs from format 3.0's at: %.160s", got + same);
	free(got);
}
END_TEST

/* A column added by a later format comes after the ones older files have, so the
 * reader of a 2.0 or 2.1 file asks for every column it has and no other. */
START_TEST(later_columns_come_last)
{
	for (unsigned t = 0; t < TB_COUNT; t++)
		for (unsigned c = 1; c < schema_tables[t].ncols; c++)
			ck_assert_msg(schema_tables[t].cols[c].since >= schema_tables[t].cols[c - 1].since,
				      "%s column %u is older than the one before it", schema_tables[t].name, c);
	char *old = schema_select_sql(TB_SOCK_CHANGE, "c", 0, SOCKCH_NCOLS, SCHEMA_V(2, 1));
	char *now = schema_select_sql(TB_SOCK_CHANGE, "c", 0, SOCKCH_NCOLS, SCHEMA_V_NOW);
	ck_assert_str_eq(old, "c.sock, c.tick, c.state, c.rqueue, c.wqueue, c.timer, c.retrans, c.inode, c.uid");
	ck_assert_str_eq(now, "c.sock, c.tick, c.state, c.rqueue, c.wqueue, c.timer, c.retrans, c.inode, c.uid, "
			      "c.state_age_ms");
	free(old);
	free(now);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown, .timeout = 120,
		 .tests = TESTKIT_TESTS(
			older_formats_replay_as_recorded,
			new_recording_has_the_format_3_0_schema,
			later_columns_come_last)},
	};

	return TESTKIT_RUN("recformat", cases);
}
