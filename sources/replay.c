/* The replay source: rebuilds the snapshot of any recorded refresh from the rows
 * alive at its tick and their latest change (a seek), or from the refresh before it
 * and what changed since (a step), then joins it like the live source. */
#include "config.h"

#include "sources/replay.h"
#include "sources/source.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Statements. F_*: the rows alive at tick ?1 with their latest change at or before
 * it (the (row, tick) primary keys make that a seek per row). N_*, G_*, C_*: what
 * appeared, went and changed in (?1, ?2], to step from one refresh to the next.
 * Columns: a row's identity first, then its changing part, in the same order in
 * F_* as in N_* and C_*, so one function reads each. */
enum replay_stmt {
	F_PROCS, F_FDS, F_SOCKS, F_PORTS, F_NETNS,
	N_PROCS, N_FDS, N_SOCKS, N_PORTS, N_NETNS,
	G_PROCS, G_FDS, G_SOCKS, G_PORTS, G_NETNS,
	C_PROCS, C_SOCKS, C_PORTS,
	R_REFRESH, R_LIST, R_STALE, R_COUNT
};

#define PROC_ID "p.id, p.pid, p.start_time, p.uid, p.netns, p.comm, p.user, p.unit, p.cmdline, p.container"
#define PROC_CH "c.ppid, c.state, c.flags, c.rss_kb, c.fds, c.fd_limit, c.fd_limit_hard"
#define PROC_CH_COL 10
#define SOCK_ID "s.id, s.cookie, s.netns, s.family, s.proto, s.type, s.laddr, s.lport, s.raddr, s.rport, " \
	"s.name, s.peer"
#define SOCK_CH "c.state, c.rqueue, c.wqueue, c.timer, c.retrans, c.inode, c.uid"
#define SOCK_CH_COL 12
#define PORT_ID "p.id, p.netns, p.port, p.side, p.proto"
#define PORT_CH_COL 5
#define NETNS_ROW "n.id, n.inode, n.dumped, n.own"
/* PORT_CH is built from the state names: see port_change_cols. */
#define ALIVE(t) " WHERE " t ".first_tick <= ?1 AND (" t ".gone_tick IS NULL OR " t ".gone_tick > ?1)"
#define LATEST(tab, col, t) " JOIN " tab " c ON c." col " = " t ".id AND c.tick = (SELECT max(tick) FROM " \
	tab " WHERE " col " = " t ".id AND tick <= ?1)"
#define APPEARED(t) " WHERE " t ".first_tick > ?1 AND " t ".first_tick <= ?2 ORDER BY " t ".id"
#define WENT(tab) "SELECT id FROM " tab " WHERE gone_tick > ?1 AND gone_tick <= ?2"

static const char *const replay_sql[R_COUNT] = {
	[F_PROCS] = "SELECT " PROC_ID ", " PROC_CH " FROM proc p" LATEST("proc_change", "proc", "p") ALIVE("p")
		    " ORDER BY p.id",
	[F_FDS] = "SELECT f.id, f.proc, f.fd, f.inode FROM fd f" ALIVE("f") " ORDER BY f.id",
	[F_SOCKS] = "SELECT " SOCK_ID ", " SOCK_CH " FROM sock s" LATEST("sock_change", "sock", "s") ALIVE("s")
		    " ORDER BY s.id",
	[F_PORTS] = NULL,
	[F_NETNS] = "SELECT " NETNS_ROW " FROM netns n" ALIVE("n") " ORDER BY n.id",
	[N_PROCS] = "SELECT " PROC_ID " FROM proc p" APPEARED("p"),
	[N_FDS] = "SELECT f.id, f.proc, f.fd, f.inode FROM fd f" APPEARED("f"),
	[N_SOCKS] = "SELECT " SOCK_ID " FROM sock s" APPEARED("s"),
	[N_PORTS] = "SELECT " PORT_ID " FROM port p" APPEARED("p"),
	[N_NETNS] = "SELECT " NETNS_ROW " FROM netns n" APPEARED("n"),
	[G_PROCS] = WENT("proc"),
	[G_FDS] = WENT("fd"),
	[G_SOCKS] = WENT("sock"),
	[G_PORTS] = WENT("port"),
	[G_NETNS] = WENT("netns"),
	[C_PROCS] = "SELECT c.proc, " PROC_CH " FROM proc_change c WHERE c.tick > ?1 AND c.tick <= ?2 ORDER BY c.tick",
	[C_SOCKS] = "SELECT c.sock, " SOCK_CH " FROM sock_change c WHERE c.tick > ?1 AND c.tick <= ?2 ORDER BY c.tick",
	[C_PORTS] = NULL,
	[R_REFRESH] = "SELECT time, refresh_ms, status, unreadable, file_alloc, file_max, closed_valid, netns_limited "
		      "FROM refresh WHERE tick = ?1",
	[R_LIST] = "SELECT tick, time FROM refresh WHERE tick > ?1 ORDER BY tick",
	[R_STALE] = "SELECT fd FROM fd_stale WHERE tick = ?1 ORDER BY fd",
};

