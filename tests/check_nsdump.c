/* sources/nsdump: the /proc/net fallback tables (RAW without raw_diag, ICMP "ping"
 * sockets), and a real dump of leaktop's own network namespace (no root needed). */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/snapshot.h"
#include "sources/nsdump.h"
#include "tests/testkit.h"

/* /proc/net/raw with an ICMP raw socket, and /proc/net/icmp6 with a ping socket. */
static const char raw_table[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	"   1: 00000000:0001 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 4591523 2 0000000000000000 0\n"
	" 255: 0100007F:00FF 00000000:0000 07 00000000:00000200 00:00000000 00000000  1000        0 77 2 0000000000000000 0\n";
static const char icmp6_table[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
	"   7: 00000000000000000000000000000000:0007 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 999001 2 0000000000000000 0\n";

START_TEST(test_parse_proc_net)
{
	struct snapshot *s = snapshot_new();
	ck_assert_int_eq(nsdump_parse_proc_net(raw_table, AF_INET, IPPROTO_RAW, s, 42), 2);
	ck_assert_int_eq(nsdump_parse_proc_net(icmp6_table, AF_INET6, IPPROTO_ICMPV6, s, 42), 1);
	ck_assert_uint_eq(s->nsocks, 3);
	ck_assert_uint_eq(s->socks[0].inode, 4591523);
	ck_assert_uint_eq(s->socks[0].lport, 1);
	ck_assert_uint_eq(s->socks[1].inode, 77);
	ck_assert_uint_eq(s->socks[1].uid, 1000);
	ck_assert_uint_eq(s->socks[1].lport, 255);
	ck_assert_uint_eq(s->socks[2].inode, 999001);
	ck_assert_uint_eq(sock_netns(s, &s->socks[2]), 42);
	ck_assert_str_eq(sock_proto_name(&s->socks[0]), "raw");
	ck_assert_str_eq(sock_proto_name(&s->socks[2]), "icmp");
	ck_assert_int_eq(sock_kind_of(&s->socks[2]), SK_OTHER);
	/* Distinct made-up cookies: de-duplication keeps all three. */
	ck_assert_int_eq(snapshot_build(s), 0);
	ck_assert_uint_eq(s->nsocks, 3);
	ck_assert_uint_eq(s->totals.kinds[SK_OTHER], 3);
	/* A header alone, an empty text, a garbled line: nothing. */
	ck_assert_int_eq(nsdump_parse_proc_net("  sl  local_address\n", AF_INET, IPPROTO_RAW, s, 1), 0);
	ck_assert_int_eq(nsdump_parse_proc_net("", AF_INET, IPPROTO_RAW, s, 1), 0);
	ck_assert_int_eq(nsdump_parse_proc_net("hdr\n  1: zz\n", AF_INET, IPPROTO_RAW, s, 1), 0);
	snapshot_free(s);
}
END_TEST

/* A UNIX pair and a UDP socket of ours come out of the dump tagged with our netns,
 * and our netns is recorded as dumped and our own. */
START_TEST(test_dump_own_netns)
{
	struct nsdump *n = NULL;
	struct snapshot *s = snapshot_new();
	char *cause = NULL;
	struct stat st;
	int pair[2];

	ck_assert_int_eq(stat("/proc/self/ns/net", &st), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
	ck_assert_int_eq(nsdump_new(&n, "/proc", &cause), 0);
	ck_assert_uint_eq(nsdump_own(n), st.st_ino);
	ck_assert_msg(nsdump_dump(n, s, &cause) == 0, "%s", cause ? cause : "");
	ck_assert(s->closed_valid);
	const struct netns_rec *r = snapshot_find_netns(s, st.st_ino);
	ck_assert_ptr_nonnull(r);
	ck_assert(r->dumped && r->own);
	ck_assert_int_eq(fstat(pair[0], &st), 0);
	bool found = false;
	for (size_t i = 0; i < s->nsocks; i++)
		if (s->socks[i].inode == st.st_ino) {
			found = true;
			ck_assert_uint_eq(s->socks[i].family, AF_UNIX);
			ck_assert_uint_eq(sock_netns(s, &s->socks[i]), nsdump_own(n));
		}
	ck_assert(found);
	/* Not root: says only our own is visible. */
	ck_assert(s->netns_limited == (geteuid() != 0));
	/* Again, with the handle kept. */
	snapshot_clear(s);
	ck_assert_msg(nsdump_dump(n, s, &cause) == 0, "%s", cause ? cause : "");
	ck_assert_uint_eq(s->nnetns, 1);
	nsdump_free(n);
	snapshot_free(s);
	close(pair[0]), close(pair[1]);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "parse",
		 .tests = TESTKIT_TESTS(
			test_parse_proc_net)},
		{.name = "live", .timeout = 120,
		 .tests = TESTKIT_TESTS(
			test_dump_own_netns)},
	};

	return TESTKIT_RUN("nsdump", cases);
}
