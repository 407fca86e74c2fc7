/* The recording's schema as one table, and the SQL made from it: adding a column is
 * one line here and one enum constant in schema.h, and both the writer's INSERT and
 * the reader's SELECT and checks have it. Each column says which format versions
 * have it and which values a live run writes in it. */
#include "config.h"

#include "recording/schema.h"
#include "model/vec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT_NN "INTEGER NOT NULL"
#define TEXT_NN "TEXT NOT NULL"
#define REAL_NN "REAL NOT NULL"
#define ROWID "INTEGER PRIMARY KEY"

/* The values a live run writes. */
#define R_ANY .lo = INT64_MIN, .hi = INT64_MAX  /* a u64 kept as its bits (cookies, inodes) */
#define R_NONNEG .lo = 0, .hi = INT64_MAX
#define R_ID .lo = 1, .hi = INT64_MAX           /* a row id, a tick */
#define R_BOOL .lo = 0, .hi = 1
#define R_U8 .lo = 0, .hi = UINT8_MAX
#define R_U16 .lo = 0, .hi = UINT16_MAX
#define R_U32 .lo = 0, .hi = UINT32_MAX
#define R_I32 .lo = 0, .hi = INT32_MAX
#define R_TIME .lo = 0, .hi = 100000000000LL    /* unix seconds, before the year 5000 */
#define R_MS .lo = 0, .hi = 1000000000LL
/* Format 2's gone_tick: NULL while alive; format 3 has a *_gone table instead. */
#define GONE_TICK_COL {"gone_tick", "INTEGER", .until = SCHEMA_V(3, 0), R_ID}

static const struct schema_col meta_cols[] = {
	[META_KEY] = {"key", "TEXT PRIMARY KEY", 0, 0, 0, 0},
	[META_VALUE] = {"value", TEXT_NN, 0, 0, 0, 0},
};

static const struct schema_col state_cols[] = {
	[STATE_NUM] = {"num", "INTEGER PRIMARY KEY", R_NONNEG},
	[STATE_NAME] = {"name", TEXT_NN, 0, 0, 0, 0},
};

static const struct schema_col refresh_cols[] = {
	[REFRESH_TICK] = {"tick", "INTEGER PRIMARY KEY", R_ID},
	[REFRESH_TIME] = {"time", REAL_NN, R_TIME},
	[REFRESH_MS] = {"refresh_ms", REAL_NN, R_MS},
	[REFRESH_STATUS] = {"status", TEXT_NN, 0, 0, 0, 0},
	[REFRESH_SOCKETS] = {"sockets", "INTEGER", R_NONNEG},
	[REFRESH_PROCS] = {"procs", "INTEGER", R_NONNEG},
	[REFRESH_UNREADABLE] = {"unreadable", "INTEGER", R_U32},
	[REFRESH_FILE_ALLOC] = {"file_alloc", "INTEGER", R_NONNEG},
	[REFRESH_FILE_MAX] = {"file_max", "INTEGER", R_NONNEG},
	[REFRESH_CLOSED_VALID] = {"closed_valid", INT_NN, R_BOOL},
	[REFRESH_NETNS_LIMITED] = {"netns_limited", INT_NN, R_BOOL},
};

static const struct schema_col sock_cols[] = {
	[SOCK_ID] = {"id", ROWID, R_ID},
	[SOCK_COOKIE] = {"cookie", INT_NN, R_ANY},
	[SOCK_NETNS] = {"netns", INT_NN, R_ANY},
	[SOCK_FAMILY] = {"family", INT_NN, R_U8},
	[SOCK_PROTO] = {"proto", INT_NN, R_U8},
	[SOCK_TYPE] = {"type", INT_NN, R_U8},
	[SOCK_LADDR] = {"laddr", TEXT_NN, 0, 0, 0, 0},
	[SOCK_LPORT] = {"lport", INT_NN, R_U16},
	[SOCK_RADDR] = {"raddr", TEXT_NN, 0, 0, 0, 0},
	[SOCK_RPORT] = {"rport", INT_NN, R_U16},
	[SOCK_NAME] = {"name", TEXT_NN, 0, 0, 0, 0},
	[SOCK_PEER] = {"peer", INT_NN, R_U32},
	[SOCK_FIRST_TICK] = {"first_tick", INT_NN, R_ID},
	[SOCK_GONE_TICK] = GONE_TICK_COL,
};

