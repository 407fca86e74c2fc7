/* History on synthetic refreshes: a leaking server, a churning one, pid reuse,
 * socket ages and the memory bound. */
#include "config.h"

#include "outputs/batch.h"
#include "model/history.h"
#include "model/snapshot.h"
#include "tests/testkit.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define T0 1.7e9

static struct snapshot *s;
static struct history *h;
static bool built; /* s holds the last refresh: the next record starts a new one */

static void fresh(void)
{
	if (built)
		snapshot_clear(s), built = false;
}

static void setup(void)
{
	s = snapshot_new();
	h = history_new(NULL);
	built = false;
	ck_assert(s && h);
}

static void teardown(void)
{
	history_free(h);
	snapshot_free(s);
}

static size_t add_proc(int32_t pid, uint64_t start, int64_t fds)
{
	char comm[16];
	fresh();
	snprintf(comm, sizeof(comm), "srv%d", pid);
	return (size_t)TESTKIT_PROC(s, .pid = pid, .start_time = start, .fds = fds, .fd_limit = 1024, .comm = comm);
}

/* A socket on 127.0.0.1:lport from 10.0.0.host:rport, held by procs[proc] (-1: none). */
static void add_sock(uint64_t cookie, unsigned state, uint16_t lport, uint16_t rport, uint8_t host, uint32_t rq,
		     int proc)
{
	char raddr[16];
	fresh();
	snprintf(raddr, sizeof(raddr), "10.0.0.%u", host);
	TESTKIT_SOCK(s, .cookie = cookie, .inode = (uint32_t)cookie, .state = (uint8_t)state, .lport = lport,
		     .rport = rport, .laddr = "127.0.0.1", .raddr = raddr, .rq = rq, .held = proc >= 0, .proc = proc,
		     .fd = (int32_t)(cookie & 0xffff));
}

static void refresh(double t)
{
	s->time = t;
	s->totals.file_max = 100000;
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_int_eq(history_update(h, s), 0);
	built = true;
}

/* One leaking server on 8080: 5 more CLOSE_WAIT from one host each 2 s refresh. */
static void leaking_server(int refreshes)
{
	for (int r = 0; r < refreshes; r++) {
		int cw = 5 * (r + 1);
		size_t p = add_proc(100, 5000, 10 + cw);
		add_sock(1, ST_LISTEN, 8080, 0, 0, 0, (int)p);
		for (int i = 0; i < cw; i++)
			add_sock(1000 + i, ST_CLOSE_WAIT, 8080, (uint16_t)(40000 + i), 7, 101, (int)p);
		refresh(T0 + 2.0 * r);
	}
}

START_TEST(leak_growing_close_wait_from_one_host)
{
	leaking_server(30);
	const struct history_stats *st = history_proc(h, 100, 5000);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->verdict, VERDICT_LEAK);
	ck_assert_double_eq_tol(st->fd_growth_per_min, 150, 1e-6);
	ck_assert_double_eq_tol(st->close_wait_growth_per_min, 150, 1e-6);
	/* 160 fds now, 1024 allowed, 150 more a minute. */
	ck_assert_double_eq_tol(st->exhaustion_eta_s, (1024 - 160) / 150.0 * 60, 1e-6);
	ck_assert_double_eq_tol(st->close_wait_oldest_s, 58, 1e-3);
	ck_assert_uint_eq(st->close_wait_hosts, 1);
	ck_assert_msg(strstr(st->reason, "CLOSE_WAIT +150/min for 58s, none closed, oldest 58s, 1 remote host"), "%s", st->reason);
	ck_assert_msg(strstr(st->reason, "150 with unread Recv-Q"), "%s", st->reason);

	const struct history_stats *ps = history_port(h, 0, 8080, SIDE_LOCAL);
	ck_assert_ptr_nonnull(ps);
	ck_assert_int_eq(ps->verdict, VERDICT_LEAK);
	ck_assert_double_eq_tol(ps->growth_per_min[ST_CLOSE_WAIT], 150, 1e-6);
	ck_assert_double_eq_tol(ps->growth_per_min[ST_LISTEN], 0, 1e-9);
	ck_assert_double_eq_tol(ps->close_wait_oldest_s, 58, 1e-3);
	ck_assert(isnan(ps->fd_growth_per_min));

	double t[8], v[8];
	size_t n = history_proc_series(h, 100, 5000, HS_CLOSE_WAIT, t, v, 8);
	ck_assert_uint_eq(n, 8);
	ck_assert_double_eq(t[7], T0 + 58);
	ck_assert_double_eq(v[7], 150);
	ck_assert_double_eq(v[0], 115);
	n = history_port_series(h, 0, 8080, SIDE_LOCAL, ST_CLOSE_WAIT, t, v, 8);
	ck_assert_uint_eq(n, 8);
	ck_assert_double_eq(v[7], 150);
}
END_TEST

/* A history as the dashboard's session asks for one: read by the screen beside the
 * sockets step (shared_reads). */
static struct history *shared_history(void)
{
	struct history_opts o;
	history_opts_default(&o);
	o.shared_reads = true;
	struct history *x = history_new(&o);
	ck_assert_ptr_nonnull(x);
	return x;
}

/* The dashboard's history (shared_reads: during an update, readers read a copy of the
 * shown snapshot's ages, by position) ages every socket as batch mode's (the table
 * alone) does, while sockets come, change state, go, and come back, some with a bound
 * from the kernel; and the copy read during each update is what the table said. */
