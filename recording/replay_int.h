/* The replay source's insides, shared by replay.c (the source, its refresh list and
 * the snapshot it builds) and replay_load.c (the rows alive at a refresh, read from
 * a format 2 or 3 file). */
#ifndef LEAKTOP_REPLAY_INT_H
#define LEAKTOP_REPLAY_INT_H

#include "recording/recread.h"
#include "sources/source.h"
#include "recording/schema.h"
#include "model/snapshot.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The rows alive at the refresh last rebuilt, by row id (ids grow with time, so
 * what appears is appended). Every element starts with its int64_t id; one that
 * went has the id's top bit set (RVEC_GONE) until the vector is compacted, which
 * happens once many have gone, not at every refresh. */
struct rvec {
	char *v;
	size_t n, cap, esize;
	size_t gone;
};
#define RVEC_GONE INT64_MIN

static inline int64_t rvec_raw(const struct rvec *v, size_t i)
{
	int64_t id;
	memcpy(&id, v->v + i * v->esize, sizeof(id));
	return id;
}

/* Element i, or NULL when it went. */
static inline void *rvec_live(const struct rvec *v, size_t i)
{
	return rvec_raw(v, i) < 0 ? NULL : v->v + i * v->esize;
}

struct r_proc { int64_t id; struct proc_rec p; };
struct r_fd { int64_t id, proc; int32_t fd; uint32_t inode; };
/* age_tick: the tick of the change row state_age_ms came from. */
struct r_sock {
	int64_t id;
	struct sock_rec k;       /* its netns and addresses are the two below */
	uint64_t netns;
	struct sock_addr6 addr;
	char *name;              /* UNIX: escaped, NULL for "" */
	uint64_t age_tick;
};
struct r_port { int64_t id; struct port_agg p; };
struct r_netns { int64_t id; uint64_t inode; bool dumped, own; };

/* A socket fd the live fd check refused at this refresh. */
struct stale_fd {
	int32_t pid, fd;
	uint32_t inode;
};

struct replay_ckpt;

struct proc_order {
	int32_t pid;
	uint32_t idx;
	int64_t id;
};

struct replay_source {
	struct source base;
	sqlite3 *db;
	sqlite3_stmt *q[RQ_COUNT];     /* the queries of the file's format */
	unsigned ver;                  /* SCHEMA_V of the file */
	struct record_info info;
	char *path;
	uint64_t *ticks;     /* of every committed refresh, in order */
	double *times;
	int64_t *frame_ids;  /* format 3: the id of each refresh's frame */
	size_t n, cap;
	size_t listed;       /* refreshes the file lists (n is cut to the whole ones) */
	long pos, next;
	bool broken;         /* a damaged part was hit: the replay ends there */
	char *ending;        /* why the replay ends before the file's last refresh (said once) */
	struct rvec procs, fds, socks, ports, netns;
	int64_t cursor;      /* format 3: the last frame in the state */
	int64_t *stale_ids;  /* fd rows in fd_stale at the refresh being rebuilt, sorted */
	struct stale_fd *stale;
	size_t nstale, stale_cap, nstale_ids;
	bool state_valid;    /* the rvecs hold refresh state_index */
	long state_index;
	bool stepped;        /* the refresh being rebuilt follows the one delivered before */
	struct proc_order *order;
	int32_t *proc_pos;   /* index in the snapshot of each procs element, -1 if left out */
	size_t order_cap;
	struct record_event *events; /* of the refresh delivered last */
	size_t nevents, events_cap;
	bool events_broken;  /* the event table could not be read further */
	struct recread_row bad; /* the first value refused, for the message */
	struct replay_ckpt *ckpts;     /* format 3: the state at some refreshes, by index */
	size_t nckpts, ckpt_cap, ckpt_bytes;
	long ckpt_every;
};

struct rvec *replay_vec(struct replay_source *r, enum recread_kind k);
void replay_vec_empty(struct replay_source *r, enum recread_kind k);
void *rvec_find(const struct rvec *r, int64_t id);

/* The rows alive at refresh index into the rvecs (its stale fds into stale_ids; in
 * format 3 also its refresh row into s): from those at state_index when that comes
 * before it (a step), else from a checkpoint or from none (a seek). Format 3 checks
 * each frame on the way; one that cannot be read whole (the file was cut or copied
 * while written) ends the list there: *whole is then the number of refreshes before
 * it. Returns an SQLite result code. */
int replay_load(struct replay_source *r, long index, struct snapshot *s, size_t *whole);

/* Checkpoints (recording/replay_ckpt.c): save the state (at state_index); restore the
 * last one before index when it is after from, returning the index the state is
 * at (from when none was); how many refreshes a long read goes between two. */
void replay_ckpt_save(struct replay_source *r);
long replay_ckpt_restore(struct replay_source *r, long index, long from);
long replay_ckpt_every(struct replay_source *r);
void replay_ckpt_free(struct replay_source *r);

/* The events of refresh index, into r->events. */
int replay_load_events(struct replay_source *r, long index);

#endif
