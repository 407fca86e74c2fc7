/* Reading a recording: the file checked and its meta table read, the queries a
 * replay runs made from model/schema, and the rows they return read into the
 * model's records. */
#include "config.h"

#include "sources/recread.h"
#include "model/schema.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

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

/* The tables of each kind of row: the row's, its changes' (TB_COUNT: none), and
 * how many columns of the row are its identity (those before first_tick). */
static const struct kind_tabs {
	enum schema_table row, change;
	unsigned ident;
} kinds[RK_COUNT] = {
	[RK_PROC] = {TB_PROC, TB_PROC_CHANGE, PROC_FIRST_TICK},
	[RK_FD] = {TB_FD, TB_COUNT, FD_FIRST_TICK},
	[RK_SOCK] = {TB_SOCK, TB_SOCK_CHANGE, SOCK_FIRST_TICK},
	[RK_PORT] = {TB_PORT, TB_PORT_CHANGE, PORT_FIRST_TICK},
	[RK_NETNS] = {TB_NETNS, TB_COUNT, NETNS_FIRST_TICK},
};

int recread_change_base(enum recread_kind k)
{
	return (int)kinds[k].ident;
}

/* The column names the queries join on. */
static const char *cname(enum schema_table t, unsigned c)
{
	return schema_tables[t].cols[c].name;
}

static const char *first_tick(enum schema_table t)
{
	return cname(t, schema_tables[t].ncols - 2);
}

static const char *gone_tick(enum schema_table t)
{
	return cname(t, schema_tables[t].ncols - 1);
}

/* The SQL of query id for a file of format minor `minor`, or NULL (none, or out of
 * memory: *nomem says which). */