START_TEST(second_table_ages_sockets_as_the_swept_one)
{
	struct history *h2 = shared_history();
	struct snapshot *shown = snapshot_new();
	ck_assert_ptr_nonnull(shown);
	double was[64][2];
	bool was_bound[64];
	size_t bounds = 0;
	for (int r = 0; r < 40; r++) {
		size_t p = add_proc(100, 5000, 60);
		for (int i = 0; i < 50; i++) {
			if ((i + r) % 7 == 0) /* gone this refresh, back the next */
				continue;
			unsigned st = (i * r) % 11 == 3 ? ST_CLOSE_WAIT : ST_ESTABLISHED;
			add_sock(2000 + (uint64_t)i + (uint64_t)(r / 10) * 1000, st, 8080, (uint16_t)(40000 + i), 7, 0,
				 (int)p);
			if (i % 5 == 0)
				s->socks[s->nsocks - 1].state_age_ms = 90000;
		}
		refresh(T0 + 2.0 * r);
		history_drop_kept_ages(h2);
		ck_assert_int_eq(history_keep_ages(h2, shown), 0);
		ck_assert_int_eq(history_update_begin(h2, s), 0);
		ck_assert_int_eq(history_update_socks(h2, s), 0);
		for (size_t i = 0; r > 0 && i < shown->nsocks; i++) {
			double a, sa;
			ck_assert_int_eq(history_sock_age(h2, shown, &shown->socks[i], &a, &sa), 0);
			ck_assert_double_eq(a, was[i][0]);
			ck_assert_double_eq(sa, was[i][1]);
			ck_assert(history_sock_age_bound(h2, shown, &shown->socks[i]) == was_bound[i]);
		}
		ck_assert_int_eq(history_update_end(h2, s), 0);
		ck_assert_uint_le(s->nsocks, 64);
		for (size_t i = 0; i < s->nsocks; i++) {
			double a1, sa1, a2, sa2;
			ck_assert_int_eq(history_sock_age(h, s, &s->socks[i], &a1, &sa1), 0);
			ck_assert_int_eq(history_sock_age(h2, s, &s->socks[i], &a2, &sa2), 0);
			ck_assert_double_eq(a1, a2);
			ck_assert_double_eq(sa1, sa2);
			ck_assert(history_sock_age_bound(h, s, &s->socks[i]) ==
				  history_sock_age_bound(h2, s, &s->socks[i]));
			bounds += history_sock_age_bound(h2, s, &s->socks[i]);
			was[i][0] = a2, was[i][1] = sa2, was_bound[i] = history_sock_age_bound(h2, s, &s->socks[i]);
		}
		ck_assert_int_eq(snapshot_copy(shown, s), 0);
		const struct history_stats *x = history_proc(h, 100, 5000), *y = history_proc(h2, 100, 5000);
		ck_assert(x && y);
		ck_assert_str_eq(x->reason, y->reason);
	}
	ck_assert_uint_gt(bounds, 0);
	/* A socket of the first ten refreshes, gone since, is forgotten by both. */
	struct sock_rec gone = {.cookie = 2001, .inode = 2001};
	ck_assert_int_eq(history_sock_age(h, s, &gone, NULL, NULL), -ENOENT);
	ck_assert_int_eq(history_sock_age(h2, s, &gone, NULL, NULL), -ENOENT);
	snapshot_free(shown);
	history_free(h2);
}
END_TEST

/* The socket of snapshot x with this cookie. */
static const struct sock_rec *sock_by_cookie(const struct snapshot *x, uint64_t cookie)
{
	for (size_t i = 0; i < x->nsocks; i++)
		if (x->socks[i].cookie == cookie)
			return &x->socks[i];
	return NULL;
}

/* The dashboard reads the history while the worker counts a refresh's sockets
 * (history_update_socks, unlocked): until history_update_end, a reader sees the last
 * update's verdict and the ages of the snapshot on screen (kept for it before the
 * update, history_keep_ages); after it, what history_update gives, and the snapshot
 * on screen keeps its ages until it goes. */
START_TEST(update_in_steps_readers_see_the_last_update)
{
	history_free(h);
	h = shared_history();
	leaking_server(29);
	const struct history_stats *st = history_proc(h, 100, 5000);
	ck_assert_ptr_nonnull(st);
	double growth = st->close_wait_growth_per_min, oldest = st->close_wait_oldest_s;
	struct snapshot *shown = snapshot_new(); /* the screen's, while s is the next */
	ck_assert_int_eq(snapshot_copy(shown, s), 0);
	const struct sock_rec *k = sock_by_cookie(shown, 1000);
	ck_assert_ptr_nonnull(k);
	double age, age_during;
	ck_assert_int_eq(history_sock_age(h, shown, k, &age, NULL), 0);

	/* The 30th refresh, in steps. */
	int cw = 150;
	size_t p = add_proc(100, 5000, 10 + cw);
	add_sock(1, ST_LISTEN, 8080, 0, 0, 0, (int)p);
	for (int i = 0; i < cw; i++)
		add_sock(1000 + i, ST_CLOSE_WAIT, 8080, (uint16_t)(40000 + i), 7, 101, (int)p);
	s->time = T0 + 58;
	s->totals.file_max = 100000;
	ck_assert_int_eq(snapshot_build(s), 0);
	built = true;
	ck_assert_int_eq(history_keep_ages(h, shown), 0);
	ck_assert_int_eq(history_sock_age(h, shown, k, &age_during, NULL), 0); /* the table, still */
	ck_assert_int_eq(history_update_begin(h, s), 0);
	ck_assert_int_eq(history_update_socks(h, s), 0);
	st = history_proc(h, 100, 5000);
	ck_assert_double_eq(st->close_wait_growth_per_min, growth);
	ck_assert_double_eq(st->close_wait_oldest_s, oldest);
	const struct sock_rec *newest = sock_by_cookie(s, 1000 + 149);
	ck_assert_ptr_nonnull(newest);
	ck_assert_int_eq(history_sock_age(h, s, newest, NULL, NULL), -ENOENT);
	ck_assert_int_eq(history_sock_age(h, shown, k, &age_during, NULL), 0);
	ck_assert_double_eq(age_during, age); /* as of the refresh on screen, not the next */
	ck_assert_int_eq(history_update_end(h, s), 0);
	/* Then the figures of leak_growing_close_wait_from_one_host, which updates whole. */
	st = history_proc(h, 100, 5000);
	ck_assert_int_eq(st->verdict, VERDICT_LEAK);
	ck_assert_double_eq_tol(st->close_wait_growth_per_min, 150, 1e-6);
	ck_assert_double_eq_tol(st->close_wait_oldest_s, 58, 1e-3);
	ck_assert_int_eq(history_sock_age(h, s, newest, &age_during, NULL), 0);
	ck_assert_double_eq_tol(age_during, 0, 1e-3);
	ck_assert_int_eq(history_sock_age(h, s, sock_by_cookie(s, 1000), &age_during, NULL), 0);
	ck_assert_double_eq_tol(age_during, age + 2, 1e-3);
	ck_assert_int_eq(history_sock_age(h, shown, k, &age_during, NULL), 0);
	ck_assert_double_eq(age_during, age); /* until the screen takes the new one */
	/* The next refresh: the copy goes first (the screen shows s now, read from the
	 * table); then s's ages are kept for it, and the one before is no longer read (a
	 * keep asked for it does nothing: the table is s's). */
	history_drop_kept_ages(h);
	ck_assert_int_eq(history_sock_age(h, shown, k, NULL, NULL), -ENOENT);
	ck_assert_int_eq(history_keep_ages(h, shown), 0);
	ck_assert_int_eq(history_keep_ages(h, s), 0);
	ck_assert_int_eq(history_update_begin(h, s), 0);
	ck_assert_int_eq(history_sock_age(h, shown, k, NULL, NULL), -ENOENT);
	ck_assert_int_eq(history_sock_age(h, s, sock_by_cookie(s, 1000), &age_during, NULL), 0);
	ck_assert_double_eq_tol(age_during, age + 2, 1e-3);
	ck_assert_int_eq(history_update_socks(h, s), 0);
	ck_assert_int_eq(history_update_end(h, s), 0);
	/* With no copy kept, nothing to read while an update writes the table. */
	history_drop_kept_ages(h);
	ck_assert_int_eq(history_update_begin(h, s), 0);
	ck_assert_int_eq(history_sock_age(h, s, sock_by_cookie(s, 1000), NULL, NULL), -ENOENT);
	ck_assert_int_eq(history_update_socks(h, s), 0);
	ck_assert_int_eq(history_update_end(h, s), 0);
	ck_assert_int_eq(history_sock_age(h, s, sock_by_cookie(s, 1000), NULL, NULL), 0);
	snapshot_free(shown);
}
END_TEST