/* The rows alive at the refresh last rebuilt, by row id (ids grow with time, so
 * what appears is appended). Every element starts with its int64_t id. */
struct rvec {
	char *v;
	size_t n, cap, esize;
};

struct r_proc { int64_t id; struct proc_rec p; };
struct r_fd { int64_t id, proc; int32_t fd; uint32_t inode; };
struct r_sock { int64_t id; struct sock_rec k; char *name; /* UNIX: escaped, NULL for "" */ };
struct r_port { int64_t id; struct port_agg p; };
struct r_netns { int64_t id; uint64_t inode; bool dumped, own; };

/* A socket fd the live fd check refused at this refresh. */
struct stale_fd {
	int32_t pid, fd;
	uint32_t inode;
};

struct proc_order {
	int32_t pid;
	uint32_t idx;
	int64_t id;
};

struct replay_source {
	struct source base;
	sqlite3 *db;
	sqlite3_stmt *q[R_COUNT];
	struct record_info info;
	char *path;
	uint64_t *ticks;     /* of every committed refresh, in order */
	double *times;
	size_t n, cap;
	long pos, next;
	bool broken;         /* a damaged part was hit: the replay ends there */
	struct rvec procs, fds, socks, ports, netns;
	int64_t *stale_ids;  /* fd rows in fd_stale at the refresh being rebuilt, sorted */
	struct stale_fd *stale;
	size_t nstale, stale_cap;
	bool state_valid;    /* the rvecs hold refresh state_tick */
	uint64_t state_tick;
	struct proc_order *order;
	int32_t *proc_pos;   /* index in the snapshot of each procs element, -1 if left out */
	size_t order_cap;
};

/* Copy text from the file: it was escaped when recorded, but the file may have been
 * edited since, so anything a terminal would act on is escaped again. */
static void copy_clean(char *dst, size_t n, const char *src, size_t len)
{
	char tmp[4 * PROC_CMDLINE_MAX + 1];
	size_t slashes = 0;

	if (len >= n)
		len = n - 1;
	for (size_t i = 0; i < len; i++)
		slashes += src[i] == '\\';
	/* Clean text only grows by its doubled backslashes. */
	if (text_escape(tmp, sizeof(tmp), src, len) == len + slashes) {
		memcpy(dst, src, len);
		dst[len] = '\0';
	} else {
		text_escape(dst, n, src, len);
	}
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *q, int col)
{
	const char *src = (const char *)sqlite3_column_text(q, col);

	if (!src)
		dst[0] = '\0';
	else
		copy_clean(dst, n, src, strnlen(src, (size_t)sqlite3_column_bytes(q, col)));
}

static uint64_t col_u64(sqlite3_stmt *q, int col)
{
	return (uint64_t)sqlite3_column_int64(q, col);
}

static uint32_t col_u32(sqlite3_stmt *q, int col)
{
	return (uint32_t)sqlite3_column_int64(q, col);
}

static uint64_t col_limit(sqlite3_stmt *q, int col)
{
	return sqlite3_column_type(q, col) == SQLITE_NULL ? UINT64_MAX : col_u64(q, col);
}

static void col_addr(sqlite3_stmt *q, int col, int family, uint8_t out[16])
{
	const char *s = (const char *)sqlite3_column_text(q, col);

	memset(out, 0, 16);
	if (s)
		inet_pton(family == AF_INET6 ? AF_INET6 : AF_INET, s, out);
}

