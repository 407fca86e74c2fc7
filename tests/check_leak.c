/* Growth, time to exhaustion and verdicts on synthetic series. */
#include "config.h"

#include "model/leak.h"
#include "tests/testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 150 /* five minutes at 2 s */

static double t[N], v[N];

/* Samples every 2 s from a unix-time origin, so the fit must survive big abscissas. */
static void series(double (*f)(int i))
{
	for (int i = 0; i < N; i++) {
		t[i] = 1.7e9 + 2.0 * i;
		v[i] = f(i);
	}
}

static double flat(int i) { return 500; }
static double linear(int i) { return 100 + 0.5 * i; } /* +0.5 per 2 s = 15/min */
static double shrinking(int i) { return 1000 - i; }
/* +15/min with deterministic noise of up to +-20 around it. */
static double noisy(int i) { return 100 + 0.5 * i + ((i * 7919) % 41) - 20; }
/* Growing at 60/min, restarted at sample 100, then growing at 15/min. */
static double restart(int i) { return i < 100 ? 10 + 2.0 * i : 3 + 0.5 * (i - 100); }

START_TEST(slope_flat_is_zero_and_never_runs_out)
{
	struct leak_fit fit;
	series(flat);
	leak_slope(t, v, N, 300, &fit);
	ck_assert(fit.valid);
	ck_assert_double_eq_tol(fit.slope_per_min, 0, 1e-9);
	ck_assert(!leak_growing(&fit));
	ck_assert(isinf(leak_eta_s(500, 1024, &fit)));
}
END_TEST

START_TEST(slope_linear_and_eta)
{
	struct leak_fit fit;
	series(linear);
	leak_slope(t, v, N, 300, &fit);
	ck_assert(fit.valid);
	ck_assert_double_eq_tol(fit.slope_per_min, 15, 1e-6);
	ck_assert(leak_growing(&fit));
	/* 1024 - 174.5 fds left at 15/min. */
	ck_assert_double_eq_tol(leak_eta_s(v[N - 1], 1024, &fit), (1024 - v[N - 1]) / 15 * 60, 1e-3);
	/* Already at the limit: now. Unlimited: never. */
	ck_assert_double_eq(leak_eta_s(1024, 1024, &fit), 0);
	ck_assert(isinf(leak_eta_s(v[N - 1], UINT64_MAX, &fit)));
}
END_TEST

START_TEST(slope_window_uses_recent_samples)
{
	struct leak_fit fit;
	series(linear);
	leak_slope(t, v, N, 60, &fit);
	ck_assert_uint_eq(fit.n, 31); /* 60 s at 2 s, both ends */
	ck_assert_double_eq_tol(fit.span_s, 60, 1e-9);
	ck_assert_double_eq_tol(fit.slope_per_min, 15, 1e-6);
}
END_TEST

START_TEST(slope_shrinking_never_runs_out)
{
	struct leak_fit fit;
	series(shrinking);
	leak_slope(t, v, N, 300, &fit);
	ck_assert_double_eq_tol(fit.slope_per_min, -30, 1e-6);
	ck_assert(!leak_growing(&fit));
	ck_assert(isinf(leak_eta_s(v[N - 1], 1024, &fit)));
}
END_TEST

START_TEST(slope_noisy_is_close)
{
	struct leak_fit fit;
	series(noisy);
	leak_slope(t, v, N, 300, &fit);
	ck_assert(fit.valid);
	ck_assert_msg(fabs(fit.slope_per_min - 15) < 2, "slope %.2f/min, want about 15", fit.slope_per_min);
}
END_TEST

START_TEST(slope_after_reset_ignores_the_old_life)
{
	struct leak_fit fit;
	series(restart);
	leak_slope(t, v, N, 300, &fit);
	ck_assert_uint_eq(fit.n, N - 100);
	ck_assert_double_eq_tol(fit.slope_per_min, 15, 1e-6);
}
END_TEST

START_TEST(slope_needs_three_samples)
{
	struct leak_fit fit;
	series(linear);
	leak_slope(t, v, 2, 300, &fit);
	ck_assert(!fit.valid);
	ck_assert(isinf(leak_eta_s(v[1], 1024, &fit)));
	leak_slope(t, v, 0, 300, &fit);
	ck_assert(!fit.valid);
}
END_TEST

/* Evidence of CLOSE_WAIT growing steadily at rate/min for grow_s (one step a 2 s
 * refresh) from hosts remote hosts, none of it closed, the fds with it. */
