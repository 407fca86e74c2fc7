/* The handover's summary: the culprits in the order both reports tell them, each in
 * one sentence with its latest and strongest reason, a port told with the process
 * that holds it, and the addresses in one form. */
#include "config.h"

#include "outputs/story.h"
#include "model/text.h"
#include "model/view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *clock_of(char buf[16], double t)
{
	return text_time(buf, 16, "%H:%M:%S", t);
}

void story_rule(const struct story *st, char *buf, size_t n)
{
	snprintf(buf, n,
		 "Listed: the processes and ports the model judged suspect or leak at some refresh (fds, "
		 "CLOSE_WAIT or memory), processes that reached %g%% of their fd limit, and those an alert or "
		 "action named. Verdicts are recomputed by replaying the recording through the same history "
		 "and leak rules as the dashboard; short-lived processes that only opened files are left out.",
		 st->fd_warn_pct);
}

void story_proc_name(const struct story *st, const struct story_proc *p, char *buf, size_t n)
{
	(void)st;
	snprintf(buf, n, "pid %d %s", (int)p->pid, p->comm);
}

static const char *span_of(char *buf, size_t n, double s)
{
	char d[16];
	snprintf(buf, n, "%s", leak_format_duration(d, sizeof(d), s));
	return buf;
}

void story_port_pids(const struct story *st, const struct story_port *p, char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->npids && len + 1 < n; i++) {
		const char *comm = NULL;
		for (size_t j = 0; j < st->nprocs && !comm; j++)
			if (st->procs[j].pid == p->pids[i])
				comm = st->procs[j].comm;
		len += (size_t)snprintf(buf + len, n - len, "%spid %d%s%s", i ? ", " : "", (int)p->pids[i],
					comm ? " " : "", comm ? comm : "");
	}
	if (p->pids_more && len + 1 < n)
		snprintf(buf + len, n - len, " and more");
}

void story_restart_note(const struct story *st, const struct story_proc *p, char *buf, size_t n)
{
	char c1[16], c2[16];

	buf[0] = '\0';
	if (p->replaced_by < 0)
		return;
	const struct story_proc *r = &st->procs[p->replaced_by];
	double back = r->first_leak ? r->first_leak : r->first_suspect ? r->first_suspect : r->first_mem_leak;
	if (back)
		snprintf(buf, n, "the leak came back after the restart at %s: pid %d was judged %s at %s",
			 clock_of(c1, r->first_seen), (int)r->pid,
			 r->first_leak ? "leak" : r->first_suspect ? "suspect" : "a memory leak", clock_of(c2, back));
	else
		snprintf(buf, n, "restarted at %s as pid %d; the leak did not come back in the %s recorded after",
			 clock_of(c1, r->first_seen), (int)r->pid, span_of(c2, sizeof(c2), r->last_seen - r->first_seen));
}

/* One culprit of the summary, for its order. */
struct culprit {
	const struct story_proc *proc;
	const struct story_port *port;
	int verdict, rank;
	uint64_t handles, rss_kb;
	size_t seen;
};

static int culprit_cmp(const void *a, const void *b)
{
	const struct culprit *x = a, *y = b;

	if (x->rank != y->rank)
		return y->rank - x->rank;
	if (x->handles != y->handles)
		return x->handles > y->handles ? -1 : 1;
	if (x->rss_kb != y->rss_kb)
		return x->rss_kb > y->rss_kb ? -1 : 1;
	return x->seen < y->seen ? -1 : x->seen > y->seen;
}

static int proc_verdict(const struct story_proc *p)
{
	return p->worst >= VERDICT_SUSPECT ? (int)p->worst : p->mem_leak ? VERDICT_LEAK : VERDICT_OK;
}

static bool holds(const struct story_port *port, int32_t pid)
{
	for (size_t i = 0; i < port->npids; i++)
		if (port->pids[i] == pid)
			return true;
	return false;
}

/* Is p told in the summary (a restarted culprit's successor is told with it)? */
static bool told(const struct story *st, const struct story_proc *p)
{
	return p->matters && !(p->replaces >= 0 && st->procs[p->replaces].matters);
}

/* A port is told with a culprit process holding it, or holding its far end (the
 * same port on the other side: a server's port and its clients' connections to it). */
static bool port_folded(const struct story *st, const struct story_port *port)
{
	for (size_t i = 0; i < st->nprocs; i++) {
		if (!told(st, &st->procs[i]))
			continue;
		if (holds(port, st->procs[i].pid))
			return true;
		for (size_t k = 0; k < st->nports; k++) {
			const struct story_port *o = &st->ports[k];
			if (o != port && o->port == port->port && o->netns == port->netns && o->proto == port->proto &&
			    o->side != port->side && holds(o, st->procs[i].pid))
				return true;
		}
	}
	return false;
}

