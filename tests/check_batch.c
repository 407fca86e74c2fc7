/* Batch output: the JSON Lines and text reports of a small hand-built refresh, the
 * --pid/--port filters, and escaping of hostile process names. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "model/alert.h"
#include "outputs/batch.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "tests/testkit.h"

static struct snapshot *s;

/* Two processes: pid 100 (a hostile name) with a listener on :19001 and 5 CLOSE_WAIT
 * sockets holding bytes, pid 200 with a connection to :6379; all on 127.0.0.1. */
static void setup(void)
{
	s = snapshot_new();
	TESTKIT_PROC(s, .pid = 100, .fds = 500, .fd_limit = 1024, .user = "svc");
	text_escape(s->procs[0].comm, sizeof(s->procs[0].comm), "\x1b[31mevil\"", 11);
	TESTKIT_PROC(s, .pid = 200, .fds = 7, .fd_limit = UINT64_MAX, .comm = "quiet");
	TESTKIT_SOCK(s, .cookie = 1, .inode = 11, .state = ST_LISTEN, .lport = 19001, .laddr = "127.0.0.1",
		     .raddr = "127.0.0.1");
	for (unsigned i = 0; i < 5; i++)
		TESTKIT_SOCK(s, .cookie = 10 + i, .inode = 20 + i, .state = ST_CLOSE_WAIT, .lport = 19001,
			     .rport = (uint16_t)(40000 + i), .rq = 100 + i, .laddr = "127.0.0.1", .raddr = "127.0.0.1",
			     .held = true, .proc = 0, .fd = (int32_t)(10 + i));
	TESTKIT_SOCK(s, .cookie = 30, .inode = 31, .state = ST_ESTABLISHED, .lport = 45000, .rport = 6379,
		     .laddr = "127.0.0.1", .raddr = "127.0.0.1", .held = true, .proc = 1, .fd = 3);
	s->time = 1700000000.5;
	s->tick = 3;
	ck_assert_int_eq(snapshot_build(s), 0);
}

static void teardown(void)
{
	snapshot_free(s);
}

static char *render(enum out_format fmt, const char *pids, const char *ports)
{
	struct batch_opts o = {.format = fmt, .backlog_max = 3, .clk_tck = 100};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (pids)
		ck_assert_int_eq(view_filter_pids(&o.filter, pids, NULL), 0);
	if (ports)
		ck_assert_int_eq(view_filter_ports(&o.filter, ports, NULL), 0);
	ck_assert_int_eq(batch_write(f, s, NULL, &o), 0);
	fclose(f);
	return buf;
}

START_TEST(test_json_line)
{
	char *out = render(FMT_JSON, NULL, NULL);
	/* One object, one line. */
	ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
	ck_assert_ptr_nonnull(strstr(out, "\"time\": 1700000000.500, \"tick\": 3"));
	/* States in the kernel's order. */
	ck_assert_ptr_nonnull(strstr(out, "\"states\": {\"ESTABLISHED\": 1, \"CLOSE_WAIT\": 5, \"LISTEN\": 1}"));
	/* Sorted by fds, the leaker first; the escape sequence is escaped twice over:
	 * once for the terminal, once for JSON. */
	char *first = strstr(out, "\"processes\": [{\"pid\": 100,");
	ck_assert_ptr_nonnull(first);
	ck_assert_ptr_nonnull(strstr(out, "\"comm\": \"\\\\x1b[31mevil\\\"\""));
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_nonnull(strstr(out, "\"fd_limit\": null"));
	ck_assert_ptr_nonnull(strstr(out, "{\"port\": 19001, \"side\": \"local\", \"sockets\": 6, \"pids\": [100]"));
	ck_assert_ptr_nonnull(strstr(out, "\"accept_q\": 0, \"accept_max\": 0"));
	/* The backlog holds the top 3 by Recv-Q, largest first. */
	char *b = strstr(out, "\"backlog\": [");
	ck_assert_ptr_nonnull(b);
	char *r104 = strstr(b, "\"recv_q\": 104"), *r103 = strstr(b, "\"recv_q\": 103"),
	     *r102 = strstr(b, "\"recv_q\": 102");
	ck_assert(r104 && r103 && r102 && r104 < r103 && r103 < r102);
	ck_assert_ptr_null(strstr(b, "\"recv_q\": 101"));
	ck_assert_ptr_nonnull(strstr(b, "{\"pid\": 100, \"fd\": 14, \"local\": \"127.0.0.1:19001\", "
					"\"remote\": \"127.0.0.1:40004\", \"state\": \"CLOSE_WAIT\""));
	free(out);
}
END_TEST

