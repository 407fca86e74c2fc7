/* Alerts: thresholds checked on each refresh, reported as transitions (fire once,
 * clear after 3 refreshes 10% clear of the threshold, may fire again). Pure: running a program per transition is program/spawn.h's. */
#ifndef LEAKTOP_ALERT_H
#define LEAKTOP_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "model/snapshot.h"
#include "model/view.h"

struct history;

/* The defaults (alert_thresholds_default) are what the README documents. */
struct alert_thresholds {
	double fd_warn_pct;    /* fds as % of RLIMIT_NOFILE: warning at 75 */
	double fd_crit_pct;    /* critical at 90 */
	uint32_t close_wait;   /* CLOSE_WAIT per process or port above this: 100 */
	double eta_min;        /* fds run out in less than this many minutes: 30 */
	double file_nr_pct;    /* fs.file-nr as % of fs.file-max: 75 */
};

void alert_thresholds_default(struct alert_thresholds *t);

enum alert_kind {
	ALERT_FD_USAGE,        /* a process near its fd limit */
	ALERT_CLOSE_WAIT,      /* a process holding many CLOSE_WAIT sockets */
	ALERT_PORT_CLOSE_WAIT, /* a port with many CLOSE_WAIT sockets */
	ALERT_FD_ETA,          /* a process will run out of fds soon at its growth */
	ALERT_FILE_NR,         /* the system near fs.file-max */
	ALERT_MEM,             /* a process judged to leak memory (its memory verdict) */
	ALERT_KIND_COUNT
};

enum alert_level { ALERT_CLEAR, ALERT_WARNING, ALERT_CRITICAL, ALERT_LEVEL_COUNT };

/* "fd_usage", "close_wait", "port_close_wait", "fd_eta", "file_nr", "mem". */
const char *alert_kind_name(enum alert_kind k);
/* "clear", "warning", "critical". */
const char *alert_level_name(enum alert_level l);

#define ALERT_MESSAGE_MAX 192

struct alert {
	enum alert_kind kind;
	enum alert_level level;   /* ALERT_CLEAR in a clearing transition */
	int32_t pid;              /* 0 when not about a process */
	uint64_t start_time;
	uint64_t netns;
	uint16_t port;            /* ports only */
	uint8_t side;             /* enum port_side, ports only */
	double value, threshold;
	char comm[PROC_COMM_MAX]; /* escaped, as in the snapshot */
	char message[ALERT_MESSAGE_MAX];
	uint8_t calm;             /* refreshes in a row it has been clear of its threshold */
};

struct alerts;

/* NULL on ENOMEM. */
struct alerts *alerts_new(const struct alert_thresholds *t);
/* Only processes and ports that pass f (--pid, --port) raise alerts; the system-wide
 * file_nr alert is not filtered. */
void alerts_set_filter(struct alerts *a, const struct view_filter *f);
/* NULL is fine. */
void alerts_free(struct alerts *a);

/* Check one refresh (h may be NULL: no ETA or memory alerts). leaktop's own process
 * (PROC_SELF) raises none. An fd_eta alert that clears because the fds stopped growing
 * while they stay (a pool exhausted, a leak stalled) says so in its clearing message:
 * "...; cleared: growth stopped at 300 fds (stalled, not resolved)". Returns the number
 * of transitions, or -ENOMEM. */
int alerts_update(struct alerts *a, const struct snapshot *s, const struct history *h);
/* After alerts_update: a process or port that an active alert names is not "ok": its
 * verdict is raised to suspect, the alert's message its reason (history_raise_*), so
 * an alert and a verdict about the same thing never contradict each other. */
void alerts_raise(const struct alerts *a, struct history *h);
/* The transitions of the last update, and what is firing now (for an alert line). */
const struct alert *alerts_events(const struct alerts *a, size_t *n);
const struct alert *alerts_active(const struct alerts *a, size_t *n);

#endif
