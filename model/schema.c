/* The recording's schema as one table, and the SQL made from it: adding a column is
 * one line here and one enum constant in schema.h, and both the writer's INSERT and
 * the reader's SELECT have it. */
#include "config.h"

#include "model/schema.h"
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

static const struct schema_col meta_cols[] = {
	[META_KEY] = {"key", "TEXT PRIMARY KEY"},
	[META_VALUE] = {"value", TEXT_NN},
};

static const struct schema_col state_cols[] = {
	[STATE_NUM] = {"num", "INTEGER PRIMARY KEY"},
	[STATE_NAME] = {"name", TEXT_NN},
};

static const struct schema_col refresh_cols[] = {
	[REFRESH_TICK] = {"tick", "INTEGER PRIMARY KEY"},
	[REFRESH_TIME] = {"time", REAL_NN},
	[REFRESH_MS] = {"refresh_ms", REAL_NN},
	[REFRESH_STATUS] = {"status", TEXT_NN},
	[REFRESH_SOCKETS] = {"sockets", "INTEGER"},
	[REFRESH_PROCS] = {"procs", "INTEGER"},
	[REFRESH_UNREADABLE] = {"unreadable", "INTEGER"},
	[REFRESH_FILE_ALLOC] = {"file_alloc", "INTEGER"},
	[REFRESH_FILE_MAX] = {"file_max", "INTEGER"},
	[REFRESH_CLOSED_VALID] = {"closed_valid", INT_NN},
	[REFRESH_NETNS_LIMITED] = {"netns_limited", INT_NN},
};

static const struct schema_col sock_cols[] = {
	[SOCK_ID] = {"id", ROWID},
	[SOCK_COOKIE] = {"cookie", INT_NN},
	[SOCK_NETNS] = {"netns", INT_NN},
	[SOCK_FAMILY] = {"family", INT_NN},
	[SOCK_PROTO] = {"proto", INT_NN},
	[SOCK_TYPE] = {"type", INT_NN},
	[SOCK_LADDR] = {"laddr", TEXT_NN},
	[SOCK_LPORT] = {"lport", INT_NN},
	[SOCK_RADDR] = {"raddr", TEXT_NN},
	[SOCK_RPORT] = {"rport", INT_NN},
	[SOCK_NAME] = {"name", TEXT_NN},
	[SOCK_PEER] = {"peer", INT_NN},
	[SOCK_FIRST_TICK] = {"first_tick", INT_NN},
	[SOCK_GONE_TICK] = {"gone_tick", "INTEGER"},
};

static const struct schema_col sock_change_cols[] = {
	[SOCKCH_SOCK] = {"sock", INT_NN},
	[SOCKCH_TICK] = {"tick", INT_NN},
	[SOCKCH_STATE] = {"state", INT_NN},
	[SOCKCH_RQUEUE] = {"rqueue", INT_NN},
	[SOCKCH_WQUEUE] = {"wqueue", INT_NN},
	[SOCKCH_TIMER] = {"timer", INT_NN},
	[SOCKCH_RETRANS] = {"retrans", INT_NN},
	[SOCKCH_INODE] = {"inode", INT_NN},
	[SOCKCH_UID] = {"uid", INT_NN},
	/* The kernel's lower bound (ms) of the time in this state at this tick; written
	 * when known, that is on the first refresh (sources/sockdiag.c). */
	[SOCKCH_STATE_AGE_MS] = {"state_age_ms", "INTEGER", .since_minor = 2},
};

static const struct schema_col proc_cols[] = {
	[PROC_ID] = {"id", ROWID},
	[PROC_PID] = {"pid", INT_NN},
	[PROC_START_TIME] = {"start_time", INT_NN},
	[PROC_UID] = {"uid", INT_NN},
	[PROC_NETNS] = {"netns", INT_NN},
	[PROC_COMM] = {"comm", TEXT_NN},
	[PROC_USER] = {"user", TEXT_NN},
	[PROC_UNIT] = {"unit", TEXT_NN},
	[PROC_CMDLINE] = {"cmdline", TEXT_NN},
	[PROC_CONTAINER] = {"container", TEXT_NN},
	[PROC_FIRST_TICK] = {"first_tick", INT_NN},
	[PROC_GONE_TICK] = {"gone_tick", "INTEGER"},
};

static const struct schema_col proc_change_cols[] = {
	[PROCCH_PROC] = {"proc", INT_NN},
	[PROCCH_TICK] = {"tick", INT_NN},
	[PROCCH_PPID] = {"ppid", INT_NN},
	[PROCCH_STATE] = {"state", TEXT_NN},
	[PROCCH_FLAGS] = {"flags", INT_NN},
	[PROCCH_RSS_KB] = {"rss_kb", INT_NN},
	[PROCCH_FDS] = {"fds", INT_NN},
	[PROCCH_FD_LIMIT] = {"fd_limit", "INTEGER"},     /* NULL: unlimited or unknown */
	[PROCCH_FD_LIMIT_HARD] = {"fd_limit_hard", "INTEGER"},
};

