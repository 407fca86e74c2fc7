/* Signals, the checks and the action log (restarts: restart.c; a whole action: action_do.c).
 * Mid-incident a wrong pid is worse than no action, so every path re-checks the
 * process's identity (pid + start time) last. */
#include "config.h"

#include "program/actions.h"
#include "program/userfile.h"
#include "model/text.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PF_KTHREAD_FLAG 0x00200000u /* include/linux/sched.h */


bool action_no_pidfd;

/* --- signals --------------------------------------------------------------------- */

enum action_sig_index {
	ASIG_QUIT, ASIG_TERM, ASIG_KILL, ASIG_HUP, ASIG_INT, ASIG_USR1, ASIG_USR2,
	ASIG_CONT, ASIG_STOP, ASIG_TSTP, ASIG_ABRT, ASIG_ALRM, ASIG_WINCH, ASIG_PIPE,
	ASIG_TTIN, ASIG_TTOU, ASIG_COUNT
};

const struct action_sig action_sigs[] = {
	[ASIG_QUIT] = {.sig = SIGQUIT, .name = "QUIT", .what = "thread dump (JVM); core dump for most others"},
	[ASIG_TERM] = {.sig = SIGTERM, .name = "TERM", .what = "ask it to stop cleanly"},
	[ASIG_KILL] = {.sig = SIGKILL, .name = "KILL", .what = "stop it now, no cleanup"},
	[ASIG_HUP] = {.sig = SIGHUP, .name = "HUP", .what = "reload config / reopen logs (daemons)"},
	[ASIG_INT] = {.sig = SIGINT, .name = "INT", .what = "interrupt, like Ctrl-C"},
	[ASIG_USR1] = {.sig = SIGUSR1, .name = "USR1", .what = "program-defined"},
	[ASIG_USR2] = {.sig = SIGUSR2, .name = "USR2", .what = "program-defined"},
	[ASIG_CONT] = {.sig = SIGCONT, .name = "CONT", .what = "resume a stopped process"},
	[ASIG_STOP] = {.sig = SIGSTOP, .name = "STOP", .what = "freeze it (cannot be caught)"},
	[ASIG_TSTP] = {.sig = SIGTSTP, .name = "TSTP", .what = "stop, like Ctrl-Z"},
	[ASIG_ABRT] = {.sig = SIGABRT, .name = "ABRT", .what = "abort with a core dump"},
	[ASIG_ALRM] = {.sig = SIGALRM, .name = "ALRM", .what = "timer"},
	[ASIG_WINCH] = {.sig = SIGWINCH, .name = "WINCH", .what = "window size changed"},
	[ASIG_PIPE] = {.sig = SIGPIPE, .name = "PIPE", .what = "broken pipe"},
	[ASIG_TTIN] = {.sig = SIGTTIN, .name = "TTIN", .what = "background read from terminal"},
	[ASIG_TTOU] = {.sig = SIGTTOU, .name = "TTOU", .what = "background write to terminal"},
};
_Static_assert(ARRAY_SIZE(action_sigs) == ASIG_COUNT, "one entry per signal index");
const size_t action_nsigs = ARRAY_SIZE(action_sigs);

const char *action_sig_name(int sig)
{
	static char names[ASIG_COUNT][16];
	static char other[32];

	for (size_t i = 0; i < ASIG_COUNT; i++)
		if (action_sigs[i].sig == sig) {
			if (!names[i][0])
				snprintf(names[i], sizeof(names[i]), "SIG%s", action_sigs[i].name);
			return names[i];
		}
	snprintf(other, sizeof(other), "signal %d", sig);
	return other;
}

int action_proc_stat(int32_t pid, uint64_t *start_time, int32_t *ppid, uint32_t *flags)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0) {
		int e = -errno;
		close(fd);
		return e == -ESRCH ? -ENOENT : e;
	}
	close(fd);
	buf[n] = '\0';
	/* The comm may hold spaces and ')': fields count from the last ')'. */
	const char *s = strrchr(buf, ')');
	if (!s)
		return -EINVAL;
	s++;
	for (int field = 3; field <= 22; field++) {
		char *end;
		unsigned long long v;

		while (*s == ' ')
			s++;
		if (!*s)
			return -EINVAL;
		v = strtoull(s, &end, 10);
		if (field == 4 && ppid)
			*ppid = (int32_t)v;
		else if (field == 9 && flags)
			*flags = (uint32_t)v;
		else if (field == 22 && start_time)
			*start_time = v;
		while (*s && *s != ' ')
			s++;
	}
	return 0;
}

