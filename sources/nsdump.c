/* Dumping every network namespace. A netlink socket stays bound to the netns it was
 * created in, so each is created once by a short-lived thread inside that netns
 * (sockdiag_open_netns) and the main thread dumps through it without ever leaving
 * its own namespace. Handles of namespaces that lost their last process are closed. */
#include "config.h"

#include "sources/nsdump.h"
#include "sources/sockdiag.h"
#include "model/snapshot.h"
#include "model/text.h"
#include "model/vec.h"

#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct ns_handle {
	uint64_t inode;
	struct sockdiag *diag;
	char *cause;        /* why it could not be opened (kept, not retried every refresh) */
	uint64_t tried;     /* refresh of the last attempt to open it */
};

struct nsdump {
	int rootfd;
	uint64_t own;
	bool root;
	uint64_t refresh;
	struct ns_handle self; /* leaktop's own netns (or a fake root's only one) */
	bool self_done;      /* dumped already this refresh (nsdump_dump_own) */
	int self_rc;
	char *self_why;
	struct ns_handle *h; /* the others, sorted by inode */
	size_t nh, cap;
	uint64_t *want;      /* this refresh's namespaces, sorted, unique */
	size_t nwant, want_cap;
	char *procbuf;       /* a /proc/PID/net table being read */
};

#define NSDUMP_PROCBUF (1 << 16)

/* A namespace that could not be entered is tried again this often (refreshes). */
#define NSDUMP_RETRY_EVERY 16

uint64_t nsdump_own(const struct nsdump *n)
{
	return n->own;
}

