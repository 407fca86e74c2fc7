/* The handover's story of a recording: which processes and ports matter, their
 * verdicts recomputed by replaying the recording through the session step (history,
 * leak rules, alerts: the same code the dashboard runs), their peaks, and the
 * timeline of the moments that matter. Both reports (Markdown, HTML) write from it. */
#ifndef LEAKTOP_STORY_H
#define LEAKTOP_STORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/leak.h"
#include "model/snapshot.h"

struct sqlite3;
struct alert_thresholds;

#define STORY_PIDS_MAX 8

struct story_proc {
	int32_t pid;
	uint64_t start_time;
	char comm[PROC_COMM_MAX], user[PROC_USER_MAX], unit[PROC_UNIT_MAX], cmdline[PROC_CMDLINE_MAX];
	enum leak_verdict worst, last;     /* fd/CLOSE_WAIT verdict: worst seen, at the end */
	char reason[LEAK_REASON_MAX];      /* the latest reason at the worst verdict */
	double reason_at;                  /* when it was given */
	bool mem_leak;
	char mem_reason[LEAK_REASON_MAX];  /* the latest */
	double first_suspect, first_leak, first_mem_leak; /* unix seconds, 0 = never */
	double first_seen, last_seen;
	bool gone;                         /* not in the last refresh */
	int64_t fds_first, fds_last, fds_peak;
	int64_t socks_first, socks_last;   /* of the fds, sockets */
	double fds_moved_at, cw_moved_at;  /* the last refresh the count changed in */
	uint32_t cw_first;
	uint64_t fd_limit;                 /* at the peak; UINT64_MAX when unlimited */
	double fd_pct_peak;                /* NAN when no limit */
	double eta_min_s;                  /* the shortest time to exhaustion seen; INFINITY */
	uint64_t rss_peak_kb, rss_last_kb;
	uint32_t cw_peak, cw_last;
	bool named;                        /* an alert or action was about it */
	bool self;                         /* the leaktop that made the recording: never told */
	bool matters;
	long replaced_by, replaces;        /* indexes of the restart's other side, -1 */
};

struct story_port {
	uint64_t netns;
	uint16_t port;
	uint8_t side, proto;
	char endpoint[80];                 /* "local port 8080", "127.0.0.1:24611": always set */
	enum leak_verdict worst, last;
	char reason[LEAK_REASON_MAX];      /* the latest reason at the worst verdict */
	double first_suspect, first_leak;
	uint32_t cw_first, cw_peak, cw_last;
	double cw_moved_at;
	uint64_t recvq_peak, recvq_last;
	double recvq_peak_at;              /* when the Recv-Q peak was first seen */
	double last_seen;                  /* the last refresh it was in */
	double cw_oldest_s;                /* at its last refresh: the oldest CLOSE_WAIT's age */
	bool cw_oldest_bound;              /* ... the kernel's lower bound */
	int32_t pids[STORY_PIDS_MAX];      /* every holder seen, first ones first */
	size_t npids;
	bool pids_more;
	bool matters;
};

/* STK_STALLED: an alert that cleared because the growth stopped while the pile
 * stayed (fd_eta once a pool is exhausted): a stall, not an all-clear. */
enum story_kind {
	STK_SUSPECT, STK_LEAK, STK_MEM_LEAK, STK_ALERT, STK_CLEARED, STK_STALLED, STK_ACTION, STK_REPLACED,
	STK_KIND_COUNT
};

/* "suspect", "leak", ..., "alert cleared", "growth stopped": the timeline's words. */
extern const char *const story_kind_names[STK_KIND_COUNT];

struct story_event {
	double time;
	enum story_kind kind;
	int32_t pid;                       /* 0 when about no process */
	uint64_t start_time;               /* recorded events: 0 when not known */
	char text[512];                    /* raw: escape for the output */
	const char *dump;                  /* actions: a thread dump (owned by the story), or NULL */
	size_t dump_len;
	/* Recorded alerts: the process as the replay saw it at the event. */
	bool stamped, alive;
	int64_t fds;
	uint32_t cw;
};

