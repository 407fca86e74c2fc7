/* Reading a recording's rows: the queries a replay runs, made from recording/schema (the
 * format 2 ones by tick and key, the format 3 ones by the order rows were written
 * in), and the readers of their rows, which check every value once, here: its type
 * and the range recording/schema gives (an edited or damaged file is refused, never
 * passed on as 18446744073709551615 fds). */
#include "config.h"

#include "recording/recread.h"
#include "recording/frame.h"
#include "recording/schema.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

const struct recread_tabs recread_kinds[RK_COUNT] = {
	[RK_PROC] = {TB_PROC, TB_PROC_CHANGE, TB_PROC_GONE, PROC_FIRST_TICK},
	[RK_FD] = {TB_FD, TB_COUNT, TB_FD_GONE, FD_FIRST_TICK},
	[RK_SOCK] = {TB_SOCK, TB_SOCK_CHANGE, TB_SOCK_GONE, SOCK_FIRST_TICK},
	[RK_PORT] = {TB_PORT, TB_PORT_CHANGE, TB_PORT_GONE, PORT_FIRST_TICK},
	[RK_NETNS] = {TB_NETNS, TB_COUNT, TB_NETNS_GONE, NETNS_FIRST_TICK},
};

/* --- values ------------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static void bad(struct recread_row *x, const char *fmt, ...)
{
	va_list ap;

	if (x->bad)
		return;
	x->bad = true;
	va_start(ap, fmt);
	vsnprintf(x->why, sizeof(x->why), fmt, ap);
	va_end(ap);
}

static const char *cname(enum schema_table t, unsigned c, char *buf, unsigned n)
{
	return schema_col_name(t, c, buf, n);
}

static const char *type_name(int type)
{
	static const char *const names[] = {[SQLITE_INTEGER] = "an integer", [SQLITE_FLOAT] = "a real",
					    [SQLITE_TEXT] = "text", [SQLITE_BLOB] = "a blob", [SQLITE_NULL] = "NULL"};
	return type > 0 && type <= SQLITE_NULL ? names[type] : "?";
}

/* A row's values, from a query or a frame alike. */
static int vtype(const struct recread_row *x, int pos)
{
	static const int types[] = {[FV_NULL] = SQLITE_NULL, [FV_INT] = SQLITE_INTEGER, [FV_REAL] = SQLITE_FLOAT,
				    [FV_TEXT] = SQLITE_TEXT, [FV_BLOB] = SQLITE_BLOB};
	if (!x->v)
		return sqlite3_column_type(x->q, pos);
	return pos >= 0 && pos < x->n ? types[x->v[pos].type] : SQLITE_NULL;
}

static int64_t vint(const struct recread_row *x, int pos)
{
	return x->v ? x->v[pos].i : sqlite3_column_int64(x->q, pos);
}

static double vreal(const struct recread_row *x, int pos)
{
	if (!x->v)
		return sqlite3_column_double(x->q, pos);
	return x->v[pos].type == FV_REAL ? x->v[pos].d : (double)x->v[pos].i;
}

/* Text bytes (not NUL-terminated), *n of them; NULL for none. */
static const char *vtext(const struct recread_row *x, int pos, size_t *n)
{
	const char *s;

	if (x->v) {
		*n = x->v[pos].n;
		return x->v[pos].p;
	}
	s = (const char *)sqlite3_column_text(x->q, pos);
	*n = s ? strnlen(s, (size_t)sqlite3_column_bytes(x->q, pos)) : 0;
	return s;
}

static int vcount(const struct recread_row *x)
{
	return x->v ? x->n : sqlite3_column_count(x->q);
}

/* Column pos as column c of table t: its type must be the column's (NULL where
 * allowed). Returns the SQLite type, or 0 when bad. */
