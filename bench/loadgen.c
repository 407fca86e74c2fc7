/* A real socket-leak load for the benchmark, on loopback only: server processes that
 * accept and never read or close (CLOSE_WAIT with Recv-Q), clients that send and close
 * (their ends become orphaned FIN_WAIT2), a churner and idle processes around them.
 *
 *   loadgen --leaks N [--servers S] [--ports P | --one-port] [--bytes B]
 *           [--churn RATE] [--files F] [--idle K] [--ready FILE]
 *
 * Each server has ports of its own (P each, 2 by default), so a port holds at most
 * one process's share of the leaks (18,000 fds); with --one-port every server
 * accepts on one shared port, which then holds them all (the drill-down of a port
 * with 100k sockets).
 * Builds the load, writes "ready <pids...>" to FILE (or stdout), then holds it until
 * SIGTERM/SIGINT, when it kills every child. Children die with it (PR_SET_PDEATHSIG).
 * The orphaned client ends live as long as net.ipv4.tcp_fin_timeout: bench/run raises
 * it while it measures and restores it afterwards. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define FDS_PER_PROC 18000   /* under the hard limit of 20000, with room to spare */
#define MAX_PORTS 64
#define CLIENT_PROCS 2       /* one per core: connect is the slow part */

static pid_t children[4096];
static size_t nchildren;

static _Noreturn void die(const char *what)
{
	fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static struct sockaddr_in addr4(uint32_t host, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	sa.sin_addr.s_addr = htonl(host);
	return sa;
}

/* A child that dies with the parent and carries a name ps and leaktop show. */
static pid_t spawn(const char *name)
{
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, name);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		return 0;
	}
	if (nchildren < sizeof(children) / sizeof(children[0]))
		children[nchildren++] = pid;
	return pid;
}

static int listen_on(uint16_t *port)
{
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	struct sockaddr_in sa = addr4(INADDR_LOOPBACK, 0);
	socklen_t len = sizeof(sa);

	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 65535))
		die("bind/listen");
	getsockname(ls, (struct sockaddr *)&sa, &len);
	*port = ntohs(sa.sin_port);
	return ls;
}

/* Accept `quota` connections on the listeners and never read or close them (the
 * leak); tell the parent through `done`, then sleep. */
