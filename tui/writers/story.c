/* The handover's story: a replay of the recording through the session step, keeping
 * per process and port the worst verdict, the peaks and the moments that matter. */
#include "config.h"

#include "tui/writers/story.h"
#include "tui/session.h"
#include "model/alert.h"
#include "model/hashtab.h"
#include "model/history.h"
#include "model/text.h"
#include "model/vec.h"
#include "sources/recread.h"
#include "sources/replay.h"
#include "sources/source.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A process or port gone this long before a namesake appears was restarted. */
#define STORY_RESTART_S 300.0

struct builder {
	struct story *st;
	struct hashtab procs, ports; /* key -> index (size_t) */
};

static uint64_t proc_key(int32_t pid, uint64_t start_time)
{
	return ((uint64_t)(uint32_t)pid << 40 | (start_time & ((1ULL << 40) - 1))) + 1;
}

static uint64_t port_key(const struct port_agg *p)
{
	return ((p->netns & 0xffffffffULL) << 32 | (uint64_t)p->port << 16 | (uint64_t)p->side << 8 | p->proto) + 1;
}

static int add_event(struct story *st, double t, enum story_kind k, int32_t pid, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static int add_event(struct story *st, double t, enum story_kind k, int32_t pid, const char *fmt, ...)
{
	va_list ap;

	if (VEC_RESERVE(st->events, st->events_cap, st->nevents + 1))
		return -ENOMEM;
	struct story_event *e = &st->events[st->nevents++];
	memset(e, 0, sizeof(*e));
	e->time = t;
	e->kind = k;
	e->pid = pid;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return 0;
}

void story_proc_name(const struct story *st, const struct story_proc *p, char *buf, size_t n)
{
	(void)st;
	snprintf(buf, n, "pid %d %s", (int)p->pid, p->comm);
}

static const char *clock_of(char buf[16], double t)
{
	return text_time(buf, 16, "%H:%M:%S", t);
}

/* A namesake that appeared after p went: the same command line (or unit). */
static void find_restart(struct story *st, size_t idx)
{
	struct story_proc *n = &st->procs[idx];

	for (size_t i = 0; i < st->nprocs; i++) {
		struct story_proc *o = &st->procs[i];
		if (i == idx || !o->gone || o->replaced_by >= 0 || o->last_seen > n->first_seen ||
		    n->first_seen - o->last_seen > STORY_RESTART_S || strcmp(o->comm, n->comm))
			continue;
		if (o->unit[0] ? strcmp(o->unit, n->unit) : strcmp(o->cmdline, n->cmdline))
			continue;
		/* Told only when o matters (judge_matters): a shell's `sleep` after
		 * `sleep` is no restart anyone asked about. */
		o->replaced_by = (long)idx;
		n->replaces = (long)i;
		return;
	}
}

static struct story_proc *proc_of(struct builder *b, const struct proc_rec *r, double t)
{
	struct story *st = b->st;
	bool found;
	size_t *ix = hashtab_put(&b->procs, proc_key(r->pid, r->start_time), &found);

	if (!ix)
		return NULL;
	if (found)
		return &st->procs[*ix];
	if (VEC_RESERVE(st->procs, st->procs_cap, st->nprocs + 1)) {
		hashtab_del(&b->procs, proc_key(r->pid, r->start_time));
		return NULL;
	}
	*ix = st->nprocs;
	struct story_proc *p = &st->procs[st->nprocs++];
	memset(p, 0, sizeof(*p));
	p->pid = r->pid;
	p->start_time = r->start_time;
	memcpy(p->comm, r->comm, sizeof(p->comm));
	memcpy(p->user, r->user, sizeof(p->user));
	memcpy(p->unit, r->unit, sizeof(p->unit));
	memcpy(p->cmdline, r->cmdline, sizeof(p->cmdline));
	p->first_seen = t;
	p->fds_first = r->fds;
	p->fd_pct_peak = NAN;
	p->eta_min_s = INFINITY;
	p->fd_limit = r->fd_limit;
	p->replaced_by = p->replaces = -1;
	find_restart(st, *ix);
	return &st->procs[*ix];
}

static void step_proc(struct builder *b, const struct history *h, const struct proc_rec *r, double t)
{
	struct story_proc *p = proc_of(b, r, t);
	const struct history_stats *hs = history_proc(h, r->pid, r->start_time);

	if (!p)
		return;
	p->last_seen = t;
	p->gone = false;
	if (r->fds >= 0) {
		p->fds_last = r->fds;
		if (r->fds > p->fds_peak) {
			p->fds_peak = r->fds;
			p->fd_limit = r->fd_limit;
		}
		if (r->fd_limit && r->fd_limit != UINT64_MAX) {
			double pct = 100.0 * (double)r->fds / (double)r->fd_limit;
			if (isnan(p->fd_pct_peak) || pct > p->fd_pct_peak)
				p->fd_pct_peak = pct;
		}
	}
	p->rss_last_kb = r->rss_kb;
	if (r->rss_kb > p->rss_peak_kb)
		p->rss_peak_kb = r->rss_kb;
	p->cw_last = r->states[ST_CLOSE_WAIT];
	if (p->cw_last > p->cw_peak)
		p->cw_peak = p->cw_last;
	if (!hs)
		return;
	if (isfinite(hs->exhaustion_eta_s) && hs->exhaustion_eta_s < p->eta_min_s)
		p->eta_min_s = hs->exhaustion_eta_s;
	p->last = hs->verdict;
	if (hs->verdict >= VERDICT_SUSPECT && hs->verdict >= p->worst) {
		if (hs->verdict > p->worst || !p->reason[0])
			snprintf(p->reason, sizeof(p->reason), "%s", hs->reason);
		if (hs->verdict == VERDICT_SUSPECT && !p->first_suspect) {
			p->first_suspect = t;
			add_event(b->st, t, STK_SUSPECT, p->pid, "pid %d %s judged suspect: %s", (int)p->pid, p->comm,
				  hs->reason);
		}
		if (hs->verdict == VERDICT_LEAK && !p->first_leak) {
			p->first_leak = t;
			add_event(b->st, t, STK_LEAK, p->pid, "pid %d %s judged leak: %s", (int)p->pid, p->comm,
				  hs->reason);
		}
	}
	if (hs->verdict > p->worst)
		p->worst = hs->verdict;
	if (hs->mem_verdict == VERDICT_LEAK) {
		snprintf(p->mem_reason, sizeof(p->mem_reason), "%s", hs->mem_reason);
		if (!p->mem_leak) {
			p->mem_leak = true;
			p->first_mem_leak = t;
			add_event(b->st, t, STK_MEM_LEAK, p->pid, "pid %d %s judged a memory leak: %s", (int)p->pid,
				  p->comm, hs->mem_reason);
		}
	}
}

/* A remote port is named by its endpoint: the address its sockets talk to. */
static void port_endpoint(const struct snapshot *s, const struct port_agg *a, char *buf, size_t n)
{
	char addr[80];

	if (a->side != SIDE_REMOTE) {
		snprintf(buf, n, "local port %u%s", a->port, a->proto == IPPROTO_UDP ? "/udp" : "");
		return;
	}
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		if (k->rport == a->port && k->netns == a->netns && k->proto == a->proto) {
			snprintf(buf, n, "%s", sock_addr_format(addr, k->family, k->raddr, k->rport));
			return;
		}
	}
	snprintf(buf, n, "remote port %u", a->port);
}

