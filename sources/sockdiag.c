/* Sockets from sock_diag netlink dumps: TCP, UDP and RAW (IPv4 and IPv6, every state),
 * UNIX, NETLINK and PACKET, in the netns the netlink socket was created in. One strict
 * parser is shared by the live dumps and the recorded-fixture tests. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/tcp.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <linux/netlink_diag.h>
#include <linux/packet_diag.h>

#include "model/snapshot.h"
#include "sources/sockdiag.h"
#include "sources/stop.h"
#include "model/text.h"

/* The kernel fills a dump skb up to ~32 KB (netlink max_recvmsg_len); twice that
 * leaves room, and MSG_TRUNC still catches anything bigger. */
#define SOCKDIAG_BUF_SIZE (64 * 1024)
/* The kernel builds a dump one skb per recvmsg, so this cannot pipeline much: at 150k
 * sockets 1 MB measured the same as the 208 KB default (0.10-0.25 s per dump, noisy).
 * Kept as headroom for bursts of non-dump traffic; rmem_max caps it. */
#define SOCKDIAG_RCVBUF (1024 * 1024)
/* Whole-dump attempts on NLM_F_DUMP_INTR or ENOBUFS before giving up. */
#define SOCKDIAG_TRIES 4

struct sockdiag {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;
	int nsfd;            /* the netns to open sockets in, -1 for ours */
	uint32_t missing;    /* other_reqs the kernel has no diag module for (bit i) */
	bool no_compat;      /* TCPDIAG_GETSOCK refused: TCP per family */
	bool aged;           /* a TCP dump has succeeded: no more tcp_info (ages) */
	FILE *rec;           /* sockdiag_record() target, or NULL */
	char *rec_path;
	char buf[SOCKDIAG_BUF_SIZE];
};

/* One request of a dump: a family, and for AF_INET/AF_INET6 the protocol. */
struct dump_req {
	const char *what;
	uint8_t family, proto;
};

/* TCP in one request: the old TCPDIAG_GETSOCK dump asks for AF_UNSPEC, both families
 * in one walk of the kernel's (global, shared by every netns) TCP hash tables, where
 * SOCK_DIAG_BY_FAMILY takes one walk per family. tcp_reqs_v2 if it is refused. */
static const struct dump_req tcp_reqs[] = {
	{"TCP", AF_UNSPEC, IPPROTO_TCP},
};
static const struct dump_req tcp_reqs_v2[] = {
	{"TCP/IPv4", AF_INET, IPPROTO_TCP}, {"TCP/IPv6", AF_INET6, IPPROTO_TCP},
};
/* The rest of what a socket fd can be; each kind is retried on its own. Kinds from
 * OPTIONAL_FROM on are left out, without an error, on a kernel lacking their diag
 * module (netlink_diag, packet_diag, raw_diag): such sockets are rare, and counting
 * them as CLOSED is better than no CLOSED at all. */
#define OPTIONAL_FROM 2
static const struct dump_req other_reqs[][2] = {
	{{"UDP/IPv4", AF_INET, IPPROTO_UDP}, {"UDP/IPv6", AF_INET6, IPPROTO_UDP}},
	{{"UNIX", AF_UNIX, 0}},
	{{"NETLINK", AF_NETLINK, 0}},
	{{"PACKET", AF_PACKET, 0}},
	{{"RAW/IPv4", AF_INET, IPPROTO_RAW}, {"RAW/IPv6", AF_INET6, IPPROTO_RAW}},
};

/* Opening the socket in another netns: a thread that enters it (setns affects only
 * the calling thread), creates the socket and ends. The socket stays bound to the
 * netns it was created in, so the dumps need no setns. */
struct ns_open {
	int nsfd;
	int err;
	struct mnl_socket *nl;
};

static void *ns_open_thread(void *arg)
{
	struct ns_open *o = arg;

	if (setns(o->nsfd, CLONE_NEWNET) < 0)
		o->err = errno;
	else if (!(o->nl = mnl_socket_open(NETLINK_SOCK_DIAG)))
		o->err = errno;
	return NULL;
}

