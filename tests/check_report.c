/* The handover reports on recordings built here: who is named (a flat, stuck culprit
 * is; a compiler's two seconds of files are not), the outbound leak by its remote
 * endpoint, peaks never below now, holders named, a restart and the leak coming
 * back, the timeline's order, and recorded strings that cannot inject Markdown, HTML
 * or terminal escapes. */
#include "config.h"

#include "model/alert.h"
#include "outputs/batch.h"
#include "outputs/html.h"
#include "outputs/report.h"
#include "recording/record.h"
#include "outputs/story.h"
#include "recording/schema.h"
#include "model/snapshot.h"
#include "recording/recread.h"
#include "tests/testkit.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REFRESHES 400
#define T0 1700000000.0

static char dir[TESTKIT_DIR_MAX], path[128];

/* The command line of pid 400 when the test poisons the recording. */
static bool poisoned;
static const char evil_cmdline[] = "leaky [x](http://evil.example) <script>alert(1)</script> \\x1b[31m | `tick` "
				   "www.evil.example";

static void setup(void)
{
	testkit_mkdir(dir, "report");
	snprintf(path, sizeof(path), "%s/rec.db", dir);
	setenv("TZ", "UTC", 1);
}

static void teardown(void)
{
	ck_assert_int_eq(testkit_rmdir(dir), 0);
}

static struct proc_rec *add_proc(struct snapshot *s, int32_t pid, uint64_t start, const char *comm, int64_t fds,
				 uint64_t limit, const char *cmdline)
{
	int i = TESTKIT_PROC(s, .pid = pid, .ppid = 1, .start_time = start, .fds = fds, .fd_limit = limit,
			     .fd_limit_hard = limit, .rss_kb = 50000, .state = 'S', .comm = comm, .user = "app",
			     .cmdline = cmdline);
	return &s->procs[i];
}

/* One refresh of the story:
 *  - pid 100 java holds 100 CLOSE_WAIT sockets to 127.0.0.1:24611, flat, all along;
 *  - pid 400 leaky grows 5 fds a refresh until it is restarted at tick 200 as pid 401,
 *    which grows again;
 *  - pid 300 cc1 opens 40 files for two refreshes (ticks 10-11). */
static void make_snap(struct snapshot *s, uint64_t tick)
{
	testkit_refresh(s, tick, T0 + (double)tick * 2);
	add_proc(s, 100, 5000, "java", 120, 1024, "java -jar pool.jar");
	if (tick == 10 || tick == 11)
		add_proc(s, 300, 6000, "cc1", 44, 1024, "cc1 -O2 big.c");
	if (tick < 200)
		add_proc(s, 400, 7000, "leaky", 20 + 5 * (int64_t)tick, 2048, poisoned ? evil_cmdline : "leaky --serve");
	else if (tick > 200)
		add_proc(s, 401, 9000, "leaky", 20 + 5 * (int64_t)(tick - 200), 2048, "leaky --serve");
	for (int i = 0; i < 100; i++)
		TESTKIT_SOCK(s, .cookie = 100 + (uint64_t)i, .inode = 2000 + (uint32_t)i, .state = ST_CLOSE_WAIT,
			     .proto = 6, .lport = (uint16_t)(40000 + i), .rport = 24611, .netns = 4026531840ULL,
			     .rq = i == 0 ? (uint32_t)(tick <= 300 ? tick : 1) : 1, /* the FIN, and unread bytes */
			     .laddr = "127.0.0.1", .raddr = "127.0.0.1", .held = true, .proc = 0, .fd = 10 + i);
	ck_assert_int_eq(snapshot_build(s), 0);
}

/* Three threads blocked on one lock, one sleeping; a name that is HTML. */
#define JAVA_DUMP                                                                                  \
	"Full thread dump OpenJDK 64-Bit Server VM:\n"                                                \
	"\"pool-1 <b>\" #12\n   java.lang.Thread.State: BLOCKED (on object monitor)\n"                \
	"\tat com.example.Handler.handle(Handler.java:36)\n"                                          \
	"\"pool-2\" #13\n   java.lang.Thread.State: BLOCKED (on object monitor)\n"                     \
	"\tat com.example.Handler.handle(Handler.java:36)\n"                                          \
	"\"pool-3\" #14\n   java.lang.Thread.State: BLOCKED (on object monitor)\n"                     \
	"\tat com.example.Handler.handle(Handler.java:36)\n"                                          \
	"\"main\" #1\n   java.lang.Thread.State: TIMED_WAITING (sleeping)\n\tat java.lang.Thread.sleep(Native Method)\n"