static char *query_sql(enum recread_stmt id, unsigned minor, bool *nomem)
{
	enum recread_kind k = (enum recread_kind)(id % RK_COUNT);
	const struct kind_tabs *kt = &kinds[k];
	enum schema_table t = kt->row, c = kt->change;
	char *sql = NULL, *ident = NULL, *change = NULL, *all = NULL;
	int n = 0;

	*nomem = false;
	if (id < RQ_REFRESH) {
		ident = schema_select_sql(t, "t", 0, kt->ident, minor);
		if (c != TB_COUNT)
			change = schema_select_sql(c, "c", SCHEMA_CHANGE_FIRST, schema_tables[c].ncols, minor);
		if (!ident || (c != TB_COUNT && !change)) {
			*nomem = true;
			goto out;
		}
	}
	if (id >= RQ_FULL && id < RQ_NEW && c != TB_COUNT)
		/* The latest change at or before ?1: a seek per row on the (row, tick) key. */
		n = asprintf(&sql, "SELECT %s, %s FROM %s t JOIN %s c ON c.%s = t.%s AND c.%s = (SELECT max(%s) FROM %s"
			     " WHERE %s = t.%s AND %s <= ?1) WHERE t.%s <= ?1 AND (t.%s IS NULL OR t.%s > ?1) ORDER BY t.%s",
			     ident, change, schema_tables[t].name, schema_tables[c].name, cname(c, 0), cname(t, 0), cname(c, 1),
			     cname(c, 1), schema_tables[c].name, cname(c, 0), cname(t, 0), cname(c, 1), first_tick(t), gone_tick(t),
			     gone_tick(t), cname(t, 0));
	else if (id >= RQ_FULL && id < RQ_NEW)
		n = asprintf(&sql, "SELECT %s FROM %s t WHERE t.%s <= ?1 AND (t.%s IS NULL OR t.%s > ?1) ORDER BY t.%s",
			     ident, schema_tables[t].name, first_tick(t), gone_tick(t), gone_tick(t), cname(t, 0));
	else if (id >= RQ_NEW && id < RQ_GONE)
		n = asprintf(&sql, "SELECT %s FROM %s t WHERE t.%s > ?1 AND t.%s <= ?2 ORDER BY t.%s", ident,
			     schema_tables[t].name, first_tick(t), first_tick(t), cname(t, 0));
	else if (id >= RQ_GONE && id < RQ_CHANGES)
		n = asprintf(&sql, "SELECT %s FROM %s WHERE %s > ?1 AND %s <= ?2", cname(t, 0), schema_tables[t].name,
			     gone_tick(t), gone_tick(t));
	else if (id >= RQ_CHANGES && id < RQ_REFRESH && c != TB_COUNT)
		n = asprintf(&sql, "SELECT c.%s, %s FROM %s c WHERE c.%s > ?1 AND c.%s <= ?2 ORDER BY c.%s", cname(c, 0),
			     change, schema_tables[c].name, cname(c, 1), cname(c, 1), cname(c, 1));
	else if (id == RQ_REFRESH || id == RQ_EVENTS) {
		enum schema_table e = id == RQ_REFRESH ? TB_REFRESH : TB_EVENT;
		unsigned tick = id == RQ_REFRESH ? REFRESH_TICK : EVENT_TICK;
		if (!(all = schema_select_sql(e, "t", 0, schema_tables[e].ncols, minor))) {
			*nomem = true;
			goto out;
		}
		n = asprintf(&sql, "SELECT %s FROM %s t WHERE t.%s = ?1 ORDER BY t.%s", all, schema_tables[e].name,
			     cname(e, tick), cname(e, 0));
	} else if (id == RQ_LIST)
		n = asprintf(&sql, "SELECT %s, %s FROM %s WHERE %s > ?1 ORDER BY %s", cname(TB_REFRESH, REFRESH_TICK),
			     cname(TB_REFRESH, REFRESH_TIME), schema_tables[TB_REFRESH].name, cname(TB_REFRESH, REFRESH_TICK),
			     cname(TB_REFRESH, REFRESH_TICK));
	else if (id == RQ_STALE)
		n = asprintf(&sql, "SELECT %s FROM %s WHERE %s = ?1 ORDER BY %s", cname(TB_FD_STALE, FDSTALE_FD),
			     schema_tables[TB_FD_STALE].name, cname(TB_FD_STALE, FDSTALE_TICK), cname(TB_FD_STALE, FDSTALE_FD));
	if (n < 0) {
		sql = NULL;
		*nomem = true;
	}
out:
	free(ident);
	free(change);
	free(all);
	return sql;
}

int recread_prepare(sqlite3 *db, sqlite3_stmt **q, unsigned minor)
{
	int rc = SQLITE_OK;

	for (int i = 0; i < RQ_COUNT && rc == SQLITE_OK; i++) {
		bool nomem;
		char *sql = query_sql((enum recread_stmt)i, minor, &nomem);
		q[i] = NULL;
		if (nomem)
			rc = SQLITE_NOMEM;
		else if (sql)
			rc = sqlite3_prepare_v2(db, sql, -1, &q[i], NULL);
		free(sql);
	}
	return rc;
}

void recread_finalize(sqlite3_stmt **q)
{
	for (int i = 0; i < RQ_COUNT; i++) {
		sqlite3_finalize(q[i]);
		q[i] = NULL;
	}
}

/* Column X of a change table in a row whose changing part starts at base. */
#define CH(base, x) ((base) + (int)(x) - SCHEMA_CHANGE_FIRST)

void recread_proc_id(sqlite3_stmt *q, struct proc_rec *p)
{
	p->pid = sqlite3_column_int(q, PROC_PID);
	p->start_time = col_u64(q, PROC_START_TIME);
	p->uid = col_u32(q, PROC_UID);
	p->netns = col_u64(q, PROC_NETNS);
	copy_text(p->comm, sizeof(p->comm), q, PROC_COMM);
	copy_text(p->user, sizeof(p->user), q, PROC_USER);
	copy_text(p->unit, sizeof(p->unit), q, PROC_UNIT);
	copy_text(p->cmdline, sizeof(p->cmdline), q, PROC_CMDLINE);
	copy_text(p->container, sizeof(p->container), q, PROC_CONTAINER);
}