static struct mnl_socket *nl_open(struct sockdiag *d)
{
	struct ns_open o = { .nsfd = d->nsfd };
	pthread_t t;
	int err;

	if (d->nsfd < 0)
		return mnl_socket_open(NETLINK_SOCK_DIAG);
	if ((err = pthread_create(&t, NULL, ns_open_thread, &o))) {
		errno = err;
		return NULL;
	}
	pthread_join(t, NULL);
	errno = o.err;
	return o.nl;
}

static int nl_setup(struct sockdiag *d, char **cause)
{
	int rcvbuf = SOCKDIAG_RCVBUF;
	int err;

	d->nl = nl_open(d);
	if (!d->nl) {
		err = -errno;
		text_cause(cause, 0, "sock_diag: cannot open netlink socket: %s", strerror(errno));
		return err;
	}
	/* Best effort: a smaller buffer is only slower (rmem_max caps it). */
	(void)setsockopt(mnl_socket_get_fd(d->nl), SOL_SOCKET, SO_RCVBUF,
			 &rcvbuf, sizeof(rcvbuf));
	if (mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		text_cause(cause, 0, "sock_diag: cannot bind netlink socket: %s", strerror(errno));
		mnl_socket_close(d->nl);
		d->nl = NULL;
		return err;
	}
	d->portid = mnl_socket_get_portid(d->nl);
	return 0;
}

int sockdiag_open(struct sockdiag **out, char **cause)
{
	return sockdiag_open_netns(out, -1, cause);
}

int sockdiag_open_netns(struct sockdiag **out, int nsfd, char **cause)
{
	struct sockdiag *d;
	int err;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d) {
		text_cause(cause, 0, "sock_diag: out of memory");
		return -ENOMEM;
	}
	d->nsfd = -1;
	if (nsfd >= 0 && (d->nsfd = fcntl(nsfd, F_DUPFD_CLOEXEC, 3)) < 0) {
		err = -errno;
		text_cause(cause, 0, "sock_diag: %s", strerror(errno));
		free(d);
		return err;
	}
	err = nl_setup(d, cause);
	if (err < 0) {
		if (d->nsfd >= 0)
			close(d->nsfd);
		free(d);
		return err;
	}
	d->seq = (uint32_t)time(NULL);
	*out = d;
	return 0;
}

void sockdiag_free(struct sockdiag *d)
{
	if (!d)
		return;
	sockdiag_record(d, NULL);
	if (d->nl)
		mnl_socket_close(d->nl);
	if (d->nsfd >= 0)
		close(d->nsfd);
	free(d);
}

int sockdiag_record(struct sockdiag *d, const char *path)
{
	int err = 0;

	if (d->rec && fclose(d->rec) != 0)
		err = -errno;
	d->rec = NULL;
	if (!path)
		return err;
	d->rec = fopen(path, "wb");
	return d->rec ? 0 : -errno;
}

static int record_buf(struct sockdiag *d, const void *buf, size_t len)
{
	uint8_t le[4] = { len & 0xff, (len >> 8) & 0xff, (len >> 16) & 0xff, (len >> 24) & 0xff };

	if (fwrite(le, 1, 4, d->rec) != 4 || fwrite(buf, 1, len, d->rec) != len ||
	    fflush(d->rec) != 0)
		return errno ? -errno : -EIO;
	return 0;
}

/* States that a receive leads into: the last thing received came after the state
 * began, so the time since then bounds the state's age from below. */
static bool age_from_recv(uint8_t state)
{
	return state == ST_ESTABLISHED || state == ST_CLOSE_WAIT || state == ST_FIN_WAIT2;
}

/* The lower bound of the time in this state from INET_DIAG_INFO (tcp_info): the
 * time since anything (data or an ACK) was last received. 0 when none is known. */