static void write_story(void)
{
	struct record_info info = {.interval = 2, .boot_time = 1699990000, .clk_tck = 100};
	struct record *r = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL;

	ck_assert_int_eq(record_open(&r, path, &info, &cause), 0);
	for (uint64_t t = 1; t <= REFRESHES; t++) {
		make_snap(s, t);
		ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
		struct record_event ev = {.time = s->time, .pid = 400, .start_time = 7000};
		if (t == 50) {
			ev.kind = EV_ALERT, ev.what = "warning fd: pid 400 (leaky) uses 75% of its fd limit";
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		} else if (t == 60) {
			ev.kind = EV_ALERT, ev.what = "clear fd: pid 400 (leaky) back under 75% of its fd limit";
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		} else if (t == 250) { /* pid 400 was restarted at 200 */
			ev.kind = EV_ALERT, ev.what = "clear close_wait: pid 400 (leaky) holds 0 CLOSE_WAIT sockets; cleared";
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		} else if (t == 260) {
			ev.kind = EV_ALERT, ev.pid = 0, ev.start_time = 0;
			ev.what = "clear port_close_wait: remote port 24611 has 80 CLOSE_WAIT sockets; cleared";
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		} else if (t == 100) {
			ev.kind = EV_ACTION, ev.pid = 100, ev.start_time = 5000, ev.what = "SIGQUIT";
			ev.result = "dumped (still running); the dump went to /var/log/pool.log";
			ev.dump = JAVA_DUMP, ev.dump_len = sizeof(JAVA_DUMP) - 1;
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		}
	}
	record_close(r);
	snapshot_free(s);
}

/* What an attacker who controls process names and the file can put in. */
/* Hostile text in the recording: the meta table edited, and a process whose command
 * line is (recorded as it was, escaped: the writer keeps what the live source read). */
static void poison(void)
{
	sqlite3 *db;
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db,
				      "UPDATE meta SET value = '# evil' || char(27) || '[2J<b>x</b>' WHERE key = 'host';"
				      "UPDATE meta SET value = '[k](http://evil.example)' WHERE key = 'kernel';",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
}

static char *report_with(bool html, const struct alert_thresholds *t);

static char *report(bool html)
{
	return report_with(html, NULL);
}

static const char *after(const char *hay, const char *needle)
{
	const char *p = hay ? strstr(hay, needle) : NULL;
	ck_assert_msg(p != NULL, "'%s' missing", needle);
	return p + strlen(needle);
}

/* The report with alert thresholds t (NULL: the defaults). */
static char *report_with(bool html, const struct alert_thresholds *t)
{
	struct sqlite3 *db = NULL;
	struct record_info info;
	char *cause = NULL, *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ck_assert_int_eq(recread_open(&db, path, &info, &cause), 0);
	int rc = (html ? html_report_write : report_write)(f, db, &info, path, t, &cause);
	ck_assert_msg(rc == 0, "%s", cause ? cause : "?");
	fclose(f);
	recread_close(db);
	return out;
}

/* Two flat processes near their fd limit of 10000: pid 500 "nearly" at 8996 fds
 * (89.96%: rounded it would read 90, the critical threshold), pid 501 "warm" at 7900
 * (79%); nothing else. */
static void make_near_limit_snap(struct snapshot *s, uint64_t t)
{
	snapshot_clear(s);
	s->tick = t;
	s->time = T0 + (double)t * 2;
	s->closed_valid = true;
	snapshot_add_netns(s, 4026531840ULL, true)->own = true;
	add_proc(s, 500, 8000, "nearly", 8996, 10000, "nearly --serve");
	add_proc(s, 501, 8001, "warm", 7900, 10000, "warm --serve");
	ck_assert_int_eq(snapshot_build(s), 0);
}

static void write_near_limit(struct snapshot *s)
{
	struct record_info info = {.interval = 2, .boot_time = 1699990000, .clk_tck = 100};
	struct record *r = NULL;
	char *cause = NULL;

	ck_assert_int_eq(record_open(&r, path, &info, &cause), 0);
	for (uint64_t t = 1; t <= 30; t++) {
		make_near_limit_snap(s, t);
		ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
	}
	record_close(r);
}

/* FD% is cut by one rule: the report says what batch mode (and the dashboard) say of
 * the same refresh, 89 for 89.96%, never 90. */
