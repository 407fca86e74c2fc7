/* The reports' questions to a recording (recording/recquery.h), asked of recordings
 * the real writer made here (a file, and the same session in memory, as a report of
 * a damaged file is made) and of the recorded format 2 fixtures: the span and a
 * tick's time, who grew their fd table and by how much, the events with their
 * thread dumps, the chart series, a damaged table, and a stop signal. */
#include "config.h"

#include "recording/recquery.h"
#include "recording/record.h"
#include "recording/recread.h"
#include "sources/stop.h"
#include "recording/schema.h"
#include "model/snapshot.h"
#include "tests/testkit.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define T0 1700000000.0
#define TICKS 20
#define NETNS 4026531840ULL

static char dir[TESTKIT_DIR_MAX], path[TESTKIT_DIR_MAX + 16];

static void setup(void)
{
	testkit_mkdir(dir, "recquery");
	snprintf(path, sizeof(path), "%s/rec.db", dir);
}

static void teardown(void)
{
	ck_assert_int_eq(testkit_rmdir(dir), 0);
}

static void add_proc(struct snapshot *s, int32_t pid, uint64_t start, const char *comm, int64_t fds, uint64_t limit)
{
	struct proc_rec *p = snapshot_add_proc(s);
	p->pid = pid, p->ppid = 1, p->start_time = start, p->fds = fds, p->fd_limit = p->fd_limit_hard = limit;
	p->rss_kb = 1000 * (uint64_t)pid, p->state = 'S';
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	snprintf(p->user, sizeof(p->user), "app");
	snprintf(p->cmdline, sizeof(p->cmdline), "%s --serve", comm);
}

/* Refresh tick (1..TICKS, every 2 s; tick 7 is missing: a refresh that failed):
 *  - pid 100 flat: 50 fds all along;
 *  - pid 200 grows 3 fds a refresh, and goes after tick 15;
 *  - pid 300 grows 10 a refresh from tick 5 on;
 *  - pid 200's port: CLOSE_WAIT sockets to 127.0.0.1:9000, one more each refresh. */
static void make_snap(struct snapshot *s, uint64_t tick)
{
	snapshot_clear(s);
	s->tick = tick;
	s->time = T0 + (double)tick * 2;
	s->closed_valid = true;
	snapshot_add_netns(s, NETNS, true)->own = true;
	add_proc(s, 100, 1000, "flat", 50, 1024);
	if (tick <= 15)
		add_proc(s, 200, 2000, "grower", 10 + 3 * (int64_t)tick, 4096);
	if (tick >= 5)
		add_proc(s, 300, 3000, "fast", 100 + 10 * (int64_t)tick, 8192);
	for (uint64_t i = 0; tick <= 15 && i < tick; i++) {
		struct sock_rec *k = snapshot_add_sock(s);
		k->cookie = 100 + i, k->inode = 5000 + (uint32_t)i, k->state = ST_CLOSE_WAIT;
		k->family = AF_INET, k->proto = 6, k->lport = (uint16_t)(40000 + i), k->rport = 9000;
		ck_assert_int_eq(snapshot_sock_set_netns(s, k, NETNS), 0);
		testkit_sock_addrs(s, k, "127.0.0.1", "127.0.0.1");
		struct sock_owner *o = snapshot_add_owner(s);
		o->inode = k->inode, o->proc = 1, o->fd = 10 + (int32_t)i;
	}
	ck_assert_int_eq(snapshot_build(s), 0);
}

static const char dump_text[] = "Full thread dump:\n\"main\" #1\n   java.lang.Thread.State: RUNNABLE\n\0after a NUL";

/* The session into rec (a file, or memory when p is NULL). */
static struct record *write_session(const char *p, struct record **keep)
{
	struct record_info info = {.interval = 2, .boot_time = 1699990000, .clk_tck = 100};
	struct record *r = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL;

