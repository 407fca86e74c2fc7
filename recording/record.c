/* Writing a recording: each refresh is compared with the last one, and only what
 * appeared, changed or went away is stored (recording/record_rows.c), in one
 * transaction per refresh whose `refresh` row is written last (a refresh without
 * one never happened). The same rows go into one frame per refresh (recording/frame.h),
 * the frame table a reader replays, laid out when the file is made so that it only
 * ever grows at its end: a file cut or copied anywhere holds the frames of every
 * refresh committed before that point whole. */
#include "config.h"

#include "recording/record.h"
#include "recording/record_int.h"
#include "recording/recfile.h"
#include "recording/schema.h"
#include "recording/recread.h"
#include "recording/recvfs.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "model/vec.h"

#include <arpa/inet.h>
#include <errno.h>
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

/* How long a commit waits for readers to let go of the file (a replay holds it for
 * one refresh's rows, a report or an sqlite3 query for longer). */
#define RECORD_BUSY_MS 5000
/* No fsync: a commit's pages reach the disk with the kernel's writeback. A leaktop
 * killed at any point leaves every refresh it committed (the page cache has them);
 * a machine that loses power can lose the last ~30 s, and the reader, which checks
 * each frame's CRC, stops before the first refresh it does not have whole. */
#define RECORD_SYNCHRONOUS "OFF"
/* Two frames of padding, too large to share a page, laid down when the file is made:
 * the frame table's first page becomes the root of its pages at once, so no later
 * frame moves a written one (SQLite moves a root page's rows the first time it
 * fills). */
#define RECORD_PAD_BYTES 33000

/* Which table each statement writes and how; the SQL comes from recording/schema. */
enum stmt_op { OP_INSERT, OP_SQL };

static const struct stmt_def {
	enum stmt_op op;
	enum schema_table table;
	const char *sql; /* OP_SQL */
} stmt_defs[Q_COUNT] = {
	[Q_SOCK] = {OP_INSERT, TB_SOCK, NULL},
	[Q_SOCK_GONE] = {OP_INSERT, TB_SOCK_GONE, NULL},
	[Q_SOCK_CHANGE] = {OP_INSERT, TB_SOCK_CHANGE, NULL},
	[Q_PROC] = {OP_INSERT, TB_PROC, NULL},
	[Q_PROC_GONE] = {OP_INSERT, TB_PROC_GONE, NULL},
	[Q_PROC_CHANGE] = {OP_INSERT, TB_PROC_CHANGE, NULL},
	[Q_FD] = {OP_INSERT, TB_FD, NULL},
	[Q_FD_GONE] = {OP_INSERT, TB_FD_GONE, NULL},
	[Q_FD_STALE] = {OP_INSERT, TB_FD_STALE, NULL},
	[Q_NETNS] = {OP_INSERT, TB_NETNS, NULL},
	[Q_NETNS_GONE] = {OP_INSERT, TB_NETNS_GONE, NULL},
	[Q_PORT] = {OP_INSERT, TB_PORT, NULL},
	[Q_PORT_GONE] = {OP_INSERT, TB_PORT_GONE, NULL},
	[Q_PORT_CHANGE] = {OP_INSERT, TB_PORT_CHANGE, NULL},
	[Q_REFRESH] = {OP_INSERT, TB_REFRESH, NULL},
	[Q_EVENT] = {OP_INSERT, TB_EVENT, NULL},
	[Q_EVENT_DUMP] = {OP_INSERT, TB_EVENT_DUMP, NULL},
	[Q_FRAME] = {OP_INSERT, TB_FRAME, NULL},
	[Q_BEGIN] = {OP_SQL, TB_COUNT, "BEGIN"},
	[Q_COMMIT] = {OP_SQL, TB_COUNT, "COMMIT"},
	[Q_ROLLBACK] = {OP_SQL, TB_COUNT, "ROLLBACK"},
};

/* The INSERT parameter of a column. */
#define P(t, c) schema_param(t, c)

/* --- binding, and the frame ----------------------------------------------------- */

static void bind_done(struct record *r, unsigned c, struct frame_value v)
{
	if (c < FRAME_MAX_COLS)
		r->row[c] = v;
}