START_TEST(test_fd_pct_as_batch)
{
	struct snapshot *s = snapshot_new();
	char *text = NULL, line[256];
	size_t len = 0;
	int batch_pct = -1;

	write_near_limit(s);
	FILE *f = open_memstream(&text, &len);
	struct batch_opts o = {.format = FMT_TEXT, .backlog_max = 3, .clk_tck = 100};
	ck_assert_int_eq(batch_write(f, s, NULL, &o), 0);
	fclose(f);
	f = fmemopen(text, len, "r");
	while (fgets(line, sizeof(line), f)) {
		int pid, pct;
		if (sscanf(line, "%d %*s %*s %*d %*d %d", &pid, &pct) == 2 && pid == 500)
			batch_pct = pct;
	}
	fclose(f);
	ck_assert_msg(batch_pct == 89, "batch mode's FD%% of pid 500: %d in\n%s", batch_pct, text);

	char *md = report_with(false, NULL), *h = report_with(true, NULL), want[128];
	snprintf(want, sizeof(want), "peak 8996 fds = %d%% of its fd limit 10000", batch_pct);
	after(after(md, "- **pid 500 nearly**"), want);
	after(after(md, "## Next steps"), "nearly reached 89% of its fd limit (10000)");
	after(after(h, "<b>pid 500 nearly</b>"), want);
	/* The processes table's tenth is cut too: 89.9, not 90.0. */
	after(after(h, "<td class=\"n\">500</td>"), "<td class=\"n\">10000</td><td class=\"n\">89.9</td>");
	ck_assert_msg(!strstr(md, "90%") && !strstr(h, ">90.0<"), "FD%% rounded up somewhere:\n%s", md);
	free(md);
	free(h);
	free(text);
	snapshot_free(s);
}
END_TEST

/* --fd-warn decides who is listed as near the fd limit, and the rule says so; the HTML
 * chart draws --fd-warn and --fd-crit where the fd_usage alert fires. */
START_TEST(test_fd_warn_option)
{
	struct snapshot *s = snapshot_new();
	struct alert_thresholds t;

	write_near_limit(s);
	snapshot_free(s);
	char *md = report_with(false, NULL);
	after(md, "- **pid 500 nearly**");
	after(md, "- **pid 501 warm**");
	after(md, "processes that reached 75% of their fd limit");
	free(md);

	alert_thresholds_default(&t);
	t.fd_warn_pct = 85, t.fd_crit_pct = 95;
	md = report_with(false, &t);
	const char *sum = after(md, "## Summary\n\n");
	after(sum, "- **pid 500 nearly**");
	ck_assert_msg(!strstr(md, "pid 501 warm") && !strstr(md, "warm reached"), "79%% listed with --fd-warn 85:\n%s",
		      md);
	after(md, "processes that reached 85% of their fd limit");
	free(md);

	t.fd_warn_pct = 92.5;
	md = report_with(false, &t);
	ck_assert_msg(strstr(md, "No process or port leaked") && !strstr(md, "pid 500 nearly"),
		      "89.96%% listed with --fd-warn 92.5:\n%s", md);
	after(md, "processes that reached 92.5% of their fd limit");
	free(md);

	t.fd_warn_pct = 85;
	char *h = report_with(true, &t);
	const char *fig = after(h, "<figure id=\"proc-500-8000\">");
	after(after(fig, "class=\"fdcrit\""), ">95%</text>");
	after(after(fig, "class=\"fdwarn\""), ">85%</text>");
	ck_assert_msg(!strstr(h, ">75%<") && !strstr(h, ">90%<"), "the default thresholds drawn:\n%s", h);
	free(h);
}
END_TEST

