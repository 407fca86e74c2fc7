/* Recording one refresh, kind by kind: each socket, process, socket fd, namespace and
 * port is compared with the last refresh's (recording/etab), and only what appeared
 * (a row), changed (a *_change row) or went (a *_gone row) is written. */
#include "config.h"

#include "recording/record_int.h"
#include "model/snapshot.h"
#include "model/vec.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct sock_ent {
	struct ent_hdr h;  /* cookie, netns */
	struct sock_rec k; /* a UNIX socket's un.name, an IPv6 one's v6, is an offset in the
			    * table's names (etab_add_bytes: its struct sock_addr6) */
};

struct proc_ent {
	struct ent_hdr h;  /* pid, start_time */
	struct proc_rec p;
};

struct port_ent {
	struct ent_hdr h;  /* netns, proto << 17 | port << 1 | side */
	struct port_agg p;
};

struct fd_ent {
	struct ent_hdr h;  /* proc row id, fd */
	uint32_t inode;
};

void record_rows_init(struct record *r)
{
	for (int i = 0; i < 2; i++) {
		etab_init(&r->socks[i], sizeof(struct sock_ent));
		etab_init(&r->procs[i], sizeof(struct proc_ent));
		etab_init(&r->fds[i], sizeof(struct fd_ent));
		etab_init(&r->ports[i], sizeof(struct port_ent));
		etab_init(&r->netns[i], sizeof(struct ent_hdr));
	}
}

void record_rows_unmark(struct record *r)
{
	etab_unmark(&r->socks[r->cur]);
	etab_unmark(&r->procs[r->cur]);
	etab_unmark(&r->fds[r->cur]);
	etab_unmark(&r->ports[r->cur]);
	etab_unmark(&r->netns[r->cur]);
}

void record_rows_free(struct record *r)
{
	for (int i = 0; i < 2; i++) {
		etab_free(&r->socks[i]);
		etab_free(&r->procs[i]);
		etab_free(&r->fds[i]);
		etab_free(&r->ports[i]);
		etab_free(&r->netns[i]);
	}
	free(r->proc_ids);
	r->proc_ids = NULL;
}

static void put_text(struct record *r, enum stmt_id id, unsigned c, const char *s, size_t max)
{
	put_bytes(r, id, c, s, strnlen(s, max), false);
}

static void put_addr(struct record *r, enum stmt_id id, unsigned c, int family, const uint8_t addr[16])
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip)))
		strcpy(ip, "?");
	put_bytes(r, id, c, ip, strlen(ip), false);
}

/* NULL for unlimited (or unknown): RLIM_INFINITY, and a limit past any count of
 * fds a signed 64-bit integer can hold. */
static void put_limit(struct record *r, enum stmt_id id, unsigned c, uint64_t v)
{
	if (v > INT64_MAX)
		put_null(r, id, c);
	else
		put_u64(r, id, c, v);
}

/* The addresses of o, a socket of the last refresh kept in t, as sock_addr gives them. */
static void kept_addrs(const struct etab *t, const struct sock_rec *o, struct sock_addr6 *a)
{
	const struct sock_addr6 *kept;

	memset(a, 0, sizeof(*a));
	if (o->family == AF_INET6 && !o->mapped) {
		if (o->v6 && (kept = etab_bytes(t, o->v6, sizeof(*a))))
			memcpy(a, kept, sizeof(*a));
		return;
	}
	memcpy(a->l, sock_laddr(NULL, o).b, 16); /* inline: no table needed */
	memcpy(a->r, sock_raddr(NULL, o).b, 16);
}

/* o from the last refresh (its name in the table t), k from this one (in s). */
static bool sock_same_identity(const struct etab *t, const struct sock_rec *o, const struct snapshot *s,
			       const struct sock_rec *k)
{
	struct sock_addr6 oa;

	if (o->family != k->family || o->proto != k->proto || o->type != k->type || o->lport != k->lport ||
	    o->rport != k->rport)
		return false;
	if (k->family == AF_UNIX)
		return o->un.peer == k->un.peer && !strcmp(etab_name(t, o->un.name), snapshot_name(s, k->un.name));
	kept_addrs(t, o, &oa);
	return !memcmp(oa.l, sock_laddr(s, k).b, 16) && !memcmp(oa.r, sock_raddr(s, k).b, 16);
}

