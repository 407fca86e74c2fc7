/* Building one snapshot: de-duplicating the dump, joining sockets to their owners by
 * inode, and aggregating per process, per port and for the whole system. */
#include "config.h"

#include "model/snapshot.h"
#include "model/hashtab.h"
#include "model/text.h"
#include "model/vec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const struct {
	const char *name, *abbrev;
} state_names[ST_COUNT] = {
	[ST_UNKNOWN] = {"UNKNOWN", "?"},
	[ST_ESTABLISHED] = {"ESTABLISHED", "E"},
	[ST_SYN_SENT] = {"SYN_SENT", "SS"},
	[ST_SYN_RECV] = {"SYN_RECV", "SR"},
	[ST_FIN_WAIT1] = {"FIN_WAIT1", "F1"},
	[ST_FIN_WAIT2] = {"FIN_WAIT2", "F2"},
	[ST_TIME_WAIT] = {"TIME_WAIT", "T"},
	[ST_CLOSE] = {"CLOSE", "C"},
	[ST_CLOSE_WAIT] = {"CLOSE_WAIT", "W"},
	[ST_LAST_ACK] = {"LAST_ACK", "LA"},
	[ST_LISTEN] = {"LISTEN", "L"},
	[ST_CLOSING] = {"CLOSING", "CG"},
	[ST_NEW_SYN_RECV] = {"NEW_SYN_RECV", "NS"},
	[ST_CLOSED_FD] = {"CLOSED", "X"},
};
_Static_assert(sizeof(state_names) / sizeof(state_names[0]) == ST_COUNT, "a name per state");

const char *sk_state_name(unsigned state)
{
	return state < ST_COUNT ? state_names[state].name : state_names[ST_UNKNOWN].name;
}

const char *sk_state_abbrev(unsigned state)
{
	return state < ST_COUNT ? state_names[state].abbrev : state_names[ST_UNKNOWN].abbrev;
}

int sk_state_parse(const char *name)
{
	char norm[32];
	size_t i;

	for (i = 0; name[i] && i + 1 < sizeof(norm); i++)
		norm[i] = name[i] == '-' ? '_' : name[i];
	norm[i] = '\0';
	if (!strcasecmp(norm, "estab"))
		return ST_ESTABLISHED;
	for (unsigned st = 1; st < ST_COUNT; st++)
		if (!strcasecmp(norm, state_names[st].name))
			return (int)st;
	return -1;
}

_Static_assert(sizeof(struct sock_rec) <= 88, "150k sock_recs must stay small");

enum sock_kind sock_kind_of(const struct sock_rec *k)
{
	if (k->family == AF_UNIX)
		return SK_UNIX;
	if (k->family == AF_INET || k->family == AF_INET6)
		/* 0 counts as TCP: what records made before UDP was dumped hold. */
		return k->proto == IPPROTO_UDP ? SK_UDP : k->proto == IPPROTO_TCP || !k->proto ? SK_TCP : SK_OTHER;
	return SK_OTHER;
}

const char *sock_proto_name(const struct sock_rec *k)
{
	switch (k->family) {
	case AF_UNIX:
		return "unix";
	case AF_NETLINK:
		return "netlink";
	case AF_PACKET:
		return "packet";
	}
	if (k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6)
		return "icmp";
	return k->proto == IPPROTO_UDP ? "udp" : k->proto == IPPROTO_TCP || !k->proto ? "tcp" : "raw";
}

/* Tables from a 64-bit key to an index (int32_t), made for one build and freed at
 * its end (a dashboard holds two snapshots and the history beside a build): the keys
 * seen twice in the dump, the owners' inodes for the join, the listening ports and
 * the ports, the CLOSED inodes. None holds every socket: at a million sockets, half of
 * them owned, the biggest is the owners' (9 MB; one by socket took 18). */
struct build_tables {
	struct hashtab twice, by_inode, listen, ports, closed;
};