static int check_type(struct recread_row *x, int pos, enum schema_table t, unsigned c)
{
	int type = vtype(x, pos);
	enum schema_vt vt = schema_col_vt(t, c);
	char name[32];
	bool ok = type == SQLITE_NULL ? schema_col_nullable(t, c)
		  : vt == VT_INT     ? type == SQLITE_INTEGER
		  : vt == VT_REAL    ? type == SQLITE_FLOAT || type == SQLITE_INTEGER
		  : vt == VT_TEXT    ? type == SQLITE_TEXT
				     : type == SQLITE_BLOB || type == SQLITE_TEXT;

	if (!ok) {
		bad(x, "%s.%s is %s", schema_tables[t].name, cname(t, c, name, sizeof(name)), type_name(type));
		return 0;
	}
	return type;
}

bool recread_int(struct recread_row *x, int pos, enum schema_table t, unsigned c, int64_t *v)
{
	const struct schema_col *col = &schema_tables[t].cols[c];
	char name[32];
	int type = check_type(x, pos, t, c);

	*v = 0;
	if (type != SQLITE_INTEGER)
		return false;
	*v = vint(x, pos);
	if (*v < col->lo || *v > col->hi) {
		bad(x, "%s.%s is %lld", schema_tables[t].name, cname(t, c, name, sizeof(name)), (long long)*v);
		*v = 0;
		return false;
	}
	return true;
}

/* Shorthands: an integer column read into a narrower type (the range checked made
 * it fit), a nullable one with a value for NULL. */
#define INT(x, pos, t, c) int_of(x, pos, t, c)
static int64_t int_of(struct recread_row *x, int pos, enum schema_table t, unsigned c)
{
	int64_t v;
	recread_int(x, pos, t, c, &v);
	return v;
}

static int64_t int_or(struct recread_row *x, int pos, enum schema_table t, unsigned c, int64_t null)
{
	if (vtype(x, pos) == SQLITE_NULL && schema_col_nullable(t, c))
		return null;
	return int_of(x, pos, t, c);
}

static double real_of(struct recread_row *x, int pos, enum schema_table t, unsigned c)
{
	const struct schema_col *col = &schema_tables[t].cols[c];
	char name[32];
	double v;

	if (!check_type(x, pos, t, c))
		return 0;
	v = vreal(x, pos);
	if (!isfinite(v) || v < (double)col->lo || v > (double)col->hi) {
		bad(x, "%s.%s is %g", schema_tables[t].name, cname(t, c, name, sizeof(name)), v);
		return 0;
	}
	return v;
}

void recread_copy_text(char *dst, size_t n, const char *src, size_t len)
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

static void text_of(struct recread_row *x, int pos, enum schema_table t, unsigned c, char *dst, size_t n)
{
	const char *src;
	size_t len;

	dst[0] = '\0';
	if (check_type(x, pos, t, c) != SQLITE_TEXT || !(src = vtext(x, pos, &len)))
		return;
	/* Up to a NUL, as SQLite's text reads. */
	recread_copy_text(dst, n, src, strnlen(src, len));
}

/* --- rows -------------------------------------------------------------------- */

/* Column X of a change table in a row whose changing part starts at base. */
#define CH(base, x) ((base) + (int)(x) - SCHEMA_CHANGE_FIRST)

void recread_proc_id(struct recread_row *x, int base, struct proc_rec *p)
{
	p->pid = (int32_t)INT(x, base + PROC_PID, TB_PROC, PROC_PID);
	p->start_time = (uint64_t)INT(x, base + PROC_START_TIME, TB_PROC, PROC_START_TIME);
	p->uid = (uint32_t)INT(x, base + PROC_UID, TB_PROC, PROC_UID);
	p->netns = (uint64_t)INT(x, base + PROC_NETNS, TB_PROC, PROC_NETNS);
	text_of(x, base + PROC_COMM, TB_PROC, PROC_COMM, p->comm, sizeof(p->comm));
	text_of(x, base + PROC_USER, TB_PROC, PROC_USER, p->user, sizeof(p->user));
	text_of(x, base + PROC_UNIT, TB_PROC, PROC_UNIT, p->unit, sizeof(p->unit));
	text_of(x, base + PROC_CMDLINE, TB_PROC, PROC_CMDLINE, p->cmdline, sizeof(p->cmdline));
	text_of(x, base + PROC_CONTAINER, TB_PROC, PROC_CONTAINER, p->container, sizeof(p->container));
}

