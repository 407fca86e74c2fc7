/* The rows alive at a recorded refresh. Format 2: the rows alive at its tick with
 * their latest change (a seek on the (row, tick) keys), or the last refresh's and
 * what appeared, went and changed since (a step). Format 3: every table read on in
 * the order it was written (the rows of a refresh follow those of the one before),
 * from the last refresh's state or from the start; each refresh's rows are counted
 * against the count its refresh row keeps, so a refresh cut short or copied half
 * written is never shown. */
#include "config.h"

#include "recording/replay_int.h"
#include "recording/frame.h"
#include "model/vec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* --- the state: rows by id ----------------------------------------------------- */

/* An element's id, gone or not. */
static int64_t rvec_id(const struct rvec *r, size_t i)
{
	return rvec_raw(r, i) & INT64_MAX;
}

/* Grown as the one growable array (model/vec.h), its size checked: r->esize is a row
 * kind's, known only here. */
static void *rvec_push(struct rvec *r, int64_t id)
{
	if (r->n == SIZE_MAX || vec_reserve_min(&r->v, &r->cap, r->n + 1, r->esize, 256))
		return NULL;
	char *e = r->v + r->n++ * r->esize;
	memset(e, 0, r->esize);
	memcpy(e, &id, sizeof(id));
	return e;
}

