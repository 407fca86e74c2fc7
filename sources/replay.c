/* The replay source: rebuilds the snapshot of any recorded refresh from the rows
 * alive at its tick and their latest change, then joins it like the live source. */
#include "config.h"

#include "sources/replay.h"
#include "sources/source.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum replay_stmt { R_REFRESH, R_PROCS, R_FDS, R_SOCKS, R_PORTS, R_LIST, R_COUNT };

/* Rows alive at tick ?1 (appeared at or before it, not gone by it), each with its
 * latest change at or before it: the (row, tick) primary keys make that a seek. */
static const char *const replay_sql[R_COUNT] = {
	[R_REFRESH] = "SELECT time, refresh_ms, status, unreadable, file_alloc, file_max FROM refresh WHERE tick = ?1",
	[R_PROCS] = "SELECT p.id, p.pid, p.start_time, p.uid, p.netns, p.comm, p.user, p.unit, p.cmdline,"
		    " c.ppid, c.state, c.flags, c.rss_kb, c.fds, c.fd_limit, c.fd_limit_hard"
		    " FROM proc p JOIN proc_change c ON c.proc = p.id AND c.tick ="
		    " (SELECT max(tick) FROM proc_change WHERE proc = p.id AND tick <= ?1)"
		    " WHERE p.first_tick <= ?1 AND (p.gone_tick IS NULL OR p.gone_tick > ?1) ORDER BY p.pid, p.id",
	[R_FDS] = "SELECT proc, fd, inode FROM fd WHERE first_tick <= ?1 AND (gone_tick IS NULL OR gone_tick > ?1)",
	[R_SOCKS] = "SELECT s.cookie, s.netns, s.family, s.proto, s.laddr, s.lport, s.raddr, s.rport,"
		    " c.state, c.rqueue, c.wqueue, c.timer, c.retrans, c.inode, c.uid"
		    " FROM sock s JOIN sock_change c ON c.sock = s.id AND c.tick ="
		    " (SELECT max(tick) FROM sock_change WHERE sock = s.id AND tick <= ?1)"
		    " WHERE s.first_tick <= ?1 AND (s.gone_tick IS NULL OR s.gone_tick > ?1) ORDER BY s.id",
	[R_PORTS] = NULL, /* built from the state names, see ports_sql */
	[R_LIST] = "SELECT tick, time FROM refresh WHERE tick > ?1 ORDER BY tick",
};

struct id_index {
	int64_t id;
	int32_t idx;
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
	struct id_index *procs_by_id;
	size_t procs_by_id_cap;
};

