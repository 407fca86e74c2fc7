/* The views the dashboard and batch share: sorting by any column, filter queries,
 * the backlog grouping, and which columns fit a terminal width. */
#include "config.h"

#include "model/history.h"
#include "model/view.h"
#include "model/snapshot.h"
#include "tests/testkit.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static struct snapshot *s;
static struct view_ctx ctx;

/* A process started at 1000 + pid, running /usr/bin/comm --serve. */
static void add_proc(int32_t pid, const char *comm, const char *user, int64_t fds, uint64_t rss)
{
	char cmdline[PROC_CMDLINE_MAX];
	snprintf(cmdline, sizeof(cmdline), "/usr/bin/%s --serve", comm);
	TESTKIT_PROC(s, .pid = pid, .start_time = 1000 + (uint64_t)pid, .comm = comm, .cmdline = cmdline, .user = user,
		     .fds = fds, .fd_limit = 1024, .rss_kb = rss);
}

/* A socket on 127.0.0.1, owned by procs[proc] (or nobody when proc < 0). */
static void add_sock(uint32_t inode, int proc, int fd, uint8_t state, uint16_t lport, uint16_t rport, uint32_t rq)
{
	TESTKIT_SOCK(s, .cookie = inode, .inode = inode, .state = state, .lport = lport, .rport = rport, .rq = rq,
		     .laddr = "127.0.0.1", .raddr = "127.0.0.1", .held = proc >= 0, .proc = proc, .fd = fd);
}

/* web (pid 10) leaks CLOSE_WAIT on 8080; db (pid 20) has the most fds; cron (pid 30) none. */
static void setup(void)
{
	s = snapshot_new();
	add_proc(10, "web", "www", 40, 5000);
	add_proc(20, "db", "postgres", 90, 90000);
	add_proc(30, "cron", "root", 5, 100);
	add_sock(100, 0, 3, ST_LISTEN, 8080, 0, 0);
	for (uint32_t i = 0; i < 5; i++)
		add_sock(101 + i, 0, 4 + (int)i, ST_CLOSE_WAIT, 8080, (uint16_t)(40000 + i), 10 + i);
	add_sock(200, 1, 3, ST_LISTEN, 5432, 0, 0);
	add_sock(201, 1, 4, ST_ESTABLISHED, 5432, 41000, 7000);
	add_sock(202, 1, 5, ST_ESTABLISHED, 5432, 41001, 0);
	add_sock(300, -1, 0, ST_TIME_WAIT, 9000, 42000, 0);
	ck_assert_int_eq(snapshot_build(s), 0);
	ctx = (struct view_ctx){.s = s};
}

static void teardown(void)
{
	snapshot_free(s);
}

static size_t all_procs(uint32_t *rows)
{
	for (size_t i = 0; i < s->nprocs; i++)
		rows[i] = (uint32_t)i;
	return s->nprocs;
}

static int32_t pid_at(const uint32_t *rows, size_t i)
{
	return s->procs[rows[i]].pid;
}

START_TEST(sort_by_fds_descending_by_default)
{
	uint32_t rows[8];
	size_t n = all_procs(rows);
	view_sort(VT_PROCS, &ctx, rows, n, view_tables[VT_PROCS].default_sort, false);
	ck_assert_int_eq(pid_at(rows, 0), 20);
	ck_assert_int_eq(pid_at(rows, 1), 10);
	ck_assert_int_eq(pid_at(rows, 2), 30);
	view_sort(VT_PROCS, &ctx, rows, n, PC_FDS, true);
	ck_assert_int_eq(pid_at(rows, 0), 30);
}
END_TEST

START_TEST(sort_by_other_columns)
{
	uint32_t rows[8];
	size_t n = all_procs(rows);
	view_sort(VT_PROCS, &ctx, rows, n, PC_CLOSE_WAIT, false);
	ck_assert_int_eq(pid_at(rows, 0), 10); /* the leaker first */
	view_sort(VT_PROCS, &ctx, rows, n, PC_COMMAND, false);
	ck_assert_int_eq(pid_at(rows, 0), 30); /* names ascending: cron db web */
	ck_assert_int_eq(pid_at(rows, 2), 10);
	view_sort(VT_PROCS, &ctx, rows, n, PC_RECVQ, false);
	ck_assert_int_eq(pid_at(rows, 0), 20); /* 7000 bytes beat 60 */
	view_sort(VT_PROCS, &ctx, rows, n, PC_PID, false);
	ck_assert_int_eq(pid_at(rows, 0), 10);
}
END_TEST

