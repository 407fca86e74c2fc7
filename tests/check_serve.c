/* The /metrics responder: which requests get metrics, where it listens, and that no
 * idle, trickling or piling-up client holds up a scrape or a stop. */
#include "config.h"

#include <errno.h>
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "outputs/serve.h"
#include "tests/testkit.h"

START_TEST(test_route)
{
	ck_assert_int_eq(serve_route("GET /metrics HTTP/1.1"), 200);
	ck_assert_int_eq(serve_route("GET /metrics?x=1 HTTP/1.0"), 200);
	ck_assert_int_eq(serve_route("HEAD /metrics HTTP/1.1"), 200);
	ck_assert_int_eq(serve_route("GET / HTTP/1.1"), 404);
	ck_assert_int_eq(serve_route("GET /metricsx HTTP/1.1"), 404);
	ck_assert_int_eq(serve_route("GET /etc/passwd HTTP/1.1"), 404);
	ck_assert_int_eq(serve_route("POST /metrics HTTP/1.1"), 405);
	ck_assert_int_eq(serve_route("GET /metrics"), 400);
	ck_assert_int_eq(serve_route("\x16\x03\x01"), 400);
	ck_assert_int_eq(serve_route(""), 400);
}
END_TEST

/* serve_listen(spec) must fail with -EINVAL and a cause that says `why`. */
static void refused(const char *spec, const char *why)
{
	char bound[80], *cause = NULL;
	ck_assert_int_eq(serve_listen(spec, bound, sizeof(bound), &cause), -EINVAL);
	ck_assert_msg(cause && strstr(cause, why) && !strchr(cause, '\n'), "%s: '%s' lacks '%s'",
		      spec, cause ? cause : "(none)", why);
	free(cause);
}

START_TEST(test_listen)
{
	char bound[80], *cause = NULL;
	int fd = serve_listen("0", bound, sizeof(bound), &cause);
	ck_assert_msg(fd >= 0, "%s", cause ? cause : "");
	/* Loopback unless told otherwise. */
	ck_assert_ptr_nonnull(strstr(bound, "127.0.0.1:"));
	ck_assert_str_ne(bound, "127.0.0.1:0");
	close(fd);
	fd = serve_listen("[::1]:0", bound, sizeof(bound), &cause);
	if (fd >= 0) { /* where IPv6 exists */
		ck_assert_ptr_nonnull(strstr(bound, "[::1]:"));
		close(fd);
	}
	free(cause), cause = NULL;
	/* Ports are 1-65535 (0 picks one): 99999 used to serve on 99999 % 65536. */
	refused("127.0.0.1:99999", "1 to 65535");
	refused("127.0.0.1:65536", "1 to 65535");
	refused("127.0.0.1:-1", "1 to 65535");
	refused("127.0.0.1:", "1 to 65535");
	refused("127.0.0.1:http", "1 to 65535");
	refused("[::1]:9x", "1 to 65535");
	/* Numeric addresses only, said plainly (not "Invalid argument"). */
	refused("localhost:9000", "not a numeric IP address");
	refused("300.1.1.1:9000", "not a numeric IP address");
	refused("::1:9000", "brackets");
	refused("[::1]", "brackets");
	refused("[]:9000", "brackets");
	/* bind() takes a multicast address, and leaktop said "serving" where no scrape
	 * can come; broadcast too. */
	refused("224.0.0.1:0", "'224.0.0.1': a multicast address; serve on an address of this host");
	refused("239.255.255.250:0", "a multicast address");
	refused("[ff02::1]:0", "'ff02::1': a multicast address");
	refused("[::ffff:224.0.0.1]:0", "a multicast address");
	refused("255.255.255.255:0", "the broadcast address");
}
END_TEST

static struct sockaddr_in v4(const char *a)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	ck_assert_int_eq(inet_pton(AF_INET, a, &sa.sin_addr), 1);
	return sa;
}

/* Which address is this host's, against a given interface list (no socket is made):
 * an address no interface has is refused before bind, which takes one when
 * net.ipv4.ip_nonlocal_bind is set and "served" where no scrape can come. */
