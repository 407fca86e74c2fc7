/* The replay source: rebuilds the snapshot of any recorded refresh from the rows
 * alive at it (recording/replay_load.c), then joins it like the live source. A
 * format 3 file cut short, or copied while it was written, replays the refreshes
 * it holds whole and then says where it ends. */
#include "config.h"

#include "recording/replay.h"
#include "recording/replay_int.h"
#include "sources/stop.h"
#include "model/text.h"
#include "model/vec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int cmp_order(const void *a, const void *b)
{
	const struct proc_order *x = a, *y = b;
	if (x->pid != y->pid)
		return (x->pid > y->pid) - (x->pid < y->pid);
	return (x->id > y->id) - (x->id < y->id);
}

static int cmp_i64(const void *a, const void *b)
{
	const int64_t *x = a, *y = b;
	return (*x > *y) - (*x < *y);
}

/* The live fd check's answers, as recorded: no to the fds it refused. */
static bool replay_fd_check(void *ctx, int32_t pid, int32_t fd, uint32_t inode)
{
	const struct replay_source *r = ctx;

	for (size_t i = 0; i < r->nstale; i++)
		if (r->stale[i].pid == pid && r->stale[i].fd == fd && r->stale[i].inode == inode)
			return false;
	return true;
}

/* The snapshot of the state: processes by pid, their socket fds, the sockets in the
 * order they were first seen, the namespaces, then the live source's join (with the
 * fd check's recorded answers, so CLOSED comes out the same), and the ports as
 * recorded (the owners kept in pids[] depend on the dump's order, which a replay
 * does not have), sorted as the live refresh sorted them. */
static int materialize(struct replay_source *r, struct snapshot *s)
{
	const struct r_proc *procs = (const struct r_proc *)r->procs.v;
	size_t np = r->procs.n, nstale_ids = r->nstale_ids;

	r->nstale = 0;
	if (np > r->order_cap) { /* two arrays of one capacity */
		size_t ocap = r->order_cap, pcap = r->order_cap;
		if (vec_resize(&r->order, &ocap, np, sizeof(*r->order)) ||
		    vec_resize(&r->proc_pos, &pcap, np, sizeof(*r->proc_pos)))
			return SQLITE_NOMEM;
		r->order_cap = np;
	}
	size_t live = 0;
	for (size_t i = 0; i < np; i++) {
		r->proc_pos[i] = -1;
		if (rvec_live(&r->procs, i))
			r->order[live++] = (struct proc_order){procs[i].p.pid, (uint32_t)i, procs[i].id};
	}
	if (live)
		qsort(r->order, live, sizeof(*r->order), cmp_order);
	for (size_t i = 0; i < live; i++) {
		if (s->nprocs && s->procs[s->nprocs - 1].pid == r->order[i].pid)
			continue; /* two live rows for one pid: only a damaged file has them */
		struct proc_rec *p = snapshot_add_proc(s);
		if (!p)
			return SQLITE_NOMEM;
		*p = procs[r->order[i].idx].p;
		r->proc_pos[r->order[i].idx] = (int32_t)(s->nprocs - 1);
	}
	for (size_t i = 0; i < r->fds.n; i++) {
		const struct r_fd *f = rvec_live(&r->fds, i);
		const struct r_proc *p = f ? rvec_find(&r->procs, f->proc) : NULL;
		if (!p || r->proc_pos[p - procs] < 0)
			continue;
		struct sock_owner *o = snapshot_add_owner(s);
		if (!o)
			return SQLITE_NOMEM;
		o->proc = r->proc_pos[p - procs];
		o->fd = f->fd;
		o->inode = f->inode;
		if (nstale_ids && r->nstale < r->stale_cap &&
		    bsearch(&f->id, r->stale_ids, nstale_ids, sizeof(*r->stale_ids), cmp_i64))
			r->stale[r->nstale++] = (struct stale_fd){p->p.pid, f->fd, f->inode};
	}
	for (size_t i = 0; i < r->socks.n; i++) {
		const struct r_sock *rs = rvec_live(&r->socks, i);
		if (!rs)
			continue;
		struct sock_rec *k = snapshot_add_sock(s);
		if (!k)
			return SQLITE_NOMEM;
		*k = rs->k;
		int rc = snapshot_sock_set_netns(s, k, rs->netns);
		if (rc || (rc = snapshot_sock_set_addrs(s, k, rs->addr.l, rs->addr.r)))
			return rc == -E2BIG ? SQLITE_CORRUPT : SQLITE_NOMEM;
		/* A kernel bound on a socket's state age belongs to the tick of its change
		 * row: a step shows it only on that refresh (as the live run asks for it on
		 * its first refresh only), a seek keeps it, still a lower bound. */
		if (r->ver >= SCHEMA_V(3, 0) && r->stepped && rs->age_tick != s->tick)
			k->state_age_ms = 0;
		if (k->family == AF_UNIX && (k->un.name = rs->name ? snapshot_add_name_text(s, rs->name) : 0) == 0 &&
		    rs->name)
			return SQLITE_NOMEM;
	}
	for (size_t i = 0; i < r->netns.n; i++) {
		const struct r_netns *rn = rvec_live(&r->netns, i);
		if (!rn)
			continue;
		struct netns_rec *n = snapshot_add_netns(s, rn->inode, rn->dumped);
		if (!n)
			return SQLITE_NOMEM;
		n->own |= rn->own;
	}
	int brc = snapshot_build_checked(s, r->nstale ? replay_fd_check : NULL, r);
	if (brc)
		return brc == -ENOMEM ? SQLITE_NOMEM : SQLITE_CORRUPT;
	if (r->ports.n > s->ports_cap && vec_resize(&s->ports, &s->ports_cap, r->ports.n, sizeof(*s->ports)))
		return SQLITE_NOMEM;
	s->nports = 0;
	for (size_t i = 0; i < r->ports.n; i++)
		if (rvec_live(&r->ports, i))
			s->ports[s->nports++] = ((const struct r_port *)(r->ports.v + i * r->ports.esize))->p;
	if (s->nports)
		qsort(s->ports, s->nports, sizeof(*s->ports), port_agg_cmp);
	return SQLITE_OK;
}

