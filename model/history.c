/* Ring buffers per process (keyed by pid + start time, so a reused pid starts over)
 * and per port, a per-socket table of first-seen times, and the figures the views
 * show. Sockets live in two hash tables swapped each update: no per-socket malloc
 * once they are sized. */
#include "config.h"

#include "model/history.h"
#include "model/hashtab.h"
#include "model/vec.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { PROC_VALS = HS_COUNT, PORT_VALS = ST_COUNT }; /* ports: states 1..12, then new sockets */
#define PORT_NEW (ST_COUNT - 1)
#define MAX_HOSTS 8
#define RING_MIN 64

/* One process or one port. */
struct hist_ent {
	uint64_t ka, kb;          /* proc: pid, start time; port: netns, port | side << 16 */
	uint32_t *ring;           /* cap samples of nvals values */
	uint32_t cap, count, head; /* head: index of the oldest sample */
	uint64_t last_seq;
	double last_seen;
	bool seen;                /* in this update */
	uint64_t fd_limit;
	uint32_t weight;          /* fds, or sockets on a port: who stays at the bound */
	uint32_t cur[PROC_VALS > PORT_VALS ? PROC_VALS : PORT_VALS];
	/* CLOSE_WAIT evidence of this update. */
	double cw_oldest;
	uint32_t cw_unread, nhosts;
	uint32_t hosts[MAX_HOSTS];
	/* Where the CLOSE_WAIT (0) and fd (1) series were last at their lowest, kept as
	 * samples arrive: how long they have been rising, without a scan per update. */
	uint32_t low[2];
	uint64_t low_seq[2];
	struct history_stats stats;
};

struct hist_set {
	struct hist_ent *ents;
	size_t n, alloc, max;
	unsigned nvals;
	struct hashtab index;     /* set_key(ka, kb) -> ent index (uint32_t) */
};

/* What the history knows of one socket, in its hash table by sock_key. */
struct sock_age {
	float first, since;       /* seconds after h->base */
	uint8_t state;
};

struct history {
	struct history_opts o;
	uint32_t cap;             /* samples per series */
	uint64_t seq;
	double base, now, prev_time; /* prev_time: the update before this one */
	double *times;            /* by seq % cap */
	double *file_nr;
	uint64_t file_max;
	struct hist_set procs, ports;
	struct hashtab socks[2];  /* sock_key -> struct sock_age */
	int cur;                  /* socks[cur] is the last update's */
	size_t win_n;             /* samples inside the slope window */
	int32_t *proc_ent;        /* snapshot proc index -> ent index */
	struct by_weight *order;  /* procs by fds, biggest first */
	size_t proc_ent_cap, order_cap;
	double *tbuf, *vbuf;      /* scratch for fits, cap each */
};

void history_opts_default(struct history_opts *o)
{
	*o = (struct history_opts){.interval_s = 2, .span_s = 3600, .window_s = 300, .forget_s = 120};
	leak_params_default(&o->leak);
}

/* --- entity sets ------------------------------------------------------------- */

/* Both halves of an entity's key in one table key. Two entities could share it (not
 * for real pids and ports): the ents are checked, and the second is not tracked. */
static uint64_t set_key(uint64_t ka, uint64_t kb)
{
	return ka * 0x9e3779b97f4a7c15ULL ^ kb; /* the table mixes it */
}

static struct hist_ent *set_find(const struct hist_set *st, uint64_t ka, uint64_t kb)
{
	const uint32_t *i = hashtab_get(&st->index, set_key(ka, kb));
	const struct hist_ent *e = i ? &st->ents[*i] : NULL;
	return e && e->ka == ka && e->kb == kb ? (struct hist_ent *)e : NULL;
}

/* Index ents[i] under its key; false when another entity holds that key. */
static bool set_index(struct hist_set *st, size_t i)
{
	bool found;
	uint32_t *v = hashtab_put(&st->index, set_key(st->ents[i].ka, st->ents[i].kb), &found);
	if (!v || (found && *v != i))
		return false;
	*v = (uint32_t)i;
	return true;
}

