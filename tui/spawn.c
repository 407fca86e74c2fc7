/* The --alert-cmd runner: fork and exec per transition, children reaped as they
 * finish, a bound on how many may run at once. */
#include "config.h"

#include "tui/spawn.h"
#include "model/alert.h"
#include "model/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define SPAWN_MAX_CHILDREN 64

struct spawn {
	pid_t children[SPAWN_MAX_CHILDREN];
	size_t nchildren;
	bool quiet;              /* output to /dev/null; never wait for a stuck program */
};

struct spawn *spawn_new(bool quiet)
{
	struct spawn *sp = calloc(1, sizeof(*sp));
	if (sp)
		sp->quiet = quiet;
	return sp;
}

void spawn_free(struct spawn *sp)
{
	if (!sp)
		return;
	spawn_reap(sp, false);
	free(sp);
}

void spawn_reap(struct spawn *sp, bool wait)
{
	for (size_t i = 0; i < sp->nchildren;) {
		pid_t r;
		while ((r = waitpid(sp->children[i], NULL, wait ? 0 : WNOHANG)) == -1 && errno == EINTR)
			;
		if (r == 0) {
			i++;
			continue;
		}
		sp->children[i] = sp->children[--sp->nchildren];
	}
}

static char *env_str(const char *name, const char *value)
{
	char *s;
	return asprintf(&s, "%s=%s", name, value) < 0 ? NULL : s;
}

/* fork and exec with envp; the child's exec errno comes back through a CLOEXEC
 * pipe, so a missing program is an error here, not a silent exit 127. */
static int spawn_exec(struct spawn *sp, const char *prog, char **envp)
{
	char *argv[] = {(char *)prog, NULL};
	int rc = 0, pipefd[2];

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null >= 0)
			dup2(null, 0);
		if (sp->quiet && null >= 0)
			dup2(null, 2);
		dup2(2, 1);
		execvpe(prog, argv, envp);
		int err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	if (pid < 0) {
		rc = -errno;
	} else {
		int err;
		ssize_t got;
		/* The pipe closes on a successful exec; an errno arrives when it failed. */
		while ((got = read(pipefd[0], &err, sizeof(err))) == -1 && errno == EINTR)
			;
		if (got == sizeof(err)) {
			rc = -err;
			while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
				;
		} else {
			sp->children[sp->nchildren++] = pid;
		}
	}
	close(pipefd[0]);
	return rc;
}

int spawn_alert(struct spawn *sp, const char *prog, const struct alert *e, char **cause)
{
	enum { NVARS = 11 };
	char num[NVARS][64];
	const char *vars[NVARS][2] = {
		{"LEAKTOP_ALERT", alert_kind_name(e->kind)},
		{"LEAKTOP_LEVEL", alert_level_name(e->level)},
		{"LEAKTOP_EVENT", e->level == ALERT_CLEAR ? "clear" : "fire"},
		{"LEAKTOP_PID", num[0]},
		{"LEAKTOP_START_TIME", num[1]},
		{"LEAKTOP_COMM", e->comm},
		{"LEAKTOP_PORT", num[2]},
		{"LEAKTOP_SIDE", e->port ? (e->side == SIDE_LOCAL ? "local" : "remote") : ""},
		{"LEAKTOP_VALUE", num[3]},
		{"LEAKTOP_THRESHOLD", num[4]},
		{"LEAKTOP_MESSAGE", e->message},
	};
	size_t nenv = 0, n = 0;
	int rc = 0;

	snprintf(num[0], sizeof(num[0]), "%d", e->pid);
	snprintf(num[1], sizeof(num[1]), "%llu", (unsigned long long)e->start_time);
	snprintf(num[2], sizeof(num[2]), "%u", e->port);
	snprintf(num[3], sizeof(num[3]), "%g", e->value);
	snprintf(num[4], sizeof(num[4]), "%g", e->threshold);
	if (!e->pid)
		num[0][0] = num[1][0] = '\0';
	if (!e->port)
		num[2][0] = '\0';

	/* The environment is built before fork: after it, only async-signal-safe calls. */
	while (environ[nenv])
		nenv++;
	char **envp = calloc(nenv + NVARS + 1, sizeof(*envp));
	if (!envp)
		return text_cause(cause, -ENOMEM, "running alert command %s: %s", prog, strerror(ENOMEM));
	for (size_t i = 0; i < nenv; i++)
		if (strncmp(environ[i], "LEAKTOP_", 8))
			envp[n++] = environ[i];
	size_t own = n;
	for (size_t i = 0; i < NVARS; i++)
		if (!(envp[n++] = env_str(vars[i][0], vars[i][1])))
			rc = -ENOMEM;
	if (!rc && sp->nchildren == SPAWN_MAX_CHILDREN) /* a stuck program: wait rather than pile up */
		spawn_reap(sp, !sp->quiet);
	if (!rc && sp->nchildren == SPAWN_MAX_CHILDREN)
		rc = -EBUSY; /* the dashboard must not freeze: skip this one */
	if (!rc)
		rc = spawn_exec(sp, prog, envp);
	for (size_t i = own; i < n; i++)
		free(envp[i]);
	free(envp);
	if (rc)
		return text_cause(cause, rc, "running alert command %s: %s", prog, strerror(-rc));
	return 0;
}
