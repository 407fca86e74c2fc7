/* The default process reader: libproc2's pids interface, with what never changes in a
 * process's life (user, cmdline, cgroup: unit and container) read once per pid + start
 * time. The netns is the scan's (one stat), not libproc2's (which reads every ns). */
#include "config.h"

#include "sources/procscan_int.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "model/vec.h"

#include <libproc2/pids.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SELECT_MAX 255                /* procps_pids_select refuses more (EINVAL) */

/* What never changes in a process's life, read once per pid + start time. exec keeps
 * both, so a changed comm (stat, read anyway) makes us fetch these again. */
struct lp_proc {
	int32_t pid, ppid;
	uint32_t uid;
	uint64_t start_time, rss_kb;
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
	size_t ncur, nold, cap;    /* cap: of both cur and old */
	unsigned *want;
	size_t nwant, want_cap;
	long page_kb;
};

enum { CH_PID, CH_PPID, CH_BEGAN, CH_STATE, CH_RSS, CH_CMD };
static enum pids_item cheap_items[] = {
	[CH_PID] = PIDS_ID_PID, [CH_PPID] = PIDS_ID_PPID, [CH_BEGAN] = PIDS_TICS_BEGAN,
	[CH_STATE] = PIDS_STATE, [CH_RSS] = PIDS_RSS, [CH_CMD] = PIDS_CMD,
};
/* No PIDS_CMDLINE: libproc2 writes a control byte of it as '?' and anything else it
 * cannot print as '.', so an RLO character or an escape was gone before text_escape
 * could show it as \xNN, as it shows comm. The file is read as it is (lp_cmdline). */
enum { ST_PID, ST_BEGAN, ST_EUID, ST_EUSER, ST_CGROUP };
static enum pids_item stable_items[] = {
	[ST_PID] = PIDS_ID_PID, [ST_BEGAN] = PIDS_TICS_BEGAN,
	[ST_EUID] = PIDS_ID_EUID, [ST_EUSER] = PIDS_ID_EUSER, [ST_CGROUP] = PIDS_CGROUP,
};
#define NITEMS(a) ((int)(sizeof(a) / sizeof((a)[0])))

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

/* /proc/PID/cmdline, its bytes as they are, the NULs between arguments as spaces;
 * "[comm]" when it is empty (a kernel thread, a zombie), as ps and libproc2 show it. */
static void lp_cmdline(int32_t pid, const char *comm, char *out, size_t size)
{
	char path[32];
	size_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		for (ssize_t got; n + 1 < size && (got = read(fd, out + n, size - 1 - n)) != 0;) {
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				break;
			n += (size_t)got;
		}
		close(fd);
	}
	while (n && out[n - 1] == '\0')
		n--;
	for (size_t i = 0; i < n; i++)
		if (out[i] == '\0')
			out[i] = ' ';
	out[n] = '\0';
	if (!n)
		snprintf(out, size, "[%.*s]", (int)(size > 3 ? size - 3 : 0), comm);
}

static int lp_fetch_stable(struct lp_reader *r, char **cause)
{
	for (size_t at = 0; at < r->nwant; at += SELECT_MAX) {
		int n = (int)(r->nwant - at < SELECT_MAX ? r->nwant - at : SELECT_MAX);
		struct pids_fetch *f = procps_pids_select(r->stable, r->want + at, n,
							  PIDS_SELECT_PID);
		if (!f) {
			int e = errno ? errno : EIO;
			return text_cause(cause, -e, "libproc2 select: %s", strerror(e));
		}
		for (int i = 0; i < f->counts->total; i++) {
			struct pids_stack *st = f->stacks[i];
			struct lp_proc *p = lp_find(r->cur, r->ncur, PIDS_VAL(ST_PID, s_int, st, r->stable));
			if (!p)
				continue;
			/* The pid was reused between the two reads: that process is gone. */
			if (PIDS_VAL(ST_BEGAN, ull_int, st, r->stable) != p->start_time)
				continue;
			const char *cgroup = PIDS_VAL(ST_CGROUP, str, st, r->stable);
			lp_cmdline(p->pid, p->comm, p->cmdline, sizeof(p->cmdline));
			procscan_copy_str(p->user, sizeof(p->user), PIDS_VAL(ST_EUSER, str, st, r->stable));
			p->uid = PIDS_VAL(ST_EUID, u_int, st, r->stable);
			procscan_unit(cgroup, p->unit, sizeof(p->unit));
			procscan_container(cgroup, p->container, sizeof(p->container));
			p->fetched = true;
		}
	}
	return 0;
}

