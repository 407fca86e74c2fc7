/* Alert thresholds and transitions. Each refresh builds the sorted set of conditions
 * that hold or nearly hold; merging it with the active set gives the transitions, so
 * an alert fires once, and clears only after its value stayed below the threshold by
 * a margin for a few refreshes (hysteresis). (Running --alert-cmd is program/spawn.c's.) */
#include "config.h"

#include "model/alert.h"
#include "model/history.h"
#include "model/vec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct alert_set {
	struct alert *v;
	size_t n, cap;
};

/* An active alert clears once its value has been beyond the threshold by this share
 * of it (below 90 for "more than 100") for this many refreshes in a row. */
#define ALERT_CLEAR_MARGIN 0.10
#define ALERT_CLEAR_REFRESHES 3

struct alerts {
	struct alert_thresholds t;
	struct view_filter filter;
	struct alert_set cand, cur, prev, events; /* cand: this refresh's conditions */
};

static const char *const kind_names[] = {
	[ALERT_FD_USAGE] = "fd_usage",
	[ALERT_CLOSE_WAIT] = "close_wait",
	[ALERT_PORT_CLOSE_WAIT] = "port_close_wait",
	[ALERT_FD_ETA] = "fd_eta",
	[ALERT_FILE_NR] = "file_nr",
	[ALERT_MEM] = "mem",
};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == ALERT_KIND_COUNT, "a name per alert kind");

static const char *const level_names[] = {
	[ALERT_CLEAR] = "clear",
	[ALERT_WARNING] = "warning",
	[ALERT_CRITICAL] = "critical",
};
_Static_assert(sizeof(level_names) / sizeof(level_names[0]) == ALERT_LEVEL_COUNT, "a name per level");

const char *alert_kind_name(enum alert_kind k)
{
	return (unsigned)k < ALERT_KIND_COUNT ? kind_names[k] : "?";
}

const char *alert_level_name(enum alert_level l)
{
	return (unsigned)l < ALERT_LEVEL_COUNT ? level_names[l] : "?";
}

void alert_thresholds_default(struct alert_thresholds *t)
{
	*t = (struct alert_thresholds){
		.fd_warn_pct = 75,
		.fd_crit_pct = 90,
		.close_wait = 100,
		.eta_min = 30,
		.file_nr_pct = 75,
	};
}

struct alerts *alerts_new(const struct alert_thresholds *t)
{
	struct alerts *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	if (t)
		a->t = *t;
	else
		alert_thresholds_default(&a->t);
	return a;
}

void alerts_set_filter(struct alerts *a, const struct view_filter *f)
{
	a->filter = *f;
}

void alerts_free(struct alerts *a)
{
	if (!a)
		return;
	free(a->cand.v);
	free(a->cur.v);
	free(a->prev.v);
	free(a->events.v);
	free(a);
}

static struct alert *set_add(struct alert_set *s)
{
	struct alert *e = VEC_PUSH(s->v, s->n, s->cap);
	if (!e)
		return NULL;
	return e;
}

/* The identity of an alert: what it is about, not its level or value. */
static int cmp_alert(const void *pa, const void *pb)
{
	const struct alert *x = pa, *y = pb;
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->start_time != y->start_time)
		return x->start_time < y->start_time ? -1 : 1;
	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->side > y->side) - (x->side < y->side);
}

static struct alert *proc_alert(struct alert_set *s, enum alert_kind kind, enum alert_level level,
				const struct proc_rec *p, double value, double threshold)
{
	struct alert *e = set_add(s);
	if (!e)
		return NULL;
	e->kind = kind, e->level = level;
	e->pid = p->pid, e->start_time = p->start_time;
	e->value = value, e->threshold = threshold;
	snprintf(e->comm, sizeof(e->comm), "%s", p->comm);
	return e;
}

