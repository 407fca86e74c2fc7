/* Snapshot aggregation: the join by inode, de-duplication, and per process, per port
 * and system totals, on a small hand-built refresh. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/snapshot.h"
#include "tests/testkit.h"

static struct snapshot *s;

static struct sock_rec *add_tcp(uint64_t cookie, uint32_t inode, unsigned state, const char *l, uint16_t lport,
				const char *r, uint16_t rport, uint32_t rq, uint32_t wq)
{
	return TESTKIT_SOCK(s, .cookie = cookie, .inode = inode, .state = (uint8_t)state, .proto = IPPROTO_TCP,
			    .laddr = l, .lport = lport, .raddr = r, .rport = rport, .rq = rq, .wq = wq);
}

static int add_proc(int pid, const char *comm, int64_t fds)
{
	return TESTKIT_PROC(s, .pid = pid, .comm = comm, .fds = fds, .fd_limit = 1024);
}

/* A server (pid 100) on :19001 with 3 CLOSE_WAIT sockets holding bytes, its listener
 * with 2 connections waiting in the accept queue, a client (pid 200) with an
 * ESTABLISHED connection to a remote :5432, and kernel-owned FIN_WAIT2 and TIME_WAIT. */
static void setup(void)
{
	s = snapshot_new();
	int srv = add_proc(100, "java", 40), cli = add_proc(200, "curl", 5);
	add_proc(300, "sleep", 3);

	add_tcp(1, 1000, ST_LISTEN, "127.0.0.1", 19001, "0.0.0.0", 0, 2, 128);
	testkit_owner(s, srv, 3, 1000);
	for (int i = 0; i < 3; i++) {
		add_tcp(10 + (uint64_t)i, 1001 + (uint32_t)i, ST_CLOSE_WAIT, "127.0.0.1", 19001, "127.0.0.2",
			(uint16_t)(40000 + i), 1224, 0);
		testkit_owner(s, srv, 10 + i, 1001 + (uint32_t)i);
		/* The orphaned peers: no inode, no owner. */
		add_tcp(20 + (uint64_t)i, 0, ST_FIN_WAIT2, "127.0.0.2", (uint16_t)(40000 + i), "127.0.0.1", 19001,
			0, 0);
	}
	add_tcp(30, 2000, ST_ESTABLISHED, "127.0.0.1", 45000, "127.0.0.9", 5432, 17, 3);
	testkit_owner(s, cli, 4, 2000);
	add_tcp(31, 0, ST_TIME_WAIT, "127.0.0.1", 45001, "127.0.0.9", 5432, 0, 0);
	/* The dump is not atomic: the same socket seen twice. */
	add_tcp(12, 1003, ST_CLOSE_WAIT, "127.0.0.1", 19001, "127.0.0.2", 40002, 1224, 0);
	/* A socket fd whose socket is not in the TCP dump (a UNIX socket, say). */
	testkit_owner(s, cli, 5, 9999);
	ck_assert_int_eq(snapshot_build(s), 0);
}

static void teardown(void)
{
	snapshot_free(s);
}

static const struct port_agg *port(uint16_t p, enum port_side side)
{
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i].port == p && s->ports[i].side == side)
			return &s->ports[i];
	return NULL;
}

START_TEST(test_dedup_and_totals)
{
	ck_assert_uint_eq(s->nsocks, 9);
	ck_assert_uint_eq(s->totals.sockets, 9);
	ck_assert_uint_eq(s->totals.states[ST_CLOSE_WAIT], 3);
	ck_assert_uint_eq(s->totals.states[ST_FIN_WAIT2], 3);
	ck_assert_uint_eq(s->totals.states[ST_LISTEN], 1);
	ck_assert_uint_eq(s->totals.states[ST_TIME_WAIT], 1);
	/* Three orphaned FIN_WAIT2 and a TIME_WAIT have no owner: counted, not dropped. */
	ck_assert_uint_eq(s->totals.unowned, 4);
	ck_assert_uint_eq(s->totals.procs, 3);
}
END_TEST

