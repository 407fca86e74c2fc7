/* Ring buffers per process (keyed by pid + start time, so a reused pid starts over)
 * and per port, and a per-socket table of first-seen times: the update and the
 * queries (the figures and verdicts are history_judge.c's). Sockets live in two hash
 * tables swapped each update: no per-socket malloc once they are sized. */
#include "config.h"

#include "model/history.h"
#include "model/history_int.h"
#include "model/vec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

void history_opts_default(struct history_opts *o)
{
	*o = (struct history_opts){.interval_s = 2, .span_s = 3600, .window_s = 300, .forget_s = 120};
	leak_params_default(&o->leak);
}

/* --- sockets ----------------------------------------------------------------- */

static uint64_t sock_key(const struct snapshot *s, const struct sock_rec *k)
{
	uint64_t x = k->cookie;
	if (!x) { /* no cookie: the 4-tuple in its namespace */
		struct sock_ip la = sock_laddr(s, k), ra = sock_raddr(s, k);
		x = mix64(sock_netns(s, k)) ^ ((uint64_t)k->lport << 32 | (uint64_t)k->rport << 16 | k->family);
		if (k->family == AF_UNIX) /* its name and peer */
			memcpy(la.b, &k->un, sizeof(k->un));
		for (int i = 0; i < 16; i += 8) {
			uint64_t a, b;
			memcpy(&a, la.b + i, 8);
			memcpy(&b, ra.b + i, 8);
			x = mix64(x ^ a) ^ mix64(b + (uint64_t)i);
		}
	}
	return x ? x : 1;
}

static void note_host(struct hist_ent *e, const struct snapshot *s, const struct sock_rec *k)
{
	struct sock_ip ra = sock_raddr(s, k);
	const uint8_t *r = ra.b;
	uint32_t hash = (uint32_t)mix64(((uint64_t)r[0] << 24 | r[1] << 16 | r[2] << 8 | r[3]) ^ (uint64_t)r[12] << 40 ^
					(uint64_t)r[15] << 48 ^ (uint64_t)r[8] << 56);
	for (uint32_t i = 0; i < e->nhosts; i++)
		if (e->hosts[i] == hash)
			return;
	if (e->nhosts < MAX_HOSTS)
		e->hosts[e->nhosts++] = hash;
}

/* The port a socket is counted under in the snapshot: its local port if that is a
 * port with history, else its remote port. */
static struct hist_ent *sock_port(const struct history *h, const struct snapshot *s, const struct sock_rec *k)
{
	uint64_t ns = sock_netns(s, k);
	struct hist_ent *e = hist_set_find(&h->ports, ns, k->lport | (uint64_t)SIDE_LOCAL << 16);
	return e ? e : hist_set_find(&h->ports, ns, k->rport | (uint64_t)SIDE_REMOTE << 16);
}

/* An outbound socket: counted under its remote port, or, when that port has no
 * history, an ephemeral local port talking to a service port. */
static bool sock_outbound(const struct hist_ent *port, const struct sock_rec *k)
{
	if (port)
		return (port->kb >> 16) == SIDE_REMOTE;
	return k->lport >= 32768 && k->rport < 32768;
}

/* addr in its IPv4 form when it is an IPv4-mapped IPv6 address: the two ends of one
 * connection, and one peer's sockets of both families, then compare. Returns the family. */