static int64_t rvec_id(const struct rvec *r, size_t i)
{
	int64_t id;
	memcpy(&id, r->v + i * r->esize, sizeof(id));
	return id;
}

static void *rvec_push(struct rvec *r, int64_t id)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		char *v = realloc(r->v, cap * r->esize);
		if (!v)
			return NULL;
		r->v = v;
		r->cap = cap;
	}
	char *e = r->v + r->n++ * r->esize;
	memset(e, 0, r->esize);
	memcpy(e, &id, sizeof(id));
	return e;
}

static void *rvec_find(const struct rvec *r, int64_t id)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int64_t m = rvec_id(r, mid);
		if (m == id)
			return r->v + mid * r->esize;
		if (m < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x, y;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}

/* Ids come in ascending order from every query; only a damaged file breaks that. */
static void rvec_fix_order(struct rvec *r, size_t from)
{
	for (size_t i = from ? from : 1; i < r->n; i++)
		if (rvec_id(r, i - 1) >= rvec_id(r, i)) {
			qsort(r->v, r->n, r->esize, cmp_id);
			return;
		}
}

static void read_proc_id(sqlite3_stmt *q, struct proc_rec *p)
{
	copy_text(p->container, sizeof(p->container), q, 9);
	p->pid = sqlite3_column_int(q, 1);
	p->start_time = col_u64(q, 2);
	p->uid = col_u32(q, 3);
	p->netns = col_u64(q, 4);
	copy_text(p->comm, sizeof(p->comm), q, 5);
	copy_text(p->user, sizeof(p->user), q, 6);
	copy_text(p->unit, sizeof(p->unit), q, 7);
	copy_text(p->cmdline, sizeof(p->cmdline), q, 8);
}

static void read_proc_ch(sqlite3_stmt *q, int c, struct proc_rec *p)
{
	const unsigned char *st = sqlite3_column_text(q, c + 1);

	p->ppid = sqlite3_column_int(q, c);
	p->state = st && st[0] >= 0x20 && st[0] < 0x7f ? (char)st[0] : '?';
	p->flags = col_u32(q, c + 2);
	p->rss_kb = col_u64(q, c + 3);
	p->fds = sqlite3_column_int64(q, c + 4);
	p->fd_limit = col_limit(q, c + 5);
	p->fd_limit_hard = col_limit(q, c + 6);
}

static void read_fd(sqlite3_stmt *q, struct r_fd *f)
{
	f->proc = sqlite3_column_int64(q, 1);
	f->fd = sqlite3_column_int(q, 2);
	f->inode = col_u32(q, 3);
}

/* A UNIX socket's name goes into *name (the snapshot's name store is filled when
 * the refresh is materialized). Returns an SQLite result code. */
static int read_sock_id(sqlite3_stmt *q, struct sock_rec *k, char **name)
{
	k->cookie = col_u64(q, 1);
	k->netns = col_u64(q, 2);
	k->family = (uint8_t)sqlite3_column_int(q, 3);
	k->proto = (uint8_t)sqlite3_column_int(q, 4);
	k->type = (uint8_t)sqlite3_column_int(q, 5);
	k->lport = (uint16_t)sqlite3_column_int(q, 7);
	k->rport = (uint16_t)sqlite3_column_int(q, 9);
	k->owner = -1;
	if (k->family != AF_UNIX) {
		col_addr(q, 6, k->family, k->laddr);
		col_addr(q, 8, k->family, k->raddr);
		return SQLITE_OK;
	}
	/* 108 bytes of sun_path, each escaped to at most four, and the '@'. */
	char buf[4 * 108 + 2];
	memset(k->laddr, 0, sizeof(k->laddr));
	memset(k->raddr, 0, sizeof(k->raddr));
	k->un.peer = col_u32(q, 11);
	copy_text(buf, sizeof(buf), q, 10);
	if (buf[0] && !(*name = strdup(buf)))
		return SQLITE_NOMEM;
	return SQLITE_OK;
}

static void read_sock_ch(sqlite3_stmt *q, int c, struct sock_rec *k)
{
	k->state = (uint8_t)sqlite3_column_int(q, c);
	k->rqueue = col_u32(q, c + 1);
	k->wqueue = col_u32(q, c + 2);
	k->timer = (uint8_t)sqlite3_column_int(q, c + 3);
	k->retrans = (uint8_t)sqlite3_column_int(q, c + 4);
	k->inode = col_u32(q, c + 5);
	k->uid = col_u32(q, c + 6);
}