void put_int(struct record *r, enum stmt_id id, unsigned c, int64_t v)
{
	sqlite3_bind_int64(r->q[id], P(stmt_defs[id].table, c), v);
	bind_done(r, c, (struct frame_value){.type = FV_INT, .i = v});
}

void put_null(struct record *r, enum stmt_id id, unsigned c)
{
	sqlite3_bind_null(r->q[id], P(stmt_defs[id].table, c));
	bind_done(r, c, (struct frame_value){.type = FV_NULL});
}

void put_real(struct record *r, enum stmt_id id, unsigned c, double v)
{
	sqlite3_bind_double(r->q[id], P(stmt_defs[id].table, c), v);
	bind_done(r, c, (struct frame_value){.type = FV_REAL, .d = v});
}

void put_bytes(struct record *r, enum stmt_id id, unsigned c, const void *s, size_t n, bool blob)
{
	sqlite3_stmt *q = r->q[id];
	int p = P(stmt_defs[id].table, c);

	if (blob)
		sqlite3_bind_blob64(q, p, s, n, SQLITE_TRANSIENT);
	else
		sqlite3_bind_text64(q, p, s, n, SQLITE_TRANSIENT, SQLITE_UTF8);
	/* A copy for the frame: the caller's bytes may not live until the step. */
	if (c >= FRAME_MAX_COLS || vec_reserve_min(&r->arena, &r->arena_cap, r->arena_len + n + 1, 1, 4096)) {
		r->arena_failed = true;
		return;
	}
	memcpy(r->arena + r->arena_len, s, n);
	r->row_off[c] = r->arena_len;
	r->arena_len += n;
	r->row[c] = (struct frame_value){.type = blob ? FV_BLOB : FV_TEXT, .n = n};
}

int64_t record_last_id(struct record *r)
{
	return sqlite3_last_insert_rowid(r->db);
}

/* The row just inserted into t, into the frame: the values bound, its row id. */
static int frame_row(struct record *r, enum schema_table t)
{
	int rc = 0;

	if (r->arena_failed)
		rc = -ENOMEM;
	if (!rc && schema_tables[t].rowid)
		r->row[0] = (struct frame_value){.type = FV_INT, .i = record_last_id(r)};
	for (unsigned c = 0; c < schema_tables[t].ncols && !rc; c++)
		if (r->row[c].type == FV_TEXT || r->row[c].type == FV_BLOB)
			r->row[c].p = r->arena + r->row_off[c];
	if (!rc)
		rc = frame_add_row(&r->frame, t, r->row);
	return rc == -ENOMEM ? SQLITE_NOMEM : rc ? SQLITE_MISUSE : SQLITE_OK;
}

int record_step(struct record *r, enum stmt_id id)
{
	const struct stmt_def *d = &stmt_defs[id];
	sqlite3_stmt *q = r->q[id];
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	rc = rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
	if (rc == SQLITE_OK && d->op == OP_INSERT && frame_has_table(d->table))
		rc = frame_row(r, d->table);
	for (unsigned c = 0; c < FRAME_MAX_COLS; c++)
		r->row[c].type = FV_NULL;
	r->arena_len = 0;
	r->arena_failed = false;
	return rc;
}

static int exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Run an INSERT into t of the given text columns (NULL for the others). */
static int insert_row(sqlite3 *db, enum schema_table t, const char *const *vals, unsigned n)
{
	char *sql = schema_insert_sql(t);
	sqlite3_stmt *q;
	int rc;

	if (!sql)
		return SQLITE_NOMEM;
	if ((rc = sqlite3_prepare_v2(db, sql, -1, &q, NULL)) == SQLITE_OK) {
		for (unsigned c = 0; c < n; c++)
			sqlite3_bind_text(q, P(t, c), vals[c], -1, SQLITE_STATIC);
		rc = sqlite3_step(q) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_finalize(q);
	}
	free(sql);
	return rc;
}

