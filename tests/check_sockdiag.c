/* Unit tests for sources/sockdiag: the parser on a recorded dump
 * (tests/data/tcp_dump_closewait.*) and edited copies of it, plus one live dump. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <stddef.h>

#include <linux/inet_diag.h>
#include <linux/tcp.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>

#include "model/snapshot.h"
#include "sources/sockdiag.h"
#include "tests/testkit.h"

#define FIXTURE TESTDATADIR "/tcp_dump_closewait.bin"
#define NETNS 4026531840ULL

/* One recorded recv() buffer. */
struct frame {
	uint8_t *buf;
	size_t len;
};

struct fixture {
	struct frame *frames; /* as many as the dump had: a live dump of a busy box's
			       * own namespace (~11,000 frames at 1M sockets) too */
	size_t nframes, cap;
};

static void fixture_free(struct fixture *fx)
{
	while (fx->nframes)
		free(fx->frames[--fx->nframes].buf);
	free(fx->frames);
	fx->frames = NULL;
	fx->cap = 0;
}

static void fixture_load(struct fixture *fx, const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t le[4];

	ck_assert_msg(f != NULL, "cannot open %s", path);
	memset(fx, 0, sizeof(*fx));
	while (fread(le, 1, 4, f) == 4) {
		if (fx->nframes == fx->cap) {
			fx->cap = fx->cap ? fx->cap * 2 : 64;
			fx->frames = realloc(fx->frames, fx->cap * sizeof(*fx->frames));
			ck_assert_ptr_nonnull(fx->frames);
		}
		struct frame *fr = &fx->frames[fx->nframes++];

		fr->len = le[0] | le[1] << 8 | le[2] << 16 | (size_t)le[3] << 24;
		fr->buf = malloc(fr->len + 64); /* room to grow an edited copy */
		ck_assert_ptr_nonnull(fr->buf);
		ck_assert_uint_eq(fread(fr->buf, 1, fr->len, f), fr->len);
	}
	fclose(f);
}

/* Parse every frame of the fixture; each dump must end with 0 (NLMSG_DONE). */
static struct snapshot *parse_fixture(struct fixture *fx)
{
	struct snapshot *s = snapshot_new();
	size_t i;

	ck_assert_ptr_nonnull(s);
	fixture_load(fx, FIXTURE);
	ck_assert_uint_eq(fx->nframes, 4);
	for (i = 0; i < fx->nframes; i++) {
		char *cause = NULL;
		int ret = sockdiag_parse(fx->frames[i].buf, fx->frames[i].len, 0, 0, s,
					 NETNS, &cause);

		ck_assert_msg(ret == (i % 2 ? 0 : 1), "frame %zu: %d (%s)", i, ret,
			      cause ? cause : "");
		ck_assert_ptr_null(cause);
	}
	return s;
}

static const struct sock_rec *find(const struct snapshot *s, int family, unsigned state,
				   uint16_t lport, uint16_t rport)
{
	size_t i;

	for (i = 0; i < s->nsocks; i++) {
		const struct sock_rec *r = &s->socks[i];

		if (r->family == family && r->state == state && r->lport == lport &&
		    r->rport == rport)
			return r;
	}
	return NULL;
}

static void count_states(const struct snapshot *s, int family, unsigned counts[ST_COUNT])
{
	size_t i;

	memset(counts, 0, ST_COUNT * sizeof(counts[0]));
	for (i = 0; i < s->nsocks; i++)
		if (s->socks[i].family == family && s->socks[i].state < ST_COUNT)
			counts[s->socks[i].state]++;
}

/* Parse one edited buffer; returns what sockdiag_parse did and checks that an
 * error came with a cause (and only then). */
static int parse_edited(const void *buf, size_t len, char **cause_out)
{
	struct snapshot *s = snapshot_new();
	char *cause = NULL;
	int ret = sockdiag_parse(buf, len, 0, 0, s, NETNS, &cause);

	if (ret < 0)
		ck_assert_msg(cause != NULL && cause[0], "error %d without a cause", ret);
	else
		ck_assert_ptr_null(cause);
	if (cause_out)
		*cause_out = cause;
	else
		free(cause);
	snapshot_free(s);
	return ret;
}

/* Offset of the n-th message in a frame. */
static size_t msg_off(const struct frame *fr, unsigned n)
{
	size_t off = 0;

	while (n--) {
		const struct nlmsghdr *h = (const void *)(fr->buf + off);

		off += NLMSG_ALIGN(h->nlmsg_len);
	}
	ck_assert_uint_lt(off, fr->len);
	return off;
}

