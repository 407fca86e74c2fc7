/* The replay source: rebuilds the snapshot of any recorded refresh from the rows
 * alive at its tick and their latest change (a seek), or from the refresh before it
 * and what changed since (a step), then joins it like the live source. */
#include "config.h"

#include "sources/replay.h"
#include "sources/recread.h"
#include "sources/source.h"
#include "model/schema.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
	sqlite3_stmt *q[RQ_COUNT];
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
	struct record_event *events; /* of the refresh delivered last */
	size_t nevents, events_cap;
	sqlite3_stmt *dump_q;        /* an event's thread dump; NULL until needed */
	bool no_dumps;               /* the recording has no event_dump table */
};

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

static struct rvec *kind_vec(struct replay_source *r, enum recread_kind k)
{
	struct rvec *const v[RK_COUNT] = {[RK_PROC] = &r->procs, [RK_FD] = &r->fds, [RK_SOCK] = &r->socks,
					 [RK_PORT] = &r->ports, [RK_NETNS] = &r->netns};
	return v[k];
}

/* What an element owns besides itself: a socket's name. */
static void release(enum recread_kind k, void *e)
{
	if (k == RK_SOCK) {
		free(((struct r_sock *)e)->name);
		((struct r_sock *)e)->name = NULL;
	}
}

static void rvec_empty(struct replay_source *r, enum recread_kind k)
{
	struct rvec *v = kind_vec(r, k);

	for (size_t i = 0; i < v->n; i++)
		release(k, v->v + i * v->esize);
	v->n = 0;
}

/* Read one row of a query into a new element: identity, and with full set, the
 * changing part that follows it. Returns an SQLite result code. */
static int read_row(enum recread_kind k, sqlite3_stmt *q, void *e, bool full)
{
	switch (k) {
	case RK_PROC:
		recread_proc_id(q, &((struct r_proc *)e)->p);
		if (full)
			recread_proc_ch(q, recread_change_base(k), &((struct r_proc *)e)->p);
		break;
	case RK_FD: {
		struct r_fd *f = e;
		recread_fd(q, &f->proc, &f->fd, &f->inode);
		break;
	}
	case RK_SOCK:
		if (full)
			recread_sock_ch(q, recread_change_base(k), &((struct r_sock *)e)->k);
		return recread_sock_id(q, &((struct r_sock *)e)->k, &((struct r_sock *)e)->name);
	case RK_PORT:
		recread_port_id(q, &((struct r_port *)e)->p);
		if (full)
			recread_port_ch(q, recread_change_base(k), &((struct r_port *)e)->p);
		break;
	case RK_NETNS: {
		struct r_netns *n = e;
		recread_netns(q, &n->inode, &n->dumped, &n->own);
		break;
	}
	case RK_COUNT:
		break;
	}
	return SQLITE_OK;
}

static int run_rows(struct replay_source *r, enum recread_kind k, sqlite3_stmt *q, bool full)
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

static int run_gone(struct replay_source *r, enum recread_kind k, sqlite3_stmt *q)
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

static int run_changes(struct replay_source *r, enum recread_kind k, sqlite3_stmt *q)
{
	struct rvec *v = kind_vec(r, k);
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		void *e = rvec_find(v, sqlite3_column_int64(q, 0));
		if (!e)
			continue;
		if (k == RK_PROC)
			recread_proc_ch(q, RECREAD_CHANGES_BASE, &((struct r_proc *)e)->p);
		else if (k == RK_SOCK)
			recread_sock_ch(q, RECREAD_CHANGES_BASE, &((struct r_sock *)e)->k);
		else if (k == RK_PORT)
			recread_port_ch(q, RECREAD_CHANGES_BASE, &((struct r_port *)e)->p);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static sqlite3_stmt *bind_ticks(struct replay_source *r, enum recread_stmt id, uint64_t a, uint64_t b)
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

	for (int k = 0; k < RK_COUNT && rc == SQLITE_OK; k++) {
		rvec_empty(r, (enum recread_kind)k);
		rc = run_rows(r, (enum recread_kind)k, bind_ticks(r, (enum recread_stmt)(RQ_FULL + k), tick, 0), true);
	}
	return rc;
}

