/* What the views (batch output and tui panes) select from a snapshot: filters and
 * the Recv-Q backlog. Rows are indices into the snapshot, never copies. */
#ifndef LEAKTOP_VIEW_H
#define LEAKTOP_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snapshot;
struct sock_rec;
struct proc_rec;
struct port_agg;

#define VIEW_MAX_KEYS 64

/* --pid, --port and --netns from the command line. Empty lists let everything through. */
struct view_filter {
	size_t npids, nports, nnetns;
	int32_t pids[VIEW_MAX_KEYS];
	uint16_t ports[VIEW_MAX_KEYS];
	uint64_t netns[VIEW_MAX_KEYS]; /* network namespace inodes */
};

/* Parse "1,2,3" into the filter; returns 0 or -EINVAL (*cause says why). */
int view_filter_pids(struct view_filter *f, const char *list, char **cause);
int view_filter_ports(struct view_filter *f, const char *list, char **cause);
int view_filter_netns(struct view_filter *f, const char *list, char **cause);

bool view_sock_match(const struct view_filter *f, const struct snapshot *s, const struct sock_rec *k);
bool view_proc_match(const struct view_filter *f, const struct snapshot *s, const struct proc_rec *p);
bool view_port_match(const struct view_filter *f, const struct port_agg *p);

/* Indices of the sockets with the largest Recv-Q (non-zero), largest first, that
 * pass the filter. Returns how many were written to idx (at most max). */
size_t view_backlog(const struct snapshot *s, const struct view_filter *f, uint32_t *idx, size_t max);

/* Indices of procs sorted by fds, descending (pid ascending on ties), that pass
 * the filter. idx holds s->nprocs. Returns the count. */
size_t view_procs_by_fds(const struct snapshot *s, const struct view_filter *f, uint32_t *idx);

#endif