void recread_proc_ch(sqlite3_stmt *q, int base, struct proc_rec *p)
{
	const unsigned char *st = sqlite3_column_text(q, CH(base, PROCCH_STATE));

	p->ppid = sqlite3_column_int(q, CH(base, PROCCH_PPID));
	p->state = st && st[0] >= 0x20 && st[0] < 0x7f ? (char)st[0] : '?';
	p->flags = col_u32(q, CH(base, PROCCH_FLAGS));
	p->rss_kb = col_u64(q, CH(base, PROCCH_RSS_KB));
	p->fds = sqlite3_column_int64(q, CH(base, PROCCH_FDS));
	p->fd_limit = col_limit(q, CH(base, PROCCH_FD_LIMIT));
	p->fd_limit_hard = col_limit(q, CH(base, PROCCH_FD_LIMIT_HARD));
}

void recread_fd(sqlite3_stmt *q, int64_t *proc, int32_t *fd, uint32_t *inode)
{
	*proc = sqlite3_column_int64(q, FD_PROC);
	*fd = sqlite3_column_int(q, FD_FD);
	*inode = col_u32(q, FD_INODE);
}

int recread_sock_id(sqlite3_stmt *q, struct sock_rec *k, char **name)
{
	k->cookie = col_u64(q, SOCK_COOKIE);
	k->netns = col_u64(q, SOCK_NETNS);
	k->family = (uint8_t)sqlite3_column_int(q, SOCK_FAMILY);
	k->proto = (uint8_t)sqlite3_column_int(q, SOCK_PROTO);
	k->type = (uint8_t)sqlite3_column_int(q, SOCK_TYPE);
	k->lport = (uint16_t)sqlite3_column_int(q, SOCK_LPORT);
	k->rport = (uint16_t)sqlite3_column_int(q, SOCK_RPORT);
	k->owner = -1;
	if (k->family != AF_UNIX) {
		col_addr(q, SOCK_LADDR, k->family, k->laddr);
		col_addr(q, SOCK_RADDR, k->family, k->raddr);
		return SQLITE_OK;
	}
	/* 108 bytes of sun_path, each escaped to at most four, and the '@'. */
	char buf[4 * 108 + 2];
	memset(k->laddr, 0, sizeof(k->laddr));
	memset(k->raddr, 0, sizeof(k->raddr));
	k->un.peer = col_u32(q, SOCK_PEER);
	copy_text(buf, sizeof(buf), q, SOCK_NAME);
	if (buf[0] && !(*name = strdup(buf)))
		return SQLITE_NOMEM;
	return SQLITE_OK;
}

void recread_sock_ch(sqlite3_stmt *q, int base, struct sock_rec *k)
{
	k->state = (uint8_t)sqlite3_column_int(q, CH(base, SOCKCH_STATE));
	k->rqueue = col_u32(q, CH(base, SOCKCH_RQUEUE));
	k->wqueue = col_u32(q, CH(base, SOCKCH_WQUEUE));
	k->timer = (uint8_t)sqlite3_column_int(q, CH(base, SOCKCH_TIMER));
	k->retrans = (uint8_t)sqlite3_column_int(q, CH(base, SOCKCH_RETRANS));
	k->inode = col_u32(q, CH(base, SOCKCH_INODE));
	k->uid = col_u32(q, CH(base, SOCKCH_UID));
	/* Before 2.2 the query has no such column; NULL: no bound was known. */
	k->state_age_ms = CH(base, SOCKCH_STATE_AGE_MS) < sqlite3_column_count(q)
				  ? col_u32(q, CH(base, SOCKCH_STATE_AGE_MS))
				  : 0;
}

void recread_port_id(sqlite3_stmt *q, struct port_agg *p)
{
	p->netns = col_u64(q, PORT_NETNS);
	p->port = (uint16_t)sqlite3_column_int(q, PORT_PORT);
	p->side = (uint8_t)schema_side_parse((const char *)sqlite3_column_text(q, PORT_SIDE));
	p->proto = (uint8_t)sqlite3_column_int(q, PORT_PROTO);
}