START_TEST(fixture_counts_per_state)
{
	struct fixture fx;
	struct snapshot *s = parse_fixture(&fx);
	unsigned v4[ST_COUNT], v6[ST_COUNT];
	size_t i;

	ck_assert_uint_eq(s->nsocks, 13);
	count_states(s, AF_INET, v4);
	count_states(s, AF_INET6, v6);
	ck_assert_uint_eq(v4[ST_LISTEN], 1);
	ck_assert_uint_eq(v4[ST_ESTABLISHED], 4);
	ck_assert_uint_eq(v4[ST_CLOSE_WAIT], 1);
	ck_assert_uint_eq(v4[ST_FIN_WAIT2], 1);
	ck_assert_uint_eq(v4[ST_TIME_WAIT], 1);
	ck_assert_uint_eq(v6[ST_LISTEN], 1);
	ck_assert_uint_eq(v6[ST_ESTABLISHED], 2);
	ck_assert_uint_eq(v6[ST_CLOSE_WAIT], 1);
	ck_assert_uint_eq(v6[ST_FIN_WAIT2], 1);
	ck_assert_uint_eq(v6[ST_TIME_WAIT], 0);
	for (i = 0; i < s->nsocks; i++) {
		const struct sock_rec *r = &s->socks[i];

		ck_assert_uint_eq(r->proto, IPPROTO_TCP);
		ck_assert_int_eq(r->owner, -1);
		ck_assert_uint_eq(sock_netns(s, r), NETNS);
		ck_assert_uint_eq(r->uid, 0);
		ck_assert_uint_eq(r->cookie, i + 2); /* sk:2..sk:e in dump order */
	}
	snapshot_free(s);
	fixture_free(&fx);
}
END_TEST

START_TEST(fixture_close_wait_recv_q)
{
	struct fixture fx;
	struct snapshot *s = parse_fixture(&fx);
	const struct sock_rec *cw4 = find(s, AF_INET, ST_CLOSE_WAIT, 4000, 51252);
	const struct sock_rec *cw6 = find(s, AF_INET6, ST_CLOSE_WAIT, 4006, 45530);
	const uint8_t lo4[4] = { 127, 0, 0, 1 };

	ck_assert_ptr_nonnull(cw4);
	ck_assert_uint_eq(cw4->rqueue, 1001); /* 1000 bytes + the FIN, as ss shows */
	ck_assert_uint_eq(cw4->wqueue, 0);
	ck_assert_uint_eq(cw4->inode, 7792);
	ck_assert_uint_eq(cw4->cookie, 7);
	ck_assert_mem_eq(sock_laddr(s, cw4).b, lo4, 4);
	ck_assert_mem_eq(sock_raddr(s, cw4).b, lo4, 4);
	ck_assert_ptr_nonnull(cw6);
	ck_assert_uint_eq(cw6->rqueue, 201);
	ck_assert_uint_eq(cw6->inode, 7799);
	snapshot_free(s);
	fixture_free(&fx);
}
END_TEST

START_TEST(fixture_listen_accept_queue)
{
	struct fixture fx;
	struct snapshot *s = parse_fixture(&fx);
	const struct sock_rec *l4 = find(s, AF_INET, ST_LISTEN, 4000, 0);
	const struct sock_rec *l6 = find(s, AF_INET6, ST_LISTEN, 4006, 0);
	const uint8_t zero[16] = { 0 };

	ck_assert_ptr_nonnull(l4);
	ck_assert_uint_eq(l4->rqueue, 1);  /* one connection not yet accepted */
	ck_assert_uint_eq(l4->wqueue, 16); /* the backlog */
	ck_assert_uint_eq(l4->inode, 7787);
	ck_assert_mem_eq(sock_raddr(s, l4).b, zero, 16);
	ck_assert_ptr_nonnull(l6);
	ck_assert_uint_eq(l6->rqueue, 0);
	ck_assert_uint_eq(l6->wqueue, 8);
	ck_assert_uint_eq(l6->inode, 7788);
	/* The unaccepted child: ESTABLISHED, no inode yet. */
	ck_assert_ptr_nonnull(find(s, AF_INET, ST_ESTABLISHED, 4000, 51268));
	ck_assert_uint_eq(find(s, AF_INET, ST_ESTABLISHED, 4000, 51268)->inode, 0);
	snapshot_free(s);
	fixture_free(&fx);
}
END_TEST