void recread_proc_ch(struct recread_row *x, int base, struct proc_rec *p)
{
	char st[2];

	p->ppid = (int32_t)INT(x, CH(base, PROCCH_PPID), TB_PROC_CHANGE, PROCCH_PPID);
	text_of(x, CH(base, PROCCH_STATE), TB_PROC_CHANGE, PROCCH_STATE, st, sizeof(st));
	p->state = st[0] >= 0x20 && st[0] < 0x7f ? st[0] : '?';
	p->flags = (uint32_t)INT(x, CH(base, PROCCH_FLAGS), TB_PROC_CHANGE, PROCCH_FLAGS);
	p->rss_kb = (uint64_t)INT(x, CH(base, PROCCH_RSS_KB), TB_PROC_CHANGE, PROCCH_RSS_KB);
	p->fds = INT(x, CH(base, PROCCH_FDS), TB_PROC_CHANGE, PROCCH_FDS);
	/* NULL: unlimited. */
	p->fd_limit = (uint64_t)int_or(x, CH(base, PROCCH_FD_LIMIT), TB_PROC_CHANGE, PROCCH_FD_LIMIT, -1);
	p->fd_limit_hard = (uint64_t)int_or(x, CH(base, PROCCH_FD_LIMIT_HARD), TB_PROC_CHANGE, PROCCH_FD_LIMIT_HARD, -1);
}

void recread_fd(struct recread_row *x, int base, int64_t *proc, int32_t *fd, uint32_t *inode)
{
	*proc = INT(x, base + FD_PROC, TB_FD, FD_PROC);
	*fd = (int32_t)INT(x, base + FD_FD, TB_FD, FD_FD);
	*inode = (uint32_t)INT(x, base + FD_INODE, TB_FD, FD_INODE);
}

static void addr_of(struct recread_row *x, int pos, unsigned c, int family, uint8_t out[16])
{
	char ip[64];

	memset(out, 0, 16);
	text_of(x, pos, TB_SOCK, c, ip, sizeof(ip));
	/* An address no live run writes reads as 0.0.0.0 / ::, like "?" (inet_ntop failed). */
	inet_pton(family == AF_INET6 ? AF_INET6 : AF_INET, ip, out);
}

int recread_sock_id(struct recread_row *x, int base, struct sock_rec *k, uint64_t *netns, struct sock_addr6 *addr,
		    char **name)
{
	k->cookie = (uint64_t)INT(x, base + SOCK_COOKIE, TB_SOCK, SOCK_COOKIE);
	*netns = (uint64_t)INT(x, base + SOCK_NETNS, TB_SOCK, SOCK_NETNS);
	memset(addr, 0, sizeof(*addr));
	k->family = (uint8_t)INT(x, base + SOCK_FAMILY, TB_SOCK, SOCK_FAMILY);
	k->proto = (uint8_t)INT(x, base + SOCK_PROTO, TB_SOCK, SOCK_PROTO);
	k->type = (uint8_t)INT(x, base + SOCK_TYPE, TB_SOCK, SOCK_TYPE);
	k->lport = (uint16_t)INT(x, base + SOCK_LPORT, TB_SOCK, SOCK_LPORT);
	k->rport = (uint16_t)INT(x, base + SOCK_RPORT, TB_SOCK, SOCK_RPORT);
	k->owner = -1;
	if (k->family != AF_UNIX) {
		addr_of(x, base + SOCK_LADDR, SOCK_LADDR, k->family, addr->l);
		addr_of(x, base + SOCK_RADDR, SOCK_RADDR, k->family, addr->r);
		return SQLITE_OK;
	}
	/* 108 bytes of sun_path, each escaped to at most four, and the '@'. */
	char buf[4 * 108 + 2];
	memset(&k->un, 0, sizeof(k->un));
	k->un.peer = (uint32_t)INT(x, base + SOCK_PEER, TB_SOCK, SOCK_PEER);
	text_of(x, base + SOCK_NAME, TB_SOCK, SOCK_NAME, buf, sizeof(buf));
	if (buf[0] && !(*name = strdup(buf)))
		return SQLITE_NOMEM;
	return SQLITE_OK;
}

