/* Alerts: thresholds and transitions (fire once, clear, fire again). The program
 * run per transition is tested in check_session.c. */
#include "config.h"

#include "model/alert.h"
#include "model/history.h"
#include "model/snapshot.h"
#include "tests/testkit.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static struct snapshot *s;
static struct alerts *a;

static void setup(void)
{
	s = snapshot_new();
	a = alerts_new(NULL);
	ck_assert(s && a);
}

static void teardown(void)
{
	alerts_free(a);
	snapshot_free(s);
}

/* One refresh with pid 42 at fds of 1000 allowed and cw CLOSE_WAIT sockets on 8080. */
static int refresh(int64_t fds, unsigned cw)
{
	snapshot_clear(s);
	TESTKIT_PROC(s, .pid = 42, .start_time = 99, .fds = fds, .fd_limit = 1000, .comm = "java");
	for (unsigned i = 0; i < cw; i++)
		TESTKIT_SOCK(s, .cookie = i + 1, .inode = i + 1, .proto = IPPROTO_TCP, .state = ST_CLOSE_WAIT, .lport = 8080,
			     .rport = (uint16_t)(40000 + i), .held = true, .proc = 0, .fd = (int32_t)i + 3);
	s->totals.file_alloc = 1000, s->totals.file_max = 100000;
	ck_assert_int_eq(snapshot_build(s), 0);
	return alerts_update(a, s, NULL);
}

static const struct alert *event(size_t i)
{
	size_t n;
	const struct alert *e = alerts_events(a, &n);
	ck_assert_uint_lt(i, n);
	return &e[i];
}

START_TEST(fd_usage_fires_once_clears_and_fires_again)
{
	ck_assert_int_eq(refresh(500, 0), 0);
	ck_assert_int_eq(refresh(800, 0), 1);
	ck_assert_int_eq(event(0)->kind, ALERT_FD_USAGE);
	ck_assert_int_eq(event(0)->level, ALERT_WARNING);
	ck_assert_int_eq(event(0)->pid, 42);
	ck_assert_str_eq(event(0)->comm, "java");
	ck_assert_double_eq(event(0)->value, 80);
	ck_assert_double_eq(event(0)->threshold, 75);
	ck_assert_str_eq(event(0)->message, "pid 42 (java) uses 80% of its fd limit (800 of 1000)");
	/* Still over: no second alert. */
	ck_assert_int_eq(refresh(810, 0), 0);
	/* Over 90%: escalates once. */
	ck_assert_int_eq(refresh(950, 0), 1);
	ck_assert_int_eq(event(0)->level, ALERT_CRITICAL);
	ck_assert_int_eq(refresh(960, 0), 0);
	/* Back under 90% but over 75%: quiet; it may escalate again later. */
	ck_assert_int_eq(refresh(800, 0), 0);
	size_t n;
	ck_assert_int_eq(alerts_active(a, &n)[0].level, ALERT_WARNING);
	/* Clear of the threshold by 10% for three refreshes: cleared on the third. */
	ck_assert_int_eq(refresh(500, 0), 0);
	ck_assert_int_eq(refresh(500, 0), 0);
	ck_assert_int_eq(refresh(500, 0), 1);
	ck_assert_int_eq(event(0)->level, ALERT_CLEAR);
	ck_assert_ptr_nonnull(strstr(event(0)->message, "cleared"));
	ck_assert_int_eq(refresh(500, 0), 0);
	ck_assert_int_eq(refresh(760, 0), 1);
	ck_assert_int_eq(event(0)->level, ALERT_WARNING);
}
END_TEST

/* FD% as every output shows it (view_fd_pct): the alert compares the exact figure
 * and its message cuts it, as the dashboard does: 74.9% is quiet, 75.9% says 75. */
START_TEST(fd_usage_message_says_what_the_dashboard_shows)
{
	ck_assert_int_eq(refresh(749, 0), 0);
	ck_assert_int_eq(refresh(759, 0), 1);
	ck_assert_double_eq_tol(event(0)->value, 75.9, 1e-9);
	ck_assert_str_eq(event(0)->message, "pid 42 (java) uses 75% of its fd limit (759 of 1000)");
	ck_assert_int_eq(refresh(899, 0), 0);
	ck_assert_int_eq(refresh(900, 0), 1);
	ck_assert_int_eq(event(0)->level, ALERT_CRITICAL);
}
END_TEST