START_TEST(test_story_rules)
{
	struct story *st = NULL;
	char *cause = NULL;

	write_story();
	ck_assert_int_eq(story_build(path, NULL, &st, &cause), 0);
	ck_assert_uint_eq(st->nrefresh, REFRESHES);
	const struct story_proc *java = NULL, *cc1 = NULL, *old = NULL, *young = NULL;
	for (size_t i = 0; i < st->nprocs; i++) {
		const struct story_proc *p = &st->procs[i];
		if (p->pid == 100) java = p;
		if (p->pid == 300) cc1 = p;
		if (p->pid == 400) old = p;
		if (p->pid == 401) young = p;
	}
	ck_assert(java && cc1 && old && young);
	/* The flat, stuck culprit is one; the compiler is not. */
	ck_assert(java->matters);
	ck_assert_int_eq(java->worst, VERDICT_LEAK);
	ck_assert(java->first_suspect > 0 && java->first_suspect < java->first_leak);
	ck_assert_uint_eq(java->cw_peak, 100);
	ck_assert(!cc1->matters);
	/* The grower, its restart and the leak coming back. */
	ck_assert(old->matters && old->worst >= VERDICT_SUSPECT);
	ck_assert_int_eq(old->replaced_by, young - st->procs);
	ck_assert(young->first_suspect > 0 || young->first_leak > 0);
	ck_assert(old->fds_peak >= old->fds_last);
	ck_assert(isfinite(old->eta_min_s));
	/* The outbound leak, by its remote endpoint, with its holder. */
	bool endpoint = false;
	for (size_t i = 0; i < st->nports; i++)
		if (st->ports[i].matters && !strcmp(st->ports[i].endpoint, "127.0.0.1:24611")) {
			endpoint = true;
			ck_assert_uint_eq(st->ports[i].npids, 1);
			ck_assert_int_eq(st->ports[i].pids[0], 100);
			ck_assert_uint_ge(st->ports[i].cw_peak, st->ports[i].cw_last);
		}
	ck_assert_msg(endpoint, "the outbound leak is not named by 127.0.0.1:24611");
	/* The timeline is in time order and has each kind. */
	bool seen[STK_KIND_COUNT] = {false};
	for (size_t i = 0; i < st->nevents; i++) {
		seen[st->events[i].kind] = true;
		if (i)
			ck_assert(st->events[i - 1].time <= st->events[i].time);
	}
	ck_assert(seen[STK_SUSPECT] && seen[STK_LEAK] && seen[STK_ALERT] && seen[STK_CLEARED] && seen[STK_ACTION] &&
		  seen[STK_REPLACED]);
	/* A chart has a point per refresh the process was alive in. */
	sqlite3 *db = NULL;
	struct record_info info;
	double *v = calloc(st->nrefresh, sizeof(*v));
	ck_assert_int_eq(recread_open(&db, path, &info, &cause), 0);
	ck_assert_int_eq(story_proc_series(st, db, java, SS_FDS, v), REFRESHES);
	ck_assert_int_eq(story_proc_series(st, db, old, SS_FDS, v), 199);
	ck_assert(v[198] == 20 + 5 * 199 && isnan(v[199]));
	recread_close(db);
	free(v);
	story_free(st);
}
END_TEST

START_TEST(test_markdown_story)
{
	write_story();
	char *md = report(false);
	/* Summary, then next steps, then timeline, then the details. */
	const char *sum = after(md, "## Summary"), *steps = after(md, "## Next steps"), *tl = after(md, "## Timeline");
	ck_assert(sum < steps && steps < tl);
	/* The leak first, with the latest reason of its verdict (13 minutes old at the
	 * end), not the first (a minute old); the port it leaks to is told with it. */
	static const char first[] = "\n\n- **pid 100 java** (java -jar pool.jar): leak: 100 CLOSE\\_WAIT never closed, "
				    "oldest 13m, to 127.0.0.1:24611;";
	ck_assert_msg(!strncmp(sum, first, sizeof(first) - 1), "%.200s", sum);
	ck_assert_msg(!strstr(sum, "oldest 1m,") || strstr(sum, "oldest 1m,") > steps, "an early reason:\n%s", md);
	ck_assert_ptr_nonnull(strstr(sum, "CLOSE\\_WAIT peak 100 (now 100); to 127.0.0.1:24611 (leak): CLOSE\\_WAIT peak "
					  "100 (now 100), Recv-Q peak 399 bytes\n"));
	ck_assert_msg(!strstr(sum, "- Port") || strstr(sum, "- Port") > steps, "the port is told apart:\n%s", md);
	ck_assert_ptr_nonnull(strstr(sum, "the leak came back after the restart"));
	ck_assert_ptr_nonnull(strstr(sum, "of its fd limit 2048"));
	ck_assert_ptr_nonnull(strstr(sum, "shortest ETA"));
	ck_assert_ptr_nonnull(strstr(md, "Listed: the processes and ports"));
	ck_assert_msg(!strstr(md, "cc1"), "the compiler is in the report:\n%s", md);
	/* The timeline in order: the alert, its clearing, the action, the restart. */
	const char *a = after(tl, "**alert**: warning fd: pid 400");
	a = after(a, "**alert cleared**: clear fd: pid 400");
	a = after(a, "**action**: SIGQUIT to pid 100: dumped (still running)");
	a = after(a, "**restart**: pid 400 leaky was replaced by pid 401");
	/* A clearing after its process went says so; a port's has no process to go. */
	a = after(a, "**alert cleared**: clear close\\_wait: pid 400 (leaky) holds 0 CLOSE\\_WAIT sockets; cleared (the "
		     "process had exited)\n");
	after(a, "**alert cleared**: clear port\\_close\\_wait: remote port 24611 has 80 CLOSE\\_WAIT sockets; cleared\n");
	/* The thread dump travels with its action: its digest under it. */
	a = after(tl, "**action**: SIGQUIT to pid 100");
	a = after(a, "  - 4 threads: 3 BLOCKED, 1 TIMED\\_WAITING\n");
	after(a, "  - 3 threads BLOCKED at com.example.Handler.handle:36: pool-1 \\<b\\>, pool-2 and 1 more\n");
	/* What to do, from the evidence: unread responses to one endpoint, with the
	 * code the dump shows; fds that are not sockets; a leak back after a restart. */
	a = after(steps, "\n- pid 100 java holds 100 CLOSE\\_WAIT connections to 127.0.0.1:24611, with 399 bytes "
			 "never read: the server closed them, and pid 100 java neither read the responses to the end "
			 "nor closed them. Its thread dump at 22:16:40 shows where: 3 threads BLOCKED at "
			 "com.example.Handler.handle:36");
	a = after(a, "\n- pid 400 leaky opened 990 more fds that are not sockets (files or pipes)");
	a = after(a, "ls -l /proc/400/fd");
	/* (fds grow, for a verdict, once they have risen steadily for 10 s: 22:20:12) */
	a = after(a, "\n- pid 400 leaky was restarted at 22:20:02 and the leak came back (pid 401 judged suspect at "
		     "22:20:12)");
	ck_assert(a < tl);
	free(md);
}
END_TEST