/* The index stored under key, or -1. */
static int32_t table_get(const struct hashtab *t, uint64_t key)
{
	const int32_t *v = hashtab_get(t, key);
	return v ? *v : -1;
}

struct snapshot *snapshot_new(void)
{
	return calloc(1, sizeof(struct snapshot));
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	free(s->socks);
	free(s->procs);
	free(s->owners);
	free(s->ports);
	free(s->netns);
	free(s->names);
	free(s->sock_ns);
	free(s->addr6);
	free(s);
}

void snapshot_clear(struct snapshot *s)
{
	s->nsocks = s->nprocs = s->nowners = s->nports = s->nnetns = 0;
	s->names_len = s->nsock_ns = s->naddr6 = 0;
	s->closed_valid = s->netns_limited = s->owners_pending = false;
	s->time = s->refresh_ms = 0;
	s->tick = 0;
	memset(&s->totals, 0, sizeof(s->totals));
	s->status[0] = '\0';
}

struct sock_rec *snapshot_add_sock(struct snapshot *s)
{
	struct sock_rec *k = VEC_PUSH(s->socks, s->nsocks, s->socks_cap);
	if (k)
		k->owner = -1;
	return k;
}

struct proc_rec *snapshot_add_proc(struct snapshot *s)
{
	return VEC_PUSH(s->procs, s->nprocs, s->procs_cap);
}

struct sock_owner *snapshot_add_owner(struct snapshot *s)
{
	struct sock_owner *o = VEC_PUSH(s->owners, s->nowners, s->owners_cap);
	if (o)
		o->sock = -1;
	return o;
}

/* A dump adds one namespace's sockets in a run: the namespace is the last one added,
 * or near it, so the search starts there. */
int snapshot_sock_set_netns(struct snapshot *s, struct sock_rec *k, uint64_t netns)
{
	for (size_t i = s->nsock_ns; i-- > 0;) {
		if (s->sock_ns[i] == netns) {
			k->ns = (uint16_t)i;
			return 0;
		}
	}
	if (s->nsock_ns >= SNAPSHOT_SOCK_NS_MAX)
		return -E2BIG;
	uint64_t *n = VEC_PUSH(s->sock_ns, s->nsock_ns, s->sock_ns_cap);
	if (!n)
		return -ENOMEM;
	*n = netns;
	k->ns = (uint16_t)(s->nsock_ns - 1);
	return 0;
}

