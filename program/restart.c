/* Restarts: the command from the config (its words split and shown as a shell would
 * read them) and running it without a shell, bounded in time and output. */
#include "config.h"

#include "program/restart.h"
#include "program/actions.h"
#include "model/text.h"
#include "sources/procscan.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

void action_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

int action_split_argv(const char *cmd, char ***argvp, char **cause)
{
	size_t len = strlen(cmd), n = 0;
	char **argv = calloc(len / 2 + 2, sizeof(*argv)); /* at most one word per 2 chars */
	char *word = malloc(len + 1);
	const char *s = cmd;

	*argvp = NULL;
	if (!argv || !word)
		goto nomem;
	while (*s) {
		size_t w = 0;
		bool have = false;

		while (*s == ' ' || *s == '\t')
			s++;
		while (*s && *s != ' ' && *s != '\t') {
			have = true;
			if (*s == '\'') {
				const char *end = strchr(s + 1, '\'');
				if (!end) {
					text_cause(cause, 0, "unterminated ' in the command: %s", cmd);
					goto bad;
				}
				memcpy(word + w, s + 1, (size_t)(end - s - 1));
				w += (size_t)(end - s - 1);
				s = end + 1;
			} else if (*s == '"') {
				for (s++; *s && *s != '"'; s++) {
					if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
						s++;
					word[w++] = *s;
				}
				if (!*s) {
					text_cause(cause, 0, "unterminated \" in the command: %s", cmd);
					goto bad;
				}
				s++;
			} else if (*s == '\\' && s[1]) {
				word[w++] = s[1];
				s += 2;
			} else {
				word[w++] = *s++;
			}
		}
		if (!have)
			break;
		word[w] = '\0';
		if (!(argv[n] = strdup(word)))
			goto nomem;
		n++;
	}
	free(word);
	if (n == 0) {
		text_cause(cause, 0, "the command is empty");
		free(argv);
		return -EINVAL;
	}
	*argvp = argv;
	return 0;
nomem:
	free(word);
	action_argv_free(argv);
	text_cause(cause, 0, "out of memory");
	return -ENOMEM;
bad:
	free(word);
	action_argv_free(argv);
	return -EINVAL;
}

void action_argv_format(char *const argv[], char *buf, size_t size)
{
	char *raw = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&raw, &len);

	if (!f) {
		snprintf(buf, size, "?");
		return;
	}
	for (size_t i = 0; argv[i]; i++) {
		const char *a = argv[i];
		bool plain = *a != '\0';

		for (const char *c = a; *c; c++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *c))
				plain = false;
		if (i)
			fputc(' ', f);
		if (plain) {
			fputs(a, f);
			continue;
		}
		/* Single quotes, a ' inside as '"'"': no backslash, which the escaper
		 * would double, so the line shown pastes back into a shell. */
		fputc('\'', f);
		for (const char *c = a; *c; c++)
			fputs(*c == '\'' ? "'\"'\"'" : (char[2]){*c, 0}, f);
		fputc('\'', f);
	}
	if (fclose(f) || !raw) {
		free(raw);
		snprintf(buf, size, "?");
		return;
	}
	text_escape(buf, size, raw, len);
	free(raw);
}

void action_config_path(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME");
	const char *home = getenv("HOME");

	if (xdg && xdg[0] == '/')
		snprintf(buf, size, "%s/leaktop/leaktop.conf", xdg);
	else if (home && home[0] == '/')
		snprintf(buf, size, "%s/.config/leaktop/leaktop.conf", home);
	else
		snprintf(buf, size, "~/.config/leaktop/leaktop.conf");
}

