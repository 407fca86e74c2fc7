/* The views (tui panes, batch output) of a snapshot: filters and row lists
 * (filter.c), the query language (query.c), column tables (columns.c), sorting
 * (order.c) and cell formatting (format.c). Rows are indices into the snapshot, never
 * copies. One module in five files, so this is their one header and there is no
 * view.c: a caller asks for a view and need not know which file makes it
 * (tests/layout.sh counts the five as one module). */
#ifndef LEAKTOP_VIEW_H
#define LEAKTOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/hashtab.h"

struct snapshot;
struct history;
struct sock_rec;
struct proc_rec;
struct port_agg;
struct bl_ent;
struct bl_listen;
struct view_query;

#define VIEW_MAX_KEYS 64

/* --pid, --port and --netns from the command line. Empty lists let everything through. */
struct view_filter {
	size_t npids, nports, nnetns;
	int32_t pids[VIEW_MAX_KEYS];
	uint16_t ports[VIEW_MAX_KEYS];
	uint64_t netns[VIEW_MAX_KEYS]; /* network namespace inodes */
};

/* Parse "1,2,3" into the filter; returns 0 or -EINVAL (*cause says why). */
int view_filter_pids(struct view_filter *f, const char *list, char **cause);
int view_filter_ports(struct view_filter *f, const char *list, char **cause);
int view_filter_netns(struct view_filter *f, const char *list, char **cause);

bool view_sock_match(const struct view_filter *f, const struct snapshot *s, const struct sock_rec *k);
bool view_proc_match(const struct view_filter *f, const struct snapshot *s, const struct proc_rec *p);
bool view_port_match(const struct view_filter *f, const struct port_agg *p);

/* Which port aggregates the Ports pane and the text report list. Every TCP and UDP
 * socket counts under one port (sock_port_side): a server's under its local port, a
 * client's outbound connection under the remote port (shown "->5432"). BOTH, the
 * default, lists the two mixed, so a client's leak (a pool stuck in CLOSE_WAIT to one
 * service) has its row without asking; the others list one side. */
enum view_port_sides { VIEW_PORTS_BOTH, VIEW_PORTS_REMOTE, VIEW_PORTS_LOCAL, VIEW_PORTS_SIDES };
bool view_port_side_shown(enum view_port_sides sides, const struct port_agg *p);
/* Indices of the ports of those sides that pass f and q (either may be NULL), in
 * snapshot order (count descending). idx holds s->nports. Returns the count. */
size_t view_ports(const struct snapshot *s, const struct view_filter *f, const struct view_query *q,
		  enum view_port_sides sides, uint32_t *idx);

/* Indices of the sockets with the largest Recv-Q (non-zero), largest first, that
 * pass the filter. Returns how many were written to idx (at most max). */
size_t view_backlog(const struct snapshot *s, const struct view_filter *f, uint32_t *idx, size_t max);

/* Indices of procs sorted by fds, descending (pid ascending on ties), that pass
 * the filter. idx holds s->nprocs. Returns the count. */
size_t view_procs_by_fds(const struct snapshot *s, const struct view_filter *f, uint32_t *idx);


/* --- Queries: what the dashboard's F4 filter and / search match ----------------
 * Space-separated terms, all of which must match: "cmd:java", "user:www",
 * "port:8080", "state:close_wait", "pid:42", or bare text (command, user, or a port
 * or pid number). */
enum view_term_kind { VQ_TEXT, VQ_CMD, VQ_USER, VQ_PORT, VQ_STATE, VQ_PID, VQ_COUNT };
#define VIEW_QUERY_TERMS 8
#define VIEW_QUERY_TEXT 48

struct view_term {
	enum view_term_kind kind;
	long num;                    /* port, pid or state */
	char text[VIEW_QUERY_TEXT];
};

struct view_query {
	size_t nterms;
	struct view_term terms[VIEW_QUERY_TERMS];
};

/* Parse text into q (empty text: matches everything). 0 or -EINVAL with *cause. */
int view_query_parse(struct view_query *q, const char *text, char **cause);
bool view_query_proc(const struct view_query *q, const struct snapshot *s, const struct proc_rec *p);
bool view_query_port(const struct view_query *q, const struct snapshot *s, const struct port_agg *p);
bool view_query_sock(const struct view_query *q, const struct snapshot *s, const struct sock_rec *k);

