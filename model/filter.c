/* Which rows a view shows: the --pid/--port/--netns filters, and the row lists built
 * with them (processes by fds, the sockets with the most Recv-Q, backlog groups). */
#include "config.h"

#include "model/view.h"
#include "model/snapshot.h"
#include "model/vec.h"
#include "model/hashtab.h"
#include "model/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_list(const char *list, long lo, long hi, long *out, size_t *n, const char *what,
		      char **cause)
{
	const char *p = list;

	while (*p) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || v < lo || v > hi || (*end && *end != ',')) {
			return text_cause(cause, -EINVAL, "bad %s list '%s': expected numbers %ld-%ld separated by commas",
					  what, list, lo, hi);
		}
		if (*n >= VIEW_MAX_KEYS) {
			return text_cause(cause, -EINVAL, "too many %ss (at most %d)", what, VIEW_MAX_KEYS);
		}
		out[(*n)++] = v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

int view_filter_pids(struct view_filter *f, const char *list, char **cause)
{
	long v[VIEW_MAX_KEYS];
	size_t n = 0;
	int rc = parse_list(list, 1, 0x7fffffff, v, &n, "pid", cause);

	for (size_t i = 0; !rc && i < n && f->npids < VIEW_MAX_KEYS; i++)
		f->pids[f->npids++] = (int32_t)v[i];
	return rc;
}

int view_filter_ports(struct view_filter *f, const char *list, char **cause)
{
	long v[VIEW_MAX_KEYS];
	size_t n = 0;
	int rc = parse_list(list, 0, 65535, v, &n, "port", cause);

	for (size_t i = 0; !rc && i < n && f->nports < VIEW_MAX_KEYS; i++)
		f->ports[f->nports++] = (uint16_t)v[i];
	return rc;
}

int view_filter_netns(struct view_filter *f, const char *list, char **cause)
{
	long v[VIEW_MAX_KEYS];
	size_t n = 0;
	int rc = parse_list(list, 1, 0x7fffffffffffffffL, v, &n, "netns", cause);

	for (size_t i = 0; !rc && i < n && f->nnetns < VIEW_MAX_KEYS; i++)
		f->netns[f->nnetns++] = (uint64_t)v[i];
	return rc;
}

static bool has_netns(const struct view_filter *f, uint64_t netns)
{
	if (!f->nnetns)
		return true;
	for (size_t i = 0; i < f->nnetns; i++)
		if (f->netns[i] == netns)
			return true;
	return false;
}

static bool has_pid(const struct view_filter *f, int32_t pid)
{
	for (size_t i = 0; i < f->npids; i++)
		if (f->pids[i] == pid)
			return true;
	return false;
}

static bool has_port(const struct view_filter *f, uint16_t port)
{
	for (size_t i = 0; i < f->nports; i++)
		if (f->ports[i] == port)
			return true;
	return false;
}

bool view_sock_match(const struct view_filter *f, const struct snapshot *s, const struct sock_rec *k)
{
	if (f->nports && !has_port(f, k->lport) && !has_port(f, k->rport))
		return false;
	if (!has_netns(f, sock_netns(s, k)))
		return false;
	if (f->npids) {
		/* A socket shared by several processes (after fork) goes by its first holder,
		 * the lowest pid, as everywhere else in leaktop. */
		const struct proc_rec *p = snapshot_sock_proc(s, k);
		if (!p || !has_pid(f, p->pid))
			return false;
	}
	return true;
}

bool view_proc_match(const struct view_filter *f, const struct snapshot *s, const struct proc_rec *p)
{
	if (f->npids && !has_pid(f, p->pid))
		return false;
	if (!has_netns(f, p->netns))
		return false;
	if (f->nports) {
		for (uint32_t i = 0; i < p->owner_count; i++) {
			const struct sock_owner *o = &s->owners[p->owner_first + i];
			if (o->sock >= 0 && (has_port(f, s->socks[o->sock].lport) ||
					     has_port(f, s->socks[o->sock].rport)))
				return true;
		}
		return false;
	}
	return true;
}

bool view_port_match(const struct view_filter *f, const struct port_agg *p)
{
	if (f->nports && !has_port(f, p->port))
		return false;
	if (!has_netns(f, p->netns))
		return false;
	if (f->npids) {
		for (uint32_t i = 0; i < p->npids; i++)
			if (has_pid(f, p->pids[i]))
				return true;
		return false;
	}
	return true;
}