int snapshot_sock_set_addrs(struct snapshot *s, struct sock_rec *k, const uint8_t laddr[16],
			    const uint8_t raddr[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	k->mapped = 0;
	if (k->family == AF_INET) {
		memcpy(k->v4.l, laddr, 4);
		memcpy(k->v4.r, raddr, 4);
	} else if (k->family == AF_INET6 && !memcmp(laddr, mapped, 12) && !memcmp(raddr, mapped, 12)) {
		k->mapped = 1;
		memcpy(k->v4.l, laddr + 12, 4);
		memcpy(k->v4.r, raddr + 12, 4);
	} else if (k->family == AF_INET6) {
		static const uint8_t any[16];
		struct sock_addr6 *a;
		k->v6 = 0;
		if (!memcmp(laddr, any, 16) && !memcmp(raddr, any, 16))
			return 0;
		if (s->naddr6 >= UINT32_MAX - 1 || !(a = VEC_PUSH(s->addr6, s->naddr6, s->addr6_cap)))
			return -ENOMEM;
		memcpy(a->l, laddr, 16);
		memcpy(a->r, raddr, 16);
		k->v6 = (uint32_t)s->naddr6;
	}
	return 0;
}

static size_t netns_lower(const struct snapshot *s, uint64_t inode)
{
	size_t lo = 0, hi = s->nnetns;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->netns[mid].inode < inode)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct netns_rec *snapshot_find_netns(const struct snapshot *s, uint64_t inode)
{
	size_t i = netns_lower(s, inode);
	return i < s->nnetns && s->netns[i].inode == inode ? &s->netns[i] : NULL;
}

/* Kept sorted on insert: a refresh has a few, a container host a few hundred. */
struct netns_rec *snapshot_add_netns(struct snapshot *s, uint64_t inode, bool dumped)
{
	size_t i = netns_lower(s, inode);

	if (i < s->nnetns && s->netns[i].inode == inode) {
		s->netns[i].dumped |= dumped;
		return &s->netns[i];
	}
	if (!VEC_PUSH(s->netns, s->nnetns, s->netns_cap))
		return NULL;
	memmove(&s->netns[i + 1], &s->netns[i], (s->nnetns - 1 - i) * sizeof(*s->netns));
	memset(&s->netns[i], 0, sizeof(*s->netns));
	s->netns[i].inode = inode;
	s->netns[i].dumped = dumped;
	return &s->netns[i];
}

/* Room for need more bytes after the names stored so far (offset 0 is ""): returns
 * where they go, or 0 on ENOMEM. */
static size_t names_reserve(struct snapshot *s, size_t need)
{
	size_t start = s->names_len ? s->names_len : 1;

	if (need > UINT32_MAX || start + need > UINT32_MAX ||
	    vec_reserve_min(&s->names, &s->names_cap, start + need, 1, 4096))
		return 0;
	s->names[0] = '\0';
	return start;
}

uint32_t snapshot_add_name_text(struct snapshot *s, const char *text)
{
	size_t len = strlen(text), start;

	if (!len || !(start = names_reserve(s, len + 1)))
		return 0;
	memcpy(s->names + start, text, len + 1);
	s->names_len = start + len + 1;
	return (uint32_t)start;
}

uint32_t snapshot_add_name(struct snapshot *s, const char *name, size_t len)
{
	/* Escaping can grow a byte to four ("\x00"), plus '@' and the NUL. */
	size_t need = len * 4 + 2, start;

	if (!len || !(start = names_reserve(s, need)))
		return 0;
	char *dst = s->names + start;
	size_t o = 0;
	if (name[0] == '\0') { /* abstract: ss writes these with '@' */
		dst[o++] = '@';
		name++, len--;
	} else { /* a path ends at its NUL: the kernel's terminator is no part of the name */
		len = strnlen(name, len);
	}
	dst[o] = '\0'; /* "@" alone: the loop below writes nothing */
	/* text_escape stops at a NUL; an abstract name may hold more of them. */
	while (len) {
		size_t n = strnlen(name, len);
		o += text_escape(dst + o, need - o, name, n);
		if (n == len)
			break;
		memcpy(dst + o, "\\x00", 4);
		o += 4;
		dst[o] = '\0';
		name += n + 1, len -= n + 1;
	}
	s->names_len = start + o + 1;
	return (uint32_t)start;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int cmp_owner(const void *a, const void *b)
{
	const struct sock_owner *x = a, *y = b;
	if (x->proc != y->proc)
		return (x->proc > y->proc) - (x->proc < y->proc);
	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Owners by process, then fd. procscan hands them over in order, but for those of
 * the processes its recheck read again, appended in order of their own: that run is
 * merged in from the back through a copy of it alone, not sorted with a copy of all
 * (qsort's: 8 MB at half a million socket fds, at the dashboard's peak). Anything
 * else is sorted. */
static void sort_owners(struct snapshot *s)
{
	struct sock_owner *o = s->owners;
	size_t n = s->nowners, cut = 1, end;

	while (cut < n && cmp_owner(&o[cut - 1], &o[cut]) <= 0)
		cut++;
	if (cut >= n)
		return;
	for (end = cut + 1; end < n && cmp_owner(&o[end - 1], &o[end]) <= 0; end++)
		;
	size_t m = n - cut;
	struct sock_owner *run = end == n && m <= n / 2 ? malloc(m * sizeof(*run)) : NULL;
	if (!run) {
		qsort(o, n, sizeof(*o), cmp_owner);
		return;
	}
	memcpy(run, o + cut, m * sizeof(*run));
	for (size_t i = cut, w = n; m > 0;)
		o[--w] = i > 0 && cmp_owner(&o[i - 1], &run[m - 1]) > 0 ? o[--i] : run[--m];
	free(run);
}

int port_agg_cmp(const void *a, const void *b)
{
	const struct port_agg *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->netns != y->netns)
		return x->netns < y->netns ? -1 : 1;
	return (x->side > y->side) - (x->side < y->side);
}

/* Drop sockets seen twice in one dump (a dump is not atomic): same cookie, same
 * netns; the first stays. Exact, without a table of every socket: a bitmap of 16 bits
 * a socket (2 MB at a million) marks the keys seen, and only a key whose bit was set
 * already (a duplicate, or another key on the same bit: a few in a hundred) goes into
 * a table, which a second pass checks every socket against. */
static uint64_t dedup_key(const struct snapshot *s, const struct sock_rec *k)
{
	return k->cookie ^ mix64(sock_netns(s, k));
}

static int dedup_socks(struct snapshot *s, struct hashtab *twice)
{
	size_t nbits = 64;
	bool found;
	int rc;

	while (nbits < 16 * s->nsocks)
		nbits *= 2;
	uint64_t *bits = calloc(nbits / 64, sizeof(*bits));
	if (!bits || (rc = hashtab_reset(twice, s->nsocks / 8))) {
		free(bits);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->nsocks; i++) {
		uint64_t key = dedup_key(s, &s->socks[i]);
		uint64_t bit = mix64(key) & (nbits - 1), mask = 1ULL << (bit % 64);
		if (!(bits[bit / 64] & mask))
			bits[bit / 64] |= mask;
		else if (!hashtab_put(twice, key, &found))
			rc = -ENOMEM;
	}
	free(bits);
	if (rc || !twice->used)
		return rc;
	size_t out = 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		int32_t *seen = hashtab_get(twice, dedup_key(s, &s->socks[i]));
		if (seen && (*seen)++)
			continue;
		s->socks[out++] = s->socks[i];
	}
	s->nsocks = out;
	return 0;
}

static uint64_t port_key(uint64_t netns, uint16_t port, unsigned side, unsigned proto)
{
	return mix64(netns) ^ ((uint64_t)proto << 17 | (uint64_t)port << 1 | side);
}

/* Ephemeral ports the kernel hands to clients (net.ipv4.ip_local_port_range default). */
static bool ephemeral(uint16_t port)
{
	return port >= 32768 && port <= 60999;
}

enum port_side sock_port_side(const struct sock_rec *k, bool lport_listens, bool rport_listens)
{
	if (k->state == ST_LISTEN || !k->rport || lport_listens)
		return SIDE_LOCAL;
	/* A connection to a port that listens here: the client's end (a loopback leak's
	 * orphaned FIN_WAIT2 peers), whatever the port numbers. */
	if (rport_listens)
		return SIDE_REMOTE;
	if (ephemeral(k->lport) != ephemeral(k->rport))
		return ephemeral(k->lport) ? SIDE_REMOTE : SIDE_LOCAL;
	return k->lport <= k->rport ? SIDE_LOCAL : SIDE_REMOTE;
}

static enum port_side sock_side(const struct snapshot *s, const struct sock_rec *k, const struct hashtab *listen)
{
	uint64_t ns = sock_netns(s, k);

	return sock_port_side(k, table_get(listen, port_key(ns, k->lport, 0, k->proto)) != -1,
			      table_get(listen, port_key(ns, k->rport, 0, k->proto)) != -1);
}

static void port_add_pid(struct port_agg *p, int32_t pid)
{
	for (uint32_t i = 0; i < p->npids; i++)
		if (p->pids[i] == pid)
			return;
	if (p->npids < PORT_MAX_PIDS)
		p->pids[p->npids++] = pid;
	else
		p->pids_truncated = true;
}

/* Ports are TCP and UDP ones: UNIX, NETLINK, PACKET and RAW sockets have none. */
static bool has_port(const struct sock_rec *k)
{
	enum sock_kind kind = sock_kind_of(k);
	return kind == SK_TCP || kind == SK_UDP;
}

static int build_ports(struct snapshot *s, struct build_tables *x)
{
	size_t nlisten = 0;
	bool found;
	int rc;

	for (size_t i = 0; i < s->nsocks; i++)
		nlisten += s->socks[i].state == ST_LISTEN;
	/* Ports are few next to sockets: start small, the table grows. */
	if ((rc = hashtab_reset(&x->listen, nlisten)) || (rc = hashtab_reset(&x->ports, nlisten + 256)))
		return rc;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		int32_t *v;
		if (k->state != ST_LISTEN || !has_port(k))
			continue;
		if (!(v = hashtab_put(&x->listen, port_key(sock_netns(s, k), k->lport, 0, k->proto), &found)))
			return -ENOMEM;
		*v = 1;
	}
	s->nports = 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		if (!has_port(k))
			continue;
		enum port_side side = sock_side(s, k, &x->listen);
		uint16_t port = side == SIDE_LOCAL ? k->lport : k->rport;
		int32_t *v = hashtab_put(&x->ports, port_key(sock_netns(s, k), port, side, k->proto), &found);
		struct port_agg *p;

		if (!v)
			return -ENOMEM;
		if (!found) {
			p = VEC_PUSH(s->ports, s->nports, s->ports_cap);
			if (!p)
				return -ENOMEM;
			p->netns = sock_netns(s, k);
			p->port = port;
			p->side = side;
			p->proto = k->proto;
			*v = (int32_t)(s->nports - 1);
		} else {
			p = &s->ports[*v];
		}
		p->count++;
		p->states[k->state < ST_CLOSED_FD ? k->state : ST_UNKNOWN]++;
		if (k->state == ST_LISTEN) {
			p->accept_q += k->rqueue;
			p->accept_max += k->wqueue;
		} else {
			p->recv_q += k->rqueue;
		}
		const struct proc_rec *owner = snapshot_sock_proc(s, k);
		if (owner)
			port_add_pid(p, owner->pid);
	}
	if (s->nports)
		qsort(s->ports, s->nports, sizeof(*s->ports), port_agg_cmp);
	return 0;
}