/* Format 2: the refresh row of tick index (format 3's is in its frame). */
static int load_refresh(struct replay_source *r, long index, struct snapshot *s)
{
	sqlite3_stmt *q = r->q[RQ_REFRESH];
	struct recread_row x = RECREAD_ROW(q);
	int rc;

	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, (sqlite3_int64)r->ticks[index]);
	if ((rc = sqlite3_step(q)) != SQLITE_ROW)
		return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc;
	recread_refresh(&x, s);
	if (x.bad) {
		r->bad = x;
		return SQLITE_CORRUPT;
	}
	return SQLITE_OK;
}

static void events_clear(struct replay_source *r)
{
	for (size_t i = 0; i < r->nevents; i++) {
		free((char *)r->events[i].what);
		free((char *)r->events[i].result);
		free((char *)r->events[i].dump);
	}
	r->nevents = 0;
}

/* Rebuild refresh `index` into s, in one read transaction (a writer of the file
 * waits for it, and it sees no half commit). Returns an SQLite result code;
 * *whole as replay_load's. */
static int rebuild(struct replay_source *r, long index, struct snapshot *s, size_t *whole)
{
	int rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL);

	*whole = r->n;
	r->stepped = r->pos >= 0 && index == r->pos + 1;
	events_clear(r);
	snapshot_clear(s);
	if (rc == SQLITE_OK) {
		rc = replay_load(r, index, s, whole);
		r->state_valid = false;
	}
	/* The refresh's flags first: the join reads closed_valid. */
	if (rc == SQLITE_OK && r->ver < SCHEMA_V(3, 0))
		rc = load_refresh(r, index, s);
	s->tick = r->ticks[index];
	if (rc == SQLITE_OK)
		rc = materialize(r, s);
	if (rc == SQLITE_OK)
		rc = replay_load_events(r, index);
	for (int i = 0; i < RQ_COUNT; i++)
		sqlite3_reset(r->q[i]);
	sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
	if (rc == SQLITE_OK) {
		r->state_valid = true;
		r->state_index = index;
	}
	return rc;
}

