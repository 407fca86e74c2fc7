/* The handover's story: a replay of the recording through the session step, keeping
 * per process and port the worst verdict, the peaks and the moments that matter. */
#include "config.h"

#include "outputs/story.h"
#include "program/session.h"
#include "model/alert.h"
#include "model/hashtab.h"
#include "model/history.h"
#include "model/text.h"
#include "model/vec.h"
#include "recording/recquery.h"
#include "model/view.h"
#include "recording/recread.h"
#include "recording/replay.h"
#include "sources/source.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A process or port gone this long before a namesake appears was restarted. */
#define STORY_RESTART_S 300.0

struct builder {
	struct story *st;
	struct hashtab procs, ports; /* key -> index (size_t) */
	size_t nrec, next_rec;       /* the recorded events, events[0, nrec), in time order */
};

const char *const story_kind_names[STK_KIND_COUNT] = {
	[STK_SUSPECT] = "suspect", [STK_LEAK] = "leak", [STK_MEM_LEAK] = "memory leak", [STK_ALERT] = "alert",
	[STK_CLEARED] = "alert cleared", [STK_STALLED] = "growth stopped", [STK_ACTION] = "action",
	[STK_REPLACED] = "restart",
};

void story_plain_addrs(char *s)
{
	static const char mapped[] = "[::ffff:";
	char *w = s;

	for (const char *r = s; *r;) {
		if (!strncmp(r, mapped, sizeof(mapped) - 1)) {
			const char *a = r + sizeof(mapped) - 1, *e = a;
			int dots = 0;
			while ((*e >= '0' && *e <= '9') || *e == '.')
				dots += *e++ == '.';
			if (*e == ']' && dots == 3 && e > a) {
				memmove(w, a, (size_t)(e - a));
				w += e - a;
				r = e + 1;
				continue;
			}
		}
		*w++ = *r++;
	}
	*w = '\0';
}

/* The leaktop that made the recording (an older one recorded itself): its name,
 * and the -w/--write it was started with. */