/* The detail tables tell what the summary tells: the outbound leak is one row by its
 * remote endpoint (not 100 ephemeral local ports of one socket each), its peak is not
 * below now, its holder is named. */
START_TEST(test_markdown_detail_tables)
{
	write_story();
	char *md = report(false);
	const char *cw = after(md, "## Ports with the most CLOSE_WAIT\n\n"), *rq = after(md, "## Peak Recv-Q by port");

	ck_assert_msg(strstr(cw, "| 127.0.0.1:24611 | remote | 100 | 100 | >= ") == cw + strlen(
			      "| PORT | SIDE | CLOSE_WAIT NOW | PEAK | OLDEST FOR | SINCE | PIDS |\n"
			      "|-----:|------|---------------:|-----:|-----------:|-------|------|\n"),
		      "%s", cw);
	ck_assert_ptr_nonnull(strstr(cw, " | pid 100 java |\n\n## Peak Recv-Q"));
	ck_assert_msg(!strstr(cw, "| 40000 |"), "an ephemeral port has a row:\n%s", cw);
	/* The Recv-Q peak: 300 bytes unread (299 and the FIN) plus the 99 others' FINs,
	 * at tick 300 (T0 + 600 s: 22:23:20 UTC), by the same endpoint and holder. */
	ck_assert_msg(strstr(rq, "| 127.0.0.1:24611 | remote | 399 | 22:23:20 | pid 100 java |\n"), "%s", rq);
	free(md);
}
END_TEST

START_TEST(test_markdown_escapes)
{
	poisoned = true;
	write_story();
	poison();
	char *md = report(false);
	ck_assert_msg(!strchr(md, 0x1b), "a terminal escape reached the report");
	/* Every < is escaped: no tag, no autolink. */
	for (const char *c = md; *c; c++)
		if (*c == '<')
			ck_assert_msg(c > md && c[-1] == '\\', "an unescaped %c in the report: %.60s", *c, c > md + 20 ? c - 20 : md);
	ck_assert_msg(!strstr(md, "[x](") && strstr(md, "\\[x\\](http\\://evil.example)"), "a link reached the report");
	ck_assert_msg(!strstr(md, "http://evil"), "an autolink reached the report");
	ck_assert_msg(!strstr(md, "\n# evil"), "a fake heading");
	ck_assert_ptr_nonnull(strstr(md, "# leaktop handover: \\# evil\\\\x1b\\[2J\\<b\\>x\\</b\\>\n"));
	ck_assert_ptr_nonnull(strstr(md, "(kernel \\[k\\](http\\://evil.example))"));
	/* A table cell stays one cell. */
	ck_assert_ptr_nonnull(strstr(md, "\\| \\`tick\\` www\\.evil.example"));
	free(md);
}
END_TEST