bool view_port_side_shown(enum view_port_sides sides, const struct port_agg *p)
{
	return sides == VIEW_PORTS_BOTH || (sides == VIEW_PORTS_REMOTE) == (p->side == SIDE_REMOTE);
}

size_t view_ports(const struct snapshot *s, const struct view_filter *f, const struct view_query *q,
		  enum view_port_sides sides, uint32_t *idx)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nports; i++) {
		const struct port_agg *p = &s->ports[i];
		if (view_port_side_shown(sides, p) && (!f || view_port_match(f, p)) && view_query_port(q, s, p))
			idx[n++] = (uint32_t)i;
	}
	return n;
}

/* The backlog order: Recv-Q descending, then inode, then cookie. Total, so the
 * sockets listed do not depend on the order of the dump (a replay has another). */
static bool backlog_before(const struct sock_rec *x, const struct sock_rec *y)
{
	if (x->rqueue != y->rqueue)
		return x->rqueue > y->rqueue;
	if (x->inode != y->inode)
		return x->inode < y->inode;
	return x->cookie < y->cookie;
}

/* A bounded heap with the last of the top `max` at its root: the top of 150k
 * sockets without sorting them all. */
static void heap_sift_down(const struct snapshot *s, uint32_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && backlog_before(&s->socks[h[m]], &s->socks[h[l]]))
			m = l;
		if (l + 1 < n && backlog_before(&s->socks[h[m]], &s->socks[h[l + 1]]))
			m = l + 1;
		if (m == i)
			return;
		uint32_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static const struct snapshot *cmp_snap;

static int cmp_backlog(const void *a, const void *b)
{
	const struct sock_rec *x = &cmp_snap->socks[*(const uint32_t *)a];
	const struct sock_rec *y = &cmp_snap->socks[*(const uint32_t *)b];
	return backlog_before(x, y) ? -1 : backlog_before(y, x) ? 1 : 0;
}

size_t view_backlog(const struct snapshot *s, const struct view_filter *f, uint32_t *idx, size_t max)
{
	size_t n = 0;

	if (!max)
		return 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		if (!k->rqueue || (f && !view_sock_match(f, s, k)))
			continue;
		if (n < max) {
			idx[n++] = (uint32_t)i;
			if (n == max)
				for (size_t j = n / 2; j-- > 0;)
					heap_sift_down(s, idx, n, j);
		} else if (backlog_before(k, &s->socks[idx[0]])) {
			idx[0] = (uint32_t)i;
			heap_sift_down(s, idx, n, 0);
		}
	}
	cmp_snap = s;
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_backlog);
	return n;
}

static int cmp_fds(const void *a, const void *b)
{
	const struct proc_rec *x = &cmp_snap->procs[*(const uint32_t *)a];
	const struct proc_rec *y = &cmp_snap->procs[*(const uint32_t *)b];
	if (x->fds != y->fds)
		return x->fds < y->fds ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t view_procs_by_fds(const struct snapshot *s, const struct view_filter *f, uint32_t *idx)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nprocs; i++)
		if (!f || view_proc_match(f, s, &s->procs[i]))
			idx[n++] = (uint32_t)i;
	cmp_snap = s;
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_fds);
	return n;
}

/* --- The backlog ----------------------------------------------------------------- */

static int grow(void *arrp, size_t *cap, size_t need, size_t size)
{
	return vec_reserve_min(arrp, cap, need, size, 64);
}

static int32_t sock_proc_index(const struct snapshot *s, const struct sock_rec *k)
{
	return k->owner >= 0 && (size_t)k->owner < s->nowners ? s->owners[k->owner].proc : -1;
}

/* One socket of the backlog while it is grouped: which group it falls in, found
 * through a hash of the group's key, so grouping 1M sockets is one pass, not a sort. */
struct bl_ent {
	uint32_t sock;
	uint32_t group;
};

/* A port that listens: (netns, port, proto), sorted for bsearch. */
struct bl_listen {
	uint64_t netns;
	uint16_t port;
	uint8_t proto;
};

static int cmp_listen(const void *a, const void *b)
{
	const struct bl_listen *x = a, *y = b;
	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	return (x->proto > y->proto) - (x->proto < y->proto);
}