static void step_port(struct builder *b, const struct snapshot *s, const struct history *h, const struct port_agg *a,
		      double t)
{
	struct story *st = b->st;
	bool found;
	size_t *ix = hashtab_put(&b->ports, port_key(a), &found);
	const struct history_stats *hs = history_port(h, a->netns, a->port, a->side);

	if (!ix)
		return;
	if (!found) {
		if (VEC_RESERVE(st->ports, st->ports_cap, st->nports + 1)) {
			hashtab_del(&b->ports, port_key(a));
			return;
		}
		*ix = st->nports++;
		struct story_port *p = &st->ports[*ix];
		memset(p, 0, sizeof(*p));
		p->netns = a->netns;
		p->port = a->port;
		p->side = a->side;
		p->proto = a->proto;
		port_endpoint(s, a, p->endpoint, sizeof(p->endpoint));
	}
	struct story_port *p = &st->ports[*ix];
	p->last_seen = t;
	p->cw_last = a->states[ST_CLOSE_WAIT];
	if (p->cw_last > p->cw_peak)
		p->cw_peak = p->cw_last;
	p->recvq_last = a->recv_q;
	if (a->recv_q > p->recvq_peak) {
		p->recvq_peak = a->recv_q;
		p->recvq_peak_at = t;
	}
	for (uint32_t i = 0; i < a->npids; i++) {
		bool have = false;
		for (size_t j = 0; j < p->npids; j++)
			have |= p->pids[j] == a->pids[i];
		if (!have && p->npids < STORY_PIDS_MAX)
			p->pids[p->npids++] = a->pids[i];
		else if (!have)
			p->pids_more = true;
	}
	p->pids_more |= a->pids_truncated;
	if (!hs)
		return;
	p->cw_oldest_s = hs->close_wait_oldest_s;
	p->cw_oldest_bound = hs->close_wait_oldest_bound;
	p->last = hs->verdict;
	if (hs->verdict >= VERDICT_SUSPECT) {
		if (hs->verdict > p->worst || !p->reason[0])
			snprintf(p->reason, sizeof(p->reason), "%s", hs->reason);
		if (hs->verdict == VERDICT_SUSPECT && !p->first_suspect) {
			p->first_suspect = t;
			add_event(st, t, STK_SUSPECT, 0, "%s judged suspect: %s", p->endpoint, hs->reason);
		}
		if (hs->verdict == VERDICT_LEAK && !p->first_leak) {
			p->first_leak = t;
			add_event(st, t, STK_LEAK, 0, "%s judged leak: %s", p->endpoint, hs->reason);
		}
	}
	if (hs->verdict > p->worst)
		p->worst = hs->verdict;
}