/* A refresh with no sockets on screen: nothing to keep, nothing to read, no harm
 * (the sanitizer pass runs this: no zero-length write to an array never made). */
START_TEST(kept_ages_of_an_empty_snapshot)
{
	struct history *h2 = shared_history();
	struct snapshot *empty = snapshot_new();
	empty->time = T0;
	empty->tick = 1;
	ck_assert_int_eq(snapshot_build(empty), 0);
	ck_assert_int_eq(history_update(h2, empty), 0);
	ck_assert_int_eq(history_keep_ages(h2, empty), 0);
	refresh(T0 + 2);
	ck_assert_int_eq(history_update_begin(h2, s), 0);
	struct sock_rec none = {.cookie = 5};
	ck_assert_int_eq(history_sock_age(h2, empty, &none, NULL, NULL), -ENOENT);
	ck_assert_int_eq(history_update_socks(h2, s), 0);
	ck_assert_int_eq(history_update_end(h2, s), 0);
	history_drop_kept_ages(h2);
	snapshot_free(empty);
	history_free(h2);
}
END_TEST

/* What batch output makes of the same history: the JSON fields and the text columns. */
START_TEST(batch_output_carries_the_figures)
{
	struct batch_opts o = {.format = FMT_JSON, .backlog_max = 0, .clk_tck = 100};
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	leaking_server(30);
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_int_eq(batch_write(f, s, h, &o), 0);
	fclose(f);
	ck_assert_msg(strstr(out, "\"fd_growth_per_min\": 150.00, \"close_wait_growth_per_min\": 150.00, "
				 "\"exhaustion_eta_s\": 346, \"verdict\": \"leak\", \"verdict_reason\": \"CLOSE_WAIT +150/min"),
		      "%s", out);
	ck_assert_msg(strstr(out, "\"growth_per_min\": {\"CLOSE_WAIT\": 150.00, \"LISTEN\": 0.00}, \"verdict\": \"leak\""),
		      "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"close_wait_oldest_s\": 58.0"));
	ck_assert_ptr_nonnull(strstr(out, "\"alerts\": []}"));
	free(out);

	o.format = FMT_TEXT;
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_int_eq(batch_write(f, s, h, &o), 0);
	fclose(f);
	ck_assert_msg(strstr(out, "   +150    5m leak    -\n"), "%s", out);
	ck_assert_msg(strstr(out, "  pid 100 srv100         leak    CLOSE_WAIT +150/min for 58s"), "%s", out);
	ck_assert_msg(strstr(out, " 8080 local     151  15150 tcp     +150    58s leak    150 CLOSE_WAIT"), "%s", out);
	free(out);
}
END_TEST

/* A native leak: fds flat, RSS up 10 MB a minute (an unclosed zlib stream per request). */
START_TEST(rss_growth_is_a_memory_leak)
{
	for (int r = 0; r < 160; r++) {
		size_t p = add_proc(300, 8000, 40);
		s->procs[p].rss_kb = 300 * 1024 + (uint64_t)r * 10 * 1024 / 30;
		p = add_proc(301, 8001, 40); /* its neighbour, flat */
		s->procs[p].rss_kb = 300 * 1024;
		refresh(T0 + 2.0 * r);
	}
	const struct history_stats *st = history_proc(h, 300, 8000);
	ck_assert_ptr_nonnull(st);
	ck_assert_double_eq_tol(st->rss_growth_mb_per_min, 10, 0.01);
	ck_assert_int_eq(st->mem_verdict, VERDICT_LEAK);
	ck_assert_msg(strstr(st->mem_reason, "RSS +10.0 MB/min for 5m, now 353 MB"), "%s", st->mem_reason);
	/* The fds do not grow, yet the one verdict every output shows says leak. */
	ck_assert_int_eq(st->verdict, VERDICT_LEAK);
	ck_assert_str_eq(st->reason, "memory: RSS +10.0 MB/min for 5m, now 353 MB");
	double t[4], v[4];
	ck_assert_uint_eq(history_proc_series(h, 300, 8000, HS_RSS_KB, t, v, 4), 4);
	ck_assert_double_eq(v[3], 300 * 1024 + 159 * 10 * 1024 / 30);
	const struct history_stats *flat = history_proc(h, 301, 8001);
	ck_assert_int_eq(flat->mem_verdict, VERDICT_OK);
	ck_assert_double_eq_tol(flat->rss_growth_mb_per_min, 0, 1e-9);

	struct batch_opts o = {.format = FMT_JSON, .backlog_max = 0, .clk_tck = 100};
	char *out = NULL;
	size_t len = 0;
	FILE *f;
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_int_eq(batch_write(f, s, h, &o), 0);
	fclose(f);
	ck_assert_msg(strstr(out, "\"rss_growth_mb_per_min\": 10.00, \"mem_verdict\": \"leak\", "
				 "\"mem_verdict_reason\": \"RSS +10.0 MB/min for 5m, now 353 MB\""),
		      "%s", out);
	ck_assert_msg(strstr(out, "\"rss_growth_mb_per_min\": 0.00, \"mem_verdict\": \"ok\""), "%s", out);
	free(out);
	/* Without history the fields are there, and null. */
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_int_eq(batch_write(f, s, NULL, &o), 0);
	fclose(f);
	ck_assert_msg(strstr(out, "\"rss_growth_mb_per_min\": null, \"mem_verdict\": null, "
				 "\"mem_verdict_reason\": null"), "%s", out);
	free(out);
	o.format = FMT_TEXT;
	ck_assert_ptr_nonnull(f = open_memstream(&out, &len));
	ck_assert_int_eq(batch_write(f, s, h, &o), 0);
	fclose(f);
	ck_assert_msg(strstr(out, "  pid 300 srv300         leak    memory: RSS +10.0 MB/min for 5m"), "%s", out);
	ck_assert_msg(!strstr(out, "pid 301 srv301"), "%s", out);
	free(out);
}
END_TEST