static const struct schema_col sock_change_cols[] = {
	[SOCKCH_SOCK] = {"sock", INT_NN, R_ID},
	[SOCKCH_TICK] = {"tick", INT_NN, R_ID},
	[SOCKCH_STATE] = {"state", INT_NN, .lo = 0, .hi = ST_COUNT - 1},
	[SOCKCH_RQUEUE] = {"rqueue", INT_NN, R_U32},
	[SOCKCH_WQUEUE] = {"wqueue", INT_NN, R_U32},
	[SOCKCH_TIMER] = {"timer", INT_NN, R_U8},
	[SOCKCH_RETRANS] = {"retrans", INT_NN, R_U8},
	[SOCKCH_INODE] = {"inode", INT_NN, R_U32},
	[SOCKCH_UID] = {"uid", INT_NN, R_U32},
	/* The kernel's lower bound (ms) of the time in this state at this tick; written
	 * when known, that is on the first refresh (sources/sockdiag.c). */
	[SOCKCH_STATE_AGE_MS] = {"state_age_ms", "INTEGER", .since = SCHEMA_V(2, 2), R_U32},
};

static const struct schema_col proc_cols[] = {
	[PROC_ID] = {"id", ROWID, R_ID},
	[PROC_PID] = {"pid", INT_NN, .lo = 1, .hi = INT32_MAX},
	[PROC_START_TIME] = {"start_time", INT_NN, R_NONNEG},
	[PROC_UID] = {"uid", INT_NN, R_U32},
	[PROC_NETNS] = {"netns", INT_NN, R_ANY},
	[PROC_COMM] = {"comm", TEXT_NN, 0, 0, 0, 0},
	[PROC_USER] = {"user", TEXT_NN, 0, 0, 0, 0},
	[PROC_UNIT] = {"unit", TEXT_NN, 0, 0, 0, 0},
	[PROC_CMDLINE] = {"cmdline", TEXT_NN, 0, 0, 0, 0},
	[PROC_CONTAINER] = {"container", TEXT_NN, 0, 0, 0, 0},
	[PROC_FIRST_TICK] = {"first_tick", INT_NN, R_ID},
	[PROC_GONE_TICK] = GONE_TICK_COL,
};

static const struct schema_col proc_change_cols[] = {
	[PROCCH_PROC] = {"proc", INT_NN, R_ID},
	[PROCCH_TICK] = {"tick", INT_NN, R_ID},
	[PROCCH_PPID] = {"ppid", INT_NN, R_I32},
	[PROCCH_STATE] = {"state", TEXT_NN, 0, 0, 0, 0},
	[PROCCH_FLAGS] = {"flags", INT_NN, R_U32},
	/* kB: a 64-bit address space is 2^54 of them. */
	[PROCCH_RSS_KB] = {"rss_kb", INT_NN, .lo = 0, .hi = 1LL << 54},
	[PROCCH_FDS] = {"fds", INT_NN, .lo = -1, .hi = INT32_MAX}, /* -1: unreadable */
	/* NULL: unlimited or unknown. */
	[PROCCH_FD_LIMIT] = {"fd_limit", "INTEGER", R_NONNEG},
	[PROCCH_FD_LIMIT_HARD] = {"fd_limit_hard", "INTEGER", R_NONNEG},
};

static const struct schema_col fd_cols[] = {
	[FD_ID] = {"id", ROWID, R_ID},
	[FD_PROC] = {"proc", INT_NN, R_ID},
	[FD_FD] = {"fd", INT_NN, R_I32},
	[FD_INODE] = {"inode", INT_NN, R_U32},
	[FD_FIRST_TICK] = {"first_tick", INT_NN, R_ID},
	[FD_GONE_TICK] = GONE_TICK_COL,
};

static const struct schema_col fd_stale_cols[] = {
	[FDSTALE_FD] = {"fd", INT_NN, R_ID},
	[FDSTALE_TICK] = {"tick", INT_NN, R_ID},
};

static const struct schema_col netns_cols[] = {
	[NETNS_ID] = {"id", ROWID, R_ID},
	[NETNS_INODE] = {"inode", INT_NN, R_ANY},
	[NETNS_DUMPED] = {"dumped", INT_NN, R_BOOL},
	[NETNS_OWN] = {"own", INT_NN, R_BOOL},
	[NETNS_FIRST_TICK] = {"first_tick", INT_NN, R_ID},
	[NETNS_GONE_TICK] = GONE_TICK_COL,
};