static int step(struct builder *b, struct session *ss, const struct snapshot *s)
{
	struct story *st = b->st;

	if (VEC_RESERVE(st->times, st->times_cap, st->nrefresh + 1))
		return -ENOMEM;
	/* ticks shares times_cap: grown together. */
	int64_t *tk = realloc(st->ticks, st->times_cap * sizeof(*tk));
	if (!tk)
		return -ENOMEM;
	st->ticks = tk;
	st->times[st->nrefresh] = s->time;
	st->ticks[st->nrefresh++] = (int64_t)s->tick;
	for (size_t i = 0; i < st->nprocs; i++)
		st->procs[i].gone = true;
	session_lock(ss);
	const struct history *h = session_history(ss);
	for (size_t i = 0; i < s->nprocs; i++)
		step_proc(b, h, &s->procs[i], s->time);
	for (size_t i = 0; i < s->nports; i++)
		step_port(b, s, h, &s->ports[i], s->time);
	session_unlock(ss);
	return 0;
}

/* The alerts and actions recorded, and the thread dumps kept with them. */
static int read_events(struct story *st, const char *path)
{
	struct sqlite3 *db = NULL;
	struct record_info info;
	sqlite3_stmt *q = NULL;
	char *cause = NULL;
	int rc = recread_open(&db, path, &info, &cause);

	free(cause);
	if (rc)
		return rc;
	bool dumps = sqlite3_table_column_metadata(db, NULL, "event_dump", "text", NULL, NULL, NULL, NULL, NULL) ==
		     SQLITE_OK;
	rc = sqlite3_prepare_v2(db,
				dumps ? "SELECT e.time, e.kind, e.pid, e.start_time, e.what, e.result, d.text FROM event e"
					" LEFT JOIN event_dump d ON d.event = e.id ORDER BY e.time, e.id"
				      : "SELECT time, kind, pid, start_time, what, result, NULL FROM event ORDER BY time, id",
				-1, &q, NULL);
	while (rc == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(q, 1);
		const char *what = (const char *)sqlite3_column_text(q, 4);
		const char *result = (const char *)sqlite3_column_text(q, 5);
		int32_t pid = sqlite3_column_int(q, 2);
		uint64_t start = (uint64_t)sqlite3_column_int64(q, 3);
		double t = sqlite3_column_double(q, 0);
		bool alert = kind && !strcmp(kind, "alert");
		bool cleared = alert && what && !strncmp(what, "clear", 5);

		if (alert)
			add_event(st, t, cleared ? STK_CLEARED : STK_ALERT, pid, "%s", what ? what : "");
		else
			add_event(st, t, STK_ACTION, pid, "%s%s%d: %s", what ? what : "?", pid ? " to pid " : "", (int)pid,
				  result ? result : "");
		if (!pid && !alert)
			snprintf(st->events[st->nevents - 1].text, sizeof(st->events[0].text), "%s: %s", what ? what : "?",
				 result ? result : "");
		if (sqlite3_column_type(q, 6) != SQLITE_NULL) {
			int len = sqlite3_column_bytes(q, 6);
			char *d = malloc((size_t)len + 1);
			if (d) {
				memcpy(d, sqlite3_column_blob(q, 6), (size_t)len);
				d[len] = '\0';
				st->events[st->nevents - 1].dump = d;
				st->events[st->nevents - 1].dump_len = (size_t)len;
			}
		}
		for (size_t i = 0; pid && i < st->nprocs; i++)
			if (st->procs[i].pid == pid && (!start || st->procs[i].start_time == start))
				st->procs[i].named = true;
	}
	sqlite3_finalize(q);
	recread_close(db);
	return rc == SQLITE_OK ? 0 : recread_errno(rc);
}