/* The element of id, NULL when there is none or it went. */
void *rvec_find(const struct rvec *r, int64_t id)
{
	size_t lo = 0, hi = r->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int64_t m = rvec_id(r, mid);
		if (m == id)
			return rvec_live(r, mid);
		if (m < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int cmp_id(const void *a, const void *b)
{
	int64_t x, y;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	x &= INT64_MAX, y &= INT64_MAX;
	return (x > y) - (x < y);
}

/* Ids come in ascending order from every query; only a damaged file breaks that. */
static void rvec_fix_order(struct rvec *r, size_t from)
{
	for (size_t i = from ? from : 1; i < r->n; i++)
		if (rvec_id(r, i - 1) >= rvec_id(r, i)) {
			qsort(r->v, r->n, r->esize, cmp_id);
			return;
		}
}

struct rvec *replay_vec(struct replay_source *r, enum recread_kind k)
{
	struct rvec *const v[RK_COUNT] = {[RK_PROC] = &r->procs, [RK_FD] = &r->fds, [RK_SOCK] = &r->socks,
					 [RK_PORT] = &r->ports, [RK_NETNS] = &r->netns};
	return v[k];
}

/* What an element owns besides itself: a socket's name. */
static void release(enum recread_kind k, void *e)
{
	if (k == RK_SOCK) {
		free(((struct r_sock *)e)->name);
		((struct r_sock *)e)->name = NULL;
	}
}

void replay_vec_empty(struct replay_source *r, enum recread_kind k)
{
	struct rvec *v = replay_vec(r, k);

	for (size_t i = 0; i < v->n; i++)
		release(k, v->v + i * v->esize);
	v->n = v->gone = 0;
}

/* Drop the elements that went, once they are many: a refresh where a few sockets
 * of 100,000 went does not move the others. */
static void rvec_compact(struct rvec *v, bool now)
{
	size_t out = 0, i = 0;

	if (!v->gone || (!now && v->gone * 8 < v->n))
		return;
	while (i < v->n && rvec_raw(v, i) >= 0)
		i++;
	for (out = i; i < v->n; i++)
		if (rvec_raw(v, i) >= 0)
			memmove(v->v + out++ * v->esize, v->v + i * v->esize, v->esize);
	v->n = out;
	v->gone = 0;
}

static void mark_gone(struct replay_source *r, enum recread_kind k, int64_t id)
{
	struct rvec *v = replay_vec(r, k);
	char *e = rvec_find(v, id);

	if (e) {
		int64_t gone = id | RVEC_GONE;
		release(k, e);
		memcpy(e, &gone, sizeof(gone));
		v->gone++;
	}
}

/* A row's identity at base (where its table's column 0 is), and with full, its
 * changing part at change_base. Returns an SQLite result code (NOMEM). */
static int read_row(enum recread_kind k, struct recread_row *x, void *e, int base, bool full, int change_base)
{
	switch (k) {
	case RK_PROC:
		recread_proc_id(x, base, &((struct r_proc *)e)->p);
		if (full)
			recread_proc_ch(x, change_base, &((struct r_proc *)e)->p);
		break;
	case RK_FD: {
		struct r_fd *f = e;
		recread_fd(x, base, &f->proc, &f->fd, &f->inode);
		break;
	}
	case RK_SOCK:
		if (full)
			recread_sock_ch(x, change_base, &((struct r_sock *)e)->k);
		return recread_sock_id(x, base, &((struct r_sock *)e)->k, &((struct r_sock *)e)->netns,
				       &((struct r_sock *)e)->addr, &((struct r_sock *)e)->name);
	case RK_PORT:
		recread_port_id(x, base, &((struct r_port *)e)->p);
		if (full)
			recread_port_ch(x, change_base, &((struct r_port *)e)->p);
		break;
	case RK_NETNS: {
		struct r_netns *n = e;
		recread_netns(x, base, &n->inode, &n->dumped, &n->own);
		break;
	}
	case RK_COUNT:
		break;
	}
	return SQLITE_OK;
}

static void apply_change(enum recread_kind k, struct recread_row *x, void *e, int base, uint64_t tick)
{
	if (k == RK_PROC)
		recread_proc_ch(x, base, &((struct r_proc *)e)->p);
	else if (k == RK_SOCK) {
		recread_sock_ch(x, base, &((struct r_sock *)e)->k);
		((struct r_sock *)e)->age_tick = tick;
	} else if (k == RK_PORT)
		recread_port_ch(x, base, &((struct r_port *)e)->p);
}

/* A refused value: the first one is kept for the message. */
static int refuse(struct replay_source *r, const struct recread_row *x)
{
	if (!r->bad.bad)
		r->bad = *x;
	return SQLITE_CORRUPT;
}

/* --- format 2 ------------------------------------------------------------------- */

static sqlite3_stmt *bind_ticks(struct replay_source *r, enum recread_stmt id, uint64_t a, uint64_t b)
{
	sqlite3_stmt *q = r->q[id];

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, (sqlite3_int64)a);
	if (sqlite3_bind_parameter_count(q) >= 2)
		sqlite3_bind_int64(q, 2, (sqlite3_int64)b);
	return q;
}

static int run_rows(struct replay_source *r, enum recread_kind k, sqlite3_stmt *q, bool full)
{
	struct rvec *v = replay_vec(r, k);
	size_t from = v->n;
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct recread_row x = RECREAD_ROW(q);
		void *e = rvec_push(v, sqlite3_column_int64(q, 0));
		if (!e || read_row(k, &x, e, 0, full, (int)recread_kinds[k].ident) != SQLITE_OK)
			return SQLITE_NOMEM;
		if (x.bad)
			return refuse(r, &x);
	}
	rvec_fix_order(v, from);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int run_gone(struct replay_source *r, enum recread_kind k, sqlite3_stmt *q)
{
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		mark_gone(r, k, sqlite3_column_int64(q, 0));
	rvec_compact(replay_vec(r, k), false);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int run_changes(struct replay_source *r, enum recread_kind k, sqlite3_stmt *q)
{
	struct rvec *v = replay_vec(r, k);
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct recread_row x = RECREAD_ROW(q);
		void *e = rvec_find(v, sqlite3_column_int64(q, 0));
		if (!e)
			continue;
		apply_change(k, &x, e, RECREAD_CHANGES_BASE, 0);
		if (x.bad)
			return refuse(r, &x);
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The rows alive at tick, from scratch: what a seek costs. */
static int load_full2(struct replay_source *r, uint64_t tick)
{
	int rc = SQLITE_OK;

	for (int k = 0; k < RK_COUNT && rc == SQLITE_OK; k++) {
		replay_vec_empty(r, (enum recread_kind)k);
		rc = run_rows(r, (enum recread_kind)k, bind_ticks(r, (enum recread_stmt)(RQ_FULL + k), tick, 0), true);
	}
	return rc;
}

/* A kernel bound on a socket's state age belongs to the tick of its change row: a
 * step forgets the last one (as the live run asks for it on its first refresh only),
 * while a seek keeps it, still a lower bound since no change row came after. */
static void forget_age_bounds(struct replay_source *r)
{
	struct rvec *v = replay_vec(r, RK_SOCK);

	for (size_t i = 0; i < v->n; i++)
		((struct r_sock *)(v->v + i * v->esize))->k.state_age_ms = 0; /* gone ones too: harmless */
}

/* From the refresh at prev to the one at tick: what appeared, then what went (a row
 * may do both between two refreshes), then what changed, in tick order. */
static int load_step2(struct replay_source *r, uint64_t prev, uint64_t tick)
{
	int rc = SQLITE_OK;

	forget_age_bounds(r);
	for (int k = 0; k < RK_COUNT && rc == SQLITE_OK; k++) {
		rc = run_rows(r, (enum recread_kind)k, bind_ticks(r, (enum recread_stmt)(RQ_NEW + k), prev, tick), false);
		if (rc == SQLITE_OK)
			rc = run_gone(r, (enum recread_kind)k, bind_ticks(r, (enum recread_stmt)(RQ_GONE + k), prev, tick));
		if (rc == SQLITE_OK && r->q[RQ_CHANGES + k])
			rc = run_changes(r, (enum recread_kind)k,
					 bind_ticks(r, (enum recread_stmt)(RQ_CHANGES + k), prev, tick));
	}
	return rc;
}

static int push_stale(struct replay_source *r, int64_t id)
{
	if (r->nstale_ids == r->stale_cap) {
		/* Two arrays of one capacity: stale is grown to what stale_ids got. */
		size_t cap = r->stale_cap, scap = r->stale_cap;
		if (vec_reserve_min(&r->stale_ids, &cap, r->nstale_ids + 1, sizeof(*r->stale_ids), 16) ||
		    vec_resize(&r->stale, &scap, cap, sizeof(*r->stale)))
			return SQLITE_NOMEM;
		r->stale_cap = cap;
	}
	r->stale_ids[r->nstale_ids++] = id;
	return SQLITE_OK;
}

static int cmp_i64(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;
	return (*x > *y) - (*x < *y);
}

/* The fd rows the live fd check refused at tick, into stale_ids. */
static int load_stale2(struct replay_source *r, uint64_t tick)
{
	sqlite3_stmt *q = bind_ticks(r, RQ_STALE, tick, 0);
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		if (push_stale(r, sqlite3_column_int64(q, 0)) != SQLITE_OK)
			return SQLITE_NOMEM;
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int load2(struct replay_source *r, long index)
{
	uint64_t tick = r->ticks[index];
	int rc;

	if (r->stepped && r->state_valid && r->state_index == index - 1)
		rc = load_step2(r, r->ticks[index - 1], tick);
	else
		rc = load_full2(r, tick);
	if (rc == SQLITE_OK)
		rc = load_stale2(r, tick);
	return rc;
}

/* --- format 3 ------------------------------------------------------------------- */

/* A frame that cannot be read whole: why, for the message. */
static int frame_bad(struct replay_source *r, const char *why)
{
	if (!r->bad.bad) {
		r->bad.bad = true;
		snprintf(r->bad.why, sizeof(r->bad.why), "%s", why);
	}
	return SQLITE_CORRUPT;
}

/* One row of refresh j's frame (of table t) into the state; for the target refresh,
 * its refresh row into s and its stale fds. Returns an SQLite result code. */
static int take(struct replay_source *r, enum schema_table t, struct recread_row *x, long j, bool target,
		struct snapshot *s, bool *seen_refresh, size_t pushed[RK_COUNT])
{
	int64_t id;

	for (int k = 0; k < RK_COUNT; k++) {
		const struct recread_tabs *kt = &recread_kinds[k];
		if (t == kt->row) {
			struct rvec *v = replay_vec(r, (enum recread_kind)k);
			void *e;
			if (!recread_int(x, 0, t, 0, &id))
				return SQLITE_OK;
			if (pushed[k] == SIZE_MAX)
				pushed[k] = v->n;
			if (!(e = rvec_push(v, id)) || read_row((enum recread_kind)k, x, e, 0, false, 0) != SQLITE_OK)
				return SQLITE_NOMEM;
			return SQLITE_OK;
		}
		if (t == kt->gone) {
			if (recread_int(x, GONE_ROW, t, GONE_ROW, &id))
				mark_gone(r, (enum recread_kind)k, id);
			return SQLITE_OK;
		}
		if (t == kt->change) {
			void *e;
			if (recread_int(x, 0, t, 0, &id) && (e = rvec_find(replay_vec(r, (enum recread_kind)k), id)))
				apply_change((enum recread_kind)k, x, e, SCHEMA_CHANGE_FIRST, r->ticks[j]);
			return SQLITE_OK;
		}
	}
	if (t == TB_FD_STALE && target && recread_int(x, FDSTALE_FD, t, FDSTALE_FD, &id))
		return push_stale(r, id);
	if (t == TB_REFRESH) {
		*seen_refresh = true;
		if (!recread_int(x, REFRESH_TICK, t, REFRESH_TICK, &id))
			return SQLITE_OK;
		if ((uint64_t)id != r->ticks[j])
			return frame_bad(r, "its frame holds another refresh's row");
		if (target)
			recread_refresh(x, s);
	}
	return SQLITE_OK;
}

/* Refresh j's frame into the state. Returns SQLITE_CORRUPT (r->bad says why) for a
 * frame that fails its CRC or holds anything no writer makes. */
static int apply_frame(struct replay_source *r, long j, const void *data, size_t len, bool target, struct snapshot *s)
{
	struct frame_value vals[FRAME_MAX_COLS];
	struct frame_reader fr;
	enum schema_table t;
	bool seen_refresh = false;
	size_t pushed[RK_COUNT]; /* where each kind's new rows start, SIZE_MAX: none */
	int got = 0, rc = SQLITE_OK;

	for (int k = 0; k < RK_COUNT; k++)
		pushed[k] = SIZE_MAX;
	if (frame_open(&fr, data, len, r->ver))
		return frame_bad(r, "its frame is cut short or damaged (it fails its CRC)");
	while (rc == SQLITE_OK && (got = frame_next(&fr, &t, vals)) == 1) {
		struct recread_row x = RECREAD_FRAME_ROW(vals, (int)schema_tables[t].ncols);
		if ((rc = take(r, t, &x, j, target, s, &seen_refresh, pushed)) == SQLITE_OK && x.bad)
			rc = refuse(r, &x);
	}
	if (rc == SQLITE_OK && got < 0)
		rc = frame_bad(r, "its frame holds bytes no leaktop writes");
	if (rc == SQLITE_OK && !seen_refresh)
		rc = frame_bad(r, "its frame has no refresh row");
	for (int k = 0; k < RK_COUNT; k++) {
		if (pushed[k] != SIZE_MAX)
			rvec_fix_order(replay_vec(r, (enum recread_kind)k), pushed[k]);
		rvec_compact(replay_vec(r, (enum recread_kind)k), false);
	}
	return rc;
}

static void reset3(struct replay_source *r)
{
	for (int k = 0; k < RK_COUNT; k++)
		replay_vec_empty(r, (enum recread_kind)k);
	r->cursor = 0;
	r->state_valid = false;
}

/* The frames of refreshes (from, to] on top of the state at from, each one checked. */
static int load3_range(struct replay_source *r, long from, long to, struct snapshot *s, size_t *whole)
{
	sqlite3_stmt *q = r->q[RQ_FRAMES];
	long j = from + 1;
	int rc = SQLITE_OK;

	r->state_valid = false;
	r->nstale_ids = 0;
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, r->cursor);
	while (j <= to && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0);
		const char *kind = (const char *)sqlite3_column_text(q, 1);
		if (!kind || strcmp(kind, "refresh"))
			continue; /* an event's frame, read with its refresh */
		if (id != r->frame_ids[j]) {
			rc = frame_bad(r, "its frame is not where the list of refreshes has it");
			break;
		}
		rc = apply_frame(r, j, sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2), j == to, s);
		if (rc != SQLITE_OK)
			break;
		r->cursor = id;
		j++;
	}
	if (j <= to && (rc == SQLITE_DONE || rc == SQLITE_ROW))
		rc = frame_bad(r, "its frame is missing");
	/* What SQLite could not read (a page past the cut): kept for the message. */
	if (rc != SQLITE_OK && rc != SQLITE_CORRUPT && rc != SQLITE_NOMEM && (rc & 0xff) != SQLITE_INTERRUPT)
		rc = frame_bad(r, sqlite3_errmsg(r->db));
	sqlite3_reset(q);
	if ((rc & 0xff) == SQLITE_CORRUPT) {
		*whole = (size_t)j;
		reset3(r);
		return SQLITE_CORRUPT;
	}
	return rc;
}

/* From the state at the last refresh delivered, when the target comes after it, or
 * the nearest checkpoint before the target, or the start; a long way is read a
 * checkpoint's worth at a time, each one kept. */
static int load3(struct replay_source *r, long index, struct snapshot *s, size_t *whole)
{
	long every = replay_ckpt_every(r);
	long from = replay_ckpt_restore(r, index, r->state_valid && r->state_index < index ? r->state_index : -1);
	int rc;

	if (from < 0)
		reset3(r);
	while (index - from > every) {
		long to = (from / every + 1) * every;
		if ((rc = load3_range(r, from, to, s, whole)) != SQLITE_OK)
			return rc;
		r->state_index = to;
		r->state_valid = true;
		replay_ckpt_save(r);
		from = to;
	}
	return load3_range(r, from, index, s, whole);
}

int replay_load(struct replay_source *r, long index, struct snapshot *s, size_t *whole)
{
	int rc;

	*whole = r->n;
	r->nstale_ids = 0;
	if (r->ver < SCHEMA_V(3, 0))
		rc = load2(r, index);
	else
		rc = load3(r, index, s, whole);
	if (rc == SQLITE_OK && r->nstale_ids > 1)
		qsort(r->stale_ids, r->nstale_ids, sizeof(*r->stale_ids), cmp_i64);
	return rc;
}

/* --- events ------------------------------------------------------------------------ */

static int push_event(struct replay_source *r, struct recread_row *x, int base)
{
	struct record_event *ev;
	int rc;

	if (vec_reserve_min(&r->events, &r->events_cap, r->nevents + 1, sizeof(*r->events), 8))
		return SQLITE_NOMEM;
	ev = &r->events[r->nevents];
	if ((rc = recread_event(x, base, ev)) != SQLITE_OK)
		return rc;
	r->nevents++;
	if (x->bad) {
		free((char *)ev->what);
		free((char *)ev->result);
		r->nevents--;
		return SQLITE_CORRUPT;
	}
	return SQLITE_OK;
}

/* A thread dump (raw bytes) for the last event. */
static int take_dump(struct replay_source *r, const void *b, size_t len)
{
	char *d;

	if (!r->nevents || r->events[r->nevents - 1].dump)
		return SQLITE_OK;
	if (!(d = malloc(len + 1)))
		return SQLITE_NOMEM;
	if (len)
		memcpy(d, b, len);
	d[len] = '\0';
	r->events[r->nevents - 1].dump = d;
	r->events[r->nevents - 1].dump_len = len;
	return SQLITE_OK;
}

/* Format 2: the event rows of the refresh's tick, each with its thread dump if any
 * (a recording older than 2.1 has none; one that cannot be read is left out). */
static int events2(struct replay_source *r, uint64_t tick)
{
	sqlite3_stmt *q = r->q[RQ_EVENTS], *d = r->q[RQ_DUMP];
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, (sqlite3_int64)tick);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		struct recread_row x = RECREAD_ROW(q);
		if ((rc = push_event(r, &x, 0)) == SQLITE_NOMEM)
			break;
		if (rc != SQLITE_OK || !d)
			continue;
		sqlite3_reset(d);
		sqlite3_bind_int64(d, 1, sqlite3_column_int64(q, EVENT_ID));
		if (sqlite3_step(d) == SQLITE_ROW && sqlite3_column_type(d, 0) != SQLITE_NULL &&
		    take_dump(r, sqlite3_column_blob(d, 0), (size_t)sqlite3_column_bytes(d, 0)) != SQLITE_OK) {
			rc = SQLITE_NOMEM;
			break;
		}
		sqlite3_reset(d);
	}
	sqlite3_reset(q);
	return rc == SQLITE_NOMEM || (rc & 0xff) == SQLITE_INTERRUPT ? rc : SQLITE_OK;
}

