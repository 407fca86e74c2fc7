/* The column tables: one entry per column of every table-shaped view (title, width,
 * sort order, formatter), which columns fit a width, and a row's culprit rank (the
 * sorting itself is order.c's). */
#include "config.h"

#include "model/view.h"
#include "model/history.h"
#include "model/snapshot.h"

#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CMP(x, y) (((x) > (y)) - ((x) < (y)))

/* Doubles where NaN (not known yet) sorts below every number. */
static int cmp_num(double x, double y)
{
	if (isnan(x) || isnan(y))
		return isnan(x) - isnan(y) ? (isnan(x) ? -1 : 1) : 0;
	return CMP(x, y);
}

static const struct proc_rec *P(const struct view_ctx *c, uint32_t i)
{
	return &c->s->procs[i];
}

static int pc_pid(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->pid, P(c, b)->pid); }
static int pc_user(const struct view_ctx *c, uint32_t a, uint32_t b) { return strcmp(P(c, a)->user, P(c, b)->user); }
static int pc_comm(const struct view_ctx *c, uint32_t a, uint32_t b) { return strcasecmp(P(c, a)->comm, P(c, b)->comm); }
static int pc_fds(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->fds, P(c, b)->fds); }
static int pc_limit(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->fd_limit, P(c, b)->fd_limit); }
static int pc_pct(const struct view_ctx *c, uint32_t a, uint32_t b) { return cmp_num(view_fd_pct(P(c, a)), view_fd_pct(P(c, b))); }
static int pc_socks(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->sockets, P(c, b)->sockets); }
static int pc_cw(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->states[ST_CLOSE_WAIT], P(c, b)->states[ST_CLOSE_WAIT]); }
static int pc_est(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->states[ST_ESTABLISHED], P(c, b)->states[ST_ESTABLISHED]); }
static int pc_rq(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->recv_q, P(c, b)->recv_q); }
static int pc_rss(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->rss_kb, P(c, b)->rss_kb); }

static void pf_pid(const struct view_ctx *c, uint32_t i, char *b, size_t n) { snprintf(b, n, "%d", P(c, i)->pid); }
static void pf_user(const struct view_ctx *c, uint32_t i, char *b, size_t n) { snprintf(b, n, "%s", P(c, i)->user); }
static void pf_comm(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	/* comm, like top: what the process calls itself (prctl), escaped. The drill-down
	 * shows the command line. */
	snprintf(b, n, "%s", P(c, i)->comm);
}
static void pf_fds(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	if (P(c, i)->fds < 0)
		snprintf(b, n, "?");
	else
		view_fmt_count(b, n, (uint64_t)P(c, i)->fds, 6);
}
static void pf_limit(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	if (P(c, i)->fd_limit == UINT64_MAX)
		snprintf(b, n, "-");
	else
		view_fmt_count(b, n, P(c, i)->fd_limit, 5);
}
static void pf_pct(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	double pct = view_fd_pct(P(c, i));
	if (isnan(pct))
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%.0f", view_fd_pct_cut(pct, 0));
}
static void pf_socks(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, P(c, i)->sockets, 5); }
static void pf_cw(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, P(c, i)->states[ST_CLOSE_WAIT], 7); }
static void pf_est(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, P(c, i)->states[ST_ESTABLISHED], 5); }
static void pf_rq(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, P(c, i)->recv_q, 6); }
static void pf_rss(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	uint64_t kb = P(c, i)->rss_kb;
	if (view_rss_known(kb))
		view_fmt_count(b, n, kb * 1024, 5);
	else
		snprintf(b, n, "-"); /* it wrapped: a damaged recording's -1 showed 16383P */
}

static const struct history_stats *PH(const struct view_ctx *c, uint32_t i)
{
	return c->h ? history_proc(c->h, P(c, i)->pid, P(c, i)->start_time) : NULL;
}
static double ph_growth(const struct view_ctx *c, uint32_t i)
{
	const struct history_stats *st = PH(c, i);
	return st ? st->fd_growth_per_min : NAN;
}
static double ph_eta(const struct view_ctx *c, uint32_t i)
{
	const struct history_stats *st = PH(c, i);
	return st ? st->exhaustion_eta_s : NAN;
}
static int ph_verdict(const struct view_ctx *c, uint32_t i)
{
	const struct history_stats *st = PH(c, i);
	return st ? (int)st->verdict : -1;
}
static int pc_fdmin(const struct view_ctx *c, uint32_t a, uint32_t b) { return cmp_num(ph_growth(c, a), ph_growth(c, b)); }
static double ph_rss_growth(const struct view_ctx *c, uint32_t i)
{
	const struct history_stats *st = PH(c, i);
	return st ? st->rss_growth_mb_per_min : NAN;
}
static int pc_rssmin(const struct view_ctx *c, uint32_t a, uint32_t b) { return cmp_num(ph_rss_growth(c, a), ph_rss_growth(c, b)); }
/* Soonest first is the natural order of a time left: never and unknown go last. */
static int pc_eta(const struct view_ctx *c, uint32_t a, uint32_t b)
{
	double x = ph_eta(c, a), y = ph_eta(c, b);
	return cmp_num(isnan(x) ? INFINITY : x, isnan(y) ? INFINITY : y);
}
static int pc_verdict(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(ph_verdict(c, a), ph_verdict(c, b)); }