	ck_assert_int_eq(record_open(&r, p, &info, &cause), 0);
	for (uint64_t t = 1; t <= TICKS; t++) {
		if (t == 7)
			continue;
		make_snap(s, t);
		ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
		struct record_event ev = {.time = s->time, .pid = 200, .start_time = 2000, .kind = EV_ALERT};
		if (t == 4) {
			ev.what = "warning fd_eta: pid 200 (grower) runs out of fds";
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		} else if (t == 9) {
			ev.kind = EV_ACTION, ev.what = "SIGQUIT", ev.result = "dumped";
			ev.dump = dump_text, ev.dump_len = sizeof(dump_text) - 1;
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		} else if (t == 12) {
			ev.kind = EV_ACTION, ev.pid = 0, ev.start_time = 0, ev.what = "note", ev.result = "by hand";
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		}
	}
	snapshot_free(s);
	if (keep) {
		*keep = r;
		return r;
	}
	record_close(r);
	return NULL;
}

static struct sqlite3 *open_rec(const char *p, struct record_info *info)
{
	struct sqlite3 *db = NULL;
	char *cause = NULL;

	ck_assert_msg(recread_open(&db, p, info, &cause) == 0, "%s", cause ? cause : "?");
	return db;
}

/* --- the span and tick times ------------------------------------------------------ */

START_TEST(test_span_and_tick_time)
{
	struct record_info info;
	struct recquery_span sp;
	char *cause = NULL;

	write_session(path, NULL);
	struct sqlite3 *db = open_rec(path, &info);
	ck_assert_int_eq(recquery_begin(db, &sp, &cause), 0);
	ck_assert_int_eq(sp.refreshes, TICKS - 1);
	ck_assert_int_eq(sp.first_tick, 1);
	ck_assert_int_eq(sp.last_tick, TICKS);
	ck_assert(sp.first_time == T0 + 2 && sp.last_time == T0 + 2 * TICKS);
	/* The missing refresh's tick is the one before it; before the first, none. */
	ck_assert(recquery_tick_time(db, 6) == T0 + 12);
	ck_assert(recquery_tick_time(db, 7) == T0 + 12);
	ck_assert(recquery_tick_time(db, 8) == T0 + 16);
	ck_assert(recquery_tick_time(db, 0) == 0);
	ck_assert(recquery_tick_time(db, 1000) == T0 + 2 * TICKS);
	recquery_end(db);
	recread_close(db);
}
END_TEST

/* --- fd growth -------------------------------------------------------------------- */

struct growth_rows {
	int n, stop_after;
	struct recquery_growth g[8];
	char comm[8][16], cmdline[8][64];
};

static int take_growth(void *ctx, const struct recquery_growth *g)
{
	struct growth_rows *r = ctx;

	if (r->n < 8) {
		r->g[r->n] = *g;
		snprintf(r->comm[r->n], sizeof(r->comm[0]), "%s", g->comm ? g->comm : "(null)");
		snprintf(r->cmdline[r->n], sizeof(r->cmdline[0]), "%s", g->cmdline ? g->cmdline : "(null)");
	}
	r->n++;
	return r->stop_after && r->n == r->stop_after;
}