static void cut_at(struct replay_source *r, size_t whole);

static int grow_list(struct replay_source *r)
{
	/* Three arrays of one capacity: times and frame_ids get what ticks got. */
	size_t cap = r->cap, wcap = r->cap, icap = r->cap;
	if (r->cap == SIZE_MAX || vec_reserve_min(&r->ticks, &cap, r->cap + 1, sizeof(*r->ticks), 1024) ||
	    vec_resize(&r->times, &wcap, cap, sizeof(*r->times)) ||
	    vec_resize(&r->frame_ids, &icap, cap, sizeof(*r->frame_ids)))
		return SQLITE_NOMEM;
	r->cap = cap;
	return SQLITE_OK;
}

/* Append refreshes committed since we last looked: format 2's refresh rows, format
 * 3's refresh frames. One with a tick or time no live run writes ends the list (an
 * edited or damaged file). */
static int list_refreshes(struct replay_source *r)
{
	sqlite3_stmt *q = r->q[RQ_LIST];
	bool v3 = r->ver >= SCHEMA_V(3, 0);
	int rc;

	if (r->ending)
		return SQLITE_OK; /* the file ends where it was cut */
	sqlite3_reset(q);
	sqlite3_bind_int64(q, 1, !r->n ? 0 : v3 ? r->frame_ids[r->n - 1] : (sqlite3_int64)r->ticks[r->n - 1]);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(q, 0), tick = sqlite3_column_int64(q, v3);
		double time = sqlite3_column_double(q, v3 + 1);
		if (sqlite3_column_type(q, v3) != SQLITE_INTEGER || tick < 1 || (r->n && (uint64_t)tick <= r->ticks[r->n - 1]) ||
		    !isfinite(time) || time < 0 || time > 1e11) {
			if (!r->bad.bad) {
				r->bad.bad = true;
				snprintf(r->bad.why, sizeof(r->bad.why), "its tick or time is none a leaktop writes");
			}
			if (r->n + 1 > r->listed)
				r->listed = r->n + 1;
			sqlite3_reset(q);
			cut_at(r, r->n);
			return SQLITE_OK;
		}
		if (r->n == r->cap && (rc = grow_list(r)) != SQLITE_OK)
			break;
		r->ticks[r->n] = (uint64_t)tick;
		r->times[r->n] = time;
		r->frame_ids[r->n++] = id;
	}
	sqlite3_reset(q);
	if (r->n > r->listed)
		r->listed = r->n;
	/* Format 3: a frame the list cannot get past (a page beyond a cut) is where the
	 * file ends; the refreshes before it replay. */
	if (v3 && rc != SQLITE_DONE && rc != SQLITE_NOMEM && (rc & 0xff) != SQLITE_INTERRUPT) {
		if (!r->bad.bad) {
			r->bad.bad = true;
			snprintf(r->bad.why, sizeof(r->bad.why), "%s", sqlite3_errmsg(r->db));
		}
		cut_at(r, r->n);
		return SQLITE_OK;
	}
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* The replay ends at the first refresh it cannot read, with what it is, what came
 * before it, and how to salvage the rest. */
static int damaged(struct replay_source *r, int rc, const char *what, char **cause)
{
	char note[4096 + 256];

	r->broken = true;
	if (rc == SQLITE_NOMEM)
		return text_cause(cause, -ENOMEM, "%s: out of memory", what);
	if ((rc & 0xff) == SQLITE_INTERRUPT)
		return text_cause(cause, -EINTR, "%s: stopped", what);
	recread_damage(r->path, true, note, sizeof(note));
	return text_cause(cause, -EILSEQ, "%s: %s; replayed %ld (%s)", what,
			  r->bad.bad ? r->bad.why : sqlite3_errmsg(r->db), r->next, note);
}

/* A format 3 file whose refresh `whole` does not hold every row it wrote: the list
 * ends before it, and why is said once. */