static struct leak_evidence cw_evidence(double rate, double grow_s, double oldest_s, uint32_t hosts)
{
	uint32_t rise = (uint32_t)(rate * grow_s / 60), step = (uint32_t)ceil(rate / 30);
	struct leak_evidence e = {
		.cw = rise,
		.cw_fit = {.valid = true, .slope_per_min = rate, .span_s = grow_s < 300 ? grow_s : 300, .n = 100},
		.cw_grow_s = grow_s,
		.cw_rise = rise,
		.cw_max_step = step,
		.cw_rises = (unsigned)(grow_s / 2),
		.cw_kept_n = (unsigned)(grow_s / 2),
		.cw_oldest_s = oldest_s,
		.cw_held = grow_s > 10 ? (uint32_t)(rise * (grow_s - 10) / grow_s) : 0, /* 10 s old and more */
		.cw_hosts = hosts,
		.has_fds = true,
		.fd_pct = NAN,
		.fds = rise + 10,
		.fd_fit = {.valid = true, .slope_per_min = rate, .span_s = grow_s < 300 ? grow_s : 300, .n = 100},
		.fd_grow_s = grow_s,
		.fd_rise = rise,
		.fd_max_step = step,
		.fd_rises = (unsigned)(grow_s / 2),
		.fd_going = true,
		.watched_s = grow_s,
	};
	return e;
}

static enum leak_verdict judge(const struct leak_evidence *e, char *why)
{
	struct leak_params p;
	leak_params_default(&p);
	return leak_judge(e, &p, why, LEAK_REASON_MAX);
}

START_TEST(verdict_constant_remote_growing_close_wait_is_leak)
{
	char why[LEAK_REASON_MAX];
	struct leak_evidence e = cw_evidence(37, 12 * 60, 14 * 60, 2);
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "CLOSE_WAIT +37/min for 12m, none closed, oldest 14m, 2 remote hosts");
	/* Unread bytes in those sockets are named: the app stopped reading first. */
	e.cw_unread = 40;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_msg(strstr(why, "40 with unread Recv-Q"), "reason: %s", why);
}
END_TEST

START_TEST(verdict_many_hosts_none_closed_is_leak_some_closed_suspect)
{
	char why[LEAK_REASON_MAX];
	/* Many clients, but nothing closed since the growth began. */
	struct leak_evidence e = cw_evidence(20, 300, 300, 8);
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_msg(strstr(why, "8+ remote hosts"), "reason: %s", why);
	/* A connection reset by its peer leaves the pile now and then: 1 in 10 is still kept. */
	e.cw_left = 10;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "CLOSE_WAIT +20/min for 5m, only 10 closed, oldest 5m, 8+ remote hosts");
	/* The same growth, most of it closed within half a minute: a look, not a verdict. */
	e.cw_left = 60;
	e.cw_kept_n = 0;
	e.cw_oldest_s = 30;
	e.cw_held = 20;
	e.cw_old = 0;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "CLOSE_WAIT +20/min for 5m, some closed, oldest 30s, 8+ remote hosts");
	/* A slow leak in churn: most closed at once, one in twenty never; those a minute
	 * old say it (read leak from the third refresh). */
	e.cw_old = 12;
	e.cw_oldest_s = 75;
	e.seen_n = 150;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "CLOSE_WAIT +20/min for 5m, some closed, 12 held over 1m, oldest 1m, 8+ remote hosts");
}
END_TEST

START_TEST(verdict_fast_changing_remote_ports_is_churn)
{
	char why[LEAK_REASON_MAX];
	/* 600 connections a minute, each dying young: a flat count with turnover. */
	struct leak_evidence e = {
		.cw = 3,
		.cw_fit = {.valid = true, .slope_per_min = 0.2, .span_s = 300, .n = 150},
		.cw_oldest_s = 0.2,
		.cw_hosts = 1,
		.has_fds = true,
		.fd_pct = NAN,
		.fd_fit = {.valid = true, .slope_per_min = 0.1, .span_s = 300, .n = 150},
		.new_per_min = 600,
		.left_per_min = 599,
		.watched_s = 300,
	};
	ck_assert_int_eq(judge(&e, why), VERDICT_CHURN);
	ck_assert_msg(strstr(why, "600 new sockets/min"), "reason: %s", why);
	/* Without turnover but with CLOSE_WAIT that is young and some that left: still
	 * being closed. */
	e.new_per_min = e.left_per_min = 0;
	e.cw_left = 12;
	ck_assert_int_eq(judge(&e, why), VERDICT_CHURN);
	ck_assert_str_eq(why, "3 CLOSE_WAIT, oldest 200ms: being closed");
	/* Young, but none left: they formed at once (a server that finished its
	 * responses), nothing says they are being closed. */
	e.cw_left = 0;
	ck_assert_int_ne(judge(&e, why), VERDICT_CHURN);
	/* Right after leaktop starts every socket looks young: that is not evidence. */
	e.watched_s = 2;
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
	ck_assert_str_eq(why, "3 CLOSE_WAIT, not growing");
}
END_TEST

/* 12 s into a fast leak the newcomers stay: the count grows as fast as they come.
 * That is no churn (it read churn for two refreshes when the window's fit lagged the
 * newcomers). */
