/* Writing a recording: each refresh is compared with the last one, and only what
 * appeared, changed or went away is stored, in one transaction per refresh whose
 * `refresh` row is written last (a refresh without one never happened). */
#include "config.h"

#include "model/record.h"
#include "model/text.h"
#include "model/hash.h"
#include "model/snapshot.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
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

/* 'LKTP': tells a leaktop recording from any other SQLite file. */
#define RECORD_APP_ID 0x4c4b5450

/* An open-addressing table keyed by two 64-bit words. Every entry starts with this
 * header; id 0 marks an empty slot, a negative id an entry matched this refresh. */
struct ent_hdr {
	uint64_t a, b;
	int64_t id;
};

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

struct etab {
	char *ents;
	size_t esize, cap;
	char *names;       /* the sockets' UNIX names, kept to compare with the next refresh */
	size_t names_len, names_cap;
};

enum stmt_id {
	Q_SOCK, Q_SOCK_GONE, Q_SOCK_CHANGE,
	Q_PROC, Q_PROC_GONE, Q_PROC_CHANGE,
	Q_FD, Q_FD_GONE, Q_FD_STALE,
	Q_NETNS, Q_NETNS_GONE,
	Q_PORT, Q_PORT_GONE, Q_PORT_CHANGE, Q_REFRESH, Q_EVENT,
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_COUNT
};

static const char *const stmt_sql[Q_COUNT] = {
	[Q_SOCK] = "INSERT INTO sock(cookie, netns, family, proto, type, laddr, lport, raddr, rport, name, peer, "
		   "first_tick) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
	[Q_SOCK_GONE] = "UPDATE sock SET gone_tick = ? WHERE id = ?",
	[Q_SOCK_CHANGE] = "INSERT INTO sock_change(sock, tick, state, rqueue, wqueue, timer, retrans, inode, uid) "
			  "VALUES(?,?,?,?,?,?,?,?,?)",
	[Q_PROC] = "INSERT INTO proc(pid, start_time, uid, netns, comm, user, unit, cmdline, container, first_tick) "
		   "VALUES(?,?,?,?,?,?,?,?,?,?)",
	[Q_PROC_GONE] = "UPDATE proc SET gone_tick = ? WHERE id = ?",
	[Q_PROC_CHANGE] = "INSERT INTO proc_change(proc, tick, ppid, state, flags, rss_kb, fds, fd_limit, "
			  "fd_limit_hard) VALUES(?,?,?,?,?,?,?,?,?)",
	[Q_FD] = "INSERT INTO fd(proc, fd, inode, first_tick) VALUES(?,?,?,?)",
	[Q_FD_GONE] = "UPDATE fd SET gone_tick = ? WHERE id = ?",
	[Q_FD_STALE] = "INSERT INTO fd_stale(fd, tick) VALUES(?,?)",
	[Q_NETNS] = "INSERT INTO netns(inode, dumped, own, first_tick) VALUES(?,?,?,?)",
	[Q_NETNS_GONE] = "UPDATE netns SET gone_tick = ? WHERE id = ?",
	[Q_PORT] = "INSERT INTO port(netns, port, side, proto, first_tick) VALUES(?,?,?,?,?)",
	[Q_PORT_GONE] = "UPDATE port SET gone_tick = ? WHERE id = ?",
	[Q_PORT_CHANGE] = NULL, /* built from the state names: see port_insert_sql */
	[Q_REFRESH] = "INSERT INTO refresh(tick, time, refresh_ms, status, sockets, procs, unreadable, "
		      "file_alloc, file_max, closed_valid, netns_limited) VALUES(?,?,?,?,?,?,?,?,?,?,?)",
	[Q_EVENT] = "INSERT INTO event(tick, time, kind, pid, start_time, what, result) VALUES(?,?,?,?,?,?,?)",
	[Q_BEGIN] = "BEGIN",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
};

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

static const char *const event_names[EV_COUNT] = {
	[EV_ALERT] = "alert",
	[EV_ACTION] = "action",
};

const char *record_event_name(enum record_event_kind kind)
{
	return (unsigned)kind < EV_COUNT ? event_names[kind] : "event";
}

