/* Processes from libproc2 and /proc: identity, limits, fd counts and the incremental
 * socket-inode -> (pid, fd) map. Everything per process is read through one dirfd. */
#include "config.h"

#include "sources/procscan.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <libproc2/pids.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PF_KTHREAD_FLAG 0x00200000u   /* include/linux/sched.h */
#define SELECT_MAX 255                /* procps_pids_select refuses more (EINVAL) */

/* ---- the default reader: libproc2 --------------------------------------------- */

/* What never changes in a process's life, read once per pid + start time. exec keeps
 * both, so a changed comm (stat, read anyway) makes us fetch these again. */
struct lp_proc {
	int32_t pid, ppid;
	uint32_t uid;
	uint64_t start_time, netns, rss_kb;
	char state;
	bool fetched, dead;
	char comm[64];
	char user[PROC_USER_MAX];
	char unit[PROC_UNIT_MAX];
	char cmdline[PROC_CMDLINE_MAX];
	char container[PROC_CONTAINER_MAX];
};

struct lp_reader {
	struct pids_info *cheap;   /* stat only: moves every refresh */
	struct pids_info *stable;  /* status, cmdline, ns, systemd: once per process */
	struct lp_proc *cur, *old; /* sorted by pid; swapped each refresh */
	size_t ncur, nold, cap;
	unsigned *want;
	size_t nwant, want_cap;
	long page_kb;
};

enum { CH_PID, CH_PPID, CH_BEGAN, CH_STATE, CH_RSS, CH_CMD };
static enum pids_item cheap_items[] = {
	[CH_PID] = PIDS_ID_PID, [CH_PPID] = PIDS_ID_PPID, [CH_BEGAN] = PIDS_TICS_BEGAN,
	[CH_STATE] = PIDS_STATE, [CH_RSS] = PIDS_RSS, [CH_CMD] = PIDS_CMD,
};
enum { ST_PID, ST_BEGAN, ST_CMDLINE, ST_EUID, ST_EUSER, ST_UNIT, ST_NETNS, ST_CGROUP };
static enum pids_item stable_items[] = {
	[ST_PID] = PIDS_ID_PID, [ST_BEGAN] = PIDS_TICS_BEGAN, [ST_CMDLINE] = PIDS_CMDLINE,
	[ST_EUID] = PIDS_ID_EUID, [ST_EUSER] = PIDS_ID_EUSER, [ST_UNIT] = PIDS_SD_UNIT,
	[ST_NETNS] = PIDS_NS_NET, [ST_CGROUP] = PIDS_CGROUP,
};
#define NITEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