START_TEST(test_join_per_process)
{
	const struct proc_rec *java = snapshot_find_proc(s, 100), *curl = snapshot_find_proc(s, 200);
	ck_assert_ptr_nonnull(java);
	ck_assert_uint_eq(java->sockets, 4);
	ck_assert_uint_eq(java->sock_fds, 4);
	ck_assert_uint_eq(java->states[ST_CLOSE_WAIT], 3);
	ck_assert_uint_eq(java->states[ST_LISTEN], 1);
	/* The accept queue is not unread bytes. */
	ck_assert_uint_eq(java->recv_q, 3 * 1224);
	ck_assert_uint_eq(curl->sock_fds, 2);
	ck_assert_uint_eq(curl->sockets, 1);
	ck_assert_uint_eq(curl->states[ST_ESTABLISHED], 1);
	ck_assert_ptr_null(snapshot_find_proc(s, 150));
	ck_assert_uint_eq(snapshot_find_proc(s, 300)->sockets, 0);

	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		if (k->inode == 1002) {
			ck_assert_int_eq(snapshot_sock_proc(s, k)->pid, 100);
			ck_assert_int_eq(snapshot_sock_fd(s, k), 11);
		}
		if (!k->inode)
			ck_assert_ptr_null(snapshot_sock_proc(s, k));
	}
}
END_TEST

START_TEST(test_ports)
{
	const struct port_agg *srv = port(19001, SIDE_LOCAL), *out = port(5432, SIDE_REMOTE);
	const struct port_agg *peers = port(19001, SIDE_REMOTE);

	ck_assert_ptr_nonnull(srv);
	ck_assert_uint_eq(srv->count, 4);
	ck_assert_uint_eq(srv->states[ST_CLOSE_WAIT], 3);
	ck_assert_uint_eq(srv->recv_q, 3 * 1224);
	ck_assert_uint_eq(srv->accept_q, 2);
	ck_assert_uint_eq(srv->accept_max, 128);
	ck_assert_uint_eq(srv->npids, 1);
	ck_assert_int_eq(srv->pids[0], 100);
	/* The client ends of the leaked connections count under the port they call. */
	ck_assert_ptr_nonnull(peers);
	ck_assert_uint_eq(peers->states[ST_FIN_WAIT2], 3);
	ck_assert_uint_eq(peers->npids, 0);
	ck_assert_ptr_nonnull(out);
	ck_assert_uint_eq(out->count, 2);
	ck_assert_uint_eq(out->states[ST_TIME_WAIT], 1);
	ck_assert_int_eq(out->pids[0], 200);
	/* No ephemeral port gets a row of its own. */
	ck_assert_ptr_null(port(45000, SIDE_LOCAL));
	ck_assert_ptr_null(port(40000, SIDE_LOCAL));
	/* Largest first. */
	ck_assert_uint_eq(s->ports[0].port, 19001);
	ck_assert_uint_eq(s->ports[0].side, SIDE_LOCAL);
}
END_TEST

/* A loopback leak where the server listens on an ephemeral port: its clients'
 * orphaned ends count under the server's port, as remote. */
START_TEST(test_ephemeral_listener)
{
	snapshot_clear(s);
	add_proc(100, "srv", 10);
	add_tcp(1, 1, ST_LISTEN, "127.0.0.1", 41000, "0.0.0.0", 0, 0, 128);
	testkit_owner(s, 0, 3, 1);
	add_tcp(2, 2, ST_CLOSE_WAIT, "127.0.0.1", 41000, "127.0.0.1", 52000, 10, 0);
	testkit_owner(s, 0, 4, 2);
	add_tcp(3, 0, ST_FIN_WAIT2, "127.0.0.1", 52000, "127.0.0.1", 41000, 0, 0);
	add_tcp(4, 0, ST_FIN_WAIT2, "127.0.0.1", 33000, "127.0.0.1", 41000, 0, 0);
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_uint_eq(port(41000, SIDE_LOCAL)->states[ST_CLOSE_WAIT], 1);
	ck_assert_uint_eq(port(41000, SIDE_REMOTE)->states[ST_FIN_WAIT2], 2);
	ck_assert_uint_eq(s->nports, 2);
}
END_TEST