/* An SQLite result code as -errno, for callers that only know errno. */
static int sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOMEM: return -ENOMEM;
	case SQLITE_FULL: return -ENOSPC;
	case SQLITE_PERM: case SQLITE_READONLY: case SQLITE_AUTH: return -EACCES;
	case SQLITE_BUSY: case SQLITE_LOCKED: return -EBUSY;
	case SQLITE_CANTOPEN: return -ENOENT;
	case SQLITE_NOTADB: case SQLITE_CORRUPT: case SQLITE_FORMAT: return -EILSEQ;
	default: return -EIO;
	}
}

static int etab_reset(struct etab *t, size_t n)
{
	size_t cap = 64;

	while (cap < n * 2)
		cap <<= 1;
	if (cap > t->cap) {
		char *p = realloc(t->ents, cap * t->esize);
		if (!p)
			return -ENOMEM;
		t->ents = p;
		t->cap = cap;
	}
	memset(t->ents, 0, t->cap * t->esize);
	t->names_len = 0;
	return 0;
}

/* Keep a copy of a name in the table: its offset, 0 ("") for none, or -1 on ENOMEM. */
static int64_t etab_add_name(struct etab *t, const char *name)
{
	size_t len = strlen(name), start = t->names_len ? t->names_len : 1;

	if (!len)
		return 0;
	if (start + len + 1 > t->names_cap) {
		size_t cap = t->names_cap ? t->names_cap : 4096;
		while (cap < start + len + 1)
			cap *= 2;
		char *p = realloc(t->names, cap);
		if (!p)
			return -1;
		t->names = p;
		t->names_cap = cap;
	}
	t->names[0] = '\0';
	memcpy(t->names + start, name, len + 1);
	t->names_len = start + len + 1;
	return (int64_t)start;
}

static const char *etab_name(const struct etab *t, uint32_t off)
{
	return t->names && off < t->names_len ? t->names + off : "";
}

static struct ent_hdr *etab_at(const struct etab *t, size_t i)
{
	return (struct ent_hdr *)(t->ents + i * t->esize);
}

/* The entry for (a, b), or the empty slot where it goes. */
static struct ent_hdr *etab_slot(const struct etab *t, uint64_t a, uint64_t b)
{
	size_t mask = t->cap - 1, i = mix64(a ^ mix64(b)) & mask;

	for (;;) {
		struct ent_hdr *e = etab_at(t, i);
		if (!e->id || (e->a == a && e->b == b))
			return e;
		i = (i + 1) & mask;
	}
}

static struct ent_hdr *etab_find(const struct etab *t, uint64_t a, uint64_t b)
{
	if (!t->cap)
		return NULL;
	struct ent_hdr *e = etab_slot(t, a, b);
	return e->id ? e : NULL;
}

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