static int cmp_lp(const void *a, const void *b)
{
	const struct lp_proc *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

static struct lp_proc *lp_find(struct lp_proc *v, size_t n, int32_t pid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].pid == pid)
			return &v[mid];
		if (v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int lp_fetch_stable(struct lp_reader *r, char **cause)
{
	for (size_t at = 0; at < r->nwant; at += SELECT_MAX) {
		int n = (int)(r->nwant - at < SELECT_MAX ? r->nwant - at : SELECT_MAX);
		struct pids_fetch *f = procps_pids_select(r->stable, r->want + at, n,
							  PIDS_SELECT_PID);
		if (!f) {
			int e = errno ? errno : EIO;
			if (cause && asprintf(cause, "libproc2 select: %s", strerror(e)) < 0)
				*cause = NULL;
			return -e;
		}
		for (int i = 0; i < f->counts->total; i++) {
			struct pids_stack *st = f->stacks[i];
			struct lp_proc *p = lp_find(r->cur, r->ncur, PIDS_VAL(ST_PID, s_int, st, r->stable));
			if (!p)
				continue;
			/* The pid was reused between the two reads: that process is gone. */
			if (PIDS_VAL(ST_BEGAN, ull_int, st, r->stable) != p->start_time)
				continue;
			const char *unit = PIDS_VAL(ST_UNIT, str, st, r->stable);
			copy_str(p->cmdline, sizeof(p->cmdline), PIDS_VAL(ST_CMDLINE, str, st, r->stable));
			copy_str(p->user, sizeof(p->user), PIDS_VAL(ST_EUSER, str, st, r->stable));
			copy_str(p->unit, sizeof(p->unit), unit && strcmp(unit, "-") ? unit : "");
			p->uid = PIDS_VAL(ST_EUID, u_int, st, r->stable);
			p->netns = PIDS_VAL(ST_NETNS, ul_int, st, r->stable);
			procscan_container(PIDS_VAL(ST_CGROUP, str, st, r->stable), p->container,
					   sizeof(p->container));
			p->fetched = true;
		}
	}
	return 0;
}

static int lp_read(void *ctx, int (*fn)(void *arg, const struct procinfo *pi), void *arg,
		   char **cause)
{
	struct lp_reader *r = ctx;
	struct pids_fetch *f = procps_pids_reap(r->cheap, PIDS_FETCH_TASKS_ONLY);
	int rc;

	if (!f) {
		int e = errno ? errno : EIO;
		if (cause && asprintf(cause, "libproc2 reap: %s", strerror(e)) < 0)
			*cause = NULL;
		return -e;
	}
	/* Swap: the previous refresh's cache becomes old, cur is rebuilt. */
	struct lp_proc *t = r->old;
	r->old = r->cur, r->nold = r->ncur;
	r->cur = t, r->ncur = 0;
	size_t need = (size_t)f->counts->total;
	if (need > r->cap) {
		size_t ncap = need + need / 4 + 64;
		struct lp_proc *a = realloc(r->cur, ncap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		r->cur = a;
		struct lp_proc *b = realloc(r->old, ncap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		r->old = b;
		r->cap = ncap;
	}
	for (int i = 0; i < f->counts->total; i++) {
		struct pids_stack *st = f->stacks[i];
		struct lp_proc *p = &r->cur[r->ncur++];
		p->pid = PIDS_VAL(CH_PID, s_int, st, r->cheap);
		p->ppid = PIDS_VAL(CH_PPID, s_int, st, r->cheap);
		p->start_time = PIDS_VAL(CH_BEGAN, ull_int, st, r->cheap);
		p->state = (char)PIDS_VAL(CH_STATE, s_ch, st, r->cheap);
		p->rss_kb = PIDS_VAL(CH_RSS, ul_int, st, r->cheap) * (uint64_t)r->page_kb;
		copy_str(p->comm, sizeof(p->comm), PIDS_VAL(CH_CMD, str, st, r->cheap));
		p->fetched = p->dead = false;
	}
	qsort(r->cur, r->ncur, sizeof(*r->cur), cmp_lp);

	/* Merge with the cache; what is new (or exec'd) goes to one select. */
	r->nwant = 0;
	size_t j = 0;
	for (size_t i = 0; i < r->ncur; i++) {
		struct lp_proc *p = &r->cur[i];
		while (j < r->nold && r->old[j].pid < p->pid)
			j++;
		const struct lp_proc *o = j < r->nold && r->old[j].pid == p->pid ? &r->old[j] : NULL;
		if (o && o->fetched && o->start_time == p->start_time && !strcmp(o->comm, p->comm)) {
			p->uid = o->uid, p->netns = o->netns;
			memcpy(p->user, o->user, sizeof(p->user));
			memcpy(p->unit, o->unit, sizeof(p->unit));
			memcpy(p->cmdline, o->cmdline, sizeof(p->cmdline));
			memcpy(p->container, o->container, sizeof(p->container));
			p->fetched = true;
			continue;
		}
		if (r->nwant == r->want_cap) {
			size_t ncap = r->want_cap ? r->want_cap * 2 : 256;
			unsigned *w = realloc(r->want, ncap * sizeof(*w));
			if (!w)
				return -ENOMEM;
			r->want = w, r->want_cap = ncap;
		}
		r->want[r->nwant++] = (unsigned)p->pid;
	}
	if (r->nwant && (rc = lp_fetch_stable(r, cause)))
		return rc;

	for (size_t i = 0; i < r->ncur; i++) {
		const struct lp_proc *p = &r->cur[i];
		if (!p->fetched) /* exited between the reap and the select */
			continue;
		struct procinfo pi = {
			.pid = p->pid, .ppid = p->ppid, .uid = p->uid,
			.start_time = p->start_time, .netns = p->netns, .rss_kb = p->rss_kb,
			.state = p->state, .comm = p->comm, .user = p->user, .unit = p->unit,
			.cmdline = p->cmdline, .container = p->container,
		};
		if ((rc = fn(arg, &pi)))
			return rc;
	}
	return 0;
}

static void lp_free(struct lp_reader *r)
{
	if (!r)
		return;
	if (r->cheap)
		procps_pids_unref(&r->cheap);
	if (r->stable)
		procps_pids_unref(&r->stable);
	free(r->cur);
	free(r->old);
	free(r->want);
	free(r);
}

static int lp_new(struct lp_reader **out, char **cause)
{
	struct lp_reader *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	long page = sysconf(_SC_PAGESIZE);
	r->page_kb = page > 0 ? page / 1024 : 4;
	if ((rc = procps_pids_new(&r->cheap, cheap_items, NITEMS(cheap_items))) < 0 ||
	    (rc = procps_pids_new(&r->stable, stable_items, NITEMS(stable_items))) < 0) {
		if (cause && asprintf(cause, "libproc2: %s", strerror(-rc)) < 0)
			*cause = NULL;
		lp_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

/* ---- the /proc scan ------------------------------------------------------------- */

enum fd_flags {
	FD_IN_DUMP = 1 << 0,  /* this socket inode was in a dump: its absence means news */
	FD_RETRY = 1 << 1,    /* readlink failed: read it again next scan */
	FD_NEW = 1 << 2,      /* this (fd, inode) was first read in this scan */
	FD_LATE = 1 << 3,     /* ... or by the recheck, after the dumps */
};

/* One fd of one process; a process's fds are a slice of a pool, ascending by fd. */
struct fd_ent {
	int32_t fd;
	uint32_t inode;       /* 0: not a socket */
	uint32_t flags;       /* enum fd_flags */
};

enum pst_flags {
	PST_REREAD = 1 << 0,  /* readlink every fd next scan */
};

/* What the previous scan knew of one process, keyed by pid + start time. */
struct pst {
	int32_t pid;
	uint32_t flags;
	uint64_t start_time;
	uint64_t netns;
	uint64_t fd_limit, fd_limit_hard;
	size_t fd_first, fd_count;
};

/* Reading limits costs about what the stat read does. A process whose fd count moves
 * gets them every scan; a quiet one every LIMITS_EVERY scans (spread by pid). */
#define LIMITS_EVERY 8

/* A growable array with the element size kept alongside. */
struct vec {
	void *v;
	size_t n, cap, size;
};

/* Unowned socket inodes from the last dump (open addressing, 0 = empty). */
struct inoset {
	uint32_t *keys;
	uint8_t *vals;
	size_t cap;
};

struct procscan {
	char *root;
	int rootfd;
	procscan_reader read;
	void *read_ctx;
	struct lp_reader *lp;
	bool full;                  /* next scan readlinks everything */
	uint64_t scans;
	int32_t self;               /* our pid in this root, 0 if not there */
	struct vec st_old, st_new;  /* struct pst, sorted by pid */
	struct vec fd_old, fd_new;  /* struct fd_ent pools */
	struct vec fdnums;          /* scratch: one process's fd numbers */
	char *dents;                /* getdents64 buffer */
	size_t dents_size;
	struct inoset unowned[2];
	int unowned_cur;
	bool unowned_searched;      /* recheck read every candidate fd for the unowned */
	uint64_t early_netns;       /* its dump may have run before this scan's reads */
	/* The first unexpected error of this scan. */
	int err;
	char *err_cause;
};

static void *vec_push(struct vec *a)
{
	if (a->n == a->cap) {
		size_t ncap = a->cap ? a->cap * 2 : 256;
		void *p = realloc(a->v, ncap * a->size);
		if (!p)
			return NULL;
		a->v = p, a->cap = ncap;
	}
	return (char *)a->v + a->n++ * a->size;
}

static void note_err(struct procscan *p, int err, const char *fmt, const char *arg)
{
	if (p->err)
		return;
	p->err = err;
	if (asprintf(&p->err_cause, fmt, arg, strerror(-err)) < 0)
		p->err_cause = NULL;
}

int procscan_parse_limits(const char *text, uint64_t *soft, uint64_t *hard)
{
	static const char key[] = "Max open files";
	const char *line = text;
	uint64_t v[2];

	while (line && strncmp(line, key, sizeof(key) - 1)) {
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	if (!line)
		return -ENOENT;
	const char *s = line + sizeof(key) - 1;
	for (int i = 0; i < 2; i++) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!strncmp(s, "unlimited", 9)) {
			v[i] = UINT64_MAX;
			s += 9;
		} else {
			char *end;
			if (*s < '0' || *s > '9')
				return -EINVAL;
			errno = 0;
			v[i] = strtoull(s, &end, 10);
			if (errno)
				return -EINVAL;
			s = end;
		}
		if (*s != ' ' && *s != '\t')
			return -EINVAL;
	}
	*soft = v[0], *hard = v[1];
	return 0;
}

int procscan_parse_file_nr(const char *text, uint64_t *alloc, uint64_t *max)
{
	unsigned long long a, unused, m;
	if (sscanf(text, "%llu %llu %llu", &a, &unused, &m) != 3)
		return -EINVAL;
	*alloc = a, *max = m;
	return 0;
}

uint32_t procscan_socket_inode(const char *link)
{
	static const char pre[] = "socket:[";
	uint64_t v = 0;
	const char *s;

	if (strncmp(link, pre, sizeof(pre) - 1))
		return 0;
	for (s = link + sizeof(pre) - 1; *s >= '0' && *s <= '9'; s++)
		if ((v = v * 10 + (uint64_t)(*s - '0')) > UINT32_MAX)
			return 0;
	if (s == link + sizeof(pre) - 1 || s[0] != ']' || s[1])
		return 0;
	return (uint32_t)v;
}

/* Read a small file under dirfd into buf (NUL-terminated). Returns length or -errno. */
static ssize_t read_at(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)len < size - 1 && (n = read(fd, buf + len, size - 1 - (size_t)len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			n = -errno;
			close(fd);
			return n;
		}
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return len;
}

/* /proc/PID/stat: start time (field 22) and flags (field 9). The comm may hold ')',
 * so fields count from the last one. */
static int parse_stat(const char *text, uint64_t *start, uint32_t *flags)
{
	const char *s = strrchr(text, ')');
	unsigned long long v = 0;

	if (!s)
		return -EINVAL;
	s++;
	for (int field = 3; field <= 22; field++) {
		while (*s == ' ')
			s++;
		if (!*s)
			return -EINVAL;
		if (field == 9 || field == 22) {
			char *end;
			v = strtoull(s, &end, 10);
			if (end == s)
				return -EINVAL;
			if (field == 9)
				*flags = (uint32_t)v;
			s = end;
		} else {
			while (*s && *s != ' ')
				s++;
		}
	}
	*start = v;
	return 0;
}

static int cmp_int32(const void *a, const void *b)
{
	int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
	return (x > y) - (x < y);
}

/* The fd numbers in an open fd directory, ascending (the kernel lists them so; a fake
 * tree on another filesystem may not). Returns 0 or -errno. */
static int list_fds(struct procscan *p, int dfd)
{
	p->fdnums.n = 0;
	for (;;) {
		ssize_t n = getdents64(dfd, p->dents, p->dents_size);
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			struct dirent64 *d = (struct dirent64 *)(p->dents + off);
			off += d->d_reclen;
			const char *s = d->d_name;
			int32_t v = 0;
			if (*s < '0' || *s > '9')
				continue;
			for (; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (*s - '0');
			if (*s)
				continue;
			int32_t *slot = vec_push(&p->fdnums);
			if (!slot)
				return -ENOMEM;
			*slot = v;
		}
	}
	int32_t *v = p->fdnums.v;
	for (size_t i = 1; i < p->fdnums.n; i++)
		if (v[i - 1] > v[i]) {
			qsort(v, p->fdnums.n, sizeof(*v), cmp_int32);
			break;
		}
	return 0;
}

static bool gone(int err)
{
	return err == -ENOENT || err == -ESRCH;
}

/* The fd table of one process: a merge of the fd directory with what the last scan
 * knew (old, may be NULL). Appends to fd_new. Returns 0 or -errno. */
static int scan_fds(struct procscan *p, int pidfd, const struct pst *old, struct pst *st)
{
	int dfd = openat(pidfd, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	st->fd_first = p->fd_new.n;
	st->fd_count = 0;
	if (dfd < 0)
		return -errno;
	rc = list_fds(p, dfd);
	if (rc) {
		close(dfd);
		return rc;
	}
	const struct fd_ent *prev = old ? (const struct fd_ent *)p->fd_old.v + old->fd_first : NULL;
	size_t nprev = old ? old->fd_count : 0, j = 0;
	/* Our own transient fds (this very scan's dirfds) come back as sockets at the
	 * same numbers all the time: never trust our old table. */
	bool reread = p->full || !old || (old->flags & PST_REREAD) || st->pid == p->self;
	const int32_t *nums = p->fdnums.v;

	for (size_t i = 0; i < p->fdnums.n; i++) {
		int32_t fd = nums[i];
		while (j < nprev && prev[j].fd < fd)
			j++;
		struct fd_ent *e = vec_push(&p->fd_new);
		if (!e) {
			close(dfd);
			return -ENOMEM;
		}
		if (!reread && j < nprev && prev[j].fd == fd && !(prev[j].flags & FD_RETRY)) {
			*e = prev[j];
			e->flags &= ~(uint32_t)(FD_NEW | FD_LATE);
			continue;
		}
		char name[16], link[64];
		snprintf(name, sizeof(name), "%" PRId32, fd);
		ssize_t n = readlinkat(dfd, name, link, sizeof(link) - 1);
		if (n < 0 && errno == ENOENT) { /* closed since the readdir */
			p->fd_new.n--;
			continue;
		}
		e->fd = fd;
		e->flags = 0;
		e->inode = 0;
		if (n < 0) {
			e->flags = FD_RETRY;
		} else {
			link[n] = '\0';
			e->inode = procscan_socket_inode(link);
			if (e->inode && !(j < nprev && prev[j].fd == fd && prev[j].inode == e->inode))
				e->flags = FD_NEW;
		}
	}
	close(dfd);
	st->fd_count = p->fd_new.n - st->fd_first;
	return 0;
}

/* One process, already in s->procs[idx]: check it is still the reader's process,
 * then limits and fds. Returns 1 to keep it, 0 to drop it (gone), -errno on error. */
static int scan_one(struct procscan *p, struct snapshot *s, size_t idx, const struct pst *old)
{
	struct proc_rec *r = &s->procs[idx];
	char name[16], buf[4096];
	uint64_t start;
	uint32_t pflags = 0;
	struct pst *st = NULL;
	int rc, ret = 1;

	snprintf(name, sizeof(name), "%" PRId32, r->pid);
	int pidfd = openat(p->rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pidfd < 0)
		return gone(-errno) ? 0 : -errno;
	ssize_t n = read_at(pidfd, "stat", buf, sizeof(buf));
	if (n < 0) {
		ret = gone((int)n) ? 0 : (int)n;
		goto out;
	}
	/* A pid reused since the reader looked: not the same process, skip it. */
	if (parse_stat(buf, &start, &pflags) || start != r->start_time) {
		ret = 0;
		goto out;
	}
	if (r->pid == 2 || r->ppid == 2 || (pflags & PF_KTHREAD_FLAG))
		r->flags |= PROC_KTHREAD;
	const char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
	if (lp && rp > lp)
		text_escape(r->comm, sizeof(r->comm), lp + 1, (size_t)(rp - lp - 1));

	if (!(st = vec_push(&p->st_new))) {
		ret = -ENOMEM;
		goto out;
	}
	st->pid = r->pid;
	st->start_time = r->start_time;
	st->netns = r->netns;
	st->flags = 0;
	rc = scan_fds(p, pidfd, old, st);
	if (rc == -EACCES || rc == -EPERM) {
		r->flags |= PROC_UNREADABLE;
		r->fds = -1;
		s->totals.unreadable++;
	} else if (rc) {
		ret = gone(rc) ? 0 : rc;
		goto out;
	} else {
		const struct fd_ent *e = (const struct fd_ent *)p->fd_new.v + st->fd_first;
		r->fds = (int64_t)st->fd_count;
		for (size_t i = 0; i < st->fd_count; i++) {
			if (!e[i].inode)
				continue;
			struct sock_owner *o = snapshot_add_owner(s);
			if (!o) {
				ret = -ENOMEM;
				goto out;
			}
			o->inode = e[i].inode;
			o->proc = (int32_t)idx;
			o->fd = e[i].fd;
			o->sock = -1;
			r->sock_fds++;
		}
	}

	if (!old || p->full || old->fd_count != st->fd_count ||
	    (p->scans + (uint64_t)r->pid) % LIMITS_EVERY == 0) {
		st->fd_limit = st->fd_limit_hard = UINT64_MAX;
		n = read_at(pidfd, "limits", buf, sizeof(buf));
		if (n >= 0)
			procscan_parse_limits(buf, &st->fd_limit, &st->fd_limit_hard);
		else if (gone((int)n))
			ret = 0;
	} else {
		st->fd_limit = old->fd_limit;
		st->fd_limit_hard = old->fd_limit_hard;
	}
	r->fd_limit = st->fd_limit;
	r->fd_limit_hard = st->fd_limit_hard;
out:
	if (st && ret != 1) { /* forget what was half read */
		p->fd_new.n = st->fd_first;
		p->st_new.n--;
	}
	close(pidfd);
	return ret;
}

static int cmp_proc(const void *a, const void *b)
{
	const struct proc_rec *x = a, *y = b;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

struct add_ctx {
	struct snapshot *s;
};

static int add_proc(void *arg, const struct procinfo *pi)
{
	struct add_ctx *c = arg;
	struct proc_rec *r = snapshot_add_proc(c->s);
	char clean[PROC_CMDLINE_MAX];

	if (!r)
		return -ENOMEM;
	r->pid = pi->pid;
	r->ppid = pi->ppid;
	r->uid = pi->uid;
	r->start_time = pi->start_time;
	r->netns = pi->netns;
	r->rss_kb = pi->rss_kb;
	r->state = pi->state;
	r->fds = -1;
	r->fd_limit = r->fd_limit_hard = UINT64_MAX;
	text_escape(r->comm, sizeof(r->comm), pi->comm ? pi->comm : "",
		    pi->comm ? strlen(pi->comm) : 0);
	text_escape(r->user, sizeof(r->user), pi->user ? pi->user : "",
		    pi->user ? strlen(pi->user) : 0);
	text_escape(r->unit, sizeof(r->unit), pi->unit ? pi->unit : "",
		    pi->unit ? strlen(pi->unit) : 0);
	text_escape(r->container, sizeof(r->container), pi->container ? pi->container : "",
		    pi->container ? strlen(pi->container) : 0);
	/* A string cannot hold NULs; a reader that joins argv with them is not ours, but a
	 * trailing separator still should not show. */
	copy_str(clean, sizeof(clean), pi->cmdline);
	size_t len = strlen(clean);
	while (len && clean[len - 1] == ' ')
		clean[--len] = '\0';
	text_escape(r->cmdline, sizeof(r->cmdline), clean, len);
	return 0;
}

static void scan_file_nr(struct procscan *p, struct snapshot *s)
{
	char buf[128];
	ssize_t n = read_at(p->rootfd, "sys/fs/file-nr", buf, sizeof(buf));

	if (n < 0)
		note_err(p, (int)n, "%s/sys/fs/file-nr: %s", p->root);
	else if (procscan_parse_file_nr(buf, &s->totals.file_alloc, &s->totals.file_max))
		note_err(p, -EINVAL, "%s/sys/fs/file-nr: %s", p->root);
}

int procscan_scan(struct procscan *p, struct snapshot *s, char **cause)
{
	struct add_ctx ctx = { .s = s };
	size_t base = s->nprocs, out = base;
	char *why = NULL;
	int rc;

	p->err = 0;
	free(p->err_cause), p->err_cause = NULL;
	rc = p->read(p->read_ctx, add_proc, &ctx, &why);
	if (rc) {
		p->err = rc;
		p->err_cause = why ? why : strdup(strerror(-rc));
		why = NULL;
	}
	struct proc_rec *procs = s->procs + base;
	size_t n = s->nprocs - base;
	for (size_t i = 1; i < n; i++)
		if (procs[i - 1].pid >= procs[i].pid) {
			qsort(procs, n, sizeof(*procs), cmp_proc);
			break;
		}

	p->st_new.n = p->fd_new.n = 0;
	const struct pst *old = p->st_old.v;
	size_t j = 0;
	for (size_t i = base; i < s->nprocs; i++) {
		if (out > base && s->procs[i].pid == s->procs[out - 1].pid)
			continue; /* a reader that listed one pid twice */
		if (out != i)
			s->procs[out] = s->procs[i];
		struct proc_rec *r = &s->procs[out];
		while (j < p->st_old.n && old[j].pid < r->pid)
			j++;
		const struct pst *o = j < p->st_old.n && old[j].pid == r->pid &&
			old[j].start_time == r->start_time ? &old[j] : NULL;
		size_t owners_before = s->nowners;
		rc = scan_one(p, s, out, o);
		if (rc == 1) {
			out++;
			continue;
		}
		s->nowners = owners_before;
		if (rc < 0) {
			char pid[16];
			snprintf(pid, sizeof(pid), "%" PRId32, r->pid);
			note_err(p, rc, "process %s: %s", pid);
			if (rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE)
				break; /* every later process would fail the same way */
		}
	}
	s->nprocs = out;
	scan_file_nr(p, s);

	struct vec t = p->st_old;
	p->st_old = p->st_new, p->st_new = t;
	t = p->fd_old;
	p->fd_old = p->fd_new, p->fd_new = t;
	p->full = false;
	p->scans++;

	if (p->err && cause)
		*cause = p->err_cause ? strdup(p->err_cause) : NULL;
	return p->err;
}

static struct pst *find_pst(struct procscan *p, int32_t pid, uint64_t start)
{
	struct pst *v = p->st_old.v;
	size_t lo = 0, hi = p->st_old.n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].pid == pid)
			return v[mid].start_time == start ? &v[mid] : NULL;
		if (v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct fd_ent *find_fd(struct procscan *p, const struct pst *st, int32_t fd)
{
	struct fd_ent *v = (struct fd_ent *)p->fd_old.v + st->fd_first;
	size_t lo = 0, hi = st->fd_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].fd == fd)
			return &v[mid];
		if (v[mid].fd < fd)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static uint32_t ino_hash(uint32_t x)
{
	x ^= x >> 16;
	x *= 0x7feb352d;
	x ^= x >> 15;
	return x;
}

static uint8_t *inoset_slot(struct inoset *t, uint32_t ino, bool *found)
{
	size_t i = ino_hash(ino) & (t->cap - 1);
	while (t->keys[i] && t->keys[i] != ino)
		i = (i + 1) & (t->cap - 1);
	*found = t->keys[i] == ino;
	t->keys[i] = ino;
	return &t->vals[i];
}

static int inoset_reset(struct inoset *t, size_t n)
{
	size_t cap = 16;
	while (cap < n * 2)
		cap *= 2;
	if (cap > t->cap) {
		uint32_t *k = realloc(t->keys, cap * sizeof(*k));
		if (!k)
			return -ENOMEM;
		t->keys = k;
		uint8_t *v = realloc(t->vals, cap);
		if (!v)
			return -ENOMEM;
		t->vals = v;
		t->cap = cap;
	}
	memset(t->keys, 0, t->cap * sizeof(*t->keys));
	return 0;
}

enum { UNOWNED_SEEN = 1, UNOWNED_CHECKED = 2 };
#define REREAD_UIDS_MAX 16

void procscan_note_dump(struct procscan *p, const struct snapshot *s)
{
	/* A socket a process held that left the dump: the fd may now be another file. */
	for (size_t i = 0; i < s->nowners; i++) {
		const struct sock_owner *o = &s->owners[i];
		if (o->proc < 0 || (size_t)o->proc >= s->nprocs)
			continue;
		const struct proc_rec *r = &s->procs[o->proc];
		struct pst *st = find_pst(p, r->pid, r->start_time);
		if (!st)
			continue;
		struct fd_ent *e = find_fd(p, st, o->fd);
		if (!e || e->inode != o->inode)
			continue;
		if (o->sock >= 0)
			e->flags |= FD_IN_DUMP;
		else if (e->flags & FD_IN_DUMP)
			st->flags |= PST_REREAD;
	}

	/* The other way round: a socket no process holds in two dumps running may sit
	 * behind an fd number that was a file before (we never readlink it again).
	 * Reread the processes of its uid, once per such socket. */
	struct inoset *prev = &p->unowned[p->unowned_cur], *cur = &p->unowned[!p->unowned_cur];
	size_t nunowned = 0;
	uint32_t uids[REREAD_UIDS_MAX];
	size_t nuids = 0;
	bool all = false;

	for (size_t i = 0; i < s->nsocks; i++)
		nunowned += s->socks[i].inode && s->socks[i].owner < 0;
	if (inoset_reset(cur, nunowned))
		return;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		bool found;
		/* Kernel-held UNIX and NETLINK sockets are never anyone's: TCP and UDP only. */
		if (!k->inode || k->owner >= 0 || sock_kind_of(k) > SK_UDP)
			continue;
		uint8_t was = 0;
		if (prev->cap) {
			size_t h = ino_hash(k->inode) & (prev->cap - 1);
			while (prev->keys[h] && prev->keys[h] != k->inode)
				h = (h + 1) & (prev->cap - 1);
			if (prev->keys[h] == k->inode)
				was = prev->vals[h];
		}
		uint8_t *v = inoset_slot(cur, k->inode, &found);
		/* A recheck that read every fd of the uid's processes did this already. */
		*v = was || p->unowned_searched ? UNOWNED_CHECKED : UNOWNED_SEEN;
		if (was != UNOWNED_SEEN)
			continue;
		size_t u = 0;
		while (u < nuids && uids[u] != k->uid)
			u++;
		if (u == nuids) {
			if (nuids == REREAD_UIDS_MAX)
				all = true;
			else
				uids[nuids++] = k->uid;
		}
	}
	p->unowned_cur = !p->unowned_cur;
	p->unowned_searched = false;
	if (all) {
		p->full = true;
		return;
	}
	for (size_t u = 0; u < nuids; u++)
		for (size_t i = 0; i < s->nprocs; i++) {
			const struct proc_rec *r = &s->procs[i];
			struct pst *st;
			if (r->uid == uids[u] && (st = find_pst(p, r->pid, r->start_time)))
				st->flags |= PST_REREAD;
		}
}

/* ---- the recheck after the join ------------------------------------------------- */

/* Readlinks one recheck may spend looking for the holders of sockets no process
 * holds; past it, note_dump's reread at the next scan finds them instead. */
#define RECHECK_MAX 2048
#define RECHECK_UIDS_MAX 16

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return (x > y) - (x < y);
}

/* Read one fd link again. Returns 1 when it now names another inode. */
static int relink(int dfd, struct fd_ent *e)
{
	char name[16], link[64];
	uint32_t ino = 0;

	snprintf(name, sizeof(name), "%" PRId32, e->fd);
	ssize_t n = readlinkat(dfd, name, link, sizeof(link) - 1);
	if (n >= 0) {
		link[n] = '\0';
		ino = procscan_socket_inode(link);
	} else if (errno != ENOENT) { /* closed since: no socket there; else keep it */
		return 0;
	}
	if (ino == e->inode)
		return 0;
	e->inode = ino;
	e->flags = FD_LATE;
	return 1;
}

static int open_fd_dir(struct procscan *p, int32_t pid)
{
	char path[32];
	snprintf(path, sizeof(path), "%" PRId32 "/fd", pid);
	return openat(p->rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static bool inoset_has(const struct inoset *t, uint32_t ino)
{
	if (!t->cap)
		return false;
	size_t h = ino_hash(ino) & (t->cap - 1);
	while (t->keys[h] && t->keys[h] != ino)
		h = (h + 1) & (t->cap - 1);
	return t->keys[h] == ino;
}

/* Is inode one of the (sorted) unowned ones? */
static bool in_sorted(const uint32_t *v, size_t n, uint32_t ino)
{
	return ino && bsearch(&ino, v, n, sizeof(*v), cmp_u32);
}

int procscan_recheck(struct procscan *p, struct snapshot *s)
{
	uint8_t *mark = NULL; /* per process: its owners need rebuilding */
	uint32_t *unowned = NULL, uids[RECHECK_UIDS_MAX];
	size_t nunowned = 0, nuids = 0;
	int ret = 0;

	if (!(mark = calloc(s->nprocs + 1, 1)))
		return -ENOMEM;

	/* (a) An fd whose socket left the dump may hold another socket already (dup2,
	 * or a close and a new socket at the same number): read just those fds. */
	for (size_t i = 0; i < s->nowners;) {
		size_t end = i;
		int32_t proc = s->owners[i].proc;
		while (end < s->nowners && s->owners[end].proc == proc)
			end++;
		const struct proc_rec *r = &s->procs[proc];
		struct pst *st = r->pid == p->self ? NULL : find_pst(p, r->pid, r->start_time);
		int dfd = -1;
		for (size_t j = i; st && j < end; j++) {
			const struct sock_owner *o = &s->owners[j];
			struct fd_ent *e;
			if (o->sock >= 0 || !(e = find_fd(p, st, o->fd)) || !(e->flags & FD_IN_DUMP) ||
			    e->inode != o->inode)
				continue;
			if (dfd < 0 && (dfd = open_fd_dir(p, r->pid)) < 0)
				break;
			if (relink(dfd, e))
				mark[proc] = 1;
		}
		if (dfd >= 0)
			close(dfd);
		i = end;
	}

	/* (c) A TCP or UDP socket held by several (pid, fd): shared after fork, or handed
	 * over with the old holder's fd now something else, which nothing else would show
	 * (the socket is still in the dump). Few in steady state: read them all again. */
	for (size_t i = 0; i < s->nowners; i++) {
		const struct sock_owner *o = &s->owners[i];
		if (o->sock < 0 || s->socks[o->sock].owner == (int32_t)i ||
		    sock_kind_of(&s->socks[o->sock]) > SK_UDP)
			continue;
		const struct sock_owner *pair[2] = {&s->owners[s->socks[o->sock].owner], o};
		for (int h = 0; h < 2; h++) {
			const struct proc_rec *r = &s->procs[pair[h]->proc];
			struct pst *st = r->pid == p->self ? NULL : find_pst(p, r->pid, r->start_time);
			struct fd_ent *e = st ? find_fd(p, st, pair[h]->fd) : NULL;
			int dfd;
			if (!e || e->inode != pair[h]->inode || (dfd = open_fd_dir(p, r->pid)) < 0)
				continue;
			if (relink(dfd, e))
				mark[pair[h]->proc] = 1;
			close(dfd);
		}
	}

	/* (b) A socket no process holds, that the last dump did not show unowned: maybe
	 * a new socket at an fd number we know as something else. Its holder runs as the
	 * socket's uid; look at that uid's fds, those not known as TCP sockets first,
	 * until all are found or the budget ends. (One held by a process we cannot see,
	 * in another pid namespace, stays unowned: it is looked for once.) */
	const struct inoset *before = &p->unowned[p->unowned_cur];
	p->unowned_searched = false;
	for (size_t i = 0; i < s->nsocks; i++)
		nunowned += s->socks[i].inode && s->socks[i].owner < 0 && sock_kind_of(&s->socks[i]) <= SK_UDP;
	if (nunowned && !(unowned = malloc(nunowned * sizeof(*unowned)))) {
		ret = -ENOMEM;
		goto out;
	}
	nunowned = 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		/* The kernel's own UNIX and NETLINK sockets have no owner: TCP and UDP only. */
		if (!k->inode || k->owner >= 0 || sock_kind_of(k) > SK_UDP || inoset_has(before, k->inode))
			continue;
		unowned[nunowned++] = k->inode;
		size_t u = 0;
		while (u < nuids && uids[u] != k->uid)
			u++;
		if (u == nuids && nuids < RECHECK_UIDS_MAX)
			uids[nuids++] = k->uid;
	}
	if (nunowned)
		qsort(unowned, nunowned, sizeof(*unowned), cmp_u32);
	size_t budget = RECHECK_MAX, left = nunowned;
	for (int pass = 0; pass < 2 && left && budget; pass++) {
		for (size_t i = 0; i < s->nprocs && left && budget; i++) {
			const struct proc_rec *r = &s->procs[i];
			size_t u = 0;
			while (u < nuids && uids[u] != r->uid)
				u++;
			struct pst *st;
			if (u == nuids || r->pid == p->self || (r->flags & PROC_UNREADABLE) ||
			    !(st = find_pst(p, r->pid, r->start_time)))
				continue;
			struct fd_ent *e = (struct fd_ent *)p->fd_old.v + st->fd_first;
			const struct sock_owner *o = &s->owners[r->owner_first];
			size_t no = r->owner_count, k = 0;
			int dfd = -1;
			for (size_t j = 0; j < st->fd_count && left && budget; j++) {
				while (k < no && o[k].fd < e[j].fd)
					k++;
				/* Pass 0: files, and sockets not in this dump (unix, or gone). */
				bool tcp = e[j].inode && k < no && o[k].fd == e[j].fd && o[k].sock >= 0;
				if (tcp != (pass == 1))
					continue;
				if (dfd < 0 && (dfd = open_fd_dir(p, r->pid)) < 0)
					break;
				budget--;
				if (!relink(dfd, &e[j]))
					continue;
				mark[i] = 1;
				if (in_sorted(unowned, nunowned, e[j].inode))
					left--;
			}
			if (dfd >= 0)
				close(dfd);
		}
	}
	p->unowned_searched = nunowned && budget;

	/* The owners of every process that changed, from its fd table again. */
	size_t out = 0;
	for (size_t i = 0; i < s->nowners; i++)
		if (!mark[s->owners[i].proc])
			s->owners[out++] = s->owners[i];
	if (out == s->nowners)
		goto out;
	s->nowners = out;
	ret = 1;
	for (size_t i = 0; i < s->nprocs; i++) {
		const struct proc_rec *r = &s->procs[i];
		struct pst *st;
		if (!mark[i] || !(st = find_pst(p, r->pid, r->start_time)))
			continue;
		const struct fd_ent *e = (const struct fd_ent *)p->fd_old.v + st->fd_first;
		for (size_t j = 0; j < st->fd_count; j++) {
			if (!e[j].inode)
				continue;
			struct sock_owner *o = snapshot_add_owner(s);
			if (!o) {
				ret = -ENOMEM;
				goto out;
			}
			o->inode = e[j].inode;
			o->proc = (int32_t)i;
			o->fd = e[j].fd;
		}
	}
out:
	free(mark);
	free(unowned);
	return ret;
}

/* Runtimes and how their cgroup names a container: a prefix, then the id. */
static const struct {
	const char *prefix, *runtime;
	bool hex;      /* the id is a hex container id (shown by its first 12 digits) */
} cgroup_runtimes[] = {
	{"docker-", "docker", true},           /* systemd driver: docker-ID.scope */
	{"/docker/", "docker", true},          /* cgroupfs driver */
	{"cri-containerd-", "containerd", true},
	{"crio-", "crio", true},
	{"libpod-", "podman", true},
	{"/kubepods/", "k8s", true},            /* cgroupfs: /kubepods/CLASS/podUID/ID */
	{"lxc.payload.", "lxc", false},
};

void procscan_container(const char *cgroup, char *out, size_t size)
{
	out[0] = '\0';
	if (!cgroup)
		return;
	for (size_t i = 0; i < sizeof(cgroup_runtimes) / sizeof(cgroup_runtimes[0]); i++) {
		const char *pre = cgroup_runtimes[i].prefix;
		for (const char *at = strstr(cgroup, pre); at; at = strstr(at + 1, pre)) {
			const char *id = at + strlen(pre), *end = id;
			if (cgroup_runtimes[i].hex) {
				/* k8s cgroupfs: skip to the last path component. */
				const char *slash;
				while (!strncmp(pre, "/kubepods/", 10) &&
				       (slash = strpbrk(id, "/,\n")) && *slash == '/')
					id = end = slash + 1;
				while ((*end >= '0' && *end <= '9') || (*end >= 'a' && *end <= 'f'))
					end++;
				if (end - id < 12)
					continue;
				snprintf(out, size, "%s:%.12s", cgroup_runtimes[i].runtime, id);
			} else {
				end = id + strcspn(id, "/,\n");
				if (end == id)
					continue;
				snprintf(out, size, "%s:%.*s", cgroup_runtimes[i].runtime,
					 (int)(end - id), id);
			}
			return;
		}
	}
}

void procscan_dump_early(struct procscan *p, uint64_t netns)
{
	p->early_netns = netns;
}

bool procscan_fd_check(void *ctx, int32_t pid, int32_t fd, uint32_t inode)
{
	struct procscan *p = ctx;
	const struct pst *v = p->st_old.v;
	size_t lo = 0, hi = p->st_old.n;
	char path[48], link[64];
	ssize_t n;

	/* Was the fd known to hold this socket before its netns was dumped? */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	const struct fd_ent *e = lo < p->st_old.n && v[lo].pid == pid ? find_fd(p, &v[lo], fd) : NULL;
	if (e && e->inode == inode &&
	    ((e->flags & FD_LATE) || ((e->flags & FD_NEW) && p->early_netns && v[lo].netns == p->early_netns)))
		return false;
	snprintf(path, sizeof(path), "%" PRId32 "/fd/%" PRId32, pid, fd);
	snprintf(path, sizeof(path), "%" PRId32 "/fd/%" PRId32, pid, fd);
	n = readlinkat(p->rootfd, path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return procscan_socket_inode(link) == inode;
}

double procscan_boot_time(const char *root)
{
	char path[4096], line[256];
	double bt = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/stat", root);
	if (!(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %lf", &bt) == 1)
			break;
	fclose(f);
	return bt;
}

void procscan_full_rescan(struct procscan *p)
{
	p->full = true;
}

void procscan_set_reader(struct procscan *p, procscan_reader fn, void *ctx)
{
	p->read = fn;
	p->read_ctx = ctx;
}

void procscan_free(struct procscan *p)
{
	if (!p)
		return;
	if (p->rootfd >= 0)
		close(p->rootfd);
	lp_free(p->lp);
	free(p->root);
	free(p->st_old.v);
	free(p->st_new.v);
	free(p->fd_old.v);
	free(p->fd_new.v);
	free(p->fdnums.v);
	free(p->dents);
	for (int i = 0; i < 2; i++) {
		free(p->unowned[i].keys);
		free(p->unowned[i].vals);
	}
	free(p->err_cause);
	free(p);
}

int procscan_new(struct procscan **out, const char *root, char **cause)
{
	struct procscan *p = calloc(1, sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	p->rootfd = -1;
	p->full = true;
	p->st_old.size = p->st_new.size = sizeof(struct pst);
	p->fd_old.size = p->fd_new.size = sizeof(struct fd_ent);
	p->fdnums.size = sizeof(int32_t);
	p->dents_size = 32768;
	if (!(p->root = strdup(root ? root : "/proc")) || !(p->dents = malloc(p->dents_size))) {
		procscan_free(p);
		return -ENOMEM;
	}
	p->rootfd = open(p->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->rootfd < 0) {
		rc = -errno;
		if (cause && asprintf(cause, "%s: %s", p->root, strerror(-rc)) < 0)
			*cause = NULL;
		procscan_free(p);
		return rc;
	}
	char self[16];
	ssize_t n = readlinkat(p->rootfd, "self", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		p->self = (int32_t)strtol(self, NULL, 10);
	}
	if ((rc = lp_new(&p->lp, cause))) {
		procscan_free(p);
		return rc;
	}
	p->read = lp_read;
	p->read_ctx = p->lp;
	*out = p;
	return 0;
}
