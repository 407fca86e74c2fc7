/* A real leaking server and its clients, on loopback only, for the live tests.
 *
 *   leaky server [--port P] [--close] [--hangup] [--name NAME] [--ready FILE] [--quit-marker FILE]
 *                [--quit-dump FILE]
 *       listen on 127.0.0.1:P (0 picks a port), print the port, accept forever and
 *       never read or close (the leak); --close closes each connection properly;
 *       --hangup writes "bye\n" and closes each at once: a client that holds its
 *       connections (client --hold) leaks them in CLOSE_WAIT, 4 bytes in Recv-Q;
 *       --quit-marker: on SIGQUIT, print a "thread dump" to stdout, as a JVM does,
 *       and append a line to FILE (what the action tests look for); --quit-dump: the
 *       "thread dump" is FILE's text instead (read at start, up to 64 KB).
 *   leaky client --port P [--count N] [--bytes B] [--every MS] [--hold] [--rst]
 *       connect N times, send B bytes, close (the server side goes to CLOSE_WAIT);
 *       --every waits MS between connections; --hold keeps them open instead;
 *       --rst closes with SO_LINGER {1, 0}: a RST, and the server's socket leaves
 *       every TCP table while its fd stays open (lsof: "can't identify protocol").
 *       A reset connection the server has not accepted yet is dropped from the
 *       accept queue, so --hold --rst holds them until SIGUSR1, then resets all.
 *   leaky churn --port P [--count N] [--name NAME]
 *       hold N connections to P and as many /dev/null fds, print "ready", then obey
 *       one command per line on stdin, answering "ok" (see churn() below).
 *   leaky mem [--rate MB] [--count MAX] [--every MS] [--name NAME]
 *       a memory leak: every MS ms (default 250) allocate and touch MB megabytes
 *       (default 2), up to MAX megabytes (default 256), then hold them forever. With
 *       --every 0, one allocation of MAX megabytes after 3 s: a single step.
 *   leaky saw [--rate MB] [--count MAX] [--every MS] [--name NAME]
 *       healthy memory, an RSS sawtooth: every MS ms (default 1000) allocate and touch
 *       MB megabytes (default 10) until MAX (default 120) are held, free them all
 *       (back to the kernel), and start again.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *quit_marker;
static char quit_dump[65536];
static size_t quit_dump_len;

static void on_quit(int sig)
{
	static const char dump[] = "Full thread dump (leaky)\n";
	int fd = open(quit_marker, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

	if (fd >= 0) {
		if (write(fd, "QUIT\n", 5) < 0) {
			/* nothing to do in a handler */
		}
		close(fd);
	}
	if (quit_dump_len ? write(STDOUT_FILENO, quit_dump, quit_dump_len) < 0
			  : write(STDOUT_FILENO, dump, sizeof(dump) - 1) < 0) {
		/* stdout may be closed */
	}
}

static void die(const char *what)
{
	fprintf(stderr, "leaky: %s: %s\n", what, strerror(errno));
	exit(1);
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return sa;
}

static _Noreturn void server(int port, int close_them, const char *ready)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = loopback(port);
	socklen_t len = sizeof(sa);

	if (ls < 0)
		die("socket");
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 4096))
		die("bind/listen");
	getsockname(ls, (struct sockaddr *)&sa, &len);
	printf("%u\n", ntohs(sa.sin_port));
	fflush(stdout);
	if (ready) {
		FILE *f = fopen(ready, "w");
		if (f)
			fprintf(f, "%u\n", ntohs(sa.sin_port)), fclose(f);
	}
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE) {
				sleep(1);
				continue;
			}
			die("accept");
		}
		if (close_them == 2) {
			if (write(c, "bye\n", 4) < 0) {
				/* the client may be gone: it is closed all the same */
			}
			close(c);
		} else if (close_them) {
			char buf[4096];
			while (read(c, buf, sizeof(buf)) > 0)
				;
			close(c);
		}
	}
}