/* A kernel state as a histogram slot: ST_CLOSED_FD is never a kernel's. */
static unsigned state_slot(unsigned state)
{
	return state < ST_CLOSED_FD ? state : ST_UNKNOWN;
}

int snapshot_build(struct snapshot *s)
{
	return snapshot_build_checked(s, NULL, NULL);
}

static int build(struct snapshot *s, snapshot_fd_check check, void *ctx, struct build_tables *x);

int snapshot_build_checked(struct snapshot *s, snapshot_fd_check check, void *ctx)
{
	struct build_tables x;
	struct hashtab *all[] = {&x.twice, &x.by_inode, &x.listen, &x.ports, &x.closed};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		hashtab_init(all[i], sizeof(int32_t));
	int rc = build(s, check, ctx, &x);
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		hashtab_free(all[i]);
	return rc;
}

static int build(struct snapshot *s, snapshot_fd_check check, void *ctx, struct build_tables *x)
{
	bool found;
	int rc;

	if ((rc = dedup_socks(s, &x->twice)))
		return rc;
	hashtab_free(&x->twice);

	/* The join: the owners' inodes -> their socket, then each owner fd -> its socket.
	 * Inodes are global (sockfs), so this holds across network namespaces. With no
	 * owners (the first frame's preview, from the dump alone) the table stays empty. */
	if ((rc = hashtab_reset(&x->by_inode, s->nowners)))
		return rc;
	for (size_t i = 0; i < s->nowners; i++) {
		if (i + 8 < s->nowners)
			hashtab_prefetch(&x->by_inode, s->owners[i + 8].inode);
		int32_t *v = hashtab_put(&x->by_inode, s->owners[i].inode, &found);
		if (!v)
			return -ENOMEM;
		if (!found)
			*v = -1;
	}
	for (size_t i = 0; i < s->nsocks; i++) {
		int32_t *v;
		s->socks[i].owner = -1;
		if (i + 8 < s->nsocks && s->nowners)
			hashtab_prefetch(&x->by_inode, s->socks[i + 8].inode);
		if (s->socks[i].inode && (v = hashtab_get(&x->by_inode, s->socks[i].inode)))
			*v = (int32_t)i;
	}
	/* Owners index procs, so procs arrive sorted by pid (procscan sorts them). */
	for (size_t i = 1; i < s->nprocs; i++)
		if (cmp_proc(&s->procs[i - 1], &s->procs[i]) >= 0)
			return -EINVAL;
	sort_owners(s);
	for (size_t i = 0; i < s->nnetns; i++)
		s->netns[i].procs = s->netns[i].sockets = 0;
	for (size_t i = 0; i < s->nprocs; i++) {
		struct proc_rec *p = &s->procs[i];
		p->sock_fds = p->sockets = 0;
		p->recv_q = 0;
		p->owner_count = 0;
		memset(p->states, 0, sizeof(p->states));
		memset(p->kinds, 0, sizeof(p->kinds));
		if (p->netns) {
			struct netns_rec *n = snapshot_add_netns(s, p->netns, false);
			if (!n)
				return -ENOMEM;
			n->procs++;
		}
	}
	/* Distinct CLOSED inodes for the totals (a forked fd is one socket). */
	if ((rc = hashtab_reset(&x->closed, 0)))
		return rc;
	struct totals *t = &s->totals;
	memset(t->states, 0, sizeof(t->states));
	for (size_t i = 0; i < s->nowners; i++) {
		struct sock_owner *o = &s->owners[i];
		struct proc_rec *p = &s->procs[o->proc];

		if (p->owner_count++ == 0)
			p->owner_first = (uint32_t)i;
		p->sock_fds++;
		o->sock = table_get(&x->by_inode, o->inode);
		if (o->sock < 0) {
			const struct netns_rec *n;
			if (!s->closed_valid || !(n = snapshot_find_netns(s, p->netns)) || !n->dumped)
				continue;
			if (check && !check(ctx, p->pid, o->fd, o->inode)) {
				o->sock = OWNER_STALE;
				continue;
			}
			p->states[ST_CLOSED_FD]++;
			if (!hashtab_put(&x->closed, o->inode, &found))
				return -ENOMEM;
			t->states[ST_CLOSED_FD] += !found;
			continue;
		}
		struct sock_rec *k = &s->socks[o->sock];
		enum sock_kind kind = sock_kind_of(k);
		if (k->owner < 0)
			k->owner = (int32_t)i;
		p->kinds[kind]++;
		if (kind == SK_TCP) {
			p->sockets++;
			p->states[state_slot(k->state)]++;
		}
		if ((kind == SK_TCP || kind == SK_UDP) && k->state != ST_LISTEN)
			p->recv_q += k->rqueue;
	}

	t->sockets = 0;
	t->procs = (uint32_t)s->nprocs;
	t->unowned = 0;
	memset(t->kinds, 0, sizeof(t->kinds));
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		enum sock_kind kind = sock_kind_of(k);
		t->kinds[kind]++;
		if (kind == SK_TCP) {
			t->sockets++;
			t->states[state_slot(k->state)]++;
			t->unowned += k->owner < 0;
		}
		struct netns_rec *n = (struct netns_rec *)snapshot_find_netns(s, sock_netns(s, k));
		if (n)
			n->sockets++;
	}
	return build_ports(s, x);
}