START_TEST(test_filters)
{
	char *out = render(FMT_JSON, "200", NULL);
	ck_assert_ptr_null(strstr(out, "\"pid\": 100"));
	ck_assert_ptr_nonnull(strstr(out, "\"pid\": 200"));
	ck_assert_ptr_nonnull(strstr(out, "\"backlog\": []"));
	free(out);
	out = render(FMT_JSON, NULL, "6379");
	ck_assert_ptr_nonnull(strstr(out, "\"processes\": [{\"pid\": 200"));
	ck_assert_ptr_null(strstr(out, "\"port\": 19001"));
	free(out);

	struct view_filter f = {0};
	char *cause = NULL;
	ck_assert_int_eq(view_filter_ports(&f, "80,x", &cause), -EINVAL);
	ck_assert_ptr_nonnull(strstr(cause, "bad port list"));
	free(cause);
	ck_assert_int_eq(view_filter_ports(&f, "70000", NULL), -EINVAL);
	ck_assert_int_eq(view_filter_pids(&f, "0", NULL), -EINVAL);
}
END_TEST

/* --sockets: every socket with every (pid, fd) that holds it, shared ones included;
 * without it, no "sockets" array at all. */
START_TEST(test_json_sockets)
{
	/* Process 200 (index 1) also holds one of 100's sockets (fork), at fd 9. */
	struct sock_owner *o = snapshot_add_owner(s);
	o->proc = 1, o->fd = 9, o->inode = 22;
	ck_assert_int_eq(snapshot_build(s), 0);

	char *plain = render(FMT_JSON, NULL, NULL);
	ck_assert_ptr_null(strstr(plain, "\"sockets\": ["));
	free(plain);

	struct batch_opts opt = {.format = FMT_JSON, .backlog_max = 3, .clk_tck = 100, .sockets = true};
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ck_assert_int_eq(batch_write(f, s, NULL, &opt), 0);
	fclose(f);
	char *a = strstr(out, "\"sockets\": [");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_nonnull(strstr(a, "{\"inode\": 22, \"state\": \"CLOSE_WAIT\", \"local\": \"127.0.0.1:19001\", "
					"\"remote\": \"127.0.0.1:40002\", \"recv_q\": 102, \"send_q\": 0, "
					"\"owners\": [{\"pid\": 100, \"fd\": 12}, {\"pid\": 200, \"fd\": 9}]}"));
	ck_assert_ptr_nonnull(strstr(a, "{\"inode\": 11, \"state\": \"LISTEN\""));
	ck_assert_ptr_nonnull(strstr(a, "\"owners\": [{\"pid\": 200, \"fd\": 3}]"));
	/* The listener has no holder in this snapshot. */
	ck_assert_ptr_nonnull(strstr(a, "\"recv_q\": 0, \"send_q\": 0, \"owners\": []}"));
	ck_assert_ptr_eq(strchr(out, '\n'), out + strlen(out) - 1);
	free(out);
}
END_TEST