static int set_init(struct hist_set *st, size_t max, unsigned nvals)
{
	st->max = max;
	st->nvals = nvals;
	st->alloc = max;
	hashtab_init(&st->index, sizeof(uint32_t));
	st->ents = calloc(max, sizeof(*st->ents));
	if (!st->ents || hashtab_reset(&st->index, max))
		return -ENOMEM;
	return 0;
}

/* Forget ents[i]; the last entity takes its place. */
static void set_remove(struct hist_set *st, size_t i)
{
	hashtab_del(&st->index, set_key(st->ents[i].ka, st->ents[i].kb));
	free(st->ents[i].ring);
	st->ents[i] = st->ents[--st->n];
	memset(&st->ents[st->n], 0, sizeof(st->ents[0]));
	uint32_t *v = i < st->n ? hashtab_get(&st->index, set_key(st->ents[i].ka, st->ents[i].kb)) : NULL;
	if (v)
		*v = (uint32_t)i;
}

static struct hist_ent *set_add(struct hist_set *st, uint64_t ka, uint64_t kb)
{
	if (st->n >= st->max)
		return NULL;
	struct hist_ent *e = &st->ents[st->n];
	memset(e, 0, sizeof(*e));
	e->ka = ka, e->kb = kb;
	if (!set_index(st, st->n)) {
		memset(e, 0, sizeof(*e));
		return NULL;
	}
	st->n++;
	return e;
}

static void set_free(struct hist_set *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->ents[i].ring);
	free(st->ents);
	hashtab_free(&st->index);
}

/* --- rings ------------------------------------------------------------------- */

static const uint32_t *ring_at(const struct hist_ent *e, unsigned nvals, uint32_t i)
{
	return &e->ring[(size_t)((e->head + i) % e->cap) * nvals];
}

/* Append vals as sample seq; a gap since the last sample is filled with the last
 * values (the process was briefly unreadable, say). */
static int ring_push(struct hist_ent *e, unsigned nvals, uint32_t gcap, uint64_t seq, const uint32_t *vals)
{
	uint64_t gap = e->count && seq > e->last_seq + 1 ? seq - e->last_seq - 1 : 0;
	uint32_t fill[PROC_VALS > PORT_VALS ? PROC_VALS : PORT_VALS];

	if (gap > gcap)
		gap = gcap;
	if (e->count)
		memcpy(fill, ring_at(e, nvals, e->count - 1), nvals * sizeof(*fill));
	for (uint64_t k = 0; k <= gap; k++) {
		const uint32_t *v = k < gap ? fill : vals;
		if (e->count == e->cap && e->cap < gcap) {
			uint32_t ncap = e->cap ? e->cap * 2 : RING_MIN;
			if (ncap > gcap)
				ncap = gcap;
			uint32_t *r = malloc((size_t)ncap * nvals * sizeof(*r));
			if (!r)
				return -ENOMEM;
			for (uint32_t i = 0; i < e->count; i++)
				memcpy(&r[(size_t)i * nvals], ring_at(e, nvals, i), nvals * sizeof(*r));
			free(e->ring);
			e->ring = r, e->cap = ncap, e->head = 0;
		}
		if (e->count == e->cap) { /* full at the bound: overwrite the oldest */
			memcpy(&e->ring[(size_t)e->head * nvals], v, nvals * sizeof(*v));
			e->head = (e->head + 1) % e->cap;
		} else {
			memcpy(&e->ring[(size_t)((e->head + e->count) % e->cap) * nvals], v, nvals * sizeof(*v));
			e->count++;
		}
	}
	e->last_seq = seq;
	return 0;
}

/* Series `col` of e into h->tbuf/vbuf, oldest first; returns the count. */
static size_t ring_series(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col,
			  double *t, double *v, size_t max)
{
	size_t n = e->count < max ? e->count : max, skip = e->count - n;
	uint64_t seq0 = e->last_seq + 1 - e->count;

	for (size_t i = 0; i < n; i++) {
		t[i] = h->times[(seq0 + skip + i) % h->cap];
		v[i] = ring_at(e, nvals, (uint32_t)(skip + i))[col];
	}
	return n;
}

/* Track the latest low of col in slot `which` after a push; rescan the ring when the
 * low has aged out of it. */