void recread_port_ch(sqlite3_stmt *q, int base, struct port_agg *p)
{
	const char *pids = (const char *)sqlite3_column_text(q, CH(base, PORTCH_PIDS));

	p->count = col_u32(q, CH(base, PORTCH_COUNT));
	p->recv_q = col_u64(q, CH(base, PORTCH_RECV_Q));
	p->accept_q = col_u32(q, CH(base, PORTCH_ACCEPT_Q));
	p->accept_max = col_u32(q, CH(base, PORTCH_ACCEPT_MAX));
	p->pids_truncated = sqlite3_column_int(q, CH(base, PORTCH_PIDS_TRUNCATED)) != 0;
	for (unsigned st = 0; st < ST_COUNT; st++)
		p->states[st] = col_u32(q, CH(base, schema_state_col(st)));
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

void recread_netns(sqlite3_stmt *q, uint64_t *inode, bool *dumped, bool *own)
{
	*inode = col_u64(q, NETNS_INODE);
	*dumped = sqlite3_column_int(q, NETNS_DUMPED) != 0;
	*own = sqlite3_column_int(q, NETNS_OWN) != 0;
}

void recread_refresh(sqlite3_stmt *q, struct snapshot *s)
{
	s->tick = col_u64(q, REFRESH_TICK);
	s->time = sqlite3_column_double(q, REFRESH_TIME);
	s->refresh_ms = sqlite3_column_double(q, REFRESH_MS);
	copy_text(s->status, sizeof(s->status), q, REFRESH_STATUS);
	s->totals.unreadable = col_u32(q, REFRESH_UNREADABLE);
	s->totals.file_alloc = col_u64(q, REFRESH_FILE_ALLOC);
	s->totals.file_max = col_u64(q, REFRESH_FILE_MAX);
	s->closed_valid = sqlite3_column_int(q, REFRESH_CLOSED_VALID) != 0;
	s->netns_limited = sqlite3_column_int(q, REFRESH_NETNS_LIMITED) != 0;
}

/* A column's text, escaped, malloc'd; *out NULL for NULL. */
static int dup_text(sqlite3_stmt *q, int c, const char **out)
{
	char buf[1024];

	*out = NULL;
	if (sqlite3_column_type(q, c) == SQLITE_NULL)
		return SQLITE_OK;
	copy_text(buf, sizeof(buf), q, c);
	return (*out = strdup(buf)) ? SQLITE_OK : SQLITE_NOMEM;
}

int recread_event(sqlite3_stmt *q, struct record_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = record_event_parse((const char *)sqlite3_column_text(q, EVENT_KIND));
	ev->time = sqlite3_column_double(q, EVENT_TIME);
	ev->pid = sqlite3_column_int(q, EVENT_PID);
	ev->start_time = col_u64(q, EVENT_START_TIME);
	if (dup_text(q, EVENT_WHAT, &ev->what) != SQLITE_OK || dup_text(q, EVENT_RESULT, &ev->result) != SQLITE_OK) {
		free((char *)ev->what);
		ev->what = NULL;
		return SQLITE_NOMEM;
	}
	if (!ev->what && !(ev->what = strdup("")))
		return SQLITE_NOMEM;
	return SQLITE_OK;
}

static int prepare_meta(sqlite3 *db, sqlite3_stmt **q)
{
	char *sql = NULL;
	int rc;

	if (asprintf(&sql, "SELECT %s FROM %s WHERE %s = ?1", cname(TB_META, META_VALUE), schema_tables[TB_META].name,
		     cname(TB_META, META_KEY)) < 0)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v2(db, sql, -1, q, NULL);
	free(sql);
	return rc;
}

/* A meta value, escaped like any text from the file (a host name is printed). */
static const char *meta_get(sqlite3_stmt *q, enum schema_meta key, char *buf, size_t n)
{
	const char *v = NULL;

	sqlite3_reset(q);
	sqlite3_bind_text(q, 1, schema_meta_keys[key], -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0)) {
		copy_text(buf, n, q, 0);
		v = buf;
	}
	return v;
}

