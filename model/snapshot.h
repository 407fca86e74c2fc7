/* One refresh: every socket, every process, the joins between them (socket inode ->
 * pid/fd) and the aggregates every view reads. Immutable once built. */
#ifndef LEAKTOP_SNAPSHOT_H
#define LEAKTOP_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* The kernel's TCP state numbers (include/net/tcp_states.h); 0 is unused. */
enum sk_state {
	ST_UNKNOWN = 0,
	ST_ESTABLISHED,
	ST_SYN_SENT,
	ST_SYN_RECV,
	ST_FIN_WAIT1,
	ST_FIN_WAIT2,
	ST_TIME_WAIT,
	ST_CLOSE,
	ST_CLOSE_WAIT,
	ST_LAST_ACK,
	ST_LISTEN,
	ST_CLOSING,
	ST_NEW_SYN_RECV,
	/* Not the kernel's: a socket fd whose inode is in no diag table (TCP, UDP, UNIX,
	 * RAW, NETLINK, PACKET). Reset or never connected, and still held: a leak. Kernel
	 * state 7 is "CLOSE"; this one is named "CLOSED". */
	ST_CLOSED_FD,
	ST_COUNT
};

/* "ESTABLISHED", "CLOSE_WAIT", ...; "UNKNOWN" for anything out of range. */
const char *sk_state_name(unsigned state);
/* One or two letters for a legend without colour ("E", "CW", ...). */
const char *sk_state_abbrev(unsigned state);
/* Case-insensitive, '-' and '_' alike, "estab" accepted: returns the state or -1. */
int sk_state_parse(const char *name);

/* One socket from a diag dump. Compact, 56 bytes: a million of these are one
 * snapshot, and the dashboard holds two. What most sockets share lives in the
 * snapshot's tables: the network namespace (an index into snapshot.sock_ns) and
 * IPv6 addresses (an index into snapshot.addr6); IPv4 addresses, and IPv6 ones when
 * both ends are IPv4-mapped (a dual-stack server's), are inline. Read the namespace
 * and the addresses with sock_netns(), sock_laddr() and sock_raddr(); set them with
 * snapshot_sock_set_netns() and snapshot_sock_set_addrs(). */
struct sock_rec {
	uint64_t cookie;     /* kernel socket cookie, unique while the socket lives */
	uint32_t inode;      /* 0 for time-wait and request minisockets */
	uint32_t uid;
	uint32_t rqueue;     /* Recv-Q; for LISTEN the accept queue */
	uint32_t wqueue;     /* Send-Q; for LISTEN the accept queue limit */
	uint32_t expires_ms; /* timer */
	int32_t owner;       /* index into snapshot.owners of the first holder, -1 if none */
	/* TCP: a lower bound from the kernel (tcp_info) of the time in this state, in
	 * ms; 0 when none is known. Set for the states a receive leads into
	 * (ESTABLISHED, CLOSE_WAIT, FIN_WAIT2): whatever was received last came after
	 * the state began, so the time since then is at most the state's age. */
	uint32_t state_age_ms;
	uint16_t lport, rport;
	uint16_t ns : 15;    /* sock_netns(): index into snapshot.sock_ns */
	uint16_t mapped : 1; /* AF_INET6 with both addresses IPv4-mapped: in v4 */
	uint8_t family;      /* AF_INET, AF_INET6, AF_UNIX, AF_NETLINK or AF_PACKET */
	uint8_t proto;       /* IPPROTO_TCP, _UDP or _RAW; the netlink protocol; 0 */
	uint8_t state;       /* enum sk_state (TCP's numbers; UDP and UNIX use 1, 7, 10) */
	uint8_t timer;       /* idiag_timer: 0 none, 1 retransmit, 2 keepalive, 3 time-wait, 4 probe */
	uint8_t retrans;
	uint8_t type;        /* SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET (UNIX, NETLINK, PACKET) */
	union {
		struct {
			uint8_t l[4], r[4]; /* network byte order */
		} v4;                      /* AF_INET, or AF_INET6 when mapped */
		uint32_t v6;               /* AF_INET6: 1 + index of its pair in snapshot.addr6,
					    * 0 for :: and :: (or none set) */
		struct {
			uint32_t name;     /* offset in snapshot.names: the escaped path, "@name"
					    * when abstract, 0 ("") when unbound */
			uint32_t peer;     /* the peer's inode, 0 when not connected */
		} un;                      /* AF_UNIX */
	};
};
_Static_assert(sizeof(struct sock_rec) == 56, "struct sock_rec grew: a million of them are one snapshot");

