/* What changes over time: per-process and per-port series, per-socket first-seen
 * times, and the figures derived from them (growth, time to exhaustion, verdict).
 *
 * Memory is bounded: at most HISTORY_MAX_SAMPLES samples per series (one hour at the
 * default 2 s; at faster refreshes the hour shrinks), HISTORY_MAX_PROCS processes
 * (24 B a sample) and HISTORY_MAX_PORTS ports (60 B a sample): at most 22 MB + 28 MB,
 * plus two socket tables of 24 B a slot (12 MB at 150k sockets). Rings grow as samples
 * arrive, so a young history costs little. Processes and ports not seen for
 * forget_s are dropped. */
#ifndef LEAKTOP_HISTORY_H
#define LEAKTOP_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/leak.h"
#include "model/snapshot.h"

#define HISTORY_MAX_SAMPLES 1800
#define HISTORY_MAX_PROCS 512
#define HISTORY_MAX_PORTS 256

struct history;

struct history_opts {
	double interval_s;  /* refresh interval, to size the rings by time; default 2 */
	double span_s;      /* how much to keep; default 3600 */
	double window_s;    /* slope window; default 300 */
	double forget_s;    /* drop a process or port not seen for this long; default 120 */
	uint64_t phys_kb;   /* the machine's memory, for a JVM's default heap; 0 unknown */
	/* Another thread reads sockets' ages while history_update_socks runs (the
	 * dashboard): during an update, readers read a copy of the shown snapshot's ages
	 * (history_keep_ages), not the table the update writes; outside one, the table. */
	bool shared_reads;
	struct leak_params leak;
};

void history_opts_default(struct history_opts *o);

/* o may be NULL for the defaults. NULL on ENOMEM. */
struct history *history_new(const struct history_opts *o);
void history_free(struct history *h);

/* Add one refresh; call after each refresh, with snapshots in time order. Returns 0
 * or -ENOMEM (the history stays usable, with this refresh partly missing). */
int history_update(struct history *h, const struct snapshot *s);
/* The same in three steps, for a history that another thread reads under a lock:
 * begin and end change what the readers read (take the lock); the sockets step in
 * between, the long one (a million sockets: 0.3-0.9 s), writes only what they do not
 * (with history_opts.shared_reads: the table of ages, which readers do not read from
 * begin to end, and this update's counts), so it may run while they read, never
 * beside another writer. Each returns 0 or -ENOMEM; after an error, the next steps
 * are skipped (as history_update does). */
int history_update_begin(struct history *h, const struct snapshot *s);
int history_update_socks(struct history *h, const struct snapshot *s);
int history_update_end(struct history *h, const struct snapshot *s);

/* With shared_reads, a reader beside the sockets step reads the ages of the snapshot
 * on screen (shown) from a copy of them, by position (8 bytes a socket), kept for the
 * update only: before the update (unlocked, beside readers: it only reads the table),
 * history_keep_ages copies them from the table when shown is the snapshot the table
 * was last updated with (else readers of shown find no ages until the update ends);
 * the update's begin hands the copy to readers. history_drop_kept_ages (locked) frees
 * it once shown is no longer shown: before the next refresh, so that it is not held
 * beside the dump and the join. Each returns 0 or -ENOMEM. */
int history_keep_ages(struct history *h, const struct snapshot *shown);
void history_drop_kept_ages(struct history *h);

/* Forget everything, keeping the storage: for a replay that jumps back in time. */
void history_clear(struct history *h);

/* The queries below are cheap lookups of figures computed by history_update, except
 * history_file_stats, which fits on the spot. One thread: they share scratch space. */

/* The figures of one process or port, as of the last update. */
struct history_stats {
	double fd_growth_per_min;          /* NAN when not known yet (or a port) */
	double close_wait_growth_per_min;  /* NAN when not known yet */
	double exhaustion_eta_s;           /* to RLIMIT_NOFILE; INFINITY = never, NAN = not known yet */
	double close_wait_oldest_s;        /* 0 when there is no CLOSE_WAIT */
	bool close_wait_oldest_bound;      /* that age is a kernel lower bound: ">=2m" */
	uint32_t close_wait_hosts;         /* distinct remote addresses (8 = 8 or more) */
	double growth_per_min[ST_COUNT];   /* ports: per state; NAN when not known */
	double span_s;                     /* how much history there is */
	enum leak_verdict verdict;
	char reason[LEAK_REASON_MAX];
	double rss_growth_mb_per_min;      /* NAN when not known yet (or a port) */
	enum leak_verdict mem_verdict;     /* leak or ok; ok for a port */
	char mem_reason[LEAK_REASON_MAX];  /* "" for a port */
	bool fd_stalled;                   /* fds (a port: held sockets) rose, then stood still */
	bool close_wait_stalled;           /* CLOSE_WAIT rose, then stood still */
	double stalled_s;                  /* for how long (the longer of the two) */
	int32_t mirror_pid;                /* a port: its orphaned FIN_WAIT2 are the far end of
					    * this process's CLOSE_WAIT (0: none) */
	bool self;                         /* leaktop's own process: not judged */
};