/* The refusals that need no /proc: by pid. */
static int check_pid(int32_t pid, char **cause)
{
	if (pid <= 0) {
		text_cause(cause, 0, "refused: %d is not a process id", (int)pid);
		return -EINVAL;
	}
	if (pid == 1) {
		text_cause(cause, 0, "refused: pid 1 is init; signalling or restarting it can take the whole system down");
		return -EPERM;
	}
	if (pid == (int32_t)getpid()) {
		text_cause(cause, 0, "refused: pid %d is leaktop itself", (int)pid);
		return -EPERM;
	}
	if (pid == 2) {
		text_cause(cause, 0, "refused: pid 2 is kthreadd, the kernel's thread spawner");
		return -EPERM;
	}
	return 0;
}

static int refuse_kthread(int32_t pid, char **cause)
{
	text_cause(cause, 0, "refused: pid %d is a kernel thread; it has no stack to dump and cannot be restarted",
		  (int)pid);
	return -EPERM;
}

int action_check_target(const struct proc_rec *p, char **cause)
{
	int rc = check_pid(p->pid, cause);

	if (rc)
		return rc;
	if ((p->flags & PROC_KTHREAD) || p->ppid == 2)
		return refuse_kthread(p->pid, cause);
	return 0;
}

int action_check_identity(int32_t pid, uint64_t start_time, char **cause)
{
	uint64_t now = 0;
	int32_t ppid = 0;
	uint32_t flags = 0;
	int rc = action_proc_stat(pid, &now, &ppid, &flags);

	if (rc == -ENOENT || rc == -ESRCH) {
		text_cause(cause, 0, "pid %d has exited since the snapshot; nothing was done", (int)pid);
		return -ESRCH;
	}
	if (rc) {
		text_cause(cause, 0, "cannot read /proc/%d/stat: %s; nothing was done", (int)pid, strerror(-rc));
		return rc;
	}
	if ((flags & PF_KTHREAD_FLAG) || ppid == 2)
		return refuse_kthread(pid, cause);
	if (now != start_time) {
		text_cause(cause, 0,
			  "refused: pid %d is no longer the process you selected: it exited and the pid was "
			  "reused (start tick %llu, now %llu); nothing was done",
			  (int)pid, (unsigned long long)start_time, (unsigned long long)now);
		return -ESTALE;
	}
	return 0;
}

static int sent_error(int32_t pid, int sig, int err, char **cause)
{
	if (err == -EPERM)
		text_cause(cause, 0, "permission denied: cannot send %s to pid %d (another user's process; "
			  "run leaktop as that user or as root)", action_sig_name(sig), (int)pid);
	else if (err == -ESRCH)
		text_cause(cause, 0, "pid %d exited before %s reached it", (int)pid, action_sig_name(sig));
	else
		text_cause(cause, 0, "sending %s to pid %d: %s", action_sig_name(sig), (int)pid, strerror(-err));
	return err;
}

static int pidfd_open_sys(int32_t pid)
{
#ifdef SYS_pidfd_open
	if (!action_no_pidfd)
		return (int)syscall(SYS_pidfd_open, (pid_t)pid, 0u);
#endif
	errno = ENOSYS;
	return -1;
}

int action_signal(int32_t pid, uint64_t start_time, int sig, char **cause)
{
	int rc = check_pid(pid, cause);
	int pidfd;

	if (rc)
		return rc;
	pidfd = pidfd_open_sys(pid);
	if (pidfd < 0 && errno == ESRCH) {
		text_cause(cause, 0, "pid %d has exited since the snapshot; nothing was sent", (int)pid);
		return -ESRCH;
	}
	if (pidfd < 0 && errno == EINVAL) {
		text_cause(cause, 0, "refused: %d is a thread, not a process", (int)pid);
		return -EINVAL;
	}
	if (pidfd < 0 && errno != ENOSYS) {
		rc = -errno;
		text_cause(cause, 0, "pidfd_open(%d): %s; nothing was sent", (int)pid, strerror(-rc));
		return rc;
	}
	/* With the pidfd held, a start time that still matches proves the pidfd is the
	 * process from the snapshot: that process existed before the pidfd was opened. */
	if ((rc = action_check_identity(pid, start_time, cause)))
		goto out;
#ifdef SYS_pidfd_send_signal
	if (pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0u) < 0)
			rc = sent_error(pid, sig, -errno, cause);
		goto out;
	}
