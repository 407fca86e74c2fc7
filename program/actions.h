/* Actions on a process from the dashboard: signals (thread dump = SIGQUIT), restart,
 * and the log of every action. Pure logic, no curses: the panes only ask and show. */
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

/* --- restart ----------------------------------------------------------------------- */

/* Looks a config key up ("restart.java"); NULL when absent. model/config plugs in. */
typedef const char *(*action_lookup_fn)(void *ctx, const char *key);

/* Split a configured command into argv, without a shell. Rules:
 *  - words are separated by spaces and tabs;
 *  - '...' groups everything up to the next ' literally;
 *  - "..." groups too; inside it \" and \\ stand for " and \, any other \ is literal;
 *  - outside quotes, \ makes the next character literal;
 *  - quoted and unquoted parts next to each other form one word (a"b c"d is "ab cd");
 *  - nothing else is special: ; | & $ ( ) ` * ~ < > stay literal characters.
 * Returns 0 with a NULL-terminated *argv (free with action_argv_free), or -EINVAL
 * with *cause for an empty command or an unterminated quote. */
int action_split_argv(const char *cmd, char ***argv, char **cause);
void action_argv_free(char **argv);
/* argv as one line a person can read and paste into a shell: words that need it are
 * single-quoted, control characters escaped. Always NUL-terminates. */
void action_argv_format(char *const argv[], char *buf, size_t size);

struct action_restart {
	char **argv;             /* what will run, NULL-terminated */
	bool systemd;            /* systemctl restart UNIT */
	char shown[512];         /* argv formatted for the confirmation prompt */
};

/* The service unit to restart for a process in cgroup (the text of /proc/PID/cgroup):
 * the innermost unit of its path (a user unit below user@UID.service, not the user
 * manager), when it is a .service of ordinary characters. 0 with *u; -ENOENT when
 * the path names no unit (no systemd); -EPERM with *why when it names one systemctl
 * cannot or should not restart: a scope (a login session, a container), the user
 * manager itself, a name with odd characters. */
struct action_unit {
	char unit[PROC_UNIT_MAX]; /* "leaky.service" */
	bool user_unit;           /* under user@UID.service: systemctl --user -M UID@ */
	uint32_t uid;
};
int action_restart_unit(const char *cgroup, struct action_unit *u, char **why);

/* How p restarts: "systemctl restart UNIT" when p runs in a systemd .service (read
 * from proc_root/PID/cgroup now, NULL for /proc; "systemctl --user -M UID@ restart
 * UNIT" for a user's unit), else the command configured as "restart.COMM = ..." (COMM
 * is p->comm), else -ENOENT with *cause saying why there is no unit, naming the
 * config file (conf_path; NULL: the default one; "": none is read, --no-config) and
 * the exact line to add. -ESRCH when the process has exited. */
int action_restart_resolve(const struct proc_rec *p, const char *proc_root, action_lookup_fn lookup, void *ctx,
			   const char *conf_path, struct action_restart *r, char **cause);
void action_restart_release(struct action_restart *r);

/* "~/.config/leaktop/leaktop.conf" spelled out: $XDG_CONFIG_HOME or $HOME. */
void action_config_path(char *buf, size_t size);

#define ACTION_OUTPUT_MAX (64 * 1024)
#define ACTION_TIMEOUT_MS (30 * 1000)

struct action_output {
	char *buf;               /* stdout and stderr, interleaved, raw bytes, NUL-terminated:
				  * escape each line before it reaches the terminal */
	size_t len;
	bool truncated;          /* more than ACTION_OUTPUT_MAX was written */
	bool timed_out;          /* killed after the timeout */
	int status;              /* as from waitpid */
};

/* Run argv (execvp, no shell) with stdin from /dev/null, stdout and stderr into
 * out->buf, in a new session (no controlling terminal, none of leaktop's fds), and
 * SIGKILL it after timeout_ms. Blocks until it exits. Returns 0 when it ran (whatever
 * its exit status), -errno with *cause when it could not start. */
int action_run(char *const argv[], int timeout_ms, struct action_output *out, char **cause);
void action_output_release(struct action_output *out);
/* "exit 0", "exit 3", "killed by SIGSEGV", "timed out after 30 s, killed". */
void action_status_text(const struct action_output *out, int timeout_ms, char *buf, size_t size);

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

/* --- the whole action, as the dashboard runs it -------------------------------------- */

/* Check, send sig to p, log it. *line (malloc'd) gets the status-line summary,
 * success or not. SIGQUIT goes through tdump_do (program/tdump.h): it says whether the
 * process dumped, ignored it or terminated. Returns 0 or -errno. */
int action_do_signal(struct action_log *log, const struct proc_rec *p, int sig, char **line);
/* Check p is still the process in the snapshot, run r, log it. out gets the command's
 * output and status; *line the summary. Returns 0 when it ran and exited 0. */
int action_do_restart(struct action_log *log, const struct proc_rec *p, const struct action_restart *r,
		      struct action_output *out, char **line);

#endif
