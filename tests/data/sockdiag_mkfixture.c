/* Records tests/data/tcp_dump_closewait.bin: sets up loopback TCP sockets in every
 * interesting state, then saves one sock_diag dump with sockdiag_record().
 *
 * Not built by make. Run it in an empty network namespace so the dump holds only
 * its own sockets (as root, from the top of a configured build tree):
 *   gcc -I. -I$srcdir -o mkfixture $srcdir/tests/data/sockdiag_mkfixture.c \
 *       $srcdir/sources/sockdiag.c $srcdir/model/snapshot.c $(pkg-config --cflags --libs libmnl)
 *   unshare -n sh -c 'ip link set lo up && ./mkfixture tcp_dump_closewait.bin'
 * It prints `ss -tanoe` while the sockets still live; keep that in the .txt. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "model/snapshot.h"
#include "sources/sockdiag.h"

#define PORT4 4000
#define PORT6 4006

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static socklen_t addr_of(struct sockaddr_storage *ss, int family, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *a = (struct sockaddr_in *)ss;

		a->sin_family = AF_INET;
		a->sin_port = htons(port);
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		return sizeof(*a);
	} else {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		a->sin6_addr = in6addr_loopback;
		return sizeof(*a);
	}
}

static int listener(int family, uint16_t port, int backlog)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_of(&ss, family, port);
	int one = 1, fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, backlog) < 0)
		die("bind/listen");
	return fd;
}

static int client(int family, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_of(&ss, family, port);
	int fd = socket(family, SOCK_STREAM, 0);

	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0)
		die("connect");
	return fd;
}

static int accepted(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	if (fd < 0)
		die("accept");
	return fd;
}

static void send_bytes(int fd, size_t n)
{
	char buf[4096];

	memset(buf, 'x', sizeof(buf));
	if (n > sizeof(buf) || send(fd, buf, n, 0) != (ssize_t)n)
		die("send");
}

int main(int argc, char **argv)
{
	struct sockdiag *d;
	struct snapshot *s;
	char *cause = NULL;
	int l4, l6, c2, c3, a3, c6, err;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUT.bin\n", argv[0]);
		return 2;
	}
	l4 = listener(AF_INET, PORT4, 16);
	l6 = listener(AF_INET6, PORT6, 8);

	/* IPv4: an ESTABLISHED pair. */
	client(AF_INET, PORT4);
	accepted(l4);
	/* IPv4: the peer sends 1000 bytes and closes: CLOSE_WAIT with Recv-Q 1000
	 * here, an orphaned FIN_WAIT2 (time-wait minisocket, inode 0) there. */
	c2 = client(AF_INET, PORT4);
	accepted(l4);
	send_bytes(c2, 1000);
	close(c2);
	/* IPv4: the client closes first, then the server: TIME_WAIT. */
	c3 = client(AF_INET, PORT4);
	a3 = accepted(l4);
	close(c3);
	pause_ms(50);
	close(a3);
	/* IPv4: never accepted, so LISTEN shows Recv-Q 1 of Send-Q 16. */
	client(AF_INET, PORT4);

	/* IPv6: an ESTABLISHED pair. */
	client(AF_INET6, PORT6);
	accepted(l6);
	/* IPv6: half-close with 200 unread bytes: CLOSE_WAIT Recv-Q 200, and a full
	 * FIN_WAIT2 socket (with an inode) on the other end. */
	c6 = client(AF_INET6, PORT6);
	accepted(l6);
	send_bytes(c6, 200);
	shutdown(c6, SHUT_WR);

	pause_ms(200);

	s = snapshot_new();
	if (!s)
		die("snapshot_new");
	err = sockdiag_open(&d, &cause);
	if (err == 0)
		err = sockdiag_record(d, argv[1]);
	if (err == 0)
		err = sockdiag_dump_tcp(d, s, 0, &cause);
	if (err < 0) {
		fprintf(stderr, "%s\n", cause ? cause : strerror(-err));
		return 1;
	}
	sockdiag_free(d);
	fprintf(stderr, "recorded %zu sockets to %s\n", s->nsocks, argv[1]);
	fflush(stdout);
	if (system("ss -tanoe") != 0)
		fprintf(stderr, "ss failed\n");
	snapshot_free(s);
	return 0;
}
