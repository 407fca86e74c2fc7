/* The thread dump done safely: SIGQUIT's disposition read before it is sent, the
 * outcome checked after, and the dump read back from a regular-file stdout/stderr. */
#include "config.h"

#include "program/tdump.h"
#include "program/actions.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int tdump_wait_ms = 3000;

int tdump_disposition(const char *proc_root, int32_t pid, enum tdump_disp *d)
{
	char path[PATH_MAX], line[256];
	unsigned long long cgt = 0, ign = 0;
	int have = 0;
	FILE *f;

	*d = TDUMP_UNKNOWN;
	snprintf(path, sizeof(path), "%s/%d/status", proc_root ? proc_root : "/proc", (int)pid);
	if (!(f = fopen(path, "re")))
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "SigCgt: %llx", &cgt) == 1)
			have |= 1;
		else if (sscanf(line, "SigIgn: %llx", &ign) == 1)
			have |= 2;
	}
	fclose(f);
	if (have != 3)
		return -EILSEQ;
	unsigned long long bit = 1ULL << (SIGQUIT - 1);
	*d = ign & bit ? TDUMP_IGNORED : cgt & bit ? TDUMP_CAUGHT : TDUMP_DEFAULT;
	return 0;
}

static const struct {
	const char *warning;
	int key;
} disp_table[TDUMP_DISP_COUNT] = {
	[TDUMP_CAUGHT] = {"it handles SIGQUIT: a JVM prints a thread dump and keeps running", 'y'},
	[TDUMP_DEFAULT] = {"it has NO SIGQUIT handler: it will TERMINATE (and may dump core)", 'K'},
	[TDUMP_IGNORED] = {"it ignores SIGQUIT: sending it will do nothing", 'y'},
	[TDUMP_UNKNOWN] = {"cannot read what it does with SIGQUIT: it may terminate", 'K'},
};

const char *tdump_disp_warning(enum tdump_disp d)
{
	return disp_table[(unsigned)d < TDUMP_DISP_COUNT ? d : TDUMP_UNKNOWN].warning;
}

int tdump_confirm_key(enum tdump_disp d)
{
	return disp_table[(unsigned)d < TDUMP_DISP_COUNT ? d : TDUMP_UNKNOWN].key;
}

static const char *const outcome_names[TDUMP_OUTCOME_COUNT] = {
	[TDUMP_DUMPED] = "dumped (still running)",
	[TDUMP_NOTHING] = "ignored (nothing happened; still running)",
	[TDUMP_TERMINATED] = "terminated",
};

const char *tdump_outcome_name(enum tdump_outcome o)
{
	return (unsigned)o < TDUMP_OUTCOME_COUNT ? outcome_names[o] : "?";
}

/* Is pid still the process that started at start_time, and not a zombie? */
static bool still_running(const char *proc_root, int32_t pid, uint64_t start_time)
{
	char path[PATH_MAX], buf[1024];
	unsigned long long st = 0;
	char state = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%d/stat", proc_root ? proc_root : "/proc", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* comm may hold anything: the fields start after the last ')'. */
	char *c = strrchr(buf, ')');
	if (!c || sscanf(c + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
			 &state, &st) != 2)
		return false;
	return st == start_time && state != 'Z' && state != 'X' && state != 'x';
}

static void sleep_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

enum tdump_outcome tdump_wait_outcome(const char *proc_root, int32_t pid, uint64_t start_time,
				      enum tdump_disp disp, int wait_ms)
{
	/* A handler runs at once; the default action takes a moment (a core dump longer). */
	int step = 20, waited = 0, grace = disp == TDUMP_CAUGHT || disp == TDUMP_IGNORED ? 100 : wait_ms;

	for (;;) {
		if (!still_running(proc_root, pid, start_time))
			return TDUMP_TERMINATED;
		if (waited >= grace || waited >= wait_ms)
			break;
		sleep_ms(step);
		waited += step;
	}
	return disp == TDUMP_IGNORED ? TDUMP_NOTHING : TDUMP_DUMPED;
}

/* --- reading the dump back ------------------------------------------------------------- */

int tdump_capture_begin(const char *proc_root, int32_t pid, struct tdump_capture *c)
{
	memset(c, 0, sizeof(*c));
	c->f[0].fd = c->f[1].fd = -1;
	for (int fd = 1; fd <= 2; fd++) {
		char path[PATH_MAX], link[PATH_MAX];
		struct stat st;
		ssize_t n;

		snprintf(path, sizeof(path), "%s/%d/fd/%d", proc_root ? proc_root : "/proc", (int)pid, fd);
		/* stat first: a terminal or a device is not even opened. Then the open
		 * cannot block (O_NONBLOCK: a FIFO swapped in since), and the descriptor
		 * itself must be a regular file. */
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		int rfd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (rfd < 0)
			continue;
		bool same = false;
		for (int i = 0; i < c->nfiles; i++)
			same |= c->f[i].dev == (uint64_t)st.st_dev && c->f[i].ino == (uint64_t)st.st_ino;
		if (fstat(rfd, &st) || !S_ISREG(st.st_mode) || same) {
			close(rfd);
			continue;
		}
		n = readlink(path, link, sizeof(link) - 1);
		link[n > 0 ? n : 0] = '\0';
		text_escape(c->f[c->nfiles].shown, sizeof(c->f[0].shown), link, strlen(link));
		c->f[c->nfiles].fd = rfd;
		c->f[c->nfiles].dev = (uint64_t)st.st_dev;
		c->f[c->nfiles].ino = (uint64_t)st.st_ino;
		c->f[c->nfiles].start = (int64_t)st.st_size;
		c->nfiles++;
	}
	return c->nfiles;
}