static const struct schema_col fd_cols[] = {
	[FD_ID] = {"id", ROWID},
	[FD_PROC] = {"proc", INT_NN},
	[FD_FD] = {"fd", INT_NN},
	[FD_INODE] = {"inode", INT_NN},
	[FD_FIRST_TICK] = {"first_tick", INT_NN},
	[FD_GONE_TICK] = {"gone_tick", "INTEGER"},
};

static const struct schema_col fd_stale_cols[] = {
	[FDSTALE_FD] = {"fd", INT_NN},
	[FDSTALE_TICK] = {"tick", INT_NN},
};

static const struct schema_col netns_cols[] = {
	[NETNS_ID] = {"id", ROWID},
	[NETNS_INODE] = {"inode", INT_NN},
	[NETNS_DUMPED] = {"dumped", INT_NN},
	[NETNS_OWN] = {"own", INT_NN},
	[NETNS_FIRST_TICK] = {"first_tick", INT_NN},
	[NETNS_GONE_TICK] = {"gone_tick", "INTEGER"},
};

static const struct schema_col event_cols[] = {
	[EVENT_ID] = {"id", ROWID},
	[EVENT_TICK] = {"tick", INT_NN},
	[EVENT_TIME] = {"time", REAL_NN},
	[EVENT_KIND] = {"kind", TEXT_NN},
	[EVENT_PID] = {"pid", "INTEGER"},
	[EVENT_START_TIME] = {"start_time", "INTEGER"},
	[EVENT_WHAT] = {"what", TEXT_NN},
	[EVENT_RESULT] = {"result", "TEXT"},
};

static const struct schema_col event_dump_cols[] = {
	[EVDUMP_EVENT] = {"event", "INTEGER PRIMARY KEY"},
	[EVDUMP_TEXT] = {"text", "BLOB NOT NULL"},
};
static const struct schema_col port_cols[] = {
	[PORT_ID] = {"id", ROWID},
	[PORT_NETNS] = {"netns", INT_NN},
	[PORT_PORT] = {"port", INT_NN},
	[PORT_SIDE] = {"side", TEXT_NN},
	[PORT_PROTO] = {"proto", INT_NN},
	[PORT_FIRST_TICK] = {"first_tick", INT_NN},
	[PORT_GONE_TICK] = {"gone_tick", "INTEGER"},
};

static const struct schema_col port_change_cols[] = {
	[PORTCH_PORT] = {"port", INT_NN},
	[PORTCH_TICK] = {"tick", INT_NN},
	[PORTCH_COUNT] = {"count", INT_NN},
	[PORTCH_RECV_Q] = {"recv_q", INT_NN},
	[PORTCH_ACCEPT_Q] = {"accept_q", INT_NN},
	[PORTCH_ACCEPT_MAX] = {"accept_max", INT_NN},
	[PORTCH_PIDS] = {"pids", TEXT_NN},
	[PORTCH_PIDS_TRUNCATED] = {"pids_truncated", INT_NN},
	/* PORTCH_STATES ..: one INTEGER NOT NULL per state, named by schema_col_name. */
	[PORTCH_NCOLS - 1] = {NULL, NULL},
};
#define STATE_COL_TYPE INT_NN

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
/* Every *_change table starts with its key (row, tick). */
/* schema_gone_sql: the rows that go end with gone_tick. */
_Static_assert(SOCK_GONE_TICK == SOCK_NCOLS - 1 && PROC_GONE_TICK == PROC_NCOLS - 1 && FD_GONE_TICK == FD_NCOLS - 1 &&
	       NETNS_GONE_TICK == NETNS_NCOLS - 1 && PORT_GONE_TICK == PORT_NCOLS - 1, "gone_tick last");
_Static_assert(SOCKCH_STATE == SCHEMA_CHANGE_FIRST && PROCCH_PPID == SCHEMA_CHANGE_FIRST &&
	       PORTCH_COUNT == SCHEMA_CHANGE_FIRST, "change tables start with (row, tick)");

#define TAB(n, c, ...) {.name = n, .cols = c, .ncols = NCOLS(c), __VA_ARGS__}
const struct schema_tab schema_tables[TB_COUNT] = {
	[TB_META] = TAB("meta", meta_cols),
	[TB_STATE] = TAB("state", state_cols),
	[TB_REFRESH] = TAB("refresh", refresh_cols),
	[TB_SOCK] = TAB("sock", sock_cols, .rowid = true),
	[TB_SOCK_CHANGE] = TAB("sock_change", sock_change_cols, .key = "sock, tick"),
	[TB_PROC] = TAB("proc", proc_cols, .rowid = true),
	[TB_PROC_CHANGE] = TAB("proc_change", proc_change_cols, .key = "proc, tick"),
	[TB_FD] = TAB("fd", fd_cols, .rowid = true),
	[TB_FD_STALE] = TAB("fd_stale", fd_stale_cols, .key = "tick, fd"),
	[TB_NETNS] = TAB("netns", netns_cols, .rowid = true),
	[TB_EVENT] = TAB("event", event_cols, .rowid = true),
	[TB_PORT] = TAB("port", port_cols, .rowid = true),
	[TB_PORT_CHANGE] = TAB("port_change", port_change_cols, .key = "port, tick"),
	[TB_EVENT_DUMP] = TAB("event_dump", event_dump_cols),
};

