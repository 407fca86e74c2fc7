/* Restarting a process: the command it restarts with (its systemd unit, or one
 * configured), split and run without a shell, its output kept. Checks and the log are
 * program/actions.h's; the whole action is action_do_restart (program/action_do.h). */
#ifndef LEAKTOP_RESTART_H
#define LEAKTOP_RESTART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/snapshot.h"

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

#endif