static int client(int port, long count, long bytes, long every_ms, int hold, int rst)
{
	char *buf = calloc(1, bytes > 0 ? (size_t)bytes : 1);
	struct sockaddr_in sa = loopback(port);

	int *held = calloc((size_t)(count > 0 ? count : 1), sizeof(*held));
	sigset_t usr1;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, NULL);
	memset(buf, 'x', bytes > 0 ? (size_t)bytes : 0);
	for (long i = 0; i < count; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			die("socket");
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect");
		if (bytes > 0 && write(s, buf, (size_t)bytes) != bytes)
			die("write");
		if (rst) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		}
		held[i] = s;
		if (!hold)
			close(s);
		if (every_ms > 0) {
			struct timespec ts = {every_ms / 1000, (every_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	if (hold && rst) {
		int sig;
		sigwait(&usr1, &sig);
		for (long i = 0; i < count; i++)
			close(held[i]);
	} else if (hold) {
		pause();
	}
	free(held);
	free(buf);
	return 0;
}

static int connect_to(int port)
{
	struct sockaddr_in sa = loopback(port);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	if (s < 0)
		die("socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	return s;
}

/* Put a new connection (or /dev/null) at fd number `fd`, closing what was there:
 * the fd number stays, what it points to changes. */
static void replace_fd(int fd, int port, int with_socket)
{
	int n = with_socket ? connect_to(port) : open("/dev/null", O_RDONLY);

	if (n < 0 || dup2(n, fd) < 0)
		die("dup2");
	close(n);
}

/* The fd table moves under the same fd numbers, what an incremental scan must see:
 *   churn  every third fd from a rotating start gets a new connection at the same
 *          number (socket -> socket, file -> socket); one socket (never the first
 *          two) becomes /dev/null
 *   fork   a child takes the first two sockets (the parent closes its copies, and
 *          reuses the numbers: a new connection and /dev/null); answers "ok CHILDPID"
 *   share  a child inherits the first two sockets and keeps them; the parent keeps
 *          its copies too; answers "ok CHILDPID"
 * fds[0..n) hold sockets first, /dev/null after. */
static int churn(int port, long count, const char *name)
{
	long n = count * 2, round = 0;

	if (count < 3)
		count = 3, n = 6;
	int *fds = calloc((size_t)n, sizeof(*fds));
	char line[64], child[32];

	snprintf(child, sizeof(child), "%.10s-child", name ? name : "leaky");
	for (long i = 0; i < n; i++)
		fds[i] = i < count ? connect_to(port) : open("/dev/null", O_RDONLY);
	printf("ready\n");
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "churn", 5)) {
			for (long i = round % 3; i < n; i += 3)
				replace_fd(fds[i], port, 1);
			replace_fd(fds[2 + (round * 7) % (count - 2)], port, 0);
			round++;
			printf("ok\n");
		} else if (!strncmp(line, "fork", 4) || !strncmp(line, "share", 5)) {
			int keep = line[0] == 's';
			pid_t pid = fork();
			if (pid < 0)
				die("fork");
			if (pid == 0) {
				prctl(PR_SET_PDEATHSIG, SIGKILL);
				prctl(PR_SET_NAME, child);
				for (long i = 2; i < n; i++)
					close(fds[i]);
				for (;;)
					pause();
			}
			if (!keep) { /* dup2 closes our copies, and the numbers stay in use */
				replace_fd(fds[0], port, 1);
				replace_fd(fds[1], port, 0);
			}
			printf("ok %d\n", (int)pid);
		} else {
			printf("unknown command\n");
		}
		fflush(stdout);
	}
	free(fds);
	return 0;
}

