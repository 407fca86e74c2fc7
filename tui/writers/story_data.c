/* The story's data beyond the replay: per-refresh series for the charts, read from
 * the recording's change tables, and the digest of a thread dump. */
#include "config.h"

#include "tui/writers/story.h"
#include "model/schema.h"

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

/* --- the digest of a thread dump ------------------------------------------------------- */

#define DIGEST_KEYS 256

struct digest_key {
	char state[32];
	char frame[200];
	size_t count;
};

static struct digest_key *count_key(struct digest_key *k, size_t *nk, const char *state, const char *frame)
{
	for (size_t i = 0; i < *nk; i++)
		if (!strcmp(k[i].state, state) && !strcmp(k[i].frame, frame)) {
			k[i].count++;
			return &k[i];
		}
	if (*nk == DIGEST_KEYS)
		return NULL;
	snprintf(k[*nk].state, sizeof(k[0].state), "%s", state);
	snprintf(k[*nk].frame, sizeof(k[0].frame), "%s", frame);
	k[*nk].count = 1;
	return &k[(*nk)++];
}

static int key_cmp(const void *a, const void *b)
{
	const struct digest_key *x = a, *y = b;
	int c = x->count < y->count ? 1 : x->count > y->count ? -1 : strcmp(x->frame, y->frame);
	return c ? c : strcmp(x->state, y->state);
}

/* "com.example.Handler.handle(Handler.java:36)" -> "com.example.Handler.handle:36" */
static void short_frame(const char *at, size_t len, char *out, size_t n)
{
	const char *paren = memchr(at, '(', len), *colon = NULL;

	if (!paren) {
		snprintf(out, n, "%.*s", (int)len, at);
		return;
	}
	for (const char *c = paren; c < at + len && *c != ')'; c++)
		if (*c == ':')
			colon = c;
	if (colon) {
		const char *end = colon + 1;
		while (end < at + len && *end >= '0' && *end <= '9')
			end++;
		snprintf(out, n, "%.*s:%.*s", (int)(paren - at), at, (int)(end - colon - 1), colon + 1);
	} else {
		snprintf(out, n, "%.*s", (int)(paren - at), at);
	}
}

/* Close one thread: its state and first frame counted. */
static void end_thread(struct digest_key *k, size_t *nk, struct digest_key *states, size_t *ns, const char *state,
		       const char *frame)
{
	const char *s = state[0] ? state : "(no state)";
	count_key(k, nk, s, frame[0] ? frame : "(no Java frame)");
	count_key(states, ns, s, "");
}

size_t story_dump_digest(const char *dump, size_t len, char lines[][256], size_t max)
{
	struct digest_key *k = calloc(DIGEST_KEYS, sizeof(*k)), *states = calloc(DIGEST_KEYS, sizeof(*states));
	size_t nk = 0, ns = 0, threads = 0, out = 0;
	char state[32] = "", frame[200] = "";
	bool in = false;

	if (!k || !states || !max) {
		free(k);
		free(states);
		return 0;
	}
	for (const char *s = dump, *end = dump + len; s < end;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		const char *t = s;
		while (t < s + n && (*t == ' ' || *t == '\t'))
			t++;
		size_t tn = (size_t)(s + n - t);
		if (n && *s == '"') {
			/* A thread's header line: "name" #12 ... */
			if (in)
				end_thread(k, &nk, states, &ns, state, frame);
			in = true;
			threads++;
			state[0] = frame[0] = '\0';
		} else if (in && tn > 24 && !strncmp(t, "java.lang.Thread.State: ", 24)) {
			size_t w = 0;
			while (24 + w < tn && t[24 + w] != ' ' && w + 1 < sizeof(state))
				w++;
			snprintf(state, sizeof(state), "%.*s", (int)w, t + 24);
		} else if (in && !frame[0] && tn > 3 && !strncmp(t, "at ", 3)) {
			short_frame(t + 3, tn - 3, frame, sizeof(frame));
		}
		s = nl ? nl + 1 : end;
	}
	if (in)
		end_thread(k, &nk, states, &ns, state, frame);
	if (!threads) {
		snprintf(lines[out++], 256, "no Java threads found in %zu bytes of output", len);
		free(k);
		free(states);
		return out;
	}
	if (ns)
		qsort(states, ns, sizeof(*states), key_cmp);
	if (nk)
		qsort(k, nk, sizeof(*k), key_cmp);
	size_t l = (size_t)snprintf(lines[out], 256, "%zu threads:", threads);
	for (size_t i = 0; i < ns && l < 256; i++)
		l += (size_t)snprintf(lines[out] + l, 256 - l, "%s %zu %s", i ? "," : "", states[i].count, states[i].state);
	out++;
	for (size_t i = 0; i < nk && out < max; i++)
		/* The JVM's own threads have no Java frame: counted above, not listed. */
		if (strcmp(k[i].frame, "(no Java frame)"))
			snprintf(lines[out++], 256, "%zu thread%s %s at %s", k[i].count, k[i].count == 1 ? "" : "s", k[i].state,
			 k[i].frame);
	free(k);
	free(states);
	return out;
}