static uint32_t tcp_state_age_ms(const struct nlmsghdr *nlh, uint8_t state)
{
	const struct nlattr *a;
	enum { END = offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof(uint32_t) };

	if (!age_from_recv(state))
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(struct inet_diag_msg)) {
		if (mnl_attr_get_type(a) != INET_DIAG_INFO || mnl_attr_get_payload_len(a) < END)
			continue;
		/* The attribute is 4-byte aligned, struct tcp_info wants 8: bytes, not members. */
		const unsigned char *ti = mnl_attr_get_payload(a);
		uint32_t data, ack;
		memcpy(&data, ti + offsetof(struct tcp_info, tcpi_last_data_recv), sizeof(data));
		memcpy(&ack, ti + offsetof(struct tcp_info, tcpi_last_ack_recv), sizeof(ack));
		return data < ack ? data : ack;
	}
	return 0;
}

/* The namespace or the addresses of the socket just added could not be kept: it goes. */
static int sock_tag_failed(struct snapshot *s, int rc, char **cause)
{
	s->nsocks--;
	if (rc == -E2BIG)
		text_cause(cause, 0, "sock_diag: sockets in more than %d network namespaces", SNAPSHOT_SOCK_NS_MAX);
	else
		text_cause(cause, 0, "sock_diag: out of memory at %zu sockets", s->nsocks);
	return rc;
}

static int parse_inet(const struct nlmsghdr *nlh, uint8_t proto, struct snapshot *s,
		      uint64_t netns, char **cause)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct sock_rec *r;
	size_t alen;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m)) {
		text_cause(cause, 0, "sock_diag: truncated socket message (%zu of %zu bytes)",
			  mnl_nlmsg_get_payload_len(nlh), sizeof(*m));
		return -EBADMSG;
	}
	if (m->idiag_family == AF_INET)
		alen = 4;
	else if (m->idiag_family == AF_INET6)
		alen = 16;
	else {
		text_cause(cause, 0, "sock_diag: socket message with unknown family %u",
			  m->idiag_family);
		return -EBADMSG;
	}
	r = snapshot_add_sock(s);
	if (!r) {
		text_cause(cause, 0, "sock_diag: out of memory at %zu sockets", s->nsocks);
		return -ENOMEM;
	}
	r->cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	r->inode = m->idiag_inode;
	r->uid = m->idiag_uid;
	r->rqueue = m->idiag_rqueue;
	r->wqueue = m->idiag_wqueue;
	r->expires_ms = m->idiag_expires;
	r->owner = -1;
	r->lport = ntohs(m->id.idiag_sport);
	r->rport = ntohs(m->id.idiag_dport);
	r->family = m->idiag_family;
	r->proto = proto;
	r->type = proto == IPPROTO_TCP ? SOCK_STREAM : proto == IPPROTO_UDP ? SOCK_DGRAM : SOCK_RAW;
	r->state = m->idiag_state;
	r->timer = m->idiag_timer;
	r->retrans = m->idiag_retrans;
	uint8_t laddr[16] = {0}, raddr[16] = {0};
	memcpy(laddr, m->id.idiag_src, alen);
	memcpy(raddr, m->id.idiag_dst, alen);
	int rc = snapshot_sock_set_netns(s, r, netns);
	if (rc || (rc = snapshot_sock_set_addrs(s, r, laddr, raddr)))
		return sock_tag_failed(s, rc, cause);
	/* Attributes come only when asked for (the first dump): no walk otherwise. */
	if (proto == IPPROTO_TCP && mnl_nlmsg_get_payload_len(nlh) > sizeof(*m))
		r->state_age_ms = tcp_state_age_ms(nlh, m->idiag_state);
	return 0;
}

/* A socket in a namespace (netns), zeroed but for that. */
static struct sock_rec *add_sock(struct snapshot *s, uint64_t netns, char **cause)
{
	struct sock_rec *r = snapshot_add_sock(s);
	int rc;

	if (!r)
		text_cause(cause, 0, "sock_diag: out of memory at %zu sockets", s->nsocks);
	else if ((rc = snapshot_sock_set_netns(s, r, netns)))
		r = NULL, sock_tag_failed(s, rc, cause);
	return r;
}