START_TEST(test_host_check)
{
	struct sockaddr_in eth = v4("10.1.2.3"), lo = v4("127.0.0.1");
	struct ifaddrs if_lo = {.ifa_name = "lo", .ifa_addr = (struct sockaddr *)&lo};
	struct ifaddrs if_eth = {.ifa_next = &if_lo, .ifa_name = "eth0", .ifa_addr = (struct sockaddr *)&eth};
	static const struct {
		const char *addr;
		int rc;
		const char *why;
	} cases[] = {
		{"10.1.2.3", 0, NULL},
		{"0.0.0.0", 0, NULL},
		{"127.0.0.1", 0, NULL},
		{"127.8.9.10", 0, NULL}, /* all of 127/8 is lo's */
		{"10.1.2.4", -EADDRNOTAVAIL, "not an address of this host"},
		{"10.1.2.255", -EADDRNOTAVAIL, "not an address of this host"},
		{"224.0.0.1", -EINVAL, "a multicast address"},
		{"255.255.255.255", -EINVAL, "the broadcast address"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sockaddr_in sa = v4(cases[i].addr);
		char *cause = NULL;
		int rc = serve_host_check((struct sockaddr *)&sa, &if_eth, cases[i].addr, &cause);
		ck_assert_msg(rc == cases[i].rc, "%s: %d %s", cases[i].addr, rc, cause ? cause : "");
		if (cases[i].why)
			ck_assert_msg(cause && strstr(cause, cases[i].why), "%s: %s", cases[i].addr, cause);
		free(cause);
	}
	struct sockaddr_in6 six = {.sin6_family = AF_INET6};
	char *cause = NULL;
	inet_pton(AF_INET6, "2001:db8::1", &six.sin6_addr);
	ck_assert_int_eq(serve_host_check((struct sockaddr *)&six, &if_eth, "2001:db8::1", &cause), -EADDRNOTAVAIL);
	free(cause), cause = NULL;
	inet_pton(AF_INET6, "::", &six.sin6_addr);
	ck_assert_int_eq(serve_host_check((struct sockaddr *)&six, &if_eth, "::", &cause), 0);
	inet_pton(AF_INET6, "::ffff:10.1.2.3", &six.sin6_addr);
	ck_assert_int_eq(serve_host_check((struct sockaddr *)&six, &if_eth, "::ffff:10.1.2.3", &cause), 0);
}
END_TEST

/* --- a live responder in a child, with a handler counting its scrapes ------------- */

static volatile sig_atomic_t child_stop;
static int scrapes;

static void on_term(int sig)
{
	child_stop = sig;
}

static int fake_get(void *ctx, char **body, size_t *len)
{
	(void)ctx;
	return (*len = (size_t)asprintf(body, "scrape %d\n", ++scrapes)) > 0 ? 0 : -ENOMEM;
}

static pid_t server_start(int *port)
{
	char bound[80], *cause = NULL;
	int lfd = serve_listen("127.0.0.1:0", bound, sizeof(bound), &cause);
	ck_assert_msg(lfd >= 0, "%s", cause ? cause : "");
	*port = atoi(strrchr(bound, ':') + 1);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct sigaction sa = {.sa_handler = on_term};
		sigemptyset(&sa.sa_mask);
		sigaction(SIGTERM, &sa, NULL);
		struct serve_handler h = {.type = "text/plain", .get = fake_get};
		_exit(serve_loop(lfd, &h, &child_stop) == 0 ? 0 : 3);
	}
	close(lfd);
	return pid;
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The server stops on SIGTERM whatever its clients do, within 5 s (0.2 s expected). */
static void server_stop(pid_t pid)
{
	int st = 0;
	double end = mono() + 5;
	kill(pid, SIGTERM);
	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (mono() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			ck_abort_msg("the server did not stop on SIGTERM within 5 s");
		}
		poll(NULL, 0, 10);
	}
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "server exit status %d", st);
}