START_TEST(fixture_minisockets)
{
	struct fixture fx;
	struct snapshot *s = parse_fixture(&fx);
	const struct sock_rec *tw = find(s, AF_INET, ST_TIME_WAIT, 51256, 4000);
	const struct sock_rec *fw4 = find(s, AF_INET, ST_FIN_WAIT2, 51252, 4000);
	const struct sock_rec *fw6 = find(s, AF_INET6, ST_FIN_WAIT2, 45530, 4006);

	ck_assert_ptr_nonnull(tw);
	ck_assert_uint_eq(tw->inode, 0);
	ck_assert_uint_eq(tw->timer, 3);
	ck_assert_uint_gt(tw->expires_ms, 50000);
	ck_assert_uint_le(tw->expires_ms, 60000);
	/* The orphaned FIN_WAIT2 is a time-wait minisocket... */
	ck_assert_ptr_nonnull(fw4);
	ck_assert_uint_eq(fw4->inode, 0);
	ck_assert_uint_eq(fw4->timer, 3);
	/* ...the half-closed one a full socket with an inode. */
	ck_assert_ptr_nonnull(fw6);
	ck_assert_uint_eq(fw6->inode, 7798);
	snapshot_free(s);
	fixture_free(&fx);
}
END_TEST

START_TEST(fixture_ipv6_addresses)
{
	struct fixture fx;
	struct snapshot *s = parse_fixture(&fx);
	const struct sock_rec *e6 = find(s, AF_INET6, ST_ESTABLISHED, 45524, 4006);
	const struct sock_rec *l6 = find(s, AF_INET6, ST_LISTEN, 4006, 0);
	const struct sock_rec *e4 = find(s, AF_INET, ST_ESTABLISHED, 51250, 4000);
	char a[INET6_ADDRSTRLEN], buf[SOCK_ADDR_MAX];

	ck_assert_ptr_nonnull(e6);
	ck_assert_mem_eq(sock_laddr(s, e6).b, &in6addr_loopback, 16);
	ck_assert_str_eq(inet_ntop(AF_INET6, sock_raddr(s, e6).b, a, sizeof(a)), "::1");
	ck_assert_str_eq(sock_addr_format(buf, AF_INET6, sock_laddr(s, e6).b, e6->lport), "[::1]:45524");
	ck_assert_str_eq(sock_addr_format(buf, AF_INET6, sock_raddr(s, e6).b, e6->rport), "[::1]:4006");
	ck_assert_ptr_nonnull(l6);
	ck_assert_str_eq(inet_ntop(AF_INET6, sock_raddr(s, l6).b, a, sizeof(a)), "::");
	ck_assert_ptr_nonnull(e4);
	ck_assert_str_eq(sock_addr_format(buf, AF_INET, sock_laddr(s, e4).b, e4->lport), "127.0.0.1:51250");
	snapshot_free(s);
	fixture_free(&fx);
}
END_TEST

START_TEST(fixture_cookie_high_bits)
{
	struct fixture fx;
	struct frame *fr;
	struct snapshot *s = snapshot_new();
	struct inet_diag_msg *m;
	char *cause = NULL;

	fixture_load(&fx, FIXTURE);
	fr = &fx.frames[0];
	m = NLMSG_DATA((struct nlmsghdr *)fr->buf);
	m->id.idiag_cookie[1] = 0xdeadbeef;
	ck_assert_int_eq(sockdiag_parse(fr->buf, fr->len, 0, 0, s, 0, &cause), 1);
	ck_assert_uint_eq(s->socks[0].cookie, 0xdeadbeef00000002ULL);
	snapshot_free(s);
	fixture_free(&fx);
}
END_TEST

/* One TCP socket message in state st with a tcp_info attribute (INET_DIAG_INFO). */
static size_t info_msg(char *buf, uint8_t st, uint32_t data_ms, uint32_t ack_ms)
{
	struct nlmsghdr *h = mnl_nlmsg_put_header(buf);
	struct inet_diag_msg *m = mnl_nlmsg_put_extra_header(h, sizeof(*m));
	struct tcp_info ti = {.tcpi_last_data_recv = data_ms, .tcpi_last_ack_recv = ack_ms};

	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m->idiag_family = AF_INET;
	m->idiag_state = st;
	m->idiag_inode = 77;
	mnl_attr_put(h, INET_DIAG_INFO, sizeof(ti), &ti);
	return h->nlmsg_len;
}

/* The kernel's bound of a socket's age in its state: the time since anything was
 * last received, for the states a receive leads into; none for the others, and
 * none from a tcp_info too short to hold the field. */