int nsdump_new(struct nsdump **out, const char *proc_root, char **cause)
{
	struct nsdump *n = calloc(1, sizeof(*n));
	struct stat st;

	if (!n)
		return -ENOMEM;
	n->rootfd = open(proc_root ? proc_root : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (n->rootfd < 0) {
		int err = text_cause(cause, -errno, "%s: %s", proc_root ? proc_root : "/proc", strerror(errno));
		free(n);
		return err;
	}
	if (fstatat(n->rootfd, "self/ns/net", &st, 0) == 0)
		n->own = st.st_ino;
	n->self.inode = n->own;
	n->root = geteuid() == 0;
	*out = n;
	return 0;
}

static void handle_close(struct ns_handle *h)
{
	sockdiag_free(h->diag);
	free(h->cause);
}

void nsdump_free(struct nsdump *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->nh; i++)
		handle_close(&n->h[i]);
	handle_close(&n->self);
	free(n->self_why);
	free(n->h);
	free(n->want);
	free(n->procbuf);
	if (n->rootfd >= 0)
		close(n->rootfd);
	free(n);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static int want_add(struct nsdump *n, uint64_t inode)
{
	uint64_t *w = VEC_PUSH(n->want, n->nwant, n->want_cap);

	if (!w)
		return -ENOMEM;
	*w = inode;
	return 0;
}

/* Open a handle inside the netns of some process that lives there. */
static int handle_open(struct nsdump *n, struct ns_handle *h, const struct snapshot *s)
{
	char path[64];
	struct stat st;
	int err = -ESRCH;

	free(h->cause), h->cause = NULL;
	h->tried = n->refresh;
	if (h->inode == n->own || !n->own) {
		return sockdiag_open(&h->diag, &h->cause);
	}
	for (size_t i = 0; i < s->nprocs; i++) {
		if (s->procs[i].netns != h->inode)
			continue;
		snprintf(path, sizeof(path), "%" PRId32 "/ns/net", s->procs[i].pid);
		int fd = openat(n->rootfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		/* The process may have moved or exited and its pid been reused. */
		if (fstat(fd, &st) == 0 && st.st_ino == h->inode) {
			err = sockdiag_open_netns(&h->diag, fd, &h->cause);
			close(fd);
			return err;
		}
		close(fd);
	}
	return text_cause(&h->cause, err, "cannot open its /proc/PID/ns/net: %s", strerror(-err));
}

int nsdump_parse_proc_net(const char *text, uint8_t family, uint8_t proto,
			  struct snapshot *s, uint64_t netns)
{
	const char *line = strchr(text, '\n'); /* the header */
	int added = 0;

	while (line && *++line) {
		unsigned long long inode = 0, uid = 0;
		unsigned lport = 0, st = 0;
		char local[64];
		/* sl local rem st tx:rx tr:when retrnsmt uid timeout inode */
		if (sscanf(line, " %*u: %63s %*s %x %*s %*s %*s %llu %*u %llu", local, &st, &uid,
			   &inode) == 4 && inode && inode <= UINT32_MAX) {
			struct sock_rec *r = snapshot_add_sock(s);
			int rc;
			if (!r)
				return -ENOMEM;
			if ((rc = snapshot_sock_set_netns(s, r, netns))) {
				s->nsocks--;
				return rc;
			}
			const char *colon = strrchr(local, ':');
			if (colon)
				sscanf(colon + 1, "%x", &lport);
			/* No cookie in procfs: one derived from the inode, apart from real ones. */
			r->cookie = 1ULL << 63 | inode;
			r->inode = (uint32_t)inode;
			r->uid = (uint32_t)uid;
			r->family = family;
			r->proto = proto;
			r->type = proto == IPPROTO_RAW ? SOCK_RAW : SOCK_DGRAM;
			r->state = (uint8_t)(st < ST_CLOSED_FD ? st : ST_UNKNOWN);
			r->lport = (uint16_t)lport;
			added++;
		}
		line = strchr(line, '\n');
	}
	return added;
}

/* RAW (without raw_diag) and ICMP sockets of one netns, from a process living there. */
static void read_proc_net(struct nsdump *n, const struct ns_handle *h, struct snapshot *s)
{
	static const struct { const char *name; uint8_t family, proto; bool raw; } tables[] = {
		{"raw", AF_INET, IPPROTO_RAW, true}, {"raw6", AF_INET6, IPPROTO_RAW, true},
		{"icmp", AF_INET, IPPROTO_ICMP, false}, {"icmp6", AF_INET6, IPPROTO_ICMPV6, false},
	};
	char dir[32] = "self", path[64];
	char *buf = n->procbuf;

	if (h->inode != n->own) {
		size_t i = 0;
		while (i < s->nprocs && s->procs[i].netns != h->inode)
			i++;
		if (i == s->nprocs)
			return;
		snprintf(dir, sizeof(dir), "%" PRId32, s->procs[i].pid);
	}
	if (!buf && !(buf = n->procbuf = malloc(NSDUMP_PROCBUF)))
		return;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		if (tables[t].raw && sockdiag_has_raw(h->diag))
			continue;
		snprintf(path, sizeof(path), "%s/net/%s", dir, tables[t].name);
		int fd = openat(n->rootfd, path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		ssize_t len = 0, r;
		while ((size_t)len < NSDUMP_PROCBUF - 1 &&
		       (r = read(fd, buf + len, NSDUMP_PROCBUF - 1 - (size_t)len)) > 0)
			len += r;
		close(fd);
		buf[len > 0 ? len : 0] = '\0';
		nsdump_parse_proc_net(buf, tables[t].family, tables[t].proto, s, h->inode);
	}
}

/* "netns N: why", or "netns N sockets: why" once its handle is open ("sockets" for
 * leaktop's own), added to the status line. */
static void status_add(struct snapshot *s, uint64_t inode, bool self, bool opened, const char *why)
{
	size_t len = strlen(s->status);
	char what[160];

	if (self && opened)
		snprintf(what, sizeof(what), "sockets");
	else
		snprintf(what, sizeof(what), "netns %" PRIu64 "%s", inode, opened ? " sockets" : "");
	snprintf(s->status + len, sizeof(s->status) - len, "%s%s: %s", len ? "; " : "", what,
		 why ? why : "failed");
}

/* One namespace's sockets: open its handle when due, then every kind, then the procfs
 * tables. Returns 0 or -errno, with *why; -ENOENT / -ESRCH: no process lives there. */
static int dump_one(struct nsdump *n, struct ns_handle *h, struct snapshot *s, char **why)
{
	int rc = 0;

	if (!h->diag && (!h->tried || n->refresh - h->tried >= NSDUMP_RETRY_EVERY))
		rc = handle_open(n, h, s);
	if (!h->diag) {
		if (rc == -ENOENT || rc == -ESRCH)
			h->tried = 0; /* its last process exited since the scan: try the next */
		else
			*why = h->cause ? strdup(h->cause) : NULL;
		return rc ? rc : -ENOTCONN;
	}
	rc = sockdiag_dump_all(h->diag, s, h->inode, why);
	read_proc_net(n, h, s);
	return rc;
}

/* What one namespace's dump leaves in the snapshot: its netns record, and why not. */
static int account(struct nsdump *n, const struct ns_handle *h, struct snapshot *s, int rc,
		   const char *why)
{
	bool self = h == &n->self;
	struct netns_rec *r;

	if (rc && !h->diag && (rc == -ENOENT || rc == -ESRCH) && !self)
		rc = 0; /* nothing to report */
	else if (rc && !h->diag)
		status_add(s, h->inode, self, false, why);
	else if (rc)
		status_add(s, h->inode, self, true, why);
	if (!(r = snapshot_add_netns(s, h->inode, h->diag && rc == 0)))
		return -ENOMEM;
	r->own = h->inode == n->own;
	return rc;
}

int nsdump_dump_own(struct nsdump *n, struct snapshot *s)
{
	n->refresh++;
	n->self_done = true;
	free(n->self_why), n->self_why = NULL;
	n->self_rc = dump_one(n, &n->self, s, &n->self_why);
	return n->self_rc;
}

void nsdump_own_again(struct nsdump *n)
{
	n->self_done = false;
}

int nsdump_dump(struct nsdump *n, struct snapshot *s, char **cause)
{
	int ret, rc;

	if (!n->self_done)
		nsdump_dump_own(n, s);
	n->self_done = false;
	n->nwant = 0;
	/* Without CAP_SYS_ADMIN no other netns can be entered: say so. Without our own
	 * inode (a fake proc root) the others cannot be told from ours. */
	s->netns_limited = !n->root;
	s->closed_valid = true;
	if ((ret = account(n, &n->self, s, n->self_rc, n->self_why)) == -ENOMEM)
		return ret;
	/* A namespace is dumped when one of its processes holds a socket fd: every dump
	 * walks the kernel's global hash tables, so an idle netns (a pause container, a
	 * sandbox) would cost as much as a busy one, for sockets no one owns. The owners
	 * come from the scan, which ran before; they are in process order. */
	for (size_t i = 0, last = SIZE_MAX; n->root && n->own && i < s->nowners; i++) {
		size_t pi = (size_t)s->owners[i].proc;
		if (pi == last || pi >= s->nprocs)
			continue;
		last = pi;
		uint64_t ns = s->procs[pi].netns;
		if (ns && ns != n->own && (!n->nwant || n->want[n->nwant - 1] != ns) && want_add(n, ns))
			return -ENOMEM;
	}
	if (n->nwant > 1)
		qsort(n->want, n->nwant, sizeof(*n->want), cmp_u64);
	size_t u = 0;
	for (size_t i = 0; i < n->nwant; i++)
		if (!u || n->want[u - 1] != n->want[i])
			n->want[u++] = n->want[i];
	n->nwant = u;

	/* Merge the handles with the wanted list: keep, open or close. */
	struct ns_handle *nh = calloc(n->nwant ? n->nwant : 1, sizeof(*nh));
	if (!nh)
		return -ENOMEM;
	size_t j = 0;
	for (size_t i = 0; i < n->nwant; i++) {
		while (j < n->nh && n->h[j].inode < n->want[i])
			handle_close(&n->h[j++]);
		if (j < n->nh && n->h[j].inode == n->want[i])
			nh[i] = n->h[j++];
		else
			nh[i].inode = n->want[i];
	}
	while (j < n->nh)
		handle_close(&n->h[j++]);
	free(n->h);
	n->h = nh, n->nh = n->cap = n->nwant;

	for (size_t i = 0; i < n->nh; i++) {
		char *why = NULL;
		rc = account(n, &n->h[i], s, dump_one(n, &n->h[i], s, &why), why);
		free(why);
		if (rc == -ENOMEM)
			return rc;
		ret = ret ? ret : rc;
	}
	if (ret && cause)
		*cause = strdup(s->status);
	return ret;
}