static int64_t file_size(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? -1 : (int64_t)st.st_size;
}

/* Append what file i gained since the signal to c->text, within the bound. */
static int read_appended(struct tdump_capture *c, int i)
{
	int64_t size = file_size(c->f[i].fd);

	if (size <= c->f[i].start)
		return size < 0 ? -errno : 0;
	size_t want = (size_t)(size - c->f[i].start);
	if (c->len + want > TDUMP_TEXT_MAX) {
		want = TDUMP_TEXT_MAX - c->len;
		c->truncated = true;
	}
	char *t = realloc(c->text, c->len + want + 1);
	if (!t)
		return -ENOMEM;
	c->text = t;
	/* pread on a regular file returns what is there, never waits for more. */
	ssize_t n = pread(c->f[i].fd, t + c->len, want, (off_t)c->f[i].start);
	if (n < 0)
		return -errno;
	c->len += (size_t)n;
	t[c->len] = '\0';
	return 0;
}

int tdump_capture_end(struct tdump_capture *c, int wait_ms, int settle_ms)
{
	int64_t last[2] = {0, 0};
	int waited = 0, still = 0, step = 50, rc = 0;
	bool grew = false;

	for (int i = 0; i < c->nfiles; i++)
		last[i] = c->f[i].start;
	/* A JVM writes its dump from a thread of its own: wait for it to start, then for
	 * it to stop growing. */
	while (c->nfiles && waited < wait_ms && (!grew || still < settle_ms)) {
		sleep_ms(step);
		waited += step;
		bool moved = false;
		for (int i = 0; i < c->nfiles; i++) {
			int64_t sz = file_size(c->f[i].fd);
			if (sz > last[i]) {
				moved = true;
				last[i] = sz;
			}
		}
		grew |= moved;
		still = moved ? 0 : still + step;
	}
	for (int i = 0; i < c->nfiles && !rc && c->len < TDUMP_TEXT_MAX; i++)
		rc = read_appended(c, i);
	return rc;
}

void tdump_capture_release(struct tdump_capture *c)
{
	free(c->text);
	c->text = NULL;
	c->len = 0;
	for (int i = 0; i < c->nfiles; i++) {
		if (c->f[i].fd >= 0)
			close(c->f[i].fd);
		c->f[i].fd = -1;
	}
	c->nfiles = 0;
}

/* --- the whole thread dump ------------------------------------------------------------- */

static double now_unix(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int tdump_do(struct action_log *log, const struct proc_rec *p, char **line, char **dump, size_t *dump_len)
{
	char *cause = NULL, detail[1400], dest[900];
	enum tdump_disp disp = TDUMP_UNKNOWN;
	struct tdump_capture cap;
	int rc = action_check_target(p, &cause);

	if (dump)
		*dump = NULL;
	if (dump_len)
		*dump_len = 0;
	memset(&cap, 0, sizeof(cap));
	cap.f[0].fd = cap.f[1].fd = -1;
	if (!rc) {
		tdump_disposition("/proc", p->pid, &disp);
		action_dump_dest(p->pid, p->unit, dest, sizeof(dest));
		if (disp == TDUMP_CAUGHT)
			tdump_capture_begin("/proc", p->pid, &cap);
		rc = action_signal(p->pid, p->start_time, SIGQUIT, &cause);
	}
	if (rc) {
		snprintf(detail, sizeof(detail), "%s", cause ? cause : strerror(-rc));
	} else {
		if (cap.nfiles)
			tdump_capture_end(&cap, tdump_wait_ms, 500);
		enum tdump_outcome o = tdump_wait_outcome("/proc", p->pid, p->start_time, disp, tdump_wait_ms);
		if (o == TDUMP_TERMINATED) {
			snprintf(detail, sizeof(detail), "terminated: pid %d %s on SIGQUIT%s", (int)p->pid,
				 disp == TDUMP_CAUGHT ? "exited after its handler ran" : "had no handler and exited",
				 disp == TDUMP_CAUGHT ? "" : " (it may have dumped core)");
			rc = -ESRCH;
		} else if (o == TDUMP_NOTHING) {
			snprintf(detail, sizeof(detail), "ignored: pid %d ignores SIGQUIT; nothing happened", (int)p->pid);
			rc = -ENOTSUP;
		} else if (cap.len) {
			char size[32];
			if (cap.len >= 10240)
				snprintf(size, sizeof(size), "%zu KB", cap.len / 1024);
			else
				snprintf(size, sizeof(size), "%zu bytes", cap.len);
			snprintf(detail, sizeof(detail), "%s; %s, %s read back%s", tdump_outcome_name(o), dest, size,
				 cap.truncated ? " (cut at 8 MB)" : "");
		} else {
			snprintf(detail, sizeof(detail), "%s; %s%s", tdump_outcome_name(o), dest,
				 cap.nfiles ? " (nothing was appended to it)" : "");
		}
	}
	free(cause);
	struct action_event ev = {
		.time = now_unix(),
		.pid = p->pid,
		.start_time = p->start_time,
		.comm = p->comm,
		.action = action_sig_name(SIGQUIT),
		.result = rc,
		.detail = detail,
		.dump = cap.text,
		.dump_len = cap.len,
	};
	action_log_write(log, &ev, line);
	if (dump && cap.text) {
		*dump = cap.text;
		if (dump_len)
			*dump_len = cap.len;
		cap.text = NULL;
	}
	tdump_capture_release(&cap);
	return rc;
}