static bool sock_same_state(const struct sock_rec *x, const struct sock_rec *y)
{
	return x->state == y->state && x->rqueue == y->rqueue && x->wqueue == y->wqueue && x->timer == y->timer &&
	       x->retrans == y->retrans && x->inode == y->inode && x->uid == y->uid;
}

static bool proc_same_identity(const struct proc_rec *x, const struct proc_rec *y)
{
	return x->uid == y->uid && x->netns == y->netns && !strcmp(x->comm, y->comm) &&
	       !strcmp(x->user, y->user) && !strcmp(x->unit, y->unit) && !strcmp(x->cmdline, y->cmdline) &&
	       !strcmp(x->container, y->container);
}

static bool proc_same_state(const struct proc_rec *x, const struct proc_rec *y)
{
	return x->ppid == y->ppid && x->state == y->state && x->flags == y->flags && x->rss_kb == y->rss_kb &&
	       x->fds == y->fds && x->fd_limit == y->fd_limit && x->fd_limit_hard == y->fd_limit_hard;
}

static int sock_insert(struct record *r, const struct snapshot *s, const struct sock_rec *k, int64_t *id)
{
	bool un = k->family == AF_UNIX;
	int rc;

	put_u64(r, Q_SOCK, SOCK_COOKIE, k->cookie);
	put_u64(r, Q_SOCK, SOCK_NETNS, sock_netns(s, k));
	put_int(r, Q_SOCK, SOCK_FAMILY, k->family);
	put_int(r, Q_SOCK, SOCK_PROTO, k->proto);
	put_int(r, Q_SOCK, SOCK_TYPE, k->type);
	/* A UNIX socket's address bytes are its name and peer: '' for the IP columns. */
	if (un)
		put_bytes(r, Q_SOCK, SOCK_LADDR, "", 0, false);
	else
		put_addr(r, Q_SOCK, SOCK_LADDR, k->family, sock_laddr(s, k).b);
	put_int(r, Q_SOCK, SOCK_LPORT, k->lport);
	if (un)
		put_bytes(r, Q_SOCK, SOCK_RADDR, "", 0, false);
	else
		put_addr(r, Q_SOCK, SOCK_RADDR, k->family, sock_raddr(s, k).b);
	put_int(r, Q_SOCK, SOCK_RPORT, k->rport);
	put_text(r, Q_SOCK, SOCK_NAME, un ? snapshot_name(s, k->un.name) : "", 4096);
	put_int(r, Q_SOCK, SOCK_PEER, un ? k->un.peer : 0);
	put_u64(r, Q_SOCK, SOCK_FIRST_TICK, r->tick);
	if ((rc = record_step(r, Q_SOCK)))
		return rc;
	*id = record_last_id(r);
	return 0;
}

static int sock_change(struct record *r, int64_t id, const struct sock_rec *k)
{
	put_int(r, Q_SOCK_CHANGE, SOCKCH_SOCK, id);
	put_u64(r, Q_SOCK_CHANGE, SOCKCH_TICK, r->tick);
	put_int(r, Q_SOCK_CHANGE, SOCKCH_STATE, k->state);
	put_int(r, Q_SOCK_CHANGE, SOCKCH_RQUEUE, k->rqueue);
	put_int(r, Q_SOCK_CHANGE, SOCKCH_WQUEUE, k->wqueue);
	put_int(r, Q_SOCK_CHANGE, SOCKCH_TIMER, k->timer);
	put_int(r, Q_SOCK_CHANGE, SOCKCH_RETRANS, k->retrans);
	put_int(r, Q_SOCK_CHANGE, SOCKCH_INODE, k->inode);
	put_int(r, Q_SOCK_CHANGE, SOCKCH_UID, k->uid);
	/* Not part of sock_same_state: the live run knows it on its first refresh only. */
	if (k->state_age_ms)
		put_int(r, Q_SOCK_CHANGE, SOCKCH_STATE_AGE_MS, k->state_age_ms);
	else
		put_null(r, Q_SOCK_CHANGE, SOCKCH_STATE_AGE_MS);
	return record_step(r, Q_SOCK_CHANGE);
}

/* A row went: one row in its kind's *_gone table. */
static int gone(struct record *r, enum stmt_id id, int64_t row)
{
	put_int(r, id, GONE_ROW, row);
	put_u64(r, id, GONE_TICK, r->tick);
	return record_step(r, id);
}