size_t story_each_culprit(const struct story *st,
			  void (*fn)(void *ctx, const struct story_proc *proc, const struct story_port *port,
				     enum leak_verdict v, const char *summary),
			  void *ctx)
{
	struct culprit *c = calloc(st->nprocs + st->nports + 1, sizeof(*c));
	char line[2048];
	size_t n = 0;

	if (!c)
		return 0;
	for (size_t i = 0; i < st->nprocs; i++) {
		const struct story_proc *p = &st->procs[i];
		if (!told(st, p))
			continue;
		struct culprit *k = &c[n];
		*k = (struct culprit){.proc = p, .verdict = proc_verdict(p), .rss_kb = p->rss_peak_kb, .seen = n};
		k->rank = k->verdict;
		k->handles = p->cw_peak;
		if (p->fds_peak - p->fds_first > (int64_t)k->handles)
			k->handles = (uint64_t)(p->fds_peak - p->fds_first);
		/* Its ports' verdicts weigh in: one finding. */
		for (size_t j = 0; j < st->nports; j++)
			if (st->ports[j].matters && holds(&st->ports[j], p->pid) && (int)st->ports[j].worst > k->rank)
				k->rank = (int)st->ports[j].worst;
		n++;
	}
	for (size_t i = 0; i < st->nports; i++) {
		const struct story_port *p = &st->ports[i];
		if (!p->matters || port_folded(st, p))
			continue;
		c[n] = (struct culprit){.port = p, .verdict = (int)p->worst, .rank = (int)p->worst, .handles = p->cw_peak,
					.seen = n};
		n++;
	}
	if (n > 1)
		qsort(c, n, sizeof(*c), culprit_cmp);
	for (size_t i = 0; i < n; i++) {
		if (c[i].proc)
			story_proc_summary(st, c[i].proc, line, sizeof(line));
		else
			story_port_summary(st, c[i].port, line, sizeof(line));
		fn(ctx, c[i].proc, c[i].port, (enum leak_verdict)c[i].verdict, line);
	}
	free(c);
	return n;
}

void story_proc_summary(const struct story *st, const struct story_proc *p, char *buf, size_t n)
{
	char pct[64], restart[256], d[16];
	const char *verdict = p->worst >= VERDICT_SUSPECT ? leak_verdict_name(p->worst) : p->mem_leak ? "leak" : "ok";
	const char *why = p->worst >= VERDICT_SUSPECT ? p->reason : p->mem_leak ? p->mem_reason
				: p->named ? "named by an alert or action" : "near its fd limit";
	/* The model's verdict carries a memory leak ("memory: RSS ..."): said once. */
	bool mem_only = p->mem_leak && (p->worst < VERDICT_SUSPECT || !strncmp(p->reason, "memory: ", 8));
	size_t len;

	if (mem_only)
		why = p->mem_reason;

	/* Cut, as every output shows FD% (a tenth below 10%): 89.96 is 89, as on the dashboard. */
	if (!isnan(p->fd_pct_peak))
		snprintf(pct, sizeof(pct), p->fd_pct_peak < 10 ? "%.1f%% of its fd limit %llu" : "%.0f%% of its fd limit %llu",
			 view_fd_pct_cut(p->fd_pct_peak, p->fd_pct_peak < 10), (unsigned long long)p->fd_limit);
	else
		snprintf(pct, sizeof(pct), "no fd limit known");
	len = (size_t)snprintf(buf, n, "%s%s: %s; peak %lld fds = %s", verdict,
			       mem_only ? " (memory)" : p->mem_leak ? " (and memory)" : "",
			       why, (long long)p->fds_peak, pct);
	if (len < n && isfinite(p->eta_min_s))
		len += (size_t)snprintf(buf + len, n - len, "; shortest ETA %s", leak_format_duration(d, sizeof(d), p->eta_min_s));
	if (len < n && p->cw_peak)
		len += (size_t)snprintf(buf + len, n - len, "; CLOSE_WAIT peak %u (now %u)", p->cw_peak, p->cw_last);
	if (len < n && p->mem_leak)
		len += (size_t)snprintf(buf + len, n - len, "; RSS peak %.0f MB", (double)p->rss_peak_kb / 1024);
	if (len < n && p->worst >= VERDICT_SUSPECT && p->last < p->worst && !p->gone)
		len += (size_t)snprintf(buf + len, n - len, "; judged %s at the end", leak_verdict_name(p->last));
	/* Its ports: one finding with it. */
	for (size_t i = 0; i < st->nports && len < n; i++) {
		const struct story_port *o = &st->ports[i];
		if (!o->matters || !holds(o, p->pid))
			continue;
		if (o->side == SIDE_REMOTE)
			len += (size_t)snprintf(buf + len, n - len, "; to %s", o->endpoint);
		else
			len += (size_t)snprintf(buf + len, n - len, "; on %s", o->endpoint);
		if (len < n && o->cw_peak)
			len += (size_t)snprintf(buf + len, n - len, " (%s): CLOSE_WAIT peak %u (now %u), Recv-Q peak %llu bytes",
						leak_verdict_name(o->worst), o->cw_peak, o->cw_last,
						(unsigned long long)o->recvq_peak);
		else if (len < n) /* judged for something else than CLOSE_WAIT: its reason says what */
			len += (size_t)snprintf(buf + len, n - len, " (%s: %s)", leak_verdict_name(o->worst), o->reason);
	}
	story_restart_note(st, p, restart, sizeof(restart));
	if (len < n && restart[0])
		snprintf(buf + len, n - len, "; %s", restart);
}

void story_port_summary(const struct story *st, const struct story_port *p, char *buf, size_t n)
{
	char pids[256];

	story_port_pids(st, p, pids, sizeof(pids));
	snprintf(buf, n, "%s: %s; CLOSE_WAIT peak %u (now %u), Recv-Q peak %llu bytes; held by %s",
		 leak_verdict_name(p->worst), p->reason, p->cw_peak, p->cw_last, (unsigned long long)p->recvq_peak,
		 pids[0] ? pids : "no process leaktop could read");
}