void recread_sock_ch(struct recread_row *x, int base, struct sock_rec *k)
{
	k->state = (uint8_t)INT(x, CH(base, SOCKCH_STATE), TB_SOCK_CHANGE, SOCKCH_STATE);
	k->rqueue = (uint32_t)INT(x, CH(base, SOCKCH_RQUEUE), TB_SOCK_CHANGE, SOCKCH_RQUEUE);
	k->wqueue = (uint32_t)INT(x, CH(base, SOCKCH_WQUEUE), TB_SOCK_CHANGE, SOCKCH_WQUEUE);
	k->timer = (uint8_t)INT(x, CH(base, SOCKCH_TIMER), TB_SOCK_CHANGE, SOCKCH_TIMER);
	k->retrans = (uint8_t)INT(x, CH(base, SOCKCH_RETRANS), TB_SOCK_CHANGE, SOCKCH_RETRANS);
	k->inode = (uint32_t)INT(x, CH(base, SOCKCH_INODE), TB_SOCK_CHANGE, SOCKCH_INODE);
	k->uid = (uint32_t)INT(x, CH(base, SOCKCH_UID), TB_SOCK_CHANGE, SOCKCH_UID);
	/* Before 2.2 the query has no such column; NULL: no bound was known. */
	k->state_age_ms = CH(base, SOCKCH_STATE_AGE_MS) < vcount(x)
				  ? (uint32_t)int_or(x, CH(base, SOCKCH_STATE_AGE_MS), TB_SOCK_CHANGE, SOCKCH_STATE_AGE_MS, 0)
				  : 0;
}

void recread_port_id(struct recread_row *x, int base, struct port_agg *p)
{
	char side[16];

	p->netns = (uint64_t)INT(x, base + PORT_NETNS, TB_PORT, PORT_NETNS);
	p->port = (uint16_t)INT(x, base + PORT_PORT, TB_PORT, PORT_PORT);
	text_of(x, base + PORT_SIDE, TB_PORT, PORT_SIDE, side, sizeof(side));
	p->side = (uint8_t)schema_side_parse(side);
	p->proto = (uint8_t)INT(x, base + PORT_PROTO, TB_PORT, PORT_PROTO);
}

void recread_port_ch(struct recread_row *x, int base, struct port_agg *p)
{
	char pids[PORT_MAX_PIDS * 12 + 1];
	const char *at = pids;

	p->count = (uint32_t)INT(x, CH(base, PORTCH_COUNT), TB_PORT_CHANGE, PORTCH_COUNT);
	p->recv_q = (uint64_t)INT(x, CH(base, PORTCH_RECV_Q), TB_PORT_CHANGE, PORTCH_RECV_Q);
	p->accept_q = (uint32_t)INT(x, CH(base, PORTCH_ACCEPT_Q), TB_PORT_CHANGE, PORTCH_ACCEPT_Q);
	p->accept_max = (uint32_t)INT(x, CH(base, PORTCH_ACCEPT_MAX), TB_PORT_CHANGE, PORTCH_ACCEPT_MAX);
	p->pids_truncated = INT(x, CH(base, PORTCH_PIDS_TRUNCATED), TB_PORT_CHANGE, PORTCH_PIDS_TRUNCATED) != 0;
	for (unsigned st = 0; st < ST_COUNT; st++)
		p->states[st] = (uint32_t)INT(x, CH(base, schema_state_col(st)), TB_PORT_CHANGE, schema_state_col(st));
	text_of(x, CH(base, PORTCH_PIDS), TB_PORT_CHANGE, PORTCH_PIDS, pids, sizeof(pids));
	p->npids = 0;
	while (*at && p->npids < PORT_MAX_PIDS) {
		char *end;
		long pid = strtol(at, &end, 10);
		if (end == at)
			break;
		/* A pid the kernel can have, or the list ends there. */
		if (pid < 1 || pid > INT32_MAX)
			break;
		p->pids[p->npids++] = (int32_t)pid;
		at = *end == ',' ? end + 1 : end;
	}
}