static const struct schema_col event_cols[] = {
	[EVENT_ID] = {"id", ROWID, R_ID},
	[EVENT_TICK] = {"tick", INT_NN, R_NONNEG}, /* 0: before the first refresh */
	[EVENT_TIME] = {"time", REAL_NN, R_TIME},
	[EVENT_KIND] = {"kind", TEXT_NN, 0, 0, 0, 0},
	[EVENT_PID] = {"pid", "INTEGER", R_I32},
	[EVENT_START_TIME] = {"start_time", "INTEGER", R_NONNEG},
	[EVENT_WHAT] = {"what", TEXT_NN, 0, 0, 0, 0},
	[EVENT_RESULT] = {"result", "TEXT", 0, 0, 0, 0},
};

static const struct schema_col event_dump_cols[] = {
	[EVDUMP_EVENT] = {"event", "INTEGER PRIMARY KEY", R_ID},
	[EVDUMP_TEXT] = {"text", "BLOB NOT NULL", 0, 0, 0, 0},
};

static const struct schema_col port_cols[] = {
	[PORT_ID] = {"id", ROWID, R_ID},
	[PORT_NETNS] = {"netns", INT_NN, R_ANY},
	[PORT_PORT] = {"port", INT_NN, R_U16},
	[PORT_SIDE] = {"side", TEXT_NN, 0, 0, 0, 0},
	[PORT_PROTO] = {"proto", INT_NN, R_U8},
	[PORT_FIRST_TICK] = {"first_tick", INT_NN, R_ID},
	[PORT_GONE_TICK] = GONE_TICK_COL,
};

static const struct schema_col port_change_cols[] = {
	[PORTCH_PORT] = {"port", INT_NN, R_ID},
	[PORTCH_TICK] = {"tick", INT_NN, R_ID},
	[PORTCH_COUNT] = {"count", INT_NN, R_U32},
	[PORTCH_RECV_Q] = {"recv_q", INT_NN, R_NONNEG},
	[PORTCH_ACCEPT_Q] = {"accept_q", INT_NN, R_U32},
	[PORTCH_ACCEPT_MAX] = {"accept_max", INT_NN, R_U32},
	[PORTCH_PIDS] = {"pids", TEXT_NN, 0, 0, 0, 0},
	[PORTCH_PIDS_TRUNCATED] = {"pids_truncated", INT_NN, R_BOOL},
	/* One per state, named by schema_col_name ("close_wait"). */
	[PORTCH_STATES ... PORTCH_NCOLS - 1] = {NULL, INT_NN, R_U32},
};

/* sock_gone, proc_gone, ...: the kind's row and the tick it went. */
#define GONE_COLS(t, row)                                  \
	static const struct schema_col t[] = {             \
		[GONE_ROW] = {row, INT_NN, R_ID},          \
		[GONE_TICK] = {"tick", INT_NN, R_ID},      \
	}
GONE_COLS(sock_gone_cols, "sock");
GONE_COLS(proc_gone_cols, "proc");
GONE_COLS(fd_gone_cols, "fd");
GONE_COLS(netns_gone_cols, "netns");
GONE_COLS(port_gone_cols, "port");

static const struct schema_col frame_cols[] = {
	[FRAME_ID] = {"id", ROWID, R_ANY},
	[FRAME_TICK] = {"tick", INT_NN, R_NONNEG},
	[FRAME_TIME] = {"time", REAL_NN, R_TIME},
	[FRAME_KIND] = {"kind", TEXT_NN, 0, 0, 0, 0},
	[FRAME_DATA] = {"data", "BLOB NOT NULL", 0, 0, 0, 0},
};

#define NCOLS(a) (unsigned)(sizeof(a) / sizeof((a)[0]))
_Static_assert(NCOLS(meta_cols) == META_NCOLS, "meta columns");
_Static_assert(NCOLS(state_cols) == STATE_NCOLS, "state columns");
_Static_assert(NCOLS(refresh_cols) == REFRESH_NCOLS, "refresh columns");
_Static_assert(NCOLS(sock_cols) == SOCK_NCOLS, "sock columns");
_Static_assert(NCOLS(sock_change_cols) == SOCKCH_NCOLS, "sock_change columns");
_Static_assert(NCOLS(proc_cols) == PROC_NCOLS, "proc columns");
_Static_assert(NCOLS(proc_change_cols) == PROCCH_NCOLS, "proc_change columns");
_Static_assert(NCOLS(fd_cols) == FD_NCOLS, "fd columns");
_Static_assert(NCOLS(fd_stale_cols) == FDSTALE_NCOLS, "fd_stale columns");
_Static_assert(NCOLS(netns_cols) == NETNS_NCOLS, "netns columns");
_Static_assert(NCOLS(event_cols) == EVENT_NCOLS, "event columns");
_Static_assert(NCOLS(port_cols) == PORT_NCOLS, "port columns");
_Static_assert(NCOLS(event_dump_cols) == EVDUMP_NCOLS, "event_dump columns");
_Static_assert(NCOLS(port_change_cols) == PORTCH_NCOLS, "port_change columns");
_Static_assert(NCOLS(sock_gone_cols) == GONE_NCOLS, "gone columns");
_Static_assert(NCOLS(frame_cols) == FRAME_NCOLS, "frame columns");
/* The tables of rows that go end with first_tick, then format 2's gone_tick. */
_Static_assert(SOCK_GONE_TICK == SOCK_NCOLS - 1 && PROC_GONE_TICK == PROC_NCOLS - 1 && FD_GONE_TICK == FD_NCOLS - 1 &&
	       NETNS_GONE_TICK == NETNS_NCOLS - 1 && PORT_GONE_TICK == PORT_NCOLS - 1, "gone_tick last");