static void check_growth(struct sqlite3 *db, unsigned ver)
{
	struct growth_rows r = {0};
	char *cause = NULL;

	/* The fast one first (+150), then the grower (+42, until it went); not the flat. */
	ck_assert_int_eq(recquery_fd_growth(db, ver, TICKS, take_growth, &r, &cause), 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.g[0].pid, 300);
	ck_assert_str_eq(r.comm[0], "fast");
	ck_assert_str_eq(r.cmdline[0], "fast --serve");
	ck_assert_uint_eq(r.g[0].start_time, 3000);
	ck_assert_int_eq(r.g[0].first_fds, 150);
	ck_assert_int_eq(r.g[0].last_fds, 100 + 10 * TICKS);
	ck_assert(r.g[0].has_fd_limit && r.g[0].fd_limit == 8192);
	ck_assert(r.g[0].first_time == T0 + 10 && r.g[0].last_time == T0 + 2 * TICKS);
	ck_assert_int_eq(r.g[1].pid, 200);
	ck_assert_int_eq(r.g[1].first_fds, 13);
	ck_assert_int_eq(r.g[1].last_fds, 55);
	/* Its last refresh is the last it was in, not the recording's. */
	ck_assert(r.g[1].first_time == T0 + 2 && r.g[1].last_time == T0 + 30);

	/* Up to tick 6: the grower had grown more than the fast one (+15 and +10). */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(recquery_fd_growth(db, ver, 6, take_growth, &r, &cause), 0);
	ck_assert_int_eq(r.n, 2);
	ck_assert_int_eq(r.g[0].pid, 200);
	ck_assert_int_eq(r.g[0].last_fds, 28);
	ck_assert_int_eq(r.g[1].pid, 300);

	/* fn stops the rows. */
	memset(&r, 0, sizeof(r));
	r.stop_after = 1;
	ck_assert_int_eq(recquery_fd_growth(db, ver, TICKS, take_growth, &r, &cause), 0);
	ck_assert_int_eq(r.n, 1);
	free(cause);
}

START_TEST(test_fd_growth_file)
{
	struct record_info info;

	write_session(path, NULL);
	struct sqlite3 *db = open_rec(path, &info);
	ck_assert_int_eq(info.major, 3);
	check_growth(db, SCHEMA_V(info.major, info.minor));
	recread_close(db);
}
END_TEST

/* The same session in memory (a damaged file's report is made from one): the same
 * answers. */
START_TEST(test_fd_growth_memory)
{
	struct record *r = NULL;

	write_session(NULL, &r);
	check_growth(record_db(r), SCHEMA_V_NOW);
	record_close(r);
}
END_TEST

/* Format 2 (its (proc, tick) key, gone_tick in the row): the processes that grew, as
 * counted here from proc_change directly, largest first. */