static void read_port_id(sqlite3_stmt *q, struct port_agg *p)
{
	const char *side = (const char *)sqlite3_column_text(q, 3);

	p->netns = col_u64(q, 1);
	p->port = (uint16_t)sqlite3_column_int(q, 2);
	p->side = side && !strcmp(side, "remote") ? SIDE_REMOTE : SIDE_LOCAL;
	p->proto = (uint8_t)sqlite3_column_int(q, 4);
}

static void read_netns(sqlite3_stmt *q, struct r_netns *n)
{
	n->inode = col_u64(q, 1);
	n->dumped = sqlite3_column_int(q, 2) != 0;
	n->own = sqlite3_column_int(q, 3) != 0;
}

static void read_port_ch(sqlite3_stmt *q, int c, struct port_agg *p)
{
	const char *pids = (const char *)sqlite3_column_text(q, c + 4);

	p->count = col_u32(q, c);
	p->recv_q = col_u64(q, c + 1);
	p->accept_q = col_u32(q, c + 2);
	p->accept_max = col_u32(q, c + 3);
	p->pids_truncated = sqlite3_column_int(q, c + 5) != 0;
	for (unsigned st = 0; st < ST_COUNT; st++)
		p->states[st] = col_u32(q, c + 6 + (int)st);
	p->npids = 0;
	while (pids && *pids && p->npids < PORT_MAX_PIDS) {
		char *end;
		long pid = strtol(pids, &end, 10);
		if (end == pids)
			break;
		p->pids[p->npids++] = (int32_t)pid;
		pids = *end == ',' ? end + 1 : end;
	}
}

enum row_kind { K_PROC, K_FD, K_SOCK, K_PORT, K_NETNS, K_COUNT };

static struct rvec *kind_vec(struct replay_source *r, enum row_kind k)
{
	struct rvec *const v[K_COUNT] = {[K_PROC] = &r->procs, [K_FD] = &r->fds, [K_SOCK] = &r->socks,
					 [K_PORT] = &r->ports, [K_NETNS] = &r->netns};
	return v[k];
}

/* What an element owns besides itself: a socket's name. */
static void release(enum row_kind k, void *e)
{
	if (k == K_SOCK) {
		free(((struct r_sock *)e)->name);
		((struct r_sock *)e)->name = NULL;
	}
}

static void rvec_empty(struct replay_source *r, enum row_kind k)
{
	struct rvec *v = kind_vec(r, k);

	for (size_t i = 0; i < v->n; i++)
		release(k, v->v + i * v->esize);
	v->n = 0;
}

/* Read one row of a query into a new element: identity, and with full set, the
 * changing part that follows it. Returns an SQLite result code. */
static int read_row(enum row_kind k, sqlite3_stmt *q, void *e, bool full)
{
	switch (k) {
	case K_PROC:
		read_proc_id(q, &((struct r_proc *)e)->p);
		if (full)
			read_proc_ch(q, PROC_CH_COL, &((struct r_proc *)e)->p);
		break;
	case K_FD:
		read_fd(q, e);
		break;
	case K_SOCK:
		if (full)
			read_sock_ch(q, SOCK_CH_COL, &((struct r_sock *)e)->k);
		return read_sock_id(q, &((struct r_sock *)e)->k, &((struct r_sock *)e)->name);
	case K_PORT:
		read_port_id(q, &((struct r_port *)e)->p);
		if (full)
			read_port_ch(q, PORT_CH_COL, &((struct r_port *)e)->p);
		break;
	case K_NETNS:
		read_netns(q, e);
		break;
	case K_COUNT:
		break;
	}
	return SQLITE_OK;
}