static int truncated(char **cause, const char *what, size_t got, size_t want)
{
	text_cause(cause, 0, "sock_diag: truncated %s message (%zu of %zu bytes)", what, got, want);
	return -EBADMSG;
}

static int parse_unix(const struct nlmsghdr *nlh, struct snapshot *s, uint64_t netns,
		      char **cause)
{
	const struct unix_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	struct sock_rec *r;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return truncated(cause, "UNIX socket", mnl_nlmsg_get_payload_len(nlh), sizeof(*m));
	if (!(r = add_sock(s, netns, cause)))
		return -ENOMEM;
	r->cookie = (uint64_t)m->udiag_cookie[0] | (uint64_t)m->udiag_cookie[1] << 32;
	r->inode = m->udiag_ino;
	r->family = AF_UNIX;
	r->type = m->udiag_type;
	r->state = m->udiag_state;
	/* mnl_attr_ok bounds every attribute by the message. */
	mnl_attr_for_each(a, nlh, sizeof(*m)) {
		size_t len = mnl_attr_get_payload_len(a);
		const void *v = mnl_attr_get_payload(a);

		switch (mnl_attr_get_type(a)) {
		case UNIX_DIAG_NAME:
			r->un.name = snapshot_add_name(s, v, len);
			break;
		case UNIX_DIAG_PEER:
			if (len >= sizeof(uint32_t))
				memcpy(&r->un.peer, v, sizeof(uint32_t));
			break;
		case UNIX_DIAG_RQLEN:
			if (len >= sizeof(struct unix_diag_rqlen)) {
				const struct unix_diag_rqlen *q = v;
				r->rqueue = q->udiag_rqueue;
				r->wqueue = q->udiag_wqueue;
			}
			break;
		}
	}
	return 0;
}

static int parse_netlink(const struct nlmsghdr *nlh, struct snapshot *s, uint64_t netns,
			 char **cause)
{
	const struct netlink_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct sock_rec *r;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return truncated(cause, "NETLINK socket", mnl_nlmsg_get_payload_len(nlh), sizeof(*m));
	if (!(r = add_sock(s, netns, cause)))
		return -ENOMEM;
	r->cookie = (uint64_t)m->ndiag_cookie[0] | (uint64_t)m->ndiag_cookie[1] << 32;
	r->inode = m->ndiag_ino;
	r->family = AF_NETLINK;
	r->proto = m->ndiag_protocol;
	r->type = m->ndiag_type;
	r->state = m->ndiag_state;
	return 0;
}

static int parse_packet(const struct nlmsghdr *nlh, struct snapshot *s, uint64_t netns,
			char **cause)
{
	const struct packet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct sock_rec *r;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m))
		return truncated(cause, "PACKET socket", mnl_nlmsg_get_payload_len(nlh), sizeof(*m));
	if (!(r = add_sock(s, netns, cause)))
		return -ENOMEM;
	r->cookie = (uint64_t)m->pdiag_cookie[0] | (uint64_t)m->pdiag_cookie[1] << 32;
	r->inode = m->pdiag_ino;
	r->family = AF_PACKET;
	r->type = m->pdiag_type;
	r->state = ST_UNKNOWN;
	return 0;
}

/* The reply's first byte is its family, whatever the diag module: it must be the
 * family asked for. */
static int parse_sock(const struct nlmsghdr *nlh, uint8_t family, uint8_t proto,
		      struct snapshot *s, uint64_t netns, char **cause)
{
	uint8_t got;

	if (mnl_nlmsg_get_payload_len(nlh) < 1)
		return truncated(cause, "socket", 0, 1);
	got = *(const uint8_t *)mnl_nlmsg_get_payload(nlh);
	if (family == AF_INET6 || family == AF_UNSPEC)
		family = AF_INET;
	if ((got == AF_INET6 ? AF_INET : got) != family) {
		text_cause(cause, 0, "sock_diag: socket message with unknown family %u in a "
			  "family %u dump", got, family);
		return -EBADMSG;
	}
	switch (family) {
	case AF_UNIX:
		return parse_unix(nlh, s, netns, cause);
	case AF_NETLINK:
		return parse_netlink(nlh, s, netns, cause);
	case AF_PACKET:
		return parse_packet(nlh, s, netns, cause);
	}
	return parse_inet(nlh, proto, s, netns, cause);
}