static void check_fixture_growth(const char *name)
{
	char p[256];
	struct record_info info;
	struct recquery_span sp;
	struct growth_rows r = {0};
	char *cause = NULL;
	sqlite3_stmt *q;
	int want = 0;

	snprintf(p, sizeof(p), "%s/%s", TESTDATADIR, name);
	struct sqlite3 *db = open_rec(p, &info);
	ck_assert_int_eq(info.major, 2);
	ck_assert_int_eq(recquery_begin(db, &sp, &cause), 0);
	ck_assert_int_gt(sp.refreshes, 0);
	ck_assert_int_eq(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM proc p WHERE (SELECT fds FROM proc_change WHERE proc = p.id"
					    " AND tick <= ?1 ORDER BY tick DESC LIMIT 1) > (SELECT fds FROM proc_change"
					    " WHERE proc = p.id ORDER BY tick LIMIT 1)",
					    -1, &q, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(q, 1, sp.last_tick);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	want = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	ck_assert_int_eq(recquery_fd_growth(db, SCHEMA_V(info.major, info.minor), sp.last_tick, take_growth, &r, &cause),
			 0);
	ck_assert_int_eq(r.n, want);
	for (int i = 0; i < r.n && i < 8; i++) {
		ck_assert_int_gt(r.g[i].last_fds, r.g[i].first_fds);
		ck_assert(r.g[i].last_time >= r.g[i].first_time && r.g[i].first_time >= sp.first_time);
		if (i)
			ck_assert_int_ge(r.g[i - 1].last_fds - r.g[i - 1].first_fds, r.g[i].last_fds - r.g[i].first_fds);
	}
	recquery_end(db);
	recread_close(db);
}

START_TEST(test_fd_growth_format2)
{
	check_fixture_growth("rec-2.2.db");
	check_fixture_growth("poolwait.db");
}
END_TEST

/* --- events ----------------------------------------------------------------------- */

struct event_rows {
	int n;
	struct recquery_event e[8];
	char what[8][64];
	char dump[8][8192];
	bool has_dump[8];
};

static int take_event(void *ctx, const struct recquery_event *e)
{
	struct event_rows *r = ctx;

	if (r->n < 8) {
		r->e[r->n] = *e;
		snprintf(r->what[r->n], sizeof(r->what[0]), "%s", e->what ? e->what : "(null)");
		if ((r->has_dump[r->n] = e->dump != NULL)) {
			ck_assert_uint_lt(e->dump_len, sizeof(r->dump[0]));
			memcpy(r->dump[r->n], e->dump, e->dump_len);
		}
		r->e[r->n].kind = r->e[r->n].what = r->e[r->n].result = r->e[r->n].dump = NULL;
	}
	r->n++;
	return 0;
}

START_TEST(test_events)
{
	struct record_info info;
	struct event_rows r = {0};
	char *cause = NULL;

	write_session(path, NULL);
	struct sqlite3 *db = open_rec(path, &info);
	ck_assert_int_eq(recquery_events(db, RECQUERY_DUMPS, take_event, &r, &cause), 0);
	ck_assert_int_eq(r.n, 3);
	/* In time order, each with its process. */
	ck_assert_str_eq(r.what[0], "warning fd_eta: pid 200 (grower) runs out of fds");
	ck_assert(r.e[0].time == T0 + 8 && r.e[0].has_pid && r.e[0].pid == 200 && r.e[0].start_time == 2000);
	ck_assert(!r.has_dump[0]);
	/* The action's thread dump, every byte of it (a NUL inside too). */
	ck_assert_str_eq(r.what[1], "SIGQUIT");
	ck_assert(r.has_dump[1]);
	ck_assert_uint_eq(r.e[1].dump_len, sizeof(dump_text) - 1);
	ck_assert(!memcmp(r.dump[1], dump_text, sizeof(dump_text) - 1));
	/* About no process. */
	ck_assert_str_eq(r.what[2], "note");
	ck_assert(!r.e[2].pid);
	/* Without RECQUERY_DUMPS, no dump. */
	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(recquery_events(db, 0, take_event, &r, &cause), 0);
	ck_assert_int_eq(r.n, 3);
	ck_assert(!r.has_dump[1]);
	recread_close(db);
}
END_TEST

/* A format 2.2 file's dumps are read too (its event_dump table by event id). */
START_TEST(test_events_format2)
{
	char p[256];
	struct record_info info;
	struct event_rows r = {0};
	char *cause = NULL;
	int dumps = 0;

	snprintf(p, sizeof(p), "%s/poolwait.db", TESTDATADIR);
	struct sqlite3 *db = open_rec(p, &info);
	ck_assert_int_eq(recquery_events(db, RECQUERY_DUMPS, take_event, &r, &cause), 0);
	ck_assert_int_eq(r.n, 5);
	for (int i = 0; i < r.n; i++) {
		dumps += r.has_dump[i];
		if (i)
			ck_assert(r.e[i - 1].time <= r.e[i].time);
	}
	ck_assert_int_eq(dumps, 1);
	recread_close(db);
}
END_TEST

/* --- series ----------------------------------------------------------------------- */

START_TEST(test_series)
{
	struct record_info info;
	int64_t ticks[TICKS];
	double v[TICKS];
	size_t n = 0;
	char *cause = NULL;

	write_session(path, NULL);
	for (int64_t t = 1; t <= TICKS; t++)
		if (t != 7)
			ticks[n++] = t;
	struct sqlite3 *db = open_rec(path, &info);
	/* The grower: a value per refresh it was in (14 of them: tick 7 is missing),
	 * NAN after it went. */
	ck_assert_int_eq(recquery_proc_series(db, 200, 2000, PROCCH_FDS, ticks, n, v, &cause), 14);
	ck_assert(v[0] == 13 && v[5] == 10 + 3 * 6 && v[6] == 10 + 3 * 8 && v[13] == 55);
	ck_assert(isnan(v[14]) && isnan(v[n - 1]));
	/* The fast one: NAN before it came. */
	ck_assert_int_eq(recquery_proc_series(db, 300, 3000, PROCCH_RSS_KB, ticks, n, v, &cause), (int)n - 4);
	ck_assert(isnan(v[3]) && v[4] == 300000);
	/* The same pid with another start time is another process: none. */
	ck_assert_int_eq(recquery_proc_series(db, 300, 3001, PROCCH_FDS, ticks, n, v, &cause), 0);
	ck_assert(isnan(v[10]));
	/* The port's CLOSE_WAIT pile, one more a refresh until its holder went. */
	ck_assert_int_eq(recquery_port_series(db, NETNS, 9000, SIDE_REMOTE, 6, schema_state_col(ST_CLOSE_WAIT), ticks,
					      n, v, &cause),
			 14);
	ck_assert(v[0] == 1 && v[13] == 15 && isnan(v[14]));
	/* A column that is not a change's. */
	ck_assert_int_eq(recquery_proc_series(db, 200, 2000, PROCCH_TICK, ticks, n, v, &cause), -EINVAL);
	recread_close(db);
	free(cause);
}
END_TEST

/* --- damage and stopping ---------------------------------------------------------- */

/* The event table's first page zeroed (SQLite's dbstat says where). */
static void damage_events(void)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	char cmd[512];

	ck_assert_int_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "SELECT min(pageno) FROM dbstat WHERE name = 'event'", -1, &q, NULL),
			 SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	int page = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	sqlite3_close(db);
	ck_assert_int_gt(page, 1);
	snprintf(cmd, sizeof(cmd), "dd if=/dev/zero of='%s' bs=%d seek=%d count=1 conv=notrunc status=none", path,
		 RECORD_PAGE_SIZE, page - 1);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_events_damaged)
{
	struct record_info info;
	struct event_rows r = {0};
	char *cause = NULL;

	write_session(path, NULL);
	damage_events();
	struct sqlite3 *db = open_rec(path, &info);
	/* Said, in SQLite's words... */
	ck_assert_int_eq(recquery_events(db, 0, take_event, &r, &cause), -EILSEQ);
	ck_assert_msg(cause && strstr(cause, "malformed"), "%s", cause ? cause : "(none)");
	/* ... or, for the story, the events before the damage (none here), no error. */
	ck_assert_int_eq(recquery_events(db, RECQUERY_DUMPS | RECQUERY_UNTIL_DAMAGE, take_event, &r, &cause), 0);
	ck_assert_int_eq(r.n, 0);
	recread_close(db);
	free(cause);
}
END_TEST

