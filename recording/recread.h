/* Reading a recording: open and check the file (read-only, through recording/recvfs,
 * leaktop's own tables and nothing else), its meta table, and the queries a replay
 * runs, with one reader per kind of row into the model's records that checks every
 * value. The SQL is made from recording/schema, like the writer's
 * (recording/record). */
#ifndef LEAKTOP_RECREAD_H
#define LEAKTOP_RECREAD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recording/schema.h"

struct sqlite3;
struct sqlite3_stmt;
struct snapshot;

/* Open a recording read-only and check it is one this leaktop reads: a clear
 * one-line *cause when the file is missing, not a recording (another program's
 * database, a view or trigger, a table without leaktop's columns), damaged, or of
 * another major format. Never writes, creates or removes a file; a side file
 * another program left (FILE-wal, FILE-journal) is not read, and info->warning
 * says so, except a format 2 file's own WAL (see recread.c). Fills info from the
 * meta table. Returns 0 or -errno. */
int recread_open(struct sqlite3 **db, const char *path, struct record_info *info, char **cause);
/* What is wrong with a damaged recording, in words for a one-line message: "FILE
 * is cut short (X of Y bytes)" or "FILE is damaged", then with salvage how to copy
 * out what is left (the sqlite3 shell's .clone), else that nothing can be. */
void recread_damage(const char *path, bool salvage, char *buf, size_t n);
/* Whether the file is shorter than its header says (cut short); *have and *want
 * its size and that. */
bool recread_cut_short(const char *path, long long *have, long long *want);
/* The message for a recording whose tables cannot be read at all (the query that
 * failed with rc on db). Returns -EILSEQ (-ENOMEM, -EINTR). */
int recread_unreadable(struct sqlite3 *db, const char *path, int rc, char **cause);
/* Close what recread_open opened; NULL is fine. */
void recread_close(struct sqlite3 *db);

/* The kinds of rows that appear and go, refresh after refresh. */
enum recread_kind { RK_PROC, RK_FD, RK_SOCK, RK_PORT, RK_NETNS, RK_COUNT };

/* The tables of each kind: its rows, their changes (TB_COUNT: none), their going
 * (format 3), and how many columns of a row are its identity. */
struct recread_tabs {
	enum schema_table row, change, gone;
	unsigned ident;
};
extern const struct recread_tabs recread_kinds[RK_COUNT];

/* The queries. Format 2's: FULL + kind: the rows alive at tick ?1 with their latest
 * change at or before it. NEW, GONE, CHANGES + kind: what appeared, went (ids) and
 * changed in (?1, ?2], to step from one refresh to the next (no CHANGES for fds and
 * namespaces: their statement is NULL). Rows of FULL and NEW are the row's columns
 * from its id; the changing part follows in FULL from recread_kinds[kind].ident, in
 * CHANGES from 1 (after the row id). Format 3's: RQ_LIST and RQ_FRAMES. */
enum recread_stmt {
	RQ_FULL = 0,
	RQ_NEW = RK_COUNT,
	RQ_GONE = 2 * RK_COUNT,
	RQ_CHANGES = 3 * RK_COUNT,
	RQ_REFRESH = 4 * RK_COUNT, /* the refresh row of tick ?1 */
	RQ_LIST,                   /* the refreshes after ?1: tick, time (format 3: frame id, tick, time) */
	RQ_STALE,                  /* fd row ids in fd_stale at tick ?1 */
	RQ_EVENTS,                 /* the events tied to tick ?1 */
	RQ_DUMP,                   /* the thread dump of event ?1 (2.1 and later) */
	RQ_FRAMES,                 /* format 3: id, kind, data of the frames after id ?1 */
	RQ_COUNT
};
#define RECREAD_CHANGES_BASE 1

/* Prepare q[RQ_COUNT] for a file of format ver (SCHEMA_V): format 2's queries for a
 * format 2 file (the columns added after it are not asked for), format 3's for a
 * format 3 one; the others NULL. Returns an SQLite result code. */
int recread_prepare(struct sqlite3 *db, struct sqlite3_stmt **q, unsigned ver);
void recread_finalize(struct sqlite3_stmt **q);

/* A row being read: every value is checked against recording/schema (its type, and the
 * range a live run writes); the first that fails is named in why and the row is
 * bad (an edited or damaged file). */
struct frame_value;
struct recread_row {
	struct sqlite3_stmt *q;         /* a query's row, or */
	const struct frame_value *v;    /* a frame's (recording/frame.h), of n columns */
	int n;
	bool bad;
	char why[160];
};
#define RECREAD_ROW(stmt) ((struct recread_row){.q = (stmt)})
#define RECREAD_FRAME_ROW(vals, ncols) ((struct recread_row){.v = (vals), .n = (ncols)})

/* One reader per part of a row; base is where column 0 of the row's table is in
 * the query (for a change table, where its SCHEMA_CHANGE_FIRST column is). Text is
 * escaped again on the way in: the file may have been edited since it was written. */
void recread_proc_id(struct recread_row *x, int base, struct proc_rec *p);
void recread_proc_ch(struct recread_row *x, int base, struct proc_rec *p);
void recread_fd(struct recread_row *x, int base, int64_t *proc, int32_t *fd, uint32_t *inode);
/* A socket's netns and addresses go to *netns and *addr (the snapshot keeps them
 * out of the record: snapshot_sock_set_netns, snapshot_sock_set_addrs), a UNIX
 * socket's name to *name (malloc'd, untouched when ""). Returns an SQLite result
 * code (SQLITE_NOMEM). */
int recread_sock_id(struct recread_row *x, int base, struct sock_rec *k, uint64_t *netns, struct sock_addr6 *addr,
		    char **name);
/* state_age_ms is 0 when the row has no bound or the file no such column. */
void recread_sock_ch(struct recread_row *x, int base, struct sock_rec *k);
void recread_port_id(struct recread_row *x, int base, struct port_agg *p);
void recread_port_ch(struct recread_row *x, int base, struct port_agg *p);
void recread_netns(struct recread_row *x, int base, uint64_t *inode, bool *dumped, bool *own);
/* A checked integer column (a row id, a tick): *v, false when bad or NULL. */
bool recread_int(struct recread_row *x, int pos, enum schema_table t, unsigned col, int64_t *v);
/* A refresh row into s (tick, time, status, flags, totals read from /proc). */
void recread_refresh(struct recread_row *x, struct snapshot *s);
/* An event row (its columns from base); what and result are malloc'd (result NULL
 * when none). Returns an SQLite result code. */
int recread_event(struct recread_row *x, int base, struct record_event *ev);

/* Text from the file into dst (n bytes, truncated): it was escaped when recorded,
 * but the file may have been edited since, so anything a terminal would act on is
 * escaped again (clean text is copied as it is). */
void recread_copy_text(char *dst, size_t n, const char *src, size_t len);

/* An SQLite result code as -errno, for the reader and the writer alike:
 * -ENOMEM, -ENOSPC, -EACCES, -EBUSY, -ENOENT, -EINTR (a stop signal), -EILSEQ
 * (damaged or not a database), else -EIO. */
int recread_errno(int sqlite_rc);

#endif