static int check_procs(struct alerts *a, const struct snapshot *s, const struct history *h)
{
	const struct alert_thresholds *t = &a->t;

	for (size_t i = 0; i < s->nprocs; i++) {
		const struct proc_rec *p = &s->procs[i];
		struct alert *e;
		if (p->fds < 0 || (p->flags & PROC_SELF) || !view_proc_match(&a->filter, s, p))
			continue;
		double pct = view_fd_pct(p); /* exact; the message shows it cut, as every output does */
		if (!isnan(pct)) {
			enum alert_level l = pct >= t->fd_crit_pct ? ALERT_CRITICAL
					     : pct >= t->fd_warn_pct ? ALERT_WARNING : ALERT_CLEAR;
			/* ALERT_CLEAR here: not firing, but too close to the threshold to clear. */
			if (l || pct >= t->fd_warn_pct * (1 - ALERT_CLEAR_MARGIN)) {
				double th = l == ALERT_CRITICAL ? t->fd_crit_pct : t->fd_warn_pct;
				if (!(e = proc_alert(&a->cand, ALERT_FD_USAGE, l, p, pct, th)))
					return -ENOMEM;
				snprintf(e->message, sizeof(e->message), "pid %d (%s) uses %.0f%% of its fd limit (%lld of %llu)",
					 p->pid, p->comm, view_fd_pct_cut(pct, 0), (long long)p->fds, (unsigned long long)p->fd_limit);
			}
		}
		uint32_t cw = p->states[ST_CLOSE_WAIT];
		if (cw > t->close_wait * (1 - ALERT_CLEAR_MARGIN)) {
			if (!(e = proc_alert(&a->cand, ALERT_CLOSE_WAIT, cw > t->close_wait ? ALERT_WARNING : ALERT_CLEAR, p,
					     cw, t->close_wait)))
				return -ENOMEM;
			snprintf(e->message, sizeof(e->message), "pid %d (%s) holds %u CLOSE_WAIT sockets (more than %u)",
				 p->pid, p->comm, p->states[ST_CLOSE_WAIT], t->close_wait);
		}
		const struct history_stats *st = h ? history_proc(h, p->pid, p->start_time) : NULL;
		if (st && st->exhaustion_eta_s < t->eta_min * 60 * (1 + ALERT_CLEAR_MARGIN)) {
			enum alert_level l = st->exhaustion_eta_s < t->eta_min * 60 ? ALERT_WARNING : ALERT_CLEAR;
			if (!(e = proc_alert(&a->cand, ALERT_FD_ETA, l, p, st->exhaustion_eta_s / 60, t->eta_min)))
				return -ENOMEM;
			snprintf(e->message, sizeof(e->message),
				 "pid %d (%s) runs out of fds in %.1f min at %+.1f fds/min (limit %llu)", p->pid, p->comm,
				 st->exhaustion_eta_s / 60, st->fd_growth_per_min, (unsigned long long)p->fd_limit);
		}
		if (st && st->mem_verdict == VERDICT_LEAK) {
			if (!(e = proc_alert(&a->cand, ALERT_MEM, ALERT_WARNING, p, st->rss_growth_mb_per_min, 0)))
				return -ENOMEM;
			snprintf(e->message, sizeof(e->message), "pid %d (%s) leaks memory: %.100s", p->pid, p->comm,
				 st->mem_reason);
		}
	}
	return 0;
}

static int check_system(struct alerts *a, const struct snapshot *s)
{
	const struct alert_thresholds *t = &a->t;

	for (size_t i = 0; i < s->nports; i++) {
		const struct port_agg *p = &s->ports[i];
		uint32_t cw = p->states[ST_CLOSE_WAIT];
		if (cw <= t->close_wait * (1 - ALERT_CLEAR_MARGIN) || !view_port_match(&a->filter, p))
			continue;
		struct alert *e = set_add(&a->cand);
		if (!e)
			return -ENOMEM;
		*e = (struct alert){.kind = ALERT_PORT_CLOSE_WAIT, .level = cw > t->close_wait ? ALERT_WARNING : ALERT_CLEAR,
				    .netns = p->netns,
				    .port = p->port, .side = p->side, .value = p->states[ST_CLOSE_WAIT],
				    .threshold = t->close_wait};
		snprintf(e->message, sizeof(e->message), "%s port %u has %u CLOSE_WAIT sockets (more than %u)",
			 p->side == SIDE_LOCAL ? "local" : "remote", p->port, p->states[ST_CLOSE_WAIT], t->close_wait);
	}
	const struct totals *tt = &s->totals;
	if (tt->file_max && tt->file_max != UINT64_MAX) {
		double pct = 100.0 * (double)tt->file_alloc / (double)tt->file_max;
		if (pct >= t->file_nr_pct * (1 - ALERT_CLEAR_MARGIN)) {
			struct alert *e = set_add(&a->cand);
			if (!e)
				return -ENOMEM;
			*e = (struct alert){.kind = ALERT_FILE_NR, .level = pct >= t->file_nr_pct ? ALERT_WARNING : ALERT_CLEAR,
					    .value = pct,
					    .threshold = t->file_nr_pct};
			snprintf(e->message, sizeof(e->message), "system uses %.0f%% of fs.file-max (%llu of %llu)", pct,
				 (unsigned long long)tt->file_alloc, (unsigned long long)tt->file_max);
		}
	}
	return 0;
}