START_TEST(test_text_report)
{
	char *out = render(FMT_TEXT, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(out, "Sockets: 7 total"));
	ck_assert_ptr_nonnull(strstr(out, "5 CLOSE_WAIT"));
	/* The dashboard's columns: titles, widths, formatters (500 of 1024 fds is 48.8%: 48). */
	ck_assert_ptr_nonnull(strstr(out, "\n    PID USER     COMMAND             FDS LIMIT FD% SOCKS CLOSE_W ESTAB RECV-Q   RSS "
					  "CLOSED    UDP   UNIX      NETNS CONTAINER/UNIT\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n    100 svc      \\x1b[31mevil\"       500  1024  48     5       5     0    510"));
	ck_assert_ptr_nonnull(strstr(out, "\n    200          quiet                 7     -   -     1"));
	ck_assert_ptr_nonnull(strstr(out, "\n 6379 remote      1      0 tcp   1 ESTABLISHED; pids 200\n"));
	ck_assert_ptr_nonnull(strstr(out, "\n19001 local       6    510 tcp   5 CLOSE_WAIT, 1 LISTEN; accept queue 0/0; pids 100\n"));
	/* The backlog, largest Recv-Q first; no row ends in a space. */
	ck_assert_ptr_nonnull(strstr(out, "\nRECV-Q     PID    FD PROTO STATE      LOCAL                 REMOTE                   SEND-Q\n"
					  "   104     100    14 tcp   CLOSE_WAIT 127.0.0.1:19001       127.0.0.1:40004               0\n"));
	ck_assert_ptr_null(strstr(out, " \n"));
	ck_assert_ptr_null(strchr(out, '\x1b'));
	free(out);
}
END_TEST

/* How often `what` occurs in out between `from` and `to`. */
static int count_between(const char *out, const char *from, const char *to, const char *what)
{
	const char *a = strstr(out, from), *b = a ? strstr(a, to) : NULL;
	int n = 0;

	ck_assert_msg(a && b, "no %s ... %s in %s", from, to, out);
	for (const char *p = a; (p = strstr(p, what)) && p < b; p += strlen(what))
		n++;
	return n;
}

/* Text and JSON come from one walk: with --top, --backlog and a filter they list the
 * same processes, ports and backlog sockets, in the same order. */
