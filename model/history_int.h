/* The history's insides, shared by history.c (the update, the queries),
 * history_judge.c (the figures and verdicts) and history_store.c (the entity sets and
 * their sample rings). Not for other modules. */
#ifndef LEAKTOP_HISTORY_INT_H
#define LEAKTOP_HISTORY_INT_H

#include "model/history.h"
#include "model/hashtab.h"

#include <stdbool.h>
#include <stdint.h>

/* ports: states 1..13, then new sockets, then the sockets processes hold (every state
 * but the kernel's own: TIME_WAIT, orphaned FIN_WAIT2, ...) */
enum { PROC_VALS = HS_COUNT, PORT_VALS = ST_COUNT + 1 };
#define PORT_NEW (ST_COUNT - 1)
#define PORT_HELD ST_COUNT
#define MAX_HOSTS 8
#define RING_MIN 64

/* A TCP connection as one of its ends sees it: its own address and port, then the
 * peer's; IPv4-mapped IPv6 addresses in their IPv4 form, so both ends compare. */
struct hist_tuple {
	uint64_t netns;
	uint8_t a[16], b[16];
	uint16_t ap, bp;
};

/* One process or one port. */
struct hist_ent {
	uint64_t ka, kb;          /* proc: pid, start time; port: netns, port | side << 16 */
	uint32_t *ring;           /* cap samples of nvals values */
	uint32_t cap, count, head; /* head: index of the oldest sample */
	uint64_t last_seq;
	double last_seen;
	bool seen;                /* in this update */
	uint64_t fd_limit;
	uint32_t weight;          /* fds, or sockets on a port: who stays at the bound */
	uint32_t cur[PROC_VALS > PORT_VALS ? PROC_VALS : PORT_VALS];
	/* CLOSE_WAIT evidence of this update. */
	double cw_oldest;
	bool cw_oldest_bound;     /* that age is the kernel's lower bound */
	uint32_t cw_unread, nhosts, cw_old;
	uint32_t hosts[MAX_HOSTS];
	/* The one remote endpoint of outbound CLOSE_WAIT: peer_n 0 none yet, 1 one, 2 more
	 * (or an inbound one). */
	uint8_t peer_n, peer_family;
	uint16_t peer_port;
	uint8_t peer_addr[16];
	/* The CLOSE_WAIT (0) and fd (1; a port: held sockets) counts: the last sample at
	 * which they moved beyond noise (leak_noise), and where to. */
	uint64_t moved_seq[2];
	uint32_t anchor[2];
	/* The last sample at which each value moved: a series flat over the slope
	 * window needs no fit (most of them, most of the time). */
	uint64_t col_moved[PROC_VALS > PORT_VALS ? PROC_VALS : PORT_VALS];
	/* Where the CLOSE_WAIT (0) and fd (1) series were last at their lowest, kept as
	 * samples arrive: how long they have been rising, without a scan per update. */
	uint32_t low[2];
	uint64_t low_seq[2];
	/* Since that low: the biggest rise of one sample, and how many samples rose. */
	uint32_t max_step[2], rises[2];
	/* CLOSE_WAIT turnover: of this update's, how many were CLOSE_WAIT in the last one
	 * too, how many are held churn_age_s or more, how many are a server's; the last
	 * update's count and its seq; how many left since the low; the updates in a row
	 * that kept the pile (cw_turnover). */
	uint32_t cw_stay, cw_held, cw_inbound, cw_prev, cw_left_low;
	uint64_t cw_prev_seq;
	unsigned cw_kept_n;
	/* Ports: sockets no process holds (the kernel's: TIME_WAIT, orphans), of them
	 * FIN_WAIT2; one such FIN_WAIT2's peer, to find whose CLOSE_WAIT it is the far end
	 * of (mirror_pid and its start time; 0 when none). */
	uint32_t orphans, orphan_fw2;
	struct hist_tuple fw2_peer;
	bool fw2_set;
	int32_t mirror_pid;
	uint64_t mirror_start;
	/* Processes: the name, leaktop's own, and a JVM's maximum heap (0: not a JVM). */
	char comm[PROC_COMM_MAX];
	bool self;
	uint64_t heap_kb;
	/* The verdict shown after the last update (raised ones too): a change is news. */
	uint8_t verdict_was;
	struct history_stats stats;
};

struct hist_set {
	struct hist_ent *ents;
	size_t n, alloc, max;
	unsigned nvals;
	struct hashtab index;     /* hist_set_key(ka, kb) -> ent index (uint32_t) */
};