static int run_rows(struct replay_source *r, enum row_kind k, sqlite3_stmt *q, bool full)
{
	struct rvec *v = kind_vec(r, k);
	size_t from = v->n;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		void *e = rvec_push(v, sqlite3_column_int64(q, 0));
		if (!e || read_row(k, q, e, full) != SQLITE_OK)
			return SQLITE_NOMEM;
	}
	rvec_fix_order(v, from);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int run_gone(struct replay_source *r, enum row_kind k, sqlite3_stmt *q)
{
	struct rvec *v = kind_vec(r, k);
	const int64_t zero = 0;
	size_t out = 0;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		void *e = rvec_find(v, sqlite3_column_int64(q, 0));
		if (e) {
			release(k, e);
			memcpy(e, &zero, sizeof(zero)); /* id 0: removed below */
		}
	}
	for (size_t i = 0; i < v->n; i++)
		if (rvec_id(v, i) != 0)
			memmove(v->v + out++ * v->esize, v->v + i * v->esize, v->esize);
	v->n = out;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int run_changes(struct replay_source *r, enum row_kind k, sqlite3_stmt *q)
{
	struct rvec *v = kind_vec(r, k);
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		void *e = rvec_find(v, sqlite3_column_int64(q, 0));
		if (!e)
			continue;
		if (k == K_PROC)
			read_proc_ch(q, 1, &((struct r_proc *)e)->p);
		else if (k == K_SOCK)
			read_sock_ch(q, 1, &((struct r_sock *)e)->k);
		else if (k == K_PORT)
			read_port_ch(q, 1, &((struct r_port *)e)->p);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static sqlite3_stmt *bind_ticks(struct replay_source *r, enum replay_stmt id, uint64_t a, uint64_t b)
{
	sqlite3_stmt *q = r->q[id];

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, (sqlite3_int64)a);
	if (sqlite3_bind_parameter_count(q) >= 2)
		sqlite3_bind_int64(q, 2, (sqlite3_int64)b);
	return q;
}

/* The rows alive at tick, from scratch: what a seek costs. */
static int load_full(struct replay_source *r, uint64_t tick)
{
	int rc = SQLITE_OK;

	for (int k = 0; k < K_COUNT && rc == SQLITE_OK; k++) {
		rvec_empty(r, (enum row_kind)k);
		rc = run_rows(r, (enum row_kind)k, bind_ticks(r, (enum replay_stmt)(F_PROCS + k), tick, 0), true);
	}
	return rc;
}

/* From the refresh at prev to the one at tick: what appeared, then what went (a row
 * may do both between two refreshes), then what changed, in tick order. */
static int load_step(struct replay_source *r, uint64_t prev, uint64_t tick)
{
	static const enum replay_stmt changes[K_COUNT] = {
		[K_PROC] = C_PROCS, [K_FD] = R_COUNT, [K_SOCK] = C_SOCKS, [K_PORT] = C_PORTS, [K_NETNS] = R_COUNT,
	};
	int rc = SQLITE_OK;

	for (int k = 0; k < K_COUNT && rc == SQLITE_OK; k++) {
		rc = run_rows(r, (enum row_kind)k, bind_ticks(r, (enum replay_stmt)(N_PROCS + k), prev, tick), false);
		if (rc == SQLITE_OK)
			rc = run_gone(r, (enum row_kind)k, bind_ticks(r, (enum replay_stmt)(G_PROCS + k), prev, tick));
		if (rc == SQLITE_OK && changes[k] != R_COUNT)
			rc = run_changes(r, (enum row_kind)k, bind_ticks(r, changes[k], prev, tick));
	}
	return rc;
}

