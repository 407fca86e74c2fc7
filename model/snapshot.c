/* Building one snapshot: de-duplicating the dump, joining sockets to their owners by
 * inode, and aggregating per process, per port and for the whole system. */
#include "config.h"

#include "model/snapshot.h"

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

/* Open-addressing tables from a 64-bit key to an index, rebuilt each refresh into
 * storage kept from the last one. */
struct idx_table {
	uint64_t *keys;
	int32_t *vals;
	size_t cap; /* a power of two, or 0 */
};

struct snapshot_scratch {
	struct idx_table by_cookie, by_inode, listen, ports;
};

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

static int table_reset(struct idx_table *t, size_t n)
{
	size_t cap = 16;

	while (cap < n * 2)
		cap <<= 1;
	if (cap > t->cap) {
		uint64_t *k = realloc(t->keys, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		t->keys = k;
		int32_t *v = realloc(t->vals, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->vals = v;
		t->cap = cap;
	}
	for (size_t i = 0; i < t->cap; i++)
		t->vals[i] = -1;
	return 0;
}

/* Returns the slot for key: vals[slot] is -1 when the key is new. */
static size_t table_slot(const struct idx_table *t, uint64_t key)
{
	size_t mask = t->cap - 1, i = mix64(key) & mask;

	while (t->vals[i] != -1 && t->keys[i] != key)
		i = (i + 1) & mask;
	return i;
}

static int32_t table_get(const struct idx_table *t, uint64_t key)
{
	return t->cap ? t->vals[table_slot(t, key)] : -1;
}

static void table_free(struct idx_table *t)
{
	free(t->keys);
	free(t->vals);
}

struct snapshot *snapshot_new(void)
{
	return calloc(1, sizeof(struct snapshot));
}

void snapshot_free(struct snapshot *s)
{
	if (!s)
		return;
	if (s->scratch) {
		table_free(&s->scratch->by_cookie);
		table_free(&s->scratch->by_inode);
		table_free(&s->scratch->listen);
		table_free(&s->scratch->ports);
		free(s->scratch);
	}
	free(s->socks);
	free(s->procs);
	free(s->owners);
	free(s->ports);
	free(s);
}

void snapshot_clear(struct snapshot *s)
{
	s->nsocks = s->nprocs = s->nowners = s->nports = 0;
	s->time = s->refresh_ms = 0;
	s->tick = 0;
	memset(&s->totals, 0, sizeof(s->totals));
	s->status[0] = '\0';
}

/* Grow an array by one element, doubling its capacity; returns the zeroed slot. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		void *p = realloc(*arr, ncap * size);
		if (!p)
			return NULL;
		*arr = p;
		*cap = ncap;
	}
	char *slot = (char *)*arr + (*n)++ * size;
	memset(slot, 0, size);
	return slot;
}

struct sock_rec *snapshot_add_sock(struct snapshot *s)
{
	struct sock_rec *k = grow((void **)&s->socks, &s->nsocks, &s->socks_cap, sizeof(*k));
	if (k)
		k->owner = -1;
	return k;
}

struct proc_rec *snapshot_add_proc(struct snapshot *s)
{
	return grow((void **)&s->procs, &s->nprocs, &s->procs_cap, sizeof(struct proc_rec));
}

struct sock_owner *snapshot_add_owner(struct snapshot *s)
{
	struct sock_owner *o = grow((void **)&s->owners, &s->nowners, &s->owners_cap, sizeof(*o));
	if (o)
		o->sock = -1;
	return o;
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

int port_agg_cmp(const void *a, const void *b)
{
	const struct port_agg *x = a, *y = b;
	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->side != y->side)
		return (x->side > y->side) - (x->side < y->side);
	return (x->netns > y->netns) - (x->netns < y->netns);
}

/* Drop sockets seen twice in one dump (a dump is not atomic): same cookie. */
static int dedup_socks(struct snapshot *s, struct idx_table *t)
{
	size_t out = 0;
	int rc = table_reset(t, s->nsocks);

	if (rc)
		return rc;
	for (size_t i = 0; i < s->nsocks; i++) {
		uint64_t key = s->socks[i].cookie ^ mix64(s->socks[i].netns);
		size_t slot = table_slot(t, key);
		if (t->vals[slot] != -1)
			continue;
		t->keys[slot] = key;
		t->vals[slot] = (int32_t)out;
		s->socks[out++] = s->socks[i];
	}
	s->nsocks = out;
	return 0;
}

static uint64_t port_key(uint64_t netns, uint16_t port, unsigned side)
{
	return mix64(netns) ^ ((uint64_t)port << 1 | side);
}

/* Ephemeral ports the kernel hands to clients (net.ipv4.ip_local_port_range default). */
static bool ephemeral(uint16_t port)
{
	return port >= 32768 && port <= 60999;
}

/* Which port a socket is counted under: the local port of a listening or accepted
 * socket, the remote port of an outbound connection. */
static enum port_side sock_side(const struct sock_rec *k, const struct idx_table *listen)
{
	if (k->state == ST_LISTEN || table_get(listen, port_key(k->netns, k->lport, 0)) != -1)
		return SIDE_LOCAL;
	if (table_get(listen, port_key(k->netns, k->rport, 0)) != -1)
		return SIDE_REMOTE; /* a client of a port that listens here, on loopback */
	if (ephemeral(k->lport) != ephemeral(k->rport))
		return ephemeral(k->lport) ? SIDE_REMOTE : SIDE_LOCAL;
	return k->lport <= k->rport ? SIDE_LOCAL : SIDE_REMOTE;
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

static int build_ports(struct snapshot *s, struct snapshot_scratch *x)
{
	int rc = table_reset(&x->listen, s->nsocks);

	if (rc || (rc = table_reset(&x->ports, s->nsocks)))
		return rc;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		if (k->state != ST_LISTEN)
			continue;
		uint64_t key = port_key(k->netns, k->lport, 0);
		size_t slot = table_slot(&x->listen, key);
		x->listen.keys[slot] = key;
		x->listen.vals[slot] = 1;
	}
	s->nports = 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		enum port_side side = sock_side(k, &x->listen);
		uint16_t port = side == SIDE_LOCAL ? k->lport : k->rport;
		uint64_t key = port_key(k->netns, port, side);
		size_t slot = table_slot(&x->ports, key);
		struct port_agg *p;

		if (x->ports.vals[slot] == -1) {
			p = grow((void **)&s->ports, &s->nports, &s->ports_cap, sizeof(*p));
			if (!p)
				return -ENOMEM;
			p->netns = k->netns;
			p->port = port;
			p->side = side;
			x->ports.keys[slot] = key;
			x->ports.vals[slot] = (int32_t)(s->nports - 1);
		}
		p = &s->ports[x->ports.vals[slot]];
		p->count++;
		p->states[k->state < ST_COUNT ? k->state : ST_UNKNOWN]++;
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

int snapshot_build(struct snapshot *s)
{
	struct snapshot_scratch *x = s->scratch;
	int rc;

	if (!x && !(x = s->scratch = calloc(1, sizeof(*x))))
		return -ENOMEM;
	if ((rc = dedup_socks(s, &x->by_cookie)))
		return rc;

	/* The join: inode -> socket, then each owner fd -> its socket. */
	if ((rc = table_reset(&x->by_inode, s->nsocks)))
		return rc;
	for (size_t i = 0; i < s->nsocks; i++) {
		s->socks[i].owner = -1;
		if (!s->socks[i].inode)
			continue;
		size_t slot = table_slot(&x->by_inode, s->socks[i].inode);
		x->by_inode.keys[slot] = s->socks[i].inode;
		x->by_inode.vals[slot] = (int32_t)i;
	}
	/* Owners index procs, so procs arrive sorted by pid (procscan sorts them). */
	for (size_t i = 1; i < s->nprocs; i++)
		if (cmp_proc(&s->procs[i - 1], &s->procs[i]) >= 0)
			return -EINVAL;
	if (s->nowners)
		qsort(s->owners, s->nowners, sizeof(*s->owners), cmp_owner);
	for (size_t i = 0; i < s->nprocs; i++) {
		struct proc_rec *p = &s->procs[i];
		p->sock_fds = p->sockets = 0;
		p->recv_q = 0;
		p->owner_count = 0;
		memset(p->states, 0, sizeof(p->states));
	}
	for (size_t i = 0; i < s->nowners; i++) {
		struct sock_owner *o = &s->owners[i];
		struct proc_rec *p = &s->procs[o->proc];

		if (p->owner_count++ == 0)
			p->owner_first = (uint32_t)i;
		p->sock_fds++;
		o->sock = table_get(&x->by_inode, o->inode);
		if (o->sock < 0)
			continue;
		struct sock_rec *k = &s->socks[o->sock];
		if (k->owner < 0)
			k->owner = (int32_t)i;
		p->sockets++;
		p->states[k->state < ST_COUNT ? k->state : ST_UNKNOWN]++;
		if (k->state != ST_LISTEN)
			p->recv_q += k->rqueue;
	}

	struct totals *t = &s->totals;
	t->sockets = (uint32_t)s->nsocks;
	t->procs = (uint32_t)s->nprocs;
	t->unowned = 0;
	memset(t->states, 0, sizeof(t->states));
	for (size_t i = 0; i < s->nsocks; i++) {
		t->states[s->socks[i].state < ST_COUNT ? s->socks[i].state : ST_UNKNOWN]++;
		t->unowned += s->socks[i].owner < 0;
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
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip)))
		strcpy(ip, "?");
	snprintf(buf, SOCK_ADDR_MAX, family == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
	return buf;
}

static int copy_array(void **dst, size_t *dcap, const void *src, size_t n, size_t size)
{
	if (n > *dcap) {
		void *p = realloc(*dst, n * size);
		if (!p)
			return -ENOMEM;
		*dst = p;
		*dcap = n;
	}
	if (n)
		memcpy(*dst, src, n * size);
	return 0;
}

int snapshot_copy(struct snapshot *dst, const struct snapshot *src)
{
	if (copy_array((void **)&dst->socks, &dst->socks_cap, src->socks, src->nsocks, sizeof(*src->socks)) ||
	    copy_array((void **)&dst->procs, &dst->procs_cap, src->procs, src->nprocs, sizeof(*src->procs)) ||
	    copy_array((void **)&dst->owners, &dst->owners_cap, src->owners, src->nowners, sizeof(*src->owners)) ||
	    copy_array((void **)&dst->ports, &dst->ports_cap, src->ports, src->nports, sizeof(*src->ports)))
		return -ENOMEM;
	dst->nsocks = src->nsocks;
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