START_TEST(tcp_info_gives_state_age)
{
	char buf[1024];
	struct snapshot *s = snapshot_new();
	char *cause = NULL;
	size_t len = info_msg(buf, ST_CLOSE_WAIT, 150000, 120000);

	ck_assert_int_eq(sockdiag_parse(buf, len, 0, 0, s, 0, &cause), 1);
	ck_assert_uint_eq(s->socks[0].state_age_ms, 120000);
	len = info_msg(buf, ST_ESTABLISHED, 3000, 9000);
	ck_assert_int_eq(sockdiag_parse(buf, len, 0, 0, s, 0, &cause), 1);
	ck_assert_uint_eq(s->socks[1].state_age_ms, 3000);
	/* We closed first: what came in before says nothing of the state's age. */
	len = info_msg(buf, ST_LAST_ACK, 150000, 120000);
	ck_assert_int_eq(sockdiag_parse(buf, len, 0, 0, s, 0, &cause), 1);
	ck_assert_uint_eq(s->socks[2].state_age_ms, 0);
	/* A tcp_info cut before tcpi_last_ack_recv. */
	len = info_msg(buf, ST_CLOSE_WAIT, 150000, 120000);
	struct nlattr *a = (struct nlattr *)(buf + NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct inet_diag_msg)));
	a->nla_len = NLA_HDRLEN + 40;
	ck_assert_int_eq(sockdiag_parse(buf, len, 0, 0, s, 0, &cause), 1);
	ck_assert_uint_eq(s->socks[3].state_age_ms, 0);
	ck_assert_ptr_null(cause);
	snapshot_free(s);
}
END_TEST

/* Cut the first frame at every length: a cut on a message boundary is a valid
 * shorter buffer, anything else is a truncation error, never a short count. */
START_TEST(truncated_every_cut)
{
	struct fixture fx;
	struct frame *fr;
	size_t cut, boundary = 0, msgs = 0;

	fixture_load(&fx, FIXTURE);
	fr = &fx.frames[0];
	for (cut = 1; cut < fr->len; cut++) {
		uint8_t *copy = malloc(cut); /* exact size, so ASan sees any overread */
		struct snapshot *s = snapshot_new();
		char *cause = NULL;
		int ret;

		memcpy(copy, fr->buf, cut);
		if (cut >= boundary + NLMSG_ALIGN(((struct nlmsghdr *)(fr->buf + boundary))->nlmsg_len)) {
			boundary = cut;
			msgs++;
		}
		ret = sockdiag_parse(copy, cut, 0, 0, s, NETNS, &cause);
		if (cut == boundary) {
			ck_assert_int_eq(ret, 1);
			ck_assert_uint_eq(s->nsocks, msgs);
		} else {
			ck_assert_msg(ret == -EBADMSG, "cut %zu: %d", cut, ret);
			ck_assert_ptr_nonnull(cause);
			ck_assert_msg(strstr(cause, "truncated"), "cut %zu: %s", cut, cause);
		}
		free(cause);
		free(copy);
		snapshot_free(s);
	}
	ck_assert_uint_eq(msgs, 7); /* the 8th ends at fr->len, never cut */
	fixture_free(&fx);
}
END_TEST

START_TEST(malformed_lengths)
{
	struct fixture fx;
	struct frame *fr;
	struct nlmsghdr *h;
	uint32_t orig;
	char *cause;

	fixture_load(&fx, FIXTURE);
	fr = &fx.frames[0];
	h = (struct nlmsghdr *)(fr->buf + msg_off(fr, 2));
	orig = h->nlmsg_len;

	h->nlmsg_len = 8; /* shorter than its own header */
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, &cause), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(cause, "shorter than its header"));
	free(cause);

	h->nlmsg_len = 0; /* would loop forever if trusted */
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, NULL), -EBADMSG);

	h->nlmsg_len = (uint32_t)fr->len; /* runs past the buffer */
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, &cause), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(cause, "truncated netlink message"));
	free(cause);

	h->nlmsg_len = 0xffffffffu;
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, NULL), -EBADMSG);

	/* A header-sized socket message: payload shorter than inet_diag_msg. The
	 * rest of the buffer is then misaligned garbage, but parsing stops first. */
	h->nlmsg_len = sizeof(*h) + sizeof(struct inet_diag_msg) - 1;
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, &cause), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(cause, "truncated socket message"));
	free(cause);

	h->nlmsg_len = orig;
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, NULL), 1);
	fixture_free(&fx);
}
END_TEST

/* Found by fuzz_sockdiag: a message whose length is not a multiple of 4 and that ends
 * the buffer; the attribute walk ran on to the aligned end, past the buffer. */
