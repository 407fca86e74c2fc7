/* Writing a recording: each refresh is compared with the last one, and only what
 * appeared, changed or went away is stored, in one transaction per refresh whose
 * `refresh` row is written last (a refresh without one never happened). */
#include "config.h"

#include "tui/writers/record.h"
#include "tui/writers/etab.h"
#include "tui/writers/recfile.h"
#include "model/schema.h"
#include "sources/recread.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "model/vec.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct sock_ent {
	struct ent_hdr h;  /* cookie, netns */
	struct sock_rec k; /* a UNIX socket's un.name is an offset in the table's names */
};

struct proc_ent {
	struct ent_hdr h;  /* pid, start_time */
	struct proc_rec p;
};

struct port_ent {
	struct ent_hdr h;  /* netns, proto << 17 | port << 1 | side */
	struct port_agg p;
};

struct netns_ent {
	struct ent_hdr h;  /* inode, own << 1 | dumped: a change is a new row */
};

struct fd_ent {
	struct ent_hdr h;  /* proc row id, fd */
	uint32_t inode;
};

enum stmt_id {
	Q_SOCK, Q_SOCK_GONE, Q_SOCK_CHANGE,
	Q_PROC, Q_PROC_GONE, Q_PROC_CHANGE,
	Q_FD, Q_FD_GONE, Q_FD_STALE,
	Q_NETNS, Q_NETNS_GONE,
	Q_PORT, Q_PORT_GONE, Q_PORT_CHANGE, Q_REFRESH, Q_EVENT, Q_EVENT_DUMP,
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_COUNT
};

/* Which table each statement writes and how; the SQL comes from model/schema. */
enum stmt_op { OP_INSERT, OP_GONE, OP_SQL };

static const struct stmt_def {
	enum stmt_op op;
	enum schema_table table;
	const char *sql; /* OP_SQL */
} stmt_defs[Q_COUNT] = {
	[Q_SOCK] = {OP_INSERT, TB_SOCK, NULL},
	[Q_SOCK_GONE] = {OP_GONE, TB_SOCK, NULL},
	[Q_SOCK_CHANGE] = {OP_INSERT, TB_SOCK_CHANGE, NULL},
	[Q_PROC] = {OP_INSERT, TB_PROC, NULL},
	[Q_PROC_GONE] = {OP_GONE, TB_PROC, NULL},
	[Q_PROC_CHANGE] = {OP_INSERT, TB_PROC_CHANGE, NULL},
	[Q_FD] = {OP_INSERT, TB_FD, NULL},
	[Q_FD_GONE] = {OP_GONE, TB_FD, NULL},
	[Q_FD_STALE] = {OP_INSERT, TB_FD_STALE, NULL},
	[Q_NETNS] = {OP_INSERT, TB_NETNS, NULL},
	[Q_NETNS_GONE] = {OP_GONE, TB_NETNS, NULL},
	[Q_PORT] = {OP_INSERT, TB_PORT, NULL},
	[Q_PORT_GONE] = {OP_GONE, TB_PORT, NULL},
	[Q_PORT_CHANGE] = {OP_INSERT, TB_PORT_CHANGE, NULL},
	[Q_REFRESH] = {OP_INSERT, TB_REFRESH, NULL},
	[Q_EVENT] = {OP_INSERT, TB_EVENT, NULL},
	[Q_EVENT_DUMP] = {OP_INSERT, TB_EVENT_DUMP, NULL},
	[Q_BEGIN] = {OP_SQL, TB_COUNT, "BEGIN"},
	[Q_COMMIT] = {OP_SQL, TB_COUNT, "COMMIT"},
	[Q_ROLLBACK] = {OP_SQL, TB_COUNT, "ROLLBACK"},
};

/* The INSERT parameter of a column. */
#define P(t, c) schema_param(t, c)

struct record {
	sqlite3 *db;
	sqlite3_stmt *q[Q_COUNT];
	/* [cur]: the last refresh; the other is built */
	struct etab socks[2], procs[2], fds[2], ports[2], netns[2];
	int cur;
	int64_t *proc_ids;   /* row id of each process of the snapshot being recorded */
	size_t proc_ids_cap;
	uint64_t tick;       /* last recorded */
};