static int plain_addr(int family, const uint8_t *addr, uint8_t out[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	memset(out, 0, 16);
	if (family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		memcpy(out, addr + 12, 4);
		return AF_INET;
	}
	memcpy(out, addr, family == AF_INET6 ? 16 : 4);
	return family;
}

static void note_peer(struct hist_ent *e, const struct snapshot *s, const struct sock_rec *k, bool outbound)
{
	uint8_t addr[16];
	int family = plain_addr(k->family, sock_raddr(s, k).b, addr);

	if (e->peer_n == 2)
		return;
	if (!outbound) {
		e->peer_n = 2;
	} else if (!e->peer_n) {
		e->peer_n = 1;
		e->peer_family = (uint8_t)family;
		e->peer_port = k->rport;
		memcpy(e->peer_addr, addr, 16);
	} else if (e->peer_family != family || e->peer_port != k->rport || memcmp(e->peer_addr, addr, 16)) {
		e->peer_n = 2;
	}
}

/* The connection as the socket's end sees it (mine = true: its own address first),
 * or as its peer sees it. */
static void sock_tuple(const struct snapshot *s, const struct sock_rec *k, bool mine, struct hist_tuple *t)
{
	struct sock_ip la = sock_laddr(s, k), ra = sock_raddr(s, k);

	memset(t, 0, sizeof(*t));
	t->netns = sock_netns(s, k);
	plain_addr(k->family, mine ? la.b : ra.b, t->a);
	plain_addr(k->family, mine ? ra.b : la.b, t->b);
	t->ap = mine ? k->lport : k->rport;
	t->bp = mine ? k->rport : k->lport;
}

static uint64_t tuple_key(const struct hist_tuple *t)
{
	uint64_t x = mix64(t->netns) ^ ((uint64_t)t->ap << 16 | t->bp);
	for (int i = 0; i < 16; i += 8) {
		uint64_t a, b;
		memcpy(&a, t->a + i, 8);
		memcpy(&b, t->b + i, 8);
		x = mix64(x ^ a) ^ mix64(b + (uint64_t)i);
	}
	return x ? x : 1;
}

/* What one socket adds to its process's or port's figures of this update. was_cw: it
 * was in CLOSE_WAIT at the last update too. */
static void note_sock(const struct history *h, struct hist_ent *e, const struct snapshot *s, const struct sock_rec *k,
		      const struct sock_age *a, bool is_new, unsigned new_col, bool outbound, bool was_cw)
{
	if (!e)
		return;
	if (is_new)
		e->cur[new_col]++;
	if (!k->inode && sock_kind_of(k) == SK_TCP && new_col == PORT_NEW) {
		/* The kernel's alone (TIME_WAIT, closed by its process): it times out. */
		e->orphans++;
		if (k->state == ST_FIN_WAIT2) {
			e->orphan_fw2++;
			if (!e->fw2_set)
				sock_tuple(s, k, false, &e->fw2_peer), e->fw2_set = true;
		}
	}
	if (k->state != ST_CLOSE_WAIT)
		return;
	double since = h->base + a->since;
	if (since < e->cw_oldest)
		e->cw_oldest = since, e->cw_oldest_bound = a->bound;
	if (h->now - since >= h->o.leak.suspect_age_s)
		e->cw_old++;
	if (h->now - since >= h->o.leak.churn_age_s)
		e->cw_held++;
	if (was_cw)
		e->cw_stay++;
	if (!outbound)
		e->cw_inbound++;
	if (k->rqueue > 1) /* the FIN itself counts one */
		e->cw_unread++;
	note_host(e, s, k);
	note_peer(e, s, k, outbound);
}

/* Ports whose orphaned FIN_WAIT2 sockets are the far end of a CLOSE_WAIT here: one
 * sample of each port's orphans looked up among the CLOSE_WAIT sockets (a table of at
 * most HISTORY_MAX_PORTS entries; a CLOSE_WAIT socket whose local port no sample
 * names costs one bit test), until every sample has found its peer. */
static int find_mirrors(struct history *h, const struct snapshot *s)
{
	size_t n = 0, found = 0;
	int rc;

	memset(h->mirror_ports, 0, sizeof(h->mirror_ports));
	for (size_t i = 0; i < h->ports.n; i++) {
		const struct hist_ent *e = &h->ports.ents[i];
		if (e->seen && e->fw2_set) {
			n++;
			h->mirror_ports[e->fw2_peer.ap / 64] |= 1ULL << (e->fw2_peer.ap % 64);
		}
	}
	if (!n)
		return 0;
	if ((rc = hashtab_reset(&h->mirrors, n)))
		return rc;
	for (size_t i = 0; i < h->ports.n; i++) {
		const struct hist_ent *e = &h->ports.ents[i];
		bool dup;
		uint32_t *v;
		if (!e->seen || !e->fw2_set)
			continue;
		if (!(v = hashtab_put(&h->mirrors, tuple_key(&e->fw2_peer), &dup)))
			return -ENOMEM;
		*v = (uint32_t)i;
	}
	for (size_t i = 0; i < s->nsocks && found < n; i++) {
		const struct sock_rec *k = &s->socks[i];
		struct hist_tuple t;
		if (k->state != ST_CLOSE_WAIT || !(h->mirror_ports[k->lport / 64] & 1ULL << (k->lport % 64)) ||
		    sock_kind_of(k) != SK_TCP || k->owner < 0 || (size_t)k->owner >= s->nowners)
			continue;
		sock_tuple(s, k, true, &t);
		const uint32_t *v = hashtab_get(&h->mirrors, tuple_key(&t));
		int32_t pi = s->owners[k->owner].proc;
		if (!v || pi < 0 || (size_t)pi >= s->nprocs)
			continue;
		struct hist_ent *e = &h->ports.ents[*v];
		if (e->mirror_pid || memcmp(&e->fw2_peer, &t, sizeof(t)))
			continue;
		e->mirror_pid = s->procs[pi].pid;
		e->mirror_start = s->procs[pi].start_time;
		found++;
	}
	return 0;
}

static bool sock_seen(const void *value, void *ctx)
{
	return ((const struct sock_age *)value)->seen == *(const uint8_t *)ctx;
}

static int update_socks(struct history *h, const struct snapshot *s)
{
	struct hashtab *tab = &h->socks;
	float now = (float)(h->now - h->base);
	uint8_t seen = (uint8_t)h->seq;
	int rc;

	/* Sized once for this many, not grown step by step. The sockets of the last
	 * update that this one does not see stay until the sweep at its end: a table
	 * grown has an eighth to spare for them (hashtab_reserve). */
	if ((rc = hashtab_reserve(tab, s->nsocks)))
		return rc;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		uint64_t key = sock_key(s, k);
		/* The table is far bigger than the cache and the probes random: ask for
		 * the slot of a socket a few places ahead while this one is handled. */
		if (i + 8 < s->nsocks)
			hashtab_prefetch(tab, sock_key(s, &s->socks[i + 8]));
		bool found;
		struct sock_age *n = hashtab_put(tab, key, &found);

		if (!n)
			return -ENOMEM;
		if (found && n->seen == seen) /* the same socket twice in one dump */
			continue;
		bool is_new = !found, was_cw = found && n->state == ST_CLOSE_WAIT;
		if (is_new && k->state_age_ms) {
			/* The kernel says how long it has been in this state at least. */
			float since = now - (float)(k->state_age_ms / 1000.0);
			*n = (struct sock_age){.first = since, .since = since, .state = k->state, .bound = true};
		} else if (is_new) {
			*n = (struct sock_age){.first = now, .since = now};
		}
		n->seen = seen;
		if (n->state != k->state)
			n->since = now, n->bound = false;
		n->state = k->state;
		/* On the first update every socket is new to leaktop, not to the system. */
		is_new = is_new && h->seq > 1;

		struct hist_ent *port = sock_port(h, s, k);
		bool outbound = sock_outbound(port, k);
		if (k->owner >= 0 && (size_t)k->owner < s->nowners) {
			int32_t pi = s->owners[k->owner].proc;
			if (pi >= 0 && (size_t)pi < s->nprocs && h->proc_ent[pi] >= 0)
				note_sock(h, &h->procs.ents[h->proc_ent[pi]], s, k, n, is_new, HS_NEW, outbound, was_cw);
		}
		note_sock(h, port, s, k, n, is_new, PORT_NEW, outbound, was_cw);
	}
	hashtab_sweep(tab, sock_seen, &seen);
	return 0;
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
	e->cw_oldest_bound = false;
	e->cw_unread = e->nhosts = e->cw_old = 0;
	e->cw_stay = e->cw_held = e->cw_inbound = 0;
	e->orphans = e->orphan_fw2 = 0;
	e->fw2_set = false;
	e->mirror_pid = 0;
	e->peer_n = 0;
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

	if (hashtab_get(&st->index, hist_set_key(ka, kb))) /* another entity's key: see hist_set_key */
		return NULL;
	if ((e = hist_set_add(st, ka, kb)))
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
	hashtab_del(&st->index, hist_set_key(e->ka, e->kb));
	free(e->ring);
	memset(e, 0, sizeof(*e));
	e->ka = ka, e->kb = kb;
	*victim = SIZE_MAX;
	/* The index was sized for every entity and the key is free: this cannot fail. */
	if (!hist_set_index(st, (size_t)(e - st->ents)))
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
		struct hist_ent *e = hist_set_find(&h->procs, (uint64_t)p->pid, p->start_time);
		if (!e && !(e = admit(h, &h->procs, (uint64_t)p->pid, p->start_time, h->order[k].weight, &victim)))
			continue;
		if (!e->count) {
			e->self = p->flags & PROC_SELF;
			e->heap_kb = leak_jvm_heap_kb(p->comm, p->cmdline, h->o.phys_kb);
		}
		ent_begin(e, h->now, h->order[k].weight);
		memcpy(e->comm, p->comm, sizeof(e->comm));
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
		struct hist_ent *e = hist_set_find(&h->ports, p->netns, kb);
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
	unsigned cw_col = is_proc ? HS_CLOSE_WAIT : ST_CLOSE_WAIT - 1, fd_col = is_proc ? HS_FDS : PORT_HELD;
	int rc = 0;

	for (size_t i = st->n; i-- > 0;) {
		struct hist_ent *e = &st->ents[i];
		if (!e->seen) {
			if (h->now - e->last_seen > h->o.forget_s)
				hist_set_remove(st, i);
			continue;
		}
		if (!is_proc) { /* what processes hold: every state but the kernel's own */
			uint32_t all = 0;
			for (unsigned k = 0; k + 1 < ST_COUNT; k++)
				all += e->cur[k];
			e->cur[PORT_HELD] = all > e->orphans ? all - e->orphans : 0;
		}
		if (hist_ring_push(e, st->nvals, h->cap, h->seq, e->cur)) {
			rc = -ENOMEM;
			if (!e->count)
				continue;
		}
		for (unsigned c = 0; c < st->nvals; c++)
			if (e->count == 1 || hist_ring_at(e, st->nvals, e->count - 1)[c] !=
						     hist_ring_at(e, st->nvals, e->count - 2)[c])
				e->col_moved[c] = e->last_seq;
		hist_track_low(e, st->nvals, 0, cw_col);
		hist_track_moved(e, st->nvals, 0, cw_col);
		hist_track_low(e, st->nvals, 1, fd_col);
		hist_track_moved(e, st->nvals, 1, fd_col);
		hist_judge(h, e, is_proc);
		if (hist_note_change(h, e, is_proc))
			rc = -ENOMEM;
	}
	return rc;
}