/* RSS and its growth sort like the fd columns: the biggest, the fastest growing first. */
START_TEST(sort_by_rss_and_rss_growth)
{
	uint32_t rows[8];
	size_t n = all_procs(rows);
	view_sort(VT_PROCS, &ctx, rows, n, PC_RSS, false);
	ck_assert_int_eq(pid_at(rows, 0), 20);
	ck_assert_int_eq(pid_at(rows, 2), 30);

	/* web grows 1 MB a refresh, db stays where it is. */
	struct history *h = history_new(NULL);
	ck_assert_ptr_nonnull(h);
	for (int r = 0; r < 6; r++) {
		s->time = 1.7e9 + 2.0 * r;
		s->procs[0].rss_kb = 5000 + 1024 * (uint64_t)r;
		ck_assert_int_eq(history_update(h, s), 0);
	}
	ctx.h = h;
	view_sort(VT_PROCS, &ctx, rows, n, PC_RSSMIN, false);
	ck_assert_int_eq(pid_at(rows, 0), 10);
	view_sort(VT_PROCS, &ctx, rows, n, PC_RSS_TREND, false);
	ck_assert_int_eq(pid_at(rows, 0), 10);
	char buf[64];
	view_tables[VT_PROCS].cols[PC_RSSMIN].fmt(&ctx, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "+30.0"); /* 1 MB per 2 s */
	view_tables[VT_PROCS].cols[PC_RSSMIN].fmt(&ctx, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "+0.0");
	ctx.ascii = true;
	view_tables[VT_PROCS].cols[PC_RSS_TREND].fmt(&ctx, 0, buf, sizeof(buf));
	ck_assert_int_eq(buf[strlen(buf) - 1], '#'); /* rising to the top */
	ctx.h = NULL;
	view_tables[VT_PROCS].cols[PC_RSSMIN].fmt(&ctx, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
	history_free(h);
}
END_TEST

/* The dashboard's default order puts the culprits first: cron, with the fewest fds,
 * whose RSS grows 1 MB every refresh for 400 s, comes before db, which has the most
 * fds and nothing to judge (a process growing 2 MB/s stayed off the first screen below
 * rows with more fds); leak, then suspect, then the rest, each by the column. Without
 * the culprits, or without a history, the column's order alone. */
START_TEST(culprits_come_first_by_default)
{
	uint32_t rows[8];
	size_t n = all_procs(rows);
	struct history *h = history_new(NULL);
	ck_assert_ptr_nonnull(h);
	for (int r = 0; r < 200; r++) {
		s->time = 1.7e9 + 2.0 * r;
		s->procs[2].rss_kb = 100 * 1024 + 1024 * (uint64_t)r;
		ck_assert_int_eq(history_update(h, s), 0);
	}
	ctx.h = h;
	ck_assert_int_eq(view_culprit_rank(VT_PROCS, &ctx, 2), 2); /* cron: memory */
	ck_assert_int_eq(view_culprit_rank(VT_PROCS, &ctx, 1), 0); /* db */
	for (int inv = 0; inv < 2; inv++) {
		view_sort_culprits(VT_PROCS, &ctx, rows, n, PC_FDS, inv, true);
		size_t cron = 0, db = 0;
		for (size_t i = 0; i < n; i++) {
			cron = pid_at(rows, i) == 30 ? i : cron;
			db = pid_at(rows, i) == 20 ? i : db;
		}
		ck_assert_uint_lt(cron, db);
		for (size_t i = 0; i + 1 < n; i++) {
			int r0 = view_culprit_rank(VT_PROCS, &ctx, rows[i]), r1 = view_culprit_rank(VT_PROCS, &ctx, rows[i + 1]);
			int64_t f0 = s->procs[rows[i]].fds, f1 = s->procs[rows[i + 1]].fds;
			ck_assert(r0 > r1 || (r0 == r1 && (inv ? f0 <= f1 : f0 >= f1)));
		}
	}
	/* The user's sort (no culprits first) is the column's alone. */
	view_sort_culprits(VT_PROCS, &ctx, rows, n, PC_FDS, false, false);
	ck_assert_int_eq(pid_at(rows, 0), 20);
	ck_assert_int_eq(pid_at(rows, 2), 30);
	view_sort(VT_PROCS, &ctx, rows, n, PC_FDS, false);
	ck_assert_int_eq(pid_at(rows, 2), 30);
	ctx.h = NULL;
	view_sort_culprits(VT_PROCS, &ctx, rows, n, PC_FDS, false, true);
	ck_assert_int_eq(pid_at(rows, 0), 20);
	history_free(h);
}
END_TEST

START_TEST(sort_ports_by_close_wait)
{
	uint32_t rows[8];
	for (size_t i = 0; i < s->nports; i++)
		rows[i] = (uint32_t)i;
	view_sort(VT_PORTS, &ctx, rows, s->nports, OC_CLOSE_WAIT, false);
	ck_assert_uint_eq(s->ports[rows[0]].port, 8080);
	ck_assert_uint_eq(s->ports[rows[0]].states[ST_CLOSE_WAIT], 5);
}
END_TEST

static struct view_query q(const char *text)
{
	struct view_query r;
	char *cause = NULL;
	ck_assert_msg(view_query_parse(&r, text, &cause) == 0, "%s: %s", text, cause);
	return r;
}

static int count_procs(const char *text)
{
	struct view_query vq = q(text);
	int n = 0;
	for (size_t i = 0; i < s->nprocs; i++)
		n += view_query_proc(&vq, s, &s->procs[i]);
	return n;
}

START_TEST(filter_processes)
{
	ck_assert_int_eq(count_procs(""), 3);
	ck_assert_int_eq(count_procs("state:close_wait"), 1);
	ck_assert_int_eq(count_procs("state:CLOSE-WAIT"), 1);
	ck_assert_int_eq(count_procs("state:estab"), 1);
	ck_assert_int_eq(count_procs("user:postgres"), 1);
	ck_assert_int_eq(count_procs("cmd:WEB"), 1);
	ck_assert_int_eq(count_procs("port:5432"), 1);
	ck_assert_int_eq(count_procs("pid:30"), 1);
	ck_assert_int_eq(count_procs("serve"), 3);       /* bare text matches the command line */
	ck_assert_int_eq(count_procs("serve user:www"), 1); /* terms combine */
	ck_assert_int_eq(count_procs("state:listen port:8080"), 1);
	ck_assert_int_eq(count_procs("nosuchthing"), 0);
}
END_TEST

START_TEST(filter_ports_and_sockets)
{
	struct view_query vq = q("state:close_wait");
	int ports = 0, socks = 0;
	for (size_t i = 0; i < s->nports; i++)
		ports += view_query_port(&vq, s, &s->ports[i]);
	for (size_t i = 0; i < s->nsocks; i++)
		socks += view_query_sock(&vq, s, &s->socks[i]);
	ck_assert_int_eq(ports, 1);
	ck_assert_int_eq(socks, 5);
	vq = q("cmd:db");
	socks = 0;
	for (size_t i = 0; i < s->nsocks; i++)
		socks += view_query_sock(&vq, s, &s->socks[i]);
	ck_assert_int_eq(socks, 3);
}
END_TEST

START_TEST(bad_queries_say_why)
{
	static const char *const bad[] = {"state:nonsense", "port:99999", "port:abc", "pid:", "user:"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct view_query vq = {0};
		char *cause = NULL;
		ck_assert_int_lt(view_query_parse(&vq, bad[i], &cause), 0);
		ck_assert_ptr_nonnull(cause);
		free(cause);
	}
}
END_TEST

START_TEST(backlog_groups_by_process_and_port)
{
	struct view_backlog bl = {0};
	ck_assert_int_eq(view_backlog_build(&bl, s, NULL, NULL), 0);
	ck_assert_uint_eq(bl.ngroups, 2);
	ctx.bl = &bl;
	uint32_t rows[2] = {0, 1};
	view_sort(VT_BACKLOG, &ctx, rows, 2, BC_RECVQ, false);
	const struct view_bl_group *g = &bl.groups[rows[0]];
	ck_assert_int_eq(s->procs[g->proc].pid, 20);
	ck_assert_uint_eq(g->recv_q, 7000);
	g = &bl.groups[rows[1]];
	ck_assert_int_eq(s->procs[g->proc].pid, 10);
	ck_assert_uint_eq(g->port, 8080);
	ck_assert_uint_eq(g->count, 5);
	ck_assert_uint_eq(g->recv_q, 10 + 11 + 12 + 13 + 14);
	ck_assert_uint_eq(g->max_q, 14);
	/* Its sockets, largest Recv-Q first, once ordered (as the pane shows them). */
	view_backlog_order(&bl, s, rows[1], g->count);
	ck_assert_uint_eq(g->ordered, 5);
	ck_assert_uint_eq(s->socks[bl.socks[g->first]].rqueue, 14);
	ck_assert_uint_eq(s->socks[bl.socks[g->first + g->count - 1]].rqueue, 10);
	struct view_query vq = q("port:5432");
	ck_assert_int_eq(view_backlog_build(&bl, s, NULL, &vq), 0);
	ck_assert_uint_eq(bl.ngroups, 1);
	struct view_filter f = {.npids = 1, .pids = {10}}; /* --pid 10 */
	ck_assert_int_eq(view_backlog_build(&bl, s, &f, NULL), 0);
	ck_assert_uint_eq(bl.ngroups, 1);
	ck_assert_uint_eq(bl.groups[0].port, 8080);
	view_backlog_free(&bl);
}
END_TEST

/* A pane shows 20 rows of a group of 5,000 sockets: those 20 are ordered (the
 * largest Recv-Q first, ties by inode), the rest not yet, and ordering further, as the
 * user scrolls, gives the order a full sort gives. */
START_TEST(backlog_orders_only_what_is_shown)
{
	struct view_backlog bl = {0};
	uint32_t rq[5000];

	for (uint32_t i = 0; i < 5000; i++) {
		rq[i] = 1 + (i * 7919u) % 1000; /* every value five times: ties by inode */
		add_sock(1000 + i, 0, 20 + (int)i, ST_CLOSE_WAIT, 8080, (uint16_t)(20000 + i), rq[i]);
	}
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_int_eq(view_backlog_build(&bl, s, NULL, NULL), 0);
	size_t web = bl.groups[0].count > bl.groups[1].count ? 0 : 1;
	const struct view_bl_group *g = &bl.groups[web];
	ck_assert_uint_eq(g->count, 5005);
	ck_assert_uint_eq(g->recv_q, 10 + 11 + 12 + 13 + 14 + 5 * (1000 * 1001 / 2));
	ck_assert_uint_eq(g->max_q, 1000);
	view_backlog_order(&bl, s, web, 20);
	ck_assert_uint_eq(g->ordered, 20);
	for (uint32_t i = 0; i < 20; i++) {
		const struct sock_rec *k = &s->socks[bl.socks[g->first + i]];
		ck_assert_uint_eq(k->rqueue, 1000 - i / 5);
		if (i % 5)
			ck_assert_uint_gt(k->inode, s->socks[bl.socks[g->first + i - 1]].inode);
	}
	ck_assert_uint_eq(view_backlog_rank(&bl, s, web, bl.socks[g->first + 7]), 7);
	view_backlog_order(&bl, s, web, 2000);
	view_backlog_order(&bl, s, web, g->count);
	ck_assert_uint_eq(g->ordered, 5005);
	for (uint32_t i = 1; i < g->count; i++) {
		const struct sock_rec *x = &s->socks[bl.socks[g->first + i - 1]], *y = &s->socks[bl.socks[g->first + i]];
		ck_assert(x->rqueue > y->rqueue || (x->rqueue == y->rqueue && x->inode < y->inode));
	}
	/* A new refresh: built again, nothing ordered. */
	ck_assert_int_eq(view_backlog_build(&bl, s, NULL, NULL), 0);
	ck_assert_uint_eq(bl.groups[web].ordered, 0);
	view_backlog_free(&bl);
}
END_TEST

/* A client (pid 40) whose pool of 20 connections to 127.0.0.1:24611 the server
 * closed: 20 CLOSE_WAIT sockets from ephemeral ports, each with 5 unread bytes. */
static void add_outbound_pool(void)
{
	add_proc(40, "client", "app", 30, 1000);
	for (uint32_t i = 0; i < 20; i++)
		add_sock(400 + i, 3, 10 + (int)i, ST_CLOSE_WAIT, (uint16_t)(45000 + i), 24611, 5);
	ck_assert_int_eq(snapshot_build(s), 0);
}

static void cell(enum view_table t, int col, uint32_t row, char *buf, size_t n)
{
	view_tables[t].cols[col].fmt(&ctx, row, buf, n);
}

START_TEST(outbound_pool_is_one_port_row_without_r)
{
	uint32_t rows[64];
	char buf[64];

	snapshot_clear(s);
	add_proc(10, "web", "www", 40, 5000);
	add_sock(100, 0, 3, ST_LISTEN, 8080, 0, 0);
	add_sock(101, 0, 4, ST_CLOSE_WAIT, 8080, 40000, 0);
	add_proc(20, "db", "postgres", 90, 90000);
	add_proc(30, "cron", "root", 5, 100);
	add_outbound_pool();
	ctx.s = s;

	/* The default: local ports, and the client's remote port mixed in, once. */
	size_t n = view_ports(s, NULL, NULL, VIEW_PORTS_BOTH, rows);
	int pool = -1, web = -1;
	for (size_t i = 0; i < n; i++) {
		const struct port_agg *p = &s->ports[rows[i]];
		ck_assert_msg(p->port < 45000 || p->port > 45019, "an ephemeral port %u has a row of its own", p->port);
		if (p->port == 24611) {
			ck_assert_int_eq(pool, -1);
			pool = (int)rows[i];
		}
		if (p->port == 8080)
			web = (int)rows[i];
	}
	ck_assert_int_ge(pool, 0);
	ck_assert_int_ge(web, 0);
	ck_assert_uint_eq(s->ports[pool].side, SIDE_REMOTE);
	ck_assert_uint_eq(s->ports[pool].count, 20);
	ck_assert_uint_eq(s->ports[pool].states[ST_CLOSE_WAIT], 20);
	ck_assert_uint_eq(s->ports[pool].recv_q, 100);
	cell(VT_PORTS, OC_PORT, (uint32_t)pool, buf, sizeof(buf));
	ck_assert_str_eq(buf, "->24611");
	cell(VT_PORTS, OC_PORT, (uint32_t)web, buf, sizeof(buf));
	ck_assert_str_eq(buf, "8080");
	/* Sorted by the same keys: by sockets, the pool comes first. */
	view_sort(VT_PORTS, &ctx, rows, n, OC_SOCKETS, false);
	ck_assert_uint_eq(rows[0], (uint32_t)pool);

	/* r: remote only (the pool, not 8080), then local only (8080, not the pool). */
	n = view_ports(s, NULL, NULL, VIEW_PORTS_REMOTE, rows);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(rows[0], (uint32_t)pool);
	n = view_ports(s, NULL, NULL, VIEW_PORTS_LOCAL, rows);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_ne(rows[i], (uint32_t)pool);
	ck_assert_uint_ge(n, 1);
	/* --port 24611 and the F4 filter find it. */
	struct view_filter f = {.nports = 1, .ports = {24611}};
	ck_assert_uint_eq(view_ports(s, &f, NULL, VIEW_PORTS_BOTH, rows), 1);
}
END_TEST

START_TEST(backlog_groups_outbound_by_remote_endpoint)
{
	struct view_backlog bl = {0};
	char buf[64];

	add_outbound_pool();
	ctx.s = s;
	ctx.bl = &bl;
	ck_assert_int_eq(view_backlog_build(&bl, s, NULL, NULL), 0);
	/* web's 8080 (inbound, by local port), db's 5432, and the client's pool: one. */
	ck_assert_uint_eq(bl.ngroups, 3);
	int pool = -1;
	for (size_t i = 0; i < bl.ngroups; i++)
		if (bl.groups[i].proc >= 0 && s->procs[bl.groups[i].proc].pid == 40)
			pool = (int)i;
	ck_assert_int_ge(pool, 0);
	const struct view_bl_group *g = &bl.groups[pool];
	ck_assert_uint_eq(g->side, SIDE_REMOTE);
	ck_assert_uint_eq(g->port, 24611);
	ck_assert_uint_eq(g->count, 20);
	ck_assert_uint_eq(g->recv_q, 100);
	cell(VT_BACKLOG, BC_PORT, (uint32_t)pool, buf, sizeof(buf));
	ck_assert_str_eq(buf, "->24611");
	cell(VT_BACKLOG, BC_REMOTE, (uint32_t)pool, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.0.0.1:24611");
	/* The inbound ones stay grouped by local port, with no one remote endpoint. */
	for (size_t i = 0; i < bl.ngroups; i++) {
		if ((int)i == pool)
			continue;
		ck_assert_uint_eq(bl.groups[i].side, SIDE_LOCAL);
		ck_assert(bl.groups[i].port == 8080 || bl.groups[i].port == 5432);
		cell(VT_BACKLOG, BC_REMOTE, (uint32_t)i, buf, sizeof(buf));
		ck_assert_str_eq(buf, "-");
	}
	view_backlog_free(&bl);
}
END_TEST

START_TEST(ports_show_recvq_at_80_columns)
{
	bool shown[VIEW_MAX_COLS];
	int widths[VIEW_MAX_COLS];
	view_layout(VT_PORTS, 80, shown, widths);
	ck_assert(shown[OC_RECVQ]);
	ck_assert(shown[OC_PORT] && widths[OC_PORT] >= (int)strlen("->24611"));
	ck_assert(shown[OC_CLOSE_WAIT] && shown[OC_SOCKETS]);
	view_layout(VT_BACKLOG, 80, shown, widths);
	ck_assert(shown[BC_REMOTE] && shown[BC_RECVQ]);
}
END_TEST

static int width_of(enum view_table t, const bool *shown, const int *widths)
{
	int w = -1;
	for (size_t i = 0; i < view_tables[t].ncols; i++)
		if (shown[i])
			w += widths[i] + 1;
	return w;
}

/* The columns a pane can show: the text report's own never are. */
static size_t pane_cols(enum view_table t)
{
	size_t n = 0;
	for (size_t i = 0; i < view_tables[t].ncols; i++)
		n += !view_tables[t].cols[i].text_only;
	return n;
}

START_TEST(layout_80_columns_keeps_the_leak_columns)
{
	bool shown[VIEW_MAX_COLS];
	int widths[VIEW_MAX_COLS];
	ck_assert_uint_lt(view_layout(VT_PROCS, 80, shown, widths), PC_COUNT);
	ck_assert_int_eq(width_of(VT_PROCS, shown, widths), 80);
	/* What finds a leak stays: growth, time to EMFILE, trend and verdict. */
	ck_assert(shown[PC_PID] && shown[PC_USER] && shown[PC_FDS] && shown[PC_FDPCT] && shown[PC_FDMIN] &&
		  shown[PC_ETA] && shown[PC_TREND] && shown[PC_CLOSE_WAIT] && shown[PC_VERDICT]);
	ck_assert(!shown[PC_RSS] && !shown[PC_LIMIT] && !shown[PC_RSSMIN] && !shown[PC_RSS_TREND]);
	/* Room for a 13-character escaped name such as \x1b[31mevil. */
	ck_assert_int_ge(widths[PC_COMMAND], 13);
	/* Wide enough, every column; a little less, and the RSS growth goes first. */
	ck_assert_uint_eq(view_layout(VT_PROCS, 130, shown, widths), pane_cols(VT_PROCS));
	ck_assert_uint_eq(view_layout(VT_PROCS, 120, shown, widths), pane_cols(VT_PROCS) - 1);
	ck_assert(!shown[PC_RSSMIN] && shown[PC_RSS_TREND] && shown[PC_RSS]);
	/* However wide the terminal, the text report's own columns stay out of the panes. */
	for (enum view_table t = 0; t < VT_COUNT; t++) {
		ck_assert_uint_eq(view_layout(t, 400, shown, widths), pane_cols(t));
		for (size_t i = 0; i < view_tables[t].ncols; i++)
			ck_assert(!shown[i] || !view_tables[t].cols[i].text_only);
	}
	ck_assert_uint_eq(pane_cols(VT_PROCS), PC_TEXT_CLOSED);
	/* The ports pane keeps its owner, the CLOSE_WAIT growth and age, the unread bytes
	 * and the verdict, and room in its STATES column for the state most sockets are
	 * in ("CLOSE_WAIT 100%") before the bar; ESTAB and the accept queue give way. */
	view_layout(VT_PORTS, 80, shown, widths);
	ck_assert(shown[OC_PID] && shown[OC_CLOSE_WAIT] && shown[OC_CWMIN] && shown[OC_CWAGE] && shown[OC_RECVQ] &&
		  shown[OC_VERDICT] && shown[OC_BAR]);
	ck_assert_int_ge(widths[OC_BAR], (int)strlen("CLOSE_WAIT 100% ") + 2);
	ck_assert(!shown[OC_ESTAB] && !shown[OC_ACCEPT] && !shown[OC_TIME_WAIT]);
	ck_assert_int_eq(width_of(VT_PORTS, shown, widths), 80);
	view_layout(VT_SOCKS, 80, shown, widths);
	ck_assert(shown[SC_STATE] && shown[SC_RECVQ] && shown[SC_AGE]);
}
END_TEST

START_TEST(layout_narrow_drops_columns_keeps_the_essentials)
{
	bool shown[VIEW_MAX_COLS];
	int widths[VIEW_MAX_COLS];
	for (int w = 20; w <= 120; w++) {
		size_t n = view_layout(VT_PROCS, w, shown, widths);
		ck_assert(shown[PC_PID] && shown[PC_COMMAND] && shown[PC_FDS] && shown[PC_CLOSE_WAIT]);
		ck_assert_uint_ge(n, 4);
		if (w >= 40)
			ck_assert_int_le(width_of(VT_PROCS, shown, widths), w);
	}
	size_t n60 = view_layout(VT_PROCS, 60, shown, widths);
	ck_assert_uint_lt(n60, pane_cols(VT_PROCS));
	ck_assert(!shown[PC_RSS] && !shown[PC_TREND]); /* the least useful goes first */
	ck_assert(shown[PC_USER] && shown[PC_VERDICT] && shown[PC_FDMIN]);
	ck_assert_int_le(width_of(VT_PROCS, shown, widths), 60);
	for (enum view_table t = 0; t < VT_COUNT; t++) {
		view_layout(t, 80, shown, widths);
		ck_assert_int_le(width_of(t, shown, widths), 80);
	}
}
END_TEST

START_TEST(sparkline_scales_the_last_values)
{
	char buf[64];
	const double up[] = {1, 2, 3, 4, 5, 6, 7, 8};
	ck_assert_uint_eq(view_sparkline(buf, sizeof(buf), up, 8, 8, true), 8);
	ck_assert_str_eq(buf, " .:-=+*#");
	ck_assert_uint_eq(view_sparkline(buf, sizeof(buf), up, 8, 8, false), 8);
	ck_assert_str_eq(buf, "\u2581\u2582\u2583\u2584\u2585\u2586\u2587\u2588");
	/* Only the last width values, scaled among themselves. */
	ck_assert_uint_eq(view_sparkline(buf, sizeof(buf), up, 8, 2, true), 2);
	ck_assert_str_eq(buf, " #");
	/* Flat is the lowest level; a fall shows; unknown samples are skipped. */
	const double flat[] = {5, 5, 5}, fall[] = {10, NAN, 0};
	view_sparkline(buf, sizeof(buf), flat, 3, 8, true);
	ck_assert_str_eq(buf, "   ");
	ck_assert_uint_eq(view_sparkline(buf, sizeof(buf), fall, 3, 8, true), 2);
	ck_assert_str_eq(buf, "# ");
	ck_assert_uint_eq(view_sparkline(buf, sizeof(buf), fall, 0, 8, true), 0);
	ck_assert_str_eq(buf, "");
	/* A small buffer cuts at a whole character. */
	ck_assert_uint_eq(view_sparkline(buf, 8, up, 8, 8, false), 2);
	ck_assert_str_eq(buf, "\u2581\u2582");
}
END_TEST

START_TEST(clock_times_for_the_goto_prompt)
{
	int secs = -1;
	ck_assert_int_eq(view_parse_clock("14:05:09", &secs), 0);
	ck_assert_int_eq(secs, 14 * 3600 + 5 * 60 + 9);
	ck_assert_int_eq(view_parse_clock("9:30", &secs), 0);
	ck_assert_int_eq(secs, 9 * 3600 + 30 * 60);
	const char *bad[] = {"", "14", "24:00:00", "12:60", "12:00:61", "12:00:5", "12:00:05x", "ab:cd", "-1:00"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(view_parse_clock(bad[i], &secs) == -EINVAL, "'%s' parsed", bad[i]);

	/* On the recording's day; across midnight, the day that lies in the recording. */
	setenv("TZ", "UTC", 1);
	tzset();
	double day = 1700000000 - 1700000000 % 86400; /* a midnight, UTC */
	double ref = day + 23 * 3600 + 50 * 60;       /* 23:50 */
	ck_assert_double_eq(view_clock_time(ref, 23 * 3600 + 55 * 60, ref - 600, ref + 1200), day + 23 * 3600 + 55 * 60);
	ck_assert_double_eq(view_clock_time(ref, 5 * 60, ref - 600, ref + 1200), day + 86400 + 5 * 60);
	/* Outside the recording either way: the same day. */
	ck_assert_double_eq(view_clock_time(ref, 12 * 3600, ref - 600, ref + 1200), day + 12 * 3600);
	/* A damaged recording's time has no day: the seek stays where it is. */
	ck_assert_double_eq(view_clock_time(1e18, 12 * 3600, 0, 1e18), 1e18);
	ck_assert_double_eq(view_clock_time(-1e300, 12 * 3600, -1e300, 0), -1e300);
	ck_assert_double_eq(view_clock_time(INFINITY, 12 * 3600, 0, INFINITY), INFINITY);
}
END_TEST

START_TEST(counts_shrink_to_their_width)
{
	char buf[32];
	ck_assert_str_eq(view_fmt_count(buf, sizeof(buf), 123456, 6), "123456");
	ck_assert_str_eq(view_fmt_count(buf, sizeof(buf), 1234567, 6), "1205K");
	ck_assert_str_eq(view_fmt_count(buf, sizeof(buf), 5ull << 30, 4), "5G");
}
END_TEST

START_TEST(formatted_cells)
{
	char buf[128];
	view_tables[VT_PROCS].cols[PC_FDPCT].fmt(&ctx, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "8"); /* 90 of 1024 */
	view_tables[VT_PROCS].cols[PC_COMMAND].fmt(&ctx, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "web");
	uint32_t port = 0;
	while (s->ports[port].port != 5432)
		port++;
	view_tables[VT_PORTS].cols[OC_ACCEPT].fmt(&ctx, port, buf, sizeof(buf));
	ck_assert_str_eq(buf, "0/0");
	/* The state most of a port's sockets are in, cut, never rounded up. */
	ck_assert_str_eq(view_fmt_mostly(buf, sizeof(buf), s->ports[port].states), "ESTAB 66%");
	uint32_t states[ST_COUNT] = {[ST_CLOSE_WAIT] = 999, [ST_LISTEN] = 1};
	ck_assert_str_eq(view_fmt_mostly(buf, sizeof(buf), states), "CLOSE_WAIT 99%");
	uint32_t none[ST_COUNT] = {0};
	ck_assert_str_eq(view_fmt_mostly(buf, sizeof(buf), none), "");
	/* The ports pane's verdict: "-" before there is a history. */
	view_tables[VT_PORTS].cols[OC_VERDICT].fmt(&ctx, port, buf, sizeof(buf));
	ck_assert_str_eq(buf, "-");
	view_tables[VT_SOCKS].cols[SC_LOCAL].fmt(&ctx, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "127.0.0.1:8080");
}
END_TEST

/* A process at its fd limit runs out "now", not in "0ms". */
START_TEST(eta_at_the_limit_is_now)
{
	struct history *h = history_new(NULL);
	ck_assert_ptr_nonnull(h);
	for (int r = 0; r < 6; r++) {
		s->time = 1.7e9 + 2.0 * r;
		s->procs[0].fds = 1000 + 5 * r;
		if (r == 5)
			s->procs[0].fds = 1024; /* the limit */
		ck_assert_int_eq(history_update(h, s), 0);
	}
	ctx.h = h;
	char buf[64];
	view_tables[VT_PROCS].cols[PC_ETA].fmt(&ctx, 0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "now");
	ctx.h = NULL;
	history_free(h);
}
END_TEST

/* The F2 column setup: a pinned column shows at 80 columns (others give way), a
 * hidden one never does, and the text report's columns cannot be named. */
START_TEST(layout_with_the_users_columns)
{
	bool shown[VIEW_MAX_COLS];
	int widths[VIEW_MAX_COLS];
	uint8_t want[VIEW_MAX_COLS] = {0};

	view_layout_want(VT_PROCS, 80, want, NULL, shown, widths);
	ck_assert(!shown[PC_RSS] && !shown[PC_RSSMIN] && !shown[PC_RSS_TREND]);
	want[PC_RSS] = want[PC_RSSMIN] = want[PC_RSS_TREND] = VIEW_PIN;
	want[PC_USER] = VIEW_HIDE;
	view_layout_want(VT_PROCS, 80, want, NULL, shown, widths);
	ck_assert(shown[PC_RSS] && shown[PC_RSSMIN] && shown[PC_RSS_TREND]);
	ck_assert(!shown[PC_USER] && shown[PC_PID] && shown[PC_COMMAND] && shown[PC_FDS]);
	ck_assert_int_le(width_of(VT_PROCS, shown, widths), 80);
	for (size_t i = 0; i < PC_COUNT; i++)
		ck_assert(!shown[i] || !view_tables[VT_PROCS].cols[i].text_only);
	ck_assert_int_eq(view_col_find(VT_PROCS, "rss/min"), PC_RSSMIN);
	ck_assert_int_eq(view_col_find(VT_PROCS, "RSS_TREND"), PC_RSS_TREND);
	ck_assert_int_eq(view_col_find(VT_PROCS, "CLOSED"), -1); /* text_only */
	/* Width -1 (a pane that scrolls): nothing dropped, the data's widths kept. */
	int minw[VIEW_MAX_COLS] = {[SC_LOCAL] = 40};
	ck_assert_uint_eq(view_layout_want(VT_SOCKS, -1, NULL, minw, shown, widths), pane_cols(VT_SOCKS));
	ck_assert_int_eq(widths[SC_LOCAL], 40);
	ck_assert(shown[SC_TYPE] && shown[SC_TIMER] && shown[SC_INODE]);
}
END_TEST

/* A process's drill-down lists its fds: TCP (an IPv4-mapped address shown as IPv4),
 * a UNIX socketpair end (no name: "-", its peer's inode) and CLOSED fds, each with
 * its TYPE. */
START_TEST(socket_rows_of_one_process)
{
	snapshot_free(s);
	s = snapshot_new();
	add_proc(10, "web", "www", 40, 5000);
	struct sock_rec *k = snapshot_add_sock(s);
	k->inode = k->cookie = 500;
	k->family = AF_INET6;
	k->state = ST_ESTABLISHED;
	k->lport = 19;
	k->rport = 40000;
	testkit_sock_addrs(s, k, "::ffff:127.0.0.1", "::ffff:127.0.0.1");
	k = snapshot_add_sock(s);
	k->inode = k->cookie = 501;
	k->family = AF_UNIX;
	k->state = ST_ESTABLISHED;
	k->un.peer = 502;
	for (uint32_t fd = 3; fd < 6; fd++) {
		struct sock_owner *o = snapshot_add_owner(s);
		o->inode = fd == 3 ? 500 : fd == 4 ? 501 : 777;
		o->fd = (int32_t)fd;
	}
	s->procs[0].netns = 4026531840u;
	ck_assert_ptr_nonnull(snapshot_add_netns(s, 4026531840u, true));
	s->closed_valid = true;
	ck_assert_int_eq(snapshot_build(s), 0);
	ctx = (struct view_ctx){.s = s};
	ck_assert_int_eq(s->owners[2].sock, -1);

	const struct view_col *c = view_tables[VT_SOCKS].cols;
	static const char *const want[3][5] = {
		{"3", "TCP", "ESTAB", "127.0.0.1:19", "127.0.0.1:40000"},
		{"4", "UNIX", "ESTAB", "-", "peer 502"},
		{"5", "CLOSED", "CLOSED", "-", "-"},
	};
	static const int cols[5] = {SC_FD, SC_TYPE, SC_STATE, SC_LOCAL, SC_REMOTE};
	char buf[128];
	for (uint32_t r = 0; r < 3; r++)
		for (int j = 0; j < 5; j++) {
			c[cols[j]].fmt(&ctx, VIEW_ROW_OWNER | r, buf, sizeof(buf));
			ck_assert_msg(!strcmp(buf, want[r][j]), "row %u %s: '%s', not '%s'", r, c[cols[j]].title, buf,
				      want[r][j]);
		}
	c[SC_INODE].fmt(&ctx, VIEW_ROW_OWNER | 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "777");
	c[SC_PID].fmt(&ctx, VIEW_ROW_OWNER | 2, buf, sizeof(buf));
	ck_assert_str_eq(buf, "10");
	/* Sorted by TYPE: CLOSED, TCP, UNIX. */
	uint32_t rows[3] = {VIEW_ROW_OWNER | 0, VIEW_ROW_OWNER | 1, VIEW_ROW_OWNER | 2};
	view_sort(VT_SOCKS, &ctx, rows, 3, SC_TYPE, false);
	ck_assert_uint_eq(rows[0], VIEW_ROW_OWNER | 2);
	ck_assert_uint_eq(rows[2], VIEW_ROW_OWNER | 1);
	/* And by every other column without a socket to read. */
	for (int col = 0; col < SC_COUNT; col++)
		view_sort(VT_SOCKS, &ctx, rows, 3, col, false);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "sort", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			sort_by_fds_descending_by_default,
			sort_by_other_columns,
			sort_by_rss_and_rss_growth,
			sort_ports_by_close_wait,
			culprits_come_first_by_default)},
		{.name = "filter", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			filter_processes,
			filter_ports_and_sockets,
			bad_queries_say_why,
			backlog_groups_by_process_and_port,
			backlog_orders_only_what_is_shown)},
		{.name = "layout", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			layout_80_columns_keeps_the_leak_columns,
			sparkline_scales_the_last_values,
			clock_times_for_the_goto_prompt,
			layout_narrow_drops_columns_keeps_the_essentials,
			counts_shrink_to_their_width,
			formatted_cells,
			eta_at_the_limit_is_now,
			layout_with_the_users_columns,
			socket_rows_of_one_process,
			outbound_pool_is_one_port_row_without_r,
			backlog_groups_outbound_by_remote_endpoint,
			ports_show_recvq_at_80_columns)},
	};

	return TESTKIT_RUN("view", cases);
}