static void pf_fdmin(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	double g = ph_growth(c, i);
	if (isfinite(g) && fabs(g) >= 9999.5)
		snprintf(b, n, "%+.0fK", g / 1000);
	else
		view_fmt_growth(b, n, g, 99.95);
}
static void pf_eta(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	double e = ph_eta(c, i);
	if (isnan(e))
		snprintf(b, n, "-");
	else if (e < 1)
		snprintf(b, n, "now"); /* at the limit already, or within the second */
	else
		leak_format_duration(b, n, e);
}
/* The last 16 samples of one of the process's history series, as a sparkline. */
static void proc_sparkline(const struct view_ctx *c, uint32_t i, enum history_series series, char *b,
			   size_t n)
{
	double t[16], v[16];
	size_t k = c->h ? history_proc_series(c->h, P(c, i)->pid, P(c, i)->start_time, series, t, v, 16) : 0;
	if (!view_sparkline(b, n, v, k, 8, c->ascii))
		snprintf(b, n, "-");
}
static void pf_trend(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	proc_sparkline(c, i, HS_FDS, b, n);
}
/* MB a minute: a tenth is worth showing, a native leak starts around one. */
static void pf_rssmin(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	view_fmt_growth(b, n, ph_rss_growth(c, i), 999.95);
}
static void pf_rss_trend(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	proc_sparkline(c, i, HS_RSS_KB, b, n);
}
static void pf_verdict(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	int v = ph_verdict(c, i);
	snprintf(b, n, "%s", v < 0 ? "-" : leak_verdict_name((enum leak_verdict)v));
}

/* The text report's own: socket fds in no kernel table, other kinds, where it runs. */
static int pc_closed(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->states[ST_CLOSED_FD], P(c, b)->states[ST_CLOSED_FD]); }
static int pc_udp(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->kinds[SK_UDP], P(c, b)->kinds[SK_UDP]); }
static int pc_unix(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->kinds[SK_UNIX], P(c, b)->kinds[SK_UNIX]); }
static int pc_netns(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(P(c, a)->netns, P(c, b)->netns); }
static const char *proc_where(const struct proc_rec *p)
{
	return p->container[0] ? p->container : p->unit[0] ? p->unit : "-";
}
static int pc_where(const struct view_ctx *c, uint32_t a, uint32_t b) { return strcmp(proc_where(P(c, a)), proc_where(P(c, b))); }
static void pf_closed(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	if (c->s->closed_valid)
		snprintf(b, n, "%u", P(c, i)->states[ST_CLOSED_FD]);
	else
		snprintf(b, n, "-");
}
static void pf_udp(const struct view_ctx *c, uint32_t i, char *b, size_t n) { snprintf(b, n, "%u", P(c, i)->kinds[SK_UDP]); }
static void pf_unix(const struct view_ctx *c, uint32_t i, char *b, size_t n) { snprintf(b, n, "%u", P(c, i)->kinds[SK_UNIX]); }
static void pf_netns(const struct view_ctx *c, uint32_t i, char *b, size_t n) { snprintf(b, n, "%llu", (unsigned long long)P(c, i)->netns); }
static void pf_where(const struct view_ctx *c, uint32_t i, char *b, size_t n) { snprintf(b, n, "%s", proc_where(P(c, i))); }

/* Adding a column is one entry here (plus its PC_ name). At 80 columns the ones with
 * the highest drop go first: RSS/MIN, RSS_TREND, RSS, LIMIT, ESTAB, RECV-Q, SOCKS. */