int sockdiag_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		   struct snapshot *s, uint64_t netns, char **cause)
{
	return sockdiag_parse_proto(buf, len, seq, portid, AF_INET, IPPROTO_TCP, s, netns, cause);
}

/* Walks the buffer with explicit length checks rather than mnl_cb_run, so a bad
 * message is reported as what it is instead of a bare EBADMSG/EPROTO. */
int sockdiag_parse_proto(const void *buf, size_t len, uint32_t seq, uint32_t portid,
			 uint8_t family, uint8_t proto, struct snapshot *s, uint64_t netns,
			 char **cause)
{
	const uint8_t *p = buf;
	size_t off = 0;

	while (off < len) {
		const struct nlmsghdr *nlh = (const void *)(p + off);
		size_t left = len - off;
		int err;

		if (left < sizeof(*nlh)) {
			text_cause(cause, 0, "sock_diag: truncated netlink header at byte %zu "
				  "(%zu bytes left, need %zu)", off, left, sizeof(*nlh));
			return -EBADMSG;
		}
		if (nlh->nlmsg_len < sizeof(*nlh)) {
			text_cause(cause, 0, "sock_diag: malformed netlink message at byte %zu: "
				  "length %u is shorter than its header", off, nlh->nlmsg_len);
			return -EBADMSG;
		}
		if (nlh->nlmsg_len > left) {
			text_cause(cause, 0, "sock_diag: truncated netlink message at byte %zu: "
				  "length %u, only %zu bytes left", off, nlh->nlmsg_len, left);
			return -EBADMSG;
		}
		/* The attribute walk runs to the aligned end: it must be in the buffer. */
		if (MNL_ALIGN(nlh->nlmsg_len) > left) {
			text_cause(cause, 0, "sock_diag: truncated netlink message at byte %zu: "
				  "length %u ends the buffer before its padding", off, nlh->nlmsg_len);
			return -EBADMSG;
		}
		/* seq or portid 0 skips the check (recorded fixtures), as in libmnl. */
		if (seq && nlh->nlmsg_seq && nlh->nlmsg_seq != seq) {
			text_cause(cause, 0, "sock_diag: reply for sequence %u, expected %u",
				  nlh->nlmsg_seq, seq);
			return -EPROTO;
		}
		if (portid && nlh->nlmsg_pid && nlh->nlmsg_pid != portid) {
			text_cause(cause, 0, "sock_diag: reply for port id %u, expected %u",
				  nlh->nlmsg_pid, portid);
			return -EPROTO;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			text_cause(cause, 0, "sock_diag: dump interrupted by a concurrent change "
				  "(NLM_F_DUMP_INTR)");
			return -EINTR;
		}

		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_DONE: {
			/* A dump that fails after it started (no diag module for the
			 * protocol, say) says so in DONE's payload. */
			int derr = 0;

			if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(derr))
				memcpy(&derr, mnl_nlmsg_get_payload(nlh), sizeof(derr));
			if (derr < 0 && derr >= -4095) {
				text_cause(cause, 0, "sock_diag: kernel ended the dump with an error: %s",
					  strerror(-derr));
				return derr;
			}
			/* Anything after DONE belongs to no dump we asked for. */
			return 0;
		}
		case NLMSG_ERROR: {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
				text_cause(cause, 0, "sock_diag: truncated netlink error message "
					  "(%u bytes)", nlh->nlmsg_len);
				return -EBADMSG;
			}
			if (e->error == 0) /* an ACK ends the exchange */
				return 0;
			if (e->error > 0 || e->error < -4095) {
				text_cause(cause, 0, "sock_diag: netlink error message with bad "
					  "code %d", e->error);
				return -EBADMSG;
			}
			text_cause(cause, 0, "sock_diag: kernel refused the dump: %s",
				  strerror(-e->error));
			return e->error;
		}
		case NLMSG_OVERRUN:
			text_cause(cause, 0, "sock_diag: netlink overrun, messages were lost");
			return -ENOBUFS;
		case SOCK_DIAG_BY_FAMILY:
		case TCPDIAG_GETSOCK: /* replies to the one-walk TCP dump */
			err = parse_sock(nlh, family, proto, s, netns, cause);
			if (err < 0)
				return err;
			break;
		default:
			text_cause(cause, 0, "sock_diag: unexpected netlink message type %u at byte %zu",
				  nlh->nlmsg_type, off);
			return -EBADMSG;
		}
		/* The last message may lack its alignment padding. */
		off += NLMSG_ALIGN(nlh->nlmsg_len) < left ? NLMSG_ALIGN(nlh->nlmsg_len) : left;
	}
	return 1;
}