int history_update_begin(struct history *h, const struct snapshot *s)
{
	if (!h->seq)
		h->base = s->time;
	/* The sockets step writes the table, unlocked: readers read the copy kept for
	 * the snapshot on screen meanwhile, if one was (history_keep_ages), or nothing. */
	h->tab.valid = false;
	if (h->kept.ready)
		h->kept.valid = true, h->kept.ready = false;
	else
		history_drop_kept_ages(h);
	h->seq++;
	h->prev_time = h->seq > 1 ? h->now : s->time;
	h->now = s->time;
	h->times[h->seq % h->cap] = s->time;
	h->file_nr[h->seq % h->cap] = (double)s->totals.file_alloc;
	h->file_max = s->totals.file_max;
	hist_track_file_nr(h, (double)s->totals.file_alloc);
	h->nchanges = 0;
	/* The samples inside the slope window, for every fit of this update. */
	h->win_n = 1;
	while (h->win_n < h->cap && h->win_n < h->seq &&
	       s->time - h->times[(h->seq - h->win_n) % h->cap] <= h->o.window_s)
		h->win_n++;
	int rc = update_procs(h, s);
	if (!rc)
		update_ports(h, s);
	return rc;
}

int history_update_socks(struct history *h, const struct snapshot *s)
{
	return update_socks(h, s);
}