_Static_assert(SOCKCH_STATE == SCHEMA_CHANGE_FIRST && PROCCH_PPID == SCHEMA_CHANGE_FIRST &&
	       PORTCH_COUNT == SCHEMA_CHANGE_FIRST, "change tables start with (row, tick)");

#define TAB(n, c, tk, ...) {.name = n, .cols = c, .ncols = NCOLS(c), .tick = tk, __VA_ARGS__}
/* The tables of things that appear: a row's tick is its first_tick. */
#define ROWS(n, c) TAB(n, c, (int)NCOLS(c) - 2, .rowid = true)
#define CHANGES(n, c) TAB(n, c, 1)
#define GONE(n, c) TAB(n, c, GONE_TICK, .since = SCHEMA_V(3, 0))
const struct schema_tab schema_tables[TB_COUNT] = {
	[TB_META] = TAB("meta", meta_cols, -1),
	[TB_STATE] = TAB("state", state_cols, -1),
	[TB_REFRESH] = TAB("refresh", refresh_cols, REFRESH_TICK),
	[TB_SOCK] = ROWS("sock", sock_cols),
	[TB_SOCK_CHANGE] = CHANGES("sock_change", sock_change_cols),
	[TB_SOCK_GONE] = GONE("sock_gone", sock_gone_cols),
	[TB_PROC] = ROWS("proc", proc_cols),
	[TB_PROC_CHANGE] = CHANGES("proc_change", proc_change_cols),
	[TB_PROC_GONE] = GONE("proc_gone", proc_gone_cols),
	[TB_FD] = ROWS("fd", fd_cols),
	[TB_FD_GONE] = GONE("fd_gone", fd_gone_cols),
	[TB_FD_STALE] = TAB("fd_stale", fd_stale_cols, FDSTALE_TICK),
	[TB_NETNS] = ROWS("netns", netns_cols),
	[TB_NETNS_GONE] = GONE("netns_gone", netns_gone_cols),
	[TB_EVENT] = TAB("event", event_cols, EVENT_TICK, .rowid = true),
	[TB_PORT] = ROWS("port", port_cols),
	[TB_PORT_CHANGE] = CHANGES("port_change", port_change_cols),
	[TB_PORT_GONE] = GONE("port_gone", port_gone_cols),
	[TB_EVENT_DUMP] = TAB("event_dump", event_dump_cols, -1, .since = SCHEMA_V(2, 1)),
	[TB_FRAME] = TAB("frame", frame_cols, FRAME_TICK, .rowid = true, .since = SCHEMA_V(3, 0)),
};

const char *const schema_meta_keys[META_COUNT] = {
	[META_FORMAT_VERSION] = "format_version",
	[META_HOST] = "host",
	[META_KERNEL] = "kernel",
	[META_LEAKTOP_VERSION] = "leaktop_version",
	[META_INTERVAL] = "interval",
	[META_START_TIME] = "start_time",
	[META_BOOT_TIME] = "boot_time",
	[META_CLK_TCK] = "clk_tck",
};

static const char *const event_names[EV_COUNT] = {
	[EV_ALERT] = "alert",
	[EV_ACTION] = "action",
};

const char *record_event_name(enum record_event_kind kind)
{
	return (unsigned)kind < EV_COUNT ? event_names[kind] : "event";
}

enum record_event_kind record_event_parse(const char *name)
{
	for (unsigned k = 0; name && k < EV_COUNT; k++)
		if (!strcmp(name, event_names[k]))
			return (enum record_event_kind)k;
	return EV_COUNT;
}

static const char *const side_names[] = {[SIDE_LOCAL] = "local", [SIDE_REMOTE] = "remote"};

