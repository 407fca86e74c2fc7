/* Growth, time to exhaustion and verdicts on synthetic series. */
#include "config.h"

#include "model/leak.h"

#include <check.h>
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

/* Evidence of CLOSE_WAIT growing at rate/min for grow_s from hosts remote hosts. */
static struct leak_evidence cw_evidence(double rate, double grow_s, double oldest_s, uint32_t hosts)
{
	struct leak_evidence e = {
		.cw = (uint32_t)(rate * grow_s / 60),
		.cw_fit = {.valid = true, .slope_per_min = rate, .span_s = grow_s < 300 ? grow_s : 300, .n = 100},
		.cw_grow_s = grow_s,
		.cw_oldest_s = oldest_s,
		.cw_hosts = hosts,
		.has_fds = true,
		.fd_fit = {.valid = true, .slope_per_min = rate, .span_s = grow_s < 300 ? grow_s : 300, .n = 100},
		.fd_grow_s = grow_s,
	};
	return e;
}

START_TEST(verdict_constant_remote_growing_close_wait_is_leak)
{
	struct leak_params p;
	char why[LEAK_REASON_MAX];
	leak_params_default(&p);
	struct leak_evidence e = cw_evidence(37, 12 * 60, 14 * 60, 2);
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_LEAK);
	ck_assert_str_eq(why, "CLOSE_WAIT +37/min for 12m, oldest 14m, 2 remote hosts");
	/* Unread bytes in those sockets are named: the app stopped reading first. */
	e.cw_unread = 40;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_LEAK);
	ck_assert_msg(strstr(why, "40 with unread Recv-Q"), "reason: %s", why);
}
END_TEST

START_TEST(verdict_many_hosts_but_ageing_is_leak)
{
	struct leak_params p;
	char why[LEAK_REASON_MAX];
	leak_params_default(&p);
	/* Many clients, but nothing closed since the growth began. */
	struct leak_evidence e = cw_evidence(20, 300, 300, 8);
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_LEAK);
	ck_assert_msg(strstr(why, "8+ remote hosts"), "reason: %s", why);
	/* The same growth from many hosts with young sockets: worth a look, not a verdict. */
	e.cw_oldest_s = 30;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_SUSPECT);
}
END_TEST

START_TEST(verdict_fast_changing_remote_ports_is_churn)
{
	struct leak_params p;
	char why[LEAK_REASON_MAX];
	leak_params_default(&p);
	/* 600 connections a minute, each dying young: a flat count with turnover. */
	struct leak_evidence e = {
		.cw = 3,
		.cw_fit = {.valid = true, .slope_per_min = 0.2, .span_s = 300, .n = 150},
		.cw_oldest_s = 0.2,
		.cw_hosts = 1,
		.has_fds = true,
		.fd_fit = {.valid = true, .slope_per_min = 0.1, .span_s = 300, .n = 150},
		.new_per_min = 600,
		.watched_s = 300,
	};
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_CHURN);
	ck_assert_msg(strstr(why, "600 new sockets/min"), "reason: %s", why);
	/* Without turnover but with CLOSE_WAIT that is young: still being closed. */
	e.new_per_min = 0;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_CHURN);
	ck_assert_str_eq(why, "3 CLOSE_WAIT, oldest 200ms: being closed");
	/* Right after leaktop starts every socket looks young: that is not evidence. */
	e.watched_s = 2;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_OK);
	ck_assert_str_eq(why, "3 CLOSE_WAIT, not growing");
}
END_TEST

START_TEST(verdict_old_flat_close_wait_is_leak_and_quiet_is_ok)
{
	struct leak_params p;
	char why[LEAK_REASON_MAX];
	leak_params_default(&p);
	struct leak_evidence e = {
		.cw = 120,
		.cw_fit = {.valid = true, .slope_per_min = 0, .span_s = 300, .n = 150},
		.cw_oldest_s = 40 * 60,
		.cw_hosts = 3,
		.has_fds = true,
	};
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_LEAK);
	ck_assert_str_eq(why, "120 CLOSE_WAIT never closed, oldest 40m");
	e.cw_oldest_s = 90;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_SUSPECT);
	/* Right after start, a pile that was already there is worth a look. */
	e.cw_oldest_s = e.watched_s = 4;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "120 CLOSE_WAIT already there when watching began 4s ago");
	/* Watched for 5 minutes and all young: they are being closed. */
	e.watched_s = 300;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_CHURN);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_OK);
	ck_assert_str_eq(why, "no growth");
}
END_TEST