START_TEST(test_one_walk)
{
	static const struct {
		size_t top, backlog;
		const char *ports;
		int procs, nports, nbacklog;
	} cases[] = {
		{0, 3, NULL, 2, 2, 3},
		{1, 1, NULL, 1, 1, 1},
		{0, 10, "6379", 1, 1, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *out[FMT_OPENMETRICS];
		for (int fmt = FMT_TEXT; fmt < FMT_OPENMETRICS; fmt++) {
			struct batch_opts o = {.format = fmt, .top = cases[i].top, .backlog_max = cases[i].backlog,
					       .clk_tck = 100};
			size_t len = 0;
			if (cases[i].ports)
				ck_assert_int_eq(view_filter_ports(&o.filter, cases[i].ports, NULL), 0);
			FILE *f = open_memstream(&out[fmt], &len);
			ck_assert_int_eq(batch_write(f, s, NULL, &o), 0);
			fclose(f);
		}
		const char *t = out[FMT_TEXT], *j = out[FMT_JSON];
		/* Text: a table's rows run from its title line to the blank line after it. */
		ck_assert_int_eq(count_between(t, "\n    PID USER", "\n\n", "\n") - 1, cases[i].procs);
		ck_assert_int_eq(count_between(j, "\"processes\": [", "\"ports\": [", "\"start_time\": "), cases[i].procs);
		ck_assert_int_eq(count_between(t, "\n PORT", "\n\n", "\n") - 1, cases[i].nports);
		ck_assert_int_eq(count_between(j, "\"ports\": [", "\"backlog\": [", "\"side\": "), cases[i].nports);
		ck_assert_int_eq(count_between(j, "\"backlog\": [", "\"alerts\": [", "\"inode\": "), cases[i].nbacklog);
		if (cases[i].nbacklog)
			ck_assert_int_eq(count_between(t, "\nRECV-Q", "\n\n", "\n") - 1, cases[i].nbacklog);
		else
			ck_assert_ptr_null(strstr(t, "\nRECV-Q"));
		/* --top keeps the same process in both: the most fds. */
		if (cases[i].top) {
			ck_assert_ptr_nonnull(strstr(j, "\"processes\": [{\"pid\": 100,"));
			ck_assert_ptr_nonnull(strstr(t, "\n    100 svc"));
		}
		free(out[FMT_TEXT]);
		free(out[FMT_JSON]);
	}
}
END_TEST

START_TEST(test_escape)
{
	char buf[64];
	text_escape(buf, sizeof(buf), "a\tb\\c\xc2\x9b" "d\xff", 10);
	ck_assert_str_eq(buf, "a\\x09b\\\\c\\xc2\\x9bd\\xff");
	text_escape(buf, sizeof(buf), "caf\xc3\xa9", 5);
	ck_assert_str_eq(buf, "caf\xc3\xa9");
	/* Never cut an escape in half. */
	text_escape(buf, 6, "ab\x1b", 3);
	ck_assert_str_eq(buf, "ab");
	ck_assert_int_eq(options_format_parse("json"), FMT_JSON);
	ck_assert_int_eq(options_format_parse("xml"), -1);
}
END_TEST


/* UNIX sockets (hostile names stay escaped), UDP, CLOSED fds and the netns. */
START_TEST(test_kinds_netns)
{
	s->procs[1].netns = 4026531840ULL;
	snapshot_add_netns(s, 4026531840ULL, true)->own = true;
	s->closed_valid = true;
	struct sock_rec *k = snapshot_add_sock(s);
	k->cookie = 50, k->inode = 51, k->family = AF_UNIX, k->type = SOCK_STREAM;
	k->state = ST_ESTABLISHED, k->rqueue = 9999;
	ck_assert_int_eq(snapshot_sock_set_netns(s, k, 4026531840ULL), 0);
	k->un.name = snapshot_add_name(s, "/tmp/\x1b]0;pwned\x07\"", 16);
	k->un.peer = 52;
	k = snapshot_add_sock(s);
	k->cookie = 60, k->inode = 61, k->family = AF_INET, k->proto = IPPROTO_UDP, k->state = ST_CLOSE;
	k->lport = 5353, k->rqueue = 700;
	ck_assert_int_eq(snapshot_sock_set_netns(s, k, 4026531840ULL), 0);
	struct sock_owner *o = snapshot_add_owner(s);
	o->proc = 1, o->fd = 4, o->inode = 51;
	o = snapshot_add_owner(s);
	o->proc = 1, o->fd = 5, o->inode = 61;
	o = snapshot_add_owner(s);
	o->proc = 1, o->fd = 6, o->inode = 70; /* in no dump: CLOSED */
	ck_assert_int_eq(snapshot_build(s), 0);

	char *out = render(FMT_JSON, NULL, NULL);
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_null(strchr(out, '\x07'));
	ck_assert_ptr_nonnull(strstr(out, "\"udp\": 1, \"unix\": 1, \"other_sockets\": 0, \"closed\": 1"));
	ck_assert_ptr_nonnull(strstr(out, "\"states\": {\"ESTABLISHED\": 1, \"CLOSED\": 1}, \"netns\": 4026531840"));
	ck_assert_ptr_nonnull(strstr(out, "\"local\": \"/tmp/\\\\x1b]0;pwned\\\\x07\\\"\", \"remote\": null, \"peer\": 52"));
	ck_assert_ptr_nonnull(strstr(out, "\"proto\": \"unix\""));
	ck_assert_ptr_nonnull(strstr(out, "{\"port\": 5353, \"side\": \"local\", \"sockets\": 1"));
	ck_assert_ptr_nonnull(strstr(out, "\"proto\": \"udp\", \"netns\": 4026531840}"));
	ck_assert_ptr_nonnull(strstr(out, "\"netns_visible\": \"all\", \"netns\": [{\"netns\": 4026531840, "
					  "\"processes\": 1, \"sockets\": 2, \"dumped\": true, \"own\": true}]"));
	free(out);

	out = render(FMT_TEXT, NULL, NULL);
	ck_assert_ptr_null(strchr(out, '\x1b'));
	ck_assert_ptr_nonnull(strstr(out, "1 UDP, 1 UNIX, 0 other; 1 CLOSED"));
	ck_assert_ptr_nonnull(strstr(out, "\n 5353 local       1    700 udp   1 CLOSE; pids 200\n"));
	/* A UNIX socket in the backlog: its name (escaped) and its peer. */
	ck_assert_ptr_nonnull(strstr(out, " unix  ESTAB      /tmp/\\x1b]0;pwned\\x07\" peer 52 "));
	ck_assert_ptr_nonnull(strstr(out, "Network namespaces: 1 dumped of 1"));
	free(out);

	s->netns_limited = true;
	out = render(FMT_TEXT, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(out, "only leaktop's own is visible (not root)"));
	free(out);
}
END_TEST

/* The FD% cell of row `pid` in a text report: the figure under the "FD%" title,
 * which ends where the title ends. */
static char *text_fd_pct(const char *out, int pid, char *cell)
{
	const char *head = strstr(out, "FD%");
	ck_assert_ptr_nonnull(head);
	const char *line = head;
	while (line > out && line[-1] != '\n')
		line--;
	size_t end = (size_t)(head - line) + 3;
	char want[16];
	snprintf(want, sizeof(want), "\n%7d ", pid);
	const char *row = strstr(head, want);
	ck_assert_ptr_nonnull(row);
	row++;
	size_t from = end;
	while (from > 0 && row[from - 1] != ' ')
		from--;
	snprintf(cell, 16, "%.*s", (int)(end - from), row + from);
	return cell;
}

/* One process at fds of 1000: what the dashboard's FD% cell, the text report, JSON
 * and OpenMetrics say, and whether the 75% alert fires. */
static void fd_pct_everywhere(struct alerts *a, int64_t fds, const char *shown, const char *json,
			      const char *ratio, int transitions)
{
	snapshot_clear(s);
	struct proc_rec *p = snapshot_add_proc(s);
	p->pid = 42, p->start_time = 99, p->fds = fds, p->fd_limit = 1000;
	strcpy(p->comm, "java");
	ck_assert_int_eq(snapshot_build(s), 0);

	char cell[64], want[128];
	struct view_ctx ctx = {.s = s};
	view_tables[VT_PROCS].cols[PC_FDPCT].fmt(&ctx, 0, cell, sizeof(cell));
	ck_assert_str_eq(cell, shown);

	char *out = render(FMT_TEXT, NULL, NULL);
	ck_assert_str_eq(text_fd_pct(out, 42, cell), shown);
	free(out);

	out = render(FMT_JSON, NULL, NULL);
	snprintf(want, sizeof(want), "\"fd_pct\": %s,", json);
	ck_assert_msg(strstr(out, want), "no %s in %s", want, out);
	free(out);

	out = render(FMT_OPENMETRICS, NULL, NULL);
	snprintf(want, sizeof(want), "leaktop_process_fd_usage_ratio{pid=\"42\",comm=\"java\",container=\"\"} %s\n", ratio);
	ck_assert_msg(strstr(out, want), "no %s in %s", want, out);
	free(out);

	ck_assert_int_eq(alerts_update(a, s, NULL), transitions);
	if (transitions) {
		size_t n;
		const struct alert *e = alerts_events(a, &n);
		snprintf(want, sizeof(want), "uses %s%% of its fd limit", shown);
		ck_assert_int_eq(e[0].kind, ALERT_FD_USAGE);
		ck_assert_msg(strstr(e[0].message, want), "%s", e[0].message);
	}
}

/* 749 of 1000 fds is 74.9%: every output says 74 (JSON 74.90) and the 75% alert
 * stays quiet; at 750 every output says 75 and the alert fires. No output rounds
 * 74.9 up to a 75 the alert does not agree with. */
START_TEST(test_fd_pct_one_rule)
{
	struct alerts *a = alerts_new(NULL);
	ck_assert_ptr_nonnull(a);
	fd_pct_everywhere(a, 749, "74", "74.90", "0.7490", 0);
	fd_pct_everywhere(a, 750, "75", "75.00", "0.7500", 1);
	fd_pct_everywhere(a, 899, "89", "89.90", "0.8990", 0);
	alerts_free(a);
}
END_TEST

/* A damaged recording can hold any time (sqlite3 t.db 'UPDATE refresh SET time=1e18'):
 * the text report says "?" instead of crashing in strftime, and JSON stays JSON: a
 * number it cannot hold is null, never nan or inf. */
/* An RSS no machine has (a damaged recording's -1 read as unsigned) is unknown: JSON
 * null (it printed 18446744073709551615, which JSON readers show as
 * 18446744073709552000), the text report "-" (its bytes wrapped to 16383P). */
START_TEST(test_extreme_rss)
{
	s->procs[0].rss_kb = UINT64_MAX;
	s->procs[1].rss_kb = 2048;
	char *out = render(FMT_JSON, NULL, NULL);
	ck_assert_msg(strstr(out, "\"rss_kb\": null") != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"rss_kb\": 2048"));
	ck_assert_ptr_null(strstr(out, "18446744073709551615"));
	free(out);
	s->procs[0].rss_kb = ((uint64_t)1 << 44) + 1;
	out = render(FMT_JSON, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"rss_kb\": null"));
	free(out);
	s->procs[0].rss_kb = (uint64_t)1 << 44; /* 16 PiB: the largest still taken */
	out = render(FMT_JSON, NULL, NULL);
	ck_assert_ptr_nonnull(strstr(out, "\"rss_kb\": 17592186044416"));
	free(out);
	s->procs[0].rss_kb = UINT64_MAX;
	out = render(FMT_TEXT, NULL, NULL);
	ck_assert_ptr_null(strstr(out, "16383P"));
	ck_assert_ptr_nonnull(strstr(out, " 2048K "));
	free(out);
}
END_TEST