/* Binding helpers: SQLite integers are signed 64-bit; a uint64 keeps its bits. */
static void bind_u64(sqlite3_stmt *q, int i, uint64_t v)
{
	sqlite3_bind_int64(q, i, (sqlite3_int64)v);
}

static void bind_limit(sqlite3_stmt *q, int i, uint64_t v)
{
	if (v == UINT64_MAX)
		sqlite3_bind_null(q, i);
	else
		bind_u64(q, i, v);
}

static void bind_text(sqlite3_stmt *q, int i, const char *s, size_t max)
{
	sqlite3_bind_text(q, i, s, (int)strnlen(s, max), SQLITE_STATIC);
}

static void bind_addr(sqlite3_stmt *q, int i, int family, const uint8_t addr[16])
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr, ip, sizeof(ip)))
		strcpy(ip, "?");
	sqlite3_bind_text(q, i, ip, -1, SQLITE_TRANSIENT);
}

/* Run a prepared statement to completion and reset it for the next use. */
static int step(struct record *r, enum stmt_id id)
{
	sqlite3_stmt *q = r->q[id];
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : rc;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Run an INSERT into t of the given text columns (NULL for the others). */
static int insert_row(sqlite3 *db, enum schema_table t, const char *const *vals, unsigned n)
{
	char *sql = schema_insert_sql(t);
	sqlite3_stmt *q;
	int rc;

	if (!sql)
		return SQLITE_NOMEM;
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL)) == SQLITE_OK) {
		for (unsigned c = 0; c < n; c++)
			sqlite3_bind_text(q, P(t, c), vals[c], -1, SQLITE_STATIC);
		rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_finalize(q);
	}
	free(sql);
	return rc;
}

static int put_meta(sqlite3 *db, enum schema_meta key, const char *fmt, ...)
{
	char *val = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return SQLITE_NOMEM;
	rc = insert_row(db, TB_META, (const char *const[META_NCOLS]){[META_KEY] = schema_meta_keys[key], [META_VALUE] = val},
			META_NCOLS);
	free(val);
	return rc;
}

static int write_schema(sqlite3 *db, const struct record_info *info)
{
	struct utsname un;
	char host[256] = "", *create = schema_create_sql();
	int rc;

	if (!create)
		return SQLITE_NOMEM;
	if (uname(&un))
		memset(&un, 0, sizeof(un));
	gethostname(host, sizeof(host) - 1);
	rc = exec(db, "BEGIN");
	if (!rc)
		rc = exec(db, create);
	free(create);
	for (unsigned st = 0; st < ST_COUNT && !rc; st++) {
		char num[16];
		snprintf(num, sizeof(num), "%u", st);
		rc = insert_row(db, TB_STATE, (const char *const[STATE_NCOLS]){[STATE_NUM] = num, [STATE_NAME] = sk_state_name(st)},
				STATE_NCOLS);
	}
	if (!rc)
		rc = put_meta(db, META_FORMAT_VERSION, "%d.%d", RECORD_FORMAT_MAJOR, RECORD_FORMAT_MINOR);
	if (!rc)
		rc = put_meta(db, META_HOST, "%s", host);
	if (!rc)
		rc = put_meta(db, META_KERNEL, "%s", un.release);
	if (!rc)
		rc = put_meta(db, META_LEAKTOP_VERSION, "%s", PACKAGE_VERSION);
	if (!rc)
		rc = put_meta(db, META_INTERVAL, "%.17g", info->interval);
	if (!rc)
		rc = put_meta(db, META_START_TIME, "%.3f", (double)time(NULL));
	if (!rc)
		rc = put_meta(db, META_BOOT_TIME, "%.17g", info->boot_time);
	if (!rc)
		rc = put_meta(db, META_CLK_TCK, "%ld", info->clk_tck);
	if (!rc)
		rc = exec(db, "COMMIT");
	else
		exec(db, "ROLLBACK");
	return rc;
}

/* SQLite gives its -wal and -shm files the database's mode; make sure anyway, as
 * they hold the same data, and that they are ours: SQLite may remove the ones
 * recfile made and create them again by name. */