/* What a replay needs to step from one refresh to the next: the rows that appeared,
 * went and changed at a tick. A partial index skips the rows still alive. */
static const struct schema_index {
	const char *name;
	enum schema_table table;
	unsigned col;
	bool partial; /* WHERE col IS NOT NULL */
} schema_indexes[] = {
	{"sock_first", TB_SOCK, SOCK_FIRST_TICK, false},
	{"sock_gone", TB_SOCK, SOCK_GONE_TICK, true},
	{"sock_change_tick", TB_SOCK_CHANGE, SOCKCH_TICK, false},
	{"proc_first", TB_PROC, PROC_FIRST_TICK, false},
	{"proc_gone", TB_PROC, PROC_GONE_TICK, true},
	{"proc_change_tick", TB_PROC_CHANGE, PROCCH_TICK, false},
	{"fd_first", TB_FD, FD_FIRST_TICK, false},
	{"fd_gone", TB_FD, FD_GONE_TICK, true},
	{"netns_first", TB_NETNS, NETNS_FIRST_TICK, false},
	{"netns_gone", TB_NETNS, NETNS_GONE_TICK, true},
	{"port_first", TB_PORT, PORT_FIRST_TICK, false},
	{"port_gone", TB_PORT, PORT_GONE_TICK, true},
	{"port_change_tick", TB_PORT_CHANGE, PORTCH_TICK, false},
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

char *schema_create_sql(void)
{
	struct sbuf b = {0};
	char name[32];

	for (unsigned t = 0; t < TB_COUNT; t++) {
		const struct schema_tab *tab = &schema_tables[t];
		sb_add(&b, "CREATE TABLE %s(", tab->name);
		for (unsigned c = 0; c < tab->ncols; c++)
			sb_add(&b, "%s%s %s", c ? ", " : "", schema_col_name(t, c, name, sizeof(name)),
			       tab->cols[c].type ? tab->cols[c].type : STATE_COL_TYPE);
		if (tab->key)
			sb_add(&b, ", PRIMARY KEY(%s)) WITHOUT ROWID;", tab->key);
		else
			sb_add(&b, ");");
	}
	for (size_t i = 0; i < sizeof(schema_indexes) / sizeof(schema_indexes[0]); i++) {
		const struct schema_index *x = &schema_indexes[i];
		const char *col = schema_col_name(x->table, x->col, name, sizeof(name));
		sb_add(&b, "CREATE INDEX %s ON %s(%s)", x->name, schema_tables[x->table].name, col);
		sb_add(&b, x->partial ? " WHERE %s IS NOT NULL;" : ";", col);
	}
	return sb_done(&b);
}

char *schema_insert_sql(enum schema_table t)
{
	const struct schema_tab *tab = &schema_tables[t];
	struct sbuf b = {0};
	char name[32];
	unsigned first = tab->rowid ? 1 : 0;

	sb_add(&b, "INSERT INTO %s(", tab->name);
	for (unsigned c = first; c < tab->ncols; c++)
		sb_add(&b, "%s%s", c > first ? ", " : "", schema_col_name(t, c, name, sizeof(name)));
	sb_add(&b, ") VALUES(");
	for (unsigned c = first; c < tab->ncols; c++)
		sb_add(&b, c > first ? ",?" : "?");
	sb_add(&b, ")");
	return sb_done(&b);
}

char *schema_gone_sql(enum schema_table t)
{
	const struct schema_tab *tab = &schema_tables[t];
	struct sbuf b = {0};

	/* The tables of rows that go end with first_tick, gone_tick. */
	sb_add(&b, "UPDATE %s SET %s = ?1 WHERE %s = ?2", tab->name, tab->cols[tab->ncols - 1].name, tab->cols[0].name);
	return sb_done(&b);
}

bool schema_has_col(enum schema_table t, unsigned col, unsigned minor)
{
	return col < schema_tables[t].ncols && schema_tables[t].cols[col].since_minor <= minor;
}

char *schema_select_sql(enum schema_table t, const char *alias, unsigned from, unsigned to, unsigned minor)
{
	struct sbuf b = {0};
	char name[32];

	for (unsigned c = from; c < to && schema_has_col(t, c, minor); c++)
		sb_add(&b, "%s%s.%s", c > from ? ", " : "", alias, schema_col_name(t, c, name, sizeof(name)));
	return sb_done(&b);
}