START_TEST(test_html_page)
{
	poisoned = true;
	write_story();
	poison();
	char *h = report(true);
	ck_assert_ptr_nonnull(strstr(h, "<!DOCTYPE html>"));
	ck_assert_msg(!strchr(h, 0x1b), "a terminal escape reached the page");
	ck_assert_msg(!strstr(h, "<script"), "a script in the page");
	ck_assert_msg(!strstr(h, "<b>x"), "recorded HTML in the page");
	ck_assert_ptr_nonnull(strstr(h, "&lt;script&gt;alert(1)&lt;/script&gt;"));
	ck_assert_msg(!strstr(h, "src=") && !strstr(h, "@import") && !strstr(h, "url("), "loads something");
	/* A chart per culprit: java's fds (a point per refresh), leaky before and after
	 * its restart, and the outbound port; markers for the alerts and the action. */
	const char *j = after(h, "<figure id=\"proc-100-5000\">");
	j = after(j, "<path class=\"series\" data-points=\"400\"");
	ck_assert_ptr_nonnull(strstr(h, "<figure id=\"proc-400-7000\">"));
	ck_assert_ptr_nonnull(strstr(h, "<figure id=\"proc-401-9000\">"));
	ck_assert_ptr_nonnull(strstr(h, "127.0.0.1:24611: CLOSE_WAIT sockets"));
	ck_assert_ptr_nonnull(strstr(j, "class=\"marker m-alert\""));
	ck_assert_ptr_nonnull(strstr(j, "class=\"marker m-cleared\""));
	ck_assert_ptr_nonnull(strstr(j, "class=\"marker m-action\""));
	ck_assert_ptr_nonnull(strstr(h, "class=\"fdwarn\""));
	ck_assert_ptr_nonnull(strstr(h, "class=\"fdcrit\""));
	ck_assert_ptr_nonnull(strstr(h, "@media print"));
	ck_assert_msg(!strstr(h, "cc1"), "the compiler is in the page");
	/* The same next steps as the Markdown. */
	const char *st = after(h, "<h2>Next steps</h2>\n<ul class=\"steps\">\n<li>pid 100 java holds 100 CLOSE_WAIT "
				  "connections to 127.0.0.1:24611, with 399 bytes never read");
	after(st, "<li>pid 400 leaky opened 990 more fds that are not sockets");
	/* The dump: its digest, and the whole text behind <details>, escaped. */
	const char *d = after(h, "<li>3 threads BLOCKED at com.example.Handler.handle:36: pool-1 &lt;b&gt;, pool-2 and 1 "
				 "more</li>");
	d = after(d, "<details><summary>the full thread dump");
	after(d, "&quot;pool-1 &lt;b&gt;&quot; #12");
	free(h);
}
END_TEST

/* A pile of n CLOSE_WAIT sockets held by process index proc, to 127.0.0.1:rport. */
static void add_pile(struct snapshot *s, int32_t proc, uint16_t rport, int n, uint64_t cookie0)
{
	for (int i = 0; i < n; i++)
		TESTKIT_SOCK(s, .cookie = cookie0 + (uint64_t)i, .inode = (uint32_t)(cookie0 + (uint64_t)i),
			     .state = ST_CLOSE_WAIT, .proto = 6, .lport = (uint16_t)(40000 + cookie0 % 1000 + (uint64_t)i),
			     .rport = rport, .netns = 4026531840ULL, .rq = 1, .laddr = "127.0.0.1", .raddr = "127.0.0.1",
			     .held = true, .proc = proc, .fd = 10 + i);
}

/* An older leaktop recorded itself: pid 10 (with -w) grows its RSS, and an alert
 * names it; an exporter leaktop (pid 11, no -w) grows too. Two flat piles, 20 and
 * 60 CLOSE_WAIT, both leaks. */