/* NULL when the process or port has no history (new, or beyond the bound). */
const struct history_stats *history_proc(const struct history *h, int32_t pid, uint64_t start_time);
const struct history_stats *history_port(const struct history *h, uint64_t netns, uint16_t port,
					 unsigned side);

enum history_series { HS_FDS, HS_SOCKETS, HS_CLOSE_WAIT, HS_RECV_Q, HS_RSS_KB, HS_NEW, HS_COUNT };

/* The last (at most max) samples of one series, oldest first, into t (unix seconds)
 * and v; for a sparkline. Returns how many. */
size_t history_proc_series(const struct history *h, int32_t pid, uint64_t start_time,
			   enum history_series which, double *t, double *v, size_t max);
/* One state's count on one port (state from enum sk_state). */
size_t history_port_series(const struct history *h, uint64_t netns, uint16_t port, unsigned side,
			   unsigned state, double *t, double *v, size_t max);

/* Seconds since the socket k of snapshot s was first seen and since it entered its
 * current state, as of the last update. With history_opts.shared_reads, s must be
 * the snapshot last updated, or the one shown while the update runs (or a copy of
 * either), and k one of s->socks; the ages are as of that snapshot's update. Counted from leaktop's first refresh at the earliest, or
 * from the kernel's lower bound (sock_rec.state_age_ms) when the first sighting had one.
 * Returns 0, or -ENOENT when the socket was not in the last update. */
int history_sock_age(const struct history *h, const struct snapshot *s, const struct sock_rec *k, double *age_s,
		     double *state_age_s);
/* Whether those ages are the kernel's lower bound (sock_rec.state_age_ms, as the
 * socket was first seen) rather than counted from a sighting: shown as ">=2m". */
bool history_sock_age_bound(const struct history *h, const struct snapshot *s, const struct sock_rec *k);

/* fs.file-nr growth per minute (NAN when unknown) and seconds until fs.file-max
 * (INFINITY = never). A count that rose and has stood still since (the rule of
 * leak_stalled) grows 0 and never runs out. */
void history_file_stats(const struct history *h, double *growth_per_min, double *eta_s);

/* A verdict that changed in the last update: news, to be said once ("judged leak"),
 * where a verdict that holds is only shown. Only a change to or from a finding
 * (suspect, leak) is news: ok and churn trade places quietly. A new process or port
 * counts as coming from ok; one that is gone is no change. */
struct history_change {
	bool is_port;
	int32_t pid;               /* a process: pid, start time, name (escaped) */
	uint64_t start_time;
	char comm[PROC_COMM_MAX];
	uint64_t netns;            /* a port: netns, port, side */
	uint16_t port;
	uint8_t side;
	enum leak_verdict from, to;
	char reason[LEAK_REASON_MAX]; /* the reason of the new verdict */
};

/* The verdict changes of the last update, raises (below) included, in the order of
 * the update (processes, then ports). Valid until the next update or clear. */
const struct history_change *history_changes(const struct history *h, size_t *n);

/* One line for a person: "pid 42 (java) judged leak (was ok): CLOSE_WAIT ...",
 * "local port 8080 is ok again (was suspect): no growth". */
void history_change_format(const struct history_change *c, char *buf, size_t n);

/* Raise (never lower) the verdict of a process or port that something else names as
 * it stands now (an active alert: model/alert.h alerts_raise), with that reason; the
 * changes of the update follow. True when it was raised; false when it was as high
 * already, has no history, or is leaktop's own process. */
bool history_raise_proc(struct history *h, int32_t pid, uint64_t start_time, enum leak_verdict v, const char *reason);
bool history_raise_port(struct history *h, uint64_t netns, uint16_t port, unsigned side, enum leak_verdict v,
			const char *reason);

/* Bytes held, for the bound above. */
size_t history_memory(const struct history *h);

#endif