/* Every entry of the last refresh not matched in this one has gone. */
static int sweep_gone(struct record *r, const struct etab *old, enum stmt_id id)
{
	int rc;

	for (size_t i = 0; i < old->n; i++) {
		const struct ent_hdr *e = etab_at(old, i);
		if (e->id > 0 && (rc = gone(r, id, e->id)))
			return rc;
	}
	return 0;
}

int record_socks(struct record *r, const struct snapshot *s)
{
	struct etab *old = &r->socks[r->cur], *new = &r->socks[!r->cur];
	int rc;

	if ((rc = etab_reset(new, s->nsocks)))
		return SQLITE_NOMEM;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		uint64_t netns = sock_netns(s, k);
		struct sock_ent *n = (struct sock_ent *)etab_slot(new, k->cookie, netns);
		struct sock_ent *o = (struct sock_ent *)etab_find(old, k->cookie, netns);
		if (!n)
			return SQLITE_NOMEM;
		int64_t id = 0;
		bool changed = true;

		if (n->h.id)
			continue; /* the same socket twice: snapshot_build dedups, so never */
		if (o && o->h.id > 0 && sock_same_identity(old, &o->k, s, k)) {
			id = o->h.id;
			o->h.id = -id;
			changed = !sock_same_state(&o->k, k);
		} else if ((rc = sock_insert(r, s, k, &id))) {
			return rc;
		}
		if (changed && (rc = sock_change(r, id, k)))
			return rc;
		n->h.a = k->cookie;
		n->h.b = netns;
		n->h.id = id;
		n->k = *k;
		if (k->family == AF_UNIX) {
			int64_t off = etab_add_name(new, snapshot_name(s, k->un.name));
			if (off < 0)
				return SQLITE_NOMEM;
			n->k.un.name = (uint32_t)off;
		} else if (k->family == AF_INET6 && !k->mapped && k->v6) {
			struct sock_addr6 a;
			memcpy(a.l, sock_laddr(s, k).b, 16);
			memcpy(a.r, sock_raddr(s, k).b, 16);
			int64_t off = etab_add_bytes(new, &a, sizeof(a));
			if (off < 0 || off > UINT32_MAX)
				return SQLITE_NOMEM;
			n->k.v6 = (uint32_t)off;
		}
	}
	return sweep_gone(r, old, Q_SOCK_GONE);
}

static int proc_insert(struct record *r, const struct proc_rec *p, int64_t *id)
{
	int rc;

	put_int(r, Q_PROC, PROC_PID, p->pid);
	put_u64(r, Q_PROC, PROC_START_TIME, p->start_time);
	put_int(r, Q_PROC, PROC_UID, p->uid);
	put_u64(r, Q_PROC, PROC_NETNS, p->netns);
	put_text(r, Q_PROC, PROC_COMM, p->comm, sizeof(p->comm));
	put_text(r, Q_PROC, PROC_USER, p->user, sizeof(p->user));
	put_text(r, Q_PROC, PROC_UNIT, p->unit, sizeof(p->unit));
	put_text(r, Q_PROC, PROC_CMDLINE, p->cmdline, sizeof(p->cmdline));
	put_text(r, Q_PROC, PROC_CONTAINER, p->container, sizeof(p->container));
	put_u64(r, Q_PROC, PROC_FIRST_TICK, r->tick);
	if ((rc = record_step(r, Q_PROC)))
		return rc;
	*id = record_last_id(r);
	return 0;
}

static int proc_change(struct record *r, int64_t id, const struct proc_rec *p)
{
	char state[2] = {p->state, '\0'};

	put_int(r, Q_PROC_CHANGE, PROCCH_PROC, id);
	put_u64(r, Q_PROC_CHANGE, PROCCH_TICK, r->tick);
	put_int(r, Q_PROC_CHANGE, PROCCH_PPID, p->ppid);
	put_text(r, Q_PROC_CHANGE, PROCCH_STATE, state, sizeof(state));
	put_int(r, Q_PROC_CHANGE, PROCCH_FLAGS, p->flags);
	put_u64(r, Q_PROC_CHANGE, PROCCH_RSS_KB, p->rss_kb);
	put_int(r, Q_PROC_CHANGE, PROCCH_FDS, p->fds);
	put_limit(r, Q_PROC_CHANGE, PROCCH_FD_LIMIT, p->fd_limit);
	put_limit(r, Q_PROC_CHANGE, PROCCH_FD_LIMIT_HARD, p->fd_limit_hard);
	return record_step(r, Q_PROC_CHANGE);
}

