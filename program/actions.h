/* Actions on a process from the dashboard, the parts every action shares: the checks
 * (what must never be touched, is it still the same process), signals and the log of
 * every action. Restarts: program/restart.h; a whole action: program/action_do.h. */
#ifndef LEAKTOP_ACTIONS_H
#define LEAKTOP_ACTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/snapshot.h"

/* --- signals --------------------------------------------------------------------- */

struct action_sig {
	int sig;
	const char *name;        /* "QUIT" (without "SIG") */
	const char *what;        /* why an engineer sends it, for the menu */
};

/* The signal menu, in menu order: QUIT first (a JVM prints every thread's stack),
 * then TERM, KILL, HUP, INT, USR1, USR2 and the rest. */
extern const struct action_sig action_sigs[];
extern const size_t action_nsigs;
/* "SIGQUIT", or "signal 42" for one not in the table (static storage). */
const char *action_sig_name(int sig);

/* Refuse what must never be signalled or restarted, judging from the snapshot's
 * record: pid 1, leaktop itself, kernel threads. Returns 0, or -EPERM with *cause. */
int action_check_target(const struct proc_rec *p, char **cause);

/* Send sig to pid, but only if it is still the process that started at start_time
 * (/proc/PID/stat field 22, as in the snapshot). A pidfd is opened first and the
 * start time read after it, so a pid reused in between is caught and nothing is sent;
 * without pidfds (ENOSYS) the start time is checked right before kill(). Refuses pid
 * 1, leaktop itself and kernel threads. Returns 0 or -errno: -ESTALE when the pid now
 * belongs to another process, -ESRCH when it exited, -EPERM when refused or not
 * permitted; *cause says which. */
int action_signal(int32_t pid, uint64_t start_time, int sig, char **cause);

/* Tests set this to take the kill() path that kernels without pidfds take. */
extern bool action_no_pidfd;

/* Read /proc/PID/stat: start time (field 22), ppid, flags (field 9). 0 or -errno. */
int action_proc_stat(int32_t pid, uint64_t *start_time, int32_t *ppid, uint32_t *flags);

/* Who and what p is, for a confirmation prompt: "pid 1234 alice java, started
 * 10:03:12" (the date too when it did not start today; local time). boot_time is
 * the unix time of boot, clk_tck sysconf(_SC_CLK_TCK). Escaped already. */
void action_describe(const struct proc_rec *p, double boot_time, long clk_tck, char *buf, size_t size);

/* Where a thread dump went: what fds 1 and 2 of pid point at, as one escaped
 * sentence for the status line ("the dump went to /var/log/app.log", "... the journal
 * (journalctl -u foo.service)", "... /dev/null: it was lost"). unit may be "". */
void action_dump_dest(int32_t pid, const char *unit, char *buf, size_t size);

/* Is pid still the process that started at start_time? 0, or -errno with *cause.
 * Every action re-checks it last, just before it acts. */
int action_check_identity(int32_t pid, uint64_t start_time, char **cause);

/* --- the action log ---------------------------------------------------------------- */

/* One action, for the log file, the status line and the recording. */
struct action_event {
	double time;             /* unix seconds */
	const char *user;        /* who ran leaktop ("root", "root (sudo by alice)") */
	int32_t pid;
	uint64_t start_time;
	const char *comm;        /* escaped, from the snapshot */
	const char *action;      /* "SIGQUIT", "restart: systemctl restart foo.service" */
	int result;              /* 0 or -errno */
	const char *detail;      /* what happened, escaped: "delivered; the dump went to ..." */
	const char *dump;        /* SIGQUIT: the thread dump read back (raw bytes), or NULL */
	size_t dump_len;
};

struct action_log;

/* Open the log: path, or when NULL $XDG_STATE_HOME/leaktop/actions.log, else
 * ~/.local/state/leaktop/actions.log (directories created 0700, the file 0600,
 * appended). Never fails for want of a file: without one (HOME unset, read-only)
 * actions still happen and reach the hook, and *cause (may be NULL) says why nothing
 * is written. Returns NULL only when out of memory. */
struct action_log *action_log_open(const char *path, char **cause);
void action_log_free(struct action_log *log);
/* The file written, or NULL. */
const char *action_log_path(const struct action_log *log);
/* Also hand every event to hook (the session recording: record_event). */
void action_log_set_hook(struct action_log *log, void (*hook)(void *ctx, const struct action_event *ev),
			 void *ctx);
/* Write ev to the file and the hook; *line (may be NULL; malloc'd) gets the one-line
 * summary for the status area. log may be NULL. Returns 0 or -errno of the write. */
int action_log_write(struct action_log *log, const struct action_event *ev, char **line);

#endif