static void cut_at(struct replay_source *r, size_t whole)
{
	long long have, want;
	char note[4096 + 256];
	const char *why = r->bad.bad ? r->bad.why : sqlite3_errmsg(r->db);
	int n;

	free(r->ending);
	r->ending = NULL;
	if (recread_cut_short(r->path, &have, &want) && whole < r->listed)
		n = asprintf(&r->ending, "%s is cut short (%lld of %lld bytes): the first %zu of its %zu refreshes are whole",
			     r->path, have, want, whole, r->listed);
	else if (recread_cut_short(r->path, &have, &want) && !whole)
		n = asprintf(&r->ending, "%s is cut short (%lld of %lld bytes): no refresh before the cut is whole", r->path,
			     have, want);
	else if (recread_cut_short(r->path, &have, &want))
		n = asprintf(&r->ending, "%s is cut short (%lld of %lld bytes): its %zu refreshes before the cut are whole",
			     r->path, have, want, whole);
	else {
		recread_damage(r->path, true, note, sizeof(note));
		n = whole < r->listed
			    ? asprintf(&r->ending, "refresh %zu of %zu in %s could not be read: %s; the %zu before it are whole "
				       "(a copy taken while leaktop wrote it, or a damaged file: %s)", whole + 1, r->listed,
				       r->path, why, whole, note)
			    : asprintf(&r->ending, "the refreshes of %s after its %zu-th could not be listed: %s; those %zu are "
				       "whole (a copy taken while leaktop wrote it, or a damaged file: %s)", r->path, whole, why,
				       whole, note);
	}
	if (n < 0)
		r->ending = NULL;
	r->n = whole;
	if (r->next > (long)whole)
		r->next = (long)whole;
}

/* At open: a format 3 file shorter than its header says is read through once, so
 * the refreshes it holds whole are known before the first is shown. */
static int check_cut(struct replay_source *r)
{
	long long have, want;
	size_t whole = r->n;
	int rc;

	if (r->ver < SCHEMA_V(3, 0) || !recread_cut_short(r->path, &have, &want))
		return SQLITE_OK;
	if (r->n) {
		struct snapshot *s = snapshot_new();
		if (!s)
			return SQLITE_NOMEM;
		if ((rc = sqlite3_exec(r->db, "BEGIN", NULL, NULL, NULL)) == SQLITE_OK) {
			rc = replay_load(r, (long)r->n - 1, s, &whole);
			sqlite3_exec(r->db, "COMMIT", NULL, NULL, NULL);
		}
		snapshot_free(s);
		r->state_valid = false;
		if (rc != SQLITE_OK && rc != SQLITE_CORRUPT)
			return rc;
	}
	cut_at(r, whole);
	return SQLITE_OK;
}

static int replay_next(struct source *src, struct snapshot *s, char **cause)
{
	struct replay_source *r = (struct replay_source *)src;
	char what[96];
	size_t whole;
	int rc;

	events_clear(r);
	if (r->broken)
		return 1;
	if ((size_t)r->next >= r->n && (rc = list_refreshes(r)) != SQLITE_OK) {
		snprintf(what, sizeof(what), "the refreshes after the %zu-th could not be listed", r->n);
		return damaged(r, rc, what, cause);
	}
	if ((size_t)r->next >= r->n) {
		/* The end: where the file ends, said once. */
		if (r->ending && r->next >= (long)r->n) {
			r->broken = true;
			return text_cause(cause, -EILSEQ, "%s", r->ending);
		}
		return 1;
	}
	if ((rc = rebuild(r, r->next, s, &whole)) != SQLITE_OK) {
		/* Asked to stop (a signal): the replay ends here, as a live run would. */
		if ((rc & 0xff) == SQLITE_INTERRUPT && stop_asked()) {
			r->broken = true;
			return 1;
		}
		if (rc == SQLITE_CORRUPT && whole < r->n && r->ver >= SCHEMA_V(3, 0)) {
			cut_at(r, whole);
			r->broken = true;
			return text_cause(cause, -EILSEQ, "%s", r->ending ? r->ending : "the recording ends here");
		}
		snprintf(what, sizeof(what), "refresh %ld of %zu could not be read", r->next + 1, r->n);
		return damaged(r, rc, what, cause);
	}
	r->pos = r->next++;
	return 0;
}

