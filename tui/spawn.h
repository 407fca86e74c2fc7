/* Running --alert-cmd: one program per alert transition, without a shell, the
 * details in its environment. Outside the model, which never starts processes. */
#ifndef LEAKTOP_SPAWN_H
#define LEAKTOP_SPAWN_H

#include <stdbool.h>

struct alert;
struct spawn;

/* quiet (the dashboard, which owns the terminal and must not freeze): the programs'
 * output goes to /dev/null, and with 64 of them still running a transition is
 * skipped (-EBUSY) instead of waited for. Otherwise their output goes to stderr, so
 * batch output stays clean. NULL on ENOMEM. */
struct spawn *spawn_new(bool quiet);
/* Reaps what has finished; children still running are left to init. NULL is fine. */
void spawn_free(struct spawn *sp);

/* Run prog (found in PATH, no shell) for one transition with LEAKTOP_ALERT,
 * LEAKTOP_LEVEL, LEAKTOP_EVENT, LEAKTOP_PID, LEAKTOP_START_TIME, LEAKTOP_COMM,
 * LEAKTOP_PORT, LEAKTOP_SIDE, LEAKTOP_VALUE, LEAKTOP_THRESHOLD and LEAKTOP_MESSAGE
 * in its environment. Returns 0 or -errno (*cause says why). */
int spawn_alert(struct spawn *sp, const char *prog, const struct alert *e, char **cause);

/* Reap finished children; with wait, wait for all of them. */
void spawn_reap(struct spawn *sp, bool wait);

#endif