/* The most network namespaces one snapshot's sockets come from (sock_rec.ns). */
#define SNAPSHOT_SOCK_NS_MAX 32768

/* An IPv6 socket's two addresses, network byte order. */
struct sock_addr6 {
	uint8_t l[16], r[16];
};

/* An address as 16 bytes (IPv4 in the first 4, the rest 0), to pass on by value:
 * sock_laddr(s, k).b is valid to the end of the expression that calls it. */
struct sock_ip {
	uint8_t b[16];
};

/* What a socket counts as, per process and in the totals. */
enum sock_kind { SK_TCP, SK_UDP, SK_UNIX, SK_OTHER, SK_KIND_COUNT };
enum sock_kind sock_kind_of(const struct sock_rec *k);
/* "tcp", "udp", "unix", "raw", "netlink", "packet". */
const char *sock_proto_name(const struct sock_rec *k);

enum proc_flags {
	PROC_UNREADABLE = 1 << 0, /* /proc/PID/fd not readable (EACCES): counts unknown */
	PROC_KTHREAD = 1 << 1,
	PROC_SELF = 1 << 2,       /* leaktop's own process: left out of verdicts and alerts */
};

#define PROC_COMM_MAX 64   /* comm after escaping control characters */
#define PROC_USER_MAX 32
#define PROC_UNIT_MAX 96
#define PROC_CMDLINE_MAX 256
#define PROC_CONTAINER_MAX 48

struct proc_rec {
	int32_t pid;
	int32_t ppid;
	uint32_t uid;
	uint32_t flags;          /* enum proc_flags */
	uint64_t start_time;     /* clock ticks after boot (/proc/PID/stat field 22) */
	uint64_t netns;          /* network namespace inode, 0 when unknown */
	uint64_t rss_kb;
	int64_t fds;             /* open fds, -1 when unreadable */
	uint64_t fd_limit;       /* soft RLIMIT_NOFILE, UINT64_MAX when unlimited or unknown */
	uint64_t fd_limit_hard;
	char state;              /* R S D Z T ... */
	char comm[PROC_COMM_MAX];       /* control characters escaped (\x1b) */
	char user[PROC_USER_MAX];
	char unit[PROC_UNIT_MAX];       /* systemd unit, "" when none */
	char cmdline[PROC_CMDLINE_MAX]; /* NULs as spaces, control characters escaped */
	char container[PROC_CONTAINER_MAX]; /* "docker:0123456789ab", "" when none */
	/* Filled by snapshot_build. */
	uint32_t sock_fds;       /* fds that are sockets (socket:[N]) */
	uint32_t sockets;        /* of those, TCP sockets found in the dump */
	uint32_t kinds[SK_KIND_COUNT]; /* socket fds by kind found in the dumps */
	uint32_t states[ST_COUNT]; /* TCP states, and ST_CLOSED_FD: fds in no dump */
	uint64_t recv_q;         /* TCP and UDP, LISTEN sockets left out */
	uint32_t owner_first;    /* this process's range in snapshot.owners */
	uint32_t owner_count;
};

/* One socket fd of one process: the join. */
struct sock_owner {
	uint32_t inode;
	int32_t proc;            /* index into snapshot.procs */
	int32_t fd;
	int32_t sock;            /* index into snapshot.socks, -1 if not in the dump,
				  * OWNER_STALE if not, and the fd had let go of it when checked */
};
/* A socket fd in no dump that the fd check refused (closed or reused mid-refresh):
 * not CLOSED. Kept so that a recording can replay the same answer. */
#define OWNER_STALE (-2)

/* A network namespace: dumped when leaktop could enter it (root), else only seen as
 * some process's netns. Sorted by inode. */
struct netns_rec {
	uint64_t inode;
	uint32_t procs;          /* processes in it (filled by snapshot_build) */
	uint32_t sockets;        /* sockets dumped from it (filled by snapshot_build) */
	bool dumped;             /* its sockets are in socks: CLOSED can be told there */
	bool own;                /* leaktop's own */
};

enum port_side { SIDE_LOCAL, SIDE_REMOTE };
#define PORT_MAX_PIDS 8