static volatile sig_atomic_t stop;

START_TEST(test_stop)
{
	struct record_info info;
	struct growth_rows r = {0};
	struct recquery_span sp;
	char *cause = NULL;

	write_session(path, NULL);
	struct sqlite3 *db = open_rec(path, &info);
	stop_on(&stop);
	stop = 1;
	/* A stop signal ends a query: its words, nothing half-read. */
	ck_assert_int_eq(recquery_fd_growth(db, SCHEMA_V_NOW, TICKS, take_growth, &r, &cause), -EINTR);
	ck_assert_msg(cause && strstr(cause, "interrupt"), "%s", cause ? cause : "(none)");
	ck_assert_int_eq(r.n, 0);
	stop = 0;
	ck_assert_int_eq(recquery_begin(db, &sp, &cause), 0);
	ck_assert_int_eq(recquery_fd_growth(db, SCHEMA_V_NOW, TICKS, take_growth, &r, &cause), 0);
	ck_assert_int_eq(r.n, 2);
	recquery_end(db);
	recread_close(db);
	free(cause);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown, .timeout = 60,
		 .tests = TESTKIT_TESTS(
			test_span_and_tick_time,
			test_fd_growth_file,
			test_fd_growth_memory,
			test_fd_growth_format2,
			test_events,
			test_events_format2,
			test_series,
			test_events_damaged,
			test_stop)},
	};

	return TESTKIT_RUN("recquery", cases);
}