/* A unit systemctl can restart: a .service name of ordinary characters. */
static bool restartable_unit(const char *unit)
{
	size_t len = strlen(unit);

	if (len <= 8 || strcmp(unit + len - 8, ".service") || unit[0] == '-')
		return false;
	for (const char *c = unit; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:@\\", *c))
			return false;
	return true;
}

/* "user@UID.service": a user's service manager. */
static bool user_manager(const char *name, size_t len)
{
	return len > 13 && !memcmp(name, "user@", 5) && !memcmp(name + len - 8, ".service", 8);
}

int action_restart_unit(const char *cgroup, struct action_unit *u, char **why)
{
	size_t plen;
	const char *path = procscan_cgroup_path(cgroup, &plen), *end = path ? path + plen : NULL;
	const char *unit = NULL, *mgr = NULL;
	size_t ulen = 0, mlen = 0;
	char shown[PROC_UNIT_MAX * 2];

	memset(u, 0, sizeof(*u));
	/* The innermost component that names a unit (slices group units; other names
	 * are a unit's own subgroups), and the user manager above it, if any. */
	for (const char *c = path; c && c < end;) {
		while (c < end && *c == '/')
			c++;
		const char *e = c;
		while (e < end && *e != '/')
			e++;
		size_t len = (size_t)(e - c);
		if (len && procscan_unit_name(c, len)) {
			if (unit && user_manager(unit, ulen))
				mgr = unit, mlen = ulen;
			unit = c, ulen = len;
		}
		c = e;
	}
	if (!unit)
		return -ENOENT;
	if (ulen >= sizeof(u->unit))
		return text_cause(why, -EPERM, "its unit's name is too long");
	memcpy(u->unit, unit, ulen);
	text_escape(shown, sizeof(shown), u->unit, ulen);
	bool manager = user_manager(unit, ulen);
	if (manager || (mgr && !strcmp(u->unit, "init.scope")))
		return text_cause(why, -EPERM, "it is %s%s: restarting it would end every program of that user's "
				  "session", manager ? shown : "in init.scope, the user manager",
				  manager ? ", a user's service manager" : "");
	if (!restartable_unit(u->unit))
		return text_cause(why, -EPERM, "it is in %s, which is %s", shown,
				  ulen > 8 && !strcmp(u->unit + ulen - 8, ".service")
					  ? "not a name leaktop hands to systemctl"
					  : "not a service, and systemctl restarts only services");
	if (mgr) {
		/* user@UID.service: UID digits only, what -M UID@ takes. */
		char *num_end, under[PROC_UNIT_MAX * 2];
		errno = 0;
		unsigned long uid = strtoul(mgr + 5, &num_end, 10);
		if (errno || num_end == mgr + 5 || num_end != mgr + mlen - 8 || uid > UINT32_MAX) {
			text_escape(under, sizeof(under), mgr, mlen);
			return text_cause(why, -EPERM, "its unit %s runs under %s, not a user manager leaktop knows",
					  shown, under);
		}
		u->user_unit = true;
		u->uid = (uint32_t)uid;
	}
	return 0;
}

/* proc_root/PID/cgroup, whole (it is small), into buf. 0 or -errno. */
static int read_cgroup(const char *proc_root, int32_t pid, char *buf, size_t size)
{
	char path[PATH_MAX];
	size_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/cgroup", proc_root ? proc_root : "/proc", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -errno;
	for (ssize_t r; n + 1 < size && (r = read(fd, buf + n, size - 1 - n)) != 0;) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return 0;
}

/* argv from words, strdup'd, NULL-terminated. */
static char **argv_of(const char *const words[], size_t n)
{
	char **argv = calloc(n + 1, sizeof(*argv));

	for (size_t i = 0; argv && i < n; i++)
		if (!(argv[i] = strdup(words[i]))) {
			action_argv_free(argv);
			return NULL;
		}
	return argv;
}

int action_restart_resolve(const struct proc_rec *p, const char *proc_root, action_lookup_fn lookup, void *ctx,
			   const char *conf_path, struct action_restart *r, char **cause)
{
	char key[16 + PROC_COMM_MAX], conf[PATH_MAX], cgroup[16384], *no_unit = NULL;
	struct action_unit u;
	const char *cmd;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((rc = action_check_target(p, cause)))
		return rc;
	/* The cgroup now, not the snapshot's unit: the process must still be there, and
	 * the snapshot names the outermost unit (user@1000.service for a user's). */
	if ((rc = read_cgroup(proc_root, p->pid, cgroup, sizeof(cgroup)))) {
		text_cause(cause, 0, rc == -ENOENT ? "pid %d has exited since the snapshot; nothing was done"
						  : "cannot read the cgroup of pid %d: %s", (int)p->pid, strerror(-rc));
		return rc == -ENOENT ? -ESRCH : rc;
	}
	int urc = action_restart_unit(cgroup, &u, &no_unit);
	if (!urc) {
		char uid[24];
		snprintf(uid, sizeof(uid), "%u@", (unsigned)u.uid);
		const char *sys[] = {"systemctl", "restart", u.unit};
		const char *usr[] = {"systemctl", "--user", "-M", uid, "restart", u.unit};
		if (!(r->argv = u.user_unit ? argv_of(usr, 6) : argv_of(sys, 3))) {
			text_cause(cause, 0, "out of memory");
			return -ENOMEM;
		}
		r->systemd = true;
	} else {
		snprintf(key, sizeof(key), "restart.%s", p->comm);
		cmd = lookup ? lookup(ctx, key) : NULL;
		if (!cmd) {
			if (conf_path && !*conf_path)
				snprintf(conf, sizeof(conf), "leaktop.conf (and run leaktop without --no-config)");
			else if (conf_path)
				snprintf(conf, sizeof(conf), "%s", conf_path);
			else
				action_config_path(conf, sizeof(conf));
			text_cause(cause, 0,
				  "no way to restart %s (pid %d): %s, and no restart command is configured. Add a line "
				  "to %s: %s = /path/to/command args", p->comm, (int)p->pid,
				  no_unit ? no_unit : "it is not in a systemd service", conf, key);
			free(no_unit);
			return -ENOENT;
		}
		free(no_unit);
		char *why = NULL;
		if ((rc = action_split_argv(cmd, &r->argv, &why))) {
			text_cause(cause, 0, "%s in %s: %s", key, "the config", why ? why : strerror(-rc));
			free(why);
			return rc;
		}
	}
	action_argv_format(r->argv, r->shown, sizeof(r->shown));
	return 0;
}

void action_restart_release(struct action_restart *r)
{
	action_argv_free(r->argv);
	r->argv = NULL;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what the pipe has now into out; sets *eof at end of file. */
static void drain(int fd, struct action_output *out, bool *eof)
{
	char tmp[4096];

	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*eof = n == 0 || errno != EAGAIN;
			return;
		}
		size_t keep = (size_t)n;
		if (out->len + keep > ACTION_OUTPUT_MAX) {
			keep = ACTION_OUTPUT_MAX - out->len;
			out->truncated = true;
		}
		memcpy(out->buf + out->len, tmp, keep);
		out->len += keep;
		out->buf[out->len] = '\0';
	}
}