static void write_recorder_story(void)
{
	struct record_info info = {.interval = 2, .boot_time = 1699990000, .clk_tck = 100};
	struct record *r = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL;

	ck_assert_int_eq(record_open(&r, path, &info, &cause), 0);
	for (uint64_t t = 1; t <= 120; t++) {
		testkit_refresh(s, t, T0 + (double)t * 2);
		add_proc(s, 10, 3000, "leaktop", 12, 1024, "leaktop -d 2 -w /var/tmp/incident.db")->rss_kb =
			20000 + 2048 * t;
		add_proc(s, 11, 3001, "leaktop", 12, 1024, "/usr/bin/leaktop --listen 127.0.0.1:9100")->rss_kb =
			20000 + 2048 * t;
		add_proc(s, 20, 4000, "small", 30, 1024, "small");
		add_proc(s, 30, 4001, "big", 70, 1024, "big");
		add_proc(s, 40, 4002, "java", 40, 1024, "java -jar client.jar");
		add_pile(s, 2, 7000, 20, 1000);
		add_pile(s, 3, 7001, 60, 2000);
		ck_assert_int_eq(snapshot_build(s), 0);
		ck_assert_int_eq(record_snapshot(r, s, &cause), 0);
		if (t == 30) {
			struct record_event ev = {.time = s->time, .pid = 10, .start_time = 3000, .kind = EV_ALERT,
						  .what = "warning rss: pid 10 (leaktop) grows its RSS"};
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		} else if (t == 100) { /* a real exhausted pool's dump, no CLOSE_WAIT pile */
			struct record_event ev = {.time = s->time, .pid = 40, .start_time = 4002, .kind = EV_ACTION,
						  .what = "SIGQUIT", .result = "dumped (still running)"};
			char dpath[512];
			snprintf(dpath, sizeof(dpath), "%s/tdump_poolwait_main.txt", TESTDATADIR);
			FILE *f = fopen(dpath, "r");
			ck_assert_ptr_nonnull(f);
			static char dump[65536];
			ev.dump = dump, ev.dump_len = fread(dump, 1, sizeof(dump), f);
			fclose(f);
			ck_assert_int_eq(record_event(r, &ev, &cause), 0);
		}
	}
	record_close(r);
	snapshot_free(s);
}

/* The recorder is no culprit, says so once, and its alert is gone from the timeline
 * and the table; the other culprits come by verdict, then by the size of the pile. */
START_TEST(test_recorder_left_out)
{
	write_recorder_story();
	char *md = report(false), *h = report(true);
	const char *sum = after(md, "## Summary\n\n"), *steps = after(md, "## Next steps");

	ck_assert_msg(!strncmp(sum, "- **pid 30 big** (big): leak: ", 30), "%.300s", sum);
	const char *small = after(sum, "\n- **pid 20 small** (small): leak: ");
	const char *exporter = after(small, "\n- **pid 11 leaktop** (/usr/bin/leaktop --listen 127.0.0.1:9100): leak "
					    "(memory): RSS +60.0 MB/min");
	ck_assert(exporter < steps);
	/* A thread waiting for a pooled connection with no CLOSE_WAIT pile: its leases are
	 * still open; the step quotes the dump and the fix. */
	after(steps, "\n- pid 40 java's thread dump at 22:16:40 shows 1 thread WAITING for a pooled connection "
		     "(HttpClient 4: AbstractConnPool.getPoolEntryBlocking:391) asked by PoolWait.fetch:38, called from "
		     "PoolWait.main:77: main: its pool has no connection left to give. The connections it leased are still "
		     "open (none in CLOSE\\_WAIT)");
	ck_assert_msg(!strstr(md, "pid 10 leaktop**") && !strstr(md, "(leaktop) grows") && !strstr(md, "| 10 |"),
		      "the recorder is in the report:\n%s", md);
	after(sum, " Left out: pid 10 leaktop, the leaktop that made this recording._\n");
	ck_assert_msg(!strstr(h, "pid 10 leaktop</b>") && !strstr(h, "proc-10-3000") && !strstr(h, "(leaktop) grows"),
		      "the recorder is in the page");
	after(h, "Left out: pid 10 leaktop, the leaktop that made this recording.</p>");
	free(md);
	free(h);
}
END_TEST

/* tests/data/poolwait.db (tests/data/poolwait.sh made it): a real Apache HttpClient
 * pool of 100 exhausted against a real nginx, its thread dump taken through the
 * dashboard, recorded by a leaktop that recorded itself. The handover leads with the
 * culprit and what its pile became, says what to do with the code the dump names,
 * tells the fd_eta clearing as the stall it was, and writes one address form. */