static int set_cause(char **cause, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int set_cause(char **cause, int rc, const char *fmt, ...)
{
	va_list ap;

	if (cause) {
		free(*cause);
		va_start(ap, fmt);
		if (vasprintf(cause, fmt, ap) < 0)
			*cause = NULL;
		va_end(ap);
	}
	return rc;
}

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

static int cmp_id(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

static int load_procs(struct replay_source *r, struct snapshot *s)
{
	sqlite3_stmt *q = r->q[R_PROCS];
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int32_t pid = sqlite3_column_int(q, 1);
		if (s->nprocs && s->procs[s->nprocs - 1].pid >= pid)
			continue; /* two live rows for one pid: only a damaged file has them */
		struct proc_rec *p = snapshot_add_proc(s);
		if (!p)
			return SQLITE_NOMEM;
		if (s->nprocs > r->procs_by_id_cap) {
			size_t cap = s->procs_cap;
			struct id_index *m = realloc(r->procs_by_id, cap * sizeof(*m));
			if (!m)
				return SQLITE_NOMEM;
			r->procs_by_id = m;
			r->procs_by_id_cap = cap;
		}
		r->procs_by_id[s->nprocs - 1] = (struct id_index){sqlite3_column_int64(q, 0), (int32_t)(s->nprocs - 1)};
		p->pid = pid;
		p->start_time = col_u64(q, 2);
		p->uid = col_u32(q, 3);
		p->netns = col_u64(q, 4);
		copy_text(p->comm, sizeof(p->comm), q, 5);
		copy_text(p->user, sizeof(p->user), q, 6);
		copy_text(p->unit, sizeof(p->unit), q, 7);
		copy_text(p->cmdline, sizeof(p->cmdline), q, 8);
		p->ppid = sqlite3_column_int(q, 9);
		const unsigned char *st = sqlite3_column_text(q, 10);
		p->state = st && st[0] >= 0x20 && st[0] < 0x7f ? (char)st[0] : '?';
		p->flags = col_u32(q, 11);
		p->rss_kb = col_u64(q, 12);
		p->fds = sqlite3_column_int64(q, 13);
		p->fd_limit = col_limit(q, 14);
		p->fd_limit_hard = col_limit(q, 15);
	}
	if (rc != SQLITE_DONE)
		return rc;
	qsort(r->procs_by_id, s->nprocs, sizeof(*r->procs_by_id), cmp_id);
	return SQLITE_OK;
}

static int load_fds(struct replay_source *r, struct snapshot *s)
{
	sqlite3_stmt *q = r->q[R_FDS];
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct id_index key = {.id = sqlite3_column_int64(q, 0)};
		const struct id_index *m = s->nprocs ? bsearch(&key, r->procs_by_id, s->nprocs,
							      sizeof(key), cmp_id) : NULL;
		if (!m)
			continue;
		struct sock_owner *o = snapshot_add_owner(s);
		if (!o)
			return SQLITE_NOMEM;
		o->proc = m->idx;
		o->fd = sqlite3_column_int(q, 1);
		o->inode = col_u32(q, 2);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int load_socks(struct replay_source *r, struct snapshot *s)
{
	sqlite3_stmt *q = r->q[R_SOCKS];
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct sock_rec *k = snapshot_add_sock(s);
		if (!k)
			return SQLITE_NOMEM;
		k->cookie = col_u64(q, 0);
		k->netns = col_u64(q, 1);
		k->family = (uint8_t)sqlite3_column_int(q, 2);
		k->proto = (uint8_t)sqlite3_column_int(q, 3);
		col_addr(q, 4, k->family, k->laddr);
		k->lport = (uint16_t)sqlite3_column_int(q, 5);
		col_addr(q, 6, k->family, k->raddr);
		k->rport = (uint16_t)sqlite3_column_int(q, 7);
		k->state = (uint8_t)sqlite3_column_int(q, 8);
		k->rqueue = col_u32(q, 9);
		k->wqueue = col_u32(q, 10);
		k->timer = (uint8_t)sqlite3_column_int(q, 11);
		k->retrans = (uint8_t)sqlite3_column_int(q, 12);
		k->inode = col_u32(q, 13);
		k->uid = col_u32(q, 14);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The per-port aggregates as recorded (the owners kept in pids[] depend on the
 * dump's order, which a replay does not have), sorted as the live refresh sorted them. */
static int load_ports(struct replay_source *r, struct snapshot *s)
{
	sqlite3_stmt *q = r->q[R_PORTS];
	int rc;

	s->nports = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (s->nports == s->ports_cap) {
			size_t cap = s->ports_cap ? s->ports_cap * 2 : 64;
			struct port_agg *p = realloc(s->ports, cap * sizeof(*p));
			if (!p)
				return SQLITE_NOMEM;
			s->ports = p;
			s->ports_cap = cap;
		}
		struct port_agg *p = &s->ports[s->nports++];
		const char *pids = (const char *)sqlite3_column_text(q, 7);
		memset(p, 0, sizeof(*p));
		p->netns = col_u64(q, 0);
		p->port = (uint16_t)sqlite3_column_int(q, 1);
		const char *side = (const char *)sqlite3_column_text(q, 2);
		p->side = side && !strcmp(side, "remote") ? SIDE_REMOTE : SIDE_LOCAL;
		p->count = col_u32(q, 3);
		p->recv_q = col_u64(q, 4);
		p->accept_q = col_u32(q, 5);
		p->accept_max = col_u32(q, 6);
		p->pids_truncated = sqlite3_column_int(q, 8) != 0;
		for (unsigned st = 0; st < ST_COUNT; st++)
			p->states[st] = col_u32(q, 9 + (int)st);
		while (pids && *pids && p->npids < PORT_MAX_PIDS) {
			char *end;
			long pid = strtol(pids, &end, 10);
			if (end == pids)
				break;
			p->pids[p->npids++] = (int32_t)pid;
			pids = *end == ',' ? end + 1 : end;
		}
	}
	if (rc != SQLITE_DONE)
		return rc;
	qsort(s->ports, s->nports, sizeof(*s->ports), port_agg_cmp);
	return SQLITE_OK;
}

static int load_refresh(struct replay_source *r, struct snapshot *s)
{
	sqlite3_stmt *q = r->q[R_REFRESH];
	int rc = sqlite3_step(q);

	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
	s->time = sqlite3_column_double(q, 0);
	s->refresh_ms = sqlite3_column_double(q, 1);
	copy_text(s->status, sizeof(s->status), q, 2);
	s->totals.unreadable = col_u32(q, 3);
	s->totals.file_alloc = col_u64(q, 4);
	s->totals.file_max = col_u64(q, 5);
	return SQLITE_OK;
}

/* Rebuild refresh `tick` into s. Returns an SQLite result code. */
static int rebuild(struct replay_source *r, uint64_t tick, struct snapshot *s)
{
	int rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);

	snapshot_clear(s);
	for (int i = 0; i < R_COUNT && rc == SQLITE_OK; i++) {
		sqlite3_reset(r->q[i]);
		if (i != R_LIST)
			rc = sqlite3_bind_int64(r->q[i], 1, (sqlite3_int64)tick);
	}
	if (rc == SQLITE_OK && (rc = load_procs(r, s)) == SQLITE_OK && (rc = load_fds(r, s)) == SQLITE_OK &&
	    (rc = load_socks(r, s)) == SQLITE_OK) {
		int brc = snapshot_build(s);
		if (brc)
			rc = brc == -ENOMEM ? SQLITE_NOMEM : SQLITE_CORRUPT;
	}
	if (rc == SQLITE_OK && (rc = load_ports(r, s)) == SQLITE_OK)
		rc = load_refresh(r, s);
	s->tick = tick;
	for (int i = 0; i < R_COUNT; i++)
		sqlite3_reset(r->q[i]);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
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
		return set_cause(cause, -EILSEQ, "%s is damaged after refresh %zu: %s", r->path, r->n,
				 sqlite3_errstr(rc));
	}
	if ((size_t)r->next >= r->n)
		return 1;
	if ((rc = rebuild(r, r->ticks[r->next], s)) != SQLITE_OK) {
		r->broken = true;
		return set_cause(cause, rc == SQLITE_NOMEM ? -ENOMEM : -EILSEQ, "%s is damaged at refresh %llu: %s",
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
	free(r->procs_by_id);
	free(r->path);
	free(r);
}

static const struct source_ops replay_ops = {
	.name = "replay",
	.next = replay_next,
	.free = replay_free,
};

static char *ports_sql(void)
{
	char *sql = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);

	if (!f)
		return NULL;
	fputs("SELECT p.netns, p.port, p.side, c.count, c.recv_q, c.accept_q, c.accept_max, c.pids, c.pids_truncated", f);
	for (unsigned st = 0; st < ST_COUNT; st++) {
		fputs(", c.", f);
		for (const char *c = sk_state_name(st); *c; c++)
			fputc(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c, f);
	}
	fputs(" FROM port p JOIN port_change c ON c.port = p.id AND c.tick ="
	      " (SELECT max(tick) FROM port_change WHERE port = p.id AND tick <= ?1)"
	      " WHERE p.first_tick <= ?1 AND (p.gone_tick IS NULL OR p.gone_tick > ?1)", f);
	fclose(f);
	return sql;
}

int replay_source_new(struct source **out, const char *path, char **cause)
{
	struct replay_source *r = calloc(1, sizeof(*r));
	char *psql = ports_sql();
	int rc;

	*out = NULL;
	if (!r || !psql || !(r->path = strdup(path))) {
		free(psql);
		free(r);
		return -ENOMEM;
	}
	r->base.ops = &replay_ops;
	r->pos = -1;
	if ((rc = record_read_open(&r->db, path, &r->info, cause))) {
		free(psql);
		replay_free(&r->base);
		return rc;
	}
	for (int i = 0; i < R_COUNT && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v2(r->db, i == R_PORTS ? psql : replay_sql[i], -1, &r->q[i], NULL);
	free(psql);
	if (rc == SQLITE_OK)
		rc = list_refreshes(r);
	if (rc != SQLITE_OK && !r->n) {
		rc = set_cause(cause, -EILSEQ, "%s is damaged or not a leaktop recording: %s", path,
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