/* --- The backlog: sockets with unread bytes, grouped by owner and port ----------
 * A socket counts under the side the snapshot's ports give it (sock_port_side): an
 * inbound one (a server's) by its local port, an outbound one (a client's, from an
 * ephemeral port) by its remote endpoint, address and port: a pool of 100
 * connections to one database is one group, not 100. */
struct view_bl_group {
	int32_t proc;                /* index into snapshot.procs, -1 when no owner is known */
	uint16_t port;               /* local port; the remote one when side is SIDE_REMOTE */
	uint8_t side;                /* enum port_side */
	uint8_t family;              /* SIDE_REMOTE: the remote address's */
	uint8_t raddr[16];           /* SIDE_REMOTE: the remote address */
	uint32_t count;
	uint64_t recv_q, send_q;
	uint32_t max_q;
	uint32_t first;              /* this group's sockets: socks[first .. first+count) */
	uint32_t ordered;            /* how many of them are in order (view_backlog_order) */
};

struct view_backlog {
	uint32_t *socks;             /* socket indices, by group; in order only as far
				      * as each group's `ordered` */
	size_t nsocks, socks_cap;
	struct view_bl_group *groups; /* by owner, then side, remote address and port */
	size_t ngroups, groups_cap;
	struct bl_ent *ents;         /* scratch: the sockets while they are grouped (freed) */
	size_t ents_cap;
	struct bl_listen *listen;    /* scratch: the listening ports */
	size_t nlisten, listen_cap;
	struct hashtab index;        /* scratch: a group's key -> where it is found */
	uint32_t *order;             /* scratch: groups found -> groups sorted */
	size_t order_cap;
};

/* Fill b from s: sockets with Recv-Q > 0 (not LISTEN) that pass f and q (either may
 * be NULL), grouped and summed in one pass; a group's sockets are not ordered (a
 * million of them would take the dashboard a second), view_backlog_order orders as
 * many as are shown. 0 or -ENOMEM. */
int view_backlog_build(struct view_backlog *b, const struct snapshot *s, const struct view_filter *f,
		       const struct view_query *q);
/* Put the first k sockets of b->groups[group] in order (largest Recv-Q first, then
 * inode): those ordered already stay, the next are selected from the rest without
 * ordering it, so a pane showing 20 of a group's 500k sockets orders 20. */
void view_backlog_order(struct view_backlog *b, const struct snapshot *s, size_t group, size_t k);
/* How many sockets of the group come before socket index sock in that order. */
size_t view_backlog_rank(const struct view_backlog *b, const struct snapshot *s, size_t group, uint32_t sock);
void view_backlog_free(struct view_backlog *b);

/* --- Column tables: one entry per column, shared by every table-shaped view ------ */
enum view_table { VT_PROCS, VT_PORTS, VT_SOCKS, VT_BACKLOG, VT_COUNT };

/* What a row index refers to: procs, ports, socks or backlog groups. */
struct view_ctx {
	const struct snapshot *s;
	const struct view_backlog *bl;
	const struct history *h;     /* NULL: the history columns show "-" */
	bool ascii;                  /* sparklines in ASCII */
};

struct view_col {
	const char *title;
	uint8_t width;               /* for the flexible column: its minimum */
	uint8_t drop;                /* 0: always shown; when too narrow, the highest goes first */
	bool left;                   /* left-aligned text */
	bool flex;                   /* takes the width that is left (one per table) */
	bool asc;                    /* sorts ascending first (names, numbers like PID) */
	/* a < b < 0 < ... like strcmp, in the column's natural order. */
	int (*cmp)(const struct view_ctx *c, uint32_t a, uint32_t b);
	/* Format row i into buf; NULL for a column the caller draws (the ports bar). */
	void (*fmt)(const struct view_ctx *c, uint32_t i, char *buf, size_t size);
	bool text_only;              /* the text report's alone: never in a pane */
	bool hist;                   /* a history figure: the text report shows it once there is one */
};

struct view_table_def {
	const struct view_col *cols;
	size_t ncols;
	int default_sort;
	/* The text report (--batch) prints these columns, in this order, with the same
	 * titles, widths and formatters; its flex column, having no terminal to fill,
	 * is text_flex wide. Cells are never cut there: a longer one pushes the rest of
	 * its row right. */
	const uint8_t *text;
	size_t ntext;
	uint8_t text_flex;
};
extern const struct view_table_def view_tables[VT_COUNT];