static const struct view_col proc_cols[PC_COUNT] = {
	[PC_PID] = {.title = "PID", .width = 7, .asc = true, .cmp = pc_pid, .fmt = pf_pid},
	[PC_USER] = {.title = "USER", .width = 8, .drop = 4, .left = true, .asc = true, .cmp = pc_user, .fmt = pf_user},
	[PC_COMMAND] = {.title = "COMMAND", .width = 12, .left = true, .flex = true, .asc = true, .cmp = pc_comm, .fmt = pf_comm},
	[PC_FDS] = {.title = "FDS", .width = 6, .cmp = pc_fds, .fmt = pf_fds},
	[PC_LIMIT] = {.title = "LIMIT", .width = 5, .drop = 13, .cmp = pc_limit, .fmt = pf_limit},
	[PC_FDPCT] = {.title = "FD%", .width = 3, .drop = 9, .cmp = pc_pct, .fmt = pf_pct},
	[PC_FDMIN] = {.title = "FD/MIN", .width = 6, .drop = 5, .cmp = pc_fdmin, .fmt = pf_fdmin, .hist = true},
	[PC_ETA] = {.title = "ETA", .width = 5, .drop = 7, .asc = true, .cmp = pc_eta, .fmt = pf_eta, .hist = true},
	[PC_TREND] = {.title = "TREND", .width = 8, .drop = 8, .left = true, .cmp = pc_fdmin, .fmt = pf_trend},
	[PC_SOCKETS] = {.title = "SOCKS", .width = 5, .drop = 10, .cmp = pc_socks, .fmt = pf_socks},
	[PC_CLOSE_WAIT] = {.title = "CLOSE_W", .width = 7, .cmp = pc_cw, .fmt = pf_cw},
	[PC_ESTAB] = {.title = "ESTAB", .width = 5, .drop = 12, .cmp = pc_est, .fmt = pf_est},
	[PC_RECVQ] = {.title = "RECV-Q", .width = 6, .drop = 11, .cmp = pc_rq, .fmt = pf_rq},
	[PC_RSS] = {.title = "RSS", .width = 5, .drop = 14, .cmp = pc_rss, .fmt = pf_rss},
	[PC_RSSMIN] = {.title = "RSS/MIN", .width = 7, .drop = 16, .cmp = pc_rssmin, .fmt = pf_rssmin},
	[PC_RSS_TREND] = {.title = "RSS_TREND", .width = 9, .drop = 15, .left = true, .cmp = pc_rssmin, .fmt = pf_rss_trend},
	[PC_VERDICT] = {.title = "VERDICT", .width = 7, .drop = 3, .left = true, .cmp = pc_verdict, .fmt = pf_verdict, .hist = true},
	[PC_TEXT_CLOSED] = {.title = "CLOSED", .width = 6, .text_only = true, .cmp = pc_closed, .fmt = pf_closed},
	[PC_TEXT_UDP] = {.title = "UDP", .width = 6, .text_only = true, .cmp = pc_udp, .fmt = pf_udp},
	[PC_TEXT_UNIX] = {.title = "UNIX", .width = 6, .text_only = true, .cmp = pc_unix, .fmt = pf_unix},
	[PC_TEXT_NETNS] = {.title = "NETNS", .width = 10, .text_only = true, .asc = true, .cmp = pc_netns, .fmt = pf_netns},
	[PC_TEXT_CONTAINER] = {.title = "CONTAINER/UNIT", .width = 14, .left = true, .text_only = true, .asc = true, .cmp = pc_where, .fmt = pf_where},
};

/* The text report: the figures of the dashboard, then what only it shows, then
 * the history's, and where the process runs last (never cut). */
static const uint8_t proc_text[] = {
	PC_PID, PC_USER, PC_COMMAND, PC_FDS, PC_LIMIT, PC_FDPCT, PC_SOCKETS, PC_CLOSE_WAIT, PC_ESTAB, PC_RECVQ,
	PC_RSS, PC_TEXT_CLOSED, PC_TEXT_UDP, PC_TEXT_UNIX, PC_TEXT_NETNS, PC_FDMIN, PC_ETA, PC_VERDICT,
	PC_TEXT_CONTAINER,
};

static const struct port_agg *O(const struct view_ctx *c, uint32_t i)
{
	return &c->s->ports[i];
}

static int oc_port(const struct view_ctx *c, uint32_t a, uint32_t b)
{
	int r = CMP(O(c, a)->port, O(c, b)->port);
	return r ? r : CMP(O(c, a)->side, O(c, b)->side);
}
static int oc_pid(const struct view_ctx *c, uint32_t a, uint32_t b)
{
	return CMP(O(c, a)->npids ? O(c, a)->pids[0] : 0, O(c, b)->npids ? O(c, b)->pids[0] : 0);
}
static int oc_count(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(O(c, a)->count, O(c, b)->count); }
#define OC_STATE(name, st) \
	static int name(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(O(c, a)->states[st], O(c, b)->states[st]); }
OC_STATE(oc_est, ST_ESTABLISHED)
OC_STATE(oc_cw, ST_CLOSE_WAIT)
OC_STATE(oc_tw, ST_TIME_WAIT)
OC_STATE(oc_f2, ST_FIN_WAIT2)
static int oc_accept(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(O(c, a)->accept_q, O(c, b)->accept_q); }
static int oc_rq(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(O(c, a)->recv_q, O(c, b)->recv_q); }

/* A remote port (a client's outbound connections) is marked "->5432". */
static void of_port(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	snprintf(b, n, "%s%u", O(c, i)->side == SIDE_REMOTE ? "->" : "", O(c, i)->port);
}
/* The text report names the side in a column of its own (SIDE). */
static void of_text_port(const struct view_ctx *c, uint32_t i, char *b, size_t n) { snprintf(b, n, "%u", O(c, i)->port); }
static void of_pid(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct port_agg *p = O(c, i);
	if (!p->npids)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%d%s", p->pids[0], p->npids > 1 || p->pids_truncated ? "+" : "");
}
static void of_count(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, O(c, i)->count, 6); }
#define OF_STATE(name, st, w) \
	static void name(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, O(c, i)->states[st], w); }
OF_STATE(of_est, ST_ESTABLISHED, 5)
OF_STATE(of_cw, ST_CLOSE_WAIT, 7)
OF_STATE(of_tw, ST_TIME_WAIT, 6)
OF_STATE(of_f2, ST_FIN_WAIT2, 6)
static void of_accept(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct port_agg *p = O(c, i);
	if (!p->states[ST_LISTEN])
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%u/%u", p->accept_q, p->accept_max);
}
static void of_rq(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, O(c, i)->recv_q, 6); }