void recread_netns(struct recread_row *x, int base, uint64_t *inode, bool *dumped, bool *own)
{
	*inode = (uint64_t)INT(x, base + NETNS_INODE, TB_NETNS, NETNS_INODE);
	*dumped = INT(x, base + NETNS_DUMPED, TB_NETNS, NETNS_DUMPED) != 0;
	*own = INT(x, base + NETNS_OWN, TB_NETNS, NETNS_OWN) != 0;
}

void recread_refresh(struct recread_row *x, struct snapshot *s)
{
	s->tick = (uint64_t)INT(x, REFRESH_TICK, TB_REFRESH, REFRESH_TICK);
	s->time = real_of(x, REFRESH_TIME, TB_REFRESH, REFRESH_TIME);
	s->refresh_ms = real_of(x, REFRESH_MS, TB_REFRESH, REFRESH_MS);
	text_of(x, REFRESH_STATUS, TB_REFRESH, REFRESH_STATUS, s->status, sizeof(s->status));
	s->totals.unreadable = (uint32_t)int_or(x, REFRESH_UNREADABLE, TB_REFRESH, REFRESH_UNREADABLE, 0);
	s->totals.file_alloc = (uint64_t)int_or(x, REFRESH_FILE_ALLOC, TB_REFRESH, REFRESH_FILE_ALLOC, 0);
	s->totals.file_max = (uint64_t)int_or(x, REFRESH_FILE_MAX, TB_REFRESH, REFRESH_FILE_MAX, 0);
	s->closed_valid = INT(x, REFRESH_CLOSED_VALID, TB_REFRESH, REFRESH_CLOSED_VALID) != 0;
	s->netns_limited = INT(x, REFRESH_NETNS_LIMITED, TB_REFRESH, REFRESH_NETNS_LIMITED) != 0;
	/* sockets and procs: the snapshot's own counts, rebuilt by the join. */
	int_or(x, REFRESH_SOCKETS, TB_REFRESH, REFRESH_SOCKETS, 0);
	int_or(x, REFRESH_PROCS, TB_REFRESH, REFRESH_PROCS, 0);
}

/* A text column, escaped, malloc'd; *out NULL for NULL. */
static int dup_text(struct recread_row *x, int pos, unsigned c, const char **out)
{
	char buf[1024];

	*out = NULL;
	if (vtype(x, pos) == SQLITE_NULL && schema_col_nullable(TB_EVENT, c))
		return SQLITE_OK;
	text_of(x, pos, TB_EVENT, c, buf, sizeof(buf));
	return (*out = strdup(buf)) ? SQLITE_OK : SQLITE_NOMEM;
}

