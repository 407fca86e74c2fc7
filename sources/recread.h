/* Reading a recording: open and check the file, its meta table, and the queries a
 * replay runs, with one reader per kind of row into the model's records. The SQL is
 * made from model/schema, like the writer's (tui/writers/record). */
#ifndef LEAKTOP_RECREAD_H
#define LEAKTOP_RECREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/schema.h"

struct sqlite3;
struct sqlite3_stmt;
struct snapshot;

/* Open a recording read-only and check it is one this leaktop reads: a clear
 * one-line *cause when the file is missing, not a recording, damaged, or of another
 * major format. Fills info from the meta table. Returns 0 or -errno. */
int recread_open(struct sqlite3 **db, const char *path, struct record_info *info, char **cause);
/* What is wrong with a damaged recording, in words for a one-line message: "FILE
 * is cut short (X of Y bytes)" or "FILE is damaged", then with salvage how to copy
 * out what is left (the sqlite3 shell's .clone), else that nothing can be. */
void recread_damage(const char *path, bool salvage, char *buf, size_t n);
/* The message for a recording whose tables cannot be read at all (the query that
 * failed with rc on db). Returns -EILSEQ (-ENOMEM). */
int recread_unreadable(struct sqlite3 *db, const char *path, int rc, char **cause);
/* Close what recread_open opened; NULL is fine. */
void recread_close(struct sqlite3 *db);

/* The kinds of rows that appear and go, refresh after refresh. */
enum recread_kind { RK_PROC, RK_FD, RK_SOCK, RK_PORT, RK_NETNS, RK_COUNT };

/* The queries. FULL + kind: the rows alive at tick ?1 with their latest change at
 * or before it. NEW, GONE, CHANGES + kind: what appeared, went (ids) and changed
 * in (?1, ?2], to step from one refresh to the next (no CHANGES for fds and
 * namespaces: their statement is NULL). Rows of FULL and NEW start with the row's
 * identity, its id first; the changing part follows in FULL from
 * recread_change_base(kind), in CHANGES from 1 (after the row id). */
enum recread_stmt {
	RQ_FULL = 0,
	RQ_NEW = RK_COUNT,
	RQ_GONE = 2 * RK_COUNT,
	RQ_CHANGES = 3 * RK_COUNT,
	RQ_REFRESH = 4 * RK_COUNT, /* the refresh row of tick ?1 */
	RQ_LIST,                   /* tick, time of the refreshes after tick ?1 */
	RQ_STALE,                  /* fd row ids in fd_stale at tick ?1 */
	RQ_EVENTS,                 /* the events tied to tick ?1 */
	RQ_COUNT
};

/* Prepare every query (q[RQ_COUNT]) for a file of format minor `minor` (of
 * RECORD_FORMAT_MAJOR): the columns added after it are not asked for. Returns an
 * SQLite result code. */
int recread_prepare(struct sqlite3 *db, struct sqlite3_stmt **q, unsigned minor);
void recread_finalize(struct sqlite3_stmt **q);

/* Where the changing part of a FULL row starts. */
int recread_change_base(enum recread_kind k);
#define RECREAD_CHANGES_BASE 1

/* One reader per part of a row. Text is escaped again on the way in: the file may
 * have been edited since it was written. */
void recread_proc_id(struct sqlite3_stmt *q, struct proc_rec *p);
void recread_proc_ch(struct sqlite3_stmt *q, int base, struct proc_rec *p);
void recread_fd(struct sqlite3_stmt *q, int64_t *proc, int32_t *fd, uint32_t *inode);
/* A UNIX socket's name goes to *name (malloc'd, untouched when ""). Returns an
 * SQLite result code. */
int recread_sock_id(struct sqlite3_stmt *q, struct sock_rec *k, char **name);
/* state_age_ms is 0 when the row has no bound or the file no such column. */
void recread_sock_ch(struct sqlite3_stmt *q, int base, struct sock_rec *k);
void recread_port_id(struct sqlite3_stmt *q, struct port_agg *p);
void recread_port_ch(struct sqlite3_stmt *q, int base, struct port_agg *p);
void recread_netns(struct sqlite3_stmt *q, uint64_t *inode, bool *dumped, bool *own);
/* An RQ_REFRESH row into s (time, status, flags, totals read from /proc). */
void recread_refresh(struct sqlite3_stmt *q, struct snapshot *s);
/* An RQ_EVENTS row; what and result are malloc'd (result NULL when none). Returns
 * an SQLite result code. */
int recread_event(struct sqlite3_stmt *q, struct record_event *ev);

/* An SQLite result code as -errno, for the reader and the writer alike:
 * -ENOMEM, -ENOSPC, -EACCES, -EBUSY, -ENOENT, -EILSEQ (damaged or not a
 * database), else -EIO. */
int recread_errno(int sqlite_rc);

#endif