static const struct history_stats *OH(const struct view_ctx *c, uint32_t i)
{
	return c->h ? history_port(c->h, O(c, i)->netns, O(c, i)->port, O(c, i)->side) : NULL;
}
static double oh_cwmin(const struct view_ctx *c, uint32_t i)
{
	const struct history_stats *st = OH(c, i);
	return st ? st->growth_per_min[ST_CLOSE_WAIT] : NAN;
}
static double oh_cwage(const struct view_ctx *c, uint32_t i)
{
	const struct history_stats *st = OH(c, i);
	return st ? st->close_wait_oldest_s : 0;
}
static int oc_cwmin(const struct view_ctx *c, uint32_t a, uint32_t b) { return cmp_num(oh_cwmin(c, a), oh_cwmin(c, b)); }
static int oc_cwage(const struct view_ctx *c, uint32_t a, uint32_t b) { return cmp_num(oh_cwage(c, a), oh_cwage(c, b)); }
static void of_cwmin(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	view_fmt_growth(b, n, oh_cwmin(c, i), 99.95);
}
/* "2m", or ">=2m" when the age is the kernel's lower bound. */
static void fmt_age(char *b, size_t n, double secs, bool bound)
{
	char d[16];
	snprintf(b, n, "%s%s", bound ? ">=" : "", leak_format_duration(d, sizeof(d), secs));
}
static void of_cwage(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct history_stats *st = OH(c, i);
	double a = oh_cwage(c, i);
	if (a > 0)
		fmt_age(b, n, a, st && st->close_wait_oldest_bound);
	else
		snprintf(b, n, "-");
}

/* The text report's own: side, protocol, the verdict, and the states in words with
 * the accept queue, the holders and a netns not leaktop's own. */
static int oc_side(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(O(c, a)->side, O(c, b)->side); }
static int oc_proto(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(O(c, a)->proto, O(c, b)->proto); }
static int oh_verdict(const struct view_ctx *c, uint32_t i)
{
	const struct history_stats *st = OH(c, i);
	return st ? (int)st->verdict : -1;
}
static int oc_verdict(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(oh_verdict(c, a), oh_verdict(c, b)); }
static void of_side(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	snprintf(b, n, "%s", O(c, i)->side == SIDE_LOCAL ? "local" : "remote");
}
static void of_proto(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	snprintf(b, n, "%s", O(c, i)->proto == IPPROTO_UDP ? "udp" : "tcp");
}
static void of_verdict(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	int v = oh_verdict(c, i);
	snprintf(b, n, "%s", v < 0 ? "-" : leak_verdict_name((enum leak_verdict)v));
}
static void of_states(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct port_agg *p = O(c, i);
	size_t len;

	view_fmt_states(b, n, p->states);
#define ADD(...) (len = strlen(b), len < n ? (void)snprintf(b + len, n - len, __VA_ARGS__) : (void)0)
	if (p->states[ST_LISTEN])
		ADD("; accept queue %u/%u", p->accept_q, p->accept_max);
	ADD("; pids");
	for (uint32_t j = 0; j < p->npids; j++)
		ADD(" %d", p->pids[j]);
	ADD("%s", p->pids_truncated ? " ..." : (p->npids ? "" : " none"));
	/* Ports are per netns: 8080 in two pods is two rows. */
	const struct netns_rec *ns = snapshot_find_netns(c->s, p->netns);
	if (p->netns && !(ns && ns->own))
		ADD("; netns %llu", (unsigned long long)p->netns);
#undef ADD
}

/* At 80 columns FIN_W2, TIME_W, ACCEPT-Q and ESTAB give way: the verdict, and unread
 * bytes (RECV-Q) say more about a stuck consumer, and the bar's column names the state
 * most sockets are in ("CLOSE_WAIT 98%") before it draws them all. */