START_TEST(verdict_fast_leak_is_not_churn)
{
	char why[LEAK_REASON_MAX];
	struct leak_evidence e = cw_evidence(3000, 12, 12, 1);
	e.new_per_min = 3000;
	e.left_per_min = 0;
	e.fd_fit.slope_per_min = 1400; /* a least-squares line lags a jump at the window's end */
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	/* Before churn_age_s: worth a look already, once it rose in three refreshes. */
	e = cw_evidence(3000, 8, 8, 1);
	e.new_per_min = 3000;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "CLOSE_WAIT +3000/min for 8s, none closed yet, oldest 8s, 1 remote host");
	/* A port's sockets: the same. */
	e = cw_evidence(3000, 12, 0, 1);
	e.cw = e.cw_rise = e.cw_held = 0;
	e.cw_fit.slope_per_min = 0;
	e.has_fds = false;
	e.new_per_min = 3000;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "sockets +3000/min for 12s, not CLOSE_WAIT");
}
END_TEST

/* Healthy: a pool's idle connections that the server closed (keep-alive timeout) sit
 * in CLOSE_WAIT until the pool checks them on the next lease: they all came in one
 * refresh, and leave again. */
START_TEST(verdict_pool_connections_closed_by_server_are_not_a_leak)
{
	char why[LEAK_REASON_MAX];
	struct leak_evidence e = {
		.cw = 8, .cw_rise = 8, .cw_max_step = 8, .cw_rises = 1, .cw_grow_s = 4, .cw_oldest_s = 4,
		.cw_fit = {.valid = true, .slope_per_min = 12, .span_s = 300, .n = 150},
		.cw_kept_n = 2, .cw_hosts = 1, .has_fds = true, .fd_pct = NAN, .fds = 30,
		.fd_fit = {.valid = true, .slope_per_min = 0, .span_s = 300, .n = 150},
		.new_per_min = 75, .left_per_min = 75, .watched_s = 300,
	};
	strcpy(e.cw_peer, "127.0.0.2:8080");
	ck_assert_int_eq(judge(&e, why), VERDICT_CHURN);
	/* Idle for 20 s: held, but one step that is no pile the alert would name. */
	e.cw_grow_s = e.cw_oldest_s = 20;
	e.cw_held = 8;
	e.new_per_min = e.left_per_min = 0;
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
	/* The fds of a pool warming up: one burst, then flat. Not growth. */
	struct leak_evidence w = {
		.has_fds = true, .fd_pct = NAN, .fds = 22, .fd_rise = 9, .fd_max_step = 8, .fd_rises = 2, .fd_grow_s = 20,
		.fd_fit = {.valid = true, .slope_per_min = 145, .span_s = 20, .n = 10}, .watched_s = 20,
	};
	w.fd_rise = 12, w.fd_max_step = 11;
	ck_assert_int_eq(judge(&w, why), VERDICT_OK);
}
END_TEST

/* The arrival case: 400 CLOSE_WAIT the kernel says are held 11 s and more, all one
 * process (it read ok while the close_wait alert fired): suspect at once, leak once
 * two refreshes went by with none of them closed, and its count the pile's. */