const char *schema_side_name(unsigned side)
{
	return side == SIDE_REMOTE ? side_names[SIDE_REMOTE] : side_names[SIDE_LOCAL];
}

unsigned schema_side_parse(const char *name)
{
	return name && !strcmp(name, side_names[SIDE_REMOTE]) ? SIDE_REMOTE : SIDE_LOCAL;
}

const char *schema_col_name(enum schema_table t, unsigned col, char *buf, unsigned n)
{
	const struct schema_tab *tab = &schema_tables[t];
	unsigned i = 0;

	if (col >= tab->ncols)
		return "";
	if (tab->cols[col].name)
		return tab->cols[col].name;
	/* The one place a state becomes a column name: "CLOSE_WAIT" -> "close_wait". */
	for (const char *c = sk_state_name(col - PORTCH_STATES); *c && i + 1 < n; c++)
		buf[i++] = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
	buf[i < n ? i : 0] = '\0';
	return buf;
}

/* A growing string; on allocation failure it drops everything and stays NULL. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
};

__attribute__((format(printf, 2, 3))) static void sb_add(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		if (vec_reserve_min(&b->s, &b->cap, b->len + (size_t)n + 1, 1, 256)) {
			b->failed = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

static char *sb_done(struct sbuf *b)
{
	if (b->failed || !b->s) {
		free(b->s);
		return NULL;
	}
	return b->s;
}

bool schema_has_table(enum schema_table t, unsigned ver)
{
	return schema_tables[t].since <= ver;
}

bool schema_has_col(enum schema_table t, unsigned col, unsigned ver)
{
	const struct schema_col *c = &schema_tables[t].cols[col];

	return col < schema_tables[t].ncols && schema_has_table(t, ver) && c->since <= ver && (!c->until || ver < c->until);
}

enum schema_vt schema_col_vt(enum schema_table t, unsigned col)
{
	/* By the first letter: the reader asks this of every value it reads. */
	switch (schema_tables[t].cols[col].type[0]) {
	case 'R': return VT_REAL;
	case 'T': return VT_TEXT;
	case 'B': return VT_BLOB;
	default: return VT_INT;
	}
}

bool schema_col_nullable(enum schema_table t, unsigned col)
{
	/* "INTEGER", "TEXT": no constraint; every constraint (NOT NULL, PRIMARY KEY)
	 * follows a space. The reader asks this of every value it reads. */
	return !strchr(schema_tables[t].cols[col].type, ' ');
}

/* CREATE TABLE t(...) of the format written: its columns; no key but the row id, so
 * every table grows at its end, in the order the rows were written. */
static void table_sql(struct sbuf *b, enum schema_table t)
{
	const struct schema_tab *tab = &schema_tables[t];
	char name[32];
	bool first = true;

	sb_add(b, "CREATE TABLE %s(", tab->name);
	for (unsigned c = 0; c < tab->ncols; c++) {
		if (!schema_has_col(t, c, SCHEMA_V_NOW))
			continue;
		sb_add(b, "%s%s %s", first ? "" : ", ", schema_col_name(t, c, name, sizeof(name)), tab->cols[c].type);
		first = false;
	}
	sb_add(b, ")");
}

char *schema_table_sql(enum schema_table t)
{
	struct sbuf b = {0};

	table_sql(&b, t);
	return sb_done(&b);
}

char *schema_insert_sql(enum schema_table t)
{
	const struct schema_tab *tab = &schema_tables[t];
	struct sbuf b = {0};
	char name[32];
	unsigned first = tab->rowid ? 1 : 0;

	sb_add(&b, "INSERT INTO %s(", tab->name);
	for (unsigned c = first; c < tab->ncols && schema_has_col(t, c, SCHEMA_V_NOW); c++)
		sb_add(&b, "%s%s", c > first ? ", " : "", schema_col_name(t, c, name, sizeof(name)));
	sb_add(&b, ") VALUES(");
	for (unsigned c = first; c < tab->ncols && schema_has_col(t, c, SCHEMA_V_NOW); c++)
		sb_add(&b, c > first ? ",?" : "?");
	sb_add(&b, ")");
	return sb_done(&b);
}

char *schema_select_sql(enum schema_table t, const char *alias, unsigned from, unsigned to, unsigned ver)
{
	struct sbuf b = {0};
	char name[32];
	bool first = true;

	for (unsigned c = from; c < to; c++) {
		if (!schema_has_col(t, c, ver))
			continue;
		sb_add(&b, "%s%s.%s", first ? "" : ", ", alias, schema_col_name(t, c, name, sizeof(name)));
		first = false;
	}
	return sb_done(&b);
}
