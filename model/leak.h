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

/* What history knows about one process or port when it asks for a verdict. A "pile"
 * is the set of CLOSE_WAIT sockets; a socket leaves it when it is closed (or reset). */
struct leak_evidence {
	uint32_t cw;              /* CLOSE_WAIT sockets now */
	struct leak_fit cw_fit;   /* their growth */
	double cw_grow_s;         /* how long CLOSE_WAIT has been rising from its low */
	uint32_t cw_rise;         /* by how much since that low */
	uint32_t cw_max_step;     /* the biggest rise of one refresh in it */
	unsigned cw_rises;        /* in how many refreshes it rose */
	double cw_oldest_s;       /* age in CLOSE_WAIT of the oldest, 0 when none */
	bool cw_age_bound;        /* that age is a lower bound from the kernel (">=2m") */
	uint32_t cw_old;          /* CLOSE_WAIT at least suspect_age_s old */
	uint32_t cw_held;         /* CLOSE_WAIT at least churn_age_s old */
	unsigned cw_kept_n;       /* refreshes in a row that kept the pile: none (of a big one
				   * 1 in 100) left it; 0: some left in the last, or not known */
	uint32_t cw_left;         /* how many left it since it began rising from its low */
	bool cw_stalled;          /* it rose and has stood still since (leak_stalled) */
	double cw_flat_s;         /* how long it has stood still */
	double cw_rate_before;    /* the rate (per minute) at which it rose until then */
	char cw_peer[64];         /* "host:port" when every CLOSE_WAIT is outbound to one
				   * remote endpoint, else "" */
	bool cw_inbound;          /* some CLOSE_WAIT is a server's (accepted) connection */
	uint32_t cw_hosts;        /* distinct remote addresses among them (saturates) */
	uint32_t cw_unread;       /* of them, sockets with unread Recv-Q */
	bool has_fds;             /* a process (fd figures apply), not a port */
	uint32_t fds;             /* a process: fds now; a port: sockets a process holds */
	double fd_pct;            /* fds as % of the fd limit, NAN when unlimited (ports too) */
	struct leak_fit fd_fit;   /* their growth */
	double fd_grow_s;         /* how long they have been rising from their low */
	uint32_t fd_rise, fd_max_step; /* by how much, and the biggest one-refresh step */
	unsigned fd_rises;        /* in how many refreshes they rose */
	bool fd_going;            /* to new highs all along: their highest rose in each third
				   * of the rise (until they stalled), and they stand at it */
	bool fd_stalled;          /* they rose and have stood still since */
	double fd_flat_s;
	double fd_rate_before;    /* the rate (per minute) at which they rose until then */
	bool at_fd_limit;         /* a process at its fd limit */
	double new_per_min;       /* sockets first seen per minute: turnover */
	double left_per_min;      /* sockets that left the count per minute (closed) */
	uint32_t orphans;         /* a port: FIN_WAIT2 sockets no process holds any more */
	char mirror[80];          /* a port: "pid 42 (java)" when those are the far end of
				   * that process's CLOSE_WAIT: its leak, seen from here */
	double watched_s;         /* how long leaktop has watched: ages are at most this */
	unsigned seen_n;          /* in how many refreshes (what left a pile is known from the second) */
	bool self;                /* leaktop's own process: never judged */
};

/* The thresholds of the diagnosis. leak_params_default() has the values the README
 * documents. */
struct leak_params {
	uint32_t cw_min;          /* CLOSE_WAIT growth (or count) that counts: 5 */
	uint32_t cw_pile;         /* a pile this big is worth a look at once (the close_wait
				   * alert's threshold): 100 */
	double leak_age_s;        /* a CLOSE_WAIT this old was never going to be closed: 600 */
	double suspect_age_s;     /* old enough to look at: 60 */
	double churn_age_s;       /* CLOSE_WAIT younger than this is being closed; older is
				   * held: 10 */
	double churn_new_per_min; /* turnover that means short-lived connections: 60 */
	double fd_growth_min;     /* fds gained over the window before it is growth: 10 */
	double fd_warn_pct;       /* fds as % of the limit worth a look (the fd_usage
				   * alert's warning): 75 */
	double mem_growth_min_mb; /* RSS growth per minute below this is noise: 1 MB */
	double mem_growth_frac;   /* and it must add this share of RSS over the window: 0.10 */
	double mem_span_s;        /* RSS must have risen to new highs for this long: 60 */
	unsigned mem_min_samples; /* and over this many refreshes: 10 */
	double stall_s;           /* a count that grew and has not moved for this long and */
	unsigned stall_samples;   /* this many refreshes has stalled: 5 s, 3 */
};