static int send_request(struct sockdiag *d, const struct dump_req *q, char **cause)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (++d->seq == 0) /* 0 would disable the sequence check */
		d->seq = 1;
	nlh->nlmsg_seq = d->seq;
	if (q->family == AF_UNSPEC) {
		struct inet_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		nlh->nlmsg_type = TCPDIAG_GETSOCK;
		r->idiag_family = AF_INET; /* the kernel dumps AF_UNSPEC: both */
		r->idiag_states = ~0U;
		/* tcp_info on the first dump only: it gives the sockets already there a
		 * kernel bound of their age; later sockets are seen as they come. */
		if (!d->aged)
			r->idiag_ext = 1 << (INET_DIAG_INFO - 1);
	} else if (q->family == AF_UNIX) {
		struct unix_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		r->sdiag_family = AF_UNIX;
		r->udiag_states = ~0U;
		r->udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
	} else if (q->family == AF_NETLINK) {
		struct netlink_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		r->sdiag_family = AF_NETLINK;
		r->sdiag_protocol = NDIAG_PROTO_ALL;
	} else if (q->family == AF_PACKET) {
		struct packet_diag_req *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		r->sdiag_family = AF_PACKET;
	} else {
		/* inet_diag_req_raw is inet_diag_req_v2 with its pad named: the raw
		 * protocol, where IPPROTO_RAW asks for all. */
		struct inet_diag_req_raw *r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
		r->sdiag_family = q->family;
		r->sdiag_protocol = q->proto;
		r->idiag_states = ~0U;
		if (q->proto == IPPROTO_TCP && !d->aged)
			r->idiag_ext = 1 << (INET_DIAG_INFO - 1);
		if (q->proto == IPPROTO_RAW)
			r->sdiag_raw_protocol = IPPROTO_RAW;
	}
	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0) {
		int err = -errno;

		text_cause(cause, 0, "sock_diag: cannot send the %s dump request: %s",
			  q->what, strerror(errno));
		return err;
	}
	return 0;
}

/* One family's dump, read to NLMSG_DONE. */
static int dump_family(struct sockdiag *d, const struct dump_req *q, struct snapshot *s,
		       uint64_t netns, char **cause)
{
	int ret = send_request(d, q, cause);

	while (ret == 0 || ret == 1) {
		if (stop_asked()) /* the rest unread: dump_set closes the socket */
			return text_cause(cause, -ECANCELED, "sock_diag: stopped");
		ssize_t n = mnl_socket_recvfrom(d->nl, d->buf, sizeof(d->buf));

		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			if (err == ENOSPC) /* libmnl's word for MSG_TRUNC */
				text_cause(cause, 0, "sock_diag: netlink message larger than the "
					  "%d-byte receive buffer", SOCKDIAG_BUF_SIZE);
			else
				text_cause(cause, 0, "sock_diag: receive failed: %s", strerror(err));
			return err == ENOSPC ? -EMSGSIZE : -err;
		}
		if (n == 0) {
			text_cause(cause, 0, "sock_diag: netlink socket closed mid-dump");
			return -EPIPE;
		}
		if (d->rec) {
			int err = record_buf(d, d->buf, (size_t)n);

			if (err < 0) {
				text_cause(cause, 0, "sock_diag: cannot write the recording: %s",
					  strerror(-err));
				return err;
			}
		}
		ret = sockdiag_parse_proto(d->buf, (size_t)n, d->seq, d->portid, q->family,
					   q->proto, s, netns, cause);
		if (ret == 0)
			return 0;
	}
	return ret;
}