/* A number from the meta table, 0 when missing or not one a live run can write. */
static double meta_num(sqlite3_stmt *q, enum schema_meta key, double max)
{
	char buf[64];
	double v;

	if (!meta_get(q, key, buf, sizeof(buf)))
		return 0;
	v = strtod(buf, NULL);
	return isfinite(v) && v >= 0 && v <= max ? v : 0;
}

/* Big-endian integers of the database header. */
static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* The size the header of an SQLite file promises, 0 when unknown (no header, a
 * stale count, or a WAL beside it that may hold the rest). */
static off_t promised_size(const char *path)
{
	unsigned char h[100];
	char wal[4096];
	struct stat st;
	off_t size = 0;
	FILE *f = fopen(path, "rb");

	if (!f)
		return 0;
	snprintf(wal, sizeof(wal), "%s-wal", path);
	if (fread(h, 1, sizeof(h), f) == sizeof(h) && !memcmp(h, "SQLite format 3", 16) &&
	    be32(h + 24) == be32(h + 92) && (stat(wal, &st) || st.st_size == 0)) {
		uint32_t page = (uint32_t)h[16] << 8 | h[17];
		size = (off_t)be32(h + 28) * (page == 1 ? 65536 : page);
	}
	fclose(f);
	return size;
}

void recread_damage(const char *path, bool salvage, char *buf, size_t n)
{
	off_t want = promised_size(path);
	struct stat st;
	size_t len;

	if (want && !stat(path, &st) && st.st_size < want)
		snprintf(buf, n, "%s is cut short (%lld of %lld bytes)", path, (long long)st.st_size, (long long)want);
	else
		snprintf(buf, n, "%s is damaged", path);
	len = strlen(buf);
	if (salvage)
		snprintf(buf + len, n - len, "; salvage what is left: sqlite3 -cmd 'PRAGMA writable_schema=ON' %s "
			 "'.clone fixed.db'", path);
	else
		snprintf(buf + len, n - len, " and its list of tables is lost: nothing in it can be replayed");
}

int recread_unreadable(sqlite3 *db, const char *path, int rc, char **cause)
{
	char damage[4096 + 256];

	recread_damage(path, false, damage, sizeof(damage));
	return text_cause(cause, rc == SQLITE_NOMEM ? -ENOMEM : -EILSEQ, "%s (%s)", damage, sqlite3_errmsg(db));
}

/* Whether the file is a database with no table at all (created, then nothing). */
static bool no_tables(sqlite3 *db)
{
	sqlite3_stmt *q;
	bool none = false;

	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master", -1, &q, NULL) == SQLITE_OK &&
	    sqlite3_step(q) == SQLITE_ROW)
		none = sqlite3_column_int64(q, 0) == 0;
	sqlite3_finalize(q);
	return none;
}

/* A journal left beside the file by a writer killed mid-write: a read-only open
 * cannot roll it back. The original size in its header tells whether anything was
 * committed before (0: the file was being created). */
static int hot_journal(const char *path, char **cause)
{
	unsigned char h[28];
	char name[4096];
	bool empty = false;
	FILE *f;

	snprintf(name, sizeof(name), "%s-journal", path);
	if ((f = fopen(name, "rb"))) {
		empty = fread(h, 1, sizeof(h), f) == sizeof(h) && be32(h + 16) == 0;
		fclose(f);
	}
	if (empty)
		return text_cause(cause, -ENODATA,
				  "%s holds no refresh: the leaktop creating it was killed before its first one "
				  "(%s is the journal it left)", path, name);
	return text_cause(cause, -EACCES,
			  "%s has a journal (%s) left by a writer that was killed, which a read-only replay cannot "
			  "roll back: as the file's owner run sqlite3 %s 'PRAGMA integrity_check' once, then replay it",
			  path, name, path);
}