static int cmp_order(const void *a, const void *b)
{
	const struct proc_order *x = a, *y = b;
	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_i64(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;
	return (*x > *y) - (*x < *y);
}

/* The fd rows the live fd check refused at tick, into stale_ids. */
static int load_stale(struct replay_source *r, uint64_t tick, size_t *n)
{
	sqlite3_stmt *q = bind_ticks(r, R_STALE, tick, 0);
	int rc;

	*n = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (*n == r->stale_cap) {
			size_t cap = r->stale_cap ? r->stale_cap * 2 : 16;
			int64_t *ids = realloc(r->stale_ids, cap * sizeof(*ids));
			if (!ids)
				return SQLITE_NOMEM;
			r->stale_ids = ids;
			struct stale_fd *st = realloc(r->stale, cap * sizeof(*st));
			if (!st)
				return SQLITE_NOMEM;
			r->stale = st;
			r->stale_cap = cap;
		}
		r->stale_ids[(*n)++] = sqlite3_column_int64(q, 0);
	}
	if (*n > 1)
		qsort(r->stale_ids, *n, sizeof(*r->stale_ids), cmp_i64);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The live fd check's answers, as recorded: no to the fds it refused. */
static bool replay_fd_check(void *ctx, int32_t pid, int32_t fd, uint32_t inode)
{
	const struct replay_source *r = ctx;

	for (size_t i = 0; i < r->nstale; i++)
		if (r->stale[i].pid == pid && r->stale[i].fd == fd && r->stale[i].inode == inode)
			return false;
	return true;
}

/* The snapshot of the state: processes by pid, their socket fds, the sockets in the
 * order they were first seen, the namespaces, then the live source's join (with the
 * fd check's recorded answers, so CLOSED comes out the same), and the ports as
 * recorded (the owners kept in pids[] depend on the dump's order, which a replay
 * does not have), sorted as the live refresh sorted them. */
static int materialize(struct replay_source *r, struct snapshot *s, size_t nstale_ids)
{
	const struct r_proc *procs = (const struct r_proc *)r->procs.v;
	size_t np = r->procs.n;

	r->nstale = 0;
	if (np > r->order_cap) {
		struct proc_order *o = realloc(r->order, np * sizeof(*o));
		if (!o)
			return SQLITE_NOMEM;
		r->order = o;
		int32_t *pos = realloc(r->proc_pos, np * sizeof(*pos));
		if (!pos)
			return SQLITE_NOMEM;
		r->proc_pos = pos;
		r->order_cap = np;
	}
	for (size_t i = 0; i < np; i++) {
		r->order[i] = (struct proc_order){procs[i].p.pid, (uint32_t)i, procs[i].id};
		r->proc_pos[i] = -1;
	}
	if (np)
		qsort(r->order, np, sizeof(*r->order), cmp_order);
	for (size_t i = 0; i < np; i++) {
		if (s->nprocs && s->procs[s->nprocs - 1].pid == r->order[i].pid)
			continue; /* two live rows for one pid: only a damaged file has them */
		struct proc_rec *p = snapshot_add_proc(s);
		if (!p)
			return SQLITE_NOMEM;
		*p = procs[r->order[i].idx].p;
		r->proc_pos[r->order[i].idx] = (int32_t)(s->nprocs - 1);
	}
	for (size_t i = 0; i < r->fds.n; i++) {
		const struct r_fd *f = (const struct r_fd *)(r->fds.v + i * r->fds.esize);
		const struct r_proc *p = rvec_find(&r->procs, f->proc);
		if (!p || r->proc_pos[p - procs] < 0)
			continue;
		struct sock_owner *o = snapshot_add_owner(s);
		if (!o)
			return SQLITE_NOMEM;
		o->proc = r->proc_pos[p - procs];
		o->fd = f->fd;
		o->inode = f->inode;
		if (nstale_ids && bsearch(&f->id, r->stale_ids, nstale_ids, sizeof(*r->stale_ids), cmp_i64))
			r->stale[r->nstale++] = (struct stale_fd){p->p.pid, f->fd, f->inode};
	}
	for (size_t i = 0; i < r->socks.n; i++) {
		const struct r_sock *rs = (const struct r_sock *)(r->socks.v + i * r->socks.esize);
		struct sock_rec *k = snapshot_add_sock(s);
		if (!k)
			return SQLITE_NOMEM;
		*k = rs->k;
		if (k->family == AF_UNIX && (k->un.name = rs->name ? snapshot_add_name_text(s, rs->name) : 0) == 0 &&
		    rs->name)
			return SQLITE_NOMEM;
	}
	for (size_t i = 0; i < r->netns.n; i++) {
		const struct r_netns *rn = (const struct r_netns *)(r->netns.v + i * r->netns.esize);
		struct netns_rec *n = snapshot_add_netns(s, rn->inode, rn->dumped);
		if (!n)
			return SQLITE_NOMEM;
		n->own |= rn->own;
	}
	int brc = snapshot_build_checked(s, r->nstale ? replay_fd_check : NULL, r);
	if (brc)
		return brc == -ENOMEM ? SQLITE_NOMEM : SQLITE_CORRUPT;
	if (r->ports.n > s->ports_cap) {
		struct port_agg *p = realloc(s->ports, r->ports.n * sizeof(*p));
		if (!p)
			return SQLITE_NOMEM;
		s->ports = p;
		s->ports_cap = r->ports.n;
	}
	for (size_t i = 0; i < r->ports.n; i++)
		s->ports[i] = ((const struct r_port *)(r->ports.v + i * r->ports.esize))->p;
	s->nports = r->ports.n;
	if (s->nports)
		qsort(s->ports, s->nports, sizeof(*s->ports), port_agg_cmp);
	return SQLITE_OK;
}

static int load_refresh(struct replay_source *r, uint64_t tick, struct snapshot *s)
{
	sqlite3_stmt *q = bind_ticks(r, R_REFRESH, tick, 0);
	int rc = sqlite3_step(q);

	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
	s->time = sqlite3_column_double(q, 0);
	s->refresh_ms = sqlite3_column_double(q, 1);
	copy_text(s->status, sizeof(s->status), q, 2);
	s->totals.unreadable = col_u32(q, 3);
	s->totals.file_alloc = col_u64(q, 4);
	s->totals.file_max = col_u64(q, 5);
	s->closed_valid = sqlite3_column_int(q, 6) != 0;
	s->netns_limited = sqlite3_column_int(q, 7) != 0;
	s->tick = tick;
	return SQLITE_OK;
}

/* Rebuild refresh `index` into s: one step from the last one when it follows it,
 * from scratch otherwise. Returns an SQLite result code. */
static int rebuild(struct replay_source *r, long index, struct snapshot *s)
{
	uint64_t tick = r->ticks[index];
	bool step = r->state_valid && r->pos >= 0 && index == r->pos + 1 && r->state_tick == r->ticks[r->pos];
	int rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);
	size_t nstale = 0;

	r->state_valid = false;
	snapshot_clear(s);
	if (rc == SQLITE_OK)
		rc = step ? load_step(r, r->state_tick, tick) : load_full(r, tick);
	/* The refresh's flags first: the join reads closed_valid. */
	if (rc == SQLITE_OK)
		rc = load_refresh(r, tick, s);
	if (rc == SQLITE_OK)
		rc = load_stale(r, tick, &nstale);
	if (rc == SQLITE_OK)
		rc = materialize(r, s, nstale);
	for (int i = 0; i < R_COUNT; i++)
		sqlite3_reset(r->q[i]);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		r->state_valid = true;
		r->state_tick = tick;
	}
	return rc;
}

