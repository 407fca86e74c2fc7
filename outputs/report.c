/* The handover report in Markdown: the story first (who leaked what, the verdict and
 * why, peaks, restarts), then the timeline, then the detail tables. Every recorded
 * string is escaped: a recording may hold terminal escapes and Markdown or HTML. */
#include "config.h"

#include "outputs/report.h"
#include "outputs/story.h"
#include "program/tdigest.h"
#include "recording/recquery.h"
#include "recording/schema.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct report_ctx {
	FILE *f;
	struct sqlite3 *db;
	const struct record_info *info;
	const char *path;
	struct recquery_span span;
	const struct story *st;
	int rows;    /* of the table being written */
	char **cause; /* SQLite's words when a query failed */
};

#define REPORT_ROWS 10
#define REPORT_DIGEST_LINES 8

/* Recorded text in Markdown: control characters escaped (no terminal escapes, one
 * line), and every character Markdown or HTML gives a meaning backslash-escaped, so
 * a process name cannot make a link, a heading, an emphasis, a table cell or a tag;
 * "://" and "www." are broken up so no autolink is made either. Cut at max bytes. */
void report_md_text(FILE *f, const char *s, size_t max)
{
	char buf[2048];

	if (!s || !*s) {
		fputs("-", f);
		return;
	}
	size_t len = strlen(s);
	text_escape_controls(buf, sizeof(buf), s, len < max ? len : max); /* escaped once already */
	for (const char *c = buf; *c; c++) {
		if (strchr("\\`*_[]<>|#~&!{}", *c) || (*c == ':' && c[1] == '/' && c[2] == '/') ||
		    (*c == '.' && c - buf >= 3 && !strncasecmp(c - 3, "www", 3)))
			fputc('\\', f);
		fputc(*c, f);
	}
	if (len > max)
		fputs("...", f);
}

/* A damaged recording's impossible time prints as "?" (text_time). */
static const char *fmt_time(char *buf, size_t n, double t)
{
	return text_time(buf, n, "%Y-%m-%d %H:%M:%S %z", t);
}

static const char *fmt_clock(char *buf, size_t n, double t)
{
	return text_time(buf, n, "%H:%M:%S", t);
}

static const char *fmt_span(char *buf, size_t n, double secs)
{
	if (!(secs < 1e12)) { /* a damaged recording's span: no undefined cast */
		snprintf(buf, n, "?");
		return buf;
	}
	long s = secs > 0 ? (long)(secs + 0.5) : 0;

	if (s >= 3600)
		snprintf(buf, n, "%ldh %02ldm", s / 3600, s / 60 % 60);
	else if (s >= 60)
		snprintf(buf, n, "%ldm %02lds", s / 60, s % 60);
	else
		snprintf(buf, n, "%lds", s);
	return buf;
}

static int section_summary(struct report_ctx *c)
{
	char a[48], b[48], span[32];

	fputs("- Recording: ", c->f);
	report_md_text(c->f, c->path, 1024);
	fputs("\n- Host: ", c->f);
	report_md_text(c->f, c->info->host[0] ? c->info->host : "?", 256);
	fputs(" (kernel ", c->f);
	report_md_text(c->f, c->info->kernel[0] ? c->info->kernel : "?", 128);
	fputs("), recorded by leaktop ", c->f);
	report_md_text(c->f, c->info->version[0] ? c->info->version : "?", 32);
	fprintf(c->f, ", format %d.%d\n", c->info->major, c->info->minor);
	if (!c->span.refreshes) {
		fputs("- No complete refresh was recorded.\n", c->f);
		return 0;
	}
	fprintf(c->f, "- Span: %s to %s (%s), %ld refreshes every %gs\n", fmt_time(a, sizeof(a), c->span.first_time),
		fmt_time(b, sizeof(b), c->span.last_time),
		fmt_span(span, sizeof(span), c->span.last_time - c->span.first_time), c->span.refreshes,
		c->info->interval);
	return 0;
}

static const struct story_proc *story_find(const struct story *st, int32_t pid, uint64_t start_time)
{
	for (size_t i = 0; i < st->nprocs; i++)
		if (st->procs[i].pid == pid && st->procs[i].start_time == start_time)
			return &st->procs[i];
	return NULL;
}

static void story_item(void *ctx, const struct story_proc *p, const struct story_port *port,
		       enum leak_verdict v, const char *line)
{
	struct report_ctx *c = ctx;
	char name[PROC_COMM_MAX + 32];

