/* The handover report as one self-contained HTML page: the story's summary and
 * timeline, an inline SVG chart per culprit with alerts and actions marked, the
 * detail tables, print CSS. No script; every recorded string goes through html_text. */
#include "config.h"

#include "outputs/html.h"
#include "outputs/story.h"
#include "program/tdigest.h"
#include "recording/schema.h"
#include "model/text.h"
#include "model/view.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHART_W 860
#define CHART_H 240
#define CHART_L 64   /* room for the y labels */
#define CHART_R 16
#define CHART_T 14
#define CHART_B 30   /* room for the time labels */
#define HTML_DIGEST_LINES 8

void html_text(FILE *f, const char *s, size_t max)
{
	char buf[4096];

	if (!s || !*s) {
		fputs("-", f);
		return;
	}
	size_t len = strlen(s);
	text_escape_controls(buf, sizeof(buf), s, len < max ? len : max); /* escaped once already */
	for (const char *c = buf; *c; c++) {
		switch (*c) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*c, f);
		}
	}
	if (len > max)
		fputs("...", f);
}

/* A thread dump in <pre>: every line escaped, tabs kept. */
static void html_pre(FILE *f, const char *s, size_t len)
{
	for (const char *end = s + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		char line[1024];
		for (size_t off = 0; off < n; off += 1000) {
			size_t k = n - off < 1000 ? n - off : 1000;
			memcpy(line, s + off, k);
			line[k] = '\0';
			for (char *t = line; *t; t++)
				if (*t == '\t')
					*t = ' ';
			html_text(f, line, sizeof(line));
		}
		fputc('\n', f);
		s = nl ? nl + 1 : end;
	}
}

static const char *clock_of(char buf[16], double t)
{
	return text_time(buf, 16, "%H:%M:%S", t);
}