static int check_side(const char *path, const char *suffix, char **cause)
{
	char name[4200];
	struct stat st;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	if (lstat(name, &st))
		return 0;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1)
		return text_cause(cause, -EPERM, "%s was replaced by another user's file while leaktop created it; "
				  "recording refused", name);
	if (st.st_mode & 077)
		chmod(name, 0600);
	return 0;
}

static int prepare(struct record *r, enum stmt_id id)
{
	const struct stmt_def *d = &stmt_defs[id];
	char *sql = d->op == OP_INSERT ? schema_insert_sql(d->table) : d->op == OP_GONE ? schema_gone_sql(d->table) : NULL;
	int rc;

	if (d->op != OP_SQL && !sql)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v3(r->db, sql ? sql : d->sql, -1, SQLITE_PREPARE_PERSISTENT, &r->q[id], NULL);
	free(sql);
	return rc;
}

int record_open(struct record **out, const char *path, const struct record_info *info, char **cause)
{
	struct recfile file;
	struct record *r;
	mode_t old_mask;
	int rc;

	*out = NULL;
	if ((rc = recfile_create(&file, path, cause)))
		return rc;
	if (!(r = calloc(1, sizeof(*r)))) {
		recfile_undo(&file);
		return -ENOMEM;
	}
	for (int i = 0; i < 2; i++) {
		etab_init(&r->socks[i], sizeof(struct sock_ent));
		etab_init(&r->procs[i], sizeof(struct proc_ent));
		etab_init(&r->fds[i], sizeof(struct fd_ent));
		etab_init(&r->ports[i], sizeof(struct port_ent));
		etab_init(&r->netns[i], sizeof(struct netns_ent));
	}

	old_mask = umask(077);
	rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc != SQLITE_OK && r->db)
		rc = sqlite3_extended_errcode(r->db);
	if (rc == SQLITE_OK) {
		char pragmas[160];
		sqlite3_extended_result_codes(r->db, 1);
		/* Someone may already be reading the new file (a report, sqlite3). */
		sqlite3_busy_timeout(r->db, 5000);
		snprintf(pragmas, sizeof(pragmas),
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA application_id=%d;",
			 RECORD_APP_ID);
		rc = exec(r->db, pragmas);
	}
	if (rc == SQLITE_OK)
		rc = write_schema(r->db, info);
	umask(old_mask);
	for (int i = 0; i < Q_COUNT && rc == SQLITE_OK; i++)
		rc = prepare(r, (enum stmt_id)i);
	if (rc == SQLITE_CANTOPEN_SYMLINK)
		text_cause(cause, -ELOOP, "cannot write %s: a folder on its path is a symbolic link, which leaktop does "
			   "not follow (give the real path)", path);
	else if (rc != SQLITE_OK)
		text_cause(cause, recread_errno(rc), "cannot write %s: %s", path,
			   r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
	else if (!(rc = recfile_verify(&file, cause)) && !(rc = check_side(path, "-wal", cause)))
		rc = check_side(path, "-shm", cause);
	if (rc != SQLITE_OK) {
		rc = rc > 0 ? recread_errno(rc) : rc;
		record_close(r);
		recfile_undo(&file);
		return rc;
	}
	*out = r;
	return 0;
}