/* Format 3: the frames of events written after the refresh's own, up to the next
 * refresh's. One that cannot be read is left out: the refreshes stand. */
static int events3(struct replay_source *r, long index)
{
	sqlite3_stmt *q = r->q[RQ_FRAMES];
	struct frame_value vals[FRAME_MAX_COLS];
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, r->frame_ids[index]);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		const char *kind = (const char *)sqlite3_column_text(q, 1);
		struct frame_reader fr;
		enum schema_table t;
		if (!kind || strcmp(kind, "event"))
			break;
		if (frame_open(&fr, sqlite3_column_blob(q, 2), (size_t)sqlite3_column_bytes(q, 2), r->ver))
			continue;
		while (frame_next(&fr, &t, vals) == 1) {
			struct recread_row x = RECREAD_FRAME_ROW(vals, (int)schema_tables[t].ncols);
			if (t == TB_EVENT)
				rc = push_event(r, &x, 0);
			else if (t == TB_EVENT_DUMP && vals[EVDUMP_TEXT].type == FV_BLOB)
				rc = take_dump(r, vals[EVDUMP_TEXT].p, vals[EVDUMP_TEXT].n);
			if (rc == SQLITE_NOMEM)
				break;
		}
		if (rc == SQLITE_NOMEM)
			break;
	}
	sqlite3_reset(q);
	return rc == SQLITE_NOMEM || (rc & 0xff) == SQLITE_INTERRUPT ? rc : SQLITE_OK;
}

int replay_load_events(struct replay_source *r, long index)
{
	return r->ver < SCHEMA_V(3, 0) ? events2(r, r->ticks[index]) : events3(r, index);
}