int history_update_end(struct history *h, const struct snapshot *s)
{
	h->tab.valid = true, h->tab.tick = s->tick, h->tab.time = s->time, h->tab.n = s->nsocks;
	h->aged_at = h->now;
	int rc = find_mirrors(h, s);
	if (rc)
		return rc;
	rc = finish_set(h, &h->procs, true);
	int rc2 = finish_set(h, &h->ports, false);
	return rc ? rc : rc2;
}

int history_update(struct history *h, const struct snapshot *s)
{
	int rc = history_update_begin(h, s);

	if (!rc)
		rc = history_update_socks(h, s);
	return rc ? rc : history_update_end(h, s);
}

void history_clear(struct history *h)
{
	struct hist_set *sets[] = {&h->procs, &h->ports};

	for (size_t k = 0; k < 2; k++) {
		while (sets[k]->n)
			hist_set_remove(sets[k], sets[k]->n - 1);
	}
	hashtab_reset(&h->socks, 0);
	h->tab.valid = false;
	history_drop_kept_ages(h);
	h->seq = 0;
	h->base = h->now = h->prev_time = h->aged_at = 0;
	h->nchanges = 0;
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
	hashtab_init(&h->socks, sizeof(struct sock_age));
	hashtab_init(&h->mirrors, sizeof(uint32_t));
	h->cap = want > HISTORY_MAX_SAMPLES ? HISTORY_MAX_SAMPLES : want < 16 ? 16 : (uint32_t)want;
	h->times = calloc(h->cap, sizeof(*h->times));
	h->file_nr = calloc(h->cap, sizeof(*h->file_nr));
	h->tbuf = calloc(h->cap, sizeof(*h->tbuf));
	h->vbuf = calloc(h->cap, sizeof(*h->vbuf));
	if (!h->times || !h->file_nr || !h->tbuf || !h->vbuf || hist_set_init(&h->procs, HISTORY_MAX_PROCS, PROC_VALS) ||
	    hist_set_init(&h->ports, HISTORY_MAX_PORTS, PORT_VALS)) {
		history_free(h);
		return NULL;
	}
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	hist_set_free(&h->procs);
	hist_set_free(&h->ports);
	hashtab_free(&h->socks);
	history_drop_kept_ages(h);
	hashtab_free(&h->mirrors);
	free(h->changes);
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
	const struct hist_ent *e = hist_set_find(&h->procs, (uint64_t)pid, start_time);
	return e && e->count ? &e->stats : NULL;
}