int recread_event(struct recread_row *x, int base, struct record_event *ev)
{
	char kind[16];

	memset(ev, 0, sizeof(*ev));
	text_of(x, base + EVENT_KIND, TB_EVENT, EVENT_KIND, kind, sizeof(kind));
	ev->kind = record_event_parse(kind);
	ev->time = real_of(x, base + EVENT_TIME, TB_EVENT, EVENT_TIME);
	ev->pid = (int32_t)int_or(x, base + EVENT_PID, TB_EVENT, EVENT_PID, 0);
	ev->start_time = (uint64_t)int_or(x, base + EVENT_START_TIME, TB_EVENT, EVENT_START_TIME, 0);
	if (dup_text(x, base + EVENT_WHAT, EVENT_WHAT, &ev->what) != SQLITE_OK ||
	    dup_text(x, base + EVENT_RESULT, EVENT_RESULT, &ev->result) != SQLITE_OK) {
		free((char *)ev->what);
		ev->what = NULL;
		return SQLITE_NOMEM;
	}
	if (!ev->what && !(ev->what = strdup("")))
		return SQLITE_NOMEM;
	return SQLITE_OK;
}

/* --- queries ----------------------------------------------------------------- */

static const char *col(enum schema_table t, unsigned c)
{
	return schema_tables[t].cols[c].name;
}

static const char *first_tick(enum schema_table t)
{
	return col(t, (unsigned)schema_tables[t].tick);
}

/* Format 2's: gone_tick in the row. */
static const char *gone_tick(enum schema_table t)
{
	return col(t, schema_tables[t].ncols - 1);
}

/* The SQL of format 2's query id for a file of format ver, or NULL (none, or out of
 * memory: *nomem says which). */
