/* Every socket of every network namespace a process lives in: one sock_diag handle per
 * netns, opened once from inside it and kept while the netns has processes. */
#ifndef LEAKTOP_NSDUMP_H
#define LEAKTOP_NSDUMP_H

#include <stdint.h>

struct snapshot;
struct nsdump;

/* proc_root: where /proc/PID/ns/net are found ("/proc"). Returns 0 or -errno. */
int nsdump_new(struct nsdump **out, const char *proc_root, char **cause);
void nsdump_free(struct nsdump *n);

/* Dump every kind of socket in each distinct netns of s->procs (only leaktop's own
 * when not root: s->netns_limited), tagging each socket with its netns inode and
 * recording each netns in s->netns, dumped when every kind of socket came through.
 * Sets s->closed_valid. Returns 0 or the first -errno (*cause says which netns and
 * why); the other namespaces are still dumped. */
int nsdump_dump(struct nsdump *n, struct snapshot *s, char **cause);

/* The first part of nsdump_dump, which needs nothing from the scan: every socket of
 * leaktop's own netns. It writes s->socks and s->names only, so it may run on another
 * thread while the scan fills s->procs and s->owners; the nsdump_dump that follows
 * skips it and reports its outcome. Returns 0 or -errno. */
int nsdump_dump_own(struct nsdump *n, struct snapshot *s);

/* Forget an nsdump_dump_own whose sockets were not kept (the dashboard's preview
 * failed): the next nsdump_dump dumps leaktop's own netns itself. */
void nsdump_own_again(struct nsdump *n);

/* Parse a /proc/net/{raw,raw6,icmp,icmp6} table (sockets no sock_diag module dumps
 * on every kernel: ICMP "ping" sockets never, RAW ones without raw_diag) into
 * s->socks, tagged family/proto/netns. Returns the sockets added, or -errno. */
int nsdump_parse_proc_net(const char *text, uint8_t family, uint8_t proto,
			  struct snapshot *s, uint64_t netns);

/* leaktop's own netns inode, 0 when unknown. */
uint64_t nsdump_own(const struct nsdump *n);

#endif