START_TEST(unaligned_last_message)
{
	struct fixture fx;
	struct frame *fr;
	char *cause = NULL;

	fixture_load(&fx, FIXTURE);
	fr = &fx.frames[0];
	const struct nlmsghdr *first = (const struct nlmsghdr *)fr->buf;
	uint32_t len = first->nlmsg_len - 1;
	unsigned char *buf = malloc(len); /* exactly: ASan sees a byte read past it */
	ck_assert_ptr_nonnull(buf);
	memcpy(buf, fr->buf, len);
	((struct nlmsghdr *)buf)->nlmsg_len = len;
	ck_assert_int_eq(parse_edited(buf, len, &cause), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(cause, "before its padding"));
	free(cause);
	free(buf);
	fixture_free(&fx);
}
END_TEST

START_TEST(malformed_type_and_family)
{
	struct fixture fx;
	struct frame *fr;
	struct nlmsghdr *h;
	struct inet_diag_msg *m;
	char *cause;

	fixture_load(&fx, FIXTURE);
	fr = &fx.frames[0];
	h = (struct nlmsghdr *)(fr->buf + msg_off(fr, 3));

	h->nlmsg_type = 0x1234;
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, &cause), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(cause, "unexpected netlink message type 4660"));
	free(cause);

	h->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	m = NLMSG_DATA(h);
	m->idiag_family = AF_UNIX;
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, &cause), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(cause, "family"));
	free(cause);

	/* Bytes after the last message that cannot hold a header. */
	m->idiag_family = AF_INET;
	memset(fr->buf + fr->len, 0, 8);
	ck_assert_int_eq(parse_edited(fr->buf, fr->len + 8, &cause), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(cause, "truncated netlink header"));
	free(cause);
	fixture_free(&fx);
}
END_TEST

START_TEST(nlmsg_error_returns_errno)
{
	struct fixture fx;
	struct frame *fr;
	struct snapshot *s = snapshot_new();
	struct nlmsghdr *h;
	struct nlmsgerr *e;
	size_t off;
	char *cause = NULL;

	fixture_load(&fx, FIXTURE);
	fr = &fx.frames[0];
	/* Two sockets, then an NLMSG_ERROR where the third was. */
	off = msg_off(fr, 2);
	h = (struct nlmsghdr *)(fr->buf + off);
	h->nlmsg_type = NLMSG_ERROR;
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	e = NLMSG_DATA(h);
	memset(e, 0, sizeof(*e));
	e->error = -EPERM;
	ck_assert_int_eq(sockdiag_parse(fr->buf, off + h->nlmsg_len, 0, 0, s, 0, &cause),
			 -EPERM);
	ck_assert_uint_eq(s->nsocks, 2);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, strerror(EPERM)));
	free(cause);
	cause = NULL;

	/* Too short to hold struct nlmsgerr. */
	h->nlmsg_len = NLMSG_LENGTH(2);
	ck_assert_int_eq(parse_edited(fr->buf + off, h->nlmsg_len, NULL), -EBADMSG);

	/* error 0 is an ACK: the end, not a failure. */
	h->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
	e->error = 0;
	ck_assert_int_eq(parse_edited(fr->buf + off, h->nlmsg_len, NULL), 0);
	snapshot_free(s);
	fixture_free(&fx);
}
END_TEST

/* A dump the kernel cannot do (no raw_diag, say) ends with an error in DONE. */
START_TEST(done_with_error_returns_errno)
{
	struct fixture fx;
	struct frame *fr;
	struct nlmsghdr *h;
	char *cause = NULL;

	fixture_load(&fx, FIXTURE);
	fr = &fx.frames[1]; /* the first dump's NLMSG_DONE */
	h = (struct nlmsghdr *)fr->buf;
	ck_assert_uint_eq(h->nlmsg_type, NLMSG_DONE);
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, NULL), 0);
	int err = -ENOENT;
	ck_assert_uint_ge(h->nlmsg_len, NLMSG_LENGTH(sizeof(err)));
	memcpy(NLMSG_DATA(h), &err, sizeof(err));
	ck_assert_int_eq(parse_edited(fr->buf, fr->len, &cause), -ENOENT);
	ck_assert_ptr_nonnull(strstr(cause, strerror(ENOENT)));
	free(cause);
	fixture_free(&fx);
}
END_TEST