START_TEST(churn_fast_changing_remote_ports)
{
	/* 20 fresh connections each refresh from new remote ports; the old ones are gone. */
	size_t news = 0;
	for (int r = 0; r < 60; r++) {
		size_t p = add_proc(200, 7000, 40);
		add_sock(1, ST_LISTEN, 9090, 0, 0, 0, (int)p);
		for (int i = 0; i < 20; i++)
			add_sock(100000 + (uint64_t)r * 100 + i, i < 2 ? ST_CLOSE_WAIT : ST_ESTABLISHED, 9090,
				 (uint16_t)(30000 + r * 20 + i), (uint8_t)(i % 50), 0, (int)p);
		refresh(T0 + 2.0 * r);
		size_t n;
		history_changes(h, &n);
		news += n;
	}
	/* ok to churn and back is no news: neither is a finding. */
	ck_assert_uint_eq(news, 0);
	const struct history_stats *st = history_proc(h, 200, 7000);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->verdict, VERDICT_CHURN);
	ck_assert_double_eq_tol(st->fd_growth_per_min, 0, 1e-9);
	ck_assert(isinf(st->exhaustion_eta_s));
	ck_assert_msg(strstr(st->reason, "600 new sockets/min"), "%s", st->reason);
	const struct history_stats *ps = history_port(h, 0, 9090, SIDE_LOCAL);
	ck_assert_int_eq(ps->verdict, VERDICT_CHURN);
}
END_TEST

START_TEST(pid_reuse_starts_a_new_history)
{
	leaking_server(20);
	/* The leaker dies; a new process gets pid 100, with a different start time. */
	for (int r = 20; r < 100; r++) {
		add_proc(100, 9000, 12);
		refresh(T0 + 2.0 * r);
	}
	const struct history_stats *st = history_proc(h, 100, 9000);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(st->verdict, VERDICT_OK);
	ck_assert_double_eq_tol(st->fd_growth_per_min, 0, 1e-9);
	ck_assert(isinf(st->exhaustion_eta_s));
	double t[4], v[4];
	ck_assert_uint_eq(history_proc_series(h, 100, 9000, HS_FDS, t, v, 4), 4);
	ck_assert_double_eq(v[0], 12);
	/* The dead leaker is forgotten after forget_s (120 s; 160 s have passed). */
	ck_assert_ptr_null(history_proc(h, 100, 5000));
}
END_TEST

/* 300 CLOSE_WAIT held by one process, flat for 90 s before leaktop started: with the
 * kernel's bound of their age (first refresh only, as sock_diag gives it) they are a
 * leak by the third refresh, and the age reads as a bound. Without it, a pile of
 * unknown age is only worth a look. */
static void static_pile(bool kernel_age)
{
	for (int r = 0; r < 3; r++) {
		size_t p = add_proc(500, 1, 310);
		add_sock(1, ST_LISTEN, 8080, 0, 0, 0, (int)p);
		for (int i = 0; i < 300; i++) {
			add_sock(2000 + i, ST_CLOSE_WAIT, 8080, (uint16_t)(40000 + i), 7, 1, (int)p);
			if (kernel_age && r == 0)
				s->socks[s->nsocks - 1].state_age_ms = 90000 + i;
		}
		refresh(T0 + 2.0 * r);
	}
}

START_TEST(kernel_age_makes_a_static_pile_a_leak)
{
	static_pile(true);
	const struct history_stats *st = history_proc(h, 500, 1);
	ck_assert_int_eq(st->verdict, VERDICT_LEAK);
	ck_assert_str_eq(st->reason, "300 CLOSE_WAIT never closed, oldest >=1m");
	ck_assert(st->close_wait_oldest_bound);
	ck_assert_double_eq_tol(st->close_wait_oldest_s, 94.299, 0.01);
	const struct history_stats *ps = history_port(h, 0, 8080, SIDE_LOCAL);
	ck_assert_int_eq(ps->verdict, VERDICT_LEAK);
	struct sock_rec k = {.cookie = 2000, .inode = 2000};
	double age, state_age;
	ck_assert_int_eq(history_sock_age(h, s, &k, &age, &state_age), 0);
	ck_assert_double_eq_tol(state_age, 94, 0.01);
	ck_assert(history_sock_age_bound(h, s, &k));
}
END_TEST

START_TEST(static_pile_of_unknown_age_is_suspect)
{
	static_pile(false);
	const struct history_stats *st = history_proc(h, 500, 1);
	ck_assert_int_eq(st->verdict, VERDICT_SUSPECT);
	ck_assert_msg(strstr(st->reason, "already there when watching began 4s ago"), "%s", st->reason);
	ck_assert(!st->close_wait_oldest_bound);
}
END_TEST

/* A client pool that filled to 400 CLOSE_WAIT in a minute and stopped 30 s ago:
 * growth and ETA follow the flat refreshes, and the reason says it stalled. */
START_TEST(stalled_pile_reads_stalled)
{
	for (int r = 0; r < 46; r++) {
		int cw = r < 30 ? 13 * (r + 1) : 400;
		size_t p = add_proc(600, 1, 20 + cw);
		s->procs[p].fd_limit = 1024;
		for (int i = 0; i < cw; i++)
			add_sock(5000 + i, ST_CLOSE_WAIT, (uint16_t)(40000 + i), 5432, 1, 1, (int)p);
		refresh(T0 + 2.0 * r);
	}
	const struct history_stats *st = history_proc(h, 600, 1);
	ck_assert_int_eq(st->verdict, VERDICT_LEAK);
	ck_assert_msg(strstr(st->reason, "CLOSE_WAIT stalled at 400 for 30s (pool exhausted?) after +"), "%s",
		      st->reason);
	ck_assert_double_eq_tol(st->close_wait_growth_per_min, 0, 1e-9);
	ck_assert_double_eq_tol(st->fd_growth_per_min, 0, 1e-9);
	ck_assert(isinf(st->exhaustion_eta_s));
	/* Outbound to one endpoint: the reason names it. */
	ck_assert_msg(strstr(st->reason, ", to 10.0.0.1:5432"), "%s", st->reason);
}
END_TEST

/* A pool growing its ESTABLISHED connections to one remote port, never closing one:
 * new sockets every refresh, but the count grows as fast. Not churn, on the port as
 * on the process. */