const struct proc_rec *snapshot_find_proc(const struct snapshot *s, int32_t pid)
{
	size_t lo = 0, hi = s->nprocs;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (s->procs[mid].pid == pid)
			return &s->procs[mid];
		if (s->procs[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct proc_rec *snapshot_sock_proc(const struct snapshot *s, const struct sock_rec *k)
{
	if (k->owner < 0 || (size_t)k->owner >= s->nowners)
		return NULL;
	return &s->procs[s->owners[k->owner].proc];
}

int snapshot_sock_fd(const struct snapshot *s, const struct sock_rec *k)
{
	if (k->owner < 0 || (size_t)k->owner >= s->nowners)
		return -1;
	return s->owners[k->owner].fd;
}

char *sock_addr_format(char *buf, int family, const uint8_t addr[16], uint16_t port)
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	char ip[INET6_ADDRSTRLEN];

	/* One form for one address: an IPv4-mapped IPv6 address (a dual-stack JVM's
	 * sockets) is the IPv4 address it is, as the same peer reached over IPv4 shows. */
	if (family == AF_INET6 && !memcmp(addr, mapped, sizeof(mapped))) {
		family = AF_INET;
		addr += 12;
	}
	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip)))
		strcpy(ip, "?");
	snprintf(buf, SOCK_ADDR_MAX, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return buf;
}

