/* The reports' questions to a recording (recording/recquery.h), the only SQL outside
 * the writer and the replay's reader; made from recording/schema's names. */
#include "config.h"

#include "recording/recquery.h"
#include "recording/recread.h"
#include "recording/schema.h"
#include "model/text.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TAB(t) (schema_tables[t].name)
#define COL(t, c) (schema_tables[t].cols[c].name)

/* SQLite's words for what failed on db (rc), after the statement is finalized. */
static int fail(sqlite3 *db, int rc, char **cause)
{
	if (rc == SQLITE_NOMEM)
		return text_cause(cause, -ENOMEM, "out of memory");
	return text_cause(cause, recread_errno(rc), "%s", sqlite3_errmsg(db));
}

/* Prepare the SQL made by asprintf (sql; NULL when it failed): an SQLite code. */
static int prepare(sqlite3 *db, char *sql, sqlite3_stmt **q)
{
	int rc = sql ? sqlite3_prepare_v2(db, sql, -1, q, NULL) : SQLITE_NOMEM;

	free(sql);
	return rc;
}

static char *sql_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *sql_of(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* --- the span -------------------------------------------------------------------- */

int recquery_begin(sqlite3 *db, struct recquery_span *span, char **cause)
{
	const char *tick = COL(TB_REFRESH, REFRESH_TICK), *time = COL(TB_REFRESH, REFRESH_TIME);
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);

	memset(span, 0, sizeof(*span));
	if (rc == SQLITE_OK)
		rc = prepare(db, sql_of("SELECT min(%s), max(%s), min(%s), max(%s), count(*) FROM %s", tick, tick, time,
					time, TAB(TB_REFRESH)),
			     &q);
	if (rc == SQLITE_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		span->first_tick = sqlite3_column_int64(q, 0);
		span->last_tick = sqlite3_column_int64(q, 1);
		span->first_time = sqlite3_column_double(q, 2);
		span->last_time = sqlite3_column_double(q, 3);
		span->refreshes = sqlite3_column_int(q, 4);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(q);
	return rc == SQLITE_OK ? 0 : fail(db, rc, cause);
}

void recquery_end(sqlite3 *db)
{
	sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

double recquery_tick_time(sqlite3 *db, int64_t tick)
{
	const char *tk = COL(TB_REFRESH, REFRESH_TICK);
	sqlite3_stmt *q = NULL;
	double t = 0;

	if (prepare(db, sql_of("SELECT %s FROM %s WHERE %s <= ? ORDER BY %s DESC LIMIT 1", COL(TB_REFRESH, REFRESH_TIME),
			       TAB(TB_REFRESH), tk, tk),
		    &q) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(q, 1, tick);
	if (sqlite3_step(q) == SQLITE_ROW)
		t = sqlite3_column_double(q, 0);
	sqlite3_finalize(q);
	return t;
}

/* --- fd growth ------------------------------------------------------------------- */

/* The outer columns both formats' queries end with, in recquery_growth's order. */
enum { GR_PID, GR_COMM, GR_USER, GR_CMDLINE, GR_FIRST_FDS, GR_LAST_FDS, GR_FD_LIMIT, GR_FIRST_TICK, GR_LAST_TICK,
       GR_START_TIME };

static char *growth_sql(unsigned ver)
{
	const char *proc = TAB(TB_PROC), *change = TAB(TB_PROC_CHANGE), *refresh = TAB(TB_REFRESH);
	const char *id = COL(TB_PROC, PROC_ID), *pid = COL(TB_PROC, PROC_PID), *comm = COL(TB_PROC, PROC_COMM),
		   *user = COL(TB_PROC, PROC_USER), *cmdline = COL(TB_PROC, PROC_CMDLINE),
		   *first = COL(TB_PROC, PROC_FIRST_TICK), *start = COL(TB_PROC, PROC_START_TIME);
	const char *ch = COL(TB_PROC_CHANGE, PROCCH_PROC), *tick = COL(TB_PROC_CHANGE, PROCCH_TICK),
		   *fds = COL(TB_PROC_CHANGE, PROCCH_FDS), *limit = COL(TB_PROC_CHANGE, PROCCH_FD_LIMIT);
	const char *rtick = COL(TB_REFRESH, REFRESH_TICK);
	char *outer = sql_of("SELECT %s, %s, %s, %s, first_fds, last_fds, %s, %s, last_tick, %s FROM (", pid, comm, user,
			     cmdline, limit, first, start);
	char *sql = NULL;

	if (!outer)
		return NULL;
	if (ver < SCHEMA_V(3, 0))
		sql = sql_of("%s SELECT p.%s, p.%s, p.%s, p.%s, p.%s, p.%s,"
			     "  (SELECT %s FROM %s WHERE %s = p.%s ORDER BY %s LIMIT 1) AS first_fds,"
			     "  (SELECT %s FROM %s WHERE %s = p.%s AND %s <= ?1 ORDER BY %s DESC LIMIT 1) AS last_fds,"
			     "  (SELECT %s FROM %s WHERE %s = p.%s AND %s <= ?1 ORDER BY %s DESC LIMIT 1)"
			     "   AS %s,"
			     "  coalesce((SELECT max(%s) FROM %s WHERE %s < p.%s), ?1) AS last_tick"
			     " FROM %s p WHERE p.%s <= ?1)"
			     " WHERE first_fds >= 0 AND last_fds > first_fds ORDER BY last_fds - first_fds DESC, %s",
			     outer, pid, comm, user, cmdline, first, start, fds, change, ch, id, tick, fds, change, ch, id,
			     tick, tick, limit, change, ch, id, tick, tick, limit, rtick, refresh, rtick,
			     COL(TB_PROC, PROC_GONE_TICK), proc, first, pid);
	else
		/* Format 3 has no (proc, tick) key and keeps a process's going in proc_gone:
		 * one pass over proc_change for the first and the last values (SQLite takes
		 * a bare column from the row of the min() or max()). */
		sql = sql_of("%s SELECT p.%s, p.%s, p.%s, p.%s, p.%s, p.%s, f.%s AS first_fds,"
			     "  l.%s AS last_fds, l.%s AS %s,"
			     "  coalesce((SELECT max(%s) FROM %s WHERE %s < g.%s), ?1) AS last_tick"
			     " FROM %s p"
			     " JOIN (SELECT %s, %s, min(%s) FROM %s GROUP BY %s) f ON f.%s = p.%s"
			     " JOIN (SELECT %s, %s, %s, max(%s) FROM %s WHERE %s <= ?1 GROUP BY %s) l"
			     "  ON l.%s = p.%s"
			     " LEFT JOIN (SELECT %s, min(%s) AS %s FROM %s GROUP BY %s) g ON g.%s = p.%s"
			     " WHERE p.%s <= ?1)"
			     " WHERE first_fds >= 0 AND last_fds > first_fds ORDER BY last_fds - first_fds DESC, %s",
			     outer, pid, comm, user, cmdline, first, start, fds, fds, limit, limit, rtick, refresh, rtick,
			     COL(TB_PROC_GONE, GONE_TICK), proc, ch, fds, tick, change, ch, ch, id, ch, fds, limit, tick,
			     change, tick, ch, ch, id, COL(TB_PROC_GONE, GONE_ROW), COL(TB_PROC_GONE, GONE_TICK),
			     COL(TB_PROC_GONE, GONE_TICK), TAB(TB_PROC_GONE), COL(TB_PROC_GONE, GONE_ROW),
			     COL(TB_PROC_GONE, GONE_ROW), id, first, pid);
	free(outer);
	return sql;
}

int recquery_fd_growth(sqlite3 *db, unsigned ver, int64_t last_tick,
		       int (*fn)(void *ctx, const struct recquery_growth *g), void *ctx, char **cause)
{
	sqlite3_stmt *q = NULL;
	int rc = prepare(db, growth_sql(ver), &q);

	if (rc != SQLITE_OK)
		return fail(db, rc, cause);
	sqlite3_bind_int64(q, 1, last_tick);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct recquery_growth g = {
			.first_time = recquery_tick_time(db, sqlite3_column_int64(q, GR_FIRST_TICK)),
			.last_time = recquery_tick_time(db, sqlite3_column_int64(q, GR_LAST_TICK)),
			.first_fds = sqlite3_column_int64(q, GR_FIRST_FDS),
			.last_fds = sqlite3_column_int64(q, GR_LAST_FDS),
			.pid = sqlite3_column_int(q, GR_PID),
			.start_time = (uint64_t)sqlite3_column_int64(q, GR_START_TIME),
		};
		if ((g.has_fd_limit = sqlite3_column_type(q, GR_FD_LIMIT) != SQLITE_NULL))
			g.fd_limit = sqlite3_column_int64(q, GR_FD_LIMIT);
		g.comm = (const char *)sqlite3_column_text(q, GR_COMM);
		g.user = (const char *)sqlite3_column_text(q, GR_USER);
		g.cmdline = (const char *)sqlite3_column_text(q, GR_CMDLINE);
		if (fn(ctx, &g)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(q);
	return rc == SQLITE_DONE ? 0 : fail(db, rc, cause);
}

/* --- events ---------------------------------------------------------------------- */

static char *events_sql(sqlite3 *db, bool dumps)
{
	const char *time = COL(TB_EVENT, EVENT_TIME), *id = COL(TB_EVENT, EVENT_ID);
	char *sql;

	/* The dumps where the file keeps them (2.1 and later). */
	if (dumps && sqlite3_table_column_metadata(db, NULL, TAB(TB_EVENT_DUMP), COL(TB_EVENT_DUMP, EVDUMP_TEXT), NULL,
						   NULL, NULL, NULL, NULL) == SQLITE_OK)
		sql = sql_of("SELECT e.%s, e.%s, e.%s, e.%s, e.%s, e.%s, d.%s FROM %s e"
			     " LEFT JOIN %s d ON d.%s = e.%s ORDER BY e.%s, e.%s",
			     time, COL(TB_EVENT, EVENT_KIND), COL(TB_EVENT, EVENT_PID), COL(TB_EVENT, EVENT_START_TIME),
			     COL(TB_EVENT, EVENT_WHAT), COL(TB_EVENT, EVENT_RESULT), COL(TB_EVENT_DUMP, EVDUMP_TEXT),
			     TAB(TB_EVENT), TAB(TB_EVENT_DUMP), COL(TB_EVENT_DUMP, EVDUMP_EVENT), id, time, id);
	else
		sql = sql_of("SELECT %s, %s, %s, %s, %s, %s, NULL FROM %s ORDER BY %s, %s", time, COL(TB_EVENT, EVENT_KIND),
			     COL(TB_EVENT, EVENT_PID), COL(TB_EVENT, EVENT_START_TIME), COL(TB_EVENT, EVENT_WHAT),
			     COL(TB_EVENT, EVENT_RESULT), TAB(TB_EVENT), time, id);
	return sql;
}

int recquery_events(sqlite3 *db, unsigned flags, int (*fn)(void *ctx, const struct recquery_event *e), void *ctx,
		    char **cause)
{
	sqlite3_stmt *q = NULL;
	int rc = prepare(db, events_sql(db, flags & RECQUERY_DUMPS), &q);

	if (rc != SQLITE_OK)
		return fail(db, rc, cause);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct recquery_event e = {
			.time = sqlite3_column_double(q, 0),
			.has_pid = sqlite3_column_type(q, 2) != SQLITE_NULL,
			.pid = sqlite3_column_int(q, 2),
			.start_time = (uint64_t)sqlite3_column_int64(q, 3),
		};
		e.kind = (const char *)sqlite3_column_text(q, 1);
		e.what = (const char *)sqlite3_column_text(q, 4);
		e.result = (const char *)sqlite3_column_text(q, 5);
		if (sqlite3_column_type(q, 6) != SQLITE_NULL) {
			int len = sqlite3_column_bytes(q, 6);
			const char *d = sqlite3_column_blob(q, 6);
			/* An empty one is a dump too ("", not none). */
			e.dump = d ? d : "";
			e.dump_len = d ? (size_t)len : 0;
		}
		if (fn(ctx, &e)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE && (flags & RECQUERY_UNTIL_DAMAGE))
		rc = SQLITE_DONE;
	return rc == SQLITE_DONE ? 0 : fail(db, rc, cause);
}

/* --- series ---------------------------------------------------------------------- */

/* The rows of one kind a series is of: its table, its changes, its going (format 3),
 * and the columns that name one (bound as ?1, ?2, ...). */
struct series_kind {
	enum schema_table row, change, gone;
	unsigned key[4], nkey;
};

static const struct series_kind proc_kind = {TB_PROC, TB_PROC_CHANGE, TB_PROC_GONE, {PROC_PID, PROC_START_TIME}, 2};
static const struct series_kind port_kind = {
	TB_PORT, TB_PORT_CHANGE, TB_PORT_GONE, {PORT_NETNS, PORT_PORT, PORT_SIDE, PORT_PROTO}, 4};

/* A format 3 recording keeps a row's going in its kind's *_gone table, format 2 in
 * the row's gone_tick. */
static bool format3(sqlite3 *db)
{
	return sqlite3_table_column_metadata(db, NULL, TAB(TB_PROC_GONE), COL(TB_PROC_GONE, GONE_TICK), NULL, NULL,
					     NULL, NULL, NULL) == SQLITE_OK;
}

/* The rows of the kind with the key: id, first tick, the tick it went (NULL: never). */
static char *rows_sql(sqlite3 *db, const struct series_kind *k)
{
	const struct schema_tab *t = &schema_tables[k->row];
	const char *id = t->cols[0].name, *first = t->cols[t->tick].name;
	char where[160] = "";
	size_t len = 0;
	bool f3 = format3(db);

	for (unsigned i = 0; i < k->nkey; i++)
		len += (size_t)snprintf(where + len, sizeof(where) - len, "%s%s%s = ?%u", i ? " AND " : "", f3 ? "p." : "",
					t->cols[k->key[i]].name, i + 1);
	if (len >= sizeof(where))
		return NULL;
	if (f3)
		return sql_of("SELECT p.%s, p.%s, (SELECT min(g.%s) FROM %s g WHERE g.%s = p.%s) FROM %s p WHERE %s", id,
			      first, COL(k->gone, GONE_TICK), TAB(k->gone), COL(k->gone, GONE_ROW), id, t->name, where);
	return sql_of("SELECT %s, %s, %s FROM %s WHERE %s", id, first, t->cols[t->ncols - 1].name, t->name, where);
}

/* Forward-fill the (tick, value) changes of q (ordered by tick) over the ticks in
 * [first, gone) (gone < 0: never went). Returns how many got a value, or an SQLite
 * code's -errno. */
static int fill(sqlite3_stmt *q, const int64_t *ticks, size_t n, int64_t first, int64_t gone, double *v)
{
	int got = 0, rc;
	double cur = NAN;
	bool have_next = (rc = sqlite3_step(q)) == SQLITE_ROW;

	for (size_t i = 0; i < n; i++) {
		int64_t t = ticks[i];
		while (have_next && sqlite3_column_int64(q, 0) <= t) {
			cur = sqlite3_column_type(q, 1) == SQLITE_NULL ? NAN : sqlite3_column_double(q, 1);
			have_next = (rc = sqlite3_step(q)) == SQLITE_ROW;
		}
		if (t >= first && (gone < 0 || t < gone) && !isnan(cur)) {
			v[i] = cur;
			got++;
		}
	}
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? got : -EIO;
}

/* keys[i] binds ?i+1: an integer, or text where text is not NULL. */
struct series_key {
	int64_t i;
	const char *text;
};

static int series(sqlite3 *db, const struct series_kind *k, const struct series_key *keys, unsigned col,
		  const int64_t *ticks, size_t n, double *v, char **cause)
{
	const struct schema_tab *c = &schema_tables[k->change];
	sqlite3_stmt *q = NULL, *ch = NULL;
	char name[32];
	int got = 0, rc;

	for (size_t i = 0; i < n; i++)
		v[i] = NAN;
	if (col < SCHEMA_CHANGE_FIRST || col >= c->ncols)
		return text_cause(cause, -EINVAL, "no such column of %s", c->name);
	rc = prepare(db, rows_sql(db, k), &q);
	if (rc == SQLITE_OK)
		rc = prepare(db,
			     sql_of("SELECT %s, %s FROM %s WHERE %s = ?1 ORDER BY %s", c->cols[1].name,
				    schema_col_name(k->change, col, name, sizeof(name)), c->name, c->cols[0].name,
				    c->cols[1].name),
			     &ch);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(q);
		text_cause(cause, -EIO, "%s", sqlite3_errmsg(db));
		return -EIO;
	}
	for (unsigned i = 0; i < k->nkey; i++)
		if (keys[i].text)
			sqlite3_bind_text(q, (int)i + 1, keys[i].text, -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(q, (int)i + 1, keys[i].i);
	/* A row that cannot be read ends the rows; a change that cannot, the series. */
	while (got >= 0 && sqlite3_step(q) == SQLITE_ROW) {
		sqlite3_reset(ch);
		sqlite3_bind_int64(ch, 1, sqlite3_column_int64(q, 0));
		int r = fill(ch, ticks, n, sqlite3_column_int64(q, 1),
			     sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2), v);
		got = r < 0 ? r : got + r;
	}
	sqlite3_finalize(q);
	sqlite3_finalize(ch);
	if (got < 0)
		text_cause(cause, got, "%s", sqlite3_errmsg(db));
	return got;
}

int recquery_proc_series(sqlite3 *db, int32_t pid, uint64_t start_time, unsigned col, const int64_t *ticks,
			 size_t n, double *v, char **cause)
{
	const struct series_key keys[] = {{.i = pid}, {.i = (int64_t)start_time}};

	return series(db, &proc_kind, keys, col, ticks, n, v, cause);
}

int recquery_port_series(sqlite3 *db, uint64_t netns, uint16_t port, unsigned side, unsigned proto, unsigned col,
			 const int64_t *ticks, size_t n, double *v, char **cause)
{
	const struct series_key keys[] = {
		{.i = (int64_t)netns}, {.i = port}, {.text = schema_side_name(side)}, {.i = proto}};

	return series(db, &port_kind, keys, col, ticks, n, v, cause);
}