START_TEST(verdict_held_pile_on_arrival)
{
	char why[LEAK_REASON_MAX];
	struct leak_evidence e = {
		.cw = 400, .cw_held = 400, .cw_oldest_s = 22, .cw_age_bound = true, .cw_unread = 400,
		.cw_fit = {.valid = false}, .cw_hosts = 1, .has_fds = true, .fd_pct = NAN, .fds = 406, .watched_s = 0,
	};
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "400 CLOSE_WAIT, 400 held 10s or more, oldest >=22s, 400 with unread Recv-Q (stopped "
			      "reading before closing)");
	e.cw_kept_n = 1;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	e.cw_kept_n = 2;
	e.cw_oldest_s = 24;
	e.cw_fit = (struct leak_fit){.valid = true, .slope_per_min = 0, .span_s = 2, .n = 3};
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_msg(!strncmp(why, "400 CLOSE_WAIT never closed, oldest >=24s", 41), "%s", why);
	/* A pile of 150 with some a minute old: the count is the pile's, not those over a
	 * minute (which climbed 27 -> 37 -> 47 while nothing changed). */
	struct leak_evidence q = {
		.cw = 150, .cw_held = 150, .cw_old = 27, .cw_oldest_s = 75, .cw_age_bound = true, .cw_kept_n = 2,
		.cw_fit = {.valid = true, .slope_per_min = 0, .span_s = 4, .n = 3}, .has_fds = true, .fd_pct = NAN,
	};
	strcpy(q.cw_peer, "10.0.0.7:5432");
	ck_assert_int_eq(judge(&q, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "150 CLOSE_WAIT never closed, oldest >=1m, to 10.0.0.7:5432");
	q.cw_old = 37;
	ck_assert_int_eq(judge(&q, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "150 CLOSE_WAIT never closed, oldest >=1m, to 10.0.0.7:5432");
	/* Smaller than the alert's threshold and only seconds old: nothing yet. */
	q.cw = q.cw_held = 50, q.cw_old = 0, q.cw_oldest_s = 12;
	ck_assert_int_eq(judge(&q, why), VERDICT_OK);
	/* As big as the alert's threshold, even young, and none closed: at least a look. */
	q.cw = 120, q.cw_held = 0, q.cw_oldest_s = 3, q.cw_kept_n = 1;
	ck_assert_int_eq(judge(&q, why), VERDICT_SUSPECT);
}
END_TEST

/* An exhausted HttpClient pool of 60, smaller than the alert's threshold: its server
 * finished the responses and closed, so all 60 went to CLOSE_WAIT in one step, each
 * with its response unread (it read ok, then churn "being closed", in a real
 * handover). Unread and held 10 s: suspect at once, leak once two refreshes kept it.
 * The same pile with nothing unread is a healthy pool's idle connections that their
 * server closed: nothing yet. */
START_TEST(verdict_unread_pile_below_the_threshold)
{
	char why[LEAK_REASON_MAX];
	struct leak_evidence e = {
		.cw = 60, .cw_held = 60, .cw_oldest_s = 11, .cw_unread = 60, .cw_rise = 60, .cw_max_step = 60,
		.cw_rises = 1, .cw_fit = {.valid = true, .slope_per_min = 200, .span_s = 12, .n = 7},
		.cw_hosts = 1, .has_fds = true, .fd_pct = NAN, .fds = 79, .watched_s = 14, .seen_n = 7,
	};
	strcpy(e.cw_peer, "127.0.0.1:8080");
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	e.cw_kept_n = 2;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "60 CLOSE_WAIT never closed, oldest 11s, to 127.0.0.1:8080, 60 with unread Recv-Q "
			      "(stopped reading before closing)");
	/* Seen forming and standing since: what it became, with the hint that fits. */
	e.cw_flat_s = 12;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "CLOSE_WAIT stalled at 60 for 12s (pool exhausted?), none closed, oldest 11s, to "
			      "127.0.0.1:8080, 60 with unread Recv-Q (stopped reading before closing)");
	e.cw_inbound = true;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_msg(strstr(why, "stalled at 60 for 12s (no new connections?)"), "%s", why);
	e.cw_inbound = false, e.cw_flat_s = 0;
	/* Still forming (younger than 10 s), none closed: a look already. */
	e.cw_held = 0, e.cw_oldest_s = 3, e.cw_kept_n = 1;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	/* Nothing unread: an idle pool closed by its server. */
	e.cw_unread = 0, e.cw_held = 60, e.cw_oldest_s = 11, e.cw_kept_n = 2;
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
	/* Young and none left: not "being closed" either. */
	e.cw_held = 0, e.cw_oldest_s = 3;
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
}
END_TEST

START_TEST(verdict_old_flat_close_wait_is_leak_and_quiet_is_ok)
{
	char why[LEAK_REASON_MAX];
	struct leak_evidence e = {
		.cw = 120,
		.cw_fit = {.valid = true, .slope_per_min = 0, .span_s = 300, .n = 150},
		.cw_oldest_s = 40 * 60,
		.cw_hosts = 3,
		.has_fds = true,
		.fd_pct = NAN,
		.seen_n = 150,
	};
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "120 CLOSE_WAIT never closed, oldest 40m");
	e.cw_oldest_s = 90;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	/* A minute old and more, some still being closed: the old ones never will be. */
	e.cw_old = 30;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "120 CLOSE_WAIT, 30 held over 1m, oldest 1m");
	e.cw_old = 0;
	/* Right after start, a pile that was already there is worth a look. */
	e.cw_oldest_s = e.watched_s = 4;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "120 CLOSE_WAIT already there when watching began 4s ago");
	/* Watched for 5 minutes, all young, some left: they are being closed. */
	e.watched_s = 300;
	e.cw_left = 40;
	ck_assert_int_eq(judge(&e, why), VERDICT_CHURN);
	e.cw_left = 0;
	ck_assert_int_ne(judge(&e, why), VERDICT_CHURN);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
	ck_assert_str_eq(why, "no growth");
}
END_TEST