static bool listens(const struct view_backlog *b, uint64_t netns, uint16_t port, uint8_t proto)
{
	struct bl_listen key = {.netns = netns, .port = port, .proto = proto};
	return b->nlisten && bsearch(&key, b->listen, b->nlisten, sizeof(key), cmp_listen);
}

/* The side a socket counts under, as in snapshot.ports: outbound ones (a client's)
 * are grouped by remote endpoint. Sockets without ports are inbound. */
static uint8_t bl_side(const struct view_backlog *b, const struct snapshot *s, const struct sock_rec *k)
{
	enum sock_kind kind = sock_kind_of(k);
	if (kind != SK_TCP && kind != SK_UDP)
		return SIDE_LOCAL;
	uint64_t ns = sock_netns(s, k);
	return (uint8_t)sock_port_side(k, listens(b, ns, k->lport, k->proto), listens(b, ns, k->rport, k->proto));
}

/* The group a socket falls in: its owner, then local port (inbound) or remote
 * address and port (outbound). This is also the order of b->groups. */
static int cmp_bl_group(const struct view_bl_group *x, const struct view_bl_group *y)
{
	if (x->proc != y->proc)
		return x->proc < y->proc ? -1 : 1;
	if (x->side != y->side)
		return x->side < y->side ? -1 : 1;
	if (x->side == SIDE_REMOTE) {
		if (x->family != y->family)
			return x->family < y->family ? -1 : 1;
		int r = memcmp(x->raddr, y->raddr, sizeof(x->raddr));
		if (r)
			return r;
	}
	return (x->port > y->port) - (x->port < y->port);
}

static int cmp_bl_group_v(const void *a, const void *b)
{
	return cmp_bl_group(a, b);
}

static uint64_t bl_group_hash(const struct view_bl_group *g)
{
	uint64_t h = mix64((uint64_t)(uint32_t)g->proc << 32 | (uint64_t)g->side << 24 | (uint64_t)g->family << 16 |
			   g->port);
	for (size_t i = 0; g->side == SIDE_REMOTE && i < sizeof(g->raddr); i += 8) {
		uint64_t w;
		memcpy(&w, g->raddr + i, sizeof(w));
		h = mix64(h ^ w);
	}
	return h;
}

/* The listening ports of every netns, from the port aggregates. */
static int bl_listen_build(struct view_backlog *b, const struct snapshot *s)
{
	b->nlisten = 0;
	for (size_t i = 0; i < s->nports; i++) {
		const struct port_agg *p = &s->ports[i];
		if (p->side != SIDE_LOCAL || !p->states[ST_LISTEN])
			continue;
		if (grow(&b->listen, &b->listen_cap, b->nlisten + 1, sizeof(*b->listen)))
			return -ENOMEM;
		b->listen[b->nlisten++] = (struct bl_listen){.netns = p->netns, .port = p->port, .proto = p->proto};
	}
	if (b->nlisten)
		qsort(b->listen, b->nlisten, sizeof(*b->listen), cmp_listen);
	return 0;
}

/* The group of socket k (a new one, counted from zero, when it is the first): its
 * index in b->groups, or -1 when out of memory. */
static int64_t bl_group_of(struct view_backlog *b, const struct snapshot *s, const struct sock_rec *k)
{
	struct view_bl_group key = {.proc = sock_proc_index(s, k), .side = bl_side(b, s, k)};
	bool found;

	key.port = key.side == SIDE_LOCAL ? k->lport : k->rport;
	if (key.side == SIDE_REMOTE) {
		key.family = k->family;
		memcpy(key.raddr, sock_raddr(s, k).b, sizeof(key.raddr));
	}
	/* Another group with the same hash: the next key along, until ours or a free one. */
	for (uint64_t h = bl_group_hash(&key);; h = mix64(h + 1)) {
		uint32_t *v = hashtab_put(&b->index, h, &found);
		if (!v)
			return -1;
		if (found && cmp_bl_group(&b->groups[*v], &key))
			continue;
		if (found)
			return *v;
		if (grow(&b->groups, &b->groups_cap, b->ngroups + 1, sizeof(*b->groups))) {
			hashtab_del(&b->index, h);
			return -1;
		}
		*v = (uint32_t)b->ngroups;
		b->groups[b->ngroups] = key;
		return (int64_t)b->ngroups++;
	}
}