/* How an alert clears: "; cleared", unless what it measured only stopped moving while
 * the pile stays (an fd_eta alert of a process whose fds stalled): that is no
 * all-clear, and its message says so. */
static void clear_message(struct alert *e, const struct snapshot *s, const struct history *h)
{
	size_t len = strlen(e->message);
	const struct proc_rec *p = e->kind == ALERT_FD_ETA ? snapshot_find_proc(s, e->pid) : NULL;
	const struct history_stats *st = p && p->start_time == e->start_time && h ? history_proc(h, e->pid, e->start_time)
										      : NULL;

	if (st && st->fd_stalled)
		snprintf(e->message + len, sizeof(e->message) - len, "; cleared: growth stopped at %lld fds (stalled, not resolved)",
			 (long long)p->fds);
	else
		snprintf(e->message + len, sizeof(e->message) - len, "%s", "; cleared");
}

static int add_event(struct alerts *a, const struct alert *from, enum alert_level level, const struct snapshot *s,
		     const struct history *h)
{
	struct alert *e = set_add(&a->events);
	if (!e)
		return -ENOMEM;
	*e = *from;
	e->level = level;
	if (level == ALERT_CLEAR)
		clear_message(e, s, h);
	return 0;
}

/* Keep an alert active in cur: from this refresh's condition c when there is one
 * (its level, unless c is only near the threshold), else as it was. */
static int keep(struct alerts *a, const struct alert *was, const struct alert *c, uint8_t calm)
{
	struct alert *e = set_add(&a->cur);
	if (!e)
		return -ENOMEM;
	*e = c ? *c : *was;
	if (!e->level)
		e->level = was->level;
	e->calm = calm;
	return 0;
}

int alerts_update(struct alerts *a, const struct snapshot *s, const struct history *h)
{
	struct alert_set tmp = a->prev;
	int rc;

	a->prev = a->cur;
	a->cur = tmp;
	a->cur.n = a->cand.n = a->events.n = 0;
	if ((rc = check_procs(a, s, h)) || (rc = check_system(a, s)))
		return rc;
	if (a->cand.n)
		qsort(a->cand.v, a->cand.n, sizeof(*a->cand.v), cmp_alert);

	/* Merge this refresh's conditions with the active alerts: new ones fire,
	 * escalations fire; one near its threshold stays as it is; one gone clear of it
	 * for ALERT_CLEAR_REFRESHES refreshes clears. A level that falls (critical to
	 * warning) is kept quietly, so it can rise again. */
	size_t i = 0, j = 0;
	while (i < a->cand.n || j < a->prev.n) {
		const struct alert *c = i < a->cand.n ? &a->cand.v[i] : NULL, *p = j < a->prev.n ? &a->prev.v[j] : NULL;
		int o = !c ? 1 : !p ? -1 : cmp_alert(c, p);
		if (o < 0) {
			if (c->level && !(rc = add_event(a, c, c->level, s, h)))
				rc = keep(a, c, c, 0);
			i++;
		} else if (o > 0) {
			rc = p->calm + 1 >= ALERT_CLEAR_REFRESHES ? add_event(a, p, ALERT_CLEAR, s, h)
								   : keep(a, p, NULL, p->calm + 1);
			j++;
		} else {
			if (c->level > p->level)
				rc = add_event(a, c, c->level, s, h);
			if (!rc)
				rc = keep(a, p, c, 0);
			i++, j++;
		}
		if (rc)
			return rc;
	}
	return (int)a->events.n;
}

const struct alert *alerts_events(const struct alerts *a, size_t *n)
{
	*n = a->events.n;
	return a->events.v;
}

const struct alert *alerts_active(const struct alerts *a, size_t *n)
{
	*n = a->cur.n;
	return a->cur.v;
}

void alerts_raise(const struct alerts *a, struct history *h)
{
	for (size_t i = 0; h && i < a->cur.n; i++) {
		const struct alert *e = &a->cur.v[i];
		const struct history_stats *st =
			e->pid ? history_proc(h, e->pid, e->start_time) : e->port ? history_port(h, e->netns, e->port, e->side) : NULL;
		if (!st || st->verdict != VERDICT_OK)
			continue;
		if (e->pid)
			history_raise_proc(h, e->pid, e->start_time, VERDICT_SUSPECT, e->message);
		else
			history_raise_port(h, e->netns, e->port, e->side, VERDICT_SUSPECT, e->message);
	}
}