#endif
	/* No pidfds: the check above was the last moment before kill(). */
	if (kill((pid_t)pid, sig) < 0)
		rc = sent_error(pid, sig, -errno, cause);
out:
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

void action_describe(const struct proc_rec *p, double boot_time, long clk_tck, char *buf, size_t size)
{
	char when[32] = "?";
	double start = boot_time + (double)p->start_time / (double)(clk_tck > 0 ? clk_tck : 100);
	struct tm ts, tn;

	if (boot_time > 0 && text_tm(start, false, &ts) && text_tm((double)time(NULL), false, &tn))
		strftime(when, sizeof(when),
			 ts.tm_year == tn.tm_year && ts.tm_yday == tn.tm_yday ? "%H:%M:%S" : "%Y-%m-%d %H:%M:%S", &ts);
	/* comm and user were escaped when the snapshot was taken. */
	snprintf(buf, size, "pid %d %s %s, started %s", (int)p->pid, p->user[0] ? p->user : "?", p->comm, when);
}

/* One fd's destination, described for a person. link is the readlink result. */
static void describe_fd(const char *link, const char *unit, char *buf, size_t size)
{
	static const char deleted[] = " (deleted)";
	size_t len = strlen(link);

	if (!strcmp(link, "/dev/null"))
		snprintf(buf, size, "/dev/null: it was lost");
	else if (!strncmp(link, "/dev/pts/", 9) || !strncmp(link, "/dev/tty", 8) || !strcmp(link, "/dev/console"))
		snprintf(buf, size, "the terminal %s", link);
	else if (!strncmp(link, "socket:[", 8) && unit && *unit)
		snprintf(buf, size, "the journal (journalctl -u %s)", unit);
	else if (!strncmp(link, "socket:[", 8))
		snprintf(buf, size, "a socket, %s (whoever reads it has it)", link);
	else if (!strncmp(link, "pipe:[", 6))
		snprintf(buf, size, "a pipe, %s (whoever reads it has it)", link);
	else if (len > sizeof(deleted) - 1 && !strcmp(link + len - (sizeof(deleted) - 1), deleted))
		snprintf(buf, size, "%.*s, a file since deleted", (int)(len - (sizeof(deleted) - 1)), link);
	else
		snprintf(buf, size, "%s", link);
}

static void fd_dest(int32_t pid, int fd, const char *unit, char *buf, size_t size)
{
	char path[64], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		if (errno == ENOENT)
			snprintf(buf, size, "nowhere (fd %d is closed, or the process exited)", fd);
		else
			snprintf(buf, size, "unknown (%s: %s)", path, strerror(errno));
		return;
	}
	link[n] = '\0';
	describe_fd(link, unit, buf, size);
}

void action_dump_dest(int32_t pid, const char *unit, char *buf, size_t size)
{
	char out[PATH_MAX + 64], err[PATH_MAX + 64], raw[2 * sizeof(out) + 64];

	fd_dest(pid, 1, unit, out, sizeof(out));
	fd_dest(pid, 2, unit, err, sizeof(err));
	if (!strcmp(out, err))
		snprintf(raw, sizeof(raw), "the dump went to %s", out);
	else
		snprintf(raw, sizeof(raw), "the dump went to %s (stderr: %s)", out, err);
	/* File names are the process's doing: escape before they reach a terminal. */
	text_escape(buf, size, raw, strlen(raw));
}

/* --- the action log ---------------------------------------------------------------- */

struct action_log {
	int fd;                  /* -1 when nothing is written */
	char *path;
	char user[160];
	void (*hook)(void *ctx, const struct action_event *ev);
	void *hook_ctx;
};