START_TEST(verdict_fd_growth_without_sockets)
{
	char why[LEAK_REASON_MAX];
	struct leak_evidence e = {
		.has_fds = true,
		.fd_pct = NAN,
		.fds = 30,
		.fd_fit = {.valid = true, .slope_per_min = 4, .span_s = 300, .n = 150},
		.fd_grow_s = 120,
		.fd_rise = 10,
		.fd_max_step = 1,
		.fd_rises = 10,
		.fd_going = true,
	};
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "fds +4.0/min for 2m, not CLOSE_WAIT sockets");
	/* Swinging up and down (a server's connections come and go), its highest not rising
	 * all along: no growth. */
	e.fd_going = false;
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
	e.fd_going = true;
	e.fd_grow_s = 3600;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	/* In one step (a pool filled, files opened at start): no growth. */
	e.fd_grow_s = 120, e.fd_max_step = 10, e.fd_rises = 1;
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
	/* Grown steadily for a minute and more, stalled since: still worth a look, said so. */
	e.fd_max_step = 1, e.fd_rises = 10;
	e.fd_stalled = true, e.fd_flat_s = 30, e.fd_rate_before = 6.7;
	e.fd_grow_s = 120;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "fds stalled at 30 for 30s after +6.7/min for 1m, not CLOSE_WAIT sockets");
	/* ... at its fd limit, the reason says so. */
	e.at_fd_limit = true;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_msg(strstr(why, "stalled at 30 for 30s (at its fd limit) after"), "%s", why);
	e.at_fd_limit = false;
	/* Grown for 20 s, flat since (a warm-up): the burst is over. */
	e.fd_grow_s = 50;
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
	ck_assert_str_eq(why, "fds +10, then flat for 30s");
	/* Near the fd limit (the fd_usage alert's warning) whatever the growth. */
	e.fd_pct = 80;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "30 fds, 80% of the fd limit");
	/* Ports have no fds: the figures are the sockets processes hold there. */
	e.has_fds = false;
	e.fd_pct = NAN;
	e.fd_stalled = false;
	e.fd_grow_s = 120;
	ck_assert_int_eq(judge(&e, why), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "sockets +4.0/min for 2m, not CLOSE_WAIT");
}
END_TEST

/* Where a stalled pile stands and a hint that fits it: an outbound pool holds all its
 * connections; an inbound pile stopped growing because no new clients come (or the
 * leaking path is no longer taken), not because a pool is exhausted. */
START_TEST(verdict_stalled_pile_hint_fits_its_direction)
{
	char why[LEAK_REASON_MAX];
	struct leak_evidence e = cw_evidence(780, 30, 60, 1);
	e.cw = 400;
	e.cw_grow_s = 60;
	e.cw_stalled = true, e.cw_flat_s = 30, e.cw_rate_before = 800;
	strcpy(e.cw_peer, "10.0.0.1:5432");
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_str_eq(why, "CLOSE_WAIT stalled at 400 for 30s (pool exhausted?) after +800/min for 30s, none "
			      "closed, oldest 1m, to 10.0.0.1:5432");
	e.cw_peer[0] = '\0';
	e.cw_inbound = true;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_msg(strstr(why, "stalled at 400 for 30s (no new connections?) after"), "%s", why);
	e.at_fd_limit = true;
	ck_assert_int_eq(judge(&e, why), VERDICT_LEAK);
	ck_assert_msg(strstr(why, "stalled at 400 for 30s (at its fd limit) after"), "%s", why);
}
END_TEST

START_TEST(verdict_mirror_port_and_self)
{
	char why[LEAK_REASON_MAX];
	/* nginx's port: the far end of a client's leaking pool, FIN_WAIT2 there. */
	struct leak_evidence e = {.orphans = 150, .new_per_min = 80, .left_per_min = 80, .fd_pct = NAN, .watched_s = 60};
	strcpy(e.mirror, "pid 42 (java)");
	ck_assert_int_eq(judge(&e, why), VERDICT_OK);
	ck_assert_str_eq(why, "150 FIN_WAIT2, the far end of pid 42 (java)'s CLOSE_WAIT (closed here, held there)");
	/* leaktop's own process: never judged, whatever it holds. */
	struct leak_evidence self = cw_evidence(300, 60, 60, 1);
	self.self = true;
	ck_assert_int_eq(judge(&self, why), VERDICT_OK);
	ck_assert_str_eq(why, "leaktop itself: not judged");
	/* --close-wait-alert 0: no CLOSE_WAIT is no pile. */
	struct leak_params p;
	struct leak_evidence none = {.fd_pct = NAN, .has_fds = true};
	leak_params_default(&p);
	p.cw_pile = 0;
	ck_assert_int_eq(leak_judge(&none, &p, why, sizeof(why)), VERDICT_OK);
	ck_assert_str_eq(why, "no growth");
}
END_TEST

/* A count has stalled when it stayed within noise of where it stopped for a few
 * refreshes, and long enough that its old rate would have moved it. */
START_TEST(stall_needs_noise_and_time)
{
	struct leak_params p;
	leak_params_default(&p);
	ck_assert_uint_eq(leak_noise(150), 1);
	ck_assert_uint_eq(leak_noise(15006), 58);
	/* 130k/min, flat within noise for 3 refreshes and 6 s: stalled. */
	ck_assert(leak_stalled(130000, 6, 3, leak_noise(15006), &p));
	ck_assert(!leak_stalled(130000, 4, 2, leak_noise(15006), &p));
	/* 2/min, flat for 10 s: it would not have moved yet. Not a stall. */
	ck_assert(!leak_stalled(2, 10, 5, 1, &p));
	ck_assert(leak_stalled(2, 90, 45, 1, &p));
	ck_assert(!leak_stalled(0, 90, 45, 1, &p));
	ck_assert(leak_steady(10, 1, 10));
	ck_assert(!leak_steady(10, 8, 2));
	ck_assert(!leak_steady(10, 5, 1));
}
END_TEST