int procscan_lp_read(void *ctx, int (*fn)(void *arg, const struct procinfo *pi), void *arg,
		   char **cause)
{
	struct lp_reader *r = ctx;
	struct pids_fetch *f = procps_pids_reap(r->cheap, PIDS_FETCH_TASKS_ONLY);
	int rc;

	if (!f) {
		int e = errno ? errno : EIO;
		return text_cause(cause, -e, "libproc2 reap: %s", strerror(e));
	}
	/* Swap: the previous refresh's cache becomes old, cur is rebuilt. */
	struct lp_proc *t = r->old;
	r->old = r->cur, r->nold = r->ncur;
	r->cur = t, r->ncur = 0;
	size_t need = (size_t)f->counts->total;
	if (need > r->cap) {
		/* Both arrays to one capacity, as they swap each refresh. */
		size_t ncap = need + need / 4 + 64, c0 = r->cap, c1 = r->cap;
		if (ncap < need || vec_resize(&r->cur, &c0, ncap, sizeof(*r->cur)) ||
		    vec_resize(&r->old, &c1, ncap, sizeof(*r->old)))
			return -ENOMEM;
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
		procscan_copy_str(p->comm, sizeof(p->comm), PIDS_VAL(CH_CMD, str, st, r->cheap));
		p->fetched = p->dead = false;
	}
	if (r->ncur > 1) /* r->cur is NULL until a reap finds a process */
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
			p->uid = o->uid;
			memcpy(p->user, o->user, sizeof(p->user));
			memcpy(p->unit, o->unit, sizeof(p->unit));
			memcpy(p->cmdline, o->cmdline, sizeof(p->cmdline));
			memcpy(p->container, o->container, sizeof(p->container));
			p->fetched = true;
			continue;
		}
		unsigned *w = VEC_PUSH(r->want, r->nwant, r->want_cap);
		if (!w)
			return -ENOMEM;
		*w = (unsigned)p->pid;
	}
	if (r->nwant && (rc = lp_fetch_stable(r, cause)))
		return rc;

	for (size_t i = 0; i < r->ncur; i++) {
		const struct lp_proc *p = &r->cur[i];
		if (!p->fetched) /* exited between the reap and the select */
			continue;
		struct procinfo pi = {
			.pid = p->pid, .ppid = p->ppid, .uid = p->uid,
			.start_time = p->start_time, .rss_kb = p->rss_kb,
			.state = p->state, .comm = p->comm, .user = p->user, .unit = p->unit,
			.cmdline = p->cmdline, .container = p->container,
		};
		if ((rc = fn(arg, &pi)))
			return rc;
	}
	return 0;
}

void procscan_lp_free(struct lp_reader *r)
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

int procscan_lp_new(struct lp_reader **out, char **cause)
{
	struct lp_reader *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	long page = sysconf(_SC_PAGESIZE);
	r->page_kb = page > 0 ? page / 1024 : 4;
	if ((rc = procps_pids_new(&r->cheap, cheap_items, NITEMS(cheap_items))) < 0 ||
	    (rc = procps_pids_new(&r->stable, stable_items, NITEMS(stable_items))) < 0) {
		text_cause(cause, rc, "libproc2: %s", strerror(-rc));
		procscan_lp_free(r);
		return rc;
	}
	*out = r;
	return 0;
}