/* Column indices, for code that names one. The _TEXT_ ones are text_only. */
enum { PC_PID, PC_USER, PC_COMMAND, PC_FDS, PC_LIMIT, PC_FDPCT, PC_FDMIN, PC_ETA, PC_TREND, PC_SOCKETS,
       PC_CLOSE_WAIT, PC_ESTAB, PC_RECVQ, PC_RSS, PC_RSSMIN, PC_RSS_TREND, PC_VERDICT,
       PC_TEXT_CLOSED, PC_TEXT_UDP, PC_TEXT_UNIX, PC_TEXT_NETNS, PC_TEXT_CONTAINER, PC_COUNT };
enum { OC_PORT, OC_PID, OC_SOCKETS, OC_ESTAB, OC_CLOSE_WAIT, OC_CWMIN, OC_CWAGE, OC_TIME_WAIT, OC_FIN_WAIT2,
       OC_ACCEPT, OC_RECVQ, OC_VERDICT, OC_BAR, OC_TEXT_PORT, OC_TEXT_SIDE, OC_TEXT_PROTO, OC_TEXT_STATES, OC_COUNT };
enum { SC_FD, SC_PID, SC_TYPE, SC_STATE, SC_LOCAL, SC_REMOTE, SC_RECVQ, SC_SENDQ, SC_INODE, SC_TIMER, SC_AGE,
       SC_TEXT_PROTO, SC_COUNT };
enum { BC_PID, BC_PORT, BC_SOCKETS, BC_RECVQ, BC_MAXQ, BC_SENDQ, BC_REMOTE, BC_COMMAND, BC_COUNT };

/* A sockets-table row with this bit is an index into snapshot.owners: one socket fd
 * of one process, whose socket may be in no dump (CLOSED). Without it, a row is an
 * index into snapshot.socks. */
#define VIEW_ROW_OWNER 0x40000000u

/* The most columns a table has: callers size their arrays with it. */
#define VIEW_MAX_COLS 24

/* Which columns fit in width: fills shown[] and widths[] (ncols entries each) and
 * returns how many are shown (text_only columns never are). Columns are separated
 * by one space. */
size_t view_layout(enum view_table t, int width, bool *shown, int *widths);

/* What the user chose for a column (the F2 column setup): shown when it fits (the
 * default), hidden, or pinned (shown: the columns left on auto give way first). */
enum view_want { VIEW_AUTO, VIEW_HIDE, VIEW_PIN };
/* view_layout with the user's choices (want, ncols entries, or NULL: all auto) and
 * the widths the data needs (minw, 0 or NULL: the table's; at least the title's). With width < 0 nothing
 * is dropped (a pane that scrolls sideways) and the flex column keeps its width. */
size_t view_layout_want(enum view_table t, int width, const uint8_t *want, const int *minw, bool *shown,
			int *widths);
/* A column by its title, case-insensitive ("rss/min"); text_only columns are not
 * found. The index, or -1. */
int view_col_find(enum view_table t, const char *title);

/* Sort rows by column col (its natural order; reversed when invert), ties by index. */
void view_sort(enum view_table t, const struct view_ctx *c, uint32_t *rows, size_t n, int col, bool invert);
/* The same, but with culprits the rows judged leak come first, then those judged
 * suspect (a process's fd, CLOSE_WAIT or memory verdict; a port's), each group in the
 * column's order: the dashboard's default, so the first screen shows the culprits. */
void view_sort_culprits(enum view_table t, const struct view_ctx *c, uint32_t *rows, size_t n, int col,
			bool invert, bool culprits);
/* A row's place in that order: 2 leak, 1 suspect, 0 otherwise (or no verdict). */
int view_culprit_rank(enum view_table t, const struct view_ctx *c, uint32_t row);

/* --- Rows in order only as far as they are looked at (order.c) ------------------
 * A drill-down into a port of 500k sockets shows 20 of them, and a refresh comes
 * every few seconds: a full sort each time held the screen for seconds. view_select
 * puts the first k of n rows in order and leaves the rest in no order, in time
 * proportional to n (plus k log k); view_order keeps a pane's rows that way: the top
 * part and the bottom part (End) in place, the middle in no order but after the one
 * and before the other, so every row in place is where view_sort puts it. */