static void replay_free(struct source *src)
{
	struct replay_source *r = (struct replay_source *)src;

	recread_finalize(r->q);
	recread_close(r->db);
	free(r->ticks);
	free(r->times);
	free(r->frame_ids);
	replay_vec_empty(r, RK_SOCK);
	free(r->procs.v);
	free(r->fds.v);
	free(r->socks.v);
	free(r->ports.v);
	free(r->netns.v);
	free(r->stale_ids);
	free(r->stale);
	free(r->order);
	free(r->proc_pos);
	events_clear(r);
	free(r->events);
	free(r->ending);
	replay_ckpt_free(r);
	free(r->path);
	free(r);
}

static const struct source_ops replay_ops = {
	.name = "replay",
	.next = replay_next,
	.free = replay_free,
};

int replay_source_new(struct source **out, const char *path, char **cause)
{
	struct replay_source *r = calloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	if (!r || !(r->path = strdup(path))) {
		free(r);
		return -ENOMEM;
	}
	r->base.ops = &replay_ops;
	r->pos = -1;
	r->procs.esize = sizeof(struct r_proc);
	r->fds.esize = sizeof(struct r_fd);
	r->socks.esize = sizeof(struct r_sock);
	r->ports.esize = sizeof(struct r_port);
	r->netns.esize = sizeof(struct r_netns);
	if ((rc = recread_open(&r->db, path, &r->info, cause))) {
		replay_free(&r->base);
		return rc;
	}
	r->ver = SCHEMA_V(r->info.major, r->info.minor > 0xffff ? 0xffff : r->info.minor);
	rc = recread_prepare(r->db, r->q, r->ver);
	if (rc == SQLITE_OK)
		rc = list_refreshes(r);
	if (rc == SQLITE_OK)
		rc = check_cut(r);
	if (rc != SQLITE_OK && !r->n) {
		rc = recread_unreadable(r->db, path, rc, cause);
		replay_free(&r->base);
		return rc;
	}
	/* A damaged refresh list still replays the refreshes read before the damage. */
	*out = &r->base;
	return 0;
}

const struct record_info *replay_info(const struct source *src)
{
	return &((const struct replay_source *)src)->info;
}

size_t replay_count(struct source *src)
{
	struct replay_source *r = (struct replay_source *)src;

	if (!r->broken)
		list_refreshes(r);
	return r->n;
}

long replay_pos(const struct source *src)
{
	return ((const struct replay_source *)src)->pos;
}

void replay_seek(struct source *src, long index)
{
	struct replay_source *r = (struct replay_source *)src;
	long n = (long)replay_count(src);

	r->next = index < 0 ? 0 : index >= n ? (n ? n - 1 : 0) : index;
}

long replay_find_time(struct source *src, double t)
{
	struct replay_source *r = (struct replay_source *)src;
	size_t lo = 0, hi = replay_count(src);

	/* The first refresh after t, minus one. */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (r->times[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (long)lo - 1 : 0;
}

double replay_time(const struct source *src, long index)
{
	const struct replay_source *r = (const struct replay_source *)src;
	return index >= 0 && (size_t)index < r->n ? r->times[index] : 0;
}

uint64_t replay_tick(const struct source *src, long index)
{
	const struct replay_source *r = (const struct replay_source *)src;
	return index >= 0 && (size_t)index < r->n ? r->ticks[index] : 0;
}

const struct record_event *replay_events(const struct source *src, size_t *n)
{
	const struct replay_source *r = (const struct replay_source *)src;

	/* Not a replay (a test's scripted source, say): nothing was recorded with it. */
	*n = 0;
	if (src->ops != &replay_ops)
		return NULL;
	*n = r->nevents;
	return r->nevents ? r->events : NULL;
}
