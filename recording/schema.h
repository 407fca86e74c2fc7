/* The recording's schema as data: every table, its columns in order and its
 * indexes, from which the writer (recording/record.c) and the reader
 * (recording/recread.c) both make their SQL. Pure: no SQLite, no I/O. */
#ifndef LEAKTOP_SCHEMA_H
#define LEAKTOP_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "model/snapshot.h"

/* The format written. A reader takes format 2.x and 3.x files (any minor of them)
 * and refuses the others (1.x: no UDP, UNIX or namespaces; 4.0 and later: newer).
 * 2.0: UDP, UNIX and other sockets, namespaces, CLOSED fds; 2.1: the event_dump
 * table; 2.2: sock_change's state_age_ms. 3.0: the rows of each refresh (and each
 * event) are also one frame (recording/frame.h) in the frame table, which is what a
 * reader replays: laid out when the file is made and only ever appended to, so any
 * prefix of the file holds a prefix of the session; the other tables, for SQL, are
 * only appended to as well (a row's going is a row of its own in a *_gone table;
 * no index). */
#define RECORD_FORMAT_MAJOR 3
#define RECORD_FORMAT_MINOR 0
/* The oldest major this reader takes. */
#define RECORD_FORMAT_OLDEST 2

/* A format version as one ordered number: SCHEMA_V(2, 2) < SCHEMA_V(3, 0). */
#define SCHEMA_V(major, minor) ((unsigned)(major) << 16 | (unsigned)(minor))
#define SCHEMA_V_NOW SCHEMA_V(RECORD_FORMAT_MAJOR, RECORD_FORMAT_MINOR)

/* SQLite's page size of the files written: 64 KB, so that a table's root page
 * points at every one of its leaves until it holds ~400 MB (a b-tree of depth two);
 * appended rows then never move, and what a prefix of the file holds can be read. */
#define RECORD_PAGE_SIZE 65536

/* 'LKTP': tells a leaktop recording from any other SQLite file. */
#define RECORD_APP_ID 0x4c4b5450

/* What the meta table says about the session. */
struct record_info {
	double interval;   /* seconds between refreshes */
	double boot_time;  /* unix seconds at boot, to turn start ticks into times */
	long clk_tck;
	/* Filled by the reader; ignored by the writer (it asks the system). */
	double start_time;
	int major, minor;
	char host[256];
	char kernel[128];
	char version[32];
	/* Filled by the reader: what it left out and why ("r.db-wal is not this
	 * recording's: ignored"), for the front end to say once; "" when nothing. */
	char warning[512];
};

/* An event tied to a refresh: an alert raised, an action taken. */
enum record_event_kind { EV_ALERT, EV_ACTION, EV_COUNT };

struct record_event {
	enum record_event_kind kind;
	double time;          /* unix seconds; 0 for now (when written) */
	int32_t pid;          /* 0 when it is about no process */
	uint64_t start_time;  /* with pid, the process's identity */
	const char *what;     /* "thread dump", "restart", "fds of 1234 grow 40/min" */
	const char *result;   /* "sent SIGQUIT", "failed: EPERM"; NULL when none */
	const char *dump;     /* an action's thread dump read back (raw bytes), or NULL */
	size_t dump_len;
};

/* "alert" / "action" ("event" out of range); the kind of a name, EV_COUNT if none. */
const char *record_event_name(enum record_event_kind kind);
enum record_event_kind record_event_parse(const char *name);

/* The tables, in the order they are created. Their numbers are the table ids of
 * frames (recording/frame.h): a new table goes at the end, none is ever renumbered. */
enum schema_table {
	TB_META, TB_STATE, TB_REFRESH,
	TB_SOCK, TB_SOCK_CHANGE, TB_SOCK_GONE, TB_PROC, TB_PROC_CHANGE, TB_PROC_GONE,
	TB_FD, TB_FD_GONE, TB_FD_STALE, TB_NETNS, TB_NETNS_GONE,
	TB_EVENT, TB_PORT, TB_PORT_CHANGE, TB_PORT_GONE, TB_EVENT_DUMP, TB_FRAME,
	TB_COUNT
};