START_TEST(growing_count_without_closes_is_not_churn)
{
	for (int r = 0; r < 30; r++) {
		int n = 13 * (r + 1);
		size_t p = add_proc(700, 1, 10 + n);
		for (int i = 0; i < n; i++)
			add_sock(9000 + i, ST_ESTABLISHED, (uint16_t)(40000 + i), 5432, 1, 0, (int)p);
		refresh(T0 + 2.0 * r);
	}
	const struct history_stats *ps = history_port(h, 0, 5432, SIDE_REMOTE);
	ck_assert_ptr_nonnull(ps);
	ck_assert_int_eq(ps->verdict, VERDICT_SUSPECT);
	ck_assert_msg(strstr(ps->reason, "sockets +390/min for 58s"), "%s", ps->reason);
	ck_assert_int_eq(history_proc(h, 700, 1)->verdict, VERDICT_SUSPECT);
}
END_TEST

START_TEST(clear_starts_over)
{
	leaking_server(10);
	history_clear(h);
	ck_assert_ptr_null(history_proc(h, 100, 5000));
	struct sock_rec k = {.cookie = 1000};
	ck_assert_int_eq(history_sock_age(h, s, &k, NULL, NULL), -ENOENT);
	/* A replay jumped back an hour: the figures come from the new samples only. */
	for (int r = 0; r < 5; r++) {
		add_proc(100, 5000, 50);
		refresh(T0 - 3600 + 2.0 * r);
	}
	const struct history_stats *st = history_proc(h, 100, 5000);
	ck_assert_ptr_nonnull(st);
	ck_assert_double_eq_tol(st->fd_growth_per_min, 0, 1e-9);
	ck_assert_double_eq_tol(st->span_s, 8, 1e-9);
}
END_TEST

/* A refresh with no processes (a replay's first tick, an empty fake /proc): nothing to
 * sort is not a NULL handed to qsort (UBSan aborted there, leaving the terminal raw). */
START_TEST(empty_refresh)
{
	refresh(T0);
	fresh();
	refresh(T0 + 2);
	ck_assert_ptr_null(history_proc(h, 100, 5000));
	leaking_server(3);
	ck_assert_ptr_nonnull(history_proc(h, 100, 5000));
}
END_TEST

START_TEST(socket_age_in_state)
{
	/* A connection, established for 10 s, then the peer closes it. */
	for (int r = 0; r < 16; r++) {
		size_t p = add_proc(300, 1, 5);
		add_sock(42, r < 5 ? ST_ESTABLISHED : ST_CLOSE_WAIT, 8080, 50000, 1, 0, (int)p);
		/* A time-wait minisocket: no cookie, no inode, known by its 4-tuple. */
		add_sock(0, ST_TIME_WAIT, 8080, 50001, 1, 0, -1);
		refresh(T0 + 2.0 * r);
	}
	struct sock_rec k = {.cookie = 42, .inode = 42};
	double age, state_age;
	ck_assert_int_eq(history_sock_age(h, s, &k, &age, &state_age), 0);
	ck_assert_double_eq_tol(age, 30, 1e-3);
	ck_assert_double_eq_tol(state_age, 20, 1e-3);
	ck_assert_double_eq_tol(history_proc(h, 300, 1)->close_wait_oldest_s, 20, 1e-3);

	struct sock_rec tw = {.state = ST_TIME_WAIT, .family = AF_INET, .lport = 8080, .rport = 50001};
	testkit_sock_addrs(s, &tw, "127.0.0.1", "10.0.0.1");
	ck_assert_int_eq(history_sock_age(h, s, &tw, &age, NULL), 0);
	ck_assert_double_eq_tol(age, 30, 1e-3);
	tw.rport = 50002;
	ck_assert_int_eq(history_sock_age(h, s, &tw, &age, NULL), -ENOENT);
	k.cookie = 43;
	ck_assert_int_eq(history_sock_age(h, s, &k, &age, NULL), -ENOENT);
}
END_TEST

START_TEST(socket_table_grows_and_keeps_ages)
{
	/* From 10 to 5000 sockets: the tables grow, and the first sockets keep their age. */
	for (int r = 0; r < 5; r++) {
		size_t p = add_proc(400, 1, 5);
		for (int i = 0; i < (r ? 5000 : 10); i++)
			add_sock(1 + (uint64_t)i, ST_ESTABLISHED, 8080, (uint16_t)(20000 + i), 1, 0, (int)p);
		refresh(T0 + 2.0 * r);
	}
	struct sock_rec first = {.cookie = 1}, late = {.cookie = 4000};
	double age;
	ck_assert_int_eq(history_sock_age(h, s, &first, &age, NULL), 0);
	ck_assert_double_eq_tol(age, 8, 1e-3);
	ck_assert_int_eq(history_sock_age(h, s, &late, &age, NULL), 0);
	ck_assert_double_eq_tol(age, 6, 1e-3);
}
END_TEST

START_TEST(ports_at_the_bound_keep_the_busy_ones)
{
	/* More quiet ports than the bound; then one starts piling up CLOSE_WAIT. */
	for (int r = 0; r < 4; r++) {
		size_t p = add_proc(500, 1, 400);
		for (int i = 0; i < HISTORY_MAX_PORTS + 50; i++)
			add_sock(1 + (uint64_t)i, ST_ESTABLISHED, (uint16_t)(1000 + i), 50000, 1, 0, (int)p);
		for (int i = 0; r >= 2 && i < 20 * r; i++)
			add_sock(100000 + (uint64_t)i, ST_CLOSE_WAIT, 9999, (uint16_t)(40000 + i), 1, 0, (int)p);
		refresh(T0 + 2.0 * r);
	}
	ck_assert_ptr_nonnull(history_port(h, 0, 9999, SIDE_LOCAL));
	double t[4], v[4];
	ck_assert_uint_eq(history_port_series(h, 0, 9999, SIDE_LOCAL, ST_CLOSE_WAIT, t, v, 4), 2);
	ck_assert_double_eq(v[1], 60);
}
END_TEST

START_TEST(memory_stays_bounded)
{
	/* More processes than the bound, for longer than the rings hold (a 200 s span
	 * keeps 101 samples). */
	struct history_opts o;
	history_opts_default(&o);
	o.span_s = 200;
	history_free(h);
	h = history_new(&o);
	for (int r = 0; r < 300; r++) {
		for (int i = 0; i < HISTORY_MAX_PROCS + 100; i++)
			add_proc(1000 + i, 1, i == HISTORY_MAX_PROCS + 99 ? 5000 : 10);
		s->totals.file_alloc = 1000 + (uint64_t)r;
		refresh(T0 + 2.0 * r);
	}
	/* The biggest process has history even though it came last in pid order. */
	int32_t big = 1000 + HISTORY_MAX_PROCS + 99;
	ck_assert_ptr_nonnull(history_proc(h, big, 1));
	double t[128], v[128];
	ck_assert_uint_eq(history_proc_series(h, big, 1, HS_FDS, t, v, 128), 101);
	ck_assert_double_eq(t[100], T0 + 2.0 * 299);
	ck_assert_double_eq(t[0], T0 + 2.0 * 199);
	/* The bound the header documents: 24 B a process sample, plus tables and the
	 * records of the processes and ports (their figures and reasons: 1.5 KB each). */
	size_t procs = (size_t)HISTORY_MAX_PROCS * 101 * 24;
	size_t records = (size_t)(HISTORY_MAX_PROCS + HISTORY_MAX_PORTS) * 1536;
	ck_assert_msg(history_memory(h) < procs + records + 512 * 1024, "history holds %zu bytes", history_memory(h));

	double growth, eta;
	history_file_stats(h, &growth, &eta);
	ck_assert_double_eq_tol(growth, 30, 1e-6);
	ck_assert_double_eq_tol(eta, (100000 - 1299) / 30.0 * 60, 1e-3);
}
END_TEST

