/* Snapshot aggregation: the join by inode, de-duplication, and per process, per port
 * and system totals, on a small hand-built refresh. */
#include "config.h"

#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "model/snapshot.h"

static struct snapshot *s;

static struct sock_rec *add_tcp(uint64_t cookie, uint32_t inode, unsigned state, const char *l, uint16_t lport,
				const char *r, uint16_t rport, uint32_t rq, uint32_t wq)
{
	struct sock_rec *k = snapshot_add_sock(s);
	ck_assert_ptr_nonnull(k);
	k->cookie = cookie;
	k->inode = inode;
	k->state = (uint8_t)state;
	k->family = AF_INET;
	k->proto = IPPROTO_TCP;
	inet_pton(AF_INET, l, k->laddr);
	inet_pton(AF_INET, r, k->raddr);
	k->lport = lport;
	k->rport = rport;
	k->rqueue = rq;
	k->wqueue = wq;
	return k;
}

static int add_proc(int pid, const char *comm, int64_t fds)
{
	struct proc_rec *p = snapshot_add_proc(s);
	ck_assert_ptr_nonnull(p);
	p->pid = pid;
	p->fds = fds;
	p->fd_limit = 1024;
	strcpy(p->comm, comm);
	return (int)(s->nprocs - 1);
}

static void add_owner(int proc, int fd, uint32_t inode)
{
	struct sock_owner *o = snapshot_add_owner(s);
	ck_assert_ptr_nonnull(o);
	o->proc = proc;
	o->fd = fd;
	o->inode = inode;
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
	add_owner(srv, 3, 1000);
	for (int i = 0; i < 3; i++) {
		add_tcp(10 + (uint64_t)i, 1001 + (uint32_t)i, ST_CLOSE_WAIT, "127.0.0.1", 19001, "127.0.0.2",
			(uint16_t)(40000 + i), 1224, 0);
		add_owner(srv, 10 + i, 1001 + (uint32_t)i);
		/* The orphaned peers: no inode, no owner. */
		add_tcp(20 + (uint64_t)i, 0, ST_FIN_WAIT2, "127.0.0.2", (uint16_t)(40000 + i), "127.0.0.1", 19001,
			0, 0);
	}
	add_tcp(30, 2000, ST_ESTABLISHED, "127.0.0.1", 45000, "127.0.0.9", 5432, 17, 3);
	add_owner(cli, 4, 2000);
	add_tcp(31, 0, ST_TIME_WAIT, "127.0.0.1", 45001, "127.0.0.9", 5432, 0, 0);
	/* The dump is not atomic: the same socket seen twice. */
	add_tcp(12, 1003, ST_CLOSE_WAIT, "127.0.0.1", 19001, "127.0.0.2", 40002, 1224, 0);
	/* A socket fd whose socket is not in the TCP dump (a UNIX socket, say). */
	add_owner(cli, 5, 9999);
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
	add_owner(0, 3, 1);
	add_tcp(2, 2, ST_CLOSE_WAIT, "127.0.0.1", 41000, "127.0.0.1", 52000, 10, 0);
	add_owner(0, 4, 2);
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
	add_owner(0, 3, 1);
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_ptr_eq(s->socks, first);
	ck_assert_uint_eq(s->procs[0].sockets, 1);
	ck_assert_uint_eq(s->nports, 1);
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

int main(void)
{
	Suite *su = suite_create("snapshot");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_dedup_and_totals);
	tcase_add_test(tc, test_join_per_process);
	tcase_add_test(tc, test_ports);
	tcase_add_test(tc, test_ephemeral_listener);
	tcase_add_test(tc, test_rebuild_reuses_storage);
	tcase_add_test(tc, test_unsorted_procs_rejected);
	tcase_add_test(tc, test_state_names);
	tcase_add_test(tc, test_addr_format);
	tcase_add_test(tc, test_copy);
	suite_add_tcase(su, tc);
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