const struct history_stats *history_port(const struct history *h, uint64_t netns, uint16_t port, unsigned side)
{
	const struct hist_ent *e = hist_set_find(&h->ports, netns, port_kb(port, side));
	return e && e->count ? &e->stats : NULL;
}

size_t history_proc_series(const struct history *h, int32_t pid, uint64_t start_time, enum history_series which,
			   double *t, double *v, size_t max)
{
	const struct hist_ent *e = hist_set_find(&h->procs, (uint64_t)pid, start_time);
	if (!e || (unsigned)which >= HS_COUNT)
		return 0;
	return hist_ring_series(h, e, PROC_VALS, which, t, v, max);
}

size_t history_port_series(const struct history *h, uint64_t netns, uint16_t port, unsigned side, unsigned state,
			   double *t, double *v, size_t max)
{
	const struct hist_ent *e = hist_set_find(&h->ports, netns, port_kb(port, side));
	if (!e || state < 1 || state >= ST_COUNT)
		return 0;
	return hist_ring_series(h, e, PORT_VALS, state - 1, t, v, max);
}

/* The snapshot of this update is the one readers read: the ages of whose sockets are
 * kept, whether the table is readable for it. */
static bool same_snapshot(const struct snapshot *s, uint64_t tick, double time, size_t n)
{
	return s && s->tick == tick && s->time == time && s->nsocks == n;
}

/* The copy's arrays, freed; not whether readers may read it (that takes the lock). */
static void kept_free(struct hist_ages *a)
{
	free(a->first);
	free(a->since);
	free(a->bound);
	a->first = a->since = NULL;
	a->bound = NULL;
	a->n = a->cap = 0;
	a->ready = false;
}

void history_drop_kept_ages(struct history *h)
{
	h->kept.valid = false;
	kept_free(&h->kept);
}