START_TEST(fast_refresh_keeps_at_most_the_bound)
{
	/* At 0.5 s an hour would be 7200 samples: the rings stop at the bound. */
	struct history_opts o;
	history_opts_default(&o);
	o.interval_s = 0.5;
	history_free(h);
	h = history_new(&o);
	for (int r = 0; r < HISTORY_MAX_SAMPLES + 50; r++) {
		add_proc(7, 1, 10 + r % 3);
		refresh(T0 + 0.5 * r);
	}
	static double t[HISTORY_MAX_SAMPLES + 10], v[HISTORY_MAX_SAMPLES + 10];
	ck_assert_uint_eq(history_proc_series(h, 7, 1, HS_FDS, t, v, HISTORY_MAX_SAMPLES + 10), HISTORY_MAX_SAMPLES);
	ck_assert_double_eq(t[0], T0 + 0.5 * 50);
	/* Noise of +-1 is no growth. */
	ck_assert_int_eq(history_proc(h, 7, 1)->verdict, VERDICT_OK);
	ck_assert(isinf(history_proc(h, 7, 1)->exhaustion_eta_s));
}
END_TEST

/* The arrival case: 150 CLOSE_WAIT with unread bytes, held 30 s to 89 s before
 * leaktop started (the kernel says so on the first dump), nothing closed since. It
 * read ok for two refreshes, then "27 never closed" climbing to 150 as the sockets
 * crossed a minute while nothing changed. Now: a look at once, leak by the third
 * refresh, and the same count at every refresh. A pile of 400 held 11-22 s: the same. */
static void arrival_pile(int n, int age0_ms, int age_step_ms, int refreshes, int32_t pid)
{
	for (int r = 0; r < refreshes; r++) {
		size_t p = add_proc(pid, 1, 10 + n);
		for (int i = 0; i < n; i++) {
			add_sock(3000 + (uint64_t)i, ST_CLOSE_WAIT, (uint16_t)(40000 + i), 5432, 7, 1001, (int)p);
			if (r == 0)
				s->socks[s->nsocks - 1].state_age_ms = (uint32_t)(age0_ms + i * age_step_ms);
		}
		refresh(T0 + 2.0 * r);
		const struct history_stats *st = history_proc(h, pid, 1);
		if (r < 2)
			ck_assert_msg(st->verdict == VERDICT_SUSPECT, "refresh %d: %s", r + 1, st->reason);
		else
			ck_assert_msg(st->verdict == VERDICT_LEAK && strstr(st->reason, "CLOSE_WAIT never closed, oldest >="),
				      "refresh %d: %s", r + 1, st->reason);
		char want[32];
		snprintf(want, sizeof(want), "%d CLOSE_WAIT", n);
		ck_assert_msg(!strncmp(st->reason, want, strlen(want)), "refresh %d: %s", r + 1, st->reason);
	}
}

START_TEST(held_pile_is_suspect_at_once_and_leak_by_the_third_refresh)
{
	arrival_pile(150, 30000, 400, 20, 800);
	const struct history_stats *st = history_proc(h, 800, 1);
	ck_assert_msg(strstr(st->reason, ", to 10.0.0.7:5432, 150 with unread Recv-Q"), "%s", st->reason);
}
END_TEST

START_TEST(held_pile_of_400_seconds_old)
{
	arrival_pile(400, 11000, 27, 3, 801);
}
END_TEST

/* nginx's port with a client that does not keep connections alive: TIME_WAIT fills
 * for a minute to its steady state (150 a second, each for 60 s), the sockets the
 * workers hold stay few. It read "suspect: sockets +8888/min ... not CLOSE_WAIT"
 * for minutes. Churn: connections made and closed; TIME_WAIT is the kernel's. */
START_TEST(time_wait_filling_to_its_steady_state_is_churn)
{
	uint64_t next = 1000000;
	for (int r = 0; r < 60; r++) {
		size_t p = add_proc(900, 1, 20);
		add_sock(1, ST_LISTEN, 8081, 0, 0, 0, (int)p);
		add_sock(2, ST_ESTABLISHED, 8081, 30000, 2, 0, (int)p);
		int tw = (r + 1) * 300 < 9000 ? (r + 1) * 300 : 9000;
		for (int i = 0; i < tw; i++) {
			/* TIME_WAIT: a kernel minisocket, no inode, no process; the newest
			 * 300 are new, the oldest gone. */
			uint64_t c = next - (uint64_t)i;
			add_sock(c, ST_TIME_WAIT, 8081, (uint16_t)(1024 + c % 60000), 2, 0, -1);
			s->socks[s->nsocks - 1].inode = 0;
		}
		next += 300;
		refresh(T0 + 2.0 * r);
		const struct history_stats *ps = history_port(h, 0, 8081, SIDE_LOCAL);
		ck_assert_msg(ps->verdict == VERDICT_OK || ps->verdict == VERDICT_CHURN, "refresh %d: %s", r + 1, ps->reason);
	}
	const struct history_stats *ps = history_port(h, 0, 8081, SIDE_LOCAL);
	ck_assert_int_eq(ps->verdict, VERDICT_CHURN);
	ck_assert_msg(strstr(ps->reason, "new sockets/min, count flat: short-lived connections"), "%s", ps->reason);
}
END_TEST

/* A keep-alive pool that returns its connections: the server closes the idle ones at
 * its keep-alive timeout, they sit in CLOSE_WAIT until the next burst, then the pool
 * replaces them. Never a leak, never suspect. */