/* Copy n elements of size bytes into *dstp (an array of capacity *dcap). */
static int copy_array(void *dstp, size_t *dcap, const void *src, size_t n, size_t size)
{
	void *dst;

	if (n > *dcap && vec_resize(dstp, dcap, n, size))
		return -ENOMEM;
	memcpy(&dst, dstp, sizeof(dst));
	if (n)
		memcpy(dst, src, n * size);
	return 0;
}

int snapshot_copy_socks(struct snapshot *dst, const struct snapshot *src)
{
	if (copy_array(&dst->socks, &dst->socks_cap, src->socks, src->nsocks, sizeof(*src->socks)) ||
	    copy_array(&dst->names, &dst->names_cap, src->names, src->names_len, 1) ||
	    copy_array(&dst->sock_ns, &dst->sock_ns_cap, src->sock_ns, src->nsock_ns, sizeof(*src->sock_ns)) ||
	    copy_array(&dst->addr6, &dst->addr6_cap, src->addr6, src->naddr6, sizeof(*src->addr6)))
		return -ENOMEM;
	dst->nsocks = src->nsocks;
	dst->names_len = src->names_len;
	dst->nsock_ns = src->nsock_ns;
	dst->naddr6 = src->naddr6;
	return 0;
}

int snapshot_copy(struct snapshot *dst, const struct snapshot *src)
{
	if (snapshot_copy_socks(dst, src) ||
	    copy_array(&dst->procs, &dst->procs_cap, src->procs, src->nprocs, sizeof(*src->procs)) ||
	    copy_array(&dst->owners, &dst->owners_cap, src->owners, src->nowners, sizeof(*src->owners)) ||
	    copy_array(&dst->ports, &dst->ports_cap, src->ports, src->nports, sizeof(*src->ports)) ||
	    copy_array(&dst->netns, &dst->netns_cap, src->netns, src->nnetns, sizeof(*src->netns)))
		return -ENOMEM;
	dst->nnetns = src->nnetns;
	dst->closed_valid = src->closed_valid;
	dst->netns_limited = src->netns_limited;
	dst->owners_pending = src->owners_pending;
	dst->nprocs = src->nprocs;
	dst->nowners = src->nowners;
	dst->nports = src->nports;
	dst->time = src->time;
	dst->tick = src->tick;
	dst->refresh_ms = src->refresh_ms;
	dst->totals = src->totals;
	memcpy(dst->status, src->status, sizeof(dst->status));
	return 0;
}