static int client(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Has the server closed fd (EOF or reset waiting), without waiting? */
static bool closed_by_server(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	char c;
	return poll(&p, 1, 0) == 1 && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0;
}

/* Send req on a new connection; the whole response (up to 10 s), malloc'd. */
static char *request(int port, const char *req)
{
	static char buf[4096];
	size_t len = 0;
	int fd = client(port);
	double end = mono() + 10;

	ck_assert_int_eq(send(fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		ck_assert_msg(poll(&p, 1, 100) >= 0 && mono() < end, "no response in 10 s");
		if (!p.revents)
			continue;
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	return strdup(buf);
}

#define SCRAPE "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: */*\r\n\r\n"

START_TEST(test_slow_clients)
{
	int port, idle[15];
	pid_t pid = server_start(&port);

	for (size_t i = 0; i < 15; i++)
		idle[i] = client(port);
	int trickle = client(port);
	ck_assert_int_eq(send(trickle, "GET /met", 8, MSG_NOSIGNAL), 8);

	/* The scrape is answered while the idle and trickling clients still wait for
	 * their own deadline: it did not queue behind them (it did, 5 s each, before). */
	char *r = request(port, SCRAPE);
	ck_assert_msg(!strncmp(r, "HTTP/1.0 200 OK\r\n", 17), "%s", r);
	ck_assert_ptr_nonnull(strstr(r, "Content-Type: text/plain\r\n"));
	ck_assert_ptr_nonnull(strstr(r, "\r\n\r\nscrape 1\n"));
	free(r);
	ck_assert(!closed_by_server(idle[0]));
	ck_assert(!closed_by_server(trickle));

	/* A trickle does not buy time: the whole head has a deadline from accept, so the
	 * server closes it (within 3 s) though a byte comes every 0.3 s. */
	double end = mono() + 10;
	while (!closed_by_server(trickle)) {
		ck_assert_msg(mono() < end, "a trickling client held its connection 10 s");
		send(trickle, "r", 1, MSG_NOSIGNAL);
		poll(NULL, 0, 300);
	}
	ck_assert(closed_by_server(idle[14]));
	for (size_t i = 0; i < 15; i++)
		close(idle[i]);
	close(trickle);

	/* What other requests get, through the loop. */
	r = request(port, "GET / HTTP/1.0\r\n\r\n");
	ck_assert_msg(!strncmp(r, "HTTP/1.0 404 ", 13), "%s", r);
	free(r);
	r = request(port, "POST /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(!strncmp(r, "HTTP/1.0 405 ", 13), "%s", r);
	free(r);
	r = request(port, "HEAD /metrics HTTP/1.0\r\n\r\n");
	ck_assert_msg(!strncmp(r, "HTTP/1.0 200 ", 13), "%s", r);
	ck_assert_msg(!strcmp(strstr(r, "\r\n\r\n"), "\r\n\r\n"), "HEAD got a body: %s", r);
	free(r);
	server_stop(pid);
}
END_TEST

START_TEST(test_many_idle)
{
	enum { N = 100 };
	int port, idle[N];
	pid_t pid = server_start(&port);

	/* 100 idle connections: more than the server keeps (64) and than the old listen
	 * backlog (16). A new scrape drops the oldest idle one, never itself. */
	for (size_t i = 0; i < N; i++)
		idle[i] = client(port);
	char *r = request(port, SCRAPE);
	ck_assert_msg(!strncmp(r, "HTTP/1.0 200 OK\r\n", 17), "%s", r);
	free(r);
	ck_assert_msg(closed_by_server(idle[0]), "the oldest idle connection was kept");
	ck_assert_msg(!closed_by_server(idle[N - 1]), "the newest idle connection was dropped");
	r = request(port, SCRAPE);
	ck_assert_msg(strstr(r, "\r\n\r\nscrape 2\n"), "%s", r);
	free(r);
	/* And a stop ends it with all of them still open. */
	server_stop(pid);
	for (size_t i = 0; i < N; i++)
		close(idle[i]);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .timeout = 30,
		 .tests = TESTKIT_TESTS(
			test_route,
			test_listen,
			test_host_check,
			test_slow_clients,
			test_many_idle)},
	};

	return TESTKIT_RUN("serve", cases);
}