START_TEST(pool_returning_and_replacing_connections_is_healthy)
{
	uint64_t gen = 0;
	for (int r = 0; r < 90; r++) {
		size_t p = add_proc(910, 1, 30);
		bool idle = r % 4 == 3; /* every fourth refresh the 8 idle ones are closed by the server */
		for (int i = 0; i < 8; i++)
			add_sock(20000 + gen * 8 + (uint64_t)i, idle ? ST_CLOSE_WAIT : ST_ESTABLISHED,
				 (uint16_t)(40000 + (gen * 8 + (uint64_t)i) % 20000), 8080, 2, idle ? 1 : 0, (int)p);
		if (idle)
			gen++; /* replaced at the next lease */
		refresh(T0 + 2.0 * r);
		const struct history_stats *st = history_proc(h, 910, 1);
		ck_assert_msg(st->verdict == VERDICT_OK || st->verdict == VERDICT_CHURN, "refresh %d: %s", r + 1, st->reason);
		const struct history_stats *ps = history_port(h, 0, 8080, SIDE_REMOTE);
		ck_assert_msg(ps->verdict == VERDICT_OK || ps->verdict == VERDICT_CHURN, "refresh %d: %s", r + 1, ps->reason);
	}
}
END_TEST

/* A 10k/s leak into a server that stops after 15000 (fds wobble by a few, two
 * CLOSE_WAIT reset by reused client ports): it reads stalled within a few refreshes,
 * no ETA, with a hint for an inbound pile; its ETA rose 14 s -> 23 s for ~75 s. */
START_TEST(stall_is_read_within_a_few_refreshes_despite_noise)
{
	int stalled_at = -1;
	for (int r = 0; r < 30; r++) {
		/* from refresh 21, two reset by their peer: gone from the pile */
		int cw = r < 3 ? 0 : r == 3 ? 14442 : r < 20 ? 15000 : 14998;
		size_t p = add_proc(920, 1, 6 + cw + (r % 3));
		s->procs[p].fd_limit = 20000;
		add_sock(1, ST_LISTEN, 7001, 0, 0, 0, (int)p);
		for (int i = 0; i < cw; i++)
			add_sock(100 + (uint64_t)i, ST_CLOSE_WAIT, 7001, (uint16_t)(20000 + i % 40000), 1, 1, (int)p);
		refresh(T0 + 2.0 * r);
		const struct history_stats *st = history_proc(h, 920, 1);
		if (stalled_at < 0 && st->close_wait_stalled)
			stalled_at = r;
	}
	ck_assert_msg(stalled_at >= 5 && stalled_at <= 8, "stalled at refresh %d", stalled_at + 1);
	const struct history_stats *st = history_proc(h, 920, 1);
	ck_assert(isinf(st->exhaustion_eta_s));
	ck_assert_int_eq(st->verdict, VERDICT_LEAK);
	ck_assert_msg(strstr(st->reason, "CLOSE_WAIT stalled at 14998 for ") && strstr(st->reason, "(no new connections?)"),
		      "%s", st->reason);
	ck_assert_msg(!strstr(st->reason, "pool exhausted"), "%s", st->reason);
}
END_TEST

/* The system's file handles: the same stall rule, so no exhaustion predicted for a
 * count that stands still (it said fs.file-max in 209-370 s with the count flat). */
START_TEST(file_handles_stall_too)
{
	double growth, eta;
	for (int r = 0; r < 40; r++) {
		add_proc(930, 1, 10);
		s->totals.file_alloc = r < 10 ? 2000 + (uint64_t)r * 1000 : 11000 + (uint64_t)((r * 7) % 5);
		refresh(T0 + 2.0 * r);
		if (r == 9) {
			history_file_stats(h, &growth, &eta);
			ck_assert_double_eq_tol(growth, 30000, 1e-6);
			ck_assert(isfinite(eta));
		}
	}
	refresh(T0 + 2.0 * 40);
	history_file_stats(h, &growth, &eta);
	ck_assert_double_eq_tol(growth, 0, 1e-9);
	ck_assert(isinf(eta));
}
END_TEST

/* A JVM's pool leaking to nginx on the same box: its CLOSE_WAIT (IPv4-mapped) and
 * nginx's orphaned FIN_WAIT2 at the far end. nginx's port is no finding of its own:
 * its row says whose leak it mirrors. */
START_TEST(far_end_of_a_leak_mirrors_it)
{
	for (int r = 0; r < 10; r++) {
		size_t jv = add_proc(940, 1, 200);
		snprintf(s->procs[jv].comm, sizeof(s->procs[jv].comm), "java");
		size_t ng = add_proc(941, 1, 20);
		add_sock(1, ST_LISTEN, 8082, 0, 0, 0, (int)ng);
		testkit_sock_addrs(s, &s->socks[s->nsocks - 1], "127.0.0.2", "10.0.0.0");
		for (int i = 0; i < 150; i++) {
			/* java: [::ffff:127.0.0.1]:eph -> [::ffff:127.0.0.2]:8082 */
			add_sock(50000 + (uint64_t)i, ST_CLOSE_WAIT, (uint16_t)(40000 + i), 8082, 0, 65537, (int)jv);
			struct sock_rec *k = &s->socks[s->nsocks - 1];
			k->family = AF_INET6;
			testkit_sock_addrs(s, k, "::ffff:127.0.0.1", "::ffff:127.0.0.2");
			/* nginx: 127.0.0.2:8082 -> 127.0.0.1:eph, closed: orphaned */
			add_sock(60000 + (uint64_t)i, ST_FIN_WAIT2, 8082, (uint16_t)(40000 + i), 0, 0, -1);
			k = &s->socks[s->nsocks - 1];
			k->inode = 0;
			testkit_sock_addrs(s, k, "127.0.0.2", "127.0.0.1");
		}
		refresh(T0 + 2.0 * r);
	}
	const struct history_stats *ps = history_port(h, 0, 8082, SIDE_LOCAL);
	ck_assert_ptr_nonnull(ps);
	ck_assert_int_eq(ps->verdict, VERDICT_OK);
	ck_assert_int_eq(ps->mirror_pid, 940);
	ck_assert_str_eq(ps->reason, "150 FIN_WAIT2, the far end of pid 940 (java)'s CLOSE_WAIT (closed here, held there)");
	/* The client's side of the same port: the leak, one peer in its IPv4 form. */
	const struct history_stats *cs = history_port(h, 0, 8082, SIDE_REMOTE);
	ck_assert_int_ne(cs->verdict, VERDICT_OK);
	ck_assert_msg(strstr(cs->reason, ", to 127.0.0.2:8082"), "%s", cs->reason);
}
END_TEST

/* Verdict changes are news, said once: a leaking server goes ok -> suspect -> leak,
 * one change each, none while the verdict holds; an alert raises an ok verdict. */