static void who_am_i(char *buf, size_t size)
{
	/* getpwuid_r: the refresh thread's libproc2 calls getpwuid (for USER) while the
	 * dashboard opens the action log, and both would write getpwuid's one buffer. */
	struct passwd pwbuf, *pw = NULL;
	char tmp[4096];
	const char *sudo = getenv("SUDO_USER");
	char name[64], by[64];

	if (getpwuid_r(geteuid(), &pwbuf, tmp, sizeof(tmp), &pw) != 0)
		pw = NULL;
	if (pw)
		text_escape(name, sizeof(name), pw->pw_name, strlen(pw->pw_name));
	else
		snprintf(name, sizeof(name), "uid %u", (unsigned)geteuid());
	if (sudo && *sudo) {
		text_escape(by, sizeof(by), sudo, strlen(sudo));
		snprintf(buf, size, "%s (sudo by %s)", name, by);
	} else {
		snprintf(buf, size, "%s", name);
	}
}

struct action_log *action_log_open(const char *path, char **cause)
{
	struct action_log *log = calloc(1, sizeof(*log));
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char def[PATH_MAX];
	int rc;

	if (!log)
		return NULL;
	log->fd = -1;
	who_am_i(log->user, sizeof(log->user));
	if (!path) {
		if (xdg && xdg[0] == '/')
			snprintf(def, sizeof(def), "%s/leaktop/actions.log", xdg);
		else if (home && home[0] == '/')
			snprintf(def, sizeof(def), "%s/.local/state/leaktop/actions.log", home);
		else {
			text_cause(cause, 0, "actions are not logged to a file: neither XDG_STATE_HOME nor HOME is set");
			return log;
		}
		path = def;
	}
	/* As root, under a HOME someone else may own: through no symlinked folder. */
	char dir[PATH_MAX], *why = NULL;
	const char *base;
	int dfd = userfile_open_folder(path, dir, sizeof(dir), &base, &why);
	rc = dfd < 0 ? dfd : 0;
	if (!rc && (log->fd = openat(dfd, base, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY,
				     0600)) < 0)
		rc = -errno;
	if (dfd >= 0)
		close(dfd);
	if (rc) {
		log->fd = -1;
		if (why)
			text_cause(cause, 0, "actions are not logged to a file: %s", why);
		else
			text_cause(cause, 0, "actions are not logged to a file: %s: %s", path, strerror(-rc));
		free(why);
		return log;
	}
	if (!(log->path = strdup(path))) {
		close(log->fd);
		log->fd = -1;
	}
	return log;
}

void action_log_free(struct action_log *log)
{
	if (!log)
		return;
	if (log->fd >= 0)
		close(log->fd);
	free(log->path);
	free(log);
}

const char *action_log_path(const struct action_log *log)
{
	return log && log->fd >= 0 ? log->path : NULL;
}

void action_log_set_hook(struct action_log *log, void (*hook)(void *ctx, const struct action_event *ev),
			 void *ctx)
{
	log->hook = hook;
	log->hook_ctx = ctx;
}

int action_log_write(struct action_log *log, const struct action_event *ev, char **line)
{
	char stamp[32], raw[2048], safe[4096];
	struct tm tm;
	int rc = 0;

	if (!text_tm(ev->time, true, &tm) || !strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm))
		strcpy(stamp, "?");
	snprintf(raw, sizeof(raw), "%s pid %d (%s, start %llu): %s: %s", ev->action, (int)ev->pid, ev->comm,
		 (unsigned long long)ev->start_time, ev->result ? "FAILED" : "ok", ev->detail ? ev->detail : "");
	/* Every field may come from a process or a config file: one line, no controls.
	 * The fields are escaped already: backslashes pass as they are, not doubled. */
	text_escape_controls(safe, sizeof(safe), raw, strlen(raw));
	if (log && log->fd >= 0) {
		char rec[sizeof(safe) + 256];
		int n = snprintf(rec, sizeof(rec), "%s user=%s %s\n", stamp, log->user, safe);
		if (n > (int)sizeof(rec) - 1) {
			n = (int)sizeof(rec) - 1;
			rec[n - 1] = '\n';
		}
		ssize_t w = write(log->fd, rec, (size_t)n);
		if (w != n)
			rc = w < 0 ? -errno : -EIO;
	}
	if (log && log->hook) {
		struct action_event e = *ev;
		e.user = log->user;
		log->hook(log->hook_ctx, &e);
	}
	if (line)
		*line = strdup(safe);
	return rc;
}
