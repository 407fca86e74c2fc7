/* OpenMetrics output: the exposition is well-formed line by line (a strict reading
 * of the text format), carries the snapshot's numbers and the active alerts, keeps
 * cardinality bounded with an "other" series, and escapes label values. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/alert.h"
#include "outputs/batch.h"
#include "model/history.h"
#include "outputs/metrics.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "tests/testkit.h"

static struct snapshot *s;

/* A TCP socket in leaktop's own namespace, no addresses. */
#define SOCK(...) TESTKIT_SOCK(s, .proto = IPPROTO_TCP, .netns = 4026531840ULL, __VA_ARGS__)

/* Three processes: a leaker (pid 100, 4 CLOSE_WAIT on :8080, a CLOSED fd, a name
 * that needs escaping), and two quiet ones with a socket each on other ports. */
static void setup(void)
{
	s = snapshot_new();
	const char *names[] = {"ja\"va\\x", "redis", "curl"};
	for (int i = 0; i < 3; i++) {
		int p = TESTKIT_PROC(s, .pid = 100 * (i + 1), .fds = 50 - 10 * i, .fd_limit = i == 2 ? UINT64_MAX : 1024,
				     .rss_kb = 1000, .netns = 4026531840ULL);
		text_escape(s->procs[p].comm, sizeof(s->procs[p].comm), names[i], strlen(names[i]));
	}
	strcpy(s->procs[0].container, "docker:0123456789ab");
	snapshot_add_netns(s, 4026531840ULL, true)->own = true;
	s->closed_valid = true;
	SOCK(.cookie = 1, .inode = 10, .state = ST_LISTEN, .lport = 8080, .rq = 3, .held = true, .proc = 0, .fd = 3);
	for (int i = 0; i < 4; i++)
		SOCK(.cookie = 2 + (uint64_t)i, .inode = 11 + (uint32_t)i, .state = ST_CLOSE_WAIT, .lport = 8080,
		     .rport = (uint16_t)(40000 + i), .rq = 100, .held = true, .proc = 0, .fd = 4 + i);
	testkit_owner(s, 0, 9, 99); /* CLOSED */
	SOCK(.cookie = 7, .inode = 20, .state = ST_ESTABLISHED, .lport = 6379, .rport = 50000, .rq = 7, .held = true,
	     .proc = 1, .fd = 3);
	SOCK(.cookie = 8, .inode = 30, .state = ST_ESTABLISHED, .lport = 50001, .rport = 443, .rq = 5, .held = true,
	     .proc = 2, .fd = 3);
	ck_assert_int_eq(snapshot_build(s), 0);
}

static void teardown(void)
{
	snapshot_free(s);
}

static char *render(size_t top)
{
	struct batch_opts o = {.format = FMT_OPENMETRICS, .top = top};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_int_eq(batch_write(f, s, NULL, &o), 0);
	fclose(f);
	return buf;
}

static bool name_char(char c, bool first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
	       (!first && c >= '0' && c <= '9');
}

/* A strict reading of the text format: HELP and TYPE once per family, before its
 * samples; a family's samples together; label values quoted with only \\ \" \n
 * escapes; a number after one space; "# EOF" last. Returns the number of samples. */