static void track_low(struct hist_ent *e, unsigned nvals, unsigned which, unsigned col)
{
	uint64_t seq0 = e->last_seq + 1 - e->count;
	uint32_t v = ring_at(e, nvals, e->count - 1)[col];

	if (e->count == 1 || v <= e->low[which]) {
		e->low[which] = v, e->low_seq[which] = e->last_seq;
	} else if (e->low_seq[which] < seq0) {
		e->low[which] = UINT32_MAX;
		for (uint32_t i = 0; i < e->count; i++)
			if (ring_at(e, nvals, i)[col] <= e->low[which])
				e->low[which] = ring_at(e, nvals, i)[col], e->low_seq[which] = seq0 + i;
	}
}

static double rising_s(const struct history *h, const struct hist_ent *e, unsigned which)
{
	return h->now - h->times[e->low_seq[which] % h->cap];
}

/* --- sockets ----------------------------------------------------------------- */

static uint64_t sock_key(const struct sock_rec *k)
{
	uint64_t x = k->cookie;
	if (!x) { /* no cookie: the 4-tuple in its namespace */
		x = mix64(k->netns) ^ ((uint64_t)k->lport << 32 | (uint64_t)k->rport << 16 | k->family);
		for (int i = 0; i < 16; i += 8) {
			uint64_t a, b;
			memcpy(&a, k->laddr + i, 8);
			memcpy(&b, k->raddr + i, 8);
			x = mix64(x ^ a) ^ mix64(b + (uint64_t)i);
		}
	}
	return x ? x : 1;
}

static void note_host(struct hist_ent *e, const struct sock_rec *k)
{
	uint32_t hash = (uint32_t)mix64(((uint64_t)k->raddr[0] << 24 | k->raddr[1] << 16 | k->raddr[2] << 8 |
					 k->raddr[3]) ^ (uint64_t)k->raddr[12] << 40 ^ (uint64_t)k->raddr[15] << 48 ^
					(uint64_t)k->raddr[8] << 56);
	for (uint32_t i = 0; i < e->nhosts; i++)
		if (e->hosts[i] == hash)
			return;
	if (e->nhosts < MAX_HOSTS)
		e->hosts[e->nhosts++] = hash;
}

/* The port a socket is counted under in the snapshot: its local port if that is a
 * port with history, else its remote port. */
static struct hist_ent *sock_port(const struct history *h, const struct sock_rec *k)
{
	struct hist_ent *e = set_find(&h->ports, k->netns, k->lport | (uint64_t)SIDE_LOCAL << 16);
	return e ? e : set_find(&h->ports, k->netns, k->rport | (uint64_t)SIDE_REMOTE << 16);
}

static void note_sock(struct hist_ent *e, const struct sock_rec *k, double since, bool is_new, unsigned new_col)
{
	if (!e)
		return;
	if (is_new)
		e->cur[new_col]++;
	if (k->state != ST_CLOSE_WAIT)
		return;
	if (since < e->cw_oldest)
		e->cw_oldest = since;
	if (k->rqueue > 1) /* the FIN itself counts one */
		e->cw_unread++;
	note_host(e, k);
}

static int update_socks(struct history *h, const struct snapshot *s)
{
	const struct hashtab *old = &h->socks[h->cur];
	struct hashtab *tab = &h->socks[h->cur ^ 1];
	float now = (float)(h->now - h->base);
	int rc;

	if ((rc = hashtab_reset(tab, s->nsocks)))
		return rc;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		uint64_t key = sock_key(k);
		/* The tables are far bigger than the cache and the probes random: ask for
		 * the slots of a socket a few places ahead while this one is handled. */
		if (i + 8 < s->nsocks) {
			uint64_t ahead = sock_key(&s->socks[i + 8]);
			hashtab_prefetch(old, ahead);
			hashtab_prefetch(tab, ahead);
		}
		const struct sock_age *o = hashtab_get(old, key);
		bool is_new = !o, found;
		struct sock_age *n = hashtab_put(tab, key, &found);

		if (!n)
			return -ENOMEM;
		if (found) /* the same socket twice in one dump */
			continue;
		*n = is_new ? (struct sock_age){.first = now, .since = now} : *o;
		if (n->state != k->state)
			n->since = now;
		n->state = k->state;
		/* On the first update every socket is new to leaktop, not to the system. */
		is_new = is_new && h->seq > 1;

		double since = h->base + n->since;
		if (k->owner >= 0 && (size_t)k->owner < s->nowners) {
			int32_t pi = s->owners[k->owner].proc;
			if (pi >= 0 && (size_t)pi < s->nprocs && h->proc_ent[pi] >= 0)
				note_sock(&h->procs.ents[h->proc_ent[pi]], k, since, is_new, HS_NEW);
		}
		note_sock(sock_port(h, k), k, since, is_new, PORT_NEW);
	}
	h->cur ^= 1;
	return 0;
}