/* Append refreshes committed since we last looked. */
static int list_refreshes(struct replay_source *r)
{
	sqlite3_stmt *q = r->q[R_LIST];
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, r->n ? (sqlite3_int64)r->ticks[r->n - 1] : 0);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (r->n == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 1024;
			uint64_t *t = realloc(r->ticks, cap * sizeof(*t));
			if (!t)
				return SQLITE_NOMEM;
			r->ticks = t;
			double *w = realloc(r->times, cap * sizeof(*w));
			if (!w)
				return SQLITE_NOMEM;
			r->times = w;
			r->cap = cap;
		}
		r->ticks[r->n] = col_u64(q, 0);
		r->times[r->n++] = sqlite3_column_double(q, 1);
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int replay_next(struct source *src, struct snapshot *s, char **cause)
{
	struct replay_source *r = (struct replay_source *)src;
	int rc;

	if (r->broken)
		return 1;
	if ((size_t)r->next >= r->n && (rc = list_refreshes(r)) != SQLITE_OK) {
		r->broken = true;
		return text_cause(cause, -EILSEQ, "%s is damaged after refresh %zu: %s", r->path, r->n,
				 sqlite3_errstr(rc));
	}
	if ((size_t)r->next >= r->n)
		return 1;
	if ((rc = rebuild(r, r->next, s)) != SQLITE_OK) {
		r->broken = true;
		return text_cause(cause, rc == SQLITE_NOMEM ? -ENOMEM : -EILSEQ, "%s is damaged at refresh %llu: %s",
				 r->path, (unsigned long long)r->ticks[r->next], sqlite3_errstr(rc));
	}
	r->pos = r->next++;
	return 0;
}