START_TEST(verdict_changes_are_said_once)
{
	int changes = 0;
	enum leak_verdict last = VERDICT_OK;
	for (int r = 0; r < 30; r++) {
		int cw = 5 * (r + 1);
		size_t p = add_proc(100, 5000, 10 + cw);
		add_sock(1, ST_LISTEN, 8080, 0, 0, 0, (int)p);
		for (int i = 0; i < cw; i++)
			add_sock(1000 + (uint64_t)i, ST_CLOSE_WAIT, 8080, (uint16_t)(40000 + i), 7, 101, (int)p);
		refresh(T0 + 2.0 * r);
		size_t n;
		const struct history_change *c = history_changes(h, &n);
		for (size_t i = 0; i < n; i++) {
			if (c[i].is_port)
				continue;
			ck_assert_int_eq(c[i].pid, 100);
			ck_assert_uint_eq(c[i].start_time, 5000);
			ck_assert_str_eq(c[i].comm, "srv100");
			ck_assert_int_eq(c[i].from, last);
			ck_assert_int_ne(c[i].to, last);
			ck_assert_str_eq(c[i].reason, history_proc(h, 100, 5000)->reason);
			last = c[i].to;
			changes++;
		}
	}
	ck_assert_int_eq(last, VERDICT_LEAK);
	ck_assert_int_eq(changes, 2); /* ok -> suspect, suspect -> leak */
	char line[512];
	size_t n;
	/* It closed them all; then an alert names its quiet neighbour: raised, one change. */
	add_proc(100, 5000, 10);
	add_proc(101, 1, 12);
	refresh(T0 + 62);
	history_changes(h, &n);
	ck_assert_uint_eq(n, 1); /* the leaker closed its pile: it came and went */
	ck_assert(history_raise_proc(h, 101, 1, VERDICT_SUSPECT, "pid 101 (srv101) uses 80% of its fd limit"));
	ck_assert(!history_raise_proc(h, 101, 1, VERDICT_SUSPECT, "again"));
	const struct history_change *c = history_changes(h, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(c[1].pid, 101);
	ck_assert_int_eq(c[1].from, VERDICT_OK);
	ck_assert_int_eq(c[1].to, VERDICT_SUSPECT);
	history_change_format(&c[1], line, sizeof(line));
	ck_assert_str_eq(line, "pid 101 (srv101) judged suspect (was ok): pid 101 (srv101) uses 80% of its fd limit");
	history_change_format(&c[0], line, sizeof(line));
	ck_assert_msg(!strncmp(line, "pid 100 (srv100) judged churn (was leak): ", 42), "%s", line);
	ck_assert_int_eq(history_proc(h, 101, 1)->verdict, VERDICT_SUSPECT);
	struct history_change back = {.is_port = true, .port = 8080, .side = SIDE_LOCAL, .from = VERDICT_SUSPECT};
	strcpy(back.reason, "no growth");
	history_change_format(&back, line, sizeof(line));
	ck_assert_str_eq(line, "local port 8080 is ok again (was suspect): no growth");
}
END_TEST

/* leaktop's own process (PROC_SELF) is judged by nothing: its warm-up is no leak. */
START_TEST(own_process_is_not_judged)
{
	for (int r = 0; r < 60; r++) {
		size_t p = add_proc(950, 1, 10 + r);
		s->procs[p].flags |= PROC_SELF;
		s->procs[p].rss_kb = 5000 + (uint64_t)r * 300;
		refresh(T0 + 2.0 * r);
	}
	const struct history_stats *st = history_proc(h, 950, 1);
	ck_assert_int_eq(st->verdict, VERDICT_OK);
	ck_assert_int_eq(st->mem_verdict, VERDICT_OK);
	ck_assert_str_eq(st->reason, "leaktop itself: not judged");
	ck_assert(st->self);
}
END_TEST

/* An nginx worker as clients come: its fds swing between 13 and 30 for minutes as
 * connections open and close. It read "suspect: fds +50/min for 10s" in its first half
 * minute (and a handover listed it). No growth: its highest does not go on rising. */
START_TEST(swinging_fds_are_no_growth)
{
	static const int fds[] = {13, 13, 17, 22, 25, 30, 27, 22, 19, 18, 23, 27, 28, 24, 23, 26, 27, 26, 23, 21};
	for (int r = 0; r < 120; r++) {
		add_proc(960, 1, fds[r % 20] + (r >= 20 ? 2 * (r % 3) : 0));
		refresh(T0 + 1.0 * r);
		const struct history_stats *st = history_proc(h, 960, 1);
		ck_assert_msg(st->verdict == VERDICT_OK, "refresh %d: %s", r + 1, st->reason);
		ck_assert_msg(isinf(st->exhaustion_eta_s) || isnan(st->exhaustion_eta_s), "refresh %d: ETA %f", r + 1,
			      st->exhaustion_eta_s);
	}
	/* A pipe leak beside it, two fds every 2 s: growth, at once. */
	for (int r = 0; r < 15; r++) {
		add_proc(961, 1, 6 + 2 * r);
		refresh(T0 + 200 + 2.0 * r);
	}
	const struct history_stats *st = history_proc(h, 961, 1);
	ck_assert_int_eq(st->verdict, VERDICT_SUSPECT);
	ck_assert_msg(strstr(st->reason, "fds +60/min for 28s, not CLOSE_WAIT sockets"), "%s", st->reason);
	ck_assert(isfinite(st->exhaustion_eta_s));
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "history", .setup = setup, .teardown = teardown, .timeout = 60,
		 .tests = TESTKIT_TESTS(
			leak_growing_close_wait_from_one_host,
			update_in_steps_readers_see_the_last_update, second_table_ages_sockets_as_the_swept_one,
			batch_output_carries_the_figures,
			rss_growth_is_a_memory_leak,
			churn_fast_changing_remote_ports,
			pid_reuse_starts_a_new_history,
			clear_starts_over,
			empty_refresh,
			socket_age_in_state,
			socket_table_grows_and_keeps_ages, kept_ages_of_an_empty_snapshot,
			ports_at_the_bound_keep_the_busy_ones,
			memory_stays_bounded,
			fast_refresh_keeps_at_most_the_bound,
			kernel_age_makes_a_static_pile_a_leak,
			static_pile_of_unknown_age_is_suspect,
			stalled_pile_reads_stalled,
			growing_count_without_closes_is_not_churn,
			held_pile_is_suspect_at_once_and_leak_by_the_third_refresh,
			held_pile_of_400_seconds_old,
			time_wait_filling_to_its_steady_state_is_churn,
			pool_returning_and_replacing_connections_is_healthy,
			stall_is_read_within_a_few_refreshes_despite_noise,
			file_handles_stall_too,
			far_end_of_a_leak_mirrors_it,
			verdict_changes_are_said_once,
			own_process_is_not_judged,
			swinging_fds_are_no_growth)},
	};

	return TESTKIT_RUN("history", cases);
}