int history_keep_ages(struct history *h, const struct snapshot *shown)
{
	struct hist_ages *a = &h->kept;
	size_t n = shown ? shown->nsocks : 0;

	/* (A copy readers may be reading is not written: begin then drops it.) */
	if (!h->o.shared_reads || a->valid || !h->tab.valid || !same_snapshot(shown, h->tab.tick, h->tab.time, h->tab.n))
		return 0;
	a->ready = false;
	if (n > a->cap) {
		size_t first_cap = a->cap, since_cap = a->cap, bound_cap = (a->cap + 63) / 64;
		if (vec_resize(&a->first, &first_cap, n, sizeof(*a->first)) ||
		    vec_resize(&a->since, &since_cap, n, sizeof(*a->since)) ||
		    vec_resize(&a->bound, &bound_cap, (n + 63) / 64, sizeof(*a->bound))) {
			kept_free(a);
			return -ENOMEM;
		}
		a->cap = n;
	}
	if (n)
		memset(a->bound, 0, (n + 63) / 64 * sizeof(*a->bound));
	for (size_t i = 0; i < n; i++) {
		if (i + 8 < n)
			hashtab_prefetch(&h->socks, sock_key(shown, &shown->socks[i + 8]));
		const struct sock_age *age = hashtab_get(&h->socks, sock_key(shown, &shown->socks[i]));
		a->first[i] = age ? age->first : NAN; /* (each was in that update) */
		a->since[i] = age ? age->since : NAN;
		if (age && age->bound)
			a->bound[i / 64] |= 1ULL << (i % 64);
	}
	a->tick = shown->tick, a->time = shown->time, a->n = n, a->aged_at = h->aged_at;
	a->ready = true;
	return 0;
}

/* Socket k of s as the last update saw it, and that update's now: from the table, or
 * with shared_reads from the copy kept for s while an update writes the table. */
static bool age_of(const struct history *h, const struct snapshot *s, const struct sock_rec *k, float *first,
		   float *since, bool *bound, double *now)
{
	if (!h->seq)
		return false;
	if (h->o.shared_reads) {
		const struct hist_ages *a = &h->kept;
		if (a->valid && same_snapshot(s, a->tick, a->time, a->n) && k >= s->socks && k < s->socks + s->nsocks) {
			size_t i = (size_t)(k - s->socks);
			*first = a->first[i], *since = a->since[i], *now = a->aged_at;
			*bound = a->bound[i / 64] >> (i % 64) & 1;
			return !isnan(*first);
		}
		if (!h->tab.valid || !same_snapshot(s, h->tab.tick, h->tab.time, h->tab.n))
			return false;
	}
	const struct sock_age *n = hashtab_get(&h->socks, sock_key(s, k));
	if (!n)
		return false;
	*first = n->first, *since = n->since, *bound = n->bound, *now = h->aged_at;
	return true;
}

int history_sock_age(const struct history *h, const struct snapshot *s, const struct sock_rec *k, double *age_s,
		     double *state_age_s)
{
	float first, since;
	bool bound;
	double now;

	if (!age_of(h, s, k, &first, &since, &bound, &now))
		return -ENOENT;
	if (age_s)
		*age_s = now - h->base - first;
	if (state_age_s)
		*state_age_s = now - h->base - since;
	return 0;
}

bool history_sock_age_bound(const struct history *h, const struct snapshot *s, const struct sock_rec *k)
{
	float first, since;
	bool bound;
	double now;

	return age_of(h, s, k, &first, &since, &bound, &now) && bound;
}

size_t history_memory(const struct history *h)
{
	size_t bytes = sizeof(*h) + 4 * h->cap * sizeof(double) + hashtab_bytes(&h->socks) +
		       h->kept.cap * 2 * sizeof(float) + (h->kept.cap + 63) / 64 * sizeof(uint64_t) +
		       h->proc_ent_cap * sizeof(int32_t) +
		       h->order_cap * sizeof(struct by_weight);
	const struct hist_set *sets[] = {&h->procs, &h->ports};

	for (size_t k = 0; k < 2; k++) {
		bytes += sets[k]->alloc * sizeof(struct hist_ent) + hashtab_bytes(&sets[k]->index);
		for (size_t i = 0; i < sets[k]->n; i++)
			bytes += (size_t)sets[k]->ents[i].cap * sets[k]->nvals * sizeof(uint32_t);
	}
	return bytes;
}