START_TEST(test_rebuild_reuses_storage)
{
	struct sock_rec *first = s->socks;
	snapshot_clear(s);
	ck_assert_uint_eq(s->nsocks, 0);
	add_proc(100, "java", 4);
	add_tcp(1, 1, ST_ESTABLISHED, "127.0.0.1", 80, "127.0.0.1", 50000, 0, 0);
	testkit_owner(s, 0, 3, 1);
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_ptr_eq(s->socks, first);
	ck_assert_uint_eq(s->procs[0].sockets, 1);
	ck_assert_uint_eq(s->nports, 1);
}
END_TEST

/* The first frame's preview: sockets from the dump alone, no process read. Nothing to
 * join, yet duplicates still go and every TCP socket counts as unowned. */
START_TEST(test_build_without_owners)
{
	snapshot_clear(s);
	add_tcp(1, 1, ST_ESTABLISHED, "127.0.0.1", 80, "127.0.0.1", 50000, 0, 0);
	add_tcp(2, 2, ST_CLOSE_WAIT, "127.0.0.1", 80, "127.0.0.1", 50001, 5, 0);
	add_tcp(2, 2, ST_CLOSE_WAIT, "127.0.0.1", 80, "127.0.0.1", 50001, 5, 0);
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_uint_eq(s->nsocks, 2);
	ck_assert_uint_eq(s->totals.unowned, 2);
	ck_assert_uint_eq(s->totals.states[ST_CLOSE_WAIT], 1);
	ck_assert_int_eq(s->socks[0].owner, -1);
	ck_assert_int_eq(s->socks[1].owner, -1);
}
END_TEST

/* The recheck appends the owners of the processes it read again after the others:
 * the build puts them in place (by process, then fd), each still joined to its
 * socket, and so does an order that is no such run. */
START_TEST(test_owners_appended_are_merged)
{
	struct snapshot *t = snapshot_new();
	/* Process p holds fds 10.. with inodes 100 * (p + 1) + fd. */
	for (int p = 0; p < 6; p++)
		TESTKIT_PROC(t, .pid = 100 + p, .comm = "srv", .fds = 8);
	for (uint32_t p = 0; p < 6; p++)
		for (uint32_t fd = 10; fd < 14; fd++)
			TESTKIT_SOCK(t, .cookie = 100 * (p + 1) + fd, .inode = 100 * (p + 1) + fd, .state = ST_CLOSE_WAIT,
				     .proto = IPPROTO_TCP, .laddr = "127.0.0.1", .lport = 80, .raddr = "127.0.0.1",
				     .rport = (uint16_t)(40000 + 100 * p + fd));
	/* Kept: processes 0, 2, 3, 5; read again and appended: 1 and 4. */
	static const int order[] = {0, 2, 3, 5, 1, 4};
	for (int shuffled = 0; shuffled < 2; shuffled++) {
		t->nowners = 0;
		for (size_t i = 0; i < 6; i++)
			for (int32_t fd = 10; fd < 14; fd++) {
				/* The second time, process 4's fds come in descending order. */
				int32_t f = shuffled && order[i] == 4 ? 23 - fd : fd;
				testkit_owner(t, order[i], f, (uint32_t)(100 * (order[i] + 1) + f));
			}
		ck_assert_int_eq(snapshot_build(t), 0);
		ck_assert_uint_eq(t->nowners, 24);
		for (size_t i = 0; i < t->nowners; i++) {
			const struct sock_owner *o = &t->owners[i];
			ck_assert_int_eq(o->proc, (int32_t)(i / 4));
			ck_assert_int_eq(o->fd, (int32_t)(10 + i % 4));
			ck_assert_int_ge(o->sock, 0);
			ck_assert_uint_eq(t->socks[o->sock].inode, o->inode);
			ck_assert_int_eq(t->socks[o->sock].owner, (int32_t)i);
		}
		for (size_t p = 0; p < 6; p++)
			ck_assert_uint_eq(t->procs[p].states[ST_CLOSE_WAIT], 4);
	}
	snapshot_free(t);
}
END_TEST

/* Duplicates among many sockets: the dedup's bitmap sends some keys that are not
 * duplicates to its table too (another key on the same bit); exactly the repeats go,
 * the first of each stays, and the order is the dump's. The join then finds every
 * owner's socket by inode, two processes sharing one (a forked fd) included. */