/* What the history knows of one socket, in its hash table by sock_key. */
struct sock_age {
	float first, since;       /* seconds after h->base */
	uint8_t state;
	bool bound;               /* since is the kernel's lower bound, not a sighting */
	uint8_t seen;             /* the low byte of the update's seq that saw it last */
};

/* With o.shared_reads: the ages of the snapshot on screen, by each socket's position
 * in it (8 bytes a socket, and a bit), copied from the table before an update writes
 * it, for readers beside that update. Whose: the snapshot's tick, time and socket
 * count (a paused view's copy is the same). */
struct hist_ages {
	bool valid, ready;        /* ready: copied, not yet handed to readers (begin) */
	uint64_t tick;
	double time, aged_at;     /* aged_at: the update's now */
	size_t n, cap;
	float *first, *since;     /* seconds after h->base */
	uint64_t *bound;          /* a bit a socket: since is the kernel's lower bound */
};

struct history {
	struct history_opts o;
	uint32_t cap;             /* samples per series */
	uint64_t seq;
	double base, now, prev_time; /* prev_time: the update before this one */
	double aged_at;           /* the now of the last update's end, as readers see it */
	double *times;            /* by seq % cap */
	double *file_nr;
	uint64_t file_max;
	struct hist_set procs, ports;
	/* sock_key -> struct sock_age: the last update's sockets (20 bytes a slot).
	 * Updated in place and swept of the sockets an update did not see. With
	 * o.shared_reads (a reader beside the sockets step), readers read it for the
	 * snapshot it was last updated with (tab) outside an update, and the copy kept
	 * for the snapshot on screen during one (history_keep_ages). */
	struct hashtab socks;
	struct {
		bool valid;           /* false from an update's begin to its end */
		uint64_t tick;
		double time;
		size_t n;
	} tab;
	struct hist_ages kept;
	size_t win_n;             /* samples inside the slope window */
	int32_t *proc_ent;        /* snapshot proc index -> ent index */
	struct by_weight *order;  /* procs by fds, biggest first */
	size_t proc_ent_cap, order_cap;
	double *tbuf, *vbuf;      /* scratch for fits, cap each */
	/* fs.file-nr: where it last moved beyond noise and its low, as for an entity. */
	uint64_t file_moved_seq, file_low_seq;
	double file_anchor, file_low;
	struct hashtab mirrors;   /* hist_tuple key -> port ent index: the orphans' peers */
	uint64_t mirror_ports[65536 / 64]; /* their local ports, a bit each */
	struct history_change *changes; /* the verdict changes of the last update */
	size_t nchanges, changes_cap;
};

uint64_t hist_set_key(uint64_t ka, uint64_t kb);
/* Index ents[i] under its key; false when another entity holds that key. */
bool hist_set_index(struct hist_set *st, size_t i);
struct hist_ent *hist_set_find(const struct hist_set *st, uint64_t ka, uint64_t kb);
int hist_set_init(struct hist_set *st, size_t max, unsigned nvals);
void hist_set_remove(struct hist_set *st, size_t i);
struct hist_ent *hist_set_add(struct hist_set *st, uint64_t ka, uint64_t kb);
void hist_set_free(struct hist_set *st);
const uint32_t *hist_ring_at(const struct hist_ent *e, unsigned nvals, uint32_t i);
int hist_ring_push(struct hist_ent *e, unsigned nvals, uint32_t gcap, uint64_t seq, const uint32_t *vals);
size_t hist_ring_series(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col,
			double *t, double *v, size_t max);
void hist_track_low(struct hist_ent *e, unsigned nvals, unsigned which, unsigned col);
void hist_track_moved(struct hist_ent *e, unsigned nvals, unsigned which, unsigned col);
/* The rate (per minute) at which the count in slot which rose from its low to where it
 * last moved; 0 when it did not. */
double hist_rate_before(const struct history *h, const struct hist_ent *e, unsigned which);

/* history_judge.c: the figures and verdict of e after its sample was pushed; this
 * update's change of its verdict, if any (0 or -ENOMEM); fs.file-nr's tracking. */
void hist_judge(struct history *h, struct hist_ent *e, bool is_proc);
int hist_note_change(struct history *h, struct hist_ent *e, bool is_proc);
void hist_track_file_nr(struct history *h, double v);
double hist_rising_s(const struct history *h, const struct hist_ent *e, unsigned which);

#endif