	(void)v;
	if (p) {
		story_proc_name(c->st, p, name, sizeof(name));
		fputs("- **", c->f);
		report_md_text(c->f, name, sizeof(name));
		fputs("** (", c->f);
		report_md_text(c->f, p->cmdline, 120);
		fputs(")", c->f);
	} else {
		fputs("- Port **", c->f);
		report_md_text(c->f, port->endpoint, sizeof(port->endpoint));
		fputs("**", c->f);
	}
	fputs(": ", c->f);
	report_md_text(c->f, line, 2048);
	fputs("\n", c->f);
}

/* Which process leaked what, its verdict and why, peaks, restarts: the first thing
 * the next shift reads. Culprits by verdict, worst first. */
static int section_story(struct report_ctx *c)
{
	size_t shown = story_each_culprit(c->st, story_item, c);

	if (!shown)
		fputs("No process or port leaked: none was judged suspect or leak, none neared its fd limit.\n", c->f);
	char rule[1024];
	story_rule(c->st, rule, sizeof(rule));
	fprintf(c->f, "\n_%s", rule);
	if (c->st->self_left_out[0]) {
		fputs(" Left out: ", c->f);
		report_md_text(c->f, c->st->self_left_out, sizeof(c->st->self_left_out));
		fputs(", the leaktop that made this recording.", c->f);
	}
	fputs("_\n", c->f);
	return 0;
}

static void step_item(void *ctx, const char *step)
{
	struct report_ctx *c = ctx;

	fputs("- ", c->f);
	report_md_text(c->f, step, 4096);
	fputs("\n", c->f);
}

/* What to do next, from the evidence: the second thing the next shift reads. */
static int section_steps(struct report_ctx *c)
{
	if (!story_each_step(c->st, step_item, c))
		fputs("Nothing to follow up: no leak was found.\n", c->f);
	return 0;
}

/* The thread dump's digest under its action, as a nested list. */
static void md_digest(FILE *f, const struct story_event *e)
{
	char lines[REPORT_DIGEST_LINES][TDIGEST_LINE];
	struct tdigest d;

	if (tdigest_parse(e->dump, e->dump_len, &d))
		return;
	size_t n = tdigest_lines(&d, e->dump_len, lines, REPORT_DIGEST_LINES);
	for (size_t i = 0; i < n; i++) {
		fputs("  - ", f);
		report_md_text(f, lines[i], sizeof(lines[i]));
		fputs("\n", f);
	}
	tdigest_release(&d);
}

/* The moments that matter, in order: first suspect and leak verdicts, alerts fired
 * and cleared, actions and their results, processes replaced by a restart. */
static int section_timeline(struct report_ctx *c)
{
	const struct story *st = c->st;
	char when[48];

	if (!st->nevents) {
		fputs("Nothing happened that matters: no verdict above ok, no alert, no action, no restart.\n", c->f);
		return 0;
	}
	for (size_t i = 0; i < st->nevents; i++) {
		const struct story_event *e = &st->events[i];
		fprintf(c->f, "- %s **%s**: ", fmt_clock(when, sizeof(when), e->time), story_kind_names[e->kind]);
		report_md_text(c->f, e->text, sizeof(e->text));
		fputs("\n", c->f);
		if (e->dump)
			md_digest(c->f, e);
	}
	return 0;
}

/* A row of the fd growth table: only the processes that matter (a compiler's 40
 * files for two seconds do not), REPORT_ROWS of them. */
static int growth_row(void *ctx, const struct recquery_growth *g)
{
	struct report_ctx *c = ctx;
	char span[32], lim[24] = "-";
	const struct story_proc *sp = story_find(c->st, g->pid, g->start_time);
	double t0 = g->first_time, t1 = g->last_time;

	if (!sp || !sp->matters)
		return 0;
	if (c->rows == REPORT_ROWS)
		return 1;
	if (!c->rows++)
		fputs("| PID | COMMAND | USER | FDS FIRST | FDS LAST | GROWTH | OVER | PER MIN | LIMIT | CMDLINE |\n"
		      "|----:|---------|------|----------:|---------:|-------:|------|--------:|------:|---------|\n",
		      c->f);
	if (g->has_fd_limit)
		snprintf(lim, sizeof(lim), "%lld", (long long)g->fd_limit);
	fprintf(c->f, "| %d | ", g->pid);
	report_md_text(c->f, g->comm, 64);
	fputs(" | ", c->f);
	report_md_text(c->f, g->user, 32);
	fprintf(c->f, " | %lld | %lld | +%lld | %s | %.1f | %s | ", (long long)g->first_fds, (long long)g->last_fds,
		(long long)(g->last_fds - g->first_fds), fmt_span(span, sizeof(span), t1 - t0),
		t1 > t0 ? (double)(g->last_fds - g->first_fds) * 60.0 / (t1 - t0) : 0.0, lim);
	report_md_text(c->f, g->cmdline, 60);
	fputs(" |\n", c->f);
	return 0;
}

