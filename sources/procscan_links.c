/* Reading whole fd tables on two cores: the directory pass queues each table's links,
 * a second thread reads them meanwhile, and the scan's own thread joins it at the end. */
#include "config.h"

#include "sources/procscan_int.h"
#include "sources/stop.h"
#include "model/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A readlink costs ~4 us; the first scan does one per fd on the machine (90k at the
 * benchmark's load). Jobs of at most LINKS_PER_JOB links; the second thread is worth
 * starting at LINKS_TWO_THREADS links. */
#define LINKS_PER_JOB 2048
#define LINKS_TWO_THREADS 4096

/* Part of one process's fd table, copied: the directory pass may grow (move) fd_new
 * while a thread reads these. */
struct link_job {
	int32_t pid;
	bool cancelled;
	size_t first, count;     /* the slice of fd_new the results go back to */
	struct fd_ent *ents;
};

struct link_queue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct link_job *v;
	size_t n, cap, next;     /* next: the first job no thread has taken */
	size_t pending, taken;   /* links queued, and in jobs a thread took */
	bool producing;          /* the directory pass may queue more */
	bool helper;             /* the second thread runs */
	pthread_t thread;
};

/* One job: read its links; a link gone (closed since the readdir) is FD_GONE. */
static void read_job(int rootfd, struct link_job *job)
{
	struct fd_ent *e = job->ents;
	char path[32], name[16], link[64];

	snprintf(path, sizeof(path), "%" PRId32 "/fd", job->pid);
	int dfd = openat(rootfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int derr = dfd < 0 ? errno : 0;
	for (size_t i = 0; i < job->count; i++) {
		if (!(e[i].flags & FD_PENDING))
			continue;
		if (stop_asked()) { /* read again, if ever there is a next refresh */
			e[i].flags = FD_RETRY;
			e[i].inode = 0;
			continue;
		}
		ssize_t n = -1;
		if (dfd >= 0) {
			snprintf(name, sizeof(name), "%" PRId32, e[i].fd);
			n = readlinkat(dfd, name, link, sizeof(link) - 1);
		}
		int err = dfd < 0 ? derr : n < 0 ? errno : 0;
		if (err == ENOENT || err == ESRCH) { /* closed since the readdir, or exited */
			e[i].flags = FD_GONE;
			continue;
		}
		if (err) {
			e[i].flags = FD_RETRY;
			e[i].inode = 0;
			continue;
		}
		link[n] = '\0';
		uint32_t ino = procscan_socket_inode(link);
		e[i].flags = ino && ino != e[i].inode ? FD_NEW : 0;
		e[i].inode = ino;
	}
	if (dfd >= 0)
		close(dfd);
}

/* Take jobs until none is left and none may come. */
static void drain(struct procscan *p)
{
	struct link_queue *q = p->links;

	pthread_mutex_lock(&q->mu);
	for (;;) {
		while (q->next < q->n && q->v[q->next].cancelled)
			q->next++;
		if (q->next == q->n) {
			if (!q->producing)
				break;
			pthread_cond_wait(&q->cv, &q->mu);
			continue;
		}
		struct link_job job = q->v[q->next++];
		q->taken += job.count;
		pthread_mutex_unlock(&q->mu);
		read_job(p->rootfd, &job);
		pthread_mutex_lock(&q->mu);
	}
	pthread_mutex_unlock(&q->mu);
}

static void *helper_main(void *arg)
{
	drain(arg);
	return NULL;
}

static void helper_start(struct procscan *p)
{
	struct link_queue *q = p->links;
	sigset_t all, old;

	/* The helper takes no signal: they are the main thread's business. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	q->helper = pthread_create(&q->thread, NULL, helper_main, p) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int procscan_links_start(struct procscan *p, bool full)
{
	struct link_queue *q = p->links;

	if (!q) {
		if (!(q = calloc(1, sizeof(*q))))
			return -ENOMEM;
		pthread_mutex_init(&q->mu, NULL);
		pthread_cond_init(&q->cv, NULL);
		p->links = q;
	}
	q->n = q->next = q->pending = q->taken = 0;
	q->producing = true;
	if (full)
		helper_start(p);
	return 0;
}

int procscan_links_push(struct procscan *p, const struct pst *st)
{
	struct link_queue *q = p->links;
	struct fd_ent *e = fd_slice(&p->fd_new, st->fd_first, st->fd_count);
	size_t at = 0;
	int ret = 0;

	for (; q && at < st->fd_count; at += LINKS_PER_JOB) {
		size_t count = st->fd_count - at < LINKS_PER_JOB ? st->fd_count - at : LINKS_PER_JOB;
		struct fd_ent *ents = malloc(count * sizeof(*ents));
		if (!ents)
			break;
		memcpy(ents, e + at, count * sizeof(*ents));
		pthread_mutex_lock(&q->mu);
		struct link_job *job = VEC_PUSH(q->v, q->n, q->cap);
		if (job) {
			*job = (struct link_job){ .pid = st->pid, .first = st->fd_first + at, .count = count, .ents = ents };
			q->pending += count;
			pthread_cond_signal(&q->cv);
		}
		pthread_mutex_unlock(&q->mu);
		if (!job) {
			free(ents);
			break;
		}
	}
	/* What could not be queued is read again next scan. */
	for (size_t i = at; i < st->fd_count; i++) {
		e[i].flags = FD_RETRY;
		e[i].inode = 0;
		ret = -ENOMEM;
	}
	return ret;
}

void procscan_links_cancel(struct procscan *p, size_t first)
{
	struct link_queue *q = p->links;

	if (!q)
		return;
	pthread_mutex_lock(&q->mu);
	for (size_t i = q->n; i > 0 && q->v[i - 1].first >= first; i--)
		q->v[i - 1].cancelled = true;
	pthread_mutex_unlock(&q->mu);
}

int procscan_links_finish(struct procscan *p)
{
	struct link_queue *q = p->links;

	if (!q)
		return -ENOMEM;
	pthread_mutex_lock(&q->mu);
	q->producing = false;
	pthread_cond_broadcast(&q->cv);
	bool two = !q->helper && q->pending - q->taken >= LINKS_TWO_THREADS;
	pthread_mutex_unlock(&q->mu);
	if (two)
		helper_start(p);
	drain(p);
	if (q->helper)
		pthread_join(q->thread, NULL);
	q->helper = false;
	for (size_t i = 0; i < q->n; i++) {
		if (!q->v[i].cancelled)
			memcpy(p->fd_new.v + q->v[i].first, q->v[i].ents, q->v[i].count * sizeof(*q->v[i].ents));
		free(q->v[i].ents);
	}
	q->n = q->next = q->pending = q->taken = 0;
	return 0;
}

void procscan_links_free(struct procscan *p)
{
	struct link_queue *q = p->links;

	if (!q)
		return;
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->cv);
	free(q->v);
	free(q);
}