START_TEST(durations_read_like_top)
{
	char b[16];
	ck_assert_str_eq(leak_format_duration(b, sizeof(b), 0.2), "200ms");
	ck_assert_str_eq(leak_format_duration(b, sizeof(b), 14.7), "14s");
	ck_assert_str_eq(leak_format_duration(b, sizeof(b), 14 * 60 + 5), "14m");
	ck_assert_str_eq(leak_format_duration(b, sizeof(b), 2 * 3600 + 5 * 60), "2h05m");
	ck_assert_str_eq(leak_format_duration(b, sizeof(b), 3 * 86400 + 4 * 3600), "3d04h");
	ck_assert_str_eq(leak_format_duration(b, sizeof(b), INFINITY), "never");
	/* Found by fuzz_record: a damaged recording's span overflowed the int of days. */
	ck_assert_str_eq(leak_format_duration(b, sizeof(b), 1e300), ">100000d");
	ck_assert_str_eq(leak_verdict_name(VERDICT_LEAK), "leak");
}
END_TEST

/* RSS series in kB, five minutes at 2 s, judged over the default 300 s window. */
static double rss_flat(int i) { return 800 * 1024.0; }
static double rss_steady(int i) { return 200 * 1024.0 + 12.5 * 1024 / 30 * i; } /* +12.5 MB/min */
/* The same growth with +-2 MB of allocator noise on top. */
static double rss_noisy(int i) { return rss_steady(i) + (((i * 7919) % 41) - 20) * 102.4; }
static double rss_jump(int i) { return (i < 75 ? 500 : 700) * 1024.0; } /* one 200 MB allocation */
static double rss_big_slow(int i) { return 4096 * 1024.0 + 1.5 * 1024 / 30 * i; } /* 7.5 MB on 4 GB */
static double rss_small_slow(int i) { return 10 * 1024.0 + 0.5 * 1024 / 30 * i; } /* 0.5 MB/min */

static enum leak_verdict judge_mem(double (*f)(int i), size_t n, double *growth, char *reason)
{
	struct leak_params p;
	leak_params_default(&p);
	series(f);
	return leak_judge_mem(t, v, n, 300, 0, &p, growth, reason, LEAK_REASON_MAX);
}

START_TEST(mem_flat_rss_is_ok)
{
	double g;
	char reason[LEAK_REASON_MAX];
	ck_assert_int_eq(judge_mem(rss_flat, N, &g, reason), VERDICT_OK);
	ck_assert_double_eq_tol(g, 0, 1e-9);
	ck_assert_str_eq(reason, "RSS +0.0 MB/min for 4m, now 800 MB");
}
END_TEST

START_TEST(mem_steady_growth_is_leak)
{
	double g;
	char reason[LEAK_REASON_MAX];
	ck_assert_int_eq(judge_mem(rss_steady, N, &g, reason), VERDICT_LEAK);
	ck_assert_double_eq_tol(g, 12.5, 1e-6);
	/* 200 MB + 12.5 MB/min * 298 s */
	ck_assert_str_eq(reason, "RSS +12.5 MB/min for 4m, now 262 MB");
	ck_assert_int_eq(judge_mem(rss_noisy, N, &g, reason), VERDICT_LEAK);
	ck_assert_double_eq_tol(g, 12.5, 0.5);
}
END_TEST

START_TEST(mem_single_jump_is_not_leak)
{
	double g;
	char reason[LEAK_REASON_MAX];
	ck_assert_int_eq(judge_mem(rss_jump, N, &g, reason), VERDICT_OK);
	ck_assert_double_gt(g, 1); /* the fit alone would call it growth */
	ck_assert_msg(strstr(reason, "now 700 MB, in steps"), "%s", reason);
}
END_TEST

START_TEST(mem_needs_floor_share_and_full_window)
{
	double g;
	char reason[LEAK_REASON_MAX];
	/* 1.5 MB/min on 4 GB: 7.5 MB over the window is under 10% of RSS. */
	ck_assert_int_eq(judge_mem(rss_big_slow, N, &g, reason), VERDICT_OK);
	ck_assert_double_eq_tol(g, 1.5, 1e-6);
	/* 0.5 MB/min is under the 1 MB/min floor, even at 20% of a small RSS. */
	ck_assert_int_eq(judge_mem(rss_small_slow, N, &g, reason), VERDICT_OK);
	/* A minute of steady growth that adds less than 10% of RSS: not yet. */
	ck_assert_int_eq(judge_mem(rss_steady, 30, &g, reason), VERDICT_OK);
	ck_assert_double_eq_tol(g, 12.5, 1e-6);
	/* Two samples: nothing known. */
	ck_assert_int_eq(judge_mem(rss_steady, 2, &g, reason), VERDICT_OK);
	ck_assert(isnan(g));
}
END_TEST

