/* A whole action on a process: checked, done and logged; a SIGQUIT only through the
 * thread dump's path (tdump_do), which says whether the process dumped. */
#include "config.h"

#include "program/action_do.h"
#include "program/actions.h"
#include "program/restart.h"
#include "program/tdump.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

static double now_unix(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int action_do_signal(struct action_log *log, const struct proc_rec *p, int sig, char **line)
{
	char *cause = NULL, detail[1024];
	int rc;

	if (sig == SIGQUIT)
		return tdump_do(log, p, line, NULL, NULL);
	if (!(rc = action_check_target(p, &cause)))
		rc = action_signal(p->pid, p->start_time, sig, &cause);
	if (rc) {
		snprintf(detail, sizeof(detail), "%s", cause ? cause : strerror(-rc));
	} else {
		snprintf(detail, sizeof(detail), "sent");
	}
	free(cause);
	struct action_event ev = {
		.time = now_unix(),
		.pid = p->pid,
		.start_time = p->start_time,
		.comm = p->comm,
		.action = action_sig_name(sig),
		.result = rc,
		.detail = detail,
	};
	action_log_write(log, &ev, line);
	return rc;
}

int action_do_restart(struct action_log *log, const struct proc_rec *p, const struct action_restart *r,
		      struct action_output *out, char **line)
{
	char *cause = NULL, detail[1024], what[600], status[64];
	int rc = action_check_target(p, &cause);

	memset(out, 0, sizeof(*out));
	if (!rc)
		rc = action_check_identity(p->pid, p->start_time, &cause);
	if (!rc)
		rc = action_run(r->argv, ACTION_TIMEOUT_MS, out, &cause);
	if (rc) {
		snprintf(detail, sizeof(detail), "%s", cause ? cause : strerror(-rc));
	} else {
		/* The last line of output usually says what went wrong, if anything did. */
		const char *last = out->buf, *end = out->buf + out->len;
		while (end > out->buf && (end[-1] == '\n' || end[-1] == '\r'))
			end--;
		for (const char *c = out->buf; c < end; c++)
			if (*c == '\n')
				last = c + 1;
		action_status_text(out, ACTION_TIMEOUT_MS, status, sizeof(status));
		snprintf(detail, sizeof(detail), "%s%s%.*s", status, end > last ? ": " : "",
			 (int)(end - last > 200 ? 200 : end - last), last);
		if (out->timed_out || !WIFEXITED(out->status) || WEXITSTATUS(out->status))
			rc = -ECANCELED;
	}
	free(cause);
	snprintf(what, sizeof(what), "restart: %s", r->shown);
	struct action_event ev = {
		.time = now_unix(),
		.pid = p->pid,
		.start_time = p->start_time,
		.comm = p->comm,
		.action = what,
		.result = rc,
		.detail = detail,
	};
	action_log_write(log, &ev, line);
	return rc;
}