int record_procs(struct record *r, const struct snapshot *s)
{
	struct etab *old = &r->procs[r->cur], *new = &r->procs[!r->cur];
	int rc;

	if (VEC_RESERVE(r->proc_ids, r->proc_ids_cap, s->nprocs))
		return SQLITE_NOMEM;
	if ((rc = etab_reset(new, s->nprocs)))
		return SQLITE_NOMEM;
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct proc_rec *p = &s->procs[i];
		uint64_t a = (uint32_t)p->pid;
		struct proc_ent *n = (struct proc_ent *)etab_slot(new, a, p->start_time);
		struct proc_ent *o = (struct proc_ent *)etab_find(old, a, p->start_time);
		if (!n)
			return SQLITE_NOMEM;
		int64_t id = 0;
		bool changed = true;

		if (n->h.id) {
			r->proc_ids[i] = n->h.id < 0 ? -n->h.id : n->h.id;
			continue;
		}
		if (o && o->h.id > 0 && proc_same_identity(&o->p, p)) {
			id = o->h.id;
			o->h.id = -id;
			changed = !proc_same_state(&o->p, p);
		} else if ((rc = proc_insert(r, p, &id))) {
			return rc;
		}
		if (changed && (rc = proc_change(r, id, p)))
			return rc;
		r->proc_ids[i] = id;
		n->h.a = a;
		n->h.b = p->start_time;
		n->h.id = id;
		n->p = *p;
	}
	return sweep_gone(r, old, Q_PROC_GONE);
}

int record_fds(struct record *r, const struct snapshot *s)
{
	struct etab *old = &r->fds[r->cur], *new = &r->fds[!r->cur];
	int rc;

	if ((rc = etab_reset(new, s->nowners)))
		return SQLITE_NOMEM;
	for (size_t i = 0; i < s->nowners; i++) {
		const struct sock_owner *ow = &s->owners[i];
		if (ow->proc < 0 || (size_t)ow->proc >= s->nprocs)
			continue;
		uint64_t a = (uint64_t)r->proc_ids[ow->proc], b = (uint32_t)ow->fd;
		struct fd_ent *n = (struct fd_ent *)etab_slot(new, a, b);
		struct fd_ent *o = (struct fd_ent *)etab_find(old, a, b);
		if (!n)
			return SQLITE_NOMEM;
		int64_t id;

		if (n->h.id)
			continue;
		if (o && o->h.id > 0 && o->inode == ow->inode) {
			id = o->h.id;
			o->h.id = -id;
		} else {
			put_int(r, Q_FD, FD_PROC, (int64_t)a);
			put_int(r, Q_FD, FD_FD, ow->fd);
			put_int(r, Q_FD, FD_INODE, ow->inode);
			put_u64(r, Q_FD, FD_FIRST_TICK, r->tick);
			if ((rc = record_step(r, Q_FD)))
				return rc;
			id = record_last_id(r);
		}
		if (ow->sock == OWNER_STALE) {
			put_int(r, Q_FD_STALE, FDSTALE_FD, id);
			put_u64(r, Q_FD_STALE, FDSTALE_TICK, r->tick);
			if ((rc = record_step(r, Q_FD_STALE)))
				return rc;
		}
		n->h.a = a;
		n->h.b = b;
		n->h.id = id;
		n->inode = ow->inode;
	}
	return sweep_gone(r, old, Q_FD_GONE);
}

/* The namespaces: the ones the source dumped (or failed to), the ones processes
 * live in. Their counts are the build's; what is kept is which were dumped. */
int record_netns(struct record *r, const struct snapshot *s)
{
	struct etab *old = &r->netns[r->cur], *new = &r->netns[!r->cur];
	int rc;

	if ((rc = etab_reset(new, s->nnetns)))
		return SQLITE_NOMEM;
	for (size_t i = 0; i < s->nnetns; i++) {
		const struct netns_rec *ns = &s->netns[i];
		uint64_t b = (uint64_t)ns->own << 1 | ns->dumped;
		struct ent_hdr *n = etab_slot(new, ns->inode, b), *o = etab_find(old, ns->inode, b);
		if (!n)
			return SQLITE_NOMEM;
		int64_t id;

		if (n->id)
			continue;
		if (o && o->id > 0) {
			id = o->id;
			o->id = -id;
		} else {
			put_u64(r, Q_NETNS, NETNS_INODE, ns->inode);
			put_int(r, Q_NETNS, NETNS_DUMPED, ns->dumped);
			put_int(r, Q_NETNS, NETNS_OWN, ns->own);
			put_u64(r, Q_NETNS, NETNS_FIRST_TICK, r->tick);
			if ((rc = record_step(r, Q_NETNS)))
				return rc;
			id = record_last_id(r);
		}
		n->a = ns->inode;
		n->b = b;
		n->id = id;
	}
	return sweep_gone(r, old, Q_NETNS_GONE);
}