/* Per local port (listening or accepted sockets) or remote port (outbound). */
struct port_agg {
	uint64_t netns;
	uint16_t port;
	uint8_t side;            /* enum port_side */
	uint8_t proto;           /* IPPROTO_TCP or IPPROTO_UDP; UNIX sockets have no port */
	uint32_t count;
	uint32_t states[ST_COUNT];
	uint64_t recv_q;
	uint32_t accept_q;       /* summed over the port's LISTEN sockets */
	uint32_t accept_max;
	uint32_t npids;          /* distinct owners kept in pids[] */
	bool pids_truncated;     /* more owners than PORT_MAX_PIDS */
	int32_t pids[PORT_MAX_PIDS];
};

/* Which port a TCP or UDP socket is counted under: its local port when it listens, is
 * unconnected, or its local port listens in its netns (a server's accepted
 * connection); else its remote port when that listens here or its local port is
 * ephemeral (32768-60999) and the remote one is not (a client's outbound
 * connection); else the lower of the two. lport_listens and rport_listens: whether
 * those ports have a LISTEN socket of the same protocol in the socket's netns. */
enum port_side sock_port_side(const struct sock_rec *k, bool lport_listens, bool rport_listens);

/* The order of snapshot.ports, total so that a replay sorts them the same: count
 * descending, then port, side and netns. A qsort comparator. */
int port_agg_cmp(const void *a, const void *b);

struct totals {
	uint32_t sockets;        /* TCP sockets */
	uint32_t kinds[SK_KIND_COUNT]; /* sockets per kind */
	uint32_t states[ST_COUNT]; /* TCP states; ST_CLOSED_FD counts distinct inodes */
	uint32_t unowned;        /* sockets no readable process holds */
	uint32_t procs;
	uint32_t unreadable;     /* processes whose fds could not be read */
	uint64_t file_alloc;     /* fs.file-nr */
	uint64_t file_max;
};

struct snapshot {
	double time;             /* unix seconds */
	uint64_t tick;           /* refresh number, from 1 */
	double refresh_ms;       /* what the refresh cost, wall clock */
	struct sock_rec *socks;
	size_t nsocks, socks_cap;
	struct proc_rec *procs;  /* sorted by pid */
	size_t nprocs, procs_cap;
	struct sock_owner *owners; /* sorted by proc, then fd */
	size_t nowners, owners_cap;
	struct port_agg *ports;  /* sorted by count, descending */
	size_t nports, ports_cap;
	struct netns_rec *netns; /* sorted by inode */
	size_t nnetns, netns_cap;
	char *names;             /* UNIX socket names, NUL-terminated; offset 0 is "" */
	size_t names_len, names_cap;
	uint64_t *sock_ns;       /* the sockets' netns inodes, by sock_rec.ns */
	size_t nsock_ns, sock_ns_cap;
	struct sock_addr6 *addr6; /* IPv6 sockets' addresses, by sock_rec.v6 */
	size_t naddr6, addr6_cap;
	/* Set by the source: every kind of socket was dumped in every netns marked
	 * dumped, so a socket fd of a process there that is in no dump is CLOSED. */
	bool closed_valid;
	bool netns_limited;      /* not root: only leaktop's own netns was dumped */
	/* The dashboard's first frame: sockets from the dump alone, no process read yet
	 * (live_source_preview). Never recorded, never in the history. */
	bool owners_pending;
	struct totals totals;
	char status[256];        /* what went wrong in this refresh, for the status line */
};

struct snapshot *snapshot_new(void);
void snapshot_free(struct snapshot *s);
/* Empty it, keeping its storage for the next refresh. */
void snapshot_clear(struct snapshot *s);

/* Append a record; returns a pointer to zeroed storage, or NULL on ENOMEM. */
struct sock_rec *snapshot_add_sock(struct snapshot *s);
struct proc_rec *snapshot_add_proc(struct snapshot *s);
struct sock_owner *snapshot_add_owner(struct snapshot *s);
/* Mark a netns as dumped (or just seen); returns its record or NULL on ENOMEM. */
struct netns_rec *snapshot_add_netns(struct snapshot *s, uint64_t inode, bool dumped);
/* Store a UNIX socket name as the kernel gives it (escaped with text_escape): an
 * abstract one starts with NUL, written '@', and keeps every byte after it; a path
 * ends at its first NUL. Returns its offset, 0 for an empty name or on ENOMEM. */