/* --- figures ----------------------------------------------------------------- */

/* Fit col over the samples inside the slope window. */
static void fit_col(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col,
		    struct leak_fit *fit)
{
	size_t n = ring_series(h, e, nvals, col, h->tbuf, h->vbuf, h->win_n);
	leak_slope(h->tbuf, h->vbuf, n, h->o.window_s, fit);
}

static double per_min_new(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col)
{
	size_t n = ring_series(h, e, nvals, col, h->tbuf, h->vbuf, h->win_n);
	double sum = 0;

	for (size_t i = 1; i < n; i++) /* the first sample's news came before the span */
		sum += h->vbuf[i];
	double span = n ? h->tbuf[n - 1] - h->tbuf[0] : 0;
	return span > 0 ? sum / span * 60 : 0;
}

static void judge(struct history *h, struct hist_ent *e, unsigned nvals, unsigned cw_col, unsigned new_col,
		  bool is_proc)
{
	struct history_stats *st = &e->stats;
	struct leak_evidence ev = {.has_fds = is_proc};

	fit_col(h, e, nvals, cw_col, &ev.cw_fit);
	ev.cw_grow_s = rising_s(h, e, 0);
	ev.cw = e->cur[cw_col];
	ev.cw_oldest_s = ev.cw && isfinite(e->cw_oldest) ? h->now - e->cw_oldest : 0;
	ev.cw_hosts = e->nhosts;
	ev.cw_unread = e->cw_unread;
	ev.new_per_min = per_min_new(h, e, nvals, new_col);
	st->close_wait_growth_per_min = ev.cw_fit.valid ? ev.cw_fit.slope_per_min : NAN;
	st->fd_growth_per_min = NAN;
	st->exhaustion_eta_s = INFINITY;
	if (is_proc) {
		fit_col(h, e, nvals, HS_FDS, &ev.fd_fit);
		ev.fd_grow_s = rising_s(h, e, 1);
		st->fd_growth_per_min = ev.fd_fit.valid ? ev.fd_fit.slope_per_min : NAN;
		st->exhaustion_eta_s = ev.fd_fit.valid || e->cur[HS_FDS] >= e->fd_limit
					       ? leak_eta_s(e->cur[HS_FDS], e->fd_limit, &ev.fd_fit) : NAN;
		size_t n = ring_series(h, e, nvals, HS_RSS_KB, h->tbuf, h->vbuf, h->win_n);
		st->mem_verdict = leak_judge_mem(h->tbuf, h->vbuf, n, h->o.window_s, &h->o.leak,
						 &st->rss_growth_mb_per_min, st->mem_reason, sizeof(st->mem_reason));
	} else {
		st->rss_growth_mb_per_min = NAN;
		st->mem_verdict = VERDICT_OK;
		st->mem_reason[0] = '\0';
	}
	st->close_wait_oldest_s = ev.cw_oldest_s;
	st->close_wait_hosts = ev.cw_hosts;
	st->span_s = e->count ? h->now - h->times[(e->last_seq + 1 - e->count) % h->cap] : 0;
	ev.watched_s = st->span_s;
	st->verdict = leak_judge(&ev, &h->o.leak, st->reason, sizeof(st->reason));
}

static void port_growth(struct history *h, struct hist_ent *e)
{
	for (unsigned st = 0; st < ST_COUNT; st++)
		e->stats.growth_per_min[st] = NAN;
	for (unsigned st = 1; st < ST_COUNT; st++) {
		struct leak_fit fit;
		fit_col(h, e, PORT_VALS, st - 1, &fit);
		e->stats.growth_per_min[st] = fit.valid ? fit.slope_per_min : NAN;
	}
}

/* --- the update ---------------------------------------------------------------- */