static _Noreturn void server(const int *ls, int nls, long quota, int done)
{
	struct pollfd pf[MAX_PORTS];
	long have = 0;

	for (int i = 0; i < nls; i++)
		pf[i] = (struct pollfd){.fd = ls[i], .events = POLLIN};
	while (have < quota) {
		if (poll(pf, (nfds_t)nls, -1) < 0 && errno != EINTR)
			die("poll");
		for (int i = 0; i < nls; i++) {
			int c;
			while (have < quota && (c = accept4(ls[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
				have++;
		}
	}
	if (write(done, "x", 1) != 1)
		die("write");
	close(done);
	for (;;)
		pause();
}

/* Connect `count` times round the ports, from 127.1.x.y sources (each source has the
 * whole ephemeral range to itself), send `bytes`, and close: the server's end goes to
 * CLOSE_WAIT holding bytes + 1 in Recv-Q, ours to an orphaned FIN_WAIT2. */
static _Noreturn void clients(const uint16_t *ports, size_t nports, long first, long count, long bytes)
{
	char buf[4096];
	memset(buf, 'x', sizeof(buf));
	for (long i = first; i < first + count; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;
		/* 127.1.0.1 upwards, 2000 connections per source address. */
		uint32_t src = (127u << 24) | (1u << 16) | (uint32_t)(1 + i / 2000);
		struct sockaddr_in from = addr4(src, 0), to = addr4(INADDR_LOOPBACK, ports[(size_t)i % nports]);

		if (s < 0)
			die("socket");
		setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
		if (bind(s, (struct sockaddr *)&from, sizeof(from)))
			die("bind");
		while (connect(s, (struct sockaddr *)&to, sizeof(to))) {
			if (errno != EINTR && errno != EAGAIN)
				die("connect");
		}
		for (long left = bytes; left > 0;) {
			ssize_t n = write(s, buf, (size_t)(left < (long)sizeof(buf) ? left : (long)sizeof(buf)));
			if (n <= 0)
				die("write");
			left -= n;
		}
		close(s);
	}
	_exit(0);
}

/* Connects and closes `rate` times a second, both ends properly, at fds the kernel
 * keeps reusing: what the incremental map has to get right. */
static _Noreturn void churner(long rate)
{
	uint16_t port;
	int ls = listen_on(&port);
	struct sockaddr_in to = addr4(INADDR_LOOPBACK, port);
	struct timespec gap = {0, rate > 0 ? 1000000000L / rate : 1000000L};
	int fl = fcntl(ls, F_GETFL);

	fcntl(ls, F_SETFL, fl & ~O_NONBLOCK);
	for (;;) {
		int c = socket(AF_INET, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&to, sizeof(to)))
			die("churn connect");
		int a = accept(ls, NULL, NULL);
		if (a < 0)
			die("churn accept");
		close(a);
		close(c);
		nanosleep(&gap, NULL);
	}
}

static _Noreturn void holder(long files)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("/dev/null");
	for (long i = 1; i < files; i++)
		if (dup(fd) < 0)
			die("dup");
	for (;;)
		pause();
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = sig;
}

static void kill_children(void)
{
	for (size_t i = 0; i < nchildren; i++)
		kill(children[i], SIGKILL);
	while (wait(NULL) > 0 || errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"leaks", required_argument, NULL, 'n'}, {"servers", required_argument, NULL, 's'},
		{"ports", required_argument, NULL, 'p'}, {"bytes", required_argument, NULL, 'b'},
		{"churn", required_argument, NULL, 'c'}, {"files", required_argument, NULL, 'f'},
		{"idle", required_argument, NULL, 'i'},  {"ready", required_argument, NULL, 'r'},
		{"one-port", no_argument, NULL, 'o'},    {0},
	};
	long leaks = 1000, servers = 0, ports = 2, bytes = 100, churn = 0, files = 0, idle = 0;
	const char *ready = NULL;
	bool one_port = false;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': leaks = strtol(optarg, NULL, 10); break;
		case 's': servers = strtol(optarg, NULL, 10); break;
		case 'p': ports = strtol(optarg, NULL, 10); break;
		case 'b': bytes = strtol(optarg, NULL, 10); break;
		case 'c': churn = strtol(optarg, NULL, 10); break;
		case 'f': files = strtol(optarg, NULL, 10); break;
		case 'i': idle = strtol(optarg, NULL, 10); break;
		case 'r': ready = optarg; break;
		case 'o': one_port = true; break;
		default:
			fputs("usage: loadgen --leaks N [--servers S] [--ports P | --one-port] [--bytes B]\n"
			      "               [--churn RATE] [--files F] [--idle K] [--ready FILE]\n", stderr);
			return 2;
		}
	}
	long min_servers = (leaks + FDS_PER_PROC - 1) / FDS_PER_PROC;
	if (servers < min_servers)
		servers = min_servers > 0 ? min_servers : 1;
	if (one_port)
		ports = 1;
	if (ports < 1 || ports * servers > MAX_PORTS * 8 || ports > MAX_PORTS || leaks < 0) {
		fputs("loadgen: bad --ports or --leaks\n", stderr);
		return 2;
	}
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	struct sigaction sa = {.sa_handler = on_stop};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	/* Listeners first, in the parent, so every port is known before any client runs. */
	size_t nports = one_port ? 1 : (size_t)(servers * ports);
	uint16_t *port = calloc(nports, sizeof(*port));
	int *ls = calloc(nports, sizeof(*ls));
	int done[2];
	if (!port || !ls || pipe(done))
		die("setup");
	for (size_t i = 0; i < nports; i++)
		ls[i] = listen_on(&port[i]);

	/* Each server gets the connections aimed at its ports: connection i goes to
	 * port i % nports, so server k (ports k*P .. k*P+P-1) gets its share exactly.
	 * With one port, the servers share its listener and each accepts its share. */
	for (long k = 0; k < servers; k++) {
		long quota = 0;
		for (long p = k * ports; p < (k + 1) * ports; p++)
			quota += leaks / (long)nports + (p < leaks % (long)nports);
		if (one_port)
			quota = leaks / servers + (k < leaks % servers);
		if (spawn("lg-server") == 0) {
			for (size_t i = 0; i < nports; i++)
				if (!one_port && (long)i / ports != k)
					close(ls[i]);
			close(done[0]);
			server(one_port ? ls : ls + k * ports, (int)ports, quota, done[1]);
		}
	}
	for (size_t i = 0; i < nports; i++)
		close(ls[i]);
	close(done[1]);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t cl[CLIENT_PROCS];
	for (long k = 0; k < CLIENT_PROCS; k++) {
		long per = leaks / CLIENT_PROCS, first = k * per;
		long count = k == CLIENT_PROCS - 1 ? leaks - first : per;
		if ((cl[k] = spawn("lg-client")) == 0)
			clients(port, nports, first, count, bytes);
	}
	for (long k = 0; k < CLIENT_PROCS; k++) {
		int st;
		if (waitpid(cl[k], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fputs("loadgen: a client failed\n", stderr);
			kill_children();
			return 1;
		}
	}
	for (long k = 0; k < servers; k++) {
		char x;
		if (read(done[0], &x, 1) != 1) {
			fputs("loadgen: a server died\n", stderr);
			kill_children();
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	size_t nservers = nchildren - CLIENT_PROCS;

	if (churn > 0 && spawn("lg-churn") == 0)
		churner(churn);
	for (long left = files; left > 0; left -= FDS_PER_PROC)
		if (spawn("lg-files") == 0)
			holder(left < FDS_PER_PROC ? left : FDS_PER_PROC);
	for (long i = 0; i < idle; i++)
		if (spawn("lg-idle") == 0)
			for (;;)
				pause();

	FILE *out = ready ? fopen(ready, "w") : stdout;
	if (!out)
		die(ready);
	fprintf(out, "ready %ld leaks in %.2f s, servers", leaks,
		(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (size_t i = 0; i < nservers; i++)
		fprintf(out, " %d", (int)children[i]);
	fputc('\n', out);
	if (out != stdout)
		fclose(out);
	else
		fflush(out);

	while (!stop)
		pause();
	kill_children();
	return 0;
}
