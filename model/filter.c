/* Which rows a view shows: the --pid/--port/--netns filters, and the row lists built
 * with them (processes by fds, the sockets with the most Recv-Q, backlog groups). */
#include "config.h"

#include "model/view.h"
#include "model/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_list(const char *list, long lo, long hi, long *out, size_t *n, const char *what,
		      char **cause)
{
	const char *p = list;

	while (*p) {
		char *end;
		errno = 0;
		long v = strtol(p, &end, 10);
		if (end == p || errno || v < lo || v > hi || (*end && *end != ',')) {
			if (cause && asprintf(cause, "bad %s list '%s': expected numbers %ld-%ld separated by commas",
				     what, list, lo, hi) < 0)
				*cause = NULL;
			return -EINVAL;
		}
		if (*n >= VIEW_MAX_KEYS) {
			if (cause && asprintf(cause, "too many %ss (at most %d)", what, VIEW_MAX_KEYS) < 0)
				*cause = NULL;
			return -EINVAL;
		}
		out[(*n)++] = v;
		p = *end ? end + 1 : end;
	}
	return 0;
}

int view_filter_pids(struct view_filter *f, const char *list, char **cause)
{
	long v[VIEW_MAX_KEYS];
	size_t n = 0;
	int rc = parse_list(list, 1, 0x7fffffff, v, &n, "pid", cause);

	for (size_t i = 0; !rc && i < n && f->npids < VIEW_MAX_KEYS; i++)
		f->pids[f->npids++] = (int32_t)v[i];
	return rc;
}

int view_filter_ports(struct view_filter *f, const char *list, char **cause)
{
	long v[VIEW_MAX_KEYS];
	size_t n = 0;
	int rc = parse_list(list, 0, 65535, v, &n, "port", cause);

	for (size_t i = 0; !rc && i < n && f->nports < VIEW_MAX_KEYS; i++)
		f->ports[f->nports++] = (uint16_t)v[i];
	return rc;
}

int view_filter_netns(struct view_filter *f, const char *list, char **cause)
{
	long v[VIEW_MAX_KEYS];
	size_t n = 0;
	int rc = parse_list(list, 1, 0x7fffffffffffffffL, v, &n, "netns", cause);

	for (size_t i = 0; !rc && i < n && f->nnetns < VIEW_MAX_KEYS; i++)
		f->netns[f->nnetns++] = (uint64_t)v[i];
	return rc;
}

static bool has_netns(const struct view_filter *f, uint64_t netns)
{
	if (!f->nnetns)
		return true;
	for (size_t i = 0; i < f->nnetns; i++)
		if (f->netns[i] == netns)
			return true;
	return false;
}

static bool has_pid(const struct view_filter *f, int32_t pid)
{
	for (size_t i = 0; i < f->npids; i++)
		if (f->pids[i] == pid)
			return true;
	return false;
}

static bool has_port(const struct view_filter *f, uint16_t port)
{
	for (size_t i = 0; i < f->nports; i++)
		if (f->ports[i] == port)
			return true;
	return false;
}

bool view_sock_match(const struct view_filter *f, const struct snapshot *s, const struct sock_rec *k)
{
	if (f->nports && !has_port(f, k->lport) && !has_port(f, k->rport))
		return false;
	if (!has_netns(f, k->netns))
		return false;
	if (f->npids) {
		/* A socket shared by several processes (after fork) goes by its first holder,
		 * the lowest pid, as everywhere else in leaktop. */
		const struct proc_rec *p = snapshot_sock_proc(s, k);
		if (!p || !has_pid(f, p->pid))
			return false;
	}
	return true;
}

bool view_proc_match(const struct view_filter *f, const struct snapshot *s, const struct proc_rec *p)
{
	if (f->npids && !has_pid(f, p->pid))
		return false;
	if (!has_netns(f, p->netns))
		return false;
	if (f->nports) {
		for (uint32_t i = 0; i < p->owner_count; i++) {
			const struct sock_owner *o = &s->owners[p->owner_first + i];
			if (o->sock >= 0 && (has_port(f, s->socks[o->sock].lport) ||
					     has_port(f, s->socks[o->sock].rport)))
				return true;
		}
		return false;
	}
	return true;
}

bool view_port_match(const struct view_filter *f, const struct port_agg *p)
{
	if (f->nports && !has_port(f, p->port))
		return false;
	if (!has_netns(f, p->netns))
		return false;
	if (f->npids) {
		for (uint32_t i = 0; i < p->npids; i++)
			if (has_pid(f, p->pids[i]))
				return true;
		return false;
	}
	return true;
}

/* The backlog order: Recv-Q descending, then inode, then cookie. Total, so the
 * sockets listed do not depend on the order of the dump (a replay has another). */
static bool backlog_before(const struct sock_rec *x, const struct sock_rec *y)
{
	if (x->rqueue != y->rqueue)
		return x->rqueue > y->rqueue;
	if (x->inode != y->inode)
		return x->inode < y->inode;
	return x->cookie < y->cookie;
}

/* A bounded heap with the last of the top `max` at its root: the top of 150k
 * sockets without sorting them all. */