static bool port_same(const struct port_agg *x, const struct port_agg *y)
{
	return x->count == y->count && x->recv_q == y->recv_q && x->accept_q == y->accept_q &&
	       x->accept_max == y->accept_max && x->npids == y->npids && x->pids_truncated == y->pids_truncated &&
	       !memcmp(x->states, y->states, sizeof(x->states)) &&
	       !memcmp(x->pids, y->pids, sizeof(x->pids[0]) * (x->npids < PORT_MAX_PIDS ? x->npids : PORT_MAX_PIDS));
}

static int port_change(struct record *r, int64_t id, const struct port_agg *p)
{
	char pids[PORT_MAX_PIDS * 12 + 1] = "";
	size_t len = 0;

	for (uint32_t j = 0; j < p->npids && j < PORT_MAX_PIDS; j++)
		len += (size_t)snprintf(pids + len, sizeof(pids) - len, "%s%d", j ? "," : "", p->pids[j]);
	put_int(r, Q_PORT_CHANGE, PORTCH_PORT, id);
	put_u64(r, Q_PORT_CHANGE, PORTCH_TICK, r->tick);
	put_int(r, Q_PORT_CHANGE, PORTCH_COUNT, p->count);
	put_u64(r, Q_PORT_CHANGE, PORTCH_RECV_Q, p->recv_q);
	put_int(r, Q_PORT_CHANGE, PORTCH_ACCEPT_Q, p->accept_q);
	put_int(r, Q_PORT_CHANGE, PORTCH_ACCEPT_MAX, p->accept_max);
	put_text(r, Q_PORT_CHANGE, PORTCH_PIDS, pids, sizeof(pids));
	put_int(r, Q_PORT_CHANGE, PORTCH_PIDS_TRUNCATED, p->pids_truncated);
	for (unsigned st = 0; st < ST_COUNT; st++)
		put_int(r, Q_PORT_CHANGE, schema_state_col(st), p->states[st]);
	return record_step(r, Q_PORT_CHANGE);
}

/* Ports as deltas too: a box with thousands of client ports would otherwise store
 * thousands of unchanged rows per refresh. The replay sorts them like the live one. */
int record_ports(struct record *r, const struct snapshot *s)
{
	struct etab *old = &r->ports[r->cur], *new = &r->ports[!r->cur];
	int rc;

	if ((rc = etab_reset(new, s->nports)))
		return SQLITE_NOMEM;
	for (size_t i = 0; i < s->nports; i++) {
		const struct port_agg *p = &s->ports[i];
		uint64_t b = (uint64_t)p->proto << 17 | (uint64_t)p->port << 1 | (p->side & 1);
		struct port_ent *n = (struct port_ent *)etab_slot(new, p->netns, b);
		struct port_ent *o = (struct port_ent *)etab_find(old, p->netns, b);
		if (!n)
			return SQLITE_NOMEM;
		int64_t id;
		bool changed = true;

		if (n->h.id)
			continue;
		if (o && o->h.id > 0) {
			id = o->h.id;
			o->h.id = -id;
			changed = !port_same(&o->p, p);
		} else {
			put_u64(r, Q_PORT, PORT_NETNS, p->netns);
			put_int(r, Q_PORT, PORT_PORT, p->port);
			put_bytes(r, Q_PORT, PORT_SIDE, schema_side_name(p->side), strlen(schema_side_name(p->side)), false);
			put_int(r, Q_PORT, PORT_PROTO, p->proto);
			put_u64(r, Q_PORT, PORT_FIRST_TICK, r->tick);
			if ((rc = record_step(r, Q_PORT)))
				return rc;
			id = record_last_id(r);
		}
		if (changed && (rc = port_change(r, id, p)))
			return rc;
		n->h.a = p->netns;
		n->h.b = b;
		n->h.id = id;
		n->p = *p;
	}
	return sweep_gone(r, old, Q_PORT_GONE);
}
