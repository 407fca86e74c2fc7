/* Running --alert-cmd: one program per alert transition, without a shell, the
 * details in its environment, isolated like the restart command and time-limited.
 * Outside the model, which never starts processes. */
#ifndef LEAKTOP_SPAWN_H
#define LEAKTOP_SPAWN_H

#include <stdbool.h>
#include <stddef.h>

struct alert;
struct spawn;

/* How many programs may run at once: a transition past it is skipped, never waited for. */
#define SPAWN_MAX_RUNNING 64
/* How long a program may run before its process group gets SIGKILL (milliseconds;
 * tests shorten it). */
extern int spawn_time_limit_ms;

/* quiet (the dashboard, which owns the terminal): the programs' stdout and stderr go
 * to /dev/null; otherwise to leaktop's stderr, so batch output stays clean. NULL on
 * ENOMEM. */
struct spawn *spawn_new(bool quiet);
/* Reaps what has finished and returns at once: a program still running keeps its
 * time limit without leaktop (see spawn_alert). NULL is fine. */
void spawn_free(struct spawn *sp);

/* Run prog (found in PATH, no shell) for one transition with LEAKTOP_ALERT,
 * LEAKTOP_LEVEL, LEAKTOP_EVENT, LEAKTOP_PID, LEAKTOP_START_TIME, LEAKTOP_COMM,
 * LEAKTOP_PORT, LEAKTOP_SIDE, LEAKTOP_VALUE, LEAKTOP_THRESHOLD and LEAKTOP_MESSAGE
 * in its environment. It runs as the restart command does: a session of its own (no
 * controlling terminal, no signal from leaktop's), stdin /dev/null, only fds 0-2
 * open, every signal at its default and none blocked. A watchdog process of leaktop's
 * (its parent, in a session of its own too) sends SIGKILL to the program's process
 * group after spawn_time_limit_ms, whether or not leaktop still runs; leaktop never
 * waits for either. Returns 0 or -errno (*cause says why): -ENOENT and the like when
 * prog cannot be run, -EBUSY when SPAWN_MAX_RUNNING still run. */
int spawn_alert(struct spawn *sp, const char *prog, const struct alert *e, char **cause);

/* Reap what has finished, without waiting. Returns how many of those were killed at
 * the time limit. */
int spawn_reap(struct spawn *sp);

/* Programs started and not yet reaped. */
size_t spawn_running(const struct spawn *sp);

#endif
