/* What the procscan files share (sources/procscan*.c), not for other modules: the fd
 * map's records, the scanner's state, and the functions one file lends another. */
#ifndef LEAKTOP_PROCSCAN_INT_H
#define LEAKTOP_PROCSCAN_INT_H

#include "sources/procscan.h"
#include "model/hashtab.h"

#include <string.h>
#include <sys/types.h>

enum fd_flags {
	FD_IN_DUMP = 1 << 0,  /* this socket inode was in a dump: its absence means news */
	FD_RETRY = 1 << 1,    /* readlink failed: read it again next scan */
	FD_NEW = 1 << 2,      /* this (fd, inode) was first read in this scan */
	FD_LATE = 1 << 3,     /* ... or by the recheck, after the dumps */
	/* Within one scan: the link is to be read by procscan_links (inode holds the
	 * last scan's, to tell FD_NEW), or it was closed before it could be. */
	FD_PENDING = 1 << 4,
	FD_GONE = 1 << 5,
};

struct link_queue;

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

struct pst_vec {
	struct pst *v;
	size_t n, cap;
};

struct fd_vec {
	struct fd_ent *v;
	size_t n, cap;
};

/* A process's count fds from first in a pool; NULL when it has none (the pool itself
 * may still be NULL, and no offset may be taken from that). */
static inline struct fd_ent *fd_slice(const struct fd_vec *pool, size_t first, size_t count)
{
	return count ? pool->v + first : NULL;
}

struct lp_reader;

struct procscan {
	char *root;
	int rootfd;
	procscan_reader read;
	void *read_ctx;
	struct lp_reader *lp;
	bool full;                  /* next scan readlinks everything */
	uint64_t scans;
	int32_t self;               /* our pid in this root, 0 if not there */
	struct pst_vec st_old, st_new; /* sorted by pid */
	struct fd_vec fd_old, fd_new;  /* pools: a process's fds are a slice */
	struct {
		int32_t *v;
		size_t n, cap;
	} fdnums;                   /* scratch: one process's fd numbers */
	struct link_queue *links;   /* whole fd tables to read (procscan_links.c) */
	char *dents;                /* getdents64 buffer */
	size_t dents_size;
	struct hashtab unowned[2];  /* unowned socket inodes of the last dumps -> UNOWNED_* */
	int unowned_cur;
	bool unowned_searched;      /* recheck read every candidate fd for the unowned */
	struct {                    /* the fd tables of these uids' processes (or all) are */
		uint32_t uids[16];  /* being read again, a few processes a refresh, in pid */
		size_t nuids;       /* order from pid (procscan_note_dump) */
		bool all, active;
		int32_t pid;
	} spread;
	uint64_t early_netns;       /* its dump may have run before this scan's reads */
	/* The first unexpected error of this scan. */
	int err;
	char *err_cause;
};

/* procscan.c: the last scan's record of a process (pid + start time), and of one of
 * its fds; NULL when unknown. */
struct pst *procscan_find_pst(struct procscan *p, int32_t pid, uint64_t start);
struct fd_ent *procscan_find_fd(struct procscan *p, const struct pst *st, int32_t fd);

/* procscan_lp.c: the libproc2 reader (a procscan_reader; ctx is the lp_reader). */
int procscan_lp_new(struct lp_reader **out, char **cause);
void procscan_lp_free(struct lp_reader *r);
int procscan_lp_read(void *ctx, int (*fn)(void *arg, const struct procinfo *pi), void *arg, char **cause);

/* procscan_links.c: whole fd tables (every process on the first scan, a new one, one
 * to reread) are read link by link while the directory pass goes on, on a second
 * thread, and on this one once the pass is done. links_start at the start of a scan
 * (full: many to come, start the helper now), links_push for each table (its slice of
 * fd_new, entries FD_PENDING), links_cancel(first) for the tables from fd_new[first]
 * on (their process was dropped), links_finish to read the rest and write the results
 * into fd_new. Each returns 0 or -errno. */
int procscan_links_start(struct procscan *p, bool full);
int procscan_links_push(struct procscan *p, const struct pst *st);
void procscan_links_cancel(struct procscan *p, size_t first);
int procscan_links_finish(struct procscan *p);
void procscan_links_free(struct procscan *p);

/* procscan_parse.c */
/* Read a small file under dirfd into buf (NUL-terminated). Returns length or -errno. */
ssize_t procscan_read_at(int dirfd, const char *name, char *buf, size_t size);
/* /proc/PID/stat: start time (field 22) and flags (field 9). */
int procscan_parse_stat(const char *text, uint64_t *start, uint32_t *flags);

/* Copy src (NULL: "") into dst, cut to fit. */
static inline void procscan_copy_str(char *dst, size_t size, const char *src)
{
	size_t n = src ? strnlen(src, size - 1) : 0;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

#endif