static const struct view_col port_cols[OC_COUNT] = {
	[OC_PORT] = {.title = "PORT", .width = 7, .asc = true, .cmp = oc_port, .fmt = of_port},
	[OC_PID] = {.title = "PID", .width = 8, .drop = 5, .asc = true, .cmp = oc_pid, .fmt = of_pid},
	[OC_SOCKETS] = {.title = "SOCKS", .width = 6, .cmp = oc_count, .fmt = of_count},
	[OC_ESTAB] = {.title = "ESTAB", .width = 5, .drop = 9, .cmp = oc_est, .fmt = of_est},
	[OC_CLOSE_WAIT] = {.title = "CLOSE_W", .width = 7, .cmp = oc_cw, .fmt = of_cw},
	[OC_CWMIN] = {.title = "CW/MIN", .width = 6, .drop = 3, .cmp = oc_cwmin, .fmt = of_cwmin, .hist = true},
	[OC_CWAGE] = {.title = "CW_AGE", .width = 6, .drop = 4, .cmp = oc_cwage, .fmt = of_cwage, .hist = true},
	[OC_TIME_WAIT] = {.title = "TIME_W", .width = 6, .drop = 11, .cmp = oc_tw, .fmt = of_tw},
	[OC_FIN_WAIT2] = {.title = "FIN_W2", .width = 6, .drop = 12, .cmp = oc_f2, .fmt = of_f2},
	[OC_ACCEPT] = {.title = "ACCEPT-Q", .width = 9, .drop = 10, .cmp = oc_accept, .fmt = of_accept},
	[OC_RECVQ] = {.title = "RECV-Q", .width = 6, .drop = 6, .cmp = oc_rq, .fmt = of_rq},
	[OC_VERDICT] = {.title = "VERDICT", .width = 7, .drop = 2, .left = true, .hist = true, .cmp = oc_verdict, .fmt = of_verdict},
	/* The state most sockets are in, then the bar: its minimum holds "CLOSE_WAIT 100%". */
	[OC_BAR] = {.title = "STATES", .width = 16, .left = true, .flex = true, .cmp = oc_count, .fmt = NULL},
	[OC_TEXT_PORT] = {.title = "PORT", .width = 5, .text_only = true, .asc = true, .cmp = oc_port, .fmt = of_text_port},
	[OC_TEXT_SIDE] = {.title = "SIDE", .width = 6, .left = true, .text_only = true, .asc = true, .cmp = oc_side, .fmt = of_side},
	[OC_TEXT_PROTO] = {.title = "PROTO", .width = 5, .left = true, .text_only = true, .asc = true, .cmp = oc_proto, .fmt = of_proto},
	[OC_TEXT_STATES] = {.title = "STATES", .width = 6, .left = true, .text_only = true, .cmp = oc_count, .fmt = of_states},
};

static const uint8_t port_text[] = {
	OC_TEXT_PORT, OC_TEXT_SIDE, OC_SOCKETS, OC_RECVQ, OC_TEXT_PROTO, OC_CWMIN, OC_CWAGE, OC_VERDICT, OC_TEXT_STATES,
};

/* A row of the sockets table is a socket index, or VIEW_ROW_OWNER | an owner index
 * (one fd of one process: its socket, or none when the fd is CLOSED). */
static const struct sock_owner *KO(const struct view_ctx *c, uint32_t i)
{
	return i & VIEW_ROW_OWNER ? &c->s->owners[i & ~VIEW_ROW_OWNER] : NULL;
}

/* The socket of a row, NULL for a socket fd in no dump (CLOSED). */
static const struct sock_rec *K(const struct view_ctx *c, uint32_t i)
{
	const struct sock_owner *o = KO(c, i);
	if (o)
		return o->sock >= 0 ? &c->s->socks[o->sock] : NULL;
	return &c->s->socks[i];
}

static const struct sock_rec no_sock = {.state = ST_CLOSED_FD};
/* The socket, or a stand-in for a CLOSED fd: state CLOSED, nothing else known. */
static const struct sock_rec *KS(const struct view_ctx *c, uint32_t i)
{
	const struct sock_rec *k = K(c, i);
	return k ? k : &no_sock;
}

static int32_t sock_pid(const struct view_ctx *c, uint32_t i)
{
	const struct sock_owner *o = KO(c, i);
	if (o)
		return c->s->procs[o->proc].pid;
	const struct proc_rec *p = snapshot_sock_proc(c->s, K(c, i));
	return p ? p->pid : -1;
}

static int sock_fd(const struct view_ctx *c, uint32_t i)
{
	const struct sock_owner *o = KO(c, i);
	return o ? o->fd : snapshot_sock_fd(c->s, K(c, i));
}

static uint32_t sock_inode(const struct view_ctx *c, uint32_t i)
{
	const struct sock_owner *o = KO(c, i);
	return o ? o->inode : K(c, i)->inode;
}

/* "TCP", "UDP", "UNIX", ..., "CLOSED" for an fd whose socket is in no dump. */
static void sock_type(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct sock_rec *k = K(c, i);
	const char *name = k ? sock_proto_name(k) : "closed";
	size_t j = 0;
	for (; name[j] && j + 1 < n; j++)
		b[j] = (char)(name[j] >= 'a' && name[j] <= 'z' ? name[j] - 'a' + 'A' : name[j]);
	if (n)
		b[j] = '\0';
}

static void addr_text(int family, const uint8_t *addr, uint16_t port, char *b, size_t n)
{
	char a[SOCK_ADDR_MAX];

	snprintf(b, n, "%s", sock_addr_format(a, family, addr, port));
}

static void sock_addr_text(const struct snapshot *s, const struct sock_rec *k, bool local, char *b, size_t n)
{
	addr_text(k->family, sock_addr(s, k, local).b, local ? k->lport : k->rport, b, n);
}

static int addr_cmp(const struct snapshot *s, const struct sock_rec *x, const struct sock_rec *y, bool local)
{
	int r = CMP(x->family == AF_UNIX, y->family == AF_UNIX);
	if (!r && x->family == AF_UNIX) /* by name offset, then peer */
		r = local ? memcmp(&x->un, &y->un, sizeof(x->un)) : 0;
	else if (!r)
		r = memcmp(sock_addr(s, x, local).b, sock_addr(s, y, local).b, 16);
	return r ? r : local ? CMP(x->lport, y->lport) : CMP(x->rport, y->rport);
}