static int check_exposition(const char *text)
{
	char families[64][64];
	int nfam = 0, samples = 0;
	char cur[64] = "";
	const char *line = text;

	ck_assert_msg(strlen(text) >= 6 && !strcmp(text + strlen(text) - 6, "# EOF\n"), "no # EOF at the end");
	while (*line) {
		const char *end = strchr(line, '\n');
		ck_assert_ptr_nonnull(end);
		char l[1024];
		size_t n = (size_t)(end - line);
		ck_assert_uint_lt(n, sizeof(l));
		memcpy(l, line, n);
		l[n] = '\0';
		line = end + 1;
		if (!strcmp(l, "# EOF")) {
			ck_assert_msg(*line == '\0', "text after # EOF");
			break;
		}
		if (!strncmp(l, "# HELP ", 7)) {
			char name[64];
			ck_assert_int_eq(sscanf(l + 7, "%63s", name), 1);
			for (int i = 0; i < nfam; i++)
				ck_assert_msg(strcmp(families[i], name), "family %s twice", name);
			ck_assert_int_lt(nfam, 64);
			strcpy(families[nfam++], name);
			strcpy(cur, name);
			continue;
		}
		if (!strncmp(l, "# TYPE ", 7)) {
			char want[128];
			snprintf(want, sizeof(want), "# TYPE %s gauge", cur);
			ck_assert_str_eq(l, want);
			continue;
		}
		ck_assert_msg(l[0] != '#', "unknown comment: %s", l);
		/* A sample: name{labels} value */
		const char *p = l;
		ck_assert(name_char(*p, true));
		while (name_char(*p, false))
			p++;
		ck_assert_msg((size_t)(p - l) == strlen(cur) && !strncmp(l, cur, strlen(cur)),
			      "sample outside its family: %s (family %s)", l, cur);
		if (*p == '{') {
			p++;
			while (*p != '}') {
				ck_assert_msg(name_char(*p, true), "bad label name in %s", l);
				while (name_char(*p, false))
					p++;
				ck_assert_msg(*p == '=' && p[1] == '"', "bad label in %s", l);
				p += 2;
				while (*p != '"') {
					ck_assert_msg(*p, "unterminated label value in %s", l);
					if (*p == '\\') {
						ck_assert_msg(p[1] == '\\' || p[1] == '"' || p[1] == 'n', "bad escape in %s", l);
						p++;
					}
					p++;
				}
				p++;
				if (*p == ',')
					p++;
				else
					ck_assert_msg(*p == '}', "bad label list in %s", l);
			}
			p++;
		}
		ck_assert_msg(*p == ' ', "no value in %s", l);
		char *e;
		strtod(p + 1, &e);
		ck_assert_msg(e != p + 1 && *e == '\0', "bad value in %s", l);
		samples++;
	}
	return samples;
}

static double sample(const char *text, const char *series)
{
	char want[512];
	snprintf(want, sizeof(want), "\n%s ", series);
	const char *p = strstr(text, want);
	ck_assert_msg(p != NULL, "no sample %s", series);
	return strtod(p + strlen(want), NULL);
}

START_TEST(test_well_formed)
{
	char *out = render(0);
	ck_assert_int_gt(check_exposition(out), 30);
	free(out);
	out = render(1);
	ck_assert_int_gt(check_exposition(out), 20);
	free(out);
}
END_TEST

START_TEST(test_numbers)
{
	char *out = render(0);
	const char *leaker = "pid=\"100\",comm=\"ja\\\"va\\\\\\\\x\",container=\"docker:0123456789ab\"";
	char series[256];
	snprintf(series, sizeof(series), "leaktop_process_fds{%s}", leaker);
	ck_assert_int_eq((int)sample(out, series), 50);
	snprintf(series, sizeof(series), "leaktop_process_tcp_sockets{%s,state=\"CLOSE_WAIT\"}", leaker);
	ck_assert_int_eq((int)sample(out, series), 4);
	snprintf(series, sizeof(series), "leaktop_process_closed_fds{%s}", leaker);
	ck_assert_int_eq((int)sample(out, series), 1);
	snprintf(series, sizeof(series), "leaktop_process_recv_queue_bytes{%s}", leaker);
	ck_assert_int_eq((int)sample(out, series), 400);
	snprintf(series, sizeof(series), "leaktop_process_rss_bytes{%s}", leaker);
	ck_assert_int_eq((int)sample(out, series), 1024000);
	ck_assert_int_eq((int)sample(out, "leaktop_tcp_sockets{state=\"CLOSE_WAIT\"}"), 4);
	ck_assert_int_eq((int)sample(out, "leaktop_closed_sockets"), 1);
	ck_assert_int_eq((int)sample(out, "leaktop_port_sockets{port=\"8080\",proto=\"tcp\",side=\"local\","
					   "netns=\"4026531840\",state=\"CLOSE_WAIT\"}"), 4);
	ck_assert_int_eq((int)sample(out, "leaktop_port_accept_queue{port=\"8080\",proto=\"tcp\",side=\"local\","
					   "netns=\"4026531840\"}"), 3);
	/* Unlimited: no fd_limit sample for curl. */
	ck_assert_ptr_null(strstr(out, "leaktop_process_fd_limit{pid=\"300\""));
	ck_assert_ptr_null(strstr(out, "pid=\"other\""));
	ck_assert_ptr_null(strstr(out, "port=\"other\""));
	free(out);
}
END_TEST