static const char style[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d1d1f;max-width:1000px;"
	"margin:1.5em auto;padding:0 1em}\n"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;border-bottom:1px solid #ccc;margin-top:1.6em}\n"
	".meta{color:#555;margin:0;padding-left:1.2em}.rule{color:#555;font-style:italic}\n"
	".v-leak{color:#b00020;font-weight:bold}.v-suspect{color:#a05a00;font-weight:bold}.v-ok{color:#2e7d32}\n"
	"table{border-collapse:collapse;margin:.5em 0;font-size:13px}th,td{border:1px solid #ddd;padding:2px 6px;"
	"text-align:left;vertical-align:top}th{background:#f3f3f3}td.n{text-align:right}\n"
	"figure{margin:1em 0;break-inside:avoid;page-break-inside:avoid}figcaption{font-weight:600;margin-bottom:.2em}\n"
	"svg{background:#fff;border:1px solid #ddd;max-width:100%;height:auto}\n"
	"svg text{font:11px sans-serif;fill:#555}.series{fill:none;stroke:#1565c0;stroke-width:2}\n"
	".limit{stroke:#b00020;stroke-width:1.5}.fdcrit{stroke:#d84315;stroke-dasharray:6 4}"
	".fdwarn{stroke:#f9a825;stroke-dasharray:6 4}.grid{stroke:#eee}\n"
	".marker{stroke-width:1.5;stroke-dasharray:2 2}.m-alert{stroke:#d32f2f}.m-cleared{stroke:#388e3c}"
	".m-stalled{stroke:#ef6c00}"
	".m-action{stroke:#6a1b9a}.m-restart{stroke:#000}\n"
	".legend span{margin-right:1.2em}.legend i{display:inline-block;width:18px;height:3px;vertical-align:middle;"
	"margin-right:4px}\n"
	"pre{background:#f7f7f7;padding:.5em;overflow-x:auto;font-size:12px}ul.digest{margin:.2em 0}\n"
	"@media print{body{max-width:none;margin:0;font-size:11pt}details>pre{display:none}"
	"a{color:inherit;text-decoration:none}h2{break-after:avoid}}\n";

struct html_ctx {
	FILE *f;
	struct sqlite3 *db;
	const struct story *st;
	double t0, t1;
	double *v;       /* st->nrefresh values, scratch */
	int charts;
	bool *charted, *port_charted; /* per story proc and port */
};

static double x_of(const struct html_ctx *c, double t)
{
	double span = c->t1 > c->t0 ? c->t1 - c->t0 : 1;
	return CHART_L + (t - c->t0) / span * (CHART_W - CHART_L - CHART_R);
}

static double y_of(double v, double ymax)
{
	return CHART_T + (1 - v / ymax) * (CHART_H - CHART_T - CHART_B);
}

static const char *marker_class[STK_KIND_COUNT] = {
	[STK_ALERT] = "m-alert", [STK_CLEARED] = "m-cleared", [STK_STALLED] = "m-stalled", [STK_ACTION] = "m-action",
	[STK_REPLACED] = "m-restart",
};

/* A horizontal reference line with its label, when it is on the chart. */
static void hline(struct html_ctx *c, double v, double ymax, const char *cls, const char *label)
{
	if (v > ymax || v <= 0)
		return;
	double y = y_of(v, ymax);
	fprintf(c->f, "<line class=\"%s\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>", cls, CHART_L,
		CHART_W - CHART_R, y, y);
	fprintf(c->f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", CHART_W - CHART_R - 2, y - 3, label);
}

/* One chart of the series in c->v: axes, the series as one path (one point per
 * refresh with a value), reference lines, and a marker per alert and action. */
static void chart(struct html_ctx *c, const char *id, const char *caption, const char *unit, double limit,
		  bool pct_lines)
{
	const struct story *st = c->st;
	double peak = 0;
	size_t points = 0;
	char a[16], b[16], warn[32], crit[32];

	snprintf(warn, sizeof(warn), "%g%%", st->fd_warn_pct);
	snprintf(crit, sizeof(crit), "%g%%", st->fd_crit_pct);
	for (size_t i = 0; i < st->nrefresh; i++)
		if (!isnan(c->v[i])) {
			points++;
			if (c->v[i] > peak)
				peak = c->v[i];
		}
	/* The limit sets the scale when the series comes near it; else it would flatten
	 * the series to a line at the bottom, and the caption says where it is. */
	bool limit_on = limit > 0 && isfinite(limit) && peak >= limit * 0.25;
	double ymax = limit_on ? (limit > peak ? limit : peak) * 1.05 : (peak > 0 ? peak * 1.15 : 1);
	c->charts++;
	fprintf(c->f, "<figure id=\"%s\"><figcaption>", id);
	html_text(c->f, caption, 512);
	if (limit > 0 && isfinite(limit) && !limit_on)
		fprintf(c->f, " (its limit %.0f is far above: off the chart)", limit);
	fprintf(c->f, "</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
		      "height=\"%d\" role=\"img\">\n", CHART_W, CHART_H, CHART_W, CHART_H);
	/* Grid and y labels: 0, half, top. */
	for (int g = 0; g <= 2; g++) {
		double v = ymax / 1.05 * g / 2, y = y_of(v, ymax);
		fprintf(c->f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/>"
			      "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0f%s</text>\n",
			CHART_L, CHART_W - CHART_R, y, y, CHART_L - 4, y + 4, v, "");
	}
	fprintf(c->f, "<text x=\"%d\" y=\"%d\">%s</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">%s</text>\n", CHART_L,
		CHART_H - 8, clock_of(a, c->t0), CHART_W - CHART_R, CHART_H - 8, clock_of(b, c->t1));
	if (limit_on) {
		hline(c, limit, ymax, "limit", "limit");
		if (pct_lines) { /* --fd-crit and --fd-warn, where the fd_usage alert fires */
			hline(c, limit * st->fd_crit_pct / 100, ymax, "fdcrit", crit);
			hline(c, limit * st->fd_warn_pct / 100, ymax, "fdwarn", warn);
		}
	}
	fprintf(c->f, "<path class=\"series\" data-points=\"%zu\" d=\"", points);
	bool pen = false;
	for (size_t i = 0; i < st->nrefresh; i++) {
		if (isnan(c->v[i])) {
			pen = false;
			continue;
		}
		fprintf(c->f, "%s%.1f,%.1f", pen ? " L" : (i ? " M" : "M"), x_of(c, st->times[i]), y_of(c->v[i], ymax));
		pen = true;
	}
	fputs("\"/>\n", c->f);
	for (size_t i = 0; i < st->nevents; i++) {
		const struct story_event *e = &st->events[i];
		if (!marker_class[e->kind])
			continue;
		double x = x_of(c, e->time);
		fprintf(c->f, "<line class=\"marker %s\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"><title>%s ",
			marker_class[e->kind], x, x, CHART_T, CHART_H - CHART_B, clock_of(a, e->time));
		html_text(c->f, e->text, sizeof(e->text));
		fputs("</title></line>\n", c->f);
	}
	fputs("</svg>\n<div class=\"legend\"><span><i style=\"background:#1565c0\"></i>", c->f);
	fputs(unit[0] == ' ' ? unit + 1 : unit[0] ? unit : "count", c->f);
	fputs("</span>", c->f);
	if (limit_on)
		fputs("<span><i style=\"background:#b00020\"></i>limit</span>", c->f);
	if (limit_on && pct_lines)
		fprintf(c->f, "<span><i style=\"background:#f9a825\"></i>%s</span><span><i style=\"background:#d84315\"></i>%s</span>",
			warn, crit);
	fputs("<span><i style=\"background:#d32f2f\"></i>alert</span><span><i style=\"background:#388e3c\"></i>cleared</span>"
	      "<span><i style=\"background:#ef6c00\"></i>growth stopped</span>"
	      "<span><i style=\"background:#6a1b9a\"></i>action</span><span><i style=\"background:#000\"></i>restart</span>"
	      "</div></figure>\n", c->f);
}

static const char *verdict_class(enum leak_verdict v)
{
	return v == VERDICT_LEAK ? "v-leak" : v == VERDICT_SUSPECT ? "v-suspect" : "v-ok";
}

static void summary_item(void *ctx, const struct story_proc *p, const struct story_port *port,
			 enum leak_verdict v, const char *line)
{
	struct html_ctx *c = ctx;
	char name[PROC_COMM_MAX + 32];

	if (p) {
		story_proc_name(c->st, p, name, sizeof(name));
		fprintf(c->f, "<li><a href=\"#proc-%d-%llu\"><b>", (int)p->pid, (unsigned long long)p->start_time);
		html_text(c->f, name, sizeof(name));
		fputs("</b></a> <code>", c->f);
		html_text(c->f, p->cmdline, 160);
		fputs("</code>", c->f);
	} else {
		fputs("<li>Port <b>", c->f);
		html_text(c->f, port->endpoint, sizeof(port->endpoint));
		fputs("</b>", c->f);
	}
	fprintf(c->f, ": <span class=\"%s\">", verdict_class(v));
	html_text(c->f, line, 2048);
	fputs("</span></li>\n", c->f);
}

static void summary(struct html_ctx *c)
{
	fputs("<h2>Summary</h2>\n<ul>\n", c->f);
	size_t shown = story_each_culprit(c->st, summary_item, c);
	if (!shown)
		fputs("<li>No process or port leaked: none was judged suspect or leak, none neared its fd limit.</li>\n",
		      c->f);
	fputs("</ul>\n<p class=\"rule\">", c->f);
	char rule[1024];
	story_rule(c->st, rule, sizeof(rule));
	html_text(c->f, rule, sizeof(rule));
	if (c->st->self_left_out[0]) {
		fputs(" Left out: ", c->f);
		html_text(c->f, c->st->self_left_out, sizeof(c->st->self_left_out));
		fputs(", the leaktop that made this recording.", c->f);
	}
	fputs("</p>\n", c->f);
}

static void step_item(void *ctx, const char *step)
{
	struct html_ctx *c = ctx;

	fputs("<li>", c->f);
	html_text(c->f, step, 4096);
	fputs("</li>\n", c->f);
}

static void next_steps(struct html_ctx *c)
{
	fputs("<h2>Next steps</h2>\n<ul class=\"steps\">\n", c->f);
	if (!story_each_step(c->st, step_item, c))
		fputs("<li>Nothing to follow up: no leak was found.</li>\n", c->f);
	fputs("</ul>\n", c->f);
}

/* The digest of a thread dump, as a list. */
static void digest(struct html_ctx *c, const struct story_event *e)
{
	char lines[HTML_DIGEST_LINES][TDIGEST_LINE];
	struct tdigest d;

	if (tdigest_parse(e->dump, e->dump_len, &d))
		return;
	size_t n = tdigest_lines(&d, e->dump_len, lines, HTML_DIGEST_LINES);
	fputs("<ul class=\"digest\">", c->f);
	for (size_t k = 0; k < n; k++) {
		fputs("<li>", c->f);
		html_text(c->f, lines[k], sizeof(lines[k]));
		fputs("</li>", c->f);
	}
	fputs("</ul>", c->f);
	tdigest_release(&d);
}

static void proc_charts(struct html_ctx *c, const struct story_proc *p)
{
	const struct story *st = c->st;
	char id[64], cap[512], name[PROC_COMM_MAX + 32];

	story_proc_name(st, p, name, sizeof(name));
	snprintf(id, sizeof(id), "proc-%d-%llu", (int)p->pid, (unsigned long long)p->start_time);
	snprintf(cap, sizeof(cap), "%s: open fds", name);
	if (story_proc_series(st, c->db, p, SS_FDS, c->v) < 0)
		return;
	chart(c, id, cap, " fds", p->fd_limit == UINT64_MAX ? 0 : (double)p->fd_limit, true);
	if (p->mem_leak && story_proc_series(st, c->db, p, SS_RSS_KB, c->v) >= 0) {
		for (size_t k = 0; k < st->nrefresh; k++)
			c->v[k] /= 1024;
		snprintf(id, sizeof(id), "rss-%d-%llu", (int)p->pid, (unsigned long long)p->start_time);
		snprintf(cap, sizeof(cap), "%s: resident memory", name);
		chart(c, id, cap, " MB", 0, false);
	}
}

static void port_chart(struct html_ctx *c, const struct story_port *p)
{
	char id[64], cap[512];

	if (story_port_series(c->st, c->db, p, c->v) < 0)
		return;
	snprintf(id, sizeof(id), "port-%u-%s-%u", p->port, schema_side_name(p->side), p->proto);
	snprintf(cap, sizeof(cap), "%s: CLOSE_WAIT sockets", p->endpoint);
	chart(c, id, cap, " CLOSE_WAIT", 0, false);
}

/* The charts in the summary's order: each culprit, its restarts, its ports. */
static void culprit_charts(void *ctx, const struct story_proc *p, const struct story_port *port, enum leak_verdict v,
			   const char *summary)
{
	struct html_ctx *c = ctx;
	const struct story *st = c->st;

	(void)v;
	(void)summary;
	for (const struct story_proc *q = p; q; q = q->replaced_by >= 0 ? &st->procs[q->replaced_by] : NULL) {
		if (!q->matters || c->charted[q - st->procs])
			break;
		c->charted[q - st->procs] = true;
		proc_charts(c, q);
		for (size_t i = 0; i < st->nports; i++)
			for (size_t k = 0; k < st->ports[i].npids && st->ports[i].matters && !c->port_charted[i]; k++)
				if (st->ports[i].pids[k] == q->pid) {
					c->port_charted[i] = true;
					port_chart(c, &st->ports[i]);
				}
	}
	if (port && !c->port_charted[port - st->ports]) {
		c->port_charted[port - st->ports] = true;
		port_chart(c, port);
	}
}

static void charts(struct html_ctx *c)
{
	const struct story *st = c->st;

	fputs("<h2>Charts</h2>\n", c->f);
	story_each_culprit(st, culprit_charts, c);
	/* What matters and was not told as a culprit (a named process, a port at the far
	 * end of one) still has its chart, after them. */
	for (size_t i = 0; i < st->nprocs; i++)
		if (st->procs[i].matters && !c->charted[i]) {
			c->charted[i] = true;
			proc_charts(c, &st->procs[i]);
		}
	for (size_t i = 0; i < st->nports; i++)
		if (st->ports[i].matters && !c->port_charted[i]) {
			c->port_charted[i] = true;
			port_chart(c, &st->ports[i]);
		}
	if (!c->charts)
		fputs("<p>No culprit to chart.</p>\n", c->f);
}

static void timeline(struct html_ctx *c)
{
	const struct story *st = c->st;
	char when[16];

	fputs("<h2>Timeline</h2>\n", c->f);
	if (!st->nevents) {
		fputs("<p>Nothing happened that matters: no verdict above ok, no alert, no action, no restart.</p>\n", c->f);
		return;
	}
	fputs("<table><tr><th>AT</th><th>WHAT</th><th>DETAIL</th></tr>\n", c->f);
	for (size_t i = 0; i < st->nevents; i++) {
		const struct story_event *e = &st->events[i];
		fprintf(c->f, "<tr><td>%s</td><td>%s</td><td>", clock_of(when, e->time), story_kind_names[e->kind]);
		html_text(c->f, e->text, sizeof(e->text));
		if (e->dump) {
			digest(c, e);
			fprintf(c->f, "<details><summary>the full thread dump (%zu bytes)</summary><pre>", e->dump_len);
			html_pre(c->f, e->dump, e->dump_len);
			fputs("</pre></details>", c->f);
		}
		fputs("</td></tr>\n", c->f);
	}
	fputs("</table>\n", c->f);
}

static void details(struct html_ctx *c)
{
	const struct story *st = c->st;
	char d[16], pids[256];

	fputs("<h2>Processes</h2>\n<table><tr><th>PID</th><th>COMMAND</th><th>USER</th><th>VERDICT</th>"
	      "<th>FDS FIRST</th><th>FDS LAST</th><th>FDS PEAK</th><th>LIMIT</th><th>PEAK FD%</th><th>SHORTEST ETA</th>"
	      "<th>RSS PEAK MB</th><th>CMDLINE</th></tr>\n", c->f);
	for (size_t i = 0; i < st->nprocs; i++) {
		const struct story_proc *p = &st->procs[i];
		if (!p->matters)
			continue;
		fprintf(c->f, "<tr><td class=\"n\">%d</td><td>", (int)p->pid);
		html_text(c->f, p->comm, sizeof(p->comm));
		fputs("</td><td>", c->f);
		html_text(c->f, p->user, sizeof(p->user));
		fprintf(c->f, "</td><td class=\"%s\">%s%s</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td>"
			      "<td class=\"n\">%lld</td>", verdict_class(p->worst), leak_verdict_name(p->worst),
			p->mem_leak ? " (memory leak)" : "", (long long)p->fds_first, (long long)p->fds_last,
			(long long)p->fds_peak);
		if (p->fd_limit == UINT64_MAX)
			fputs("<td>-</td><td>-</td>", c->f);
		else
			fprintf(c->f, "<td class=\"n\">%llu</td><td class=\"n\">%.1f</td>", (unsigned long long)p->fd_limit,
				view_fd_pct_cut(p->fd_pct_peak, 1)); /* cut, as every output shows FD% */
		fprintf(c->f, "<td>%s</td><td class=\"n\">%llu</td><td>",
			isfinite(p->eta_min_s) ? leak_format_duration(d, sizeof(d), p->eta_min_s) : "never",
			(unsigned long long)(p->rss_peak_kb / 1024));
		html_text(c->f, p->cmdline, 200);
		fputs("</td></tr>\n", c->f);
	}
	fputs("</table>\n<h2>Ports</h2>\n<table><tr><th>ENDPOINT</th><th>SIDE</th><th>VERDICT</th><th>CLOSE_WAIT NOW</th>"
	      "<th>PEAK</th><th>PEAK RECV-Q</th><th>PIDS</th></tr>\n", c->f);
	for (size_t i = 0; i < st->nports; i++) {
		const struct story_port *p = &st->ports[i];
		if (!p->matters)
			continue;
		story_port_pids(st, p, pids, sizeof(pids));
		fputs("<tr><td>", c->f);
		html_text(c->f, p->endpoint, sizeof(p->endpoint));
		fprintf(c->f, "</td><td>%s</td><td class=\"%s\">%s</td><td class=\"n\">%u</td><td class=\"n\">%u</td>"
			      "<td class=\"n\">%llu</td><td>", schema_side_name(p->side), verdict_class(p->worst),
			leak_verdict_name(p->worst), p->cw_last, p->cw_peak, (unsigned long long)p->recvq_peak);
		html_text(c->f, pids, sizeof(pids));
		fputs("</td></tr>\n", c->f);
	}
	fputs("</table>\n", c->f);
}

int html_report_write(FILE *f, struct sqlite3 *db, const struct record_info *info, const char *path,
		      const struct alert_thresholds *t, char **cause)
{
	struct story *st = NULL;
	char a[48], b[48];
	int rc = story_build(path, t, &st, cause);

	if (rc)
		return rc;
	struct html_ctx c = {.f = f, .db = db, .st = st};
	c.v = calloc(st->nrefresh ? st->nrefresh : 1, sizeof(*c.v));
	c.charted = calloc(st->nprocs + 1, sizeof(*c.charted));
	c.port_charted = calloc(st->nports + 1, sizeof(*c.port_charted));
	if (!c.v || !c.charted || !c.port_charted) {
		free(c.v);
		free(c.charted);
		free(c.port_charted);
		story_free(st);
		return -ENOMEM;
	}
	c.t0 = st->nrefresh ? st->times[0] : 0;
	c.t1 = st->nrefresh ? st->times[st->nrefresh - 1] : 0;
	const char *host = info->host[0] ? info->host : path;
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	      "<title>leaktop handover: ", f);
	html_text(f, host, 256);
	fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>leaktop handover: ", style);
	html_text(f, host, 256);
	fputs("</h1>\n<ul class=\"meta\"><li>Recording: ", f);
	html_text(f, path, 1024);
	fputs("</li><li>Host: ", f);
	html_text(f, info->host[0] ? info->host : "?", 256);
	fputs(" (kernel ", f);
	html_text(f, info->kernel[0] ? info->kernel : "?", 128);
	fputs("), recorded by leaktop ", f);
	html_text(f, info->version[0] ? info->version : "?", 32);
	fprintf(f, ", format %d.%d</li>\n", info->major, info->minor);
	if (st->nrefresh) {
		text_time(a, sizeof(a), "%Y-%m-%d %H:%M:%S %z", c.t0);
		text_time(b, sizeof(b), "%Y-%m-%d %H:%M:%S %z", c.t1);
		fprintf(f, "<li>Span: %s to %s, %zu refreshes every %gs</li>", a, b, st->nrefresh, info->interval);
	} else {
		fputs("<li>No complete refresh was recorded.</li>", f);
	}
	fputs("</ul>\n", f);
	summary(&c);
	next_steps(&c);
	timeline(&c);
	charts(&c);
	details(&c);
	fputs("<p class=\"rule\">Made by leaktop " PACKAGE_VERSION " from the recording; nothing on this page loads "
	      "anything from the network.</p>\n</body></html>\n", f);
	free(c.v);
	free(c.charted);
	free(c.port_charted);
	story_free(st);
	if (fflush(f) == EOF)
		return -EIO;
	return 0;
}