static int event_cmp(const void *a, const void *b)
{
	const struct story_event *x = a, *y = b;
	return x->time < y->time ? -1 : x->time > y->time ? 1 : (int)x->kind - (int)y->kind;
}

static void judge_matters(struct story *st)
{
	for (size_t i = 0; i < st->nprocs; i++) {
		struct story_proc *p = &st->procs[i];
		p->matters = p->worst >= VERDICT_SUSPECT || p->mem_leak || p->named ||
			     (!isnan(p->fd_pct_peak) && p->fd_pct_peak >= 75.0);
	}
	/* A restart's other side of a culprit is part of its story; a namesake that
	 * followed a process that does not matter was no restart worth telling. */
	for (size_t i = 0; i < st->nprocs; i++) {
		struct story_proc *p = &st->procs[i];
		if (p->replaced_by < 0)
			continue;
		struct story_proc *n = &st->procs[p->replaced_by];
		if (!p->matters) {
			n->replaces = -1;
			p->replaced_by = -1;
			continue;
		}
		n->matters = true;
		add_event(st, n->first_seen, STK_REPLACED, n->pid, "pid %d %s was replaced by pid %d (a restart)",
			  (int)p->pid, p->comm, (int)n->pid);
	}
	for (size_t i = 0; i < st->nports; i++)
		st->ports[i].matters = st->ports[i].worst >= VERDICT_SUSPECT;
}

static void quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int story_build(const char *path, struct story **out, char **cause)
{
	struct source *src = NULL;
	struct session *ss = NULL;
	struct snapshot *snap = snapshot_new();
	struct builder b = {0};
	int rc;

	*out = NULL;
	if (!snap || !(b.st = calloc(1, sizeof(*b.st)))) {
		snapshot_free(snap);
		return -ENOMEM;
	}
	hashtab_init(&b.procs, sizeof(size_t));
	hashtab_init(&b.ports, sizeof(size_t));
	if ((rc = replay_source_new(&src, path, cause)))
		goto out;
	b.st->interval = replay_info(src)->interval;
	struct session_opts so = {.interval_s = b.st->interval > 0 ? b.st->interval : 2, .window_s = 300};
	alert_thresholds_default(&so.alert);
	/* The recorded events come from the event table; nothing goes to stderr. */
	so.recorded = quiet;
	so.note = quiet;
	if ((rc = session_new(&ss, &so, src, NULL)))
		goto out;
	for (;;) {
		char *why = NULL;
		rc = session_step(ss, snap, &why);
		free(why);
		if (rc == 1) {
			rc = 0;
			break;
		}
		if (rc == 0 && (rc = step(&b, ss, snap)))
			break;
		/* A partial refresh: the history skipped it; so does the story. */
		rc = 0;
	}
	if (!rc)
		rc = read_events(b.st, path);
	if (!rc) {
		judge_matters(b.st);
		if (b.st->nevents) /* events is NULL while there are none */
			qsort(b.st->events, b.st->nevents, sizeof(*b.st->events), event_cmp);
	}
out:
	session_free(ss);
	source_free(src);
	snapshot_free(snap);
	hashtab_free(&b.procs);
	hashtab_free(&b.ports);
	if (rc) {
		story_free(b.st);
		return rc;
	}
	*out = b.st;
	return 0;
}

