/* Leak arithmetic: growth rate of a series, time to exhaustion, and the verdict
 * (leak, suspect, churn, ok) with its one-line reason. Pure functions on numbers. */
#ifndef LEAKTOP_LEAK_H
#define LEAKTOP_LEAK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A least-squares line through the recent part of a series. */
struct leak_fit {
	bool valid;           /* at least 3 samples over at least 1 s */
	double slope_per_min;
	double span_s;        /* time covered by the samples used */
	size_t n;             /* samples used */
};

/* Fit v over t (seconds, ascending) using the samples of the last window_s seconds,
 * starting after the last reset (a fall to less than half of at least 8: a restart,
 * a pool recycled): growth before a reset says nothing about the growth after it. */
void leak_slope(const double *t, const double *v, size_t n, double window_s, struct leak_fit *out);

/* True when the fit shows growth of at least one unit over its span; less is noise. */
bool leak_growing(const struct leak_fit *fit);

/* Seconds until current reaches limit at the fitted slope: 0 when already there,
 * INFINITY ("never") when flat, shrinking, unknown or the limit is UINT64_MAX. */
double leak_eta_s(double current, uint64_t limit, const struct leak_fit *fit);

enum leak_verdict { VERDICT_OK, VERDICT_CHURN, VERDICT_SUSPECT, VERDICT_LEAK, VERDICT_COUNT };

/* "ok", "churn", "suspect", "leak". */
const char *leak_verdict_name(enum leak_verdict v);

/* What history knows about one process or port when it asks for a verdict. */
struct leak_evidence {
	uint32_t cw;              /* CLOSE_WAIT sockets now */
	struct leak_fit cw_fit;   /* their growth */
	double cw_grow_s;         /* how long CLOSE_WAIT has been rising from its low */
	double cw_oldest_s;       /* age in CLOSE_WAIT of the oldest, 0 when none */
	bool cw_age_bound;        /* that age is a lower bound from the kernel (">=2m") */
	uint32_t cw_old;          /* CLOSE_WAIT at least suspect_age_s old */
	double cw_flat_s;         /* how long the CLOSE_WAIT count has not moved */
	unsigned cw_flat_n;       /* over how many refreshes */
	char cw_peer[64];         /* "host:port" when every CLOSE_WAIT is outbound to one
				   * remote endpoint, else "" */
	uint32_t cw_hosts;        /* distinct remote addresses among them (saturates) */
	uint32_t cw_unread;       /* of them, sockets with unread Recv-Q */
	bool has_fds;             /* a process (fd figures apply), not a port */
	struct leak_fit fd_fit;
	double fd_grow_s;
	double fd_flat_s;         /* how long the fd count has not moved */
	unsigned fd_flat_n;
	struct leak_fit sock_fit; /* all sockets (ports: the count over every state) */
	double sock_grow_s;
	double new_per_min;       /* sockets first seen per minute: turnover */
	double watched_s;         /* how long leaktop has watched: ages are at most this */
};

/* The thresholds of the diagnosis. leak_params_default() has the values the README
 * documents. */
struct leak_params {
	uint32_t cw_min;          /* CLOSE_WAIT growth (or count) that counts: 5 */
	double leak_age_s;        /* a CLOSE_WAIT this old was never going to be closed: 600 */
	double suspect_age_s;     /* old enough to look at: 60 */
	double churn_age_s;       /* CLOSE_WAIT younger than this is being closed: 10 */
	double churn_new_per_min; /* turnover that means short-lived connections: 60 */
	double fd_growth_min;     /* fds gained over the window before it is growth: 10 */
	uint32_t few_hosts;       /* CLOSE_WAIT from at most this many hosts is one pool: 2 */
	double mem_growth_min_mb; /* RSS growth per minute below this is noise: 1 MB */
	double mem_growth_frac;   /* and it must add this share of RSS over the window: 0.10 */
	unsigned mem_min_samples; /* or over this many refreshes, when not a full window: 10 */
	double stall_s;           /* a count that grew and has not moved for this long and */
	unsigned stall_samples;   /* this many refreshes has stalled: 10 s, 5 */
};

void leak_params_default(struct leak_params *p);

#define LEAK_REASON_MAX 160

/* Judge the evidence; reason gets one line like "CLOSE_WAIT +37/min for 12m, oldest
 * 14m, 2 remote hosts". A pile that grew and then stood still for stall_s reads
 * "CLOSE_WAIT stalled at 400 for 30s (pool exhausted?) after +857/min for 1m, ...". */
enum leak_verdict leak_judge(const struct leak_evidence *e, const struct leak_params *p, char *reason,
			     size_t reason_size);

/* The memory verdict from an RSS series (t in seconds ascending, rss in kB): "leak"
 * when RSS grew steadily over most of a full window, or over mem_min_samples
 * refreshes when it grows fast (no single step more than half
 * of the rise: one big allocation is not a leak), at least mem_growth_min_mb a minute
 * and by mem_growth_frac of RSS now; "ok" otherwise. growth_mb_per_min gets the fitted
 * slope (NAN when not known yet); reason gets "RSS +12.5 MB/min for 6m, now 812 MB". */
enum leak_verdict leak_judge_mem(const double *t, const double *rss_kb, size_t n, double window_s,
				 const struct leak_params *p, double *growth_mb_per_min, char *reason,
				 size_t reason_size);

/* A process's one verdict from its socket verdict and its memory verdict: a memory
 * leak outranks ok, churn and suspect, and its reason then starts "memory: RSS ...";
 * with a socket leak too the memory reason is appended. reason is updated in place. */
enum leak_verdict leak_combine_mem(enum leak_verdict v, char *reason, size_t reason_size,
				   enum leak_verdict mem, const char *mem_reason);

/* Whether a count that the window's fit calls growing has stalled: it has not moved
 * for p->stall_s and p->stall_samples refreshes. Growth and ETA then read flat. */
bool leak_stalled(const struct leak_fit *fit, double flat_s, unsigned flat_n, const struct leak_params *p);

/* "200ms", "14s", "14m", "2h05m", "3d04h" for a duration in seconds. buf holds 16. */
char *leak_format_duration(char *buf, size_t size, double secs);

#endif
