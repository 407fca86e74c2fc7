/* The recording writer's insides, shared by record.c (the file, its transactions and
 * frames) and record_rows.c (each refresh compared with the last one, kind by kind). */
#ifndef LEAKTOP_RECORD_INT_H
#define LEAKTOP_RECORD_INT_H

#include "recording/etab.h"
#include "recording/frame.h"
#include "recording/schema.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

struct snapshot;

enum stmt_id {
	Q_SOCK, Q_SOCK_GONE, Q_SOCK_CHANGE,
	Q_PROC, Q_PROC_GONE, Q_PROC_CHANGE,
	Q_FD, Q_FD_GONE, Q_FD_STALE,
	Q_NETNS, Q_NETNS_GONE,
	Q_PORT, Q_PORT_GONE, Q_PORT_CHANGE, Q_REFRESH, Q_EVENT, Q_EVENT_DUMP, Q_FRAME,
	Q_BEGIN, Q_COMMIT, Q_ROLLBACK,
	Q_COUNT
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
	unsigned long skipped; /* refreshes left out: a reader held the file too long */
	/* The frame of the refresh or event being written, and the row being bound
	 * (its text copied to arena, at row_off). */
	struct frame_buf frame;
	struct frame_value row[FRAME_MAX_COLS];
	size_t row_off[FRAME_MAX_COLS];
	char *arena;
	size_t arena_len, arena_cap;
	bool arena_failed;
};

/* Binding a value to column c of statement id's table: bound, and kept for the
 * frame that row goes into when record_step writes it. */
void put_int(struct record *r, enum stmt_id id, unsigned c, int64_t v);
void put_null(struct record *r, enum stmt_id id, unsigned c);
void put_real(struct record *r, enum stmt_id id, unsigned c, double v);
/* Text of n bytes (a blob when blob is set). */
void put_bytes(struct record *r, enum stmt_id id, unsigned c, const void *s, size_t n, bool blob);
static inline void put_u64(struct record *r, enum stmt_id id, unsigned c, uint64_t v)
{
	put_int(r, id, c, (int64_t)v); /* SQLite integers are signed: a uint64 keeps its bits */
}

/* Run statement id to completion (an INSERT's row into the frame too); reset it.
 * Returns 0 or an SQLite result code. */
int record_step(struct record *r, enum stmt_id id);
/* The row id SQLite gave the last row inserted. */
int64_t record_last_id(struct record *r);

/* The tables of the last refresh and of this one: made, put back as they were after
 * a refresh that failed, freed. */
void record_rows_init(struct record *r);
void record_rows_unmark(struct record *r);
void record_rows_free(struct record *r);

/* What appeared, changed and went since the last refresh, kind by kind. Each
 * returns 0 or an SQLite result code. */
int record_socks(struct record *r, const struct snapshot *s);
int record_procs(struct record *r, const struct snapshot *s);
int record_fds(struct record *r, const struct snapshot *s);
int record_netns(struct record *r, const struct snapshot *s);
int record_ports(struct record *r, const struct snapshot *s);

#endif