START_TEST(dump_intr_returns_eintr)
{
	struct fixture fx;
	struct nlmsghdr *h;
	char *cause;

	fixture_load(&fx, FIXTURE);
	h = (struct nlmsghdr *)(fx.frames[0].buf + msg_off(&fx.frames[0], 5));
	h->nlmsg_flags |= NLM_F_DUMP_INTR;
	ck_assert_int_eq(parse_edited(fx.frames[0].buf, fx.frames[0].len, &cause), -EINTR);
	ck_assert_ptr_nonnull(strstr(cause, "NLM_F_DUMP_INTR"));
	free(cause);

	/* Flagged on NLMSG_DONE only (the kernel may flag just the end). */
	h = (struct nlmsghdr *)fx.frames[1].buf;
	ck_assert_uint_eq(h->nlmsg_type, NLMSG_DONE);
	h->nlmsg_flags |= NLM_F_DUMP_INTR;
	ck_assert_int_eq(parse_edited(fx.frames[1].buf, fx.frames[1].len, NULL), -EINTR);
	fixture_free(&fx);
}
END_TEST

START_TEST(sequence_and_portid_checked)
{
	struct fixture fx;
	struct frame *fr;
	struct snapshot *s = snapshot_new();
	const struct nlmsghdr *h;
	char *cause = NULL;

	fixture_load(&fx, FIXTURE);
	fr = &fx.frames[0];
	h = (const struct nlmsghdr *)fr->buf;
	ck_assert_int_eq(sockdiag_parse(fr->buf, fr->len, h->nlmsg_seq, h->nlmsg_pid, s, 0,
					&cause), 1);
	ck_assert_ptr_null(cause);
	ck_assert_int_eq(sockdiag_parse(fr->buf, fr->len, h->nlmsg_seq + 1, 0, s, 0, &cause),
			 -EPROTO);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	cause = NULL;
	ck_assert_int_eq(sockdiag_parse(fr->buf, fr->len, 0, h->nlmsg_pid + 1, s, 0, &cause),
			 -EPROTO);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	snapshot_free(s);
	fixture_free(&fx);
}
END_TEST

/* --- live: a real dump of our own loopback sockets --------------------------- */

static const struct sock_rec *find_live(const struct snapshot *s, unsigned state,
					uint16_t lport, uint16_t rport)
{
	const uint8_t lo4[4] = { 127, 0, 0, 1 };
	size_t i;

	for (i = 0; i < s->nsocks; i++) {
		const struct sock_rec *r = &s->socks[i];

		if (r->family == AF_INET && r->state == state && r->lport == lport &&
		    r->rport == rport && memcmp(sock_laddr(s, r).b, lo4, 4) == 0)
			return r;
	}
	return NULL;
}

static uint32_t fd_inode(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	return (uint32_t)st.st_ino;
}

START_TEST(live_dump_finds_both_ends)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct sockdiag *d = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL, rec[] = "/tmp/check_sockdiag.XXXXXX";
	const struct sock_rec *r;
	struct fixture fx;
	size_t i, nrec = 0;
	uint16_t lport, cport;
	int l, c, acc, tmp;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 4), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &alen), 0);
	lport = ntohs(a.sin_port);
	c = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(connect(c, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(c, (struct sockaddr *)&a, &alen), 0);
	cport = ntohs(a.sin_port);
	acc = accept(l, NULL, NULL);
	ck_assert_int_ge(acc, 0);
	usleep(50 * 1000); /* so that the kernel's age of the connection is not 0 ms */

	tmp = mkstemp(rec);
	ck_assert_int_ge(tmp, 0);
	close(tmp);
	ck_assert_int_eq(sockdiag_open(&d, &cause), 0);
	ck_assert_int_eq(sockdiag_record(d, rec), 0);
	ck_assert_msg(sockdiag_dump_tcp(d, s, NETNS, &cause) == 0, "%s", cause);
	ck_assert_int_eq(sockdiag_record(d, NULL), 0);

	r = find_live(s, ST_LISTEN, lport, 0);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->inode, fd_inode(l));
	ck_assert_uint_eq(r->wqueue, 4);
	r = find_live(s, ST_ESTABLISHED, cport, lport);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->inode, fd_inode(c));
	ck_assert_uint_eq(r->uid, getuid());
	ck_assert_uint_eq(sock_netns(s, r), NETNS);
	ck_assert_uint_ne(r->cookie, 0);
	r = find_live(s, ST_ESTABLISHED, lport, cport);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->inode, fd_inode(acc));

	/* The first dump asks for tcp_info: an established socket has an age. */
	ck_assert_uint_gt(r->state_age_ms, 0);

	/* A second dump on the same handle appends the same sockets again, without
	 * tcp_info: the hot path stays cheap. */
	i = s->nsocks;
	ck_assert_msg(sockdiag_dump_tcp(d, s, NETNS, &cause) == 0, "%s", cause);
	ck_assert_uint_gt(s->nsocks, i);
	r = find_live(s, ST_ESTABLISHED, lport, cport);
	for (size_t j = i; j < s->nsocks; j++)
		ck_assert_uint_eq(s->socks[j].state_age_ms, 0);

	/* The recording replays through the same parser. */
	fixture_load(&fx, rec);
	unlink(rec);
	ck_assert_uint_ge(fx.nframes, 2);
	snapshot_clear(s);
	for (i = 0; i < fx.nframes; i++)
		if (sockdiag_parse(fx.frames[i].buf, fx.frames[i].len, 0, 0, s, 0, &cause) == 0)
			nrec++;
	ck_assert_ptr_null(cause);
	ck_assert_uint_eq(nrec, 1); /* one dump: IPv4 and IPv6 in one walk */
	ck_assert_ptr_nonnull(find_live(s, ST_ESTABLISHED, cport, lport));

	sockdiag_free(d);
	snapshot_free(s);
	close(acc);
	close(c);
	close(l);
	fixture_free(&fx);
}
END_TEST