START_TEST(close_wait_per_process_and_port)
{
	ck_assert_int_eq(refresh(200, 100), 0); /* 100 is not above 100 */
	ck_assert_int_eq(refresh(200, 101), 2);
	ck_assert_int_eq(event(0)->kind, ALERT_CLOSE_WAIT);
	ck_assert_int_eq(event(1)->kind, ALERT_PORT_CLOSE_WAIT);
	ck_assert_uint_eq(event(1)->port, 8080);
	ck_assert_str_eq(event(1)->message, "local port 8080 has 101 CLOSE_WAIT sockets (more than 100)");
	ck_assert_int_eq(refresh(200, 150), 0);
	ck_assert_int_eq(refresh(200, 0), 0);
	ck_assert_int_eq(refresh(200, 0), 0);
	ck_assert_int_eq(refresh(200, 0), 2);
	ck_assert_int_eq(event(0)->level, ALERT_CLEAR);
	ck_assert_int_eq(event(1)->level, ALERT_CLEAR);
}
END_TEST

/* Churn around the CLOSE_WAIT threshold (the incident: fired and cleared 4 times in
 * 60 s): a value wobbling around 100 fires once and stays; it clears only after three
 * refreshes at or below 90, and a refresh in between (95) starts the count again. */
START_TEST(wobbling_value_fires_once)
{
	static const uint32_t cw[] = {101, 99, 102, 95, 101, 98, 100, 97, 103, 99};
	size_t fired = 0, cleared = 0, n;
	for (size_t i = 0; i < sizeof(cw) / sizeof(cw[0]); i++) {
		ck_assert_int_ge(refresh(200, cw[i]), 0);
		const struct alert *e = alerts_events(a, &n);
		for (size_t k = 0; k < n; k++)
			e[k].level ? fired++ : cleared++;
	}
	ck_assert_uint_eq(fired, 2); /* the process and its port, once each */
	ck_assert_uint_eq(cleared, 0);
	ck_assert_uint_eq((alerts_active(a, &n), n), 2);
	ck_assert_int_eq(refresh(200, 80), 0);
	ck_assert_int_eq(refresh(200, 80), 0);
	ck_assert_int_eq(refresh(200, 95), 0); /* near the threshold again */
	ck_assert_int_eq(refresh(200, 80), 0);
	ck_assert_int_eq(refresh(200, 90), 0);
	ck_assert_int_eq(refresh(200, 80), 2);
	ck_assert_int_eq(event(0)->level, ALERT_CLEAR);
	ck_assert_uint_eq((alerts_active(a, &n), n), 0);
}
END_TEST

START_TEST(thresholds_are_settable_and_file_nr)
{
	struct alert_thresholds t;
	alert_thresholds_default(&t);
	t.fd_warn_pct = 10, t.close_wait = 3, t.file_nr_pct = 1;
	alerts_free(a);
	a = alerts_new(&t);
	/* 20% fds, 4 CLOSE_WAIT, 1% of file-max: four alerts. */
	ck_assert_int_eq(refresh(200, 4), 4);
	ck_assert_int_eq(event(3)->kind, ALERT_FILE_NR);
	ck_assert_str_eq(event(3)->message, "system uses 1% of fs.file-max (1000 of 100000)");
}
END_TEST

START_TEST(filters_limit_alerts_to_the_chosen_processes)
{
	struct view_filter f = {0};
	ck_assert_int_eq(view_filter_pids(&f, "43", NULL), 0);
	alerts_set_filter(a, &f);
	ck_assert_int_eq(refresh(950, 0), 0); /* pid 42 is not watched */
	ck_assert_int_eq(view_filter_pids(&f, "42", NULL), 0);
	alerts_set_filter(a, &f);
	ck_assert_int_eq(refresh(950, 0), 1);
}
END_TEST