void leak_params_default(struct leak_params *p);

#define LEAK_REASON_MAX 256

/* Judge the evidence; reason gets one line like "CLOSE_WAIT +37/min for 12m, none
 * closed, oldest 14m, 2 remote hosts". The rules, first match wins, are the README's
 * verdict table. A pile that grew and then stood still reads "CLOSE_WAIT stalled at
 * 400 for 30s (pool exhausted?) after +857/min for 1m, ...". */
enum leak_verdict leak_judge(const struct leak_evidence *e, const struct leak_params *p, char *reason,
			     size_t reason_size);

/* The memory verdict from an RSS series (t in seconds ascending, rss in kB) over the
 * slope window: "leak" when RSS has risen from the window's last low (the rise) for
 * mem_span_s (or half a shorter window) and mem_min_samples refreshes or more, to
 * new highs all along: its highest so far rose in each third of the rise (a
 * sawtooth's peaks do not rise), the last third by at least a third of the first (a
 * heap or a cache filling to its plateau slows down), RSS now above every earlier
 * peak; steadily (no single step more than half of the rise: one big allocation is
 * not a leak); at least mem_growth_min_mb a minute and by mem_growth_frac of RSS now. A JVM (heap_kb: its maximum heap, 0 for
 * other processes) is judged so only once RSS is beyond its heap, a quarter more and
 * 64 MB: below that its heap is filling, by design. "suspect" when all that holds,
 * with no slowing down (each third of the rise at least 60% of the first), over a
 * third of that span and half those refreshes (20 s at the defaults: enough to put it
 * on the first screen, not to call it a leak); "ok" otherwise.
 * growth_mb_per_min gets the window's fitted slope (NAN when not known yet), the
 * rise's when it is a leak; reason gets "RSS +12.5 MB/min for 6m, now 812 MB", the
 * time counted from the window's last low. */
enum leak_verdict leak_judge_mem(const double *t, const double *rss_kb, size_t n, double window_s, uint64_t heap_kb,
				 const struct leak_params *p, double *growth_mb_per_min, char *reason,
				 size_t reason_size);

/* A JVM's maximum heap in kB from its command line (-Xmx, -XX:MaxHeapSize=,
 * -XX:MaxRAMPercentage= of phys_kb), or the JVM's default of a quarter of phys_kb
 * (0 when not known); 0 when the process is not a JVM (comm or argv[0] "java"). */
uint64_t leak_jvm_heap_kb(const char *comm, const char *cmdline, uint64_t phys_kb);

/* Whether the fds (a port: the sockets processes hold) grow: by fd_growth_min over
 * the window and since their low, steadily and to new highs all along (fd_going), for
 * churn_age_s or more. Only then do they have a time to exhaustion. */
bool leak_fd_growing(const struct leak_evidence *e, const struct leak_params *p);

/* A process's one verdict from its socket verdict and its memory verdict: a memory
 * leak outranks ok, churn and suspect, a memory suspect ok and churn, and the reason
 * then starts "memory: RSS ..."; with a socket leak too a memory leak's reason is
 * appended. reason is updated in place. */
enum leak_verdict leak_combine_mem(enum leak_verdict v, char *reason, size_t reason_size,
				   enum leak_verdict mem, const char *mem_reason);

/* Whether a count that rose at rate_per_min (before it stopped) has stalled: it has
 * stayed within tol of where it stopped for p->stall_s and p->stall_samples
 * refreshes, and for long enough that its old rate would have moved it by more than
 * twice tol. Growth and ETA then read flat. */
bool leak_stalled(double rate_per_min, double flat_s, unsigned flat_n, uint32_t tol, const struct leak_params *p);

/* The noise a count may move by and still stand still: 1 in 256, at least 1. */
uint32_t leak_noise(uint32_t v);

/* Whether a rise (since the low) came steadily: in two refreshes or more, none of
 * them more than half of it. One step is a pool warming up or a burst, not a leak. */
bool leak_steady(uint32_t rise, uint32_t max_step, unsigned rises);

/* "200ms", "14s", "14m", "2h05m", "3d04h" for a duration in seconds. buf holds 16. */
char *leak_format_duration(char *buf, size_t size, double secs);

#endif
