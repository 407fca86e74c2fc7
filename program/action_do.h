/* A whole action on a process, as the dashboard runs it: checked, done, logged. Above
 * both the signals (program/actions.h) and the thread dump (program/tdump.h), since a
 * SIGQUIT is sent only through the thread dump's path. */
#ifndef LEAKTOP_ACTION_DO_H
#define LEAKTOP_ACTION_DO_H

#include <stddef.h>

struct action_log;
struct action_output;
struct action_restart;
struct proc_rec;

/* Check, send sig to p, log it. *line (malloc'd) gets the status-line summary,
 * success or not. SIGQUIT goes through tdump_do (program/tdump.h): it says whether the
 * process dumped, ignored it or terminated. Returns 0 or -errno. */
int action_do_signal(struct action_log *log, const struct proc_rec *p, int sig, char **line);
/* Check p is still the process in the snapshot, run r, log it. out gets the command's
 * output and status; *line the summary. Returns 0 when it ran and exited 0. */
int action_do_restart(struct action_log *log, const struct proc_rec *p, const struct action_restart *r,
		      struct action_output *out, char **line);

#endif