static _Noreturn void mem(long mb, long max, long every)
{
	struct timespec gap = {every / 1000, (every % 1000) * 1000000L};
	long held = 0;

	if (every <= 0) {
		sleep(3);
		mb = max;
	}
	while (held + mb <= max) {
		char *p = malloc((size_t)mb << 20);
		if (!p)
			die("malloc");
		memset(p, 0x5a, (size_t)mb << 20); /* touched: resident */
		held += mb;
		if (every > 0)
			nanosleep(&gap, NULL);
	}
	for (;;)
		pause();
}

static _Noreturn void saw(long mb, long max, long every)
{
	struct timespec gap = {every / 1000, (every % 1000) * 1000000L};
	long n = max / (mb > 0 ? mb : 1);
	char **held = calloc((size_t)(n > 0 ? n : 1), sizeof(*held));

	if (!held)
		die("calloc");
	for (;;) {
		for (long i = 0; i < n; i++) {
			/* Big enough for malloc to map it, so free gives it back. */
			if (!(held[i] = malloc((size_t)mb << 20)))
				die("malloc");
			memset(held[i], 0x5a, (size_t)mb << 20);
			nanosleep(&gap, NULL);
		}
		for (long i = 0; i < n; i++)
			free(held[i]);
		nanosleep(&gap, NULL);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'}, {"count", required_argument, NULL, 'n'},
		{"bytes", required_argument, NULL, 'b'}, {"every", required_argument, NULL, 'e'},
		{"close", no_argument, NULL, 'c'},       {"hold", no_argument, NULL, 'H'},
		{"hangup", no_argument, NULL, 'h'},
		{"name", required_argument, NULL, 'N'},  {"ready", required_argument, NULL, 'r'},
		{"quit-marker", required_argument, NULL, 'Q'}, {"quit-dump", required_argument, NULL, 'D'},
		{"rst", no_argument, NULL, 'R'},         {"rate", required_argument, NULL, 'm'},
		{0},
	};
	const char *name = NULL;
	long port = 0, count = 1, bytes = 0, every = -1, rate = -1;
	int close_them = 0, hold = 0, rst = 0, c;
	const char *ready = NULL;

	if (argc < 2) {
		fputs("usage: leaky server|client [options]\n", stderr);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p': port = strtol(optarg, NULL, 10); break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'b': bytes = strtol(optarg, NULL, 10); break;
		case 'e': every = strtol(optarg, NULL, 10); break;
		case 'c': close_them = 1; break;
		case 'h': close_them = 2; break;
		case 'H': hold = 1; break;
		case 'N': prctl(PR_SET_NAME, optarg), name = optarg; break;
		case 'r': ready = optarg; break;
		case 'Q': {
			/* Installed even when SIGQUIT was ignored on entry (a background job). */
			struct sigaction sa = {.sa_handler = on_quit, .sa_flags = SA_RESTART};
			quit_marker = optarg;
			sigemptyset(&sa.sa_mask);
			sigaction(SIGQUIT, &sa, NULL);
			break;
		}
		case 'D': {
			/* Read now: a signal handler only writes what is in memory. */
			FILE *f = fopen(optarg, "r");
			if (!f)
				die(optarg);
			quit_dump_len = fread(quit_dump, 1, sizeof(quit_dump), f);
			fclose(f);
			break;
		}
		case 'R': rst = 1; break;
		case 'm': rate = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (!strcmp(argv[1], "server"))
		server((int)port, close_them, ready);
	if (!strcmp(argv[1], "client"))
		return client((int)port, count, bytes, every < 0 ? 0 : every, hold, rst);
	if (!strcmp(argv[1], "mem"))
		mem(rate < 0 ? 2 : rate, count > 1 ? count : 256, every < 0 ? 250 : every);
	if (!strcmp(argv[1], "saw"))
		saw(rate < 1 ? 10 : rate, count > 1 ? count : 120, every < 0 ? 1000 : every);
	if (!strcmp(argv[1], "churn"))
		return churn((int)port, count, name);
	fprintf(stderr, "leaky: unknown mode %s\n", argv[1]);
	return 2;
}