START_TEST(test_dedup_and_join_many)
{
	enum { N = 200000 };
	snapshot_clear(s);
	add_proc(100, "java", N);
	add_proc(200, "java", 4);
	for (uint32_t i = 1; i <= N; i++) {
		add_tcp(i, i % 2 ? i : 0, i % 2 ? ST_CLOSE_WAIT : ST_FIN_WAIT2, "127.0.0.1", 19001, "127.0.0.1",
			(uint16_t)(i % 60000 + 1024), 0, 0);
		if (i % 50000 == 7) /* dumped twice, a little later */
			add_tcp(i, i % 2 ? i : 0, ST_CLOSE_WAIT, "127.0.0.1", 19001, "127.0.0.1", 9, 0, 0);
	}
	for (uint32_t i = 1; i <= N; i += 2)
		testkit_owner(s, 0, (int32_t)(i / 2 + 3), i);
	testkit_owner(s, 1, 3, 7);
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_uint_eq(s->nsocks, N);
	for (uint32_t i = 0; i < N; i++) {
		ck_assert_uint_eq(s->socks[i].cookie, i + 1);
		ck_assert_uint_ne(s->socks[i].rport, 9);
		ck_assert_int_eq(s->socks[i].owner >= 0, (i + 1) % 2 == 1);
	}
	for (size_t i = 0; i < s->nowners; i++) {
		const struct sock_owner *o = &s->owners[i];
		ck_assert_int_ge(o->sock, 0);
		ck_assert_uint_eq(s->socks[o->sock].inode, o->inode);
	}
	ck_assert_uint_eq(s->procs[0].states[ST_CLOSE_WAIT], N / 2);
	ck_assert_uint_eq(s->procs[1].states[ST_CLOSE_WAIT], 1);
	ck_assert_uint_eq(s->totals.states[ST_CLOSE_WAIT], N / 2);
	ck_assert_uint_eq(s->totals.unowned, N / 2);
}
END_TEST

START_TEST(test_unsorted_procs_rejected)
{
	snapshot_clear(s);
	add_proc(5, "b", 1);
	add_proc(4, "a", 1);
	ck_assert_int_eq(snapshot_build(s), -EINVAL);
}
END_TEST

START_TEST(test_state_names)
{
	ck_assert_str_eq(sk_state_name(ST_CLOSE_WAIT), "CLOSE_WAIT");
	ck_assert_str_eq(sk_state_name(99), "UNKNOWN");
	ck_assert_int_eq(sk_state_parse("close-wait"), ST_CLOSE_WAIT);
	ck_assert_int_eq(sk_state_parse("Close_Wait"), ST_CLOSE_WAIT);
	ck_assert_int_eq(sk_state_parse("estab"), ST_ESTABLISHED);
	ck_assert_int_eq(sk_state_parse("NEW_SYN_RECV"), ST_NEW_SYN_RECV);
	ck_assert_int_eq(sk_state_parse("bogus"), -1);
}
END_TEST

START_TEST(test_addr_format)
{
	char buf[SOCK_ADDR_MAX];
	uint8_t a[16] = {0};
	inet_pton(AF_INET6, "::1", a);
	ck_assert_str_eq(sock_addr_format(buf, AF_INET6, a, 443), "[::1]:443");
	inet_pton(AF_INET, "127.0.0.1", a);
	ck_assert_str_eq(sock_addr_format(buf, AF_INET, a, 19001), "127.0.0.1:19001");
}
END_TEST

START_TEST(test_copy)
{
	struct snapshot *c = snapshot_new();
	ck_assert_int_eq(snapshot_copy(c, s), 0);
	ck_assert_uint_eq(c->nsocks, s->nsocks);
	ck_assert_uint_eq(c->nports, s->nports);
	ck_assert_int_eq(memcmp(c->procs, s->procs, s->nprocs * sizeof(*s->procs)), 0);
	ck_assert_int_eq(snapshot_find_proc(c, 100)->states[ST_CLOSE_WAIT], 3);
	snapshot_free(c);
	snapshot_free(NULL);
}
END_TEST

/* The record keeps IPv4 addresses (and IPv6 ones both IPv4-mapped) inline, other
 * IPv6 ones and the namespace in the snapshot's tables: every reader gets back what
 * the source gave, from the snapshot and from a copy of it, and a rebuild (the
 * de-duplication moves records) keeps each socket's own. */