static char *query_sql(enum recread_stmt id, unsigned ver, bool *nomem)
{
	enum recread_kind k = (enum recread_kind)(id % RK_COUNT);
	const struct recread_tabs *kt = &recread_kinds[k];
	enum schema_table t = kt->row, c = kt->change;
	char *sql = NULL, *ident = NULL, *change = NULL, *all = NULL;
	int n = 0;

	*nomem = false;
	if (id < RQ_REFRESH) {
		ident = schema_select_sql(t, "t", 0, kt->ident, ver);
		if (c != TB_COUNT)
			change = schema_select_sql(c, "c", SCHEMA_CHANGE_FIRST, schema_tables[c].ncols, ver);
		if (!ident || (c != TB_COUNT && !change)) {
			*nomem = true;
			goto out;
		}
	}
	if (id >= RQ_FULL && id < RQ_NEW && c != TB_COUNT)
		/* The latest change at or before ?1: a seek per row on the (row, tick) key. */
		n = asprintf(&sql, "SELECT %s, %s FROM %s t JOIN %s c ON c.%s = t.%s AND c.%s = (SELECT max(%s) FROM %s"
			     " WHERE %s = t.%s AND %s <= ?1) WHERE t.%s <= ?1 AND (t.%s IS NULL OR t.%s > ?1) ORDER BY t.%s",
			     ident, change, schema_tables[t].name, schema_tables[c].name, col(c, 0), col(t, 0), col(c, 1),
			     col(c, 1), schema_tables[c].name, col(c, 0), col(t, 0), col(c, 1), first_tick(t), gone_tick(t),
			     gone_tick(t), col(t, 0));
	else if (id >= RQ_FULL && id < RQ_NEW)
		n = asprintf(&sql, "SELECT %s FROM %s t WHERE t.%s <= ?1 AND (t.%s IS NULL OR t.%s > ?1) ORDER BY t.%s",
			     ident, schema_tables[t].name, first_tick(t), gone_tick(t), gone_tick(t), col(t, 0));
	else if (id >= RQ_NEW && id < RQ_GONE)
		n = asprintf(&sql, "SELECT %s FROM %s t WHERE t.%s > ?1 AND t.%s <= ?2 ORDER BY t.%s", ident,
			     schema_tables[t].name, first_tick(t), first_tick(t), col(t, 0));
	else if (id >= RQ_GONE && id < RQ_CHANGES)
		n = asprintf(&sql, "SELECT %s FROM %s WHERE %s > ?1 AND %s <= ?2", col(t, 0), schema_tables[t].name,
			     gone_tick(t), gone_tick(t));
	else if (id >= RQ_CHANGES && id < RQ_REFRESH && c != TB_COUNT)
		n = asprintf(&sql, "SELECT c.%s, %s FROM %s c WHERE c.%s > ?1 AND c.%s <= ?2 ORDER BY c.%s", col(c, 0),
			     change, schema_tables[c].name, col(c, 1), col(c, 1), col(c, 1));
	else if (id == RQ_REFRESH || id == RQ_EVENTS) {
		enum schema_table e = id == RQ_REFRESH ? TB_REFRESH : TB_EVENT;
		unsigned tick = id == RQ_REFRESH ? REFRESH_TICK : EVENT_TICK;
		if (!(all = schema_select_sql(e, "t", 0, schema_tables[e].ncols, ver))) {
			*nomem = true;
			goto out;
		}
		n = asprintf(&sql, "SELECT %s FROM %s t WHERE t.%s = ?1 ORDER BY t.%s", all, schema_tables[e].name,
			     col(e, tick), col(e, 0));
	} else if (id == RQ_LIST && ver >= SCHEMA_V(3, 0))
		/* By the frame table's row id only: the order written, whatever index a copy has. */
		n = asprintf(&sql, "SELECT %s, %s, %s FROM %s NOT INDEXED WHERE %s > ?1 AND %s = 'refresh' ORDER BY %s",
			     col(TB_FRAME, FRAME_ID), col(TB_FRAME, FRAME_TICK), col(TB_FRAME, FRAME_TIME),
			     schema_tables[TB_FRAME].name, col(TB_FRAME, FRAME_ID), col(TB_FRAME, FRAME_KIND),
			     col(TB_FRAME, FRAME_ID));
	else if (id == RQ_FRAMES && ver >= SCHEMA_V(3, 0))
		n = asprintf(&sql, "SELECT %s, %s, %s FROM %s NOT INDEXED WHERE %s > ?1 ORDER BY %s", col(TB_FRAME, FRAME_ID),
			     col(TB_FRAME, FRAME_KIND), col(TB_FRAME, FRAME_DATA), schema_tables[TB_FRAME].name,
			     col(TB_FRAME, FRAME_ID), col(TB_FRAME, FRAME_ID));
	else if (id == RQ_LIST)
		n = asprintf(&sql, "SELECT %s, %s FROM %s WHERE %s > ?1 ORDER BY %s", col(TB_REFRESH, REFRESH_TICK),
			     col(TB_REFRESH, REFRESH_TIME), schema_tables[TB_REFRESH].name, col(TB_REFRESH, REFRESH_TICK),
			     col(TB_REFRESH, REFRESH_TICK));
	else if (id == RQ_STALE)
		n = asprintf(&sql, "SELECT %s FROM %s WHERE %s = ?1 ORDER BY %s", col(TB_FD_STALE, FDSTALE_FD),
			     schema_tables[TB_FD_STALE].name, col(TB_FD_STALE, FDSTALE_TICK), col(TB_FD_STALE, FDSTALE_FD));
	else if (id == RQ_DUMP && schema_has_table(TB_EVENT_DUMP, ver))
		n = asprintf(&sql, "SELECT %s FROM %s WHERE %s = ?1", col(TB_EVENT_DUMP, EVDUMP_TEXT),
			     schema_tables[TB_EVENT_DUMP].name, col(TB_EVENT_DUMP, EVDUMP_EVENT));
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

int recread_prepare(sqlite3 *db, sqlite3_stmt **q, unsigned ver)
{
	int rc = SQLITE_OK;

	for (int i = 0; i < RQ_COUNT; i++)
		q[i] = NULL;
	for (int i = 0; i < RQ_COUNT && rc == SQLITE_OK; i++) {
		bool nomem;
		/* Format 3 reads its frames; format 2 its tables. */
		if (ver >= SCHEMA_V(3, 0) ? i != RQ_LIST && i != RQ_FRAMES : i == RQ_FRAMES)
			continue;
		char *sql = query_sql((enum recread_stmt)i, ver, &nomem);
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