typedef bool view_before_fn(const void *arg, uint32_t a, uint32_t b); /* a strict order */
void view_select(uint32_t *v, size_t n, size_t k, view_before_fn *before, const void *arg);

struct view_order {
	enum view_table t;
	int col;                     /* view_sort's column and direction */
	bool invert;
	size_t head, tail;           /* rows[0, head) and rows[n - tail, n) are in place */
};
/* Rows not in order yet (as a pane's build collects them). */
void view_order_init(struct view_order *o, enum view_table t, int col, bool invert);
/* Put the first k rows in place (those in place already stay), or the last k. */
void view_order_head(struct view_order *o, const struct view_ctx *c, uint32_t *rows, size_t n, size_t k);
void view_order_tail(struct view_order *o, const struct view_ctx *c, uint32_t *rows, size_t n, size_t k);
/* Where rows[i] goes in that order (i itself when it is in place). */
size_t view_order_rank(const struct view_order *o, const struct view_ctx *c, const uint32_t *rows, size_t n,
		       size_t i);

/* The last `width` values of v (oldest first) as a sparkline scaled from their
 * lowest to their highest: block characters (UTF-8), or " .:-=+*#" in ASCII. NaN
 * values are skipped. Returns the number of cells written (buf gets a NUL). */
size_t view_sparkline(char *buf, size_t size, const double *v, size_t n, int width, bool ascii);

/* "HH:MM:SS" (or "HH:MM") into seconds since midnight: 0 or -EINVAL. */
int view_parse_clock(const char *text, int *secs);
/* The unix time of local clock time `secs` on the day of `ref`; when that lies
 * outside [lo, hi], the day before or after if that lies inside (a recording
 * across midnight). */
double view_clock_time(double ref, int secs, double lo, double hi);

/* --- FD%: one rule for every output (format.c) ----------------------------------
 * FD% is 100 * fds / the soft RLIMIT_NOFILE, exact: 749 of 1000 is 74.9. NAN when the
 * fds cannot be read or the limit is unknown or unlimited. Outputs cut it, never
 * round it: the dashboard and the text report show the whole number (74), JSON's
 * fd_pct carries two decimals (74.90), OpenMetrics' leaktop_process_fd_usage_ratio
 * four (0.7490). The fd_usage alert and the pane's row colours compare the exact
 * figure with --fd-warn and --fd-crit, so with whole-number thresholds "75" is shown
 * exactly when the 75% alert fires, and nowhere does 74.9 read as 75. */
double view_fd_pct(const struct proc_rec *p);
/* An FD% cut (floored) to `decimals` decimals, as the outputs show it; NAN stays NAN. */
double view_fd_pct_cut(double pct, int decimals);

/* A growth rate: "-" when not known, one decimal below `whole`, none from it. */
void view_fmt_growth(char *buf, size_t size, double g, double whole);

/* The state most of a port's sockets are in, and its share: "CLOSE_WAIT 98%"
 * (ESTABLISHED as "ESTAB"); "" when there are none. */
char *view_fmt_mostly(char *buf, size_t size, const uint32_t *states);
/* That state (0 when there are no sockets), and its share in *pct. */
unsigned view_mostly(const uint32_t *states, unsigned *pct);

/* Socket counts by state in words, kernel order: "5 CLOSE_WAIT, 1 LISTEN", or "none". */
char *view_fmt_states(char *buf, size_t size, const uint32_t *states);

/* A count in width characters: 1234567 -> "1205K" when it does not fit. */
char *view_fmt_count(char *buf, size_t size, uint64_t v, int width);

/* --- numbers no machine has (format.c) ------------------------------------------
 * Live figures are bounded by the kernel; a damaged or edited recording's are not
 * (its reader range-checks them, and the outputs stand on their own too). An RSS
 * over 16 PiB is unknown in every output (JSON null, no sample, "-"): -1 read as
 * unsigned printed 18446744073709551615 KB, and its bytes wrapped. Sums over many
 * processes or ports saturate instead of wrapping (or, for int64, being undefined). */
#define VIEW_RSS_KB_MAX ((uint64_t)1 << 44)
bool view_rss_known(uint64_t rss_kb);
uint64_t view_sat_add(uint64_t a, uint64_t b);
uint32_t view_sat_add32(uint32_t a, uint32_t b);
int64_t view_sat_add64s(int64_t a, int64_t b); /* b >= 0 */

#endif