START_TEST(eta_alert_from_history)
{
	struct history *h = history_new(NULL);
	int fired = 0;
	/* +60 fds/min toward a limit of 1000: runs out within 30 min once over ~1 min of history. */
	for (int r = 0; r < 10; r++) {
		snapshot_clear(s);
		TESTKIT_PROC(s, .pid = 7, .start_time = 1, .fds = 100 + 2 * r, .fd_limit = 1000);
		s->time = 1.7e9 + 2.0 * r;
		ck_assert_int_eq(snapshot_build(s), 0);
		ck_assert_int_eq(history_update(h, s), 0);
		int n = alerts_update(a, s, h);
		for (int i = 0; i < n; i++)
			if (event((size_t)i)->kind == ALERT_FD_ETA)
				fired++;
	}
	ck_assert_int_eq(fired, 1);
	size_t n;
	const struct alert *act = alerts_active(a, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(act[0].kind, ALERT_FD_ETA);
	ck_assert_double_eq_tol(act[0].value, (1000 - 118) / 60.0, 1e-6);
	history_free(h);
}
END_TEST

/* One refresh of pid 7 (comm name) into h and the alerts; returns the transitions. */
static int history_refresh(struct history *h, int r, const char *name, int64_t fds, uint64_t rss_kb, uint32_t flags)
{
	snapshot_clear(s);
	TESTKIT_PROC(s, .pid = 7, .start_time = 1, .fds = fds, .fd_limit = 1000, .rss_kb = rss_kb, .flags = flags,
		     .comm = name);
	s->time = 1.7e9 + 2.0 * r;
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_int_eq(history_update(h, s), 0);
	int n = alerts_update(a, s, h);
	ck_assert_int_ge(n, 0);
	return n;
}

/* A memory leak is an alert of its own kind, from the memory verdict: fired once. */
START_TEST(memory_leak_is_an_alert_of_its_own)
{
	struct history *h = history_new(NULL);
	int fired = 0, at = -1;
	for (int r = 0; r < 45; r++) {
		int n = history_refresh(h, r, "memleak", 10, 40 * 1024 + (uint64_t)r * 12 * 1024, 0);
		for (int i = 0; i < n; i++)
			if (event((size_t)i)->kind == ALERT_MEM && event((size_t)i)->level == ALERT_WARNING)
				fired++, at = r;
	}
	ck_assert_int_eq(fired, 1);
	ck_assert_int_eq(at, 30); /* a minute of growth, as the verdict */
	size_t n;
	const struct alert *act = alerts_active(a, &n);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(alert_kind_name(act[0].kind), "mem");
	ck_assert_msg(!strncmp(act[0].message, "pid 7 (memleak) leaks memory: RSS +360.0 MB/min for 1m", 54), "%s",
		      act[0].message);
	ck_assert_double_eq_tol(act[0].value, 360, 1e-6);
	history_free(h);
}
END_TEST

/* leaktop's own process raises nothing, near its fd limit or not. */
START_TEST(own_process_raises_no_alert)
{
	struct history *h = history_new(NULL);
	for (int r = 0; r < 45; r++)
		ck_assert_int_eq(history_refresh(h, r, "leaktop", 950, 40 * 1024 + (uint64_t)r * 12 * 1024, PROC_SELF), 0);
	history_free(h);
}
END_TEST

/* fd_eta clears when the fds stop growing, but they stay: a stall, not an all-clear,
 * and its clearing message (what the recording and the report keep) says so. */
START_TEST(eta_alert_clears_as_a_stall)
{
	struct history *h = history_new(NULL);
	char cleared[ALERT_MESSAGE_MAX] = "";
	for (int r = 0; r < 40; r++) {
		int n = history_refresh(h, r, "pool", r < 20 ? 100 + 10 * r : 290, 1024, 0);
		for (int i = 0; i < n; i++)
			if (event((size_t)i)->kind == ALERT_FD_ETA && event((size_t)i)->level == ALERT_CLEAR)
				snprintf(cleared, sizeof(cleared), "%s", event((size_t)i)->message);
	}
	ck_assert_msg(strstr(cleared, "; cleared: growth stopped at 290 fds (stalled, not resolved)"), "%s", cleared);
	history_free(h);
}
END_TEST

/* An alert and a verdict never contradict: a process an active alert names is not ok. */
START_TEST(active_alert_raises_an_ok_verdict)
{
	struct alert_thresholds t;
	alert_thresholds_default(&t);
	t.fd_warn_pct = 50; /* the history's own rule looks from 75% */
	alerts_free(a);
	a = alerts_new(&t);
	struct history *h = history_new(NULL);
	for (int r = 0; r < 3; r++) {
		history_refresh(h, r, "busy", 600, 1024, 0);
		alerts_raise(a, h);
	}
	const struct history_stats *st = history_proc(h, 7, 1);
	ck_assert_int_eq(st->verdict, VERDICT_SUSPECT);
	ck_assert_str_eq(st->reason, "pid 7 (busy) uses 60% of its fd limit (600 of 1000)");
	size_t n;
	history_changes(h, &n);
	ck_assert_uint_eq(n, 0); /* raised at the first refresh; no news since */
	history_free(h);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "alert", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			fd_usage_fires_once_clears_and_fires_again,
			fd_usage_message_says_what_the_dashboard_shows,
			close_wait_per_process_and_port,
			wobbling_value_fires_once,
			thresholds_are_settable_and_file_nr,
			filters_limit_alerts_to_the_chosen_processes,
			eta_alert_from_history,
			memory_leak_is_an_alert_of_its_own,
			own_process_raises_no_alert,
			eta_alert_clears_as_a_stall,
			active_alert_raises_an_ok_verdict)},
	};

	return TESTKIT_RUN("alert", cases);
}
