/* The /metrics responder: one connection at a time, a bounded request read with a
 * timeout, and a refresh per scrape (rate-limited by --delay). */
#include "config.h"

#include "tui/serve.h"
#include "model/batch.h"
#include "model/history.h"
#include "model/metrics.h"
#include "model/snapshot.h"
#include "sources/source.h"
#include "tui/writers/record.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SERVE_HEAD_MAX 8192
#define SERVE_IO_TIMEOUT_S 5

static int fail(char **cause, int err, const char *fmt, const char *arg)
{
	if (cause && asprintf(cause, fmt, arg, strerror(-err)) < 0)
		*cause = NULL;
	return err;
}

int serve_listen(const char *spec, char *bound, size_t boundsize, char **cause)
{
	char host[128] = "127.0.0.1", port[16];
	const char *colon = strrchr(spec, ':');
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV},
			*ai = NULL;
	int fd, one = 1, rc;

	if (colon) {
		size_t n = (size_t)(colon - spec);
		if (n && spec[0] == '[' && spec[n - 1] == ']')
			spec++, n -= 2;
		if (n >= sizeof(host))
			return fail(cause, -EINVAL, "bad --listen address '%s'%.0s", spec);
		if (n) {
			memcpy(host, spec, n);
			host[n] = '\0';
		}
		spec = colon + 1;
	}
	if (!*spec || strlen(spec) >= sizeof(port) || strspn(spec, "0123456789") != strlen(spec))
		return fail(cause, -EINVAL, "bad --listen port '%s'%.0s", spec);
	strcpy(port, spec);
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0)
		return fail(cause, -EINVAL, "bad --listen address '%s': %s", host);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		return fail(cause, rc, "--listen %s: %s", host);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 16) < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		close(fd);
		return fail(cause, rc, "--listen %s: %s", host);
	}
	freeaddrinfo(ai);

	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	unsigned p = 0;
	getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		p = ntohs(a->sin6_port);
		snprintf(bound, boundsize, "[%s]:%u", ip, p);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		p = ntohs(a->sin_port);
		snprintf(bound, boundsize, "%s:%u", ip, p);
	}
	return fd;
}

int serve_route(const char *head)
{
	const char *sp = strchr(head, ' ');
	if (!sp || sp == head)
		return 400;
	const char *path = sp + 1, *end = strchr(path, ' ');
	if (!end || end == path || strncmp(end + 1, "HTTP/", 5))
		return 400;
	size_t plen = strcspn(path, " ?");
	bool is_metrics = plen == 8 && !strncmp(path, "/metrics", 8);
	bool get = (size_t)(sp - head) == 3 && !strncmp(head, "GET", 3);
	bool head_m = (size_t)(sp - head) == 4 && !strncmp(head, "HEAD", 4);
	if (!get && !head_m)
		return 405;
	return is_metrics ? 200 : 404;
}

static double now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;
		p += w, n -= (size_t)w;
	}
}

/* Read the request head (up to the blank line), bounded in size and time. */
static ssize_t read_head(int fd, char *buf, size_t size)
{
	size_t len = 0;

	while (len < size - 1) {
		ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return len ? (ssize_t)len : -1;
		len += (size_t)n;
		buf[len] = '\0';
		if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n"))
			break;
	}
	buf[len] = '\0';
	return (ssize_t)len;
}

static void respond(int fd, int status, const char *type, const char *body, size_t len, bool with_body)
{
	static const struct { int code; const char *text; } reasons[] = {
		{200, "OK"}, {400, "Bad Request"}, {404, "Not Found"}, {405, "Method Not Allowed"},
	};
	const char *reason = "Error";
	char head[256];

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == status)
			reason = reasons[i].text;
	int n = snprintf(head, sizeof(head), "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", status, reason, type, len);
	write_all(fd, head, (size_t)n);
	if (with_body)
		write_all(fd, body, len);
}

int keep_refresh(const struct snapshot *s, bool whole, struct record **rec, struct history *h)
{
	char *cause = NULL;
	int ret = 0;

	if (*rec && record_snapshot(*rec, s, &cause)) {
		fprintf(stderr, "leaktop: %s; recording stopped\n", cause ? cause : "recording failed");
		free(cause);
		record_close(*rec);
		*rec = NULL;
		ret = 1;
	}
	/* A partial refresh would read as sockets closing: whole ones only. */
	if (whole && history_update(h, s))
		fputs("leaktop: out of memory for history; growth figures are incomplete\n", stderr);
	return ret;
}

int serve_run(int lfd, struct source *src, const struct batch_opts *bo, struct history *h,
	      struct record **rec, double min_age, volatile sig_atomic_t *stop)
{
	struct snapshot *s = snapshot_new();
	char head[SERVE_HEAD_MAX];
	double last = 0;
	bool have = false;
	int status = 0;

	if (!s)
		return 1;
	while (!*stop) {
		struct pollfd p = {.fd = lfd, .events = POLLIN};
		if (poll(&p, 1, 500) <= 0)
			continue;
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		struct timeval tv = {.tv_sec = SERVE_IO_TIMEOUT_S};
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (read_head(c, head, sizeof(head)) < 0) {
			close(c);
			continue;
		}
		head[strcspn(head, "\r\n")] = '\0';
		int code = serve_route(head);
		if (code != 200) {
			static const char *const msg[] = {"bad request\n", "not found: try /metrics\n",
							  "method not allowed\n"};
			const char *m = msg[code == 400 ? 0 : code == 404 ? 1 : 2];
			respond(c, code, "text/plain; charset=utf-8", m, strlen(m), true);
			close(c);
			continue;
		}
		if (!have || now_mono() - last >= min_age) {
			char *cause = NULL;
			int rc = source_next(src, s, &cause);
			if (rc < 0) {
				fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-rc));
				status = 1;
			} else {
				status = 0;
			}
			free(cause);
			if (keep_refresh(s, rc == 0, rec, h))
				status = 1;
			have = true;
			last = now_mono();
		}
		char *body = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&body, &len);
		if (f) {
			metrics_write(f, s, h, bo);
			fclose(f);
			respond(c, 200, METRICS_CONTENT_TYPE, body, len, !strncmp(head, "GET", 3));
		}
		free(body);
		close(c);
	}
	snapshot_free(s);
	return status;
}