static bool is_recorder(const struct proc_rec *r)
{
	if (strcmp(r->comm, "leaktop"))
		return false;
	for (const char *w = r->cmdline; *w;) {
		size_t n = strcspn(w, " ");
		if (!strncmp(w, "--write", 7) || (n > 1 && w[0] == '-' && w[1] != '-' && memchr(w, 'w', n)))
			return true;
		w += n;
		w += strspn(w, " ");
	}
	return false;
}

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
	story_plain_addrs(e->text);
	return 0;
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
	p->socks_first = r->sock_fds;
	p->cw_first = r->states[ST_CLOSE_WAIT];
	p->fds_moved_at = p->cw_moved_at = t;
	p->self = is_recorder(r);
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
		if (r->fds != p->fds_last)
			p->fds_moved_at = t;
		p->fds_last = r->fds;
		p->socks_last = r->sock_fds;
		if (r->fds > p->fds_peak) {
			p->fds_peak = r->fds;
			p->fd_limit = r->fd_limit;
		}
		/* Exact, as the alerts compare it; the reports cut it (view_fd_pct_cut). */
		double pct = view_fd_pct(r);
		if (!isnan(pct) && (isnan(p->fd_pct_peak) || pct > p->fd_pct_peak))
			p->fd_pct_peak = pct;
	}
	p->rss_last_kb = r->rss_kb;
	if (r->rss_kb > p->rss_peak_kb)
		p->rss_peak_kb = r->rss_kb;
	if (r->states[ST_CLOSE_WAIT] != p->cw_last)
		p->cw_moved_at = t;
	p->cw_last = r->states[ST_CLOSE_WAIT];
	if (p->cw_last > p->cw_peak)
		p->cw_peak = p->cw_last;
	if (!hs)
		return;
	if (isfinite(hs->exhaustion_eta_s) && hs->exhaustion_eta_s < p->eta_min_s)
		p->eta_min_s = hs->exhaustion_eta_s;
	p->last = hs->verdict;
	if (hs->verdict >= VERDICT_SUSPECT && hs->verdict >= p->worst) {
		/* The strongest verdict's latest reason: what the pile became ("stalled at
		 * 300 for 24s"), not how it began ("+108/min for 4s"). */
		snprintf(p->reason, sizeof(p->reason), "%s", hs->reason);
		story_plain_addrs(p->reason);
		p->reason_at = t;
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
		story_plain_addrs(p->mem_reason);
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
		if (k->rport == a->port && sock_netns(s, k) == a->netns && k->proto == a->proto) {
			snprintf(buf, n, "%s", sock_addr_format(addr, k->family, sock_raddr(s, k).b, k->rport));
			story_plain_addrs(buf);
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
		p->cw_first = p->cw_last = a->states[ST_CLOSE_WAIT];
		p->cw_moved_at = t;
	}
	struct story_port *p = &st->ports[*ix];
	p->last_seen = t;
	if (a->states[ST_CLOSE_WAIT] != p->cw_last)
		p->cw_moved_at = t;
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
	if (hs->verdict >= VERDICT_SUSPECT && hs->verdict >= p->worst) {
		snprintf(p->reason, sizeof(p->reason), "%s", hs->reason);
		story_plain_addrs(p->reason);
	}
	if (hs->verdict >= VERDICT_SUSPECT) {
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

static const struct proc_rec *snap_proc(const struct snapshot *s, int32_t pid)
{
	size_t lo = 0, hi = s->nprocs;

	while (lo < hi) { /* procs are sorted by pid */
		size_t mid = lo + (hi - lo) / 2;
		if (s->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nprocs && s->procs[lo].pid == pid ? &s->procs[lo] : NULL;
}

/* The recorded alerts up to this refresh learn what their process held then: an
 * alert that clears while the pile stays is a stall, not an all-clear. */
static void stamp_events(struct builder *b, const struct snapshot *s)
{
	struct story *st = b->st;

	for (; b->next_rec < b->nrec && st->events[b->next_rec].time <= s->time; b->next_rec++) {
		struct story_event *e = &st->events[b->next_rec];
		const struct proc_rec *r = e->pid ? snap_proc(s, e->pid) : NULL;
		if ((e->kind != STK_ALERT && e->kind != STK_CLEARED) || !e->pid)
			continue;
		e->stamped = true;
		e->alive = r && (!e->start_time || r->start_time == e->start_time);
		if (e->alive) {
			e->fds = r->fds;
			e->cw = r->states[ST_CLOSE_WAIT];
		}
	}
}

static int step(struct builder *b, struct session *ss, const struct snapshot *s)
{
	struct story *st = b->st;

	if (VEC_RESERVE(st->times, st->times_cap, st->nrefresh + 1))
		return -ENOMEM;
	/* ticks shares times_cap: grown together. */
	size_t tcap = 0;
	if (vec_resize(&st->ticks, &tcap, st->times_cap, sizeof(*st->ticks)))
		return -ENOMEM;
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
	stamp_events(b, s);
	return 0;
}

static int read_event(void *ctx, const struct recquery_event *e)
{
	struct story *st = ctx;
	bool alert = e->kind && !strcmp(e->kind, "alert");
	bool cleared = alert && e->what && !strncmp(e->what, "clear", 5);
	const char *what = e->what, *result = e->result;

	if (alert)
		add_event(st, e->time, cleared ? STK_CLEARED : STK_ALERT, e->pid, "%s", what ? what : "");
	else
		add_event(st, e->time, STK_ACTION, e->pid, "%s%s%d: %s", what ? what : "?", e->pid ? " to pid " : "",
			  (int)e->pid, result ? result : "");
	if (!e->pid && !alert)
		snprintf(st->events[st->nevents - 1].text, sizeof(st->events[0].text), "%s: %s", what ? what : "?",
			 result ? result : "");
	st->events[st->nevents - 1].start_time = e->start_time;
	if (e->dump) {
		char *d = malloc(e->dump_len + 1);
		if (d) {
			memcpy(d, e->dump, e->dump_len);
			d[e->dump_len] = '\0';
			st->events[st->nevents - 1].dump = d;
			st->events[st->nevents - 1].dump_len = e->dump_len;
		}
	}
	return 0;
}

/* The alerts and actions recorded, and the thread dumps kept with them: those before
 * a damaged row, when one is. */
static int read_events(struct story *st, const char *path)
{
	struct sqlite3 *db = NULL;
	struct record_info info;
	char *cause = NULL;
	int rc = recread_open(&db, path, &info, &cause);

	free(cause);
	cause = NULL;
	if (rc)
		return rc;
	rc = recquery_events(db, RECQUERY_DUMPS | RECQUERY_UNTIL_DAMAGE, read_event, st, &cause);
	free(cause);
	recread_close(db);
	return rc;
}

static struct story_proc *proc_at(struct story *st, int32_t pid, uint64_t start, double t)
{
	for (size_t i = 0; pid && i < st->nprocs; i++) {
		struct story_proc *p = &st->procs[i];
		if (p->pid == pid && (start ? p->start_time == start : p->first_seen <= t && t <= p->last_seen))
			return p;
	}
	return NULL;
}

/* The alert kind of a recorded alert's text: "clear fd_eta: ..." -> "fd_eta". */
static bool alert_kind_is(const char *text, const char *kind)
{
	const char *sp = strchr(text, ' ');
	size_t n = strlen(kind);
	return sp && !strncmp(sp + 1, kind, n) && sp[1 + n] == ':';
}

/* Alerts about growth: one that clears while what grew is still held stopped
 * growing; it did not clear. */
static int64_t held_fds(const struct story_event *e)
{
	return e->fds;
}

static const struct growth_alert {
	const char *kind; /* as recorded: "clear fd_eta: ..." */
	const char *unit; /* of what grew: "fds" */
	int64_t (*held)(const struct story_event *e);
} growth_alerts[] = {
	{"fd_eta", "fds", held_fds},
};

/* events[i], a clearing stamped with its living process p, becomes "growth stopped"
 * when it is a growth alert's and p holds no less than when it fired (an alert among
 * the events kept so far, events[0, kept)). */
static void stall_or_clear(struct story *st, size_t i, size_t kept, const struct story_proc *p)
{
	struct story_event *e = &st->events[i];

	for (size_t g = 0; g < sizeof(growth_alerts) / sizeof(growth_alerts[0]); g++) {
		const struct growth_alert *a = &growth_alerts[g];
		const struct story_event *f = NULL;
		if (!alert_kind_is(e->text, a->kind))
			continue;
		for (size_t k = 0; k < kept; k++)
			if (st->events[k].kind == STK_ALERT && st->events[k].pid == e->pid && st->events[k].stamped &&
			    st->events[k].alive && alert_kind_is(st->events[k].text, a->kind))
				f = &st->events[k];
		if (!f || a->held(e) < a->held(f))
			return;
		char cw[48] = "", was[48] = "as when it fired";
		if (e->cw)
			snprintf(cw, sizeof(cw), ", %u of them CLOSE_WAIT", e->cw);
		if (a->held(e) != a->held(f))
			snprintf(was, sizeof(was), "%lld when it fired", (long long)a->held(f));
		e->kind = STK_STALLED;
		snprintf(e->text, sizeof(e->text),
			 "%s cleared because the growth stopped, not because %s were freed: pid %d %s still holds %lld %s "
			 "(%s)%s",
			 a->kind, a->unit, (int)e->pid, p ? p->comm : "?", (long long)a->held(e), a->unit, was, cw);
		return;
	}
}

/* After the replay: which processes an event named; an fd_eta alert that cleared
 * while the process held no fewer fds than when it fired is told as the stall it
 * is (its growth stopped: a pool exhausted), a clearing after the process exited
 * says so; and the recorder's own alerts go, as the recorder does. */
static void settle_events(struct story *st)
{
	size_t w = 0;

	for (size_t i = 0; i < st->nevents; i++) {
		struct story_event *e = &st->events[i];
		struct story_proc *p = proc_at(st, e->pid, e->start_time, e->time);
		if (p && p->self && e->kind != STK_ACTION) {
			free((char *)e->dump);
			continue;
		}
		if (p && e->kind != STK_SUSPECT && e->kind != STK_LEAK && e->kind != STK_MEM_LEAK &&
		    e->kind != STK_REPLACED)
			p->named = true;
		if (e->kind == STK_CLEARED && e->stamped && !e->alive) {
			size_t l = strlen(e->text);
			snprintf(e->text + l, sizeof(e->text) - l, " (the process had exited)");
		} else if (e->kind == STK_CLEARED && e->stamped) {
			stall_or_clear(st, i, w, p);
		}
		st->events[w++] = *e;
	}
	st->nevents = w;
}

static int event_cmp(const void *a, const void *b)
{
	const struct story_event *x = a, *y = b;
	return x->time < y->time ? -1 : x->time > y->time ? 1 : (int)x->kind - (int)y->kind;
}

static bool held_by_self(const struct story *st, const struct story_port *port)
{
	size_t self = 0;

	for (size_t i = 0; i < port->npids; i++)
		for (size_t k = 0; k < st->nprocs; k++)
			if (st->procs[k].pid == port->pids[i] && st->procs[k].self) {
				self++;
				break;
			}
	return port->npids && self == port->npids && !port->pids_more;
}

static void judge_matters(struct story *st)
{
	for (size_t i = 0; i < st->nprocs; i++) {
		struct story_proc *p = &st->procs[i];
		p->matters = p->worst >= VERDICT_SUSPECT || p->mem_leak || p->named ||
			     (!isnan(p->fd_pct_peak) && p->fd_pct_peak >= st->fd_warn_pct);
		/* leaktop is not its own culprit (an older leaktop recorded itself). */
		if (p->self && p->matters && !st->self_left_out[0])
			snprintf(st->self_left_out, sizeof(st->self_left_out), "pid %d leaktop", (int)p->pid);
		if (p->self)
			p->matters = false;
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
		st->ports[i].matters = st->ports[i].worst >= VERDICT_SUSPECT && !held_by_self(st, &st->ports[i]);
}

static void quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

int story_build(const char *path, const struct alert_thresholds *t, struct story **out, char **cause)
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
	if (t)
		so.alert = *t;
	else
		alert_thresholds_default(&so.alert);
	b.st->fd_warn_pct = so.alert.fd_warn_pct;
	b.st->fd_crit_pct = so.alert.fd_crit_pct;
	/* The recorded events come from the event table; nothing goes to stderr. */
	so.recorded = quiet;
	so.note = quiet;
	if ((rc = session_new(&ss, &so, src, NULL)))
		goto out;
	/* The recorded events first: the replay stamps each with its process's state. */
	if ((rc = read_events(b.st, path)))
		goto out;
	b.nrec = b.st->nevents;
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
	if (!rc) {
		settle_events(b.st);
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