/* Dump a set of requests, all or nothing, retrying the whole set when interrupted. */
static int dump_set(struct sockdiag *d, const struct dump_req *reqs, size_t nreqs,
		    struct snapshot *s, uint64_t netns, char **cause)
{
	size_t start = s->nsocks;
	int err = 0, try;

	if (!d->nl) { /* a failed reopen after the previous dump */
		err = nl_setup(d, cause);
		if (err < 0)
			return err;
	}
	for (try = 0; try < SOCKDIAG_TRIES; try++) {
		size_t i;

		err = 0;
		for (i = 0; i < nreqs && reqs[i].what && err == 0; i++)
			err = dump_family(d, &reqs[i], s, netns, cause);
		if (err == 0)
			return 0;
		if (err != -EINTR && err != -ENOBUFS)
			break;
		/* Start over: drop this attempt's records, and the rest of the
		 * interrupted dump with the old socket (closing it ends the dump). */
		s->nsocks = start;
		mnl_socket_close(d->nl);
		d->nl = NULL;
		err = nl_setup(d, cause);
		if (err < 0)
			return err;
	}
	if (err == -EINTR || err == -ENOBUFS)
		text_cause(cause, 0, "sock_diag: dump failed %d times (%s), giving up",
			  SOCKDIAG_TRIES, err == -EINTR ? "interrupted by concurrent changes"
			  : "receive buffer overrun");
	else {
		/* Keep the socket usable for the next refresh: unread replies of a
		 * failed dump would confuse it. */
		mnl_socket_close(d->nl);
		d->nl = NULL;
		(void)nl_setup(d, NULL);
	}
	s->nsocks = start;
	return err;
}

static int dump_tcp(struct sockdiag *d, struct snapshot *s, uint64_t netns, char **cause);

int sockdiag_dump_tcp(struct sockdiag *d, struct snapshot *s, uint64_t netns, char **cause)
{
	int err = dump_tcp(d, s, netns, cause);
	if (!err)
		d->aged = true;
	return err;
}

static int dump_tcp(struct sockdiag *d, struct snapshot *s, uint64_t netns, char **cause)
{
	if (!d->no_compat) {
		char *why = NULL;
		int err = dump_set(d, tcp_reqs, 1, s, netns, &why);

		if (err != -EINVAL && err != -EOPNOTSUPP && err != -ENOENT) {
			if (err && cause)
				free(*cause), *cause = why;
			else
				free(why);
			return err;
		}
		free(why);
		d->no_compat = true;
	}
	return dump_set(d, tcp_reqs_v2, 2, s, netns, cause);
}

int sockdiag_has_raw(const struct sockdiag *d)
{
	size_t raw = sizeof(other_reqs) / sizeof(other_reqs[0]) - 1;
	return !(d->missing & (1u << raw));
}

int sockdiag_dump_all(struct sockdiag *d, struct snapshot *s, uint64_t netns, char **cause)
{
	int err = sockdiag_dump_tcp(d, s, netns, cause), first = err;

	for (size_t i = 0; i < sizeof(other_reqs) / sizeof(other_reqs[0]) && first != -ECANCELED; i++) {
		char *why = NULL;

		if (d->missing & (1u << i))
			continue;
		err = dump_set(d, other_reqs[i], 2, s, netns, &why);
		if (err == -ENOENT && i >= OPTIONAL_FROM) {
			d->missing |= 1u << i;
			err = 0;
		}
		if (err && !first) {
			first = err;
			text_cause(cause, 0, "%s", why ? why : strerror(-err));
		}
		free(why);
	}
	return first;
}