/* 6 MB/s from 40 MB, sampled every 2 s: a minute of steady growth is enough, not
 * five (and not less: a JVM warming up or a sawtooth's rise grows as fast for half a
 * minute), and 20 s makes it a suspect; and the one verdict a process shows then says leak, with the memory
 * reason, whatever its sockets say. */
static double rss_fast(int i) { return 40 * 1024.0 + 12 * 1024.0 * i; }
START_TEST(mem_fast_growth_is_leak_within_a_minute)
{
	double g;
	char reason[LEAK_REASON_MAX];
	/* 18 s of it: nothing yet; 20 s: suspect, on the first screen; a minute: leak. */
	ck_assert_int_eq(judge_mem(rss_fast, 10, &g, reason), VERDICT_OK);
	ck_assert_int_eq(judge_mem(rss_fast, 11, &g, reason), VERDICT_SUSPECT);
	ck_assert_str_eq(reason, "RSS +360.0 MB/min for 20s, now 160 MB");
	char early[LEAK_REASON_MAX] = "no growth";
	ck_assert_int_eq(leak_combine_mem(VERDICT_OK, early, sizeof(early), VERDICT_SUSPECT, reason), VERDICT_SUSPECT);
	ck_assert_str_eq(early, "memory: RSS +360.0 MB/min for 20s, now 160 MB");
	snprintf(early, sizeof(early), "CLOSE_WAIT +20/min for 30s");
	ck_assert_int_eq(leak_combine_mem(VERDICT_SUSPECT, early, sizeof(early), VERDICT_SUSPECT, reason),
			 VERDICT_SUSPECT);
	ck_assert_str_eq(early, "CLOSE_WAIT +20/min for 30s");
	ck_assert_int_eq(judge_mem(rss_fast, 30, &g, reason), VERDICT_SUSPECT);
	ck_assert_int_eq(judge_mem(rss_fast, 31, &g, reason), VERDICT_LEAK);
	ck_assert_str_eq(reason, "RSS +360.0 MB/min for 1m, now 400 MB");
	char why[LEAK_REASON_MAX] = "no growth";
	ck_assert_int_eq(leak_combine_mem(VERDICT_OK, why, sizeof(why), VERDICT_LEAK, reason), VERDICT_LEAK);
	ck_assert_str_eq(why, "memory: RSS +360.0 MB/min for 1m, now 400 MB");
	snprintf(why, sizeof(why), "fds +4.0/min for 2m");
	ck_assert_int_eq(leak_combine_mem(VERDICT_SUSPECT, why, sizeof(why), VERDICT_OK, reason), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "fds +4.0/min for 2m");
}
END_TEST

/* Healthy memory, judged at every refresh of five minutes (it read leak at every
 * peak, and a JVM in 71 of 100 refreshes). */
static int mem_flagged_in(double (*f)(int i), uint64_t heap_kb, double dt, enum leak_verdict at_least)
{
	struct leak_params p;
	double g;
	char reason[LEAK_REASON_MAX];
	int leaks = 0;
	leak_params_default(&p);
	series(f);
	for (int i = 0; i < N; i++)
		t[i] = 1.7e9 + dt * i;
	for (size_t n = 3; n <= N; n++)
		leaks += leak_judge_mem(t, v, n, 300, heap_kb, &p, &g, reason, sizeof(reason)) >= at_least;
	return leaks;
}

/* Refreshes judged leak; and judged suspect or leak. */
static int mem_leaks_in(double (*f)(int i), uint64_t heap_kb, double dt)
{
	return mem_flagged_in(f, heap_kb, dt, VERDICT_LEAK);
}

static int mem_suspects_in(double (*f)(int i), uint64_t heap_kb, double dt)
{
	return mem_flagged_in(f, heap_kb, dt, VERDICT_SUSPECT);
}

/* 120 MB allocated over 12 s, freed, again: every 13 s, sampled every second. */
static double rss_sawtooth(int i) { return 1024.0 + (i % 13) * 10 * 1024.0; }
/* The same, each peak 1% over the last (fragmentation): still no leak. */
static double rss_sawtooth_creep(int i) { return rss_sawtooth(i) * (1 + 0.01 * (i / 13)); }
/* A cache filling to 120 MB: each second a tenth of what is missing. */
static double rss_plateau(int i) { return 50 * 1024.0 + 120 * 1024.0 * (1 - exp(-2.0 * i / 10)); }
/* A JVM's heap filling towards its maximum: +40 MB/min for five minutes, in steps as
 * the collector grows it. */
static double rss_jvm(int i) { return 70 * 1024.0 + (i / 3) * 4 * 1024.0; }