START_TEST(test_bad_times)
{
	static const double bad[] = {1e18, -1e18, 1e300, INFINITY, -INFINITY, NAN};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s->time = bad[i];
		s->refresh_ms = bad[i];
		char *out = render(FMT_TEXT, NULL, NULL);
		ck_assert_msg(!strncmp(out, "leaktop - ?  refresh 3 ", 23), "%.60s", out);
		free(out);

		struct batch_opts o = {.format = FMT_JSON, .backlog_max = 3, .clk_tck = 100, .boot_time = bad[i]};
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);
		ck_assert_int_eq(batch_write(f, s, NULL, &o), 0);
		fclose(f);
		for (const char *p = out; (p = strstr(p, ": ")); p += 2) {
			const char *v = p[2] == '-' ? p + 3 : p + 2;
			ck_assert_msg(strncasecmp(v, "nan", 3) && strncasecmp(v, "inf", 3), "%.40s in %s", p, out);
		}
		if (!isfinite(bad[i]))
			ck_assert_ptr_nonnull(strstr(out, "{\"time\": null, \"tick\": 3, \"refresh_ms\": null, "));
		ck_assert_ptr_nonnull(strstr(out, "\"pid\": 100, \"start_time\": "));
		free(out);
	}
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			test_json_line,
			test_filters,
			test_json_sockets,
			test_text_report,
			test_one_walk,
			test_escape,
			test_kinds_netns,
			test_fd_pct_one_rule,
			test_bad_times,
			test_extreme_rss)},
	};

	return TESTKIT_RUN("batch", cases);
}