static const struct sock_rec *find_inode(const struct snapshot *s, uint32_t inode)
{
	for (size_t i = 0; i < s->nsocks; i++)
		if (s->socks[i].inode == inode)
			return &s->socks[i];
	return NULL;
}

/* Every kind a socket fd can be comes out of sockdiag_dump_all: a UNIX pair (peers
 * known), an abstract UNIX listener (name with '@', escaped), a UDP socket with a
 * datagram queued (Recv-Q), and a NETLINK socket. */
START_TEST(live_dump_all_kinds)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct sockdiag *d = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL, name[64], want[80];
	int pair[2], lis, udp, nl;
	const struct sock_rec *r;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	ck_assert_int_eq(write(pair[0], "hello", 5), 5);
	lis = socket(AF_UNIX, SOCK_STREAM, 0);
	int n = snprintf(name, sizeof(name), "leaktop-check\x1b-%d", (int)getpid());
	memcpy(un.sun_path + 1, name, (size_t)n);
	ck_assert_int_eq(bind(lis, (struct sockaddr *)&un,
			      (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n)), 0);
	ck_assert_int_eq(listen(lis, 4), 0);
	udp = socket(AF_INET, SOCK_DGRAM, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(udp, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(udp, (struct sockaddr *)&a, &alen), 0);
	ck_assert_int_eq(sendto(udp, "ping", 4, 0, (struct sockaddr *)&a, sizeof(a)), 4);
	nl = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
	struct sockaddr_nl snl = { .nl_family = AF_NETLINK };
	ck_assert_int_eq(bind(nl, (struct sockaddr *)&snl, sizeof(snl)), 0);

	ck_assert_int_eq(sockdiag_open(&d, &cause), 0);
	ck_assert_msg(sockdiag_dump_all(d, s, NETNS, &cause) == 0, "%s", cause);

	r = find_inode(s, fd_inode(pair[1]));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->family, AF_UNIX);
	ck_assert_uint_eq(r->type, SOCK_STREAM);
	ck_assert_uint_eq(r->un.peer, fd_inode(pair[0]));
	ck_assert_uint_eq(r->rqueue, 5);
	ck_assert_uint_eq(sock_netns(s, r), NETNS);
	ck_assert_str_eq(sock_proto_name(r), "unix");

	r = find_inode(s, fd_inode(lis));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->state, ST_LISTEN);
	snprintf(want, sizeof(want), "@leaktop-check\\x1b-%d", (int)getpid());
	ck_assert_str_eq(snapshot_name(s, r->un.name), want);

	r = find_inode(s, fd_inode(udp));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->proto, IPPROTO_UDP);
	ck_assert_uint_eq(r->lport, ntohs(a.sin_port));
	ck_assert_uint_gt(r->rqueue, 0);
	ck_assert_str_eq(sock_proto_name(r), "udp");

	r = find_inode(s, fd_inode(nl));
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->family, AF_NETLINK);
	ck_assert_uint_eq(r->proto, NETLINK_ROUTE);

	sockdiag_free(d);
	snapshot_free(s);
	close(pair[0]), close(pair[1]), close(lis), close(udp), close(nl);
}
END_TEST

/* One UNIX socket's reply as the kernel writes it: UNIX_DIAG_NAME holds the address
 * after sun_family, a path with its terminating NUL, an abstract name from its leading
 * NUL to the length given at bind(). Parsed; returns the name shown. */