int view_backlog_build(struct view_backlog *b, const struct snapshot *s, const struct view_filter *f,
		       const struct view_query *q)
{
	size_t n = 0;

	b->nsocks = b->ngroups = 0;
	if (!b->index.vsize)
		hashtab_init(&b->index, sizeof(uint32_t));
	if (bl_listen_build(b, s) || hashtab_reset(&b->index, 64))
		return -ENOMEM;
	/* One pass: each socket into its group, the groups' figures summed. */
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		if (!k->rqueue || k->state == ST_LISTEN || (f && !view_sock_match(f, s, k)) || !view_query_sock(q, s, k))
			continue;
		int64_t gi = bl_group_of(b, s, k);
		if (gi < 0 || grow(&b->ents, &b->ents_cap, n + 1, sizeof(*b->ents)))
			return -ENOMEM;
		b->ents[n++] = (struct bl_ent){.sock = (uint32_t)i, .group = (uint32_t)gi};
		struct view_bl_group *g = &b->groups[gi];
		g->count++;
		g->recv_q += k->rqueue;
		g->send_q += k->wqueue;
		if (k->rqueue > g->max_q)
			g->max_q = k->rqueue;
	}
	if (!n) /* b->socks is NULL until the first socket with a backlog */
		return 0;
	if (grow(&b->socks, &b->socks_cap, n, sizeof(*b->socks)) ||
	    grow(&b->order, &b->order_cap, b->ngroups, sizeof(*b->order)))
		return -ENOMEM;
	/* The groups in their order (few: one per owner and port), each its place in
	 * b->socks; then each socket into its group's place, in the snapshot's order. */
	for (size_t i = 0; i < b->ngroups; i++)
		b->groups[i].first = (uint32_t)i; /* where it was, while they are sorted */
	qsort(b->groups, b->ngroups, sizeof(*b->groups), cmp_bl_group_v);
	uint32_t at = 0;
	for (size_t i = 0; i < b->ngroups; i++) {
		b->order[b->groups[i].first] = (uint32_t)i;
		b->groups[i].first = at;
		b->groups[i].ordered = 0;
		at += b->groups[i].count;
	}
	for (size_t i = 0; i < n; i++) {
		struct view_bl_group *g = &b->groups[b->order[b->ents[i].group]];
		b->socks[g->first + g->ordered++] = b->ents[i].sock;
	}
	for (size_t i = 0; i < b->ngroups; i++)
		b->groups[i].ordered = 0;
	b->nsocks = n;
	/* Scratch: not held beside the next refresh (4 MB at half a million sockets with
	 * a backlog, while the worker joins a million). */
	free(b->ents);
	b->ents = NULL;
	b->ents_cap = 0;
	return 0;
}

/* The order of a group's sockets: Recv-Q descending, then inode, then the
 * snapshot's order (arg: the snapshot). */
static bool bl_sock_before(const void *arg, uint32_t a, uint32_t b)
{
	const struct snapshot *s = arg;
	const struct sock_rec *x = &s->socks[a], *y = &s->socks[b];
	if (x->rqueue != y->rqueue)
		return x->rqueue > y->rqueue;
	if (x->inode != y->inode)
		return x->inode < y->inode;
	return a < b;
}

size_t view_backlog_rank(const struct view_backlog *b, const struct snapshot *s, size_t group, uint32_t sock)
{
	const struct view_bl_group *g = &b->groups[group];
	size_t rank = 0;

	for (uint32_t i = 0; i < g->count; i++)
		rank += bl_sock_before(s, b->socks[g->first + i], sock);
	return rank;
}

void view_backlog_order(struct view_backlog *b, const struct snapshot *s, size_t group, size_t k)
{
	struct view_bl_group *g = &b->groups[group];

	if (k > g->count)
		k = g->count;
	if (k <= g->ordered)
		return;
	/* Those ordered so far stay: the next ones are the first of the rest. */
	view_select(b->socks + g->first + g->ordered, g->count - g->ordered, k - g->ordered, bl_sock_before, s);
	g->ordered = (uint32_t)k;
}

void view_backlog_free(struct view_backlog *b)
{
	if (!b)
		return;
	free(b->socks);
	free(b->groups);
	free(b->ents);
	free(b->listen);
	free(b->order);
	hashtab_free(&b->index);
	memset(b, 0, sizeof(*b));
}