START_TEST(test_real_exhausted_pool)
{
	char cmd[512];
	struct story *st = NULL;
	char *cause = NULL;

	snprintf(cmd, sizeof(cmd), "cp '%s/poolwait.db' '%s'", TESTDATADIR, path);
	ck_assert_int_eq(system(cmd), 0);
	char *md = report(false), *h = report(true);
	const char *sum = after(md, "## Summary\n\n"), *steps = after(md, "## Next steps\n\n"),
		   *tl = after(md, "## Timeline");

	ck_assert_msg(!strncmp(sum, "- **pid 57 java** (java -Xmx64m", 31), "%.200s", sum);
	/* Its latest reason, not its first ("+848/min for 1s, oldest 0ms"). */
	const char *line_end = strchr(sum, '\n');
	const char *reason = strstr(sum, "): leak: CLOSE\\_WAIT stalled at 100 for 2");
	ck_assert_msg(reason && reason < line_end, "%.400s", sum);
	ck_assert_msg(!strstr(sum, "oldest 0ms") || strstr(sum, "oldest 0ms") > steps, "%s", md);
	/* One address form, everywhere. */
	ck_assert_msg(!strstr(md, "ffff") && !strstr(h, "ffff"), "an IPv4-mapped address:\n%s", md);
	ck_assert_ptr_nonnull(strstr(sum, "to 127.0.0.1:8080"));
	/* What to do: the unread responses, the code that asked (from the dump), the fix,
	 * the exhausted pool. */
	static const char out[] =
		"- pid 57 java holds 100 CLOSE\\_WAIT connections to 127.0.0.1:8080, with 1205100 bytes never read: the "
		"server closed them, and pid 57 java neither read the responses to the end nor closed them. Its thread "
		"dump at 12:56:43 shows where: 1 thread WAITING for a pooled connection (HttpClient 4: "
		"AbstractConnPool.getPoolEntryBlocking:391) asked by PoolWait.fetch:38, called from PoolWait.main:77: "
		"main. In that code, read every response's entity to its end and close the response";
	ck_assert_msg(!strncmp(steps, out, sizeof(out) - 1), "%.600s", steps);
	const char *pool = after(steps, "\n- pid 57 java's pile stopped growing at 100 CLOSE\\_WAIT at ");
	after(pool, "its connection pool is exhausted");
	ck_assert(pool < tl);
	/* The fd_eta alert cleared because the growth stopped: told as such. */
	after(tl, "**growth stopped**: fd\\_eta cleared because the growth stopped, not because fds were freed: pid 57 "
		  "java still holds 119 fds (as when it fired), 100 of them CLOSE\\_WAIT");
	ck_assert_msg(!strstr(tl, "**alert cleared**: clear fd\\_eta: pid 57"), "%s", tl);
	/* nginx's cleared because its fds went back down: an all-clear indeed. */
	after(tl, "**alert cleared**: clear fd\\_eta: pid 38 (nginx) runs out of fds in ");
	/* The HTML tells the same: the culprit first, the same steps. */
	const char *hs = after(h, "<h2>Summary</h2>\n<ul>\n<li><a href=\"#proc-57-");
	ck_assert_ptr_nonnull(strstr(hs, "leak: CLOSE_WAIT stalled at 100 for 2"));
	hs = after(h, "<h2>Next steps</h2>\n<ul class=\"steps\">\n<li>pid 57 java holds 100 CLOSE_WAIT connections to "
		      "127.0.0.1:8080, with 1205100 bytes never read");
	after(hs, "asked by PoolWait.fetch:38, called from PoolWait.main:77: main. In that code");
	/* Its charts first too: the culprit, the endpoint it leaks to, then nginx. */
	hs = after(h, "<figure id=\"proc-57-");
	hs = after(hs, "<figure id=\"port-8080-remote-6\">");
	after(hs, "<figure id=\"proc-38-");
	/* The leaktop that recorded is known, and judged nothing worth telling. */
	ck_assert_int_eq(story_build(path, NULL, &st, &cause), 0);
	size_t selves = 0;
	for (size_t i = 0; i < st->nprocs; i++)
		if (st->procs[i].self) {
			selves++;
			ck_assert_str_eq(st->procs[i].comm, "leaktop");
			ck_assert(!st->procs[i].matters);
		}
	ck_assert_uint_eq(selves, 1);
	story_free(st);
	ck_assert_msg(!strstr(sum, "leaktop**") || strstr(sum, "leaktop**") > steps, "%s", md);
	free(md);
	free(h);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown, .timeout = 60,
		 .tests = TESTKIT_TESTS(
			test_story_rules,
			test_markdown_story,
			test_markdown_detail_tables,
			test_markdown_escapes,
			test_html_page,
			test_recorder_left_out,
			test_real_exhausted_pool,
			test_fd_pct_as_batch,
			test_fd_warn_option)},
	};

	return TESTKIT_RUN("report", cases);
}