START_TEST(test_compact_addresses)
{
	static const struct {
		int family;
		const char *l, *r;
		bool table;
	} cases[] = {
		{AF_INET, "127.0.0.1", "10.1.2.3", false},
		{AF_INET6, "::ffff:127.0.0.1", "::ffff:127.0.0.2", false},
		{AF_INET6, "::1", "2001:db8::7", true},
		{AF_INET6, "::ffff:127.0.0.1", "::", true}, /* one end mapped: both go out of line */
		{AF_INET6, "::", "::", false},
		{AF_INET6, "fe80::1", "fe80::2", true},
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	size_t first = s->nsocks, tabled = s->naddr6;

	for (size_t i = 0; i < n; i++) {
		TESTKIT_SOCK(s, .cookie = 500 + i, .inode = 5000 + (uint32_t)i, .family = (uint8_t)cases[i].family,
			     .proto = IPPROTO_TCP, .state = ST_ESTABLISHED, .laddr = cases[i].l, .raddr = cases[i].r,
			     .netns = 4026532000ULL + i % 2);
		tabled += cases[i].table;
	}
	TESTKIT_SOCK(s, .cookie = 500, .inode = 5000, .family = AF_INET, .proto = IPPROTO_TCP, .laddr = "127.0.0.1",
		     .raddr = "10.1.2.3", .netns = 4026532000ULL); /* listed twice: dropped */
	ck_assert_uint_eq(s->naddr6, tabled);
	ck_assert_int_eq(snapshot_build(s), 0);
	struct snapshot *c = snapshot_new();
	ck_assert_int_eq(snapshot_copy(c, s), 0);
	/* The sockets alone, as the dashboard's first refresh takes the preview's. */
	struct snapshot *d = snapshot_new();
	ck_assert_int_eq(snapshot_copy_socks(d, s), 0);
	ck_assert_uint_eq(d->nsocks, s->nsocks);
	const struct snapshot *all[] = {s, c, d};
	for (size_t w = 0; w < 3; w++) {
		const struct snapshot *x = all[w];
		size_t found = 0;
		for (size_t j = first; j < x->nsocks; j++) {
			const struct sock_rec *k = &x->socks[j];
			if (k->cookie < 500 || k->cookie >= 500 + n)
				continue;
			size_t i = k->cookie - 500;
			uint8_t l[16] = {0}, r[16] = {0};
			inet_pton(cases[i].family, cases[i].l, l);
			inet_pton(cases[i].family, cases[i].r, r);
			ck_assert_mem_eq(sock_laddr(x, k).b, l, 16);
			ck_assert_mem_eq(sock_raddr(x, k).b, r, 16);
			ck_assert_uint_eq(sock_netns(x, k), 4026532000ULL + i % 2);
			found++;
		}
		ck_assert_uint_eq(found, n);
	}
	snapshot_free(c);
	snapshot_free(d);
	/* A UNIX socket has no addresses: its name and peer are its own. */
	struct sock_rec *u = TESTKIT_SOCK(s, .cookie = 600, .family = AF_UNIX);
	u->un.peer = 77;
	ck_assert_int_eq(snapshot_sock_set_addrs(s, u, (const uint8_t[16]){1}, (const uint8_t[16]){2}), 0);
	ck_assert_uint_eq(u->un.peer, 77);
	ck_assert_mem_eq(sock_laddr(s, u).b, (const uint8_t[16]){0}, 16);
	ck_assert_uint_eq(sizeof(struct sock_rec), 56);
}
END_TEST

/* Sockets from more namespaces than the record can name are refused, not misnamed. */
START_TEST(test_sock_ns_limit)
{
	struct snapshot *x = snapshot_new();
	struct sock_rec k = {0};

	for (uint64_t i = 0; i < SNAPSHOT_SOCK_NS_MAX; i++)
		ck_assert_int_eq(snapshot_sock_set_netns(x, &k, 1000 + i), 0);
	ck_assert_uint_eq(sock_netns(x, &k), 1000 + SNAPSHOT_SOCK_NS_MAX - 1);
	ck_assert_int_eq(snapshot_sock_set_netns(x, &k, 7), -E2BIG);
	ck_assert_int_eq(snapshot_sock_set_netns(x, &k, 1000), 0); /* a known one still is */
	ck_assert_uint_eq(sock_netns(x, &k), 1000);
	snapshot_clear(x);
	ck_assert_uint_eq(sock_netns(x, &k), 0);
	snapshot_free(x);
}
END_TEST

/* ---- UDP, UNIX, CLOSED fds and network namespaces ------------------------------ */

#define NS_A 4026531840ULL
#define NS_B 4026532999ULL

static struct sock_rec *add_kind(uint64_t cookie, uint32_t inode, int family, int proto, unsigned state,
				 uint16_t lport, uint32_t rq, uint64_t netns)
{
	return TESTKIT_SOCK(s, .cookie = cookie, .inode = inode, .family = (uint8_t)family, .proto = (uint8_t)proto,
			    .state = (uint8_t)state, .lport = lport, .rq = rq, .netns = netns);
}

/* Answers "still open" for every fd but 13: that one closed mid-refresh. */
static int checks;
static bool fd_check(void *ctx, int32_t pid, int32_t fd, uint32_t inode)
{
	(void)ctx, (void)pid, (void)inode;
	checks++;
	return fd != 13;
}

/* Two pods, each with a server on port 8080 in its own netns; pod A's server holds
 * two fds in no dump (CLOSED), one more that closed mid-refresh, a UDP socket with a
 * queue and a UNIX socket. A process in a netns that was not dumped holds an fd in no
 * dump: unknown, not CLOSED. */
static void setup_kinds(void)
{
	s = snapshot_new();
	int a = add_proc(100, "java", 20), b = add_proc(200, "java", 10), c = add_proc(300, "hidden", 5);
	s->procs[a].netns = NS_A;
	s->procs[b].netns = NS_B;
	s->procs[c].netns = 77;
	ck_assert_ptr_nonnull(snapshot_add_netns(s, NS_B, true));
	ck_assert_ptr_nonnull(snapshot_add_netns(s, NS_A, true));
	ck_assert_ptr_nonnull(snapshot_add_netns(s, NS_B, false)); /* no downgrade */
	s->closed_valid = true;

	add_kind(1, 500, AF_INET, IPPROTO_TCP, ST_LISTEN, 8080, 0, NS_A);
	testkit_owner(s, a, 3, 500);
	add_kind(2, 600, AF_INET, IPPROTO_TCP, ST_LISTEN, 8080, 0, NS_B);
	testkit_owner(s, b, 3, 600);
	add_kind(3, 501, AF_INET, IPPROTO_UDP, ST_CLOSE, 8080, 4096, NS_A);
	testkit_owner(s, a, 4, 501);
	struct sock_rec *u = add_kind(4, 502, AF_UNIX, 0, ST_ESTABLISHED, 0, 10, NS_A);
	u->un.name = snapshot_add_name(s, "/run/app.sock", 13);
	u->un.peer = 503;
	testkit_owner(s, a, 5, 502);
	add_kind(5, 504, AF_NETLINK, 0, ST_CLOSE, 0, 0, NS_A);
	testkit_owner(s, a, 6, 504);
	testkit_owner(s, a, 11, 700); /* CLOSED */
	testkit_owner(s, a, 12, 701); /* CLOSED */
	testkit_owner(s, a, 13, 702); /* closed mid-refresh: not counted */
	testkit_owner(s, b, 11, 701); /* the same CLOSED socket, inherited */
	testkit_owner(s, c, 7, 800);  /* netns 77 not dumped */
	ck_assert_int_eq(snapshot_build_checked(s, fd_check, NULL), 0);
}

START_TEST(test_closed_fds)
{
	const struct proc_rec *a = snapshot_find_proc(s, 100), *b = snapshot_find_proc(s, 200),
		*c = snapshot_find_proc(s, 300);
	ck_assert_uint_eq(a->states[ST_CLOSED_FD], 2);
	ck_assert_uint_eq(b->states[ST_CLOSED_FD], 1);
	ck_assert_uint_eq(c->states[ST_CLOSED_FD], 0);
	/* Two distinct sockets, though three fds hold them. */
	ck_assert_uint_eq(s->totals.states[ST_CLOSED_FD], 2);
	ck_assert_int_eq(checks, 4);
	/* Every socket fd is one of the kinds, CLOSED, or (13) gone. */
	ck_assert_uint_eq(a->sock_fds, 7);
	ck_assert_uint_eq(a->sockets + a->kinds[SK_UDP] + a->kinds[SK_UNIX] + a->kinds[SK_OTHER] +
			  a->states[ST_CLOSED_FD], 6);
	ck_assert_str_eq(sk_state_name(ST_CLOSED_FD), "CLOSED");
	ck_assert_str_eq(sk_state_name(ST_CLOSE), "CLOSE");
	ck_assert_int_eq(sk_state_parse("closed"), ST_CLOSED_FD);

	/* Without closed_valid (a source that cannot tell), nothing is CLOSED. */
	s->closed_valid = false;
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_uint_eq(snapshot_find_proc(s, 100)->states[ST_CLOSED_FD], 0);
	ck_assert_uint_eq(s->totals.states[ST_CLOSED_FD], 0);
}
END_TEST

START_TEST(test_kinds)
{
	const struct proc_rec *a = snapshot_find_proc(s, 100);
	ck_assert_uint_eq(a->sockets, 1);
	ck_assert_uint_eq(a->kinds[SK_TCP], 1);
	ck_assert_uint_eq(a->kinds[SK_UDP], 1);
	ck_assert_uint_eq(a->kinds[SK_UNIX], 1);
	ck_assert_uint_eq(a->kinds[SK_OTHER], 1);
	/* A UDP queue is a stuck consumer: it counts in Recv-Q; UNIX does not. */
	ck_assert_uint_eq(a->recv_q, 4096);
	ck_assert_uint_eq(s->totals.sockets, 2);
	ck_assert_uint_eq(s->totals.kinds[SK_UDP], 1);
	ck_assert_uint_eq(s->totals.kinds[SK_UNIX], 1);
	ck_assert_uint_eq(s->totals.kinds[SK_OTHER], 1);
	/* TCP states only, plus CLOSED: the UDP socket's kernel "CLOSE" is not there. */
	ck_assert_uint_eq(s->totals.states[ST_CLOSE], 0);
	ck_assert_uint_eq(s->totals.states[ST_LISTEN], 2);
	ck_assert_str_eq(sock_proto_name(&s->socks[3]), "unix");
	ck_assert_str_eq(snapshot_name(s, s->socks[3].un.name), "/run/app.sock");
	ck_assert_uint_eq(s->socks[3].un.peer, 503);
}
END_TEST

START_TEST(test_ports_per_netns)
{
	/* 8080/tcp in two pods is two rows; 8080/udp a third; UNIX and NETLINK none. */
	size_t tcp = 0, udp = 0;
	for (size_t i = 0; i < s->nports; i++) {
		const struct port_agg *p = &s->ports[i];
		ck_assert_uint_eq(p->port, 8080);
		ck_assert_uint_eq(p->count, 1);
		if (p->proto == IPPROTO_UDP) {
			udp++;
			ck_assert_uint_eq(p->netns, NS_A);
			ck_assert_uint_eq(p->recv_q, 4096);
		} else {
			tcp++;
			ck_assert_int_eq(p->pids[0], p->netns == NS_A ? 100 : 200);
		}
	}
	ck_assert_uint_eq(tcp, 2);
	ck_assert_uint_eq(udp, 1);
	ck_assert_uint_eq(s->nports, 3);
}
END_TEST

START_TEST(test_netns_records)
{
	/* Sorted; the dumped ones and the one only seen through a process. */
	ck_assert_uint_eq(s->nnetns, 3);
	ck_assert_uint_eq(s->netns[0].inode, 77);
	ck_assert(!s->netns[0].dumped);
	ck_assert_uint_eq(s->netns[0].procs, 1);
	const struct netns_rec *a = snapshot_find_netns(s, NS_A), *b = snapshot_find_netns(s, NS_B);
	ck_assert(a && b && a->dumped && b->dumped);
	ck_assert_uint_eq(a->sockets, 4);
	ck_assert_uint_eq(b->sockets, 1);
	ck_assert_ptr_null(snapshot_find_netns(s, 5));

	struct snapshot *c = snapshot_new();
	ck_assert_int_eq(snapshot_copy(c, s), 0);
	ck_assert_uint_eq(c->nnetns, 3);
	ck_assert(c->closed_valid);
	ck_assert_str_eq(snapshot_name(c, c->socks[3].un.name), "/run/app.sock");
	snapshot_free(c);
}
END_TEST

START_TEST(test_unix_names_escaped)
{
	/* Abstract names start with NUL and may hold more; paths may hold escapes. */
	uint32_t a = snapshot_add_name(s, "\0dbus\0x", 7);
	uint32_t b = snapshot_add_name(s, "/tmp/\x1b[2Jevil", 13);
	ck_assert_str_eq(snapshot_name(s, a), "@dbus\\x00x");
	ck_assert_str_eq(snapshot_name(s, b), "/tmp/\\x1b[2Jevil");
	/* A path as the kernel dumps it, with its terminating NUL: the name ends there. */
	ck_assert_str_eq(snapshot_name(s, snapshot_add_name(s, "/run/app.sock\0", 14)), "/run/app.sock");
	ck_assert_uint_eq(snapshot_add_name(s, "", 0), 0);
	ck_assert_str_eq(snapshot_name(s, 0), "");
	/* Many names grow the arena; earlier offsets stay valid. */
	for (int i = 0; i < 2000; i++)
		ck_assert_uint_ne(snapshot_add_name(s, "/run/a-rather-long-socket-path.sock", 35), 0);
	ck_assert_str_eq(snapshot_name(s, a), "@dbus\\x00x");
}
END_TEST

/* A server on an ephemeral port (bound to port 0): its clients' orphaned FIN_WAIT2
 * ends count as remote on the server's port, even from lower port numbers. */
START_TEST(test_side_of_ephemeral_listener)
{
	snapshot_clear(s);
	add_tcp(1, 1000, ST_LISTEN, "127.0.0.1", 45000, "0.0.0.0", 0, 0, 128);
	add_tcp(2, 0, ST_FIN_WAIT2, "127.0.0.1", 40000, "127.0.0.1", 45000, 0, 0);
	add_tcp(3, 0, ST_FIN_WAIT2, "127.0.0.1", 50000, "127.0.0.1", 45000, 0, 0);
	ck_assert_int_eq(snapshot_build(s), 0);
	const struct port_agg *p = port(45000, SIDE_REMOTE);
	ck_assert_ptr_nonnull(p);
	ck_assert_uint_eq(p->states[ST_FIN_WAIT2], 2);
	ck_assert_ptr_null(port(40000, SIDE_LOCAL));
}
END_TEST

/* One address, one form: a dual-stack JVM's peer reads as the IPv4 address it is, in
 * every reason, pane and report (the handover mixed [::ffff:127.0.0.1]:24611 with
 * 127.0.0.1:24611). */
START_TEST(test_addr_one_form)
{
	uint8_t a[16] = {0};
	char buf[SOCK_ADDR_MAX];

	a[10] = a[11] = 0xff, a[12] = 127, a[15] = 1;
	ck_assert_str_eq(sock_addr_format(buf, AF_INET6, a, 24611), "127.0.0.1:24611");
	memset(a, 0, sizeof(a));
	a[15] = 1;
	ck_assert_str_eq(sock_addr_format(buf, AF_INET6, a, 8080), "[::1]:8080");
	memset(a, 0, sizeof(a));
	a[0] = 127, a[3] = 1;
	ck_assert_str_eq(sock_addr_format(buf, AF_INET, a, 80), "127.0.0.1:80");
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			test_dedup_and_totals,
			test_join_per_process,
			test_ports,
			test_ephemeral_listener,
			test_rebuild_reuses_storage,
			test_build_without_owners,
			test_owners_appended_are_merged,
			test_dedup_and_join_many,
			test_unsorted_procs_rejected,
			test_state_names,
			test_addr_format,
			test_copy,
			test_compact_addresses,
			test_sock_ns_limit,
			test_side_of_ephemeral_listener)},
		{.name = "kinds", .setup = setup_kinds, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			test_closed_fds,
			test_kinds,
			test_ports_per_netns,
			test_netns_records,
			test_unix_names_escaped,
			test_addr_one_form)},
	};

	return TESTKIT_RUN("snapshot", cases);
}
