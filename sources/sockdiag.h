/* Sockets from the kernel's sock_diag netlink interface (NETLINK_SOCK_DIAG), via libmnl.
 * The parser takes a buffer, so recorded dumps test it without root. */
#ifndef LEAKTOP_SOCKDIAG_H
#define LEAKTOP_SOCKDIAG_H

#include <stddef.h>
#include <stdint.h>

struct snapshot;
struct sockdiag;

/* Open a NETLINK_SOCK_DIAG socket. Returns 0 or -errno; *cause says why. */
int sockdiag_open(struct sockdiag **out, char **cause);
/* The same in the network namespace of nsfd (an open /proc/PID/ns/net; the
 * sockdiag keeps a copy, to reopen there). Needs CAP_SYS_ADMIN. -1 is ours. */
int sockdiag_open_netns(struct sockdiag **out, int nsfd, char **cause);
void sockdiag_free(struct sockdiag *d);

/* Dump every TCP socket, IPv4 and IPv6, in every state, appending them to s->socks
 * (tagged with netns). Retries an interrupted dump (NLM_F_DUMP_INTR) a few times.
 * Returns 0 or -errno; *cause says why (an allocated string the caller frees). */
int sockdiag_dump_tcp(struct sockdiag *d, struct snapshot *s, uint64_t netns, char **cause);

/* TCP, then UDP, UNIX, NETLINK, PACKET and RAW: every socket an fd can be. A kind that
 * fails leaves out only its sockets; the first failure is returned (-errno, *cause). */
int sockdiag_dump_all(struct sockdiag *d, struct snapshot *s, uint64_t netns, char **cause);

/* Whether the kernel could dump RAW sockets (raw_diag) in the last sockdiag_dump_all. */
int sockdiag_has_raw(const struct sockdiag *d);

/* Parse one buffer of netlink messages (as read from the socket) into s->socks.
 * Returns 1 when more messages follow (multipart), 0 at NLMSG_DONE, -errno on a
 * netlink error, a truncated or malformed message (*cause says which), and
 * -EINTR when the kernel flagged the dump as interrupted (NLM_F_DUMP_INTR). */
int sockdiag_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		   struct snapshot *s, uint64_t netns, char **cause);
/* The same for any dump: family is what was asked for (AF_INET or AF_INET6 take
 * either; AF_UNIX, AF_NETLINK, AF_PACKET), and inet replies are tagged with proto
 * (IPPROTO_TCP, _UDP or _RAW: the reply does not say). */
int sockdiag_parse_proto(const void *buf, size_t len, uint32_t seq, uint32_t portid,
			 uint8_t family, uint8_t proto, struct snapshot *s, uint64_t netns,
			 char **cause);

/* Record raw dump buffers to a file (for tests/data fixtures): each buffer as a
 * 4-byte little-endian length then the bytes. NULL stops recording. */
int sockdiag_record(struct sockdiag *d, const char *path);

#endif
