/* What the reports ask of a recording, answered here so that no output writes SQL:
 * the span of its refreshes, a tick's time, the processes whose fd table grew, the
 * alerts and actions (with their thread dumps), and a process's or a port's values
 * refresh by refresh for a chart. The SQL is made from recording/schema's names,
 * like the reader's (recording/recread). db is a recording opened by recread_open
 * (every query then stops on stop_on's flags (sources/stop.h)) or the writer's (record_db).
 * On a failure a function returns -errno with SQLite's words in *cause ("database
 * disk image is malformed"): the caller says which file. */
#ifndef LEAKTOP_RECQUERY_H
#define LEAKTOP_RECQUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sqlite3;

/* The refreshes recorded: ticks and times of the first and the last (0 when none). */
struct recquery_span {
	int64_t first_tick, last_tick;
	double first_time, last_time;
	long refreshes;
};

/* Begin one read transaction (a recording still being written then reads as one
 * moment) and read its span. recquery_end ends it, whether this failed or not. */
int recquery_begin(struct sqlite3 *db, struct recquery_span *span, char **cause);
void recquery_end(struct sqlite3 *db);

/* The time of the latest refresh at or before tick; 0 when none or unreadable. */
double recquery_tick_time(struct sqlite3 *db, int64_t tick);

/* A process whose fd count grew from its first recorded change to its last at or
 * before the span's last tick. Text is NULL when the file has NULL; valid during
 * the call only. */
struct recquery_growth {
	int32_t pid;
	uint64_t start_time;
	const char *comm, *user, *cmdline;
	int64_t first_fds, last_fds;
	bool has_fd_limit;                 /* the latest fd_limit: NULL in the file, or */
	int64_t fd_limit;
	double first_time, last_time;      /* its first refresh, and its last (before it went) */
};

/* fn gets each process that grew, the largest growth first (then by pid), up to
 * last_tick in a file of format ver (SCHEMA_V); it returns 0 for the next, 1 to stop.
 * Returns 0 or -errno with *cause (the rows before the failure were given to fn). */
int recquery_fd_growth(struct sqlite3 *db, unsigned ver, int64_t last_tick,
		       int (*fn)(void *ctx, const struct recquery_growth *g), void *ctx, char **cause);

/* An alert or action as recorded. Text is NULL when the file has NULL; valid during
 * the call only, like the dump. */
struct recquery_event {
	double time;
	const char *kind;                  /* "alert", "action" */
	bool has_pid;                      /* pid is 0 when the file has NULL */
	int32_t pid;
	uint64_t start_time;
	const char *what, *result;
	const char *dump;                  /* RECQUERY_DUMPS: an action's thread dump, or NULL */
	size_t dump_len;                   /* (bytes; not NUL-terminated) */
};

enum recquery_flags {
	RECQUERY_DUMPS = 1,        /* with each action's thread dump (format 2.1 and later) */
	RECQUERY_UNTIL_DAMAGE = 2, /* a row that cannot be read ends the list, with no error:
				    * the events before it are what the file still tells */
};

/* fn gets each event in time order (then as written); it returns 0 for the next, 1
 * to stop. Returns 0 or -errno with *cause. */
int recquery_events(struct sqlite3 *db, unsigned flags, int (*fn)(void *ctx, const struct recquery_event *e),
		    void *ctx, char **cause);

/* A chart's series: one value per tick of ticks[n] (the refreshes, in order), each
 * the latest recorded at or before it, over the ticks the process (pid, start_time)
 * or the port was alive in; NAN elsewhere. col is a proc_change column (PROCCH_FDS,
 * PROCCH_FD_LIMIT, PROCCH_RSS_KB) or a port_change one (schema_state_col(ST_...)).
 * Returns how many ticks have a value, or -errno with *cause (the values read before
 * are in v); a row of the process or port that cannot be read ends them. */
int recquery_proc_series(struct sqlite3 *db, int32_t pid, uint64_t start_time, unsigned col, const int64_t *ticks,
			 size_t n, double *v, char **cause);
int recquery_port_series(struct sqlite3 *db, uint64_t netns, uint16_t port, unsigned side, unsigned proto,
			 unsigned col, const int64_t *ticks, size_t n, double *v, char **cause);

#endif