START_TEST(mem_sawtooth_plateau_and_jvm_heap_are_not_leaks)
{
	/* Not even suspect: none of them is ever a first-screen culprit. */
	ck_assert_int_eq(mem_suspects_in(rss_sawtooth, 0, 1), 0);
	ck_assert_int_eq(mem_suspects_in(rss_sawtooth_creep, 0, 1), 0);
	ck_assert_int_eq(mem_suspects_in(rss_plateau, 0, 2), 0);
	/* Within its -Xmx256m (and what a JVM needs beside it): its heap filling. */
	ck_assert_int_eq(mem_suspects_in(rss_jvm, 256 * 1024, 2), 0);
	char reason[LEAK_REASON_MAX];
	double g;
	struct leak_params p;
	leak_params_default(&p);
	series(rss_jvm);
	ck_assert_int_eq(leak_judge_mem(t, v, N, 300, 256 * 1024, &p, &g, reason, sizeof(reason)), VERDICT_OK);
	ck_assert_msg(strstr(reason, ", within its JVM heap (max 256 MB)"), "%s", reason);
	/* The same growth in a process that is no JVM, or beyond a small heap: a leak. */
	ck_assert_int_gt(mem_leaks_in(rss_jvm, 0, 2), 100);
	ck_assert_int_gt(mem_leaks_in(rss_jvm, 64 * 1024, 2), 50);
}
END_TEST

START_TEST(mem_jvm_heap_from_its_command_line)
{
	uint64_t phys = 24ULL << 20; /* 24 GB in kB */
	ck_assert_uint_eq(leak_jvm_heap_kb("java", "java -Xmx256m -cp x Main", phys), 256 * 1024);
	ck_assert_uint_eq(leak_jvm_heap_kb("java", "/usr/bin/java -Xms1g -Xmx2G Main", phys), 2 << 20);
	ck_assert_uint_eq(leak_jvm_heap_kb("java", "java -XX:MaxHeapSize=536870912 Main", phys), 512 * 1024);
	ck_assert_uint_eq(leak_jvm_heap_kb("java", "java -XX:MaxRAMPercentage=50.0 Main", phys), phys / 2);
	/* The last one wins, as in the JVM. */
	ck_assert_uint_eq(leak_jvm_heap_kb("java", "java -Xmx1g -Xmx512m Main", phys), 512 * 1024);
	/* No option: the JVM's default, a quarter of the memory (unknown in a replay). */
	ck_assert_uint_eq(leak_jvm_heap_kb("java", "java Main", phys), phys / 4);
	ck_assert_uint_eq(leak_jvm_heap_kb("java", "java Main", 0), 0);
	/* A renamed JVM thread group still runs /usr/bin/java; other programs are no JVM. */
	ck_assert_uint_eq(leak_jvm_heap_kb("worker-1", "/usr/lib/jvm/bin/java -Xmx64m App", phys), 64 * 1024);
	ck_assert_uint_eq(leak_jvm_heap_kb("python3", "python3 -Xmx256m", phys), 0);
	ck_assert_uint_eq(leak_jvm_heap_kb("javac", "javac -Xmx256m A.java", phys), 0);
	ck_assert_uint_eq(leak_jvm_heap_kb("java", "java -Xmxjunk Main", 0), 0);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "slope",
		 .tests = TESTKIT_TESTS(
			slope_flat_is_zero_and_never_runs_out,
			slope_linear_and_eta,
			slope_window_uses_recent_samples,
			slope_shrinking_never_runs_out,
			slope_noisy_is_close,
			slope_after_reset_ignores_the_old_life,
			slope_needs_three_samples)},
		{.name = "verdict",
		 .tests = TESTKIT_TESTS(
			verdict_constant_remote_growing_close_wait_is_leak,
			verdict_many_hosts_none_closed_is_leak_some_closed_suspect,
			verdict_fast_changing_remote_ports_is_churn,
			verdict_fast_leak_is_not_churn,
			verdict_pool_connections_closed_by_server_are_not_a_leak,
			verdict_held_pile_on_arrival,
			verdict_unread_pile_below_the_threshold,
			verdict_old_flat_close_wait_is_leak_and_quiet_is_ok,
			verdict_fd_growth_without_sockets,
			verdict_stalled_pile_hint_fits_its_direction,
			verdict_mirror_port_and_self,
			stall_needs_noise_and_time,
			durations_read_like_top)},
		{.name = "memory",
		 .tests = TESTKIT_TESTS(
			mem_flat_rss_is_ok,
			mem_steady_growth_is_leak,
			mem_single_jump_is_not_leak,
			mem_needs_floor_share_and_full_window,
			mem_fast_growth_is_leak_within_a_minute,
			mem_sawtooth_plateau_and_jvm_heap_are_not_leaks,
			mem_jvm_heap_from_its_command_line)},
	};

	return TESTKIT_RUN("leak", cases);
}