static uint32_t sat32(uint64_t v)
{
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

static void ent_begin(struct hist_ent *e, double now, uint32_t weight)
{
	e->seen = true;
	e->weight = weight;
	e->last_seen = now;
	memset(e->cur, 0, sizeof(e->cur));
	e->cw_oldest = INFINITY;
	e->cw_unread = e->nhosts = 0;
}

/* At the bound, a newcomer takes the place of an entity gone since an earlier update,
 * else of the one with the smallest weight (fds, or sockets on a port) if it has
 * more: the bound keeps what could run out. Only entities not seen yet in this
 * update are candidates, so no index handed out in this update goes stale. *victim
 * caches the candidate between calls. */
static struct hist_ent *admit(struct history *h, struct hist_set *st, uint64_t ka, uint64_t kb, uint32_t weight,
			      size_t *victim)
{
	struct hist_ent *e;

	if (hashtab_get(&st->index, set_key(ka, kb))) /* another entity's key: see set_key */
		return NULL;
	if ((e = set_add(st, ka, kb)))
		return e;
	if (*victim == SIZE_MAX || st->ents[*victim].seen) {
		*victim = SIZE_MAX;
		for (size_t i = 0; i < st->n; i++) {
			const struct hist_ent *c = &st->ents[i];
			if (c->seen)
				continue;
			if (*victim == SIZE_MAX) {
				*victim = i;
				continue;
			}
			const struct hist_ent *v = &st->ents[*victim];
			bool c_gone = c->last_seen < h->prev_time, v_gone = v->last_seen < h->prev_time;
			if ((c_gone && !v_gone) || (c_gone == v_gone && c->weight < v->weight))
				*victim = i;
		}
		if (*victim == SIZE_MAX)
			return NULL;
	}
	e = &st->ents[*victim];
	if (e->last_seen >= h->prev_time && e->weight >= weight)
		return NULL;
	hashtab_del(&st->index, set_key(e->ka, e->kb));
	free(e->ring);
	memset(e, 0, sizeof(*e));
	e->ka = ka, e->kb = kb;
	*victim = SIZE_MAX;
	/* The index was sized for every entity and the key is free: this cannot fail. */
	if (!set_index(st, (size_t)(e - st->ents)))
		abort();
	return e;
}

struct by_weight {
	uint32_t weight, idx;
};

static int cmp_weight_desc(const void *a, const void *b)
{
	const struct by_weight *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

static int update_procs(struct history *h, const struct snapshot *s)
{
	size_t victim = SIZE_MAX, n = 0;

	if (VEC_RESERVE(h->proc_ent, h->proc_ent_cap, s->nprocs) || VEC_RESERVE(h->order, h->order_cap, s->nprocs))
		return -ENOMEM;
	for (size_t i = 0; i < h->procs.n; i++)
		h->procs.ents[i].seen = false;
	for (size_t i = 0; i < s->nprocs; i++) {
		h->proc_ent[i] = -1;
		if (s->procs[i].fds >= 0)
			h->order[n++] = (struct by_weight){sat32((uint64_t)s->procs[i].fds), (uint32_t)i};
	}
	/* Biggest first: at the bound, a big newcomer meets the small ones still unseen.
	 * (No process at all: order may still be NULL, which qsort must not get.) */
	if (n > 1)
		qsort(h->order, n, sizeof(*h->order), cmp_weight_desc);
	for (size_t k = 0; k < n; k++) {
		size_t i = h->order[k].idx;
		const struct proc_rec *p = &s->procs[i];
		struct hist_ent *e = set_find(&h->procs, (uint64_t)p->pid, p->start_time);
		if (!e && !(e = admit(h, &h->procs, (uint64_t)p->pid, p->start_time, h->order[k].weight, &victim)))
			continue;
		ent_begin(e, h->now, h->order[k].weight);
		e->fd_limit = p->fd_limit;
		e->cur[HS_FDS] = h->order[k].weight;
		e->cur[HS_SOCKETS] = p->sock_fds;
		e->cur[HS_CLOSE_WAIT] = p->states[ST_CLOSE_WAIT];
		e->cur[HS_RECV_Q] = sat32(p->recv_q);
		e->cur[HS_RSS_KB] = sat32(p->rss_kb);
		h->proc_ent[i] = (int32_t)(e - h->procs.ents);
	}
	return 0;
}

static void update_ports(struct history *h, const struct snapshot *s)
{
	size_t victim = SIZE_MAX;

	for (size_t i = 0; i < h->ports.n; i++)
		h->ports.ents[i].seen = false;
	for (size_t i = 0; i < s->nports; i++) {
		const struct port_agg *p = &s->ports[i];
		uint64_t kb = p->port | (uint64_t)p->side << 16;
		struct hist_ent *e = set_find(&h->ports, p->netns, kb);
		if (!e && !(e = admit(h, &h->ports, p->netns, kb, p->count, &victim)))
			continue;
		ent_begin(e, h->now, p->count);
		for (unsigned st = 1; st < ST_COUNT; st++)
			e->cur[st - 1] = p->states[st];
	}
}

/* Push this update's samples, judge, and forget what has not been seen for a while. */
static int finish_set(struct history *h, struct hist_set *st, bool is_proc)
{
	int rc = 0;

	for (size_t i = st->n; i-- > 0;) {
		struct hist_ent *e = &st->ents[i];
		if (!e->seen) {
			if (h->now - e->last_seen > h->o.forget_s)
				set_remove(st, i);
			continue;
		}
		if (ring_push(e, st->nvals, h->cap, h->seq, e->cur)) {
			rc = -ENOMEM;
			if (!e->count)
				continue;
		}
		track_low(e, st->nvals, 0, is_proc ? HS_CLOSE_WAIT : ST_CLOSE_WAIT - 1);
		if (is_proc)
			track_low(e, st->nvals, 1, HS_FDS);
		if (is_proc) {
			judge(h, e, PROC_VALS, HS_CLOSE_WAIT, HS_NEW, true);
		} else {
			judge(h, e, PORT_VALS, ST_CLOSE_WAIT - 1, PORT_NEW, false);
			port_growth(h, e);
		}
	}
	return rc;
}

int history_update(struct history *h, const struct snapshot *s)
{
	int rc;

	if (!h->seq)
		h->base = s->time;
	h->seq++;
	h->prev_time = h->seq > 1 ? h->now : s->time;
	h->now = s->time;
	h->times[h->seq % h->cap] = s->time;
	h->file_nr[h->seq % h->cap] = (double)s->totals.file_alloc;
	h->file_max = s->totals.file_max;
	/* The samples inside the slope window, for every fit of this update. */
	h->win_n = 1;
	while (h->win_n < h->cap && h->win_n < h->seq &&
	       s->time - h->times[(h->seq - h->win_n) % h->cap] <= h->o.window_s)
		h->win_n++;
	if ((rc = update_procs(h, s)))
		return rc;
	update_ports(h, s);
	if ((rc = update_socks(h, s)))
		return rc;
	rc = finish_set(h, &h->procs, true);
	int rc2 = finish_set(h, &h->ports, false);
	return rc ? rc : rc2;
}

void history_clear(struct history *h)
{
	struct hist_set *sets[] = {&h->procs, &h->ports};

	for (size_t k = 0; k < 2; k++) {
		while (sets[k]->n)
			set_remove(sets[k], sets[k]->n - 1);
	}
	hashtab_reset(&h->socks[0], 0);
	hashtab_reset(&h->socks[1], 0);
	h->seq = 0;
	h->base = h->now = h->prev_time = 0;
}

struct history *history_new(const struct history_opts *o)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	if (o)
		h->o = *o;
	else
		history_opts_default(&h->o);
	double iv = h->o.interval_s > 0 ? h->o.interval_s : 2;
	double want = ceil(h->o.span_s / iv) + 1;
	hashtab_init(&h->socks[0], sizeof(struct sock_age));
	hashtab_init(&h->socks[1], sizeof(struct sock_age));
	h->cap = want > HISTORY_MAX_SAMPLES ? HISTORY_MAX_SAMPLES : want < 16 ? 16 : (uint32_t)want;
	h->times = calloc(h->cap, sizeof(*h->times));
	h->file_nr = calloc(h->cap, sizeof(*h->file_nr));
	h->tbuf = calloc(h->cap, sizeof(*h->tbuf));
	h->vbuf = calloc(h->cap, sizeof(*h->vbuf));
	if (!h->times || !h->file_nr || !h->tbuf || !h->vbuf || set_init(&h->procs, HISTORY_MAX_PROCS, PROC_VALS) ||
	    set_init(&h->ports, HISTORY_MAX_PORTS, PORT_VALS)) {
		history_free(h);
		return NULL;
	}
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	set_free(&h->procs);
	set_free(&h->ports);
	hashtab_free(&h->socks[0]);
	hashtab_free(&h->socks[1]);
	free(h->times);
	free(h->file_nr);
	free(h->tbuf);
	free(h->vbuf);
	free(h->proc_ent);
	free(h->order);
	free(h);
}

/* --- queries ----------------------------------------------------------------- */

static uint64_t port_kb(uint16_t port, unsigned side)
{
	return port | (uint64_t)side << 16;
}

const struct history_stats *history_proc(const struct history *h, int32_t pid, uint64_t start_time)
{
	const struct hist_ent *e = set_find(&h->procs, (uint64_t)pid, start_time);
	return e && e->count ? &e->stats : NULL;
}

const struct history_stats *history_port(const struct history *h, uint64_t netns, uint16_t port, unsigned side)
{
	const struct hist_ent *e = set_find(&h->ports, netns, port_kb(port, side));
	return e && e->count ? &e->stats : NULL;
}

size_t history_proc_series(const struct history *h, int32_t pid, uint64_t start_time, enum history_series which,
			   double *t, double *v, size_t max)
{
	const struct hist_ent *e = set_find(&h->procs, (uint64_t)pid, start_time);
	if (!e || (unsigned)which >= HS_COUNT)
		return 0;
	return ring_series(h, e, PROC_VALS, which, t, v, max);
}

size_t history_port_series(const struct history *h, uint64_t netns, uint16_t port, unsigned side, unsigned state,
			   double *t, double *v, size_t max)
{
	const struct hist_ent *e = set_find(&h->ports, netns, port_kb(port, side));
	if (!e || state < 1 || state >= ST_COUNT)
		return 0;
	return ring_series(h, e, PORT_VALS, state - 1, t, v, max);
}

int history_sock_age(const struct history *h, const struct sock_rec *k, double *age_s, double *state_age_s)
{
	const struct sock_age *n = hashtab_get(&h->socks[h->cur], sock_key(k));

	if (!h->seq || !n)
		return -ENOENT;
	double now = h->now - h->base;
	if (age_s)
		*age_s = now - n->first;
	if (state_age_s)
		*state_age_s = now - n->since;
	return 0;
}

void history_file_stats(const struct history *h, double *growth_per_min, double *eta_s)
{
	size_t n = h->seq < h->cap ? h->seq : h->cap;
	struct leak_fit fit;

	for (size_t i = 0; i < n; i++) {
		uint64_t seq = h->seq + 1 - n + i;
		h->tbuf[i] = h->times[seq % h->cap];
		h->vbuf[i] = h->file_nr[seq % h->cap];
	}
	leak_slope(h->tbuf, h->vbuf, n, h->o.window_s, &fit);
	if (growth_per_min)
		*growth_per_min = fit.valid ? fit.slope_per_min : NAN;
	if (eta_s)
		*eta_s = n ? leak_eta_s(h->vbuf[n - 1], h->file_max ? h->file_max : UINT64_MAX, &fit) : INFINITY;
}

size_t history_memory(const struct history *h)
{
	size_t bytes = sizeof(*h) + 4 * h->cap * sizeof(double) + hashtab_bytes(&h->socks[0]) +
		       hashtab_bytes(&h->socks[1]) + h->proc_ent_cap * sizeof(int32_t) +
		       h->order_cap * sizeof(struct by_weight);
	const struct hist_set *sets[] = {&h->procs, &h->ports};

	for (size_t k = 0; k < 2; k++) {
		bytes += sets[k]->alloc * sizeof(struct hist_ent) + hashtab_bytes(&sets[k]->index);
		for (size_t i = 0; i < sets[k]->n; i++)
			bytes += (size_t)sets[k]->ents[i].cap * sets[k]->nvals * sizeof(uint32_t);
	}
	return bytes;
}