/* o from the last refresh (its name in the table t), k from this one (in s). */
static bool sock_same_identity(const struct etab *t, const struct sock_rec *o, const struct snapshot *s,
			       const struct sock_rec *k)
{
	if (o->family != k->family || o->proto != k->proto || o->type != k->type || o->lport != k->lport ||
	    o->rport != k->rport)
		return false;
	if (k->family == AF_UNIX)
		return o->un.peer == k->un.peer && !strcmp(etab_name(t, o->un.name), snapshot_name(s, k->un.name));
	return !memcmp(o->laddr, k->laddr, sizeof(k->laddr)) && !memcmp(o->raddr, k->raddr, sizeof(k->raddr));
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
	sqlite3_stmt *q = r->q[Q_SOCK];
	bool un = k->family == AF_UNIX;
	int rc;

	bind_u64(q, P(TB_SOCK, SOCK_COOKIE), k->cookie);
	bind_u64(q, P(TB_SOCK, SOCK_NETNS), k->netns);
	sqlite3_bind_int(q, P(TB_SOCK, SOCK_FAMILY), k->family);
	sqlite3_bind_int(q, P(TB_SOCK, SOCK_PROTO), k->proto);
	sqlite3_bind_int(q, P(TB_SOCK, SOCK_TYPE), k->type);
	/* A UNIX socket's address bytes are its name and peer: '' for the IP columns. */
	if (un)
		sqlite3_bind_text(q, P(TB_SOCK, SOCK_LADDR), "", 0, SQLITE_STATIC);
	else
		bind_addr(q, P(TB_SOCK, SOCK_LADDR), k->family, k->laddr);
	sqlite3_bind_int(q, P(TB_SOCK, SOCK_LPORT), k->lport);
	if (un)
		sqlite3_bind_text(q, P(TB_SOCK, SOCK_RADDR), "", 0, SQLITE_STATIC);
	else
		bind_addr(q, P(TB_SOCK, SOCK_RADDR), k->family, k->raddr);
	sqlite3_bind_int(q, P(TB_SOCK, SOCK_RPORT), k->rport);
	sqlite3_bind_text(q, P(TB_SOCK, SOCK_NAME), un ? snapshot_name(s, k->un.name) : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, P(TB_SOCK, SOCK_PEER), un ? k->un.peer : 0);
	bind_u64(q, P(TB_SOCK, SOCK_FIRST_TICK), r->tick);
	if ((rc = step(r, Q_SOCK)))
		return rc;
	*id = sqlite3_last_insert_rowid(r->db);
	return 0;
}

static int sock_change(struct record *r, int64_t id, const struct sock_rec *k)
{
	sqlite3_stmt *q = r->q[Q_SOCK_CHANGE];

	sqlite3_bind_int64(q, P(TB_SOCK_CHANGE, SOCKCH_SOCK), id);
	bind_u64(q, P(TB_SOCK_CHANGE, SOCKCH_TICK), r->tick);
	sqlite3_bind_int(q, P(TB_SOCK_CHANGE, SOCKCH_STATE), k->state);
	sqlite3_bind_int64(q, P(TB_SOCK_CHANGE, SOCKCH_RQUEUE), k->rqueue);
	sqlite3_bind_int64(q, P(TB_SOCK_CHANGE, SOCKCH_WQUEUE), k->wqueue);
	sqlite3_bind_int(q, P(TB_SOCK_CHANGE, SOCKCH_TIMER), k->timer);
	sqlite3_bind_int(q, P(TB_SOCK_CHANGE, SOCKCH_RETRANS), k->retrans);
	sqlite3_bind_int64(q, P(TB_SOCK_CHANGE, SOCKCH_INODE), k->inode);
	sqlite3_bind_int64(q, P(TB_SOCK_CHANGE, SOCKCH_UID), k->uid);
	/* Not part of sock_same_state: the live run knows it on its first refresh only. */
	if (k->state_age_ms)
		sqlite3_bind_int64(q, P(TB_SOCK_CHANGE, SOCKCH_STATE_AGE_MS), k->state_age_ms);
	else
		sqlite3_bind_null(q, P(TB_SOCK_CHANGE, SOCKCH_STATE_AGE_MS));
	return step(r, Q_SOCK_CHANGE);
}

static int gone(struct record *r, enum stmt_id id, int64_t row)
{
	bind_u64(r->q[id], 1, r->tick);
	sqlite3_bind_int64(r->q[id], 2, row);
	return step(r, id);
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

static int record_socks(struct record *r, const struct snapshot *s)
{
	struct etab *old = &r->socks[r->cur], *new = &r->socks[!r->cur];
	int rc;

	if ((rc = etab_reset(new, s->nsocks)))
		return SQLITE_NOMEM;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		struct sock_ent *n = (struct sock_ent *)etab_slot(new, k->cookie, k->netns);
		struct sock_ent *o = (struct sock_ent *)etab_find(old, k->cookie, k->netns);
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
		n->h.b = k->netns;
		n->h.id = id;
		n->k = *k;
		if (k->family == AF_UNIX) {
			int64_t off = etab_add_name(new, snapshot_name(s, k->un.name));
			if (off < 0)
				return SQLITE_NOMEM;
			n->k.un.name = (uint32_t)off;
		}
	}
	return sweep_gone(r, old, Q_SOCK_GONE);
}

