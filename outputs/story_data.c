/* The story's data beyond the replay: per-refresh series for the charts, read from
 * the recording's change tables. */
#include "config.h"

#include "outputs/story.h"
#include "recording/schema.h"

#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Forward-fill the (tick, value) changes of q (ordered by tick) over the story's
 * refreshes in [first, gone). */
static int fill(const struct story *st, sqlite3_stmt *q, int col, int64_t first, int64_t gone, double *v)
{
	size_t i = 0;
	int n = 0, rc;
	double cur = NAN;
	bool have_next = (rc = sqlite3_step(q)) == SQLITE_ROW;

	for (i = 0; i < st->nrefresh; i++) {
		int64_t t = st->ticks[i];
		while (have_next && sqlite3_column_int64(q, 0) <= t) {
			cur = sqlite3_column_type(q, col) == SQLITE_NULL ? NAN : sqlite3_column_double(q, col);
			have_next = (rc = sqlite3_step(q)) == SQLITE_ROW;
		}
		if (t >= first && (gone < 0 || t < gone) && !isnan(cur)) {
			v[i] = cur;
			n++;
		}
	}
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? n : -EIO;
}

/* A format 3 recording keeps a row's going in its kind's *_gone table, format 2 in
 * the row's gone_tick. */
static bool format3(sqlite3 *db)
{
	return sqlite3_table_column_metadata(db, NULL, "proc_gone", "tick", NULL, NULL, NULL, NULL, NULL) == SQLITE_OK;
}

int story_proc_series(const struct story *st, sqlite3 *db, const struct story_proc *p, enum story_series which,
		      double *v)
{
	static const char *const cols[SS_COUNT] = {
		[SS_FDS] = "fds", [SS_FD_LIMIT] = "fd_limit", [SS_RSS_KB] = "rss_kb", [SS_CLOSE_WAIT] = NULL,
	};
	sqlite3_stmt *q = NULL, *c = NULL;
	char sql[160];
	int n = 0, rc;

	for (size_t i = 0; i < st->nrefresh; i++)
		v[i] = NAN;
	if (!cols[which])
		return -EINVAL;
	snprintf(sql, sizeof(sql), "SELECT tick, %s FROM proc_change WHERE proc = ?1 ORDER BY tick", cols[which]);
	rc = sqlite3_prepare_v2(db, format3(db) ? "SELECT p.id, p.first_tick, (SELECT min(g.tick) FROM proc_gone g WHERE g.proc = p.id)"
						  " FROM proc p WHERE p.pid = ?1 AND p.start_time = ?2"
						: "SELECT id, first_tick, gone_tick FROM proc WHERE pid = ?1 AND start_time = ?2",
				-1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, sql, -1, &c, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(q);
		return -EIO;
	}
	sqlite3_bind_int(q, 1, p->pid);
	sqlite3_bind_int64(q, 2, (sqlite3_int64)p->start_time);
	while (n >= 0 && sqlite3_step(q) == SQLITE_ROW) {
		sqlite3_reset(c);
		sqlite3_bind_int64(c, 1, sqlite3_column_int64(q, 0));
		int got = fill(st, c, 1, sqlite3_column_int64(q, 1),
			       sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2), v);
		n = got < 0 ? got : n + got;
	}
	sqlite3_finalize(q);
	sqlite3_finalize(c);
	return n;
}

int story_port_series(const struct story *st, sqlite3 *db, const struct story_port *p, double *v)
{
	sqlite3_stmt *q = NULL, *c = NULL;
	int n = 0, rc;

	for (size_t i = 0; i < st->nrefresh; i++)
		v[i] = NAN;
	rc = sqlite3_prepare_v2(db, format3(db) ? "SELECT p.id, p.first_tick, (SELECT min(g.tick) FROM port_gone g WHERE g.port = p.id)"
						  " FROM port p WHERE p.netns = ?1 AND p.port = ?2 AND p.side = ?3 AND p.proto = ?4"
						: "SELECT id, first_tick, gone_tick FROM port WHERE netns = ?1 AND port = ?2"
						  " AND side = ?3 AND proto = ?4",
				-1, &q, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db, "SELECT tick, close_wait FROM port_change WHERE port = ?1 ORDER BY tick", -1,
					&c, NULL);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(q);
		return -EIO;
	}
	sqlite3_bind_int64(q, 1, (sqlite3_int64)p->netns);
	sqlite3_bind_int(q, 2, p->port);
	sqlite3_bind_text(q, 3, schema_side_name(p->side), -1, SQLITE_STATIC);
	sqlite3_bind_int(q, 4, p->proto);
	while (n >= 0 && sqlite3_step(q) == SQLITE_ROW) {
		sqlite3_reset(c);
		sqlite3_bind_int64(c, 1, sqlite3_column_int64(q, 0));
		int got = fill(st, c, 1, sqlite3_column_int64(q, 1),
			       sqlite3_column_type(q, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(q, 2), v);
		n = got < 0 ? got : n + got;
	}
	sqlite3_finalize(q);
	sqlite3_finalize(c);
	return n;
}