int action_run(char *const argv[], int timeout_ms, struct action_output *out, char **cause)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defaults;
	int pipefd[2], rc;
	pid_t pid;
	bool eof = false, reaped = false;

	memset(out, 0, sizeof(*out));
	if (!(out->buf = malloc(ACTION_OUTPUT_MAX + 1))) {
		text_cause(cause, 0, "out of memory");
		return -ENOMEM;
	}
	out->buf[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		rc = -errno;
		text_cause(cause, 0, "pipe: %s", strerror(-rc));
		return rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	posix_spawn_file_actions_addclosefrom_np(&fa, 3); /* none of leaktop's fds */
#endif
	posix_spawnattr_init(&attr);
	/* A new session: no controlling terminal, and Ctrl-C in leaktop does not reach it. */
	sigemptyset(&none);
	sigfillset(&defaults);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawnp(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(pipefd[1]);
	if (rc) {
		close(pipefd[0]);
		text_cause(cause, 0, "cannot run %s: %s", argv[0], strerror(rc));
		return -rc;
	}
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);

	int64_t deadline = now_ms() + timeout_ms;
	/* Wait for the command itself, not for EOF: a restart script may leave a daemon
	 * behind that holds the pipe open for the rest of its life. */
	while (!reaped) {
		int64_t left = deadline - now_ms();
		struct pollfd pfd = {.fd = eof ? -1 : pipefd[0], .events = POLLIN};
		int status;

		if (left <= 0) {
			kill(pid, SIGKILL);
			out->timed_out = true;
			while (waitpid(pid, &out->status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		poll(&pfd, 1, left < 50 ? (int)left : 50);
		if (!eof)
			drain(pipefd[0], out, &eof);
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			out->status = status;
			reaped = true;
		} else if (w < 0 && errno != EINTR) {
			break; /* someone else reaped it (SIGCHLD ignored): nothing more to learn */
		}
	}
	if (!eof)
		drain(pipefd[0], out, &eof);
	close(pipefd[0]);
	return 0;
}

void action_output_release(struct action_output *out)
{
	free(out->buf);
	out->buf = NULL;
	out->len = 0;
}

void action_status_text(const struct action_output *out, int timeout_ms, char *buf, size_t size)
{
	if (out->timed_out)
		snprintf(buf, size, "timed out after %d s, killed", timeout_ms / 1000);
	else if (WIFEXITED(out->status))
		snprintf(buf, size, "exit %d", WEXITSTATUS(out->status));
	else if (WIFSIGNALED(out->status))
		snprintf(buf, size, "killed by %s", action_sig_name(WTERMSIG(out->status)));
	else
		snprintf(buf, size, "status %d", out->status);
}

