/* Processes from libproc2 and /proc: identity, limits, fd counts and the socket-inode
 * -> (pid, fd) map. The proc root is a parameter so tests can use a fake tree. */
#ifndef LEAKTOP_PROCSCAN_H
#define LEAKTOP_PROCSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct snapshot;
struct procscan;

/* What libproc2 tells about one process; the scan copies it into a proc_rec. A test
 * replaces the libproc2 reader with one of its own (procscan_set_reader). */
struct procinfo {
	int32_t pid, ppid;
	uint32_t uid;
	uint64_t start_time;     /* clock ticks after boot */
	uint64_t netns;          /* 0: the scan reads /proc/PID/ns/net */
	uint64_t rss_kb;
	char state;
	const char *comm, *user, *unit, *cmdline;  /* raw, may hold control characters */
	const char *container;   /* from procscan_container(), may be NULL */
};
/* Calls fn once per process; returns 0 or -errno. */
typedef int (*procscan_reader)(void *ctx, int (*fn)(void *arg, const struct procinfo *pi),
			       void *arg, char **cause);

/* root: "/proc" normally, or a fake tree. Returns 0 or -errno. */
int procscan_new(struct procscan **out, const char *root, char **cause);
void procscan_free(struct procscan *p);
/* Replace the libproc2 reader (tests). */
void procscan_set_reader(struct procscan *p, procscan_reader fn, void *ctx);

/* Fill s->procs (sorted by pid), s->owners (inode, proc, fd; sock = -1) and
 * s->totals.unreadable / file_alloc / file_max. A process that exits mid-scan is
 * skipped; one that is not readable is kept with PROC_UNREADABLE and counted.
 * The inode map is incremental: only new fd numbers, and processes whose known
 * socket inodes vanished (procscan_note_dump), are read with readlink.
 * Returns 0 or -errno (*cause says why); a partial result is still usable. */
int procscan_scan(struct procscan *p, struct snapshot *s, char **cause);

/* Tell the scanner which socket inodes the last dump held, so the next scan rereads
 * the fd links of any process that held one that vanished. Called after the join. */
void procscan_note_dump(struct procscan *p, const struct snapshot *s);

/* Right after the join: read again the fds whose socket left the dump and the fds
 * of sockets several processes hold (after fork), and look for the holders of
 * sockets no process holds (a new socket behind a known fd number; a bounded
 * search), so this refresh's attribution is right rather than the next one's.
 * Rewrites the owners of the processes that changed. Returns 1 when s->owners changed (join
 * again: snapshot_build), 0 when nothing did, -errno on error. */
int procscan_recheck(struct procscan *p, struct snapshot *s);

/* Force the next scan to readlink every fd (the first scan always does). */
void procscan_full_rescan(struct procscan *p);

/* The boot time (btime of ROOT/stat) in unix seconds, 0 when unknown: process start
 * times count clock ticks from it. */
double procscan_boot_time(const char *root);

/* Parsers, exposed for tests. */
int procscan_parse_limits(const char *text, uint64_t *soft, uint64_t *hard);
int procscan_parse_file_nr(const char *text, uint64_t *alloc, uint64_t *max);
/* "socket:[12345]" -> 12345; 0 when it is not a socket link. */
uint32_t procscan_socket_inode(const char *link);
/* The container a process runs in, from its cgroup paths (/proc/PID/cgroup, one or
 * more lines or libproc2's comma-joined list): "docker:0123456789ab",
 * "containerd:...", "crio:...", "podman:...", "lxc:NAME"; "" when none. */
void procscan_container(const char *cgroup, char *out, size_t size);
/* The systemd unit of a process from the same cgroup text, as systemd reads it: the
 * first path component under the slices ("foo.service", "session-2.scope"); "" when
 * none (the root cgroup, a container runtime's own path). Reading it here costs
 * nothing; asking libsystemd costs ~0.2 ms per process. */
void procscan_unit(const char *cgroup, char *out, size_t size);
/* The cgroup path systemd reads in that text (its own v1 hierarchy, else the unified
 * one): a pointer into cgroup and its *len, not NUL-terminated; NULL when none. */
const char *procscan_cgroup_path(const char *cgroup, size_t *len);
/* Does name[0..len) end in a unit suffix a process runs under (.service, .scope,
 * ...; not .slice)? */
bool procscan_unit_name(const char *name, size_t len);

/* A snapshot_fd_check (ctx is the procscan): was PID's fd FD known to hold socket
 * INODE before its netns was dumped, and does it still? Then a socket fd in no dump
 * was there all along: CLOSED. One first read after the dump began is left for the
 * next refresh to decide. */
bool procscan_fd_check(void *ctx, int32_t pid, int32_t fd, uint32_t inode);

/* This refresh dumps NETNS (leaktop's own) while the scan runs, not after it: a
 * socket fd there that this scan read for the first time may be younger than the
 * dump. 0: every dump follows the scan. */
void procscan_dump_early(struct procscan *p, uint64_t netns);

#endif