/* Column positions, table by table. A table whose first column is `id INTEGER
 * PRIMARY KEY` gets its ids from SQLite; in the tables of things that appear and go
 * (sock, proc, fd, netns, port) the columns before first_tick are the identity.
 * Their gone_tick is format 2's (updated when the row went); format 3 writes a row
 * in the kind's *_gone table instead. */
enum { META_KEY, META_VALUE, META_NCOLS };
enum { STATE_NUM, STATE_NAME, STATE_NCOLS };
enum {
	REFRESH_TICK, REFRESH_TIME, REFRESH_MS, REFRESH_STATUS, REFRESH_SOCKETS, REFRESH_PROCS,
	REFRESH_UNREADABLE, REFRESH_FILE_ALLOC, REFRESH_FILE_MAX, REFRESH_CLOSED_VALID, REFRESH_NETNS_LIMITED,
	REFRESH_NCOLS
};
enum {
	SOCK_ID, SOCK_COOKIE, SOCK_NETNS, SOCK_FAMILY, SOCK_PROTO, SOCK_TYPE, SOCK_LADDR, SOCK_LPORT, SOCK_RADDR,
	SOCK_RPORT, SOCK_NAME, SOCK_PEER, SOCK_FIRST_TICK, SOCK_GONE_TICK,
	SOCK_NCOLS
};
enum {
	SOCKCH_SOCK, SOCKCH_TICK, SOCKCH_STATE, SOCKCH_RQUEUE, SOCKCH_WQUEUE, SOCKCH_TIMER, SOCKCH_RETRANS,
	SOCKCH_INODE, SOCKCH_UID, SOCKCH_STATE_AGE_MS, /* since 2.2; NULL: no bound known */
	SOCKCH_NCOLS
};
enum {
	PROC_ID, PROC_PID, PROC_START_TIME, PROC_UID, PROC_NETNS, PROC_COMM, PROC_USER, PROC_UNIT, PROC_CMDLINE,
	PROC_CONTAINER, PROC_FIRST_TICK, PROC_GONE_TICK,
	PROC_NCOLS
};
enum {
	PROCCH_PROC, PROCCH_TICK, PROCCH_PPID, PROCCH_STATE, PROCCH_FLAGS, PROCCH_RSS_KB, PROCCH_FDS,
	PROCCH_FD_LIMIT, PROCCH_FD_LIMIT_HARD,
	PROCCH_NCOLS
};
enum { FD_ID, FD_PROC, FD_FD, FD_INODE, FD_FIRST_TICK, FD_GONE_TICK, FD_NCOLS };
/* A socket fd in no dump whose fd had let go of it when checked: not CLOSED. */
enum { FDSTALE_FD, FDSTALE_TICK, FDSTALE_NCOLS };
enum { NETNS_ID, NETNS_INODE, NETNS_DUMPED, NETNS_OWN, NETNS_FIRST_TICK, NETNS_GONE_TICK, NETNS_NCOLS };
enum {
	EVENT_ID, EVENT_TICK, EVENT_TIME, EVENT_KIND, EVENT_PID, EVENT_START_TIME, EVENT_WHAT, EVENT_RESULT,
	EVENT_NCOLS
};
/* Since 2.1: the thread dump an action read back, by the event's id. */
enum { EVDUMP_EVENT, EVDUMP_TEXT, EVDUMP_NCOLS };
enum { PORT_ID, PORT_NETNS, PORT_PORT, PORT_SIDE, PORT_PROTO, PORT_FIRST_TICK, PORT_GONE_TICK, PORT_NCOLS };
/* port_change ends with one column per TCP state, named like it ("close_wait"). */
enum {
	PORTCH_PORT, PORTCH_TICK, PORTCH_COUNT, PORTCH_RECV_Q, PORTCH_ACCEPT_Q, PORTCH_ACCEPT_MAX, PORTCH_PIDS,
	PORTCH_PIDS_TRUNCATED, PORTCH_STATES,
	PORTCH_NCOLS = PORTCH_STATES + ST_COUNT
};
/* Since 3.0, one per kind of row: (row id, the tick it went). */
enum { GONE_ROW, GONE_TICK, GONE_NCOLS };
/* Since 3.0: a refresh's rows ("refresh"), or an event's ("event"), as one frame;
 * rows with an id of 0 or less ("pad") only lay the table out when the file is made. */