static int section_fd_growth(struct report_ctx *c)
{
	int rc;

	c->rows = 0;
	rc = recquery_fd_growth(c->db, SCHEMA_V(c->info->major, c->info->minor), c->span.last_tick, growth_row, c,
				c->cause);
	if (!c->rows && !rc)
		fputs("No process that matters grew its fd table over the recording.\n", c->f);
	return rc;
}

/* The story's ports in a table: a local port by its number, a remote one (an
 * outbound leak's sockets, whatever their ephemeral local ports) by its endpoint. */
static void md_port(FILE *f, const struct story_port *p)
{
	char num[16];

	if (p->side == SIDE_REMOTE) {
		report_md_text(f, p->endpoint, sizeof(p->endpoint));
		return;
	}
	/* A UDP port says so; TCP ones, the usual, do not. */
	snprintf(num, sizeof(num), "%u%s", p->port, p->proto == IPPROTO_UDP ? "/udp" : "");
	fputs(num, f);
}

static void md_pids(FILE *f, const struct story *st, const struct story_port *p)
{
	char pids[256];

	story_port_pids(st, p, pids, sizeof(pids));
	report_md_text(f, pids, sizeof(pids));
}

/* The first REPORT_ROWS ports that pass keep, by key, biggest first (then by port). */
static size_t top_ports(const struct story *st, bool (*keep)(const struct story *, const struct story_port *),
			uint64_t (*key)(const struct story_port *), const struct story_port *out[REPORT_ROWS])
{
	size_t n = 0;

	for (size_t i = 0; i < st->nports; i++) {
		const struct story_port *p = &st->ports[i];
		if (!keep(st, p))
			continue;
		size_t at = n < REPORT_ROWS ? n++ : REPORT_ROWS;
		while (at > 0 && (key(out[at - 1]) < key(p) || (key(out[at - 1]) == key(p) && out[at - 1]->port > p->port))) {
			if (at < REPORT_ROWS)
				out[at] = out[at - 1];
			at--;
		}
		if (at < REPORT_ROWS)
			out[at] = p;
	}
	return n;
}

static bool cw_at_end(const struct story *st, const struct story_port *p)
{
	return p->cw_last && st->nrefresh && p->last_seen == st->times[st->nrefresh - 1];
}

static uint64_t cw_now(const struct story_port *p)
{
	return p->cw_last;
}

/* CLOSE_WAIT sockets alive at the end, by port, with the time the oldest entered
 * CLOSE_WAIT: how long the leak has gone unnoticed (at least, when it was already
 * there at the first refresh). The same replay as the summary: the same peaks and
 * holders. */
static int section_close_wait(struct report_ctx *c)
{
	const struct story *st = c->st;
	const struct story_port *top[REPORT_ROWS];
	size_t n = top_ports(st, cw_at_end, cw_now, top);

	if (!n) {
		fputs("No socket was in CLOSE_WAIT at the end of the recording.\n", c->f);
		return 0;
	}
	fputs("| PORT | SIDE | CLOSE_WAIT NOW | PEAK | OLDEST FOR | SINCE | PIDS |\n"
	      "|-----:|------|---------------:|-----:|-----------:|-------|------|\n",
	      c->f);
	for (size_t i = 0; i < n; i++) {
		const struct story_port *p = top[i];
		char age[32], since[16];
		double t = p->last_seen - p->cw_oldest_s;

		fputs("| ", c->f);
		md_port(c->f, p);
		fprintf(c->f, " | %s | %u | %u | %s%s | %s | ", schema_side_name(p->side), p->cw_last, p->cw_peak,
			p->cw_oldest_bound || t <= st->times[0] ? ">= " : "", fmt_span(age, sizeof(age), p->cw_oldest_s),
			fmt_clock(since, sizeof(since), t));
		md_pids(c->f, st, p);
		fputs(" |\n", c->f);
	}
	return 0;
}