START_TEST(test_other_series)
{
	/* Top 1: the leaker, then the other two summed. */
	char *out = render(1);
	ck_assert_int_eq((int)sample(out, "leaktop_process_fds{pid=\"other\",comm=\"other\",container=\"\"}"), 70);
	ck_assert_int_eq((int)sample(out, "leaktop_process_tcp_sockets{pid=\"other\",comm=\"other\",container=\"\","
					   "state=\"ESTABLISHED\"}"), 2);
	ck_assert_int_eq((int)sample(out, "leaktop_process_recv_queue_bytes{pid=\"other\",comm=\"other\","
					   "container=\"\"}"), 12);
	ck_assert_ptr_null(strstr(out, "pid=\"200\""));
	ck_assert_ptr_null(strstr(out, "leaktop_process_fd_limit{pid=\"other\""));
	/* Ports: 8080 first (5 sockets), the other two summed. */
	ck_assert_int_eq((int)sample(out, "leaktop_port_sockets{port=\"other\",proto=\"\",side=\"\",netns=\"\","
					   "state=\"ESTABLISHED\"}"), 2);
	ck_assert_ptr_null(strstr(out, "port=\"6379\""));
	free(out);
}
END_TEST

/* Numbers no machine has, as a damaged recording can hold them: the "other" sums
 * saturate (fds near INT64_MAX overflowed, undefined; UBSan in the sanitizer run),
 * and an RSS of -1 read as unsigned is no sample at all (its bytes wrapped). */
START_TEST(test_extreme_numbers)
{
	s->procs[1].fds = INT64_MAX - 1, s->procs[1].rss_kb = UINT64_MAX;
	s->procs[2].fds = INT64_MAX - 2, s->procs[2].rss_kb = (uint64_t)1 << 60;
	s->procs[2].states[ST_ESTABLISHED] = UINT32_MAX;
	s->procs[2].kinds[SK_TCP] = UINT32_MAX;
	s->procs[2].recv_q = UINT64_MAX;
	s->procs[0].rss_kb = 1000;
	for (size_t i = 1; i < s->nports; i++)
		s->ports[i].recv_q = UINT64_MAX - 1, s->ports[i].states[ST_ESTABLISHED] = UINT32_MAX;
	char *out = render(1);
	check_exposition(out);
	const char *other = "pid=\"other\",comm=\"other\",container=\"\"";
	char want[256];
	snprintf(want, sizeof(want), "\nleaktop_process_fds{%s} 9223372036854775807\n", other);
	ck_assert_msg(strstr(out, want) != NULL, "other fds not saturated:\n%s", out);
	/* pid 200 (listed) has no RSS sample; "other" sums only the known one. */
	ck_assert_ptr_null(strstr(out, "leaktop_process_rss_bytes{pid=\"200\""));
	snprintf(want, sizeof(want), "\nleaktop_process_rss_bytes{%s} 1024000\n", other);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	snprintf(want, sizeof(want), "\nleaktop_process_recv_queue_bytes{%s} 18446744073709551615\n", other);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	snprintf(want, sizeof(want), "\nleaktop_process_tcp_sockets{%s,state=\"ESTABLISHED\"} 4294967295\n", other);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	snprintf(want, sizeof(want), "\nleaktop_process_sockets{%s,kind=\"tcp\"} 4294967295\n", other);
	ck_assert_msg(strstr(out, want) != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\nleaktop_port_recv_queue_bytes{port=\"other\",proto=\"\",side=\"\",netns=\"\"} "
					  "18446744073709551615\n"));
	ck_assert_ptr_nonnull(strstr(out, "\nleaktop_port_sockets{port=\"other\",proto=\"\",side=\"\",netns=\"\","
					  "state=\"ESTABLISHED\"} 4294967295\n"));
	/* No value reads as negative, none wrapped to a small one. */
	ck_assert_ptr_null(strstr(out, "} -"));
	free(out);
	/* Listed whole: the huge RSS of pid 300 is no sample either. */
	out = render(0);
	check_exposition(out);
	ck_assert_ptr_null(strstr(out, "leaktop_process_rss_bytes{pid=\"300\""));
	ck_assert_ptr_nonnull(strstr(out, "leaktop_process_rss_bytes{pid=\"100\""));
	free(out);
}
END_TEST

/* With a history, growth per process: the leaker gains 1 MB and 10 fds a 2 s refresh,
 * 0.5 MB and 5 fds a second. */