static void replay_free(struct source *src)
{
	struct replay_source *r = (struct replay_source *)src;

	for (int i = 0; i < R_COUNT; i++)
		sqlite3_finalize(r->q[i]);
	sqlite3_close(r->db);
	free(r->ticks);
	free(r->times);
	rvec_empty(r, K_SOCK);
	free(r->procs.v);
	free(r->fds.v);
	free(r->socks.v);
	free(r->ports.v);
	free(r->netns.v);
	free(r->stale_ids);
	free(r->stale);
	free(r->order);
	free(r->proc_pos);
	free(r->path);
	free(r);
}

static const struct source_ops replay_ops = {
	.name = "replay",
	.next = replay_next,
	.free = replay_free,
};

/* The changing columns of port_change, one per TCP state among them. */
static void port_change_cols(FILE *f)
{
	fputs("c.count, c.recv_q, c.accept_q, c.accept_max, c.pids, c.pids_truncated", f);
	for (unsigned st = 0; st < ST_COUNT; st++) {
		fputs(", c.", f);
		for (const char *c = sk_state_name(st); *c; c++)
			fputc(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c, f);
	}
}

static char *port_sql(bool full)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);

	if (!f)
		return NULL;
	if (full) {
		fputs("SELECT " PORT_ID ", ", f);
		port_change_cols(f);
		fputs(" FROM port p" LATEST("port_change", "port", "p") ALIVE("p") " ORDER BY p.id", f);
	} else {
		fputs("SELECT c.port, ", f);
		port_change_cols(f);
		fputs(" FROM port_change c WHERE c.tick > ?1 AND c.tick <= ?2 ORDER BY c.tick", f);
	}
	fclose(f);
	return sql;
}

int replay_source_new(struct source **out, const char *path, char **cause)
{
	struct replay_source *r = calloc(1, sizeof(*r));
	char *full = port_sql(true), *step = port_sql(false);
	int rc;

	*out = NULL;
	if (!r || !full || !step || !(r->path = strdup(path))) {
		free(full);
		free(step);
		free(r);
		return -ENOMEM;
	}
	r->base.ops = &replay_ops;
	r->pos = -1;
	r->procs.esize = sizeof(struct r_proc);
	r->fds.esize = sizeof(struct r_fd);
	r->socks.esize = sizeof(struct r_sock);
	r->ports.esize = sizeof(struct r_port);
	r->netns.esize = sizeof(struct r_netns);
	if ((rc = record_read_open(&r->db, path, &r->info, cause))) {
		free(full);
		free(step);
		replay_free(&r->base);
		return rc;
	}
	for (int i = 0; i < R_COUNT && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v2(r->db, i == F_PORTS ? full : i == C_PORTS ? step : replay_sql[i], -1, &r->q[i],
					NULL);
	free(full);
	free(step);
	if (rc == SQLITE_OK)
		rc = list_refreshes(r);
	if (rc != SQLITE_OK && !r->n) {
		rc = text_cause(cause, -EILSEQ, "%s is damaged or not a leaktop recording: %s", path,
			       sqlite3_errmsg(r->db));
		replay_free(&r->base);
		return rc;
	}
	/* A damaged refresh list still replays the refreshes read before the damage. */
	*out = &r->base;
	return 0;
}

const struct record_info *replay_info(const struct source *src)
{
	return &((const struct replay_source *)src)->info;
}

size_t replay_count(struct source *src)
{
	struct replay_source *r = (struct replay_source *)src;

	if (!r->broken)
		list_refreshes(r);
	return r->n;
}

long replay_pos(const struct source *src)
{
	return ((const struct replay_source *)src)->pos;
}

void replay_seek(struct source *src, long index)
{
	struct replay_source *r = (struct replay_source *)src;
	long n = (long)replay_count(src);

	r->next = index < 0 ? 0 : index >= n ? (n ? n - 1 : 0) : index;
}

long replay_find_time(struct source *src, double t)
{
	struct replay_source *r = (struct replay_source *)src;
	size_t lo = 0, hi = replay_count(src);

	/* The first refresh after t, minus one. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->times[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (long)lo - 1 : 0;
}

double replay_time(const struct source *src, long index)
{
	const struct replay_source *r = (const struct replay_source *)src;
	return index >= 0 && (size_t)index < r->n ? r->times[index] : 0;
}

uint64_t replay_tick(const struct source *src, long index)
{
	const struct replay_source *r = (const struct replay_source *)src;
	return index >= 0 && (size_t)index < r->n ? r->ticks[index] : 0;
}