static const char schema_sql[] =
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE state(num INTEGER PRIMARY KEY, name TEXT NOT NULL);"
	"CREATE TABLE refresh(tick INTEGER PRIMARY KEY, time REAL NOT NULL, refresh_ms REAL NOT NULL,"
	" status TEXT NOT NULL, sockets INTEGER, procs INTEGER, unreadable INTEGER,"
	" file_alloc INTEGER, file_max INTEGER, closed_valid INTEGER NOT NULL, netns_limited INTEGER NOT NULL);"
	"CREATE TABLE sock(id INTEGER PRIMARY KEY, cookie INTEGER NOT NULL, netns INTEGER NOT NULL,"
	" family INTEGER NOT NULL, proto INTEGER NOT NULL, type INTEGER NOT NULL, laddr TEXT NOT NULL,"
	" lport INTEGER NOT NULL, raddr TEXT NOT NULL, rport INTEGER NOT NULL, name TEXT NOT NULL,"
	" peer INTEGER NOT NULL, first_tick INTEGER NOT NULL, gone_tick INTEGER);"
	"CREATE TABLE sock_change(sock INTEGER NOT NULL, tick INTEGER NOT NULL, state INTEGER NOT NULL,"
	" rqueue INTEGER NOT NULL, wqueue INTEGER NOT NULL, timer INTEGER NOT NULL,"
	" retrans INTEGER NOT NULL, inode INTEGER NOT NULL, uid INTEGER NOT NULL,"
	" PRIMARY KEY(sock, tick)) WITHOUT ROWID;"
	"CREATE TABLE proc(id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, start_time INTEGER NOT NULL,"
	" uid INTEGER NOT NULL, netns INTEGER NOT NULL, comm TEXT NOT NULL, user TEXT NOT NULL,"
	" unit TEXT NOT NULL, cmdline TEXT NOT NULL, container TEXT NOT NULL, first_tick INTEGER NOT NULL,"
	" gone_tick INTEGER);"
	"CREATE TABLE proc_change(proc INTEGER NOT NULL, tick INTEGER NOT NULL, ppid INTEGER NOT NULL,"
	" state TEXT NOT NULL, flags INTEGER NOT NULL, rss_kb INTEGER NOT NULL, fds INTEGER NOT NULL,"
	" fd_limit INTEGER, fd_limit_hard INTEGER, PRIMARY KEY(proc, tick)) WITHOUT ROWID;"
	"CREATE TABLE fd(id INTEGER PRIMARY KEY, proc INTEGER NOT NULL, fd INTEGER NOT NULL,"
	" inode INTEGER NOT NULL, first_tick INTEGER NOT NULL, gone_tick INTEGER);"
	/* A socket fd in no dump whose fd had let go of it when checked: not CLOSED. */
	"CREATE TABLE fd_stale(fd INTEGER NOT NULL, tick INTEGER NOT NULL, PRIMARY KEY(tick, fd)) WITHOUT ROWID;"
	"CREATE TABLE netns(id INTEGER PRIMARY KEY, inode INTEGER NOT NULL, dumped INTEGER NOT NULL,"
	" own INTEGER NOT NULL, first_tick INTEGER NOT NULL, gone_tick INTEGER);"
	"CREATE TABLE event(id INTEGER PRIMARY KEY, tick INTEGER NOT NULL, time REAL NOT NULL,"
	" kind TEXT NOT NULL, pid INTEGER, start_time INTEGER, what TEXT NOT NULL, result TEXT);"
	/* What a replay needs to step from one refresh to the next: the rows that
	 * appeared, went and changed at a tick. */
	"CREATE INDEX sock_first ON sock(first_tick);"
	"CREATE INDEX sock_gone ON sock(gone_tick) WHERE gone_tick IS NOT NULL;"
	"CREATE INDEX sock_change_tick ON sock_change(tick);"
	"CREATE INDEX proc_first ON proc(first_tick);"
	"CREATE INDEX proc_gone ON proc(gone_tick) WHERE gone_tick IS NOT NULL;"
	"CREATE INDEX proc_change_tick ON proc_change(tick);"
	"CREATE INDEX fd_first ON fd(first_tick);"
	"CREATE INDEX fd_gone ON fd(gone_tick) WHERE gone_tick IS NOT NULL;"
	"CREATE INDEX netns_first ON netns(first_tick);"
	"CREATE INDEX netns_gone ON netns(gone_tick) WHERE gone_tick IS NOT NULL;";

