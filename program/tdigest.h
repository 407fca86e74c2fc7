/* The digest of a Java thread dump: threads grouped by the first frame of the
 * application (the first outside the JDK and well-known libraries), and the threads
 * waiting to lease a pooled connection called out with the application code that
 * asked for it. The dashboard's dump viewer and both handover reports show it. */
#ifndef LEAKTOP_TDIGEST_H
#define LEAKTOP_TDIGEST_H

#include <stdbool.h>
#include <stddef.h>

#define TDIGEST_LINE 256
#define TDIGEST_FRAME 160
#define TDIGEST_STATES 8

/* Threads in one place: the same state, the same application frame (or, for threads
 * with none, the same top library frame), the same wait. */
struct tdigest_group {
	size_t threads;
	char state[24];                 /* "WAITING", "" when the dump gave none */
	int wait;                       /* tdigest_waits[] index, -1 when none */
	bool app;                       /* at is application code */
	char at[TDIGEST_FRAME];         /* "PoolWait.fetch:38", or the top library frame */
	char from[TDIGEST_FRAME];       /* the application frame that called at, or "" */
	char wait_frame[TDIGEST_FRAME]; /* "AbstractConnPool.getPoolEntryBlocking:391" */
	const char *lib;                /* at's library when !app ("Jetty", "JDK"), or NULL */
	char names[160];                /* "main", "qtp1-13, qtp1-15 and 18 more" (raw) */
	char holder[160];               /* BLOCKED: the thread holding the lock, or "" */
	size_t first;                   /* its first thread's place in the dump */
};

struct tdigest {
	size_t threads;
	size_t skipped;                 /* counted, not read: beyond the bound */
	size_t nstates;
	struct {
		char state[24];
		size_t threads;
	} states[TDIGEST_STATES];       /* by count, biggest first */
	struct tdigest_group *groups;   /* pool waits first, then application code,
					 * then library-only places; biggest first */
	size_t ngroups;
};

/* What a thread can be stuck waiting for, recognised by a frame of the library that
 * makes it wait: "a pooled connection" (HttpClient 4 and 5, Hikari, commons-pool2 as
 * in DBCP2 and Jedis, c3p0, Tomcat's JDBC pool), "a response" (Jetty's client). */
struct tdigest_wait {
	const char *frame;              /* a substring of "package.Class.method" */
	const char *lib;
	const char *what;               /* "a pooled connection" */
	bool pool;
};
extern const struct tdigest_wait tdigest_waits[];
extern const size_t tdigest_nwaits;

/* Parse len bytes of dump. Returns 0 (d->threads may be 0: no Java thread in it) or
 * -ENOMEM. */
int tdigest_parse(const char *dump, size_t len, struct tdigest *d);
void tdigest_release(struct tdigest *d);

/* The digest as lines, at most max (raw: escape them for the output):
 *   "11 threads: 6 RUNNABLE, 2 WAITING, 1 TIMED_WAITING, 2 with no state"
 *   "1 thread WAITING for a pooled connection (HttpClient 4: AbstractConnPool.
 *    getPoolEntryBlocking:391) asked by PoolWait.fetch:38, called from
 *    PoolWait.main:77: main"
 *   "8 threads BLOCKED at Blocked.handle:8 on a lock held by main: worker-0, ..."
 *   "20 threads TIMED_WAITING in Jetty code only, at BlockingArrayQueue.poll:382: ..."
 * and "N more threads in M other places" when they do not all fit. */
size_t tdigest_lines(const struct tdigest *d, size_t len, char lines[][TDIGEST_LINE], size_t max);

/* One group as a line (the form above). */
void tdigest_group_line(const struct tdigest_group *g, char *buf, size_t n);

/* The dump with its digest before it, for a viewer: "Digest (the dump follows):",
 * the lines above as "- ...", a blank line, then the dump. malloc'd, *outlen set;
 * NULL when out of memory. */
char *tdigest_prepend(const char *dump, size_t len, size_t *outlen);

#endif