static int sc_fd(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(sock_fd(c, a), sock_fd(c, b)); }
static int sc_pid(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(sock_pid(c, a), sock_pid(c, b)); }
static int sc_type(const struct view_ctx *c, uint32_t a, uint32_t b)
{
	char x[16], y[16];
	sock_type(c, a, x, sizeof(x));
	sock_type(c, b, y, sizeof(y));
	return strcmp(x, y);
}
static int sc_state(const struct view_ctx *c, uint32_t a, uint32_t b) { return strcmp(sk_state_name(KS(c, a)->state), sk_state_name(KS(c, b)->state)); }
static int sc_local(const struct view_ctx *c, uint32_t a, uint32_t b) { return addr_cmp(c->s, KS(c, a), KS(c, b), true); }
static int sc_remote(const struct view_ctx *c, uint32_t a, uint32_t b) { return addr_cmp(c->s, KS(c, a), KS(c, b), false); }
static int sc_rq(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(KS(c, a)->rqueue, KS(c, b)->rqueue); }
static int sc_sq(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(KS(c, a)->wqueue, KS(c, b)->wqueue); }
static int sc_inode(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(sock_inode(c, a), sock_inode(c, b)); }
static int sc_timer(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(KS(c, a)->expires_ms, KS(c, b)->expires_ms); }

/* A number that may be unknown (-1: no owner). */
static void fmt_id(char *b, size_t n, long v)
{
	if (v < 0)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%ld", v);
}
static void sf_fd(const struct view_ctx *c, uint32_t i, char *b, size_t n) { fmt_id(b, n, sock_fd(c, i)); }
static void sf_pid(const struct view_ctx *c, uint32_t i, char *b, size_t n) { fmt_id(b, n, sock_pid(c, i)); }
static void sf_type(const struct view_ctx *c, uint32_t i, char *b, size_t n) { sock_type(c, i, b, n); }
static void sf_state(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	unsigned st = KS(c, i)->state;
	snprintf(b, n, "%s", st == ST_ESTABLISHED ? "ESTAB" : sk_state_name(st));
}
/* A UNIX socket's address is its name (escaped when stored; unnamed, as a socketpair's
 * ends are: "-"), its peer the peer's inode. A CLOSED fd has neither. */
static void sf_local(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct sock_rec *k = K(c, i);
	if (!k)
		snprintf(b, n, "-");
	else if (k->family == AF_UNIX)
		snprintf(b, n, "%s", *snapshot_name(c->s, k->un.name) ? snapshot_name(c->s, k->un.name) : "-");
	else
		sock_addr_text(c->s, k, true, b, n);
}
static void sf_remote(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct sock_rec *k = K(c, i);
	if (!k)
		snprintf(b, n, "-");
	else if (k->family == AF_UNIX && k->un.peer)
		snprintf(b, n, "peer %u", k->un.peer);
	else if (k->family == AF_UNIX)
		snprintf(b, n, "-");
	else
		sock_addr_text(c->s, k, false, b, n);
}
static int sc_proto(const struct view_ctx *c, uint32_t a, uint32_t b) { return sc_type(c, a, b); }
static void sf_proto(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct sock_rec *k = K(c, i);
	snprintf(b, n, "%s", k ? sock_proto_name(k) : "closed");
}
static void sf_rq(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, KS(c, i)->rqueue, 6); }
static void sf_sq(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, KS(c, i)->wqueue, 6); }
static void sf_inode(const struct view_ctx *c, uint32_t i, char *b, size_t n) { snprintf(b, n, "%u", sock_inode(c, i)); }
static void sf_timer(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	static const char *const names[] = {"", "retr", "keep", "tw", "probe"};
	const struct sock_rec *k = KS(c, i);
	if (!k->timer || k->timer >= sizeof(names) / sizeof(names[0]))
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%s %us", names[k->timer], (k->expires_ms + 999) / 1000);
}

/* Seconds in the current state, NaN when the history has not seen the socket. */
static double sock_state_age(const struct view_ctx *c, uint32_t i)
{
	double age, in_state;
	const struct sock_rec *k = K(c, i);
	return k && c->h && !history_sock_age(c->h, c->s, k, &age, &in_state) ? in_state : NAN;
}
static int sc_age(const struct view_ctx *c, uint32_t a, uint32_t b) { return cmp_num(sock_state_age(c, a), sock_state_age(c, b)); }
static void sf_age(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	double a = sock_state_age(c, i);
	if (isnan(a))
		snprintf(b, n, "-");
	else
		fmt_age(b, n, a, history_sock_age_bound(c->h, c->s, K(c, i)));
}

