/* A real leaking server and its clients, on loopback only, for the live tests.
 *
 *   leaky server [--port P] [--close] [--name NAME] [--ready FILE] [--quit-marker FILE]
 *       listen on 127.0.0.1:P (0 picks a port), print the port, accept forever and
 *       never read or close (the leak); --close closes each connection properly;
 *       --quit-marker: on SIGQUIT, print a "thread dump" to stdout, as a JVM does,
 *       and append a line to FILE (what the action tests look for).
 *   leaky client --port P [--count N] [--bytes B] [--every MS] [--hold]
 *       connect N times, send B bytes, close (the server side goes to CLOSE_WAIT);
 *       --every waits MS between connections; --hold keeps them open instead.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *quit_marker;

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
	if (write(STDOUT_FILENO, dump, sizeof(dump) - 1) < 0) {
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
		if (close_them) {
			char buf[4096];
			while (read(c, buf, sizeof(buf)) > 0)
				;
			close(c);
		}
	}
}

static int client(int port, long count, long bytes, long every_ms, int hold)
{
	char *buf = calloc(1, bytes > 0 ? (size_t)bytes : 1);
	struct sockaddr_in sa = loopback(port);

	memset(buf, 'x', bytes > 0 ? (size_t)bytes : 0);
	for (long i = 0; i < count; i++) {
		int s = socket(AF_INET, SOCK_STREAM, 0);
		if (s < 0)
			die("socket");
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect");
		if (bytes > 0 && write(s, buf, (size_t)bytes) != bytes)
			die("write");
		if (!hold)
			close(s);
		if (every_ms > 0) {
			struct timespec ts = {every_ms / 1000, (every_ms % 1000) * 1000000L};
			nanosleep(&ts, NULL);
		}
	}
	if (hold)
		pause();
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"port", required_argument, NULL, 'p'}, {"count", required_argument, NULL, 'n'},
		{"bytes", required_argument, NULL, 'b'}, {"every", required_argument, NULL, 'e'},
		{"close", no_argument, NULL, 'c'},       {"hold", no_argument, NULL, 'H'},
		{"name", required_argument, NULL, 'N'},  {"ready", required_argument, NULL, 'r'},
		{"quit-marker", required_argument, NULL, 'Q'},
		{0},
	};
	long port = 0, count = 1, bytes = 0, every = 0;
	int close_them = 0, hold = 0, c;
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
		case 'H': hold = 1; break;
		case 'N': prctl(PR_SET_NAME, optarg); break;
		case 'r': ready = optarg; break;
		case 'Q': {
			/* Installed even when SIGQUIT was ignored on entry (a background job). */
			struct sigaction sa = {.sa_handler = on_quit, .sa_flags = SA_RESTART};
			quit_marker = optarg;
			sigemptyset(&sa.sa_mask);
			sigaction(SIGQUIT, &sa, NULL);
			break;
		}
		default: return 2;
		}
	}
	if (!strcmp(argv[1], "server"))
		server((int)port, close_them, ready);
	if (!strcmp(argv[1], "client"))
		return client((int)port, count, bytes, every, hold);
	fprintf(stderr, "leaky: unknown mode %s\n", argv[1]);
	return 2;
}