static void heap_sift_down(const struct snapshot *s, uint32_t *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && backlog_before(&s->socks[h[m]], &s->socks[h[l]]))
			m = l;
		if (l + 1 < n && backlog_before(&s->socks[h[m]], &s->socks[h[l + 1]]))
			m = l + 1;
		if (m == i)
			return;
		uint32_t t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static const struct snapshot *cmp_snap;

static int cmp_backlog(const void *a, const void *b)
{
	const struct sock_rec *x = &cmp_snap->socks[*(const uint32_t *)a];
	const struct sock_rec *y = &cmp_snap->socks[*(const uint32_t *)b];
	return backlog_before(x, y) ? -1 : backlog_before(y, x) ? 1 : 0;
}

size_t view_backlog(const struct snapshot *s, const struct view_filter *f, uint32_t *idx, size_t max)
{
	size_t n = 0;

	if (!max)
		return 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		if (!k->rqueue || (f && !view_sock_match(f, s, k)))
			continue;
		if (n < max) {
			idx[n++] = (uint32_t)i;
			if (n == max)
				for (size_t j = n / 2; j-- > 0;)
					heap_sift_down(s, idx, n, j);
		} else if (backlog_before(k, &s->socks[idx[0]])) {
			idx[0] = (uint32_t)i;
			heap_sift_down(s, idx, n, 0);
		}
	}
	cmp_snap = s;
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_backlog);
	return n;
}

static int cmp_fds(const void *a, const void *b)
{
	const struct proc_rec *x = &cmp_snap->procs[*(const uint32_t *)a];
	const struct proc_rec *y = &cmp_snap->procs[*(const uint32_t *)b];
	if (x->fds != y->fds)
		return x->fds < y->fds ? 1 : -1;
	return (x->pid > y->pid) - (x->pid < y->pid);
}

size_t view_procs_by_fds(const struct snapshot *s, const struct view_filter *f, uint32_t *idx)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nprocs; i++)
		if (!f || view_proc_match(f, s, &s->procs[i]))
			idx[n++] = (uint32_t)i;
	cmp_snap = s;
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_fds);
	return n;
}

/* --- The backlog ----------------------------------------------------------------- */

static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *p = realloc(*arr, n * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

static int32_t sock_proc_index(const struct snapshot *s, const struct sock_rec *k)
{
	return k->owner >= 0 && (size_t)k->owner < s->nowners ? s->owners[k->owner].proc : -1;
}

/* A backlog socket's order, packed: owner (none first), local port, then Recv-Q
 * descending and inode. Sorting 90k of these beats a comparator that reaches into
 * two socket records and their owners each time (~100 ms a refresh at 180k). */
struct view_bl_key {
	uint64_t hi;                 /* (proc + 1) << 16 | lport */
	uint64_t lo;                 /* ~rqueue << 32 | inode */
	uint32_t sock;
};

static int cmp_bl_key(const void *a, const void *b)
{
	const struct view_bl_key *x = a, *y = b;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return (x->lo > y->lo) - (x->lo < y->lo);
}

int view_backlog_build(struct view_backlog *b, const struct snapshot *s, const struct view_filter *f,
		       const struct view_query *q)
{
	b->nsocks = b->ngroups = 0;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		if (!k->rqueue || k->state == ST_LISTEN || (f && !view_sock_match(f, s, k)) || !view_query_sock(q, s, k))
			continue;
		if (grow((void **)&b->socks, &b->socks_cap, b->nsocks + 1, sizeof(*b->socks)))
			return -ENOMEM;
		b->socks[b->nsocks++] = (uint32_t)i;
	}
	if (b->nsocks) { /* b->socks is NULL until the first socket with a backlog */
		if (grow((void **)&b->keys, &b->keys_cap, b->nsocks, sizeof(*b->keys)))
			return -ENOMEM;
		for (size_t i = 0; i < b->nsocks; i++) {
			const struct sock_rec *k = &s->socks[b->socks[i]];
			b->keys[i].hi = (uint64_t)(uint32_t)(sock_proc_index(s, k) + 1) << 16 | k->lport;
			b->keys[i].lo = (uint64_t)(UINT32_MAX - k->rqueue) << 32 | k->inode;
			b->keys[i].sock = b->socks[i];
		}
		qsort(b->keys, b->nsocks, sizeof(*b->keys), cmp_bl_key);
		for (size_t i = 0; i < b->nsocks; i++)
			b->socks[i] = b->keys[i].sock;
	}
	struct view_bl_group *g = NULL;
	for (size_t i = 0; i < b->nsocks; i++) {
		const struct sock_rec *k = &s->socks[b->socks[i]];
		int32_t proc = sock_proc_index(s, k);
		if (!g || g->proc != proc || g->port != k->lport) {
			if (grow((void **)&b->groups, &b->groups_cap, b->ngroups + 1, sizeof(*b->groups)))
				return -ENOMEM;
			g = &b->groups[b->ngroups++];
			*g = (struct view_bl_group){.proc = proc, .port = k->lport, .first = (uint32_t)i};
		}
		g->count++;
		g->recv_q += k->rqueue;
		g->send_q += k->wqueue;
		if (k->rqueue > g->max_q)
			g->max_q = k->rqueue;
	}
	return 0;
}

void view_backlog_free(struct view_backlog *b)
{
	if (!b)
		return;
	free(b->socks);
	free(b->groups);
	free(b->keys);
	memset(b, 0, sizeof(*b));
}
