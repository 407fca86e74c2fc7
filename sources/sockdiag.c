/* TCP sockets (IPv4 and IPv6, every state) from one sock_diag netlink dump per family,
 * parsed by one strict parser shared by the live dump and the recorded-fixture tests. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
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
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include "model/snapshot.h"
#include "sources/sockdiag.h"

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
	FILE *rec;           /* sockdiag_record() target, or NULL */
	char *rec_path;
	char buf[SOCKDIAG_BUF_SIZE];
};

static const uint8_t dump_families[] = { AF_INET, AF_INET6 };

/* Replace *cause with a formatted message (the caller frees it). */
__attribute__((format(printf, 2, 3)))
static void set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL;

	if (!cause)
		return;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	free(*cause);
	*cause = msg;
}

static int nl_setup(struct sockdiag *d, char **cause)
{
	int rcvbuf = SOCKDIAG_RCVBUF;
	int err;

	d->nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!d->nl) {
		err = -errno;
		set_cause(cause, "sock_diag: cannot open netlink socket: %s", strerror(errno));
		return err;
	}
	/* Best effort: a smaller buffer is only slower (rmem_max caps it). */
	(void)setsockopt(mnl_socket_get_fd(d->nl), SOL_SOCKET, SO_RCVBUF,
			 &rcvbuf, sizeof(rcvbuf));
	if (mnl_socket_bind(d->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		set_cause(cause, "sock_diag: cannot bind netlink socket: %s", strerror(errno));
		mnl_socket_close(d->nl);
		d->nl = NULL;
		return err;
	}
	d->portid = mnl_socket_get_portid(d->nl);
	return 0;
}

int sockdiag_open(struct sockdiag **out, char **cause)
{
	struct sockdiag *d;
	int err;

	*out = NULL;
	d = calloc(1, sizeof(*d));
	if (!d) {
		set_cause(cause, "sock_diag: out of memory");
		return -ENOMEM;
	}
	err = nl_setup(d, cause);
	if (err < 0) {
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

static int parse_sock(const struct nlmsghdr *nlh, struct snapshot *s, uint64_t netns,
		      char **cause)
{
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct sock_rec *r;
	size_t alen;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*m)) {
		set_cause(cause, "sock_diag: truncated socket message (%zu of %zu bytes)",
			  mnl_nlmsg_get_payload_len(nlh), sizeof(*m));
		return -EBADMSG;
	}
	if (m->idiag_family == AF_INET)
		alen = 4;
	else if (m->idiag_family == AF_INET6)
		alen = 16;
	else {
		set_cause(cause, "sock_diag: socket message with unknown family %u",
			  m->idiag_family);
		return -EBADMSG;
	}
	r = snapshot_add_sock(s);
	if (!r) {
		set_cause(cause, "sock_diag: out of memory at %zu sockets", s->nsocks);
		return -ENOMEM;
	}
	r->cookie = (uint64_t)m->id.idiag_cookie[0] | (uint64_t)m->id.idiag_cookie[1] << 32;
	r->netns = netns;
	r->inode = m->idiag_inode;
	r->uid = m->idiag_uid;
	r->rqueue = m->idiag_rqueue;
	r->wqueue = m->idiag_wqueue;
	r->expires_ms = m->idiag_expires;
	r->owner = -1;
	r->lport = ntohs(m->id.idiag_sport);
	r->rport = ntohs(m->id.idiag_dport);
	r->family = m->idiag_family;
	r->proto = IPPROTO_TCP;
	r->state = m->idiag_state;
	r->timer = m->idiag_timer;
	r->retrans = m->idiag_retrans;
	memcpy(r->laddr, m->id.idiag_src, alen);
	memcpy(r->raddr, m->id.idiag_dst, alen);
	return 0;
}

/* Walks the buffer with explicit length checks rather than mnl_cb_run, so a bad
 * message is reported as what it is instead of a bare EBADMSG/EPROTO. */
int sockdiag_parse(const void *buf, size_t len, uint32_t seq, uint32_t portid,
		   struct snapshot *s, uint64_t netns, char **cause)
{
	const uint8_t *p = buf;
	size_t off = 0;