static const char *unix_name_of(struct snapshot *s, const char *name, size_t len)
{
	union {
		struct nlmsghdr h;
		char buf[512];
	} u = {0};
	struct unix_diag_msg *m = NLMSG_DATA(&u.h);
	struct nlattr *a = (struct nlattr *)((char *)m + NLMSG_ALIGN(sizeof(*m)));
	char *cause = NULL;

	ck_assert_uint_lt(len, 256);
	m->udiag_family = AF_UNIX;
	m->udiag_type = SOCK_STREAM;
	m->udiag_state = ST_LISTEN;
	m->udiag_ino = 4242;
	a->nla_type = UNIX_DIAG_NAME;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, name, len);
	u.h.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	u.h.nlmsg_flags = NLM_F_MULTI;
	u.h.nlmsg_len = (uint32_t)(NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*m))) + NLA_ALIGN(a->nla_len));
	snapshot_clear(s);
	ck_assert_int_eq(sockdiag_parse_proto(u.buf, u.h.nlmsg_len, 0, 0, AF_UNIX, 0, s, NETNS, &cause), 1);
	ck_assert_uint_eq(s->nsocks, 1);
	return snapshot_name(s, s->socks[0].un.name);
}

/* A path ends at the kernel's NUL (it was shown as "/run/app.sock\x00"); an abstract
 * name starts with one, shown as '@' like ss does, and keeps every byte after it. */
START_TEST(fixture_unix_names)
{
	struct snapshot *s = snapshot_new();

	ck_assert_str_eq(unix_name_of(s, "/run/app.sock", 14), "/run/app.sock");
	ck_assert_str_eq(unix_name_of(s, "/run/app.sock", 13), "/run/app.sock");
	ck_assert_str_eq(unix_name_of(s, "/tmp/\x1b[2J", 10), "/tmp/\\x1b[2J");
	ck_assert_str_eq(unix_name_of(s, "\0dbus\0x", 7), "@dbus\\x00x");
	ck_assert_str_eq(unix_name_of(s, "\0", 1), "@");
	snapshot_free(s);
}
END_TEST

/* A socket bound to a path, as the kernel dumps it: the path, nothing after it. */
START_TEST(live_unix_path_name)
{
	struct sockaddr_un un = {.sun_family = AF_UNIX};
	struct sockdiag *d = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL, dir[] = "/tmp/leaktop-unix.XXXXXX";
	const struct sock_rec *r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(un.sun_path, sizeof(un.sun_path), "%s/app.sock", dir);
	int lis = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(lis, (struct sockaddr *)&un, sizeof(un)), 0);
	ck_assert_int_eq(listen(lis, 4), 0);
	ck_assert_int_eq(sockdiag_open(&d, &cause), 0);
	ck_assert_msg(sockdiag_dump_all(d, s, NETNS, &cause) == 0, "%s", cause);
	r = find_inode(s, fd_inode(lis));
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(snapshot_name(s, r->un.name), un.sun_path);
	sockdiag_free(d);
	snapshot_free(s);
	close(lis);
	unlink(un.sun_path);
	rmdir(dir);
}
END_TEST

int main(void)
{
	struct sockdiag *d = NULL;
	char *cause = NULL;
	/* Leave the live case out where sock_diag is unavailable. */
	bool live = sockdiag_open(&d, &cause) == 0;
	const struct testkit_case cases[] = {
		{.name = "fixture",
		 .tests = TESTKIT_TESTS(
			fixture_counts_per_state,
			fixture_close_wait_recv_q,
			fixture_listen_accept_queue,
			fixture_minisockets,
			fixture_ipv6_addresses,
			fixture_cookie_high_bits,
			tcp_info_gives_state_age,
			truncated_every_cut,
			malformed_lengths,
			unaligned_last_message,
			malformed_type_and_family,
			nlmsg_error_returns_errno,
			done_with_error_returns_errno,
			dump_intr_returns_eintr,
			sequence_and_portid_checked,
			fixture_unix_names)},
		/* A box under load (or a sanitizer build) may hold 150k sockets. */
		{.name = "live", .timeout = 120, .left_out = live ? NULL : cause ? cause : "sock_diag unavailable",
		 .tests = TESTKIT_TESTS(
			live_dump_finds_both_ends,
			live_dump_all_kinds,
			live_unix_path_name)},
	};

	sockdiag_free(d);
	int rc = TESTKIT_RUN("sockdiag", cases);
	free(cause);
	return rc;
}
