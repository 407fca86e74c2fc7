/* The /proc scan and its incremental fd map: per process (through one dirfd) the
 * limits, the fd count and the socket-inode -> (pid, fd) links, read again only
 * where they may have changed. The reader, parsers and recheck have files of their own. */
#include "config.h"

#include "sources/procscan_int.h"
#include "sources/stop.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "model/vec.h"

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

/* Reading limits costs about what the stat read does. A process whose fd count moves
 * gets them every scan; a quiet one every LIMITS_EVERY scans (spread by pid). */
#define LIMITS_EVERY 8

/* The first unexpected error of this scan: "WHAT DETAIL: strerror". */
static void note_err(struct procscan *p, int err, const char *what, const char *detail)
{
	if (p->err)
		return;
	p->err = err;
	text_cause(&p->err_cause, err, "%s%s: %s", what, detail, strerror(-err));
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
			/* At most 10 digits and within int32: /proc has no other, a fake tree may. */
			int64_t big = 0;
			for (int digits = 0; *s >= '0' && *s <= '9' && digits < 11; s++, digits++)
				big = big * 10 + (*s - '0');
			if (*s || big > INT32_MAX)
				continue;
			v = (int32_t)big;
			int32_t *slot = VEC_PUSH(p->fdnums.v, p->fdnums.n, p->fdnums.cap);
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
	/* No offset from a NULL array: the last scan may have seen no fds at all. */
	const struct fd_ent *prev = old ? fd_slice(&p->fd_old, old->fd_first, old->fd_count) : NULL;
	size_t nprev = old ? old->fd_count : 0, j = 0;
	/* Our own transient fds (this very scan's dirfds) come back as sockets at the
	 * same numbers all the time: never trust our old table. */
	bool reread = p->full || !old || (old->flags & PST_REREAD) || st->pid == p->self;
	const int32_t *nums = p->fdnums.v;

	for (size_t i = 0; i < p->fdnums.n; i++) {
		int32_t fd = nums[i];
		while (j < nprev && prev[j].fd < fd)
			j++;
		struct fd_ent *e = VEC_PUSH(p->fd_new.v, p->fd_new.n, p->fd_new.cap);
		if (!e) {
			close(dfd);
			return -ENOMEM;
		}
		if (!reread && j < nprev && prev[j].fd == fd && !(prev[j].flags & FD_RETRY)) {
			*e = prev[j];
			e->flags &= ~(uint32_t)(FD_NEW | FD_LATE);
			continue;
		}
		if (reread) { /* procscan_links reads it, with the rest of the table */
			e->fd = fd;
			e->inode = j < nprev && prev[j].fd == fd ? prev[j].inode : 0;
			e->flags = FD_PENDING;
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
	return reread ? procscan_links_push(p, st) : 0;
}

/* After procscan_links_finish: drop the fds closed meanwhile (packing fd_new) and list each
 * process's socket fds as owners. */
static int fill_owners(struct procscan *p, struct snapshot *s, size_t base)
{
	size_t w = 0;

	for (size_t k = 0; k < p->st_new.n; k++) {
		struct pst *st = &p->st_new.v[k];
		struct proc_rec *r = &s->procs[base + k];
		const struct fd_ent *e = fd_slice(&p->fd_new, st->fd_first, st->fd_count);
		size_t first = w;
		for (size_t i = 0; i < st->fd_count; i++)
			if (!(e[i].flags & FD_GONE))
				p->fd_new.v[w++] = e[i];
		st->fd_first = first;
		st->fd_count = w - first;
		if (r->flags & PROC_UNREADABLE)
			continue;
		r->fds = (int64_t)st->fd_count;
		e = fd_slice(&p->fd_new, first, st->fd_count);
		for (size_t i = 0; i < st->fd_count; i++) {
			if (!e[i].inode)
				continue;
			struct sock_owner *o = snapshot_add_owner(s);
			if (!o)
				return -ENOMEM;
			o->inode = e[i].inode;
			o->proc = (int32_t)(base + k);
			o->fd = e[i].fd;
			o->sock = -1;
			r->sock_fds++;
		}
	}
	p->fd_new.n = w;
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
	ssize_t n = procscan_read_at(pidfd, "stat", buf, sizeof(buf));
	if (n < 0) {
		ret = gone((int)n) ? 0 : (int)n;
		goto out;
	}
	/* A pid reused since the reader looked: not the same process, skip it. */
	if (procscan_parse_stat(buf, &start, &pflags) || start != r->start_time) {
		ret = 0;
		goto out;
	}
	if (r->pid == 2 || r->ppid == 2 || (pflags & PF_KTHREAD_FLAG))
		r->flags |= PROC_KTHREAD;
	const char *lp = strchr(buf, '('), *rp = strrchr(buf, ')');
	if (lp && rp > lp)
		text_escape(r->comm, sizeof(r->comm), lp + 1, (size_t)(rp - lp - 1));

	if (!(st = VEC_PUSH(p->st_new.v, p->st_new.n, p->st_new.cap))) {
		ret = -ENOMEM;
		goto out;
	}
	/* The netns from one stat (a reader may know it already): cheaper than libproc2,
	 * and read every scan, as `ip netns exec` moves a process and keeps its pid. */
	struct stat sb;
	if (!r->netns && !fstatat(pidfd, "ns/net", &sb, 0))
		r->netns = (uint64_t)sb.st_ino;
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
	}

	if (!old || p->full || old->fd_count != st->fd_count ||
	    (p->scans + (uint64_t)r->pid) % LIMITS_EVERY == 0) {
		st->fd_limit = st->fd_limit_hard = UINT64_MAX;
		n = procscan_read_at(pidfd, "limits", buf, sizeof(buf));
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
		procscan_links_cancel(p, st->fd_first);
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
	int32_t self;
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
	if (c->self && r->pid == c->self)
		r->flags |= PROC_SELF;
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
	procscan_copy_str(clean, sizeof(clean), pi->cmdline);
	size_t len = strlen(clean);
	while (len && clean[len - 1] == ' ')
		clean[--len] = '\0';
	text_escape(r->cmdline, sizeof(r->cmdline), clean, len);
	return 0;
}

static void scan_file_nr(struct procscan *p, struct snapshot *s)
{
	char buf[128];
	ssize_t n = procscan_read_at(p->rootfd, "sys/fs/file-nr", buf, sizeof(buf));

	if (n < 0)
		note_err(p, (int)n, p->root, "/sys/fs/file-nr");
	else if (procscan_parse_file_nr(buf, &s->totals.file_alloc, &s->totals.file_max))
		note_err(p, -EINVAL, p->root, "/sys/fs/file-nr");
}

int procscan_scan(struct procscan *p, struct snapshot *s, char **cause)
{
	struct add_ctx ctx = { .s = s, .self = p->self };
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
	/* Room for as many fds as the last scan found, and an eighth, taken at once: a
	 * table grown push by push from nothing (it was freed) cost a 180k-socket scan
	 * 20-40 ms. If that fails, the pushes say so. */
	(void)VEC_RESERVE(p->fd_new.v, p->fd_new.cap, p->fd_old.n + p->fd_old.n / 8);
	if ((rc = procscan_links_start(p, p->full)))
		note_err(p, rc, "process ", "fd links");
	const struct pst *old = p->st_old.v;
	size_t j = 0;
	bool stopped = false;
	for (size_t i = base; i < s->nprocs; i++) {
		if ((stopped = stop_asked()))
			break; /* the refresh is not to be used: what is read so far is kept */
		if (out > base && s->procs[i].pid == s->procs[out - 1].pid)
			continue; /* a reader that listed one pid twice */
		if (out != i)
			s->procs[out] = s->procs[i];
		struct proc_rec *r = &s->procs[out];
		while (j < p->st_old.n && old[j].pid < r->pid)
			j++;
		const struct pst *o = j < p->st_old.n && old[j].pid == r->pid &&
			old[j].start_time == r->start_time ? &old[j] : NULL;
		rc = scan_one(p, s, out, o);
		if (rc == 1) {
			out++;
			continue;
		}
		if (rc < 0) {
			char pid[16];
			snprintf(pid, sizeof(pid), "%" PRId32, r->pid);
			note_err(p, rc, "process ", pid);
			if (rc == -ENOMEM || rc == -EMFILE || rc == -ENFILE)
				break; /* every later process would fail the same way */
		}
	}
	s->nprocs = out;
	if ((rc = procscan_links_finish(p)))
		note_err(p, rc, "process ", "fd links");
	if ((rc = fill_owners(p, s, base)))
		note_err(p, rc, "process ", "fds");
	scan_file_nr(p, s);

	struct pst_vec st = p->st_old;
	p->st_old = p->st_new, p->st_new = st;
	/* The last scan's fd table is only storage for the next scan now: freed, not
	 * held between scans (8 MB at 700k fds; the next scan takes room for as many). */
	free(p->fd_old.v);
	p->fd_old = p->fd_new;
	p->fd_new = (struct fd_vec){0};
	p->full = stopped && p->full; /* a first scan cut short is done whole next time */
	p->scans++;
	if (stopped && !p->err) {
		p->err = -ECANCELED;
		p->err_cause = strdup("stopped");
	}

	if (p->err && cause)
		*cause = p->err_cause ? strdup(p->err_cause) : NULL;
	return p->err;
}

struct pst *procscan_find_pst(struct procscan *p, int32_t pid, uint64_t start)
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

struct fd_ent *procscan_find_fd(struct procscan *p, const struct pst *st, int32_t fd)
{
	struct fd_ent *v = fd_slice(&p->fd_old, st->fd_first, st->fd_count);
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
	const struct fd_ent *e = lo < p->st_old.n && v[lo].pid == pid ? procscan_find_fd(p, &v[lo], fd) : NULL;
	if (e && e->inode == inode &&
	    ((e->flags & FD_LATE) || ((e->flags & FD_NEW) && p->early_netns && v[lo].netns == p->early_netns)))
		return false;
	snprintf(path, sizeof(path), "%" PRId32 "/fd/%" PRId32, pid, fd);
	n = readlinkat(p->rootfd, path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return procscan_socket_inode(link) == inode;
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
	procscan_lp_free(p->lp);
	free(p->root);
	free(p->st_old.v);
	free(p->st_new.v);
	free(p->fd_old.v);
	free(p->fd_new.v);
	free(p->fdnums.v);
	procscan_links_free(p);
	free(p->dents);
	hashtab_free(&p->unowned[0]);
	hashtab_free(&p->unowned[1]);
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
	hashtab_init(&p->unowned[0], sizeof(uint8_t));
	hashtab_init(&p->unowned[1], sizeof(uint8_t));
	p->dents_size = 32768;
	if (!(p->root = strdup(root ? root : "/proc")) || !(p->dents = malloc(p->dents_size))) {
		procscan_free(p);
		return -ENOMEM;
	}
	p->rootfd = open(p->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (p->rootfd < 0) {
		rc = text_cause(cause, -errno, "%s: %s", p->root, strerror(errno));
		procscan_free(p);
		return rc;
	}
	char self[16];
	ssize_t n = readlinkat(p->rootfd, "self", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		p->self = (int32_t)strtol(self, NULL, 10);
	}
	if ((rc = procscan_lp_new(&p->lp, cause))) {
		procscan_free(p);
		return rc;
	}
	p->read = procscan_lp_read;
	p->read_ctx = p->lp;
	*out = p;
	return 0;
}
