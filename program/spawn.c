/* The --alert-cmd runner: per transition, a watchdog process that starts the program
 * in a session of its own and kills its process group at the time limit; leaktop
 * reaps the watchdogs as they finish and never waits for one. */
#include "config.h"

#include "program/spawn.h"
#include "model/alert.h"
#include "model/text.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int spawn_time_limit_ms = 10000;

/* The watchdog's exit status when it killed the program, as timeout(1)'s. */
#define SPAWN_TIMED_OUT 124

struct spawn {
	struct {
		pid_t pid;      /* the watchdog */
		int64_t start;  /* ms, monotonic */
	} run[SPAWN_MAX_RUNNING];
	size_t n;
	bool quiet;             /* output to /dev/null */
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	spawn_reap(sp);
	free(sp); /* watchdogs still running go to init, their limits with them */
}

int spawn_reap(struct spawn *sp)
{
	int killed = 0;

	for (size_t i = 0; sp && i < sp->n;) {
		int status = 0;
		pid_t r;
		while ((r = waitpid(sp->run[i].pid, &status, WNOHANG)) == -1 && errno == EINTR)
			;
		if (r == 0) {
			i++;
			continue;
		}
		/* r < 0: reaped by someone else (SIGCHLD ignored): gone all the same. */
		killed += r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == SPAWN_TIMED_OUT &&
			  now_ms() - sp->run[i].start >= spawn_time_limit_ms;
		sp->run[i] = sp->run[--sp->n];
	}
	return killed;
}

size_t spawn_running(const struct spawn *sp)
{
	return sp ? sp->n : 0;
}

/* Close every fd from `from` up, but keep; close_range, or one by one up to max where
 * the kernel lacks it. */
static void close_all_but(int from, int keep, int max)
{
	if (keep < from) {
		if (!close_range((unsigned)from, ~0U, 0))
			return;
	} else if ((keep == from || !close_range((unsigned)from, (unsigned)keep - 1, 0)) &&
		   !close_range((unsigned)keep + 1, ~0U, 0)) {
		return;
	}
	for (int fd = from; fd < max; fd++)
		if (fd != keep)
			close(fd);
}

/* glibc keeps signals 32 and 33 for itself and its sigaction refuses them, yet one
 * that leaktop's parent ignored (GNU make ignores both) would stay ignored in the
 * program: set them through the system call. */
static void default_reserved_signals(void)
{
#if defined(SYS_rt_sigaction) && (defined(__x86_64__) || defined(__i386__) || defined(__aarch64__))
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} dfl = {SIG_DFL, 0, NULL, 0};
	for (int s = 32; s < 34; s++)
		syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof(dfl.mask));
#endif
}

/* The program, in the watchdog's child: a session of its own, fds 0-2 only, signals
 * at their defaults and unblocked. An exec failure's errno goes back through errfd.
 * After fork: async-signal-safe calls only (the dashboard has threads). */
static void __attribute__((noreturn)) run_program(const char *prog, char *const argv[], char *const envp[],
						  int errfd, bool quiet, int maxfd)
{
	sigset_t none;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	/* Above 2 first, so that setting up 0-2 overwrites none of them. */
	int e = fcntl(errfd, F_DUPFD_CLOEXEC, 3), n = null >= 0 ? fcntl(null, F_DUPFD_CLOEXEC, 3) : -1;
	int out = quiet ? n : fcntl(2, F_DUPFD_CLOEXEC, 3);

	setsid();
	default_reserved_signals();
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (out < 0)
		out = n;
	if (n >= 0)
		dup2(n, 0);
	if (out >= 0) {
		dup2(out, 1);
		dup2(out, 2);
	}
	close_all_but(3, e, maxfd); /* e is close-on-exec: it goes at the exec */
	execvpe(prog, argv, envp);
	int err = errno;
	if (e >= 0 && write(e, &err, sizeof(err)) < 0)
		_exit(127);
	_exit(127);
}