	while (off < len) {
		const struct nlmsghdr *nlh = (const void *)(p + off);
		size_t left = len - off;
		int err;

		if (left < sizeof(*nlh)) {
			set_cause(cause, "sock_diag: truncated netlink header at byte %zu "
				  "(%zu bytes left, need %zu)", off, left, sizeof(*nlh));
			return -EBADMSG;
		}
		if (nlh->nlmsg_len < sizeof(*nlh)) {
			set_cause(cause, "sock_diag: malformed netlink message at byte %zu: "
				  "length %u is shorter than its header", off, nlh->nlmsg_len);
			return -EBADMSG;
		}
		if (nlh->nlmsg_len > left) {
			set_cause(cause, "sock_diag: truncated netlink message at byte %zu: "
				  "length %u, only %zu bytes left", off, nlh->nlmsg_len, left);
			return -EBADMSG;
		}
		/* seq or portid 0 skips the check (recorded fixtures), as in libmnl. */
		if (seq && nlh->nlmsg_seq && nlh->nlmsg_seq != seq) {
			set_cause(cause, "sock_diag: reply for sequence %u, expected %u",
				  nlh->nlmsg_seq, seq);
			return -EPROTO;
		}
		if (portid && nlh->nlmsg_pid && nlh->nlmsg_pid != portid) {
			set_cause(cause, "sock_diag: reply for port id %u, expected %u",
				  nlh->nlmsg_pid, portid);
			return -EPROTO;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) {
			set_cause(cause, "sock_diag: dump interrupted by a concurrent change "
				  "(NLM_F_DUMP_INTR)");
			return -EINTR;
		}

		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_DONE:
			/* Anything after DONE belongs to no dump we asked for. */
			return 0;
		case NLMSG_ERROR: {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);

			if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e)) {
				set_cause(cause, "sock_diag: truncated netlink error message "
					  "(%u bytes)", nlh->nlmsg_len);
				return -EBADMSG;
			}
			if (e->error == 0) /* an ACK ends the exchange */
				return 0;
			if (e->error > 0 || e->error < -4095) {
				set_cause(cause, "sock_diag: netlink error message with bad "
					  "code %d", e->error);
				return -EBADMSG;
			}
			set_cause(cause, "sock_diag: kernel refused the dump: %s",
				  strerror(-e->error));
			return e->error;
		}
		case NLMSG_OVERRUN:
			set_cause(cause, "sock_diag: netlink overrun, messages were lost");
			return -ENOBUFS;
		case SOCK_DIAG_BY_FAMILY:
			err = parse_sock(nlh, s, netns, cause);
			if (err < 0)
				return err;
			break;
		default:
			set_cause(cause, "sock_diag: unexpected netlink message type %u at byte %zu",
				  nlh->nlmsg_type, off);
			return -EBADMSG;
		}
		/* The last message may lack its alignment padding. */
		off += NLMSG_ALIGN(nlh->nlmsg_len) < left ? NLMSG_ALIGN(nlh->nlmsg_len) : left;
	}
	return 1;
}

static int send_request(struct sockdiag *d, uint8_t family, char **cause)
{
	char req[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(req);
	struct inet_diag_req_v2 *r;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (++d->seq == 0) /* 0 would disable the sequence check */
		d->seq = 1;
	nlh->nlmsg_seq = d->seq;
	r = mnl_nlmsg_put_extra_header(nlh, sizeof(*r));
	r->sdiag_family = family;
	r->sdiag_protocol = IPPROTO_TCP;
	r->idiag_states = ~0U;
	if (mnl_socket_sendto(d->nl, nlh, nlh->nlmsg_len) < 0) {
		int err = -errno;

		set_cause(cause, "sock_diag: cannot send the %s dump request: %s",
			  family == AF_INET ? "IPv4" : "IPv6", strerror(errno));
		return err;
	}
	return 0;
}

/* One family's dump, read to NLMSG_DONE. */
static int dump_family(struct sockdiag *d, uint8_t family, struct snapshot *s,
		       uint64_t netns, char **cause)
{
	int ret = send_request(d, family, cause);

	while (ret == 0 || ret == 1) {
		ssize_t n = mnl_socket_recvfrom(d->nl, d->buf, sizeof(d->buf));

		if (n < 0) {
			int err = errno;

			if (err == EINTR)
				continue;
			if (err == ENOSPC) /* libmnl's word for MSG_TRUNC */
				set_cause(cause, "sock_diag: netlink message larger than the "
					  "%d-byte receive buffer", SOCKDIAG_BUF_SIZE);
			else
				set_cause(cause, "sock_diag: receive failed: %s", strerror(err));
			return err == ENOSPC ? -EMSGSIZE : -err;
		}
		if (n == 0) {
			set_cause(cause, "sock_diag: netlink socket closed mid-dump");
			return -EPIPE;
		}
		if (d->rec) {
			int err = record_buf(d, d->buf, (size_t)n);

			if (err < 0) {
				set_cause(cause, "sock_diag: cannot write the recording: %s",
					  strerror(-err));
				return err;
			}
		}
		ret = sockdiag_parse(d->buf, (size_t)n, d->seq, d->portid, s, netns, cause);
		if (ret == 0)
			return 0;
	}
	return ret;
}

int sockdiag_dump_tcp(struct sockdiag *d, struct snapshot *s, uint64_t netns, char **cause)
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
		for (i = 0; i < sizeof(dump_families) && err == 0; i++)
			err = dump_family(d, dump_families[i], s, netns, cause);
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
		set_cause(cause, "sock_diag: dump failed %d times (%s), giving up",
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