static const struct view_col sock_cols[SC_COUNT] = {
	[SC_FD] = {.title = "FD", .width = 5, .asc = true, .cmp = sc_fd, .fmt = sf_fd},
	[SC_PID] = {.title = "PID", .width = 7, .drop = 4, .asc = true, .cmp = sc_pid, .fmt = sf_pid},
	[SC_TYPE] = {.title = "TYPE", .width = 4, .left = true, .asc = true, .cmp = sc_type, .fmt = sf_type},
	[SC_STATE] = {.title = "STATE", .width = 10, .left = true, .asc = true, .cmp = sc_state, .fmt = sf_state},
	[SC_LOCAL] = {.title = "LOCAL", .width = 21, .left = true, .asc = true, .cmp = sc_local, .fmt = sf_local},
	[SC_REMOTE] = {.title = "REMOTE", .width = 21, .left = true, .flex = true, .asc = true, .cmp = sc_remote, .fmt = sf_remote},
	[SC_RECVQ] = {.title = "RECV-Q", .width = 6, .cmp = sc_rq, .fmt = sf_rq},
	[SC_SENDQ] = {.title = "SEND-Q", .width = 6, .drop = 2, .cmp = sc_sq, .fmt = sf_sq},
	[SC_INODE] = {.title = "INODE", .width = 8, .drop = 3, .asc = true, .cmp = sc_inode, .fmt = sf_inode},
	[SC_TIMER] = {.title = "TIMER", .width = 8, .drop = 5, .cmp = sc_timer, .fmt = sf_timer},
	[SC_AGE] = {.title = "AGE", .width = 6, .drop = 1, .cmp = sc_age, .fmt = sf_age, .hist = true},
	[SC_TEXT_PROTO] = {.title = "PROTO", .width = 5, .left = true, .text_only = true, .asc = true, .cmp = sc_proto, .fmt = sf_proto},
};

/* The text report's backlog: the sockets with the most Recv-Q. */
static const uint8_t sock_text[] = {
	SC_RECVQ, SC_PID, SC_FD, SC_TEXT_PROTO, SC_STATE, SC_LOCAL, SC_REMOTE, SC_SENDQ,
};

static const struct view_bl_group *G(const struct view_ctx *c, uint32_t i)
{
	return &c->bl->groups[i];
}

static int32_t group_pid(const struct view_ctx *c, uint32_t i)
{
	return G(c, i)->proc >= 0 ? c->s->procs[G(c, i)->proc].pid : -1;
}

static int bc_pid(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(group_pid(c, a), group_pid(c, b)); }
static int bc_port(const struct view_ctx *c, uint32_t a, uint32_t b)
{
	int r = CMP(G(c, a)->port, G(c, b)->port);
	return r ? r : CMP(G(c, a)->side, G(c, b)->side);
}
static int bc_remote(const struct view_ctx *c, uint32_t a, uint32_t b)
{
	const struct view_bl_group *x = G(c, a), *y = G(c, b);
	int r = CMP(x->side, y->side);
	if (!r && x->side == SIDE_REMOTE)
		r = memcmp(x->raddr, y->raddr, sizeof(x->raddr));
	return r ? r : CMP(x->port, y->port);
}
static int bc_count(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(G(c, a)->count, G(c, b)->count); }
static int bc_rq(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(G(c, a)->recv_q, G(c, b)->recv_q); }
static int bc_max(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(G(c, a)->max_q, G(c, b)->max_q); }
static int bc_sq(const struct view_ctx *c, uint32_t a, uint32_t b) { return CMP(G(c, a)->send_q, G(c, b)->send_q); }
static int bc_comm(const struct view_ctx *c, uint32_t a, uint32_t b)
{
	const char *x = G(c, a)->proc >= 0 ? c->s->procs[G(c, a)->proc].comm : "";
	const char *y = G(c, b)->proc >= 0 ? c->s->procs[G(c, b)->proc].comm : "";
	return strcasecmp(x, y);
}

static void bf_pid(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	int32_t pid = group_pid(c, i);
	if (pid < 0)
		snprintf(b, n, "-");
	else
		snprintf(b, n, "%d", pid);
}
static void bf_port(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	snprintf(b, n, "%s%u", G(c, i)->side == SIDE_REMOTE ? "->" : "", G(c, i)->port);
}
/* An outbound group's one remote endpoint; an inbound group has many peers. */
static void bf_remote(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	const struct view_bl_group *g = G(c, i);
	if (g->side == SIDE_REMOTE)
		addr_text(g->family, g->raddr, g->port, b, n);
	else
		snprintf(b, n, "-");
}
static void bf_count(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, G(c, i)->count, 6); }
static void bf_rq(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, G(c, i)->recv_q, 7); }
static void bf_max(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, G(c, i)->max_q, 6); }
static void bf_sq(const struct view_ctx *c, uint32_t i, char *b, size_t n) { view_fmt_count(b, n, G(c, i)->send_q, 6); }
static void bf_comm(const struct view_ctx *c, uint32_t i, char *b, size_t n)
{
	snprintf(b, n, "%s", G(c, i)->proc >= 0 ? c->s->procs[G(c, i)->proc].comm : "(no owner)");
}

static const struct view_col backlog_cols[BC_COUNT] = {
	[BC_PID] = {.title = "PID", .width = 7, .asc = true, .cmp = bc_pid, .fmt = bf_pid},
	[BC_PORT] = {.title = "PORT", .width = 7, .asc = true, .cmp = bc_port, .fmt = bf_port},
	[BC_SOCKETS] = {.title = "SOCKS", .width = 6, .drop = 2, .cmp = bc_count, .fmt = bf_count},
	[BC_RECVQ] = {.title = "RECV-Q", .width = 7, .cmp = bc_rq, .fmt = bf_rq},
	[BC_MAXQ] = {.title = "MAX-Q", .width = 6, .drop = 3, .cmp = bc_max, .fmt = bf_max},
	[BC_SENDQ] = {.title = "SEND-Q", .width = 6, .drop = 4, .cmp = bc_sq, .fmt = bf_sq},
	[BC_REMOTE] = {.title = "REMOTE", .width = 21, .drop = 1, .left = true, .asc = true, .cmp = bc_remote, .fmt = bf_remote},
	[BC_COMMAND] = {.title = "COMMAND", .width = 8, .left = true, .flex = true, .asc = true, .cmp = bc_comm, .fmt = bf_comm},
};