/* The watchdog, in leaktop's child: starts the program, waits for it at most the
 * limit, then kills its process group. Its exit status is the program's (128 + the
 * signal when one ended it) or SPAWN_TIMED_OUT. Async-signal-safe calls only. */
static void __attribute__((noreturn)) watchdog(const char *prog, char *const argv[], char *const envp[],
					       int errfd, bool quiet, int maxfd, int limit_ms)
{
	struct sigaction dfl = {.sa_handler = SIG_DFL};
	sigset_t chld;
	int status;

	/* Out of leaktop's session: Ctrl-C or a hangup there does not end the watchdog
	 * and leave the program without its limit. Named so, in ps and in leaktop. */
	setsid();
	prctl(PR_SET_NAME, "leaktop-alert", 0, 0, 0);
	for (int s = 1; s < NSIG; s++)
		sigaction(s, &dfl, NULL); /* SIGPIPE ignored, TTIN/TTOU in the dashboard */
	/* SIGCHLD held from before the fork, so the program's end cannot slip by
	 * between the fork and the wait. */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_SETMASK, &chld, NULL);
	pid_t pid = fork();
	if (pid == 0)
		run_program(prog, argv, envp, errfd, quiet, maxfd);
	if (pid < 0) {
		int err = errno;
		if (write(errfd, &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close_all_but(0, -1, maxfd); /* leaktop's pipe too: it reads EOF once the program execs */
	struct timespec t0, t;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid)
			_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
		clock_gettime(CLOCK_MONOTONIC, &t);
		int64_t left = limit_ms - ((int64_t)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0 || w < 0)
			break;
		struct timespec wait = {.tv_sec = left / 1000, .tv_nsec = (long)(left % 1000) * 1000000L};
		sigtimedwait(&chld, NULL, &wait);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	_exit(SPAWN_TIMED_OUT);
}

/* Start prog's watchdog; the exec's errno comes back through a CLOEXEC pipe, so a
 * missing program is an error here, not a silent exit 127. */
static int spawn_exec(struct spawn *sp, const char *prog, char **envp)
{
	char *argv[] = {(char *)prog, NULL};
	struct rlimit rl;
	int rc = 0, pipefd[2];
	int maxfd = getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur > 65536 ? 65536 : (int)rl.rlim_cur;
	int limit = spawn_time_limit_ms;

	if (pipe2(pipefd, O_CLOEXEC))
		return -errno;
	/* Before the fork: the watchdog's clock starts later, so a program it killed
	 * has always run the limit by this one. */
	int64_t start = now_ms();
	pid_t pid = fork();
	if (pid == 0)
		watchdog(prog, argv, envp, pipefd[1], sp->quiet, maxfd, limit);
	close(pipefd[1]);
	if (pid < 0) {
		rc = -errno;
	} else {
		int err;
		ssize_t got;
		/* The pipe closes when the program execs; an errno arrives when it failed. */
		while ((got = read(pipefd[0], &err, sizeof(err))) == -1 && errno == EINTR)
			;
		if (got == sizeof(err)) {
			rc = -err;
			/* The watchdog ends at once: its program has exited already. */
			while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
				;
		} else {
			sp->run[sp->n].pid = pid;
			sp->run[sp->n++].start = start;
		}
	}
	close(pipefd[0]);
	return rc;
}

static char *env_str(const char *name, const char *value)
{
	char *s;
	return asprintf(&s, "%s=%s", name, value) < 0 ? NULL : s;
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

	/* Room first: a stuck program is never waited for, the transition is skipped. */
	spawn_reap(sp);
	if (sp->n == SPAWN_MAX_RUNNING)
		return text_cause(cause, -EBUSY, "alert command %s not run: %d still run", prog, SPAWN_MAX_RUNNING);
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
	if (!rc)
		rc = spawn_exec(sp, prog, envp);
	for (size_t i = own; i < n; i++)
		free(envp[i]);
	free(envp);
	if (rc)
		return text_cause(cause, rc, "running alert command %s: %s", prog, strerror(-rc));
	return 0;
}