static int proc_insert(struct record *r, const struct proc_rec *p, int64_t *id)
{
	sqlite3_stmt *q = r->q[Q_PROC];
	int rc;

	sqlite3_bind_int(q, P(TB_PROC, PROC_PID), p->pid);
	bind_u64(q, P(TB_PROC, PROC_START_TIME), p->start_time);
	sqlite3_bind_int64(q, P(TB_PROC, PROC_UID), p->uid);
	bind_u64(q, P(TB_PROC, PROC_NETNS), p->netns);
	bind_text(q, P(TB_PROC, PROC_COMM), p->comm, sizeof(p->comm));
	bind_text(q, P(TB_PROC, PROC_USER), p->user, sizeof(p->user));
	bind_text(q, P(TB_PROC, PROC_UNIT), p->unit, sizeof(p->unit));
	bind_text(q, P(TB_PROC, PROC_CMDLINE), p->cmdline, sizeof(p->cmdline));
	bind_text(q, P(TB_PROC, PROC_CONTAINER), p->container, sizeof(p->container));
	bind_u64(q, P(TB_PROC, PROC_FIRST_TICK), r->tick);
	if ((rc = step(r, Q_PROC)))
		return rc;
	*id = sqlite3_last_insert_rowid(r->db);
	return 0;
}

static int proc_change(struct record *r, int64_t id, const struct proc_rec *p)
{
	sqlite3_stmt *q = r->q[Q_PROC_CHANGE];
	char state[2] = {p->state, '\0'};

	sqlite3_bind_int64(q, P(TB_PROC_CHANGE, PROCCH_PROC), id);
	bind_u64(q, P(TB_PROC_CHANGE, PROCCH_TICK), r->tick);
	sqlite3_bind_int(q, P(TB_PROC_CHANGE, PROCCH_PPID), p->ppid);
	sqlite3_bind_text(q, P(TB_PROC_CHANGE, PROCCH_STATE), state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, P(TB_PROC_CHANGE, PROCCH_FLAGS), p->flags);
	bind_u64(q, P(TB_PROC_CHANGE, PROCCH_RSS_KB), p->rss_kb);
	sqlite3_bind_int64(q, P(TB_PROC_CHANGE, PROCCH_FDS), p->fds);
	bind_limit(q, P(TB_PROC_CHANGE, PROCCH_FD_LIMIT), p->fd_limit);
	bind_limit(q, P(TB_PROC_CHANGE, PROCCH_FD_LIMIT_HARD), p->fd_limit_hard);
	return step(r, Q_PROC_CHANGE);
}

static int record_procs(struct record *r, const struct snapshot *s)
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