#define NCOLS(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(NCOLS(proc_cols) == PC_COUNT, "a process column per PC_ name");
_Static_assert(NCOLS(port_cols) == OC_COUNT, "a port column per OC_ name");
_Static_assert(NCOLS(sock_cols) == SC_COUNT, "a socket column per SC_ name");
_Static_assert(NCOLS(backlog_cols) == BC_COUNT, "a backlog column per BC_ name");
_Static_assert(PC_COUNT <= VIEW_MAX_COLS && OC_COUNT <= VIEW_MAX_COLS && SC_COUNT <= VIEW_MAX_COLS &&
		       BC_COUNT <= VIEW_MAX_COLS, "VIEW_MAX_COLS holds every table");

const struct view_table_def view_tables[VT_COUNT] = {
	[VT_PROCS] = {.cols = proc_cols, .ncols = PC_COUNT, .default_sort = PC_FDS,
		      .text = proc_text, .ntext = NCOLS(proc_text), .text_flex = 16},
	[VT_PORTS] = {.cols = port_cols, .ncols = OC_COUNT, .default_sort = OC_SOCKETS,
		      .text = port_text, .ntext = NCOLS(port_text)},
	[VT_SOCKS] = {.cols = sock_cols, .ncols = SC_COUNT, .default_sort = SC_RECVQ,
		      .text = sock_text, .ntext = NCOLS(sock_text), .text_flex = 24},
	[VT_BACKLOG] = {.cols = backlog_cols, .ncols = BC_COUNT, .default_sort = BC_RECVQ},
};

size_t view_layout(enum view_table t, int width, bool *shown, int *widths)
{
	return view_layout_want(t, width, NULL, NULL, shown, widths);
}

/* The column to drop next: the highest drop among those shown with want `w`. */
static int drop_next(const struct view_table_def *d, const bool *shown, const uint8_t *want, uint8_t w)
{
	int worst = -1;
	for (size_t i = 0; i < d->ncols; i++)
		if (shown[i] && d->cols[i].drop && (want ? want[i] : VIEW_AUTO) == w &&
		    (worst < 0 || d->cols[i].drop > d->cols[worst].drop))
			worst = (int)i;
	return worst;
}

size_t view_layout_want(enum view_table t, int width, const uint8_t *want, const int *minw, bool *shown,
			int *widths)
{
	const struct view_table_def *d = &view_tables[t];
	int need = -1, flex = -1;
	size_t nshown = d->ncols;

	for (size_t i = 0; i < d->ncols; i++) {
		shown[i] = !d->cols[i].text_only && !(want && want[i] == VIEW_HIDE);
		widths[i] = d->cols[i].width;
		if (minw && minw[i] > 0) /* the data's width, never narrower than the title */
			widths[i] = minw[i] > (int)strlen(d->cols[i].title) ? minw[i] : (int)strlen(d->cols[i].title);
		if (!shown[i]) {
			nshown--;
			continue;
		}
		need += widths[i] + 1;
		if (d->cols[i].flex)
			flex = (int)i;
	}
	if (width < 0)
		return nshown;
	/* Drop the most expendable column until the rest fit: those left on auto first,
	 * pinned ones only when they alone are too wide. */
	for (uint8_t w = VIEW_AUTO; need > width && w <= VIEW_PIN; w += VIEW_PIN - VIEW_AUTO) {
		int worst;
		while (need > width && (worst = drop_next(d, shown, want, w)) >= 0) {
			shown[worst] = false;
			need -= widths[worst] + 1;
			nshown--;
		}
	}
	if (flex >= 0 && need < width)
		widths[flex] += width - need;
	else if (flex >= 0 && need > width)
		widths[flex] = widths[flex] - (need - width) > 1 ? widths[flex] - (need - width) : 1;
	return nshown;
}

int view_col_find(enum view_table t, const char *title)
{
	const struct view_table_def *d = &view_tables[t];
	for (size_t i = 0; i < d->ncols; i++)
		if (!d->cols[i].text_only && !strcasecmp(d->cols[i].title, title))
			return (int)i;
	return -1;
}

int view_culprit_rank(enum view_table t, const struct view_ctx *c, uint32_t row)
{
	const struct history_stats *st = t == VT_PROCS ? PH(c, row) : t == VT_PORTS ? OH(c, row) : NULL;
	if (!st)
		return 0;
	enum leak_verdict v = st->verdict;
	if (t == VT_PROCS && st->mem_verdict > v)
		v = st->mem_verdict;
	return v == VERDICT_LEAK ? 2 : v == VERDICT_SUSPECT ? 1 : 0;
}