__attribute__((format(printf, 3, 4))) static int put_meta(sqlite3 *db, enum schema_meta key, const char *fmt, ...)
{
	char *val = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vasprintf(&val, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return SQLITE_NOMEM;
	rc = insert_row(db, TB_META, (const char *const[META_NCOLS]){[META_KEY] = schema_meta_keys[key], [META_VALUE] = val},
			META_NCOLS);
	free(val);
	return rc;
}

/* The frame table's padding (ids 0 and -1, kind "pad"): see RECORD_PAD_BYTES. */
static int write_padding(sqlite3 *db)
{
	const struct schema_col *c = schema_tables[TB_FRAME].cols;
	char *sql = NULL;
	int rc;

	if (asprintf(&sql, "INSERT INTO %s(%s, %s, %s, %s, %s) VALUES(-1, 0, 0, 'pad', zeroblob(%d)), "
		     "(0, 0, 0, 'pad', zeroblob(%d))", schema_tables[TB_FRAME].name, c[FRAME_ID].name, c[FRAME_TICK].name,
		     c[FRAME_TIME].name, c[FRAME_KIND].name, c[FRAME_DATA].name, RECORD_PAD_BYTES, RECORD_PAD_BYTES) < 0)
		return SQLITE_NOMEM;
	rc = exec(db, sql);
	free(sql);
	return rc;
}

/* CREATE TABLE t. */
static int create_table(sqlite3 *db, enum schema_table t)
{
	char *sql = schema_table_sql(t);
	int rc = sql ? exec(db, sql) : SQLITE_NOMEM;

	free(sql);
	return rc;
}

/* The tables; the frame table and its padding first, so that the frames start
 * right after the file's first pages: a short recording cut short still holds its
 * first refreshes. */
static int write_schema(sqlite3 *db, const struct record_info *info)
{
	struct utsname un;
	char host[256] = "";
	int rc;

	if (uname(&un))
		memset(&un, 0, sizeof(un));
	gethostname(host, sizeof(host) - 1);
	rc = exec(db, "BEGIN");
	if (!rc)
		rc = create_table(db, TB_FRAME);
	if (!rc)
		rc = write_padding(db);
	for (unsigned t = 0; t < TB_COUNT && !rc; t++)
		if (t != TB_FRAME)
			rc = create_table(db, (enum schema_table)t);
	for (unsigned st = 0; st < ST_COUNT && !rc; st++) {
		char num[16];
		snprintf(num, sizeof(num), "%u", st);
		rc = insert_row(db, TB_STATE, (const char *const[STATE_NCOLS]){[STATE_NUM] = num, [STATE_NAME] = sk_state_name(st)},
				STATE_NCOLS);
	}
	if (!rc)
		rc = put_meta(db, META_FORMAT_VERSION, "%d.%d", RECORD_FORMAT_MAJOR, RECORD_FORMAT_MINOR);
	if (!rc)
		rc = put_meta(db, META_HOST, "%s", host);
	if (!rc)
		rc = put_meta(db, META_KERNEL, "%s", un.release);
	if (!rc)
		rc = put_meta(db, META_LEAKTOP_VERSION, "%s", PACKAGE_VERSION);
	if (!rc)
		rc = put_meta(db, META_INTERVAL, "%.17g", info->interval);
	if (!rc)
		rc = put_meta(db, META_START_TIME, "%.3f", (double)time(NULL));
	if (!rc)
		rc = put_meta(db, META_BOOT_TIME, "%.17g", info->boot_time);
	if (!rc)
		rc = put_meta(db, META_CLK_TCK, "%ld", info->clk_tck);
	if (!rc)
		rc = exec(db, "COMMIT");
	else
		exec(db, "ROLLBACK");
	return rc;
}

static int prepare(struct record *r, enum stmt_id id)
{
	const struct stmt_def *d = &stmt_defs[id];
	char *sql = d->op == OP_INSERT ? schema_insert_sql(d->table) : NULL;
	int rc;

	if (d->op != OP_SQL && !sql)
		return SQLITE_NOMEM;
	rc = sqlite3_prepare_v3(r->db, sql ? sql : d->sql, -1, SQLITE_PREPARE_PERSISTENT, &r->q[id], NULL);
	free(sql);
	return rc;
}

int record_open(struct record **out, const char *path, const struct record_info *info, char **cause)
{
	struct recfile file;
	struct record *r;
	mode_t old_mask;
	int rc;

	*out = NULL;
	if (path && (rc = recfile_create(&file, path, cause)))
		return rc;
	if (!(r = calloc(1, sizeof(*r)))) {
		if (path)
			recfile_undo(&file);
		return -ENOMEM;
	}
	record_rows_init(r);

	old_mask = umask(077);
	rc = recvfs_register();
	if (rc == SQLITE_OK && path)
		rc = sqlite3_open_v2(path, &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, RECVFS_WRITE);
	else if (rc == SQLITE_OK)
		rc = sqlite3_open_v2(":memory:", &r->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_MEMORY, NULL);
	if (rc != SQLITE_OK && r->db)
		rc = sqlite3_extended_errcode(r->db);
	if (rc == SQLITE_OK) {
		char pragmas[320];
		sqlite3_extended_result_codes(r->db, 1);
		/* Someone may be reading the file (a replay, a report, sqlite3): a commit
		 * waits for them, up to this long (see record_snapshot). */
		sqlite3_busy_timeout(r->db, RECORD_BUSY_MS);
		/* The journal in memory: no side file, and a commit writes each page once.
		 * Frames are only appended (a page's earlier ones never change), so a
		 * leaktop killed in the middle of a commit leaves every earlier refresh
		 * whole; the reader checks each frame before it shows it. */
		snprintf(pragmas, sizeof(pragmas),
			 "PRAGMA page_size=%d; PRAGMA journal_mode=MEMORY; PRAGMA synchronous=%s; PRAGMA temp_store=MEMORY; "
			 "PRAGMA cache_size=-16384; PRAGMA secure_delete=FAST; PRAGMA application_id=%d;",
			 RECORD_PAGE_SIZE, RECORD_SYNCHRONOUS, RECORD_APP_ID);
		rc = exec(r->db, pragmas);
	}
	if (rc == SQLITE_OK)
		rc = write_schema(r->db, info);
	umask(old_mask);
	for (int i = 0; i < Q_COUNT && rc == SQLITE_OK; i++)
		rc = prepare(r, (enum stmt_id)i);
	if (rc == SQLITE_CANTOPEN_SYMLINK)
		text_cause(cause, -ELOOP, "cannot write %s: a folder on its path is a symbolic link, which leaktop does "
			   "not follow (give the real path)", path);
	else if (rc != SQLITE_OK)
		text_cause(cause, recread_errno(rc), "cannot write %s: %s", path ? path : "a recording in memory",
			   r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
	else if (path)
		rc = recfile_verify(&file, cause);
	if (rc != SQLITE_OK) {
		rc = rc > 0 ? recread_errno(rc) : rc;
		record_close(r);
		if (path)
			recfile_undo(&file);
		return rc;
	}
	*out = r;
	return 0;
}

/* The frame of what was just written (kind "refresh" or "event"), as a row of the
 * frame table. */
static int write_frame(struct record *r, const char *kind, double time)
{
	sqlite3_stmt *q = r->q[Q_FRAME];
	int rc = frame_end(&r->frame);

	if (rc)
		return SQLITE_NOMEM;
	sqlite3_bind_int64(q, P(TB_FRAME, FRAME_TICK), (sqlite3_int64)r->tick);
	sqlite3_bind_double(q, P(TB_FRAME, FRAME_TIME), time);
	sqlite3_bind_text(q, P(TB_FRAME, FRAME_KIND), kind, -1, SQLITE_STATIC);
	sqlite3_bind_blob64(q, P(TB_FRAME, FRAME_DATA), r->frame.b, r->frame.len, SQLITE_STATIC);
	return record_step(r, Q_FRAME);
}

static int record_refresh(struct record *r, const struct snapshot *s)
{
	int rc;

	put_u64(r, Q_REFRESH, REFRESH_TICK, r->tick);
	put_real(r, Q_REFRESH, REFRESH_TIME, s->time);
	put_real(r, Q_REFRESH, REFRESH_MS, s->refresh_ms);
	put_bytes(r, Q_REFRESH, REFRESH_STATUS, s->status, strnlen(s->status, sizeof(s->status)), false);
	put_int(r, Q_REFRESH, REFRESH_SOCKETS, (int64_t)s->totals.sockets);
	put_int(r, Q_REFRESH, REFRESH_PROCS, (int64_t)s->totals.procs);
	put_int(r, Q_REFRESH, REFRESH_UNREADABLE, (int64_t)s->totals.unreadable);
	put_u64(r, Q_REFRESH, REFRESH_FILE_ALLOC, s->totals.file_alloc);
	put_u64(r, Q_REFRESH, REFRESH_FILE_MAX, s->totals.file_max);
	put_int(r, Q_REFRESH, REFRESH_CLOSED_VALID, s->closed_valid);
	put_int(r, Q_REFRESH, REFRESH_NETNS_LIMITED, s->netns_limited);
	if ((rc = record_step(r, Q_REFRESH)))
		return rc;
	return write_frame(r, "refresh", s->time);
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
	frame_begin(&r->frame);
	if ((rc = record_step(r, Q_BEGIN)))
		goto fail;
	if ((rc = record_socks(r, s)) || (rc = record_procs(r, s)) || (rc = record_fds(r, s)) ||
	    (rc = record_netns(r, s)) || (rc = record_ports(r, s)) || (rc = record_refresh(r, s)) ||
	    (rc = record_step(r, Q_COMMIT)))
		goto fail;
	r->cur = !r->cur;
	return 0;
fail:
	if ((rc & 0xff) != SQLITE_BUSY)
		text_cause(cause, recread_errno(rc), "recording refresh %llu: %s", (unsigned long long)s->tick,
			   sqlite3_errmsg(r->db));
	record_step(r, Q_ROLLBACK);
	/* The file is back at the last refresh: so are the tables it is compared with. */
	record_rows_unmark(r);
	r->tick = last;
	/* A reader held the file for longer than RECORD_BUSY_MS (an SQL query of
	 * someone's): this refresh is left out, the next one records what changed
	 * since the last one written, and the recording goes on. */
	if ((rc & 0xff) == SQLITE_BUSY) {
		r->skipped++;
		return 0;
	}
	return recread_errno(rc);
}

/* An event, its thread dump, and their frame, in one transaction. */
int record_event(struct record *r, const struct record_event *ev, char **cause)
{
	double t = ev->time;
	int rc;

	if (t == 0)
		t = (double)time(NULL);
	frame_begin(&r->frame);
	if ((rc = record_step(r, Q_BEGIN)))
		goto fail;
	put_u64(r, Q_EVENT, EVENT_TICK, r->tick);
	put_real(r, Q_EVENT, EVENT_TIME, t);
	put_bytes(r, Q_EVENT, EVENT_KIND, record_event_name(ev->kind), strlen(record_event_name(ev->kind)), false);
	if (ev->pid) {
		put_int(r, Q_EVENT, EVENT_PID, ev->pid);
		put_u64(r, Q_EVENT, EVENT_START_TIME, ev->start_time);
	}
	put_bytes(r, Q_EVENT, EVENT_WHAT, ev->what ? ev->what : "", ev->what ? strlen(ev->what) : 0, false);
	if (ev->result)
		put_bytes(r, Q_EVENT, EVENT_RESULT, ev->result, strlen(ev->result), false);
	if ((rc = record_step(r, Q_EVENT)))
		goto fail;
	if (ev->dump && ev->dump_len) {
		put_int(r, Q_EVENT_DUMP, EVDUMP_EVENT, record_last_id(r));
		put_bytes(r, Q_EVENT_DUMP, EVDUMP_TEXT, ev->dump, ev->dump_len, true);
		if ((rc = record_step(r, Q_EVENT_DUMP)))
			goto fail;
	}
	if ((rc = write_frame(r, "event", t)) || (rc = record_step(r, Q_COMMIT)))
		goto fail;
	return 0;
fail:
	text_cause(cause, recread_errno(rc), "recording an event: %s", sqlite3_errmsg(r->db));
	record_step(r, Q_ROLLBACK);
	return recread_errno(rc);
}

struct sqlite3 *record_db(struct record *r)
{
	return r->db;
}

void record_close(struct record *r)
{
	if (!r)
		return;
	for (int i = 0; i < Q_COUNT; i++)
		sqlite3_finalize(r->q[i]);
	sqlite3_close(r->db);
	record_rows_free(r);
	frame_free(&r->frame);
	free(r->arena);
	free(r);
}