static int record_fds(struct record *r, const struct snapshot *s)
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
			sqlite3_stmt *q = r->q[Q_FD];
			sqlite3_bind_int64(q, P(TB_FD, FD_PROC), (int64_t)a);
			sqlite3_bind_int(q, P(TB_FD, FD_FD), ow->fd);
			sqlite3_bind_int64(q, P(TB_FD, FD_INODE), ow->inode);
			bind_u64(q, P(TB_FD, FD_FIRST_TICK), r->tick);
			if ((rc = step(r, Q_FD)))
				return rc;
			id = sqlite3_last_insert_rowid(r->db);
		}
		if (ow->sock == OWNER_STALE) {
			sqlite3_bind_int64(r->q[Q_FD_STALE], P(TB_FD_STALE, FDSTALE_FD), id);
			bind_u64(r->q[Q_FD_STALE], P(TB_FD_STALE, FDSTALE_TICK), r->tick);
			if ((rc = step(r, Q_FD_STALE)))
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
static int record_netns(struct record *r, const struct snapshot *s)
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
			sqlite3_stmt *q = r->q[Q_NETNS];
			bind_u64(q, P(TB_NETNS, NETNS_INODE), ns->inode);
			sqlite3_bind_int(q, P(TB_NETNS, NETNS_DUMPED), ns->dumped);
			sqlite3_bind_int(q, P(TB_NETNS, NETNS_OWN), ns->own);
			bind_u64(q, P(TB_NETNS, NETNS_FIRST_TICK), r->tick);
			if ((rc = step(r, Q_NETNS)))
				return rc;
			id = sqlite3_last_insert_rowid(r->db);
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
	sqlite3_stmt *q = r->q[Q_PORT_CHANGE];
	char pids[PORT_MAX_PIDS * 12 + 1] = "";
	size_t len = 0;

	for (uint32_t j = 0; j < p->npids && j < PORT_MAX_PIDS; j++)
		len += (size_t)snprintf(pids + len, sizeof(pids) - len, "%s%d", j ? "," : "", p->pids[j]);
	sqlite3_bind_int64(q, P(TB_PORT_CHANGE, PORTCH_PORT), id);
	bind_u64(q, P(TB_PORT_CHANGE, PORTCH_TICK), r->tick);
	sqlite3_bind_int64(q, P(TB_PORT_CHANGE, PORTCH_COUNT), p->count);
	bind_u64(q, P(TB_PORT_CHANGE, PORTCH_RECV_Q), p->recv_q);
	sqlite3_bind_int64(q, P(TB_PORT_CHANGE, PORTCH_ACCEPT_Q), p->accept_q);
	sqlite3_bind_int64(q, P(TB_PORT_CHANGE, PORTCH_ACCEPT_MAX), p->accept_max);
	sqlite3_bind_text(q, P(TB_PORT_CHANGE, PORTCH_PIDS), pids, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, P(TB_PORT_CHANGE, PORTCH_PIDS_TRUNCATED), p->pids_truncated);
	for (unsigned st = 0; st < ST_COUNT; st++)
		sqlite3_bind_int64(q, P(TB_PORT_CHANGE, schema_state_col(st)), p->states[st]);
	return step(r, Q_PORT_CHANGE);
}

/* Ports as deltas too: a box with thousands of client ports would otherwise store
 * thousands of unchanged rows per refresh. The replay sorts them like the live one. */
static int record_ports(struct record *r, const struct snapshot *s)
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
			sqlite3_stmt *q = r->q[Q_PORT];
			bind_u64(q, P(TB_PORT, PORT_NETNS), p->netns);
			sqlite3_bind_int(q, P(TB_PORT, PORT_PORT), p->port);
			sqlite3_bind_text(q, P(TB_PORT, PORT_SIDE), schema_side_name(p->side), -1, SQLITE_STATIC);
			sqlite3_bind_int(q, P(TB_PORT, PORT_PROTO), p->proto);
			bind_u64(q, P(TB_PORT, PORT_FIRST_TICK), r->tick);
			if ((rc = step(r, Q_PORT)))
				return rc;
			id = sqlite3_last_insert_rowid(r->db);
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

static int record_refresh(struct record *r, const struct snapshot *s)
{
	sqlite3_stmt *q = r->q[Q_REFRESH];

	bind_u64(q, P(TB_REFRESH, REFRESH_TICK), r->tick);
	sqlite3_bind_double(q, P(TB_REFRESH, REFRESH_TIME), s->time);
	sqlite3_bind_double(q, P(TB_REFRESH, REFRESH_MS), s->refresh_ms);
	bind_text(q, P(TB_REFRESH, REFRESH_STATUS), s->status, sizeof(s->status));
	sqlite3_bind_int64(q, P(TB_REFRESH, REFRESH_SOCKETS), s->totals.sockets);
	sqlite3_bind_int64(q, P(TB_REFRESH, REFRESH_PROCS), s->totals.procs);
	sqlite3_bind_int64(q, P(TB_REFRESH, REFRESH_UNREADABLE), s->totals.unreadable);
	bind_u64(q, P(TB_REFRESH, REFRESH_FILE_ALLOC), s->totals.file_alloc);
	bind_u64(q, P(TB_REFRESH, REFRESH_FILE_MAX), s->totals.file_max);
	sqlite3_bind_int(q, P(TB_REFRESH, REFRESH_CLOSED_VALID), s->closed_valid);
	sqlite3_bind_int(q, P(TB_REFRESH, REFRESH_NETNS_LIMITED), s->netns_limited);
	return step(r, Q_REFRESH);
}