/* A kernel bound on a socket's state age belongs to the tick of its change row: a
 * step forgets the last one (as the live run asks for it on its first refresh only),
 * while a seek keeps it, still a lower bound since no change row came after. */
static void forget_age_bounds(struct replay_source *r)
{
	struct rvec *v = kind_vec(r, RK_SOCK);

	for (size_t i = 0; i < v->n; i++)
		((struct r_sock *)(v->v + i * v->esize))->k.state_age_ms = 0;
}

/* From the refresh at prev to the one at tick: what appeared, then what went (a row
 * may do both between two refreshes), then what changed, in tick order. */
static int load_step(struct replay_source *r, uint64_t prev, uint64_t tick)
{
	int rc = SQLITE_OK;

	forget_age_bounds(r);

	for (int k = 0; k < RK_COUNT && rc == SQLITE_OK; k++) {
		rc = run_rows(r, (enum recread_kind)k, bind_ticks(r, (enum recread_stmt)(RQ_NEW + k), prev, tick), false);
		if (rc == SQLITE_OK)
			rc = run_gone(r, (enum recread_kind)k, bind_ticks(r, (enum recread_stmt)(RQ_GONE + k), prev, tick));
		if (rc == SQLITE_OK && r->q[RQ_CHANGES + k])
			rc = run_changes(r, (enum recread_kind)k,
					 bind_ticks(r, (enum recread_stmt)(RQ_CHANGES + k), prev, tick));
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
	sqlite3_stmt *q = bind_ticks(r, RQ_STALE, tick, 0);
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
	sqlite3_stmt *q = bind_ticks(r, RQ_REFRESH, tick, 0);
	int rc = sqlite3_step(q);

	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
	recread_refresh(q, s);
	s->tick = tick;
	return SQLITE_OK;
}

static void events_clear(struct replay_source *r)
{
	for (size_t i = 0; i < r->nevents; i++) {
		free((char *)r->events[i].what);
		free((char *)r->events[i].result);
		free((char *)r->events[i].dump);
	}
	r->nevents = 0;
}

/* The thread dump kept with event id, if any, into ev (raw bytes, NUL-terminated). */
static int load_dump(struct replay_source *r, int64_t id, struct record_event *ev)
{
	int rc;

	if (r->no_dumps)
		return SQLITE_OK;
	if (!r->dump_q) {
		char *sql = NULL;
		if (asprintf(&sql, "SELECT %s FROM %s WHERE %s = ?1", schema_tables[TB_EVENT_DUMP].cols[EVDUMP_TEXT].name,
			     schema_tables[TB_EVENT_DUMP].name, schema_tables[TB_EVENT_DUMP].cols[EVDUMP_EVENT].name) < 0)
			return SQLITE_NOMEM;
		/* A recording older than thread dumps has no such table: none to show. */
		r->no_dumps = sqlite3_prepare_v2(r->db, sql, -1, &r->dump_q, NULL) != SQLITE_OK;
		free(sql);
		if (r->no_dumps)
			return SQLITE_OK;
	}
	sqlite3_reset(r->dump_q);
	sqlite3_bind_int64(r->dump_q, 1, id);
	if ((rc = sqlite3_step(r->dump_q)) == SQLITE_ROW) {
		int len = sqlite3_column_bytes(r->dump_q, 0);
		const void *b = sqlite3_column_blob(r->dump_q, 0);
		char *d = malloc((size_t)len + 1);
		if (!d)
			return SQLITE_NOMEM;
		if (len)
			memcpy(d, b, (size_t)len);
		d[len] = '\0';
		ev->dump = d;
		ev->dump_len = (size_t)len;
		rc = SQLITE_DONE;
	}
	sqlite3_reset(r->dump_q);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The events tied to tick. */
static int load_events(struct replay_source *r, uint64_t tick)
{
	sqlite3_stmt *q = bind_ticks(r, RQ_EVENTS, tick, 0);
	int rc;

	events_clear(r);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (r->nevents == r->events_cap) {
			size_t cap = r->events_cap ? r->events_cap * 2 : 8;
			struct record_event *e = realloc(r->events, cap * sizeof(*e));
			if (!e)
				return SQLITE_NOMEM;
			r->events = e;
			r->events_cap = cap;
		}
		if ((rc = recread_event(q, &r->events[r->nevents])) != SQLITE_OK)
			return rc;
		r->nevents++;
		if ((rc = load_dump(r, sqlite3_column_int64(q, EVENT_ID), &r->events[r->nevents - 1])) != SQLITE_OK)
			return rc;
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
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
	events_clear(r);
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
	if (rc == SQLITE_OK)
		rc = load_events(r, tick);
	for (int i = 0; i < RQ_COUNT; i++)
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
	sqlite3_stmt *q = r->q[RQ_LIST];
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
		r->ticks[r->n] = (uint64_t)sqlite3_column_int64(q, 0);
		r->times[r->n++] = sqlite3_column_double(q, 1);
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The replay ends at the first refresh it cannot read, with what it is, what came
 * before it, and how to salvage the rest. */
static int damaged(struct replay_source *r, int rc, const char *what, char **cause)
{
	char note[4096 + 256];

	r->broken = true;
	if (rc == SQLITE_NOMEM)
		return text_cause(cause, -ENOMEM, "%s: out of memory", what);
	recread_damage(r->path, true, note, sizeof(note));
	return text_cause(cause, -EILSEQ, "%s: %s; replayed %ld (%s)", what, sqlite3_errmsg(r->db), r->next, note);
}

static int replay_next(struct source *src, struct snapshot *s, char **cause)
{
	struct replay_source *r = (struct replay_source *)src;
	char what[96];
	int rc;

	events_clear(r);
	if (r->broken)
		return 1;
	if ((size_t)r->next >= r->n && (rc = list_refreshes(r)) != SQLITE_OK) {
		snprintf(what, sizeof(what), "the refreshes after the %zu-th could not be listed", r->n);
		return damaged(r, rc, what, cause);
	}
	if ((size_t)r->next >= r->n)
		return 1;
	if ((rc = rebuild(r, r->next, s)) != SQLITE_OK) {
		snprintf(what, sizeof(what), "refresh %ld of %zu could not be read", r->next + 1, r->n);
		return damaged(r, rc, what, cause);
	}
	r->pos = r->next++;
	return 0;
}

static void replay_free(struct source *src)
{
	struct replay_source *r = (struct replay_source *)src;

	recread_finalize(r->q);
	sqlite3_finalize(r->dump_q);
	recread_close(r->db);
	free(r->ticks);
	free(r->times);
	rvec_empty(r, RK_SOCK);
	free(r->procs.v);
	free(r->fds.v);
	free(r->socks.v);
	free(r->ports.v);
	free(r->netns.v);
	free(r->stale_ids);
	free(r->stale);
	free(r->order);
	free(r->proc_pos);
	events_clear(r);
	free(r->events);
	free(r->path);
	free(r);
}

static const struct source_ops replay_ops = {
	.name = "replay",
	.next = replay_next,
	.free = replay_free,
};

int replay_source_new(struct source **out, const char *path, char **cause)
{
	struct replay_source *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r || !(r->path = strdup(path))) {
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
	if ((rc = recread_open(&r->db, path, &r->info, cause))) {
		replay_free(&r->base);
		return rc;
	}
	rc = recread_prepare(r->db, r->q, r->info.minor > 0 ? (unsigned)r->info.minor : 0);
	if (rc == SQLITE_OK)
		rc = list_refreshes(r);
	if (rc != SQLITE_OK && !r->n) {
		rc = recread_unreadable(r->db, path, rc, cause);
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

const struct record_event *replay_events(const struct source *src, size_t *n)
{
	const struct replay_source *r = (const struct replay_source *)src;

	*n = r->nevents;
	return r->nevents ? r->events : NULL;
}