struct story {
	struct story_proc *procs;
	size_t nprocs, procs_cap;
	struct story_port *ports;
	size_t nports, ports_cap;
	struct story_event *events;        /* in time order */
	size_t nevents, events_cap;
	double *times;                     /* every refresh: time and tick */
	int64_t *ticks;
	size_t nrefresh, times_cap;
	double interval;
	double fd_warn_pct, fd_crit_pct;   /* the thresholds it was told with (--fd-warn, --fd-crit) */
	char self_left_out[96];            /* "pid 10 leaktop", when the recorder was left out */
};

/* Replay the recording at path into a story, through a session with the alert
 * thresholds t (the options' --fd-warn, --fd-crit, ...; NULL: the defaults), so its
 * verdicts and "near its fd limit" are the dashboard's. Returns 0 or -errno with *cause. */
int story_build(const char *path, const struct alert_thresholds *t, struct story **out, char **cause);
void story_free(struct story *st);

/* The rule of what is listed, said in both reports (with the --fd-warn threshold). */
void story_rule(const struct story *st, char *buf, size_t n);

/* "pid 1234 java" and friends for a person (raw: escape for the output). */
void story_proc_name(const struct story *st, const struct story_proc *p, char *buf, size_t n);
/* "pid 1234 java, pid 99 nginx (+2)": a port's holders, by name when known. */
void story_port_pids(const struct story *st, const struct story_port *p, char *buf, size_t n);
/* The summary line of a process: the verdict's story in one sentence. */
void story_proc_summary(const struct story *st, const struct story_proc *p, char *buf, size_t n);
void story_port_summary(const struct story *st, const struct story_port *p, char *buf, size_t n);
/* The summary's culprits in the order both reports tell them: by verdict, worst
 * first (a memory leak counts as leak), then by the size of the pile. A restarted
 * culprit's successor is told with it; a port is told with the culprit processes
 * holding it, and on its own only when none does. fn gets each with its verdict and
 * a one-line summary (proc or port is NULL); returns how many there were. */
size_t story_each_culprit(const struct story *st,
			  void (*fn)(void *ctx, const struct story_proc *proc, const struct story_port *port,
				     enum leak_verdict v, const char *summary),
			  void *ctx);
/* "the leak came back after the restart at 10:12 (pid 4567, leak at 10:20)", or "" */
void story_restart_note(const struct story *st, const struct story_proc *p, char *buf, size_t n);

/* One value per refresh for a chart, forward-filled from the recording's changes over
 * the refreshes the process or port was alive in; NAN before and after. v gets
 * st->nrefresh values. Returns how many refreshes have a value, or -errno. */
enum story_series { SS_FDS, SS_FD_LIMIT, SS_RSS_KB, SS_CLOSE_WAIT, SS_COUNT };
int story_proc_series(const struct story *st, struct sqlite3 *db, const struct story_proc *p,
		      enum story_series which, double *v);
int story_port_series(const struct story *st, struct sqlite3 *db, const struct story_port *p, double *v);

/* "Next steps": what to do about each culprit, derived from its evidence (an outbound
 * CLOSE_WAIT pile with unread bytes, a pool exhausted, an inbound pile, fds that are
 * not sockets, memory, the fd limit, a leak back after a restart) and from the
 * thread dump taken of it. fn gets each step as one sentence (raw: escape it);
 * returns how many. */
size_t story_each_step(const struct story *st, void (*fn)(void *ctx, const char *step), void *ctx);

/* The latest thread dump of p in the story, or NULL. */
const struct story_event *story_dump_of(const struct story *st, const struct story_proc *p);

/* "[::ffff:127.0.0.1]:8080" -> "127.0.0.1:8080" in s, in place: one address form. */
void story_plain_addrs(char *s);

#endif