START_TEST(verdict_fd_growth_without_sockets)
{
	struct leak_params p;
	char why[LEAK_REASON_MAX];
	leak_params_default(&p);
	struct leak_evidence e = {
		.has_fds = true,
		.fd_fit = {.valid = true, .slope_per_min = 4, .span_s = 300, .n = 150},
		.fd_grow_s = 120,
	};
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "fds +4.0/min for 2m, not CLOSE_WAIT sockets");
	e.fd_grow_s = 3600;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_LEAK);
	/* Ports have no fds: the same figures mean nothing there. */
	e.has_fds = false;
	ck_assert_int_eq(leak_judge(&e, &p, why, sizeof(why)), VERDICT_OK);
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
	return leak_judge_mem(t, v, n, 300, &p, growth, reason, LEAK_REASON_MAX);
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

/* 6 MB/s from 40 MB, sampled every 2 s: ten steady refreshes are enough, not five
 * minutes; and the one verdict a process shows then says leak, with the memory
 * reason, whatever its sockets say. */
static double rss_fast(int i) { return 40 * 1024.0 + 12 * 1024.0 * i; }
START_TEST(mem_fast_growth_is_leak_within_ten_refreshes)
{
	double g;
	char reason[LEAK_REASON_MAX];
	ck_assert_int_eq(judge_mem(rss_fast, 9, &g, reason), VERDICT_OK);
	ck_assert_int_eq(judge_mem(rss_fast, 10, &g, reason), VERDICT_LEAK);
	ck_assert_str_eq(reason, "RSS +360.0 MB/min for 18s, now 148 MB");
	char why[LEAK_REASON_MAX] = "no growth";
	ck_assert_int_eq(leak_combine_mem(VERDICT_OK, why, sizeof(why), VERDICT_LEAK, reason), VERDICT_LEAK);
	ck_assert_str_eq(why, "memory: RSS +360.0 MB/min for 18s, now 148 MB");
	snprintf(why, sizeof(why), "fds +4.0/min for 2m");
	ck_assert_int_eq(leak_combine_mem(VERDICT_SUSPECT, why, sizeof(why), VERDICT_OK, reason), VERDICT_SUSPECT);
	ck_assert_str_eq(why, "fds +4.0/min for 2m");
}
END_TEST

static Suite *leak_suite(void)
{
	Suite *s = suite_create("leak");
	TCase *tc = tcase_create("slope");
	tcase_add_test(tc, slope_flat_is_zero_and_never_runs_out);
	tcase_add_test(tc, slope_linear_and_eta);
	tcase_add_test(tc, slope_window_uses_recent_samples);
	tcase_add_test(tc, slope_shrinking_never_runs_out);
	tcase_add_test(tc, slope_noisy_is_close);
	tcase_add_test(tc, slope_after_reset_ignores_the_old_life);
	tcase_add_test(tc, slope_needs_three_samples);
	suite_add_tcase(s, tc);
	tc = tcase_create("verdict");
	tcase_add_test(tc, verdict_constant_remote_growing_close_wait_is_leak);
	tcase_add_test(tc, verdict_many_hosts_but_ageing_is_leak);
	tcase_add_test(tc, verdict_fast_changing_remote_ports_is_churn);
	tcase_add_test(tc, verdict_old_flat_close_wait_is_leak_and_quiet_is_ok);
	tcase_add_test(tc, verdict_fd_growth_without_sockets);
	tcase_add_test(tc, durations_read_like_top);
	suite_add_tcase(s, tc);
	tc = tcase_create("memory");
	tcase_add_test(tc, mem_flat_rss_is_ok);
	tcase_add_test(tc, mem_steady_growth_is_leak);
	tcase_add_test(tc, mem_single_jump_is_not_leak);
	tcase_add_test(tc, mem_needs_floor_share_and_full_window);
	tcase_add_test(tc, mem_fast_growth_is_leak_within_ten_refreshes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(leak_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