int recread_open(struct sqlite3 **out, const char *path, struct record_info *info, char **cause)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	char buf[256];
	struct stat st;
	int rc, app = 0;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	if (stat(path, &st))
		return text_cause(cause, -errno, "cannot open %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return text_cause(cause, -EINVAL, "%s is not a leaktop recording (not a regular file)", path);
	if (st.st_size == 0)
		return text_cause(cause, -ENODATA, "%s is empty: nothing was recorded in it (a leaktop killed while "
				  "creating it leaves it so)", path);
	rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (rc == SQLITE_OK) {
		/* A file cut short (its header counts pages it no longer has) is read as
		 * far as it goes instead of refused whole; this connection never writes. */
		sqlite3_db_config(db, SQLITE_DBCONFIG_WRITABLE_SCHEMA, 1, NULL);
		sqlite3_extended_result_codes(db, 1);
	}
	if (rc != SQLITE_OK) {
		rc = text_cause(cause, recread_errno(rc), "cannot open %s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return rc;
	}
	sqlite3_busy_timeout(db, 5000);
	/* A replay rereads the same pages refresh after refresh: keep them (64 MB). */
	sqlite3_exec(db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
	rc = sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &q, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW)
		app = sqlite3_column_int(q, 0);
	/* 0: a copy salvaged by the sqlite3 shell's .clone, which keeps no header field:
	 * the meta table below decides. */
	if (rc == SQLITE_ROW)
		rc = app == RECORD_APP_ID || app == 0 ? SQLITE_OK : SQLITE_NOTADB;
	sqlite3_finalize(q), q = NULL;
	if (rc == SQLITE_READONLY_ROLLBACK) {
		rc = hot_journal(path, cause);
		goto fail;
	}
	if ((rc & 0xff) == SQLITE_NOTADB) {
		rc = text_cause(cause, -EINVAL, "%s is not a leaktop recording", path);
		goto fail;
	}
	if (rc == SQLITE_OK)
		rc = prepare_meta(db, &q);
	/* The message of the failure, before another query replaces it. */
	snprintf(buf, sizeof(buf), "%s", rc != SQLITE_OK ? sqlite3_errmsg(db) : "");
	if (rc != SQLITE_OK && (rc & 0xff) == SQLITE_ERROR && no_tables(db)) {
		rc = text_cause(cause, -ENODATA, "%s holds no refresh: it has no tables (a leaktop killed while creating "
				"it leaves it so)", path);
		goto fail;
	}
	if (rc != SQLITE_OK) {
		if ((rc & 0xff) == SQLITE_CORRUPT || (app && (rc & 0xff) == SQLITE_ERROR))
			rc = recread_unreadable(db, path, rc, cause);
		else
			rc = text_cause(cause, recread_errno(rc), "%s is damaged or not a leaktop recording: %s", path, buf);
		goto fail;
	}
	if (!meta_get(q, META_FORMAT_VERSION, buf, sizeof(buf)) ||
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
	meta_get(q, META_HOST, info->host, sizeof(info->host));
	meta_get(q, META_KERNEL, info->kernel, sizeof(info->kernel));
	meta_get(q, META_LEAKTOP_VERSION, info->version, sizeof(info->version));
	/* Numbers no live run writes (an edited file) read as missing: 0. */
	info->interval = meta_num(q, META_INTERVAL, 86400);
	info->start_time = meta_num(q, META_START_TIME, 1e11);
	info->boot_time = meta_num(q, META_BOOT_TIME, 1e11);
	info->clk_tck = (long)meta_num(q, META_CLK_TCK, 1e6);
	sqlite3_finalize(q);
	*out = db;
	return 0;
fail:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return rc;
}

void recread_close(sqlite3 *db)
{
	sqlite3_close(db);
}

int recread_errno(int rc)
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