uint32_t snapshot_add_name(struct snapshot *s, const char *name, size_t len);
/* Store a name that is escaped already (one read back from a recording), as is. */
uint32_t snapshot_add_name_text(struct snapshot *s, const char *text);
/* Tag k with its network namespace (inode, 0 when unknown). 0, -ENOMEM, or -E2BIG
 * past SNAPSHOT_SOCK_NS_MAX namespaces. */
int snapshot_sock_set_netns(struct snapshot *s, struct sock_rec *k, uint64_t netns);
/* Give k (its family set) its addresses: 16 bytes each, IPv4 in the first 4; an
 * AF_UNIX socket has none (its un fields are its own). 0 or -ENOMEM. */
int snapshot_sock_set_addrs(struct snapshot *s, struct sock_rec *k, const uint8_t laddr[16],
			    const uint8_t raddr[16]);

static inline uint64_t sock_netns(const struct snapshot *s, const struct sock_rec *k)
{
	return k->ns < s->nsock_ns ? s->sock_ns[k->ns] : 0;
}

/* The local (remote: local false) address of an AF_INET or AF_INET6 socket; zeros
 * for any other. s may be NULL for a socket whose addresses are inline (not
 * AF_INET6, or mapped). */
static inline struct sock_ip sock_addr(const struct snapshot *s, const struct sock_rec *k, bool local)
{
	struct sock_ip a = {{0}};

	if (k->family == AF_INET6 && k->mapped) {
		a.b[10] = a.b[11] = 0xff;
		__builtin_memcpy(a.b + 12, local ? k->v4.l : k->v4.r, 4);
	} else if (k->family == AF_INET6) {
		if (s && k->v6 && k->v6 <= s->naddr6)
			__builtin_memcpy(a.b, local ? s->addr6[k->v6 - 1].l : s->addr6[k->v6 - 1].r, 16);
	} else if (k->family == AF_INET) {
		__builtin_memcpy(a.b, local ? k->v4.l : k->v4.r, 4);
	}
	return a;
}

static inline struct sock_ip sock_laddr(const struct snapshot *s, const struct sock_rec *k)
{
	return sock_addr(s, k, true);
}

static inline struct sock_ip sock_raddr(const struct snapshot *s, const struct sock_rec *k)
{
	return sock_addr(s, k, false);
}

static inline const char *snapshot_name(const struct snapshot *s, uint32_t off)
{
	return s->names && off < s->names_len ? s->names + off : "";
}
const struct netns_rec *snapshot_find_netns(const struct snapshot *s, uint64_t inode);

/* Asked, for a socket fd in no dump, whether the fd still holds that inode now that
 * the dumps are done: a socket opened or closed mid-refresh is not a leak. */
typedef bool (*snapshot_fd_check)(void *ctx, int32_t pid, int32_t fd, uint32_t inode);

/* Given socks, procs and owners (inode, proc, fd), resolve the joins, drop duplicate
 * sockets (same cookie), and fill every aggregate. An owner in no dump, of a process
 * whose netns was dumped, is CLOSED when closed_valid and check (if not NULL)
 * confirms it. Returns 0 or -errno. */
int snapshot_build(struct snapshot *s);
int snapshot_build_checked(struct snapshot *s, snapshot_fd_check check, void *ctx);

/* Lookups, by binary search. NULL or -1 when absent. */
const struct proc_rec *snapshot_find_proc(const struct snapshot *s, int32_t pid);
/* The process holding this socket first, or NULL. */
const struct proc_rec *snapshot_sock_proc(const struct snapshot *s, const struct sock_rec *k);
int snapshot_sock_fd(const struct snapshot *s, const struct sock_rec *k);

/* "127.0.0.1:8080" or "[::1]:8080" (an IPv4-mapped IPv6 address as its IPv4 form);
 * buf must hold SOCK_ADDR_MAX. */
#define SOCK_ADDR_MAX 56
char *sock_addr_format(char *buf, int family, const uint8_t addr[16], uint16_t port);

/* Deep copy (for a paused view, or a replay's cache). Returns 0 or -ENOMEM. */
int snapshot_copy(struct snapshot *dst, const struct snapshot *src);
/* The sockets alone, with the names, namespaces and IPv6 addresses they index (the
 * dashboard's first refresh takes the preview's dump so). 0 or -ENOMEM. */
int snapshot_copy_socks(struct snapshot *dst, const struct snapshot *src);

#endif