static bool has_recvq(const struct story *st, const struct story_port *p)
{
	(void)st;
	return p->recvq_peak > 0;
}

static uint64_t recvq_peak(const struct story_port *p)
{
	return p->recvq_peak;
}

static int section_recv_q(struct report_ctx *c)
{
	const struct story *st = c->st;
	const struct story_port *top[REPORT_ROWS];
	size_t n = top_ports(st, has_recvq, recvq_peak, top);

	if (!n) {
		fputs("No unread bytes sat in any Recv-Q.\n", c->f);
		return 0;
	}
	fputs("| PORT | SIDE | PEAK RECV-Q (BYTES) | AT | PIDS |\n"
	      "|-----:|------|-------------------:|----|------|\n",
	      c->f);
	for (size_t i = 0; i < n; i++) {
		const struct story_port *p = top[i];
		char when[16];

		fputs("| ", c->f);
		md_port(c->f, p);
		fprintf(c->f, " | %s | %llu | %s | ", schema_side_name(p->side), (unsigned long long)p->recvq_peak,
			fmt_clock(when, sizeof(when), p->recvq_peak_at));
		md_pids(c->f, st, p);
		fputs(" |\n", c->f);
	}
	return 0;
}

static int event_row(void *ctx, const struct recquery_event *e)
{
	struct report_ctx *c = ctx;
	char when[48], what[1024];
	const struct story_proc *sp = story_find(c->st, e->pid, e->start_time);

	/* The recorder's own alerts are left out, as it is. */
	if (sp && sp->self && !(e->kind && !strcmp(e->kind, "action")))
		return 0;
	if (!c->rows++)
		fputs("| AT | KIND | PID | WHAT | RESULT |\n|----|------|----:|------|--------|\n", c->f);
	fprintf(c->f, "| %s | ", fmt_time(when, sizeof(when), e->time));
	report_md_text(c->f, e->kind, 16);
	if (!e->has_pid)
		fputs(" | - | ", c->f);
	else
		fprintf(c->f, " | %d | ", e->pid);
	snprintf(what, sizeof(what), "%s", e->what ? e->what : "");
	story_plain_addrs(what);
	report_md_text(c->f, what, 200);
	fputs(" | ", c->f);
	report_md_text(c->f, e->result, 200);
	fputs(" |\n", c->f);
	return 0;
}

static int section_events(struct report_ctx *c)
{
	int rc;

	c->rows = 0;
	rc = recquery_events(c->db, 0, event_row, c, c->cause);
	if (!c->rows && !rc)
		fputs("No alert was raised and no action was taken.\n", c->f);
	return rc;
}

static const struct report_section {
	const char *title; /* NULL: no heading (the summary under the title) */
	int (*write)(struct report_ctx *c);
} sections[] = {
	{NULL, section_summary},
	{"Summary", section_story},
	{"Next steps", section_steps},
	{"Timeline", section_timeline},
	{"Processes with the largest fd growth", section_fd_growth},
	{"Ports with the most CLOSE_WAIT", section_close_wait},
	{"Peak Recv-Q by port", section_recv_q},
	{"Alerts and actions", section_events},
};

int report_write(FILE *f, struct sqlite3 *db, const struct record_info *info, const char *path,
		 const struct alert_thresholds *t, char **cause)
{
	struct report_ctx c = {.f = f, .db = db, .info = info, .path = path};
	struct story *st = NULL;
	char *why = NULL;
	int rc;

	/* The verdicts: recomputed by replaying the recording through the model. */
	if ((rc = story_build(path, t, &st, cause)))
		return rc;
	c.st = st;
	c.cause = &why;

	/* One read transaction: a recording still being written reports one moment. */
	rc = recquery_begin(c.db, &c.span, &why);
	fputs("# leaktop handover: ", f);
	report_md_text(f, info->host[0] ? info->host : path, 256);
	fputs("\n\n", f);
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]) && !rc; i++) {
		if (sections[i].title)
			fprintf(f, "\n## %s\n\n", sections[i].title);
		if (c.span.refreshes || !sections[i].title)
			rc = sections[i].write(&c);
		else
			fputs("Nothing recorded.\n", f);
	}
	if (rc)
		rc = text_cause(cause, -EILSEQ, "%s is damaged: %s", path, why ? why : "out of memory");
	free(why);
	recquery_end(c.db);
	story_free(st);
	if (fflush(f) == EOF && !rc)
		rc = -EIO;
	return rc;
}