START_TEST(test_growth)
{
	char *out = render(0);
	ck_assert_ptr_null(strstr(out, "leaktop_process_rss_growth_bytes_per_second")); /* no history */
	ck_assert_ptr_null(strstr(out, "leaktop_process_fd_growth_per_second"));
	ck_assert_ptr_null(strstr(out, "leaktop_process_verdict"));
	free(out);

	struct history *h = history_new(NULL);
	ck_assert_ptr_nonnull(h);
	s->procs[0].fd_limit = 1000;
	/* Six refreshes, 10 s: growth has a time to exhaustion once it held that long. */
	for (int r = 0; r < 6; r++) {
		s->time = 1.7e9 + 2.0 * r;
		s->procs[0].rss_kb = 1000 + 1024 * (uint64_t)r;
		s->procs[0].fds = 50 + 10 * r;
		ck_assert_int_eq(history_update(h, s), 0);
	}
	struct batch_opts o = {.format = FMT_OPENMETRICS, .top = 1};
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	ck_assert_int_eq(batch_write(f, s, h, &o), 0);
	fclose(f);
	check_exposition(out);
	ck_assert_double_eq_tol(sample(out, "leaktop_process_rss_growth_bytes_per_second{pid=\"100\",comm=\"ja\\\"va"
					    "\\\\\\\\x\",container=\"docker:0123456789ab\"}"), 524288, 1e-3);
	ck_assert_ptr_null(strstr(out, "leaktop_process_rss_growth_bytes_per_second{pid=\"other\""));
	const char *leaker = "{pid=\"100\",comm=\"ja\\\"va\\\\\\\\x\",container=\"docker:0123456789ab\"}";
	char series[256];
	snprintf(series, sizeof(series), "leaktop_process_fd_growth_per_second%s", leaker);
	ck_assert_double_eq_tol(sample(out, series), 5, 1e-6);
	/* 1000 - 100 fds, at 5 a second. */
	snprintf(series, sizeof(series), "leaktop_process_fd_exhaustion_seconds%s", leaker);
	ck_assert_double_eq_tol(sample(out, series), 180, 1e-6);
	ck_assert_ptr_nonnull(strstr(out, "leaktop_process_verdict{pid=\"100\","));
	ck_assert_ptr_null(strstr(out, "leaktop_process_verdict{pid=\"other\""));
	free(out);
	history_free(h);
}
END_TEST

START_TEST(test_label_escape)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	metrics_label_value(f, "a\"b\\c\nd");
	fclose(f);
	ck_assert_str_eq(buf, "\"a\\\"b\\\\c\\nd\"");
	free(buf);
}
END_TEST

/* Alerts firing now are served as one series each, labelled so a rule can page on
 * them; with none firing there is no family at all. */
START_TEST(test_alert_family)
{
	struct alert_thresholds t;
	alert_thresholds_default(&t);
	t.close_wait = 3;
	t.fd_warn_pct = 4; /* the leaker's 50 of 1024 */
	struct alerts *a = alerts_new(&t);
	ck_assert_ptr_nonnull(a);
	struct batch_opts o = {.format = FMT_OPENMETRICS, .alerts = a};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	ck_assert_int_eq(batch_write(f, s, NULL, &o), 0); /* before any update: none active */
	fclose(f);
	ck_assert_ptr_null(strstr(buf, "leaktop_alert_active"));
	free(buf);

	ck_assert_int_gt(alerts_update(a, s, NULL), 0);
	f = open_memstream(&buf, &len);
	ck_assert_int_eq(batch_write(f, s, NULL, &o), 0);
	fclose(f);
	check_exposition(buf);
	ck_assert_double_eq(sample(buf, "leaktop_alert_active{kind=\"fd_usage\",level=\"warning\",pid=\"100\","
				   "comm=\"ja\\\"va\\\\\\\\x\",port=\"\",side=\"\",netns=\"\"}"), 1);
	ck_assert_double_eq(sample(buf, "leaktop_alert_active{kind=\"close_wait\",level=\"warning\",pid=\"100\","
				   "comm=\"ja\\\"va\\\\\\\\x\",port=\"\",side=\"\",netns=\"\"}"), 1);
	ck_assert_double_eq(sample(buf, "leaktop_alert_active{kind=\"port_close_wait\",level=\"warning\",pid=\"\","
				   "comm=\"\",port=\"8080\",side=\"local\",netns=\"4026531840\"}"), 1);
	free(buf);
	alerts_free(a);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			test_well_formed,
			test_numbers,
			test_other_series,
			test_extreme_numbers,
			test_growth,
			test_label_escape,
			test_alert_family)},
	};

	return TESTKIT_RUN("metrics", cases);
}