/* port_change has a column per TCP state, named like the state ("close_wait"). */
static void state_column(char *buf, size_t n, unsigned st)
{
	snprintf(buf, n, "%s", sk_state_name(st));
	for (char *c = buf; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

static char *port_schema_sql(void)
{
	char *sql = NULL, col[32];
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);

	if (!f)
		return NULL;
	fputs("CREATE TABLE port(id INTEGER PRIMARY KEY, netns INTEGER NOT NULL, port INTEGER NOT NULL,"
	      " side TEXT NOT NULL, proto INTEGER NOT NULL, first_tick INTEGER NOT NULL, gone_tick INTEGER);"
	      "CREATE INDEX port_first ON port(first_tick);"
	      "CREATE INDEX port_gone ON port(gone_tick) WHERE gone_tick IS NOT NULL;"
	      "CREATE TABLE port_change(port INTEGER NOT NULL, tick INTEGER NOT NULL, count INTEGER NOT NULL,"
	      " recv_q INTEGER NOT NULL, accept_q INTEGER NOT NULL, accept_max INTEGER NOT NULL,"
	      " pids TEXT NOT NULL, pids_truncated INTEGER NOT NULL", f);
	for (unsigned st = 0; st < ST_COUNT; st++) {
		state_column(col, sizeof(col), st);
		fprintf(f, ", %s INTEGER NOT NULL", col);
	}
	fputs(", PRIMARY KEY(port, tick)) WITHOUT ROWID;"
	      "CREATE INDEX port_change_tick ON port_change(tick);", f);
	fclose(f);
	return sql;
}

static char *port_insert_sql(void)
{
	char *sql = NULL, col[32];
	size_t len = 0;
	FILE *f = open_memstream(&sql, &len);

	if (!f)
		return NULL;
	fputs("INSERT INTO port_change(port, tick, count, recv_q, accept_q, accept_max, pids, pids_truncated", f);
	for (unsigned st = 0; st < ST_COUNT; st++) {
		state_column(col, sizeof(col), st);
		fprintf(f, ", %s", col);
	}
	fputs(") VALUES(?,?,?,?,?,?,?,?", f);
	for (unsigned st = 0; st < ST_COUNT; st++)
		fputs(",?", f);
	fputs(")", f);
	fclose(f);
	return sql;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int put_meta(sqlite3 *db, const char *key, const char *fmt, ...)
{
	sqlite3_stmt *q;
	char *val = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return SQLITE_NOMEM;
	if ((rc = sqlite3_prepare_v2(db, "INSERT INTO meta(key, value) VALUES(?, ?)", -1, &q, NULL)) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, val, -1, SQLITE_STATIC);
		rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_finalize(q);
	}
	free(val);
	return rc;
}

static int write_schema(sqlite3 *db, const struct record_info *info)
{
	struct utsname un;
	char host[256] = "", *port_sql = port_schema_sql();
	int rc;

	if (!port_sql)
		return SQLITE_NOMEM;
	if (uname(&un))
		memset(&un, 0, sizeof(un));
	gethostname(host, sizeof(host) - 1);
	rc = exec(db, "BEGIN");
	if (!rc)
		rc = exec(db, schema_sql);
	if (!rc)
		rc = exec(db, port_sql);
	free(port_sql);
	for (unsigned st = 0; st < ST_COUNT && !rc; st++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT INTO state(num, name) VALUES(%u, '%s')", st, sk_state_name(st));
		rc = exec(db, sql);
	}
	if (!rc)
		rc = put_meta(db, "format_version", "%d.%d", RECORD_FORMAT_MAJOR, RECORD_FORMAT_MINOR);
	if (!rc)
		rc = put_meta(db, "host", "%s", host);
	if (!rc)
		rc = put_meta(db, "kernel", "%s", un.release);
	if (!rc)
		rc = put_meta(db, "leaktop_version", "%s", PACKAGE_VERSION);
	if (!rc)
		rc = put_meta(db, "interval", "%.17g", info->interval);
	if (!rc)
		rc = put_meta(db, "start_time", "%.3f", (double)time(NULL));
	if (!rc)
		rc = put_meta(db, "boot_time", "%.17g", info->boot_time);
	if (!rc)
		rc = put_meta(db, "clk_tck", "%ld", info->clk_tck);
	if (!rc)
		rc = exec(db, "COMMIT");
	else
		exec(db, "ROLLBACK");
	return rc;
}

/* SQLite gives its -wal and -shm files the database's mode; make sure anyway, as
 * they hold the same data. */
static void tighten(const char *path, const char *suffix)
{
	char name[4096];
	struct stat st;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	if (lstat(name, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 077))
		chmod(name, 0600);
}

/* Create the file ourselves so that it is 0600 from its first moment, and never
 * follow a symlink someone planted where the recording goes. */
static int create_file(const char *path, char **cause)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0 && errno == EEXIST) {
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return text_cause(cause, -errno, "cannot open %s: %s", path, strerror(errno));
		if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > 0) {
			close(fd);
			return text_cause(cause, -EEXIST, "%s already exists; leaktop does not overwrite a file "
					 "(remove it or choose another name)", path);
		}
		if (fchmod(fd, 0600)) {
			int e = errno;
			close(fd);
			return text_cause(cause, -e, "cannot chmod %s: %s", path, strerror(e));
		}
	}
	if (fd < 0)
		return text_cause(cause, -errno, "cannot create %s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

int record_open(struct record **out, const char *path, const struct record_info *info, char **cause)
{
	struct record *r;
	char *port_sql = NULL;
	mode_t old_mask;
	int rc;

	*out = NULL;
	if ((rc = create_file(path, cause)))
		return rc;
	if (!(r = calloc(1, sizeof(*r))))
		return -ENOMEM;
	r->socks[0].esize = r->socks[1].esize = sizeof(struct sock_ent);
	r->procs[0].esize = r->procs[1].esize = sizeof(struct proc_ent);
	r->fds[0].esize = r->fds[1].esize = sizeof(struct fd_ent);
	r->ports[0].esize = r->ports[1].esize = sizeof(struct port_ent);
	r->netns[0].esize = r->netns[1].esize = sizeof(struct netns_ent);

	old_mask = umask(077);
	rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL);
	if (rc == SQLITE_OK) {
		char pragmas[160];
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
	tighten(path, "-wal");
	tighten(path, "-shm");
	if (rc == SQLITE_OK && !(port_sql = port_insert_sql()))
		rc = SQLITE_NOMEM;
	for (int i = 0; i < Q_COUNT && rc == SQLITE_OK; i++)
		rc = sqlite3_prepare_v3(r->db, i == Q_PORT_CHANGE ? port_sql : stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
					&r->q[i], NULL);
	free(port_sql);
	if (rc != SQLITE_OK) {
		text_cause(cause, sql_errno(rc), "cannot write %s: %s", path,
			  r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		record_close(r);
		return sql_errno(rc);
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

	bind_u64(q, 1, k->cookie);
	bind_u64(q, 2, k->netns);
	sqlite3_bind_int(q, 3, k->family);
	sqlite3_bind_int(q, 4, k->proto);
	sqlite3_bind_int(q, 5, k->type);
	/* A UNIX socket's address bytes are its name and peer: '' for the IP columns. */
	if (un)
		sqlite3_bind_text(q, 6, "", 0, SQLITE_STATIC);
	else
		bind_addr(q, 6, k->family, k->laddr);
	sqlite3_bind_int(q, 7, k->lport);
	if (un)
		sqlite3_bind_text(q, 8, "", 0, SQLITE_STATIC);
	else
		bind_addr(q, 8, k->family, k->raddr);
	sqlite3_bind_int(q, 9, k->rport);
	sqlite3_bind_text(q, 10, un ? snapshot_name(s, k->un.name) : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 11, un ? k->un.peer : 0);
	bind_u64(q, 12, r->tick);
	if ((rc = step(r, Q_SOCK)))
		return rc;
	*id = sqlite3_last_insert_rowid(r->db);
	return 0;
}

static int sock_change(struct record *r, int64_t id, const struct sock_rec *k)
{
	sqlite3_stmt *q = r->q[Q_SOCK_CHANGE];

	sqlite3_bind_int64(q, 1, id);
	bind_u64(q, 2, r->tick);
	sqlite3_bind_int(q, 3, k->state);
	sqlite3_bind_int64(q, 4, k->rqueue);
	sqlite3_bind_int64(q, 5, k->wqueue);
	sqlite3_bind_int(q, 6, k->timer);
	sqlite3_bind_int(q, 7, k->retrans);
	sqlite3_bind_int64(q, 8, k->inode);
	sqlite3_bind_int64(q, 9, k->uid);
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

	for (size_t i = 0; i < old->cap; i++) {
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

	sqlite3_bind_int(q, 1, p->pid);
	bind_u64(q, 2, p->start_time);
	sqlite3_bind_int64(q, 3, p->uid);
	bind_u64(q, 4, p->netns);
	bind_text(q, 5, p->comm, sizeof(p->comm));
	bind_text(q, 6, p->user, sizeof(p->user));
	bind_text(q, 7, p->unit, sizeof(p->unit));
	bind_text(q, 8, p->cmdline, sizeof(p->cmdline));
	bind_text(q, 9, p->container, sizeof(p->container));
	bind_u64(q, 10, r->tick);
	if ((rc = step(r, Q_PROC)))
		return rc;
	*id = sqlite3_last_insert_rowid(r->db);
	return 0;
}

static int proc_change(struct record *r, int64_t id, const struct proc_rec *p)
{
	sqlite3_stmt *q = r->q[Q_PROC_CHANGE];
	char state[2] = {p->state, '\0'};

	sqlite3_bind_int64(q, 1, id);
	bind_u64(q, 2, r->tick);
	sqlite3_bind_int(q, 3, p->ppid);
	sqlite3_bind_text(q, 4, state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 5, p->flags);
	bind_u64(q, 6, p->rss_kb);
	sqlite3_bind_int64(q, 7, p->fds);
	bind_limit(q, 8, p->fd_limit);
	bind_limit(q, 9, p->fd_limit_hard);
	return step(r, Q_PROC_CHANGE);
}

static int record_procs(struct record *r, const struct snapshot *s)
{
	struct etab *old = &r->procs[r->cur], *new = &r->procs[!r->cur];
	int rc;

	if (s->nprocs > r->proc_ids_cap) {
		int64_t *ids = realloc(r->proc_ids, s->nprocs * sizeof(*ids));
		if (!ids)
			return SQLITE_NOMEM;
		r->proc_ids = ids;
		r->proc_ids_cap = s->nprocs;
	}
	if ((rc = etab_reset(new, s->nprocs)))
		return SQLITE_NOMEM;
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct proc_rec *p = &s->procs[i];
		uint64_t a = (uint32_t)p->pid;
		struct proc_ent *n = (struct proc_ent *)etab_slot(new, a, p->start_time);
		struct proc_ent *o = (struct proc_ent *)etab_find(old, a, p->start_time);
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
		int64_t id;

		if (n->h.id)
			continue;
		if (o && o->h.id > 0 && o->inode == ow->inode) {
			id = o->h.id;
			o->h.id = -id;
		} else {
			sqlite3_stmt *q = r->q[Q_FD];
			sqlite3_bind_int64(q, 1, (int64_t)a);
			sqlite3_bind_int(q, 2, ow->fd);
			sqlite3_bind_int64(q, 3, ow->inode);
			bind_u64(q, 4, r->tick);
			if ((rc = step(r, Q_FD)))
				return rc;
			id = sqlite3_last_insert_rowid(r->db);
		}
		if (ow->sock == OWNER_STALE) {
			sqlite3_bind_int64(r->q[Q_FD_STALE], 1, id);
			bind_u64(r->q[Q_FD_STALE], 2, r->tick);
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
		int64_t id;

		if (n->id)
			continue;
		if (o && o->id > 0) {
			id = o->id;
			o->id = -id;
		} else {
			sqlite3_stmt *q = r->q[Q_NETNS];
			bind_u64(q, 1, ns->inode);
			sqlite3_bind_int(q, 2, ns->dumped);
			sqlite3_bind_int(q, 3, ns->own);
			bind_u64(q, 4, r->tick);
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
	sqlite3_bind_int64(q, 1, id);
	bind_u64(q, 2, r->tick);
	sqlite3_bind_int64(q, 3, p->count);
	bind_u64(q, 4, p->recv_q);
	sqlite3_bind_int64(q, 5, p->accept_q);
	sqlite3_bind_int64(q, 6, p->accept_max);
	sqlite3_bind_text(q, 7, pids, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(q, 8, p->pids_truncated);
	for (unsigned st = 0; st < ST_COUNT; st++)
		sqlite3_bind_int64(q, 9 + (int)st, p->states[st]);
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
			bind_u64(q, 1, p->netns);
			sqlite3_bind_int(q, 2, p->port);
			sqlite3_bind_text(q, 3, p->side == SIDE_LOCAL ? "local" : "remote", -1, SQLITE_STATIC);
			sqlite3_bind_int(q, 4, p->proto);
			bind_u64(q, 5, r->tick);
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

	bind_u64(q, 1, r->tick);
	sqlite3_bind_double(q, 2, s->time);
	sqlite3_bind_double(q, 3, s->refresh_ms);
	bind_text(q, 4, s->status, sizeof(s->status));
	sqlite3_bind_int64(q, 5, s->totals.sockets);
	sqlite3_bind_int64(q, 6, s->totals.procs);
	sqlite3_bind_int64(q, 7, s->totals.unreadable);
	bind_u64(q, 8, s->totals.file_alloc);
	bind_u64(q, 9, s->totals.file_max);
	sqlite3_bind_int(q, 10, s->closed_valid);
	sqlite3_bind_int(q, 11, s->netns_limited);
	return step(r, Q_REFRESH);
}

/* Undo the matching marks of a refresh that was rolled back. */
static void unmark(struct etab *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct ent_hdr *e = etab_at(t, i);
		if (e->id < 0)
			e->id = -e->id;
	}
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
	text_cause(cause, sql_errno(rc), "recording refresh %llu: %s", (unsigned long long)s->tick,
		  sqlite3_errmsg(r->db));
	step(r, Q_ROLLBACK);
	/* The file is back at the last refresh: so are the tables it is compared with. */
	unmark(&r->socks[r->cur]);
	unmark(&r->procs[r->cur]);
	unmark(&r->fds[r->cur]);
	unmark(&r->ports[r->cur]);
	unmark(&r->netns[r->cur]);
	r->tick = last;
	return sql_errno(rc);
}

int record_event(struct record *r, const struct record_event *ev, char **cause)
{
	sqlite3_stmt *q = r->q[Q_EVENT];
	double t = ev->time;
	int rc;

	if (t == 0)
		t = (double)time(NULL);
	bind_u64(q, 1, r->tick);
	sqlite3_bind_double(q, 2, t);
	sqlite3_bind_text(q, 3, record_event_name(ev->kind), -1, SQLITE_STATIC);
	if (ev->pid) {
		sqlite3_bind_int(q, 4, ev->pid);
		bind_u64(q, 5, ev->start_time);
	}
	sqlite3_bind_text(q, 6, ev->what ? ev->what : "", -1, SQLITE_STATIC);
	if (ev->result)
		sqlite3_bind_text(q, 7, ev->result, -1, SQLITE_STATIC);
	if ((rc = step(r, Q_EVENT)))
		return text_cause(cause, sql_errno(rc), "recording an event: %s", sqlite3_errmsg(r->db));
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
		free(r->socks[i].ents);
		free(r->socks[i].names);
		free(r->procs[i].ents);
		free(r->fds[i].ents);
		free(r->ports[i].ents);
		free(r->netns[i].ents);
	}
	free(r->proc_ids);
	free(r);
}

static const char *meta_get(sqlite3 *db, sqlite3_stmt *q, const char *key, char *buf, size_t n)
{
	const char *v = NULL;

	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
		snprintf(buf, n, "%s", (const char *)sqlite3_column_text(q, 0));
		v = buf;
	}
	return v;
}

int record_read_open(struct sqlite3 **out, const char *path, struct record_info *info, char **cause)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	char buf[256];
	struct stat st;
	int rc;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	if (stat(path, &st))
		return text_cause(cause, -errno, "cannot open %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return text_cause(cause, -EINVAL, "%s is not a leaktop recording (not a regular file)", path);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc != SQLITE_OK) {
		rc = text_cause(cause, sql_errno(rc), "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, 5000);
	/* A replay rereads the same pages refresh after refresh: keep them (64 MB). */
	sqlite3_exec(db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &q, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW && sqlite3_column_int(q, 0) != RECORD_APP_ID)
		rc = SQLITE_NOTADB;
	if (rc == SQLITE_ROW)
		rc = SQLITE_OK;
	sqlite3_finalize(q), q = NULL;
	if (rc == SQLITE_NOTADB) {
		rc = text_cause(cause, -EINVAL, "%s is not a leaktop recording", path);
		goto fail;
	}
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = ?", -1, &q, NULL);
	if (rc != SQLITE_OK) {
		rc = text_cause(cause, sql_errno(rc), "%s is damaged or not a leaktop recording: %s", path,
			       sqlite3_errmsg(db));
		goto fail;
	}
	if (!meta_get(db, q, "format_version", buf, sizeof(buf)) ||
	    sscanf(buf, "%d.%d", &info->major, &info->minor) != 2) {
		rc = text_cause(cause, -EINVAL, "%s is damaged or not a leaktop recording: no format version", path);
		goto fail;
	}
	/* An older major is refused too: a 1.x file has no socket kinds, UNIX names,
	 * namespaces or CLOSED fds, so its replay could not print what the live run did. */
	if (info->major != RECORD_FORMAT_MAJOR) {
		rc = text_cause(cause, -EPROTONOSUPPORT,
			       "%s is a format %d.%d recording, from %s leaktop; this leaktop %s reads format %d.x",
			       path, info->major, info->minor, info->major > RECORD_FORMAT_MAJOR ? "a newer" : "an older",
			       PACKAGE_VERSION, RECORD_FORMAT_MAJOR);
		goto fail;
	}
	meta_get(db, q, "host", info->host, sizeof(info->host));
	meta_get(db, q, "kernel", info->kernel, sizeof(info->kernel));
	meta_get(db, q, "leaktop_version", info->version, sizeof(info->version));
	if (meta_get(db, q, "interval", buf, sizeof(buf)))
		info->interval = strtod(buf, NULL);
	if (meta_get(db, q, "start_time", buf, sizeof(buf)))
		info->start_time = strtod(buf, NULL);
	if (meta_get(db, q, "boot_time", buf, sizeof(buf)))
		info->boot_time = strtod(buf, NULL);
	if (meta_get(db, q, "clk_tck", buf, sizeof(buf)))
		info->clk_tck = strtol(buf, NULL, 10);
	sqlite3_finalize(q);
	*out = db;
	return 0;
fail:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}
