/* What to read again, so attribution follows fd reuse: after a dump (note_dump marks
 * processes to reread at the next scan) and right after the join (the recheck). */
#include "config.h"

#include "sources/procscan_int.h"
#include "model/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { UNOWNED_SEEN = 1, UNOWNED_CHECKED = 2 };
#define REREAD_UIDS_MAX 16
/* Links one refresh may reread for the spread search (at least one process's): at
 * 90k socket fds in one uid, rereading them at once made one refresh cost twice the
 * others; ~4 us a link, on two threads, so ~10 ms a refresh. The search rarely finds
 * anything (the usual unowned socket lives in another pid namespace), so it goes
 * slowly: 90k fds in ~22 refreshes. */
#define SPREAD_LINKS 4096

/* Queue a reread of every process of uid (of every process past REREAD_UIDS_MAX). */
static void spread_add(struct procscan *p, uint32_t uid)
{
	size_t u = 0;
	while (u < p->spread.nuids && p->spread.uids[u] != uid)
		u++;
	if (u < p->spread.nuids || p->spread.all)
		return;
	if (p->spread.nuids == REREAD_UIDS_MAX)
		p->spread.all = true;
	else if (u == p->spread.nuids)
		p->spread.uids[p->spread.nuids++] = uid;
	/* From the start again, so the new uid's processes before the cursor are read. */
	p->spread.active = true;
	p->spread.pid = -1;
}

/* Mark the next processes of the spread search for a reread at the next scan. */
static void spread_step(struct procscan *p, const struct snapshot *s)
{
	size_t links = 0;

	for (size_t i = 0; i < s->nprocs; i++) {
		const struct proc_rec *r = &s->procs[i];
		struct pst *st;
		size_t u = 0;
		if (r->pid <= p->spread.pid)
			continue;
		while (!p->spread.all && u < p->spread.nuids && p->spread.uids[u] != r->uid)
			u++;
		if ((p->spread.all || u < p->spread.nuids) && (st = procscan_find_pst(p, r->pid, r->start_time))) {
			st->flags |= PST_REREAD;
			links += st->fd_count;
		}
		p->spread.pid = r->pid;
		if (links >= SPREAD_LINKS)
			return;
	}
	p->spread.active = p->spread.all = false;
	p->spread.nuids = 0;
	p->spread.pid = -1;
}

void procscan_note_dump(struct procscan *p, const struct snapshot *s)
{
	/* A socket a process held that left the dump: the fd may now be another file. */
	for (size_t i = 0; i < s->nowners; i++) {
		const struct sock_owner *o = &s->owners[i];
		if (o->proc < 0 || (size_t)o->proc >= s->nprocs)
			continue;
		const struct proc_rec *r = &s->procs[o->proc];
		struct pst *st = procscan_find_pst(p, r->pid, r->start_time);
		if (!st)
			continue;
		struct fd_ent *e = procscan_find_fd(p, st, o->fd);
		if (!e || e->inode != o->inode)
			continue;
		if (o->sock >= 0)
			e->flags |= FD_IN_DUMP;
		else if (e->flags & FD_IN_DUMP)
			st->flags |= PST_REREAD;
	}

	/* The other way round: a socket no process holds in two dumps running may sit
	 * behind an fd number that was a file before (we never readlink it again).
	 * Reread the processes of its uid, once per such socket, a few a refresh. */
	const struct hashtab *prev = &p->unowned[p->unowned_cur];
	struct hashtab *cur = &p->unowned[!p->unowned_cur];
	size_t nunowned = 0;

	for (size_t i = 0; i < s->nsocks; i++)
		nunowned += s->socks[i].inode && s->socks[i].owner < 0;
	if (hashtab_reset(cur, nunowned))
		return;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		bool found;
		const uint8_t *seen;
		/* Kernel-held UNIX and NETLINK sockets are never anyone's: TCP and UDP only. */
		if (!k->inode || k->owner >= 0 || sock_kind_of(k) > SK_UDP)
			continue;
		uint8_t was = (seen = hashtab_get(prev, k->inode)) ? *seen : 0;
		uint8_t *v = hashtab_put(cur, k->inode, &found);
		if (!v)
			return;
		/* A recheck that read every fd of the uid's processes did this already. */
		*v = was || p->unowned_searched ? UNOWNED_CHECKED : UNOWNED_SEEN;
		if (was != UNOWNED_SEEN)
			continue;
		spread_add(p, k->uid);
	}
	p->unowned_cur = !p->unowned_cur;
	p->unowned_searched = false;
	if (p->spread.active)
		spread_step(p, s);
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

/* Is inode one of the (sorted) unowned ones? */
static bool in_sorted(const uint32_t *v, size_t n, uint32_t ino)
{
	return ino && n && bsearch(&ino, v, n, sizeof(*v), cmp_u32); /* v is NULL when n is 0 */
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
		struct pst *st = r->pid == p->self ? NULL : procscan_find_pst(p, r->pid, r->start_time);
		int dfd = -1;
		for (size_t j = i; st && j < end; j++) {
			const struct sock_owner *o = &s->owners[j];
			struct fd_ent *e;
			if (o->sock >= 0 || !(e = procscan_find_fd(p, st, o->fd)) || !(e->flags & FD_IN_DUMP) ||
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
			struct pst *st = r->pid == p->self ? NULL : procscan_find_pst(p, r->pid, r->start_time);
			struct fd_ent *e = st ? procscan_find_fd(p, st, pair[h]->fd) : NULL;
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
	const struct hashtab *before = &p->unowned[p->unowned_cur];
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
		if (!k->inode || k->owner >= 0 || sock_kind_of(k) > SK_UDP || hashtab_get(before, k->inode))
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
			    !(st = procscan_find_pst(p, r->pid, r->start_time)))
				continue;
			struct fd_ent *e = fd_slice(&p->fd_old, st->fd_first, st->fd_count);
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
		if (!mark[i] || !(st = procscan_find_pst(p, r->pid, r->start_time)))
			continue;
		const struct fd_ent *e = fd_slice(&p->fd_old, st->fd_first, st->fd_count);
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