void story_free(struct story *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->nevents; i++)
		free((char *)st->events[i].dump);
	free(st->procs);
	free(st->ports);
	free(st->events);
	free(st->times);
	free(st->ticks);
	free(st);
}

/* --- sentences ----------------------------------------------------------------------- */

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

size_t story_each_culprit(const struct story *st,
			  void (*fn)(void *ctx, const struct story_proc *proc, const struct story_port *port,
				     enum leak_verdict v, const char *summary),
			  void *ctx)
{
	char line[2048];
	size_t shown = 0;

	for (int v = VERDICT_LEAK; v >= VERDICT_OK; v--)
		for (size_t i = 0; i < st->nprocs; i++) {
			const struct story_proc *p = &st->procs[i];
			int pv = p->worst >= VERDICT_SUSPECT ? (int)p->worst : p->mem_leak ? VERDICT_LEAK : VERDICT_OK;
			/* A restarted culprit's successor is told with it. */
			if (!p->matters || pv != v || (p->replaces >= 0 && st->procs[p->replaces].matters))
				continue;
			story_proc_summary(st, p, line, sizeof(line));
			fn(ctx, p, NULL, (enum leak_verdict)pv, line);
			shown++;
		}
	for (int v = VERDICT_LEAK; v >= VERDICT_SUSPECT; v--)
		for (size_t i = 0; i < st->nports; i++) {
			const struct story_port *p = &st->ports[i];
			if (!p->matters || (int)p->worst != v)
				continue;
			story_port_summary(st, p, line, sizeof(line));
			fn(ctx, NULL, p, p->worst, line);
			shown++;
		}
	return shown;
}

void story_proc_summary(const struct story *st, const struct story_proc *p, char *buf, size_t n)
{
	char pct[64], restart[256], d[16];
	const char *verdict = p->worst >= VERDICT_SUSPECT ? leak_verdict_name(p->worst) : p->mem_leak ? "leak" : "ok";
	const char *why = p->worst >= VERDICT_SUSPECT ? p->reason : p->mem_leak ? p->mem_reason
				: p->named ? "named by an alert or action" : "near its fd limit";
	size_t len;

	if (!isnan(p->fd_pct_peak))
		snprintf(pct, sizeof(pct), p->fd_pct_peak < 10 ? "%.1f%% of its fd limit %llu" : "%.0f%% of its fd limit %llu",
			 p->fd_pct_peak, (unsigned long long)p->fd_limit);
	else
		snprintf(pct, sizeof(pct), "no fd limit known");
	len = (size_t)snprintf(buf, n, "%s%s: %s; peak %lld fds = %s", verdict,
			       p->mem_leak && p->worst >= VERDICT_SUSPECT ? " (and memory)" : p->mem_leak ? " (memory)" : "",
			       why, (long long)p->fds_peak, pct);
	if (len < n && isfinite(p->eta_min_s))
		len += (size_t)snprintf(buf + len, n - len, "; shortest ETA %s", leak_format_duration(d, sizeof(d), p->eta_min_s));
	if (len < n && p->cw_peak)
		len += (size_t)snprintf(buf + len, n - len, "; CLOSE_WAIT peak %u (now %u)", p->cw_peak, p->cw_last);
	if (len < n && p->mem_leak)
		len += (size_t)snprintf(buf + len, n - len, "; RSS peak %llu MB",
					(unsigned long long)(p->rss_peak_kb / 1024));
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