int record_snapshot(struct record *r, const struct snapshot *s, char **cause)
{
	int rc;

	/* The recording's own tick: a source's tick may restart, the file's may not. */
	if (s->tick <= r->tick)
		return text_cause(cause, -EINVAL, "refresh %llu comes after %llu", (unsigned long long)s->tick,
				 (unsigned long long)r->tick);
	uint64_t last = r->tick;
	r->tick = s->tick;
	if ((rc = step(r, Q_BEGIN)))
		goto fail;
	if ((rc = record_socks(r, s)) || (rc = record_procs(r, s)) || (rc = record_fds(r, s)) ||
	    (rc = record_netns(r, s)) || (rc = record_ports(r, s)) || (rc = record_refresh(r, s)) ||
	    (rc = step(r, Q_COMMIT)))
		goto fail;
	r->cur = !r->cur;
	return 0;
fail:
	text_cause(cause, recread_errno(rc), "recording refresh %llu: %s", (unsigned long long)s->tick,
		  sqlite3_errmsg(r->db));
	step(r, Q_ROLLBACK);
	/* The file is back at the last refresh: so are the tables it is compared with. */
	etab_unmark(&r->socks[r->cur]);
	etab_unmark(&r->procs[r->cur]);
	etab_unmark(&r->fds[r->cur]);
	etab_unmark(&r->ports[r->cur]);
	etab_unmark(&r->netns[r->cur]);
	r->tick = last;
	return recread_errno(rc);
}

int record_event(struct record *r, const struct record_event *ev, char **cause)
{
	sqlite3_stmt *q = r->q[Q_EVENT];
	double t = ev->time;
	int rc;

	if (t == 0)
		t = (double)time(NULL);
	bind_u64(q, P(TB_EVENT, EVENT_TICK), r->tick);
	sqlite3_bind_double(q, P(TB_EVENT, EVENT_TIME), t);
	sqlite3_bind_text(q, P(TB_EVENT, EVENT_KIND), record_event_name(ev->kind), -1, SQLITE_STATIC);
	if (ev->pid) {
		sqlite3_bind_int(q, P(TB_EVENT, EVENT_PID), ev->pid);
		bind_u64(q, P(TB_EVENT, EVENT_START_TIME), ev->start_time);
	}
	sqlite3_bind_text(q, P(TB_EVENT, EVENT_WHAT), ev->what ? ev->what : "", -1, SQLITE_STATIC);
	if (ev->result)
		sqlite3_bind_text(q, P(TB_EVENT, EVENT_RESULT), ev->result, -1, SQLITE_STATIC);
	if ((rc = step(r, Q_EVENT)))
		return text_cause(cause, recread_errno(rc), "recording an event: %s", sqlite3_errmsg(r->db));
	if (ev->dump && ev->dump_len) {
		q = r->q[Q_EVENT_DUMP];
		sqlite3_bind_int64(q, P(TB_EVENT_DUMP, EVDUMP_EVENT), sqlite3_last_insert_rowid(r->db));
		sqlite3_bind_blob(q, P(TB_EVENT_DUMP, EVDUMP_TEXT), ev->dump, (int)ev->dump_len, SQLITE_STATIC);
		if ((rc = step(r, Q_EVENT_DUMP)))
			return text_cause(cause, recread_errno(rc), "recording a thread dump: %s", sqlite3_errmsg(r->db));
	}
	return 0;
}

void record_close(struct record *r)
{
	if (!r)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(r->q[i]);
	sqlite3_close(r->db);
	for (int i = 0; i < 2; i++) {
		etab_free(&r->socks[i]);
		etab_free(&r->procs[i]);
		etab_free(&r->fds[i]);
		etab_free(&r->ports[i]);
		etab_free(&r->netns[i]);
	}
	free(r->proc_ids);
	free(r);
}
