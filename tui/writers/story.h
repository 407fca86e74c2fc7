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

/* The rule, said in both reports. */
#define STORY_RULE                                                                                  \
	"Listed: the processes and ports the model judged suspect or leak at some refresh (fds, "    \
	"CLOSE_WAIT or memory), processes that reached 75% of their fd limit, and those an alert or " \
	"action named. Verdicts are recomputed by replaying the recording through the same history "  \
	"and leak rules as the dashboard; short-lived processes that only opened files are left out."

#define STORY_PIDS_MAX 8

struct story_proc {
	int32_t pid;
	uint64_t start_time;
	char comm[PROC_COMM_MAX], user[PROC_USER_MAX], unit[PROC_UNIT_MAX], cmdline[PROC_CMDLINE_MAX];
	enum leak_verdict worst, last;     /* fd/CLOSE_WAIT verdict: worst seen, at the end */
	char reason[LEAK_REASON_MAX];      /* the reason when the worst was last seen */
	bool mem_leak;
	char mem_reason[LEAK_REASON_MAX];
	double first_suspect, first_leak, first_mem_leak; /* unix seconds, 0 = never */
	double first_seen, last_seen;
	bool gone;                         /* not in the last refresh */
	int64_t fds_first, fds_last, fds_peak;
	uint64_t fd_limit;                 /* at the peak; UINT64_MAX when unlimited */
	double fd_pct_peak;                /* NAN when no limit */
	double eta_min_s;                  /* the shortest time to exhaustion seen; INFINITY */
	uint64_t rss_peak_kb, rss_last_kb;
	uint32_t cw_peak, cw_last;
	bool named;                        /* an alert or action was about it */
	bool matters;
	long replaced_by, replaces;        /* indexes of the restart's other side, -1 */
};

struct story_port {
	uint64_t netns;
	uint16_t port;
	uint8_t side, proto;
	char endpoint[80];                 /* "local port 8080", "127.0.0.1:24611": always set */
	enum leak_verdict worst, last;
	char reason[LEAK_REASON_MAX];
	double first_suspect, first_leak;
	uint32_t cw_peak, cw_last;
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

enum story_kind {
	STK_SUSPECT, STK_LEAK, STK_MEM_LEAK, STK_ALERT, STK_CLEARED, STK_ACTION, STK_REPLACED, STK_KIND_COUNT
};

struct story_event {
	double time;
	enum story_kind kind;
	int32_t pid;                       /* 0 when about no process */
	char text[512];                    /* raw: escape for the output */
	const char *dump;                  /* actions: a thread dump (owned by the story), or NULL */
	size_t dump_len;
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
};

/* Replay the recording at path into a story. Returns 0 or -errno with *cause. */
int story_build(const char *path, struct story **out, char **cause);
void story_free(struct story *st);

/* "pid 1234 java" and friends for a person (raw: escape for the output). */
void story_proc_name(const struct story *st, const struct story_proc *p, char *buf, size_t n);
/* "pid 1234 java, pid 99 nginx (+2)": a port's holders, by name when known. */
void story_port_pids(const struct story *st, const struct story_port *p, char *buf, size_t n);
/* The summary line of a process: the verdict's story in one sentence. */
void story_proc_summary(const struct story *st, const struct story_proc *p, char *buf, size_t n);
void story_port_summary(const struct story *st, const struct story_port *p, char *buf, size_t n);
/* The summary's culprits in the order both reports tell them: processes by verdict,
 * worst first (a memory leak counts as leak; a restarted culprit's successor is told
 * with it), then ports judged leak, then suspect. fn gets each with its verdict and a
 * one-line summary (proc or port is NULL); returns how many there were. */
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

#endif