enum { FRAME_ID, FRAME_TICK, FRAME_TIME, FRAME_KIND, FRAME_DATA, FRAME_NCOLS };

/* The first column of a *_change table that is not its key (row, tick). */
#define SCHEMA_CHANGE_FIRST 2

/* The values a column holds when a live run wrote it: INTEGER columns between lo
 * and hi, REAL ones finite and between them too; NULL only where the type allows
 * it. The reader refuses a row with anything else (an edited or damaged file). */
struct schema_col {
	const char *name;  /* NULL: a port_change state column, named by schema_col_name */
	const char *type;  /* with its constraints: "INTEGER NOT NULL" */
	/* The format that added it and the first without it (SCHEMA_V; 0: 2.0, and
	 * still written). Columns added later come after the others. */
	unsigned since, until;
	int64_t lo, hi;
};

struct schema_tab {
	const char *name;
	const struct schema_col *cols;
	unsigned ncols;
	bool rowid;         /* column 0 is `id INTEGER PRIMARY KEY`: never inserted */
	unsigned since;     /* SCHEMA_V of the format that added it; 0: 2.0 */
	int tick;           /* the column of the tick a row belongs to; -1: none */
};

extern const struct schema_tab schema_tables[TB_COUNT];

/* What a column holds: the first word of its type. */
enum schema_vt { VT_INT, VT_REAL, VT_TEXT, VT_BLOB };
enum schema_vt schema_col_vt(enum schema_table t, unsigned col);
/* Whether the column may hold NULL. */
bool schema_col_nullable(enum schema_table t, unsigned col);

/* A column's name: the table's, or a state column's lower-cased state name. */
const char *schema_col_name(enum schema_table t, unsigned col, char *buf, unsigned n);

/* The port_change column of a TCP state ("close_wait"). */
static inline unsigned schema_state_col(unsigned state)
{
	return PORTCH_STATES + state;
}

/* "local" / "remote", as port.side stores SIDE_LOCAL / SIDE_REMOTE; and back. */
const char *schema_side_name(unsigned side);
unsigned schema_side_parse(const char *name);

/* The meta table's keys. */
enum schema_meta {
	META_FORMAT_VERSION, META_HOST, META_KERNEL, META_LEAKTOP_VERSION, META_INTERVAL, META_START_TIME,
	META_BOOT_TIME, META_CLK_TCK,
	META_COUNT
};
extern const char *const schema_meta_keys[META_COUNT];


/* SQL made from the table, each a string the caller frees (NULL: out of memory). */
/* The CREATE TABLE of one table as the format written has it. */
char *schema_table_sql(enum schema_table t);
/* INSERT INTO t(every column written but a rowid) VALUES(?, ...): parameter
 * schema_param(t, c) is column c. */
char *schema_insert_sql(enum schema_table t);
/* "a.col, a.col, ...": columns [from, to) of t that a file of format version ver
 * (SCHEMA_V) has, each prefixed by alias and '.'. */
char *schema_select_sql(enum schema_table t, const char *alias, unsigned from, unsigned to, unsigned ver);
/* Whether a file of format ver has table t, and column col of it. */
bool schema_has_table(enum schema_table t, unsigned ver);
bool schema_has_col(enum schema_table t, unsigned col, unsigned ver);

/* The parameter of column col in schema_insert_sql(t). */
static inline int schema_param(enum schema_table t, unsigned col)
{
	return (int)col + !schema_tables[t].rowid;
}

#endif
