/* The /metrics responder for --listen: one poll() loop over the listener and every
 * client, so no client, however slow or idle, holds up another's scrape.
 *
 * Hand-written, not libmicrohttpd: MHD's connection timeout is one of inactivity (a
 * client trickling a byte a second keeps its slot for ever), at its connection limit
 * it turns the new connection away where a scrape must win over an idle one, and its
 * threads would run the session step beside the dashboard's locking rules. This server
 * answers one path with HTTP/1.0 and closes; the loop below is what it takes to do
 * that under abuse, without a new dependency. The rules:
 *  - non-blocking sockets, one poll() over all of them, a tick of SERVE_TICK_MS so a
 *    stop signal ends the loop at once (poll's EINTR goes back to the stop check);
 *  - a deadline per connection from accept: the whole request head within
 *    SERVE_HEAD_S, the response taken within SERVE_WRITE_S, then it is closed;
 *  - at most SERVE_CONN_MAX connections: a new one drops the oldest idle one (still
 *    sending its head, or done), never itself;
 *  - responses written from a buffer as the client takes them. */
#include "config.h"

#include "outputs/serve.h"
#include "program/session.h"
#include "outputs/batch.h"
#include "outputs/metrics.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
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
#define SERVE_CONN_MAX 64
#define SERVE_HEAD_S 3.0    /* from accept to the blank line ending the request head */
#define SERVE_WRITE_S 10.0  /* for the client to take the whole response */
#define SERVE_LINGER_S 1.0  /* after the response, for the client to close first */
#define SERVE_TICK_MS 200   /* the longest poll: how late a missed stop signal is seen */
#define SERVE_BACKLOG 1024  /* the kernel caps it at net.core.somaxconn */

/* --- where it listens ---------------------------------------------------------- */

/* "[HOST:]PORT" or "[V6ADDR]:PORT" into host (left as it is when not given) and port. */
static int listen_split(const char *spec, char *host, size_t hsize, unsigned *port, char **cause)
{
	const char *p = spec, *h = NULL;
	size_t n = 0;

	if (*spec == '[') {
		const char *close = strchr(spec, ']');
		if (!close || close[1] != ':' || close == spec + 1)
			return text_cause(cause, -EINVAL, "bad --listen address '%s': an IPv6 address "
					  "goes in brackets before the port, like [::1]:9207", spec);
		h = spec + 1, n = (size_t)(close - h), p = close + 2;
	} else if ((p = strrchr(spec, ':'))) {
		if (memchr(spec, ':', (size_t)(p - spec)))
			return text_cause(cause, -EINVAL, "bad --listen address '%s': an IPv6 address "
					  "goes in brackets before the port, like [::1]:9207", spec);
		h = spec, n = (size_t)(p - spec), p++;
	} else {
		p = spec;
	}
	if (n >= hsize)
		return text_cause(cause, -EINVAL, "bad --listen address '%.*s': too long", (int)n, h);
	if (n) {
		memcpy(host, h, n);
		host[n] = '\0';
	}
	size_t digits = strspn(p, "0123456789");
	unsigned long v = digits && digits <= 5 && !p[digits] ? strtoul(p, NULL, 10) : 65536;
	if (v > 65535)
		return text_cause(cause, -EINVAL, "bad --listen port '%s': a port is 1 to 65535, "
				  "or 0 to pick a free one", p);
	*port = (unsigned)v;
	return 0;
}

/* addr (len bytes of family fam) among the addresses of ifs? */
static bool host_has(const struct ifaddrs *ifs, int fam, const void *addr, size_t len)
{
	for (const struct ifaddrs *i = ifs; i; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != fam)
			continue;
		const void *a = fam == AF_INET ? (const void *)&((const struct sockaddr_in *)i->ifa_addr)->sin_addr
					       : (const void *)&((const struct sockaddr_in6 *)i->ifa_addr)->sin6_addr;
		if (!memcmp(a, addr, len))
			return true;
	}
	return false;
}

int serve_host_check(const struct sockaddr *sa, const struct ifaddrs *ifs, const char *host, char **cause)
{
	static const char fix[] = "serve on an address of this host: 127.0.0.1, 0.0.0.0 for all, or one `ip addr` lists";
	struct in_addr v4;

	if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_MULTICAST(a))
			return text_cause(cause, -EINVAL, "bad --listen address '%s': a multicast address; %s", host, fix);
		if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a) || host_has(ifs, AF_INET6, a, sizeof(*a)))
			return 0;
		if (!IN6_IS_ADDR_V4MAPPED(a))
			return text_cause(cause, -EADDRNOTAVAIL, "bad --listen address '%s': not an address of this host; %s",
					  host, fix);
		memcpy(&v4, &a->s6_addr[12], sizeof(v4)); /* ::ffff:a.b.c.d: judged as a.b.c.d */
	} else if (sa->sa_family == AF_INET) {
		v4 = ((const struct sockaddr_in *)sa)->sin_addr;
	} else {
		return 0;
	}
	uint32_t h = ntohl(v4.s_addr);
	if ((h >> 28) == 0xe)
		return text_cause(cause, -EINVAL, "bad --listen address '%s': a multicast address; %s", host, fix);
	if (h == 0xffffffffu)
		return text_cause(cause, -EINVAL, "bad --listen address '%s': the broadcast address; %s", host, fix);
	/* 0.0.0.0 is every address; all of 127.0.0.0/8 is this host's (lo). */
	if (h == 0 || (h >> 24) == 127 || host_has(ifs, AF_INET, &v4, sizeof(v4)))
		return 0;
	return text_cause(cause, -EADDRNOTAVAIL, "bad --listen address '%s': not an address of this host; %s", host, fix);
}

int serve_listen(const char *spec, char *bound, size_t boundsize, char **cause)
{
	char host[128] = "127.0.0.1", port[8];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE},
			*ai = NULL;
	unsigned pnum = 0;
	int fd, one = 1, rc;

	if ((rc = listen_split(spec, host, sizeof(host), &pnum, cause)))
		return rc;
	snprintf(port, sizeof(port), "%u", pnum);
	if ((rc = getaddrinfo(host, port, &hints, &ai)) != 0) {
		/* With AI_NUMERICHOST a name is EAI_NONAME: say what is wanted instead. */
		const char *why = rc == EAI_NONAME ? "not a numeric IP address; use one like 127.0.0.1 or [::1] "
								  "(names are not looked up)"
			: rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc);
		return text_cause(cause, -EINVAL, "bad --listen address '%s': %s", host, why);
	}
	/* bind() takes a multicast address (and any with ip_nonlocal_bind) and "serves"
	 * where no scrape can come: refused before it. */
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs))
		ifs = NULL;
	rc = serve_host_check(ai->ai_addr, ifs, host, cause);
	freeifaddrs(ifs);
	if (rc) {
		freeaddrinfo(ai);
		return rc;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		return text_cause(cause, rc, "--listen %s: %s", spec, strerror(-rc));
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, SERVE_BACKLOG) < 0) {
		rc = -errno;
		freeaddrinfo(ai);
		close(fd);
		return text_cause(cause, rc, "--listen %s: %s%s", spec, strerror(-rc),
				  rc == -EADDRNOTAVAIL ? " (not an address of this host)" : "");
	}
	freeaddrinfo(ai);

	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN] = "?";
	getsockname(fd, (struct sockaddr *)&ss, &len);
	if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		snprintf(bound, boundsize, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(bound, boundsize, "%s:%u", ip, ntohs(a->sin_port));
	}
	return fd;
}

/* --- what a request gets ------------------------------------------------------- */

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

static const struct serve_status {
	int code;
	const char *reason, *body;
} serve_statuses[] = {
	{200, "OK", NULL},
	{400, "Bad Request", "bad request\n"},
	{404, "Not Found", "not found: try /metrics\n"},
	{405, "Method Not Allowed", "method not allowed\n"},
	{431, "Request Header Fields Too Large", "request head too large\n"},
	{500, "Internal Server Error", "the refresh failed\n"},
};

static const struct serve_status *serve_status(int code)
{
	for (size_t i = 0; i < sizeof(serve_statuses) / sizeof(serve_statuses[0]); i++)
		if (serve_statuses[i].code == code)
			return &serve_statuses[i];
	abort(); /* a code missing from the table is a bug */
}

/* --- the connections ------------------------------------------------------------ */

enum conn_state { CONN_FREE, CONN_HEAD, CONN_WRITE, CONN_LINGER };

struct conn {
	int fd;
	enum conn_state state;
	unsigned long long seq; /* order of accept: the oldest is dropped first */
	double deadline;
	size_t head_len, out_len, out_off;
	char *out;
	char head[SERVE_HEAD_MAX];
};

struct serve {
	const struct serve_handler *h;
	struct conn conns[SERVE_CONN_MAX];
	unsigned long long accepted;
	double lull; /* out of fds: the listener rests until then */
};

static void conn_close(struct conn *c)
{
	close(c->fd);
	free(c->out);
	c->out = NULL;
	c->state = CONN_FREE;
}

/* A free slot, or the one to drop for a new connection: the oldest idle one (sending
 * its head, or done and lingering), else the oldest still taking its response. */
static struct conn *serve_slot(struct serve *sv)
{
	struct conn *best = NULL;
	for (size_t i = 0; i < SERVE_CONN_MAX; i++) {
		struct conn *c = &sv->conns[i];
		if (c->state == CONN_FREE)
			return c;
		if (!best || (best->state == CONN_WRITE && c->state != CONN_WRITE) ||
		    ((best->state == CONN_WRITE) == (c->state == CONN_WRITE) && c->seq < best->seq))
			best = c;
	}
	conn_close(best);
	return best;
}

static void serve_accept(struct serve *sv, int lfd, double now)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				sv->lull = now + 0.1; /* else poll says "readable" in a tight loop */
			return;
		}
		struct conn *c = serve_slot(sv);
		*c = (struct conn){.fd = fd, .state = CONN_HEAD, .seq = ++sv->accepted,
				   .deadline = now + SERVE_HEAD_S};
	}
}

/* Send what the client takes; when all is sent, close our side and wait a moment for
 * the client to close (closing first with unread bytes would reset the response). */
static void conn_write(struct conn *c, double now)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w <= 0) {
			conn_close(c);
			return;
		}
		c->out_off += (size_t)w;
	}
	free(c->out);
	c->out = NULL;
	shutdown(c->fd, SHUT_WR);
	c->state = CONN_LINGER;
	c->deadline = now + SERVE_LINGER_S;
}

/* A whole request head is in: route it, make the response, start sending it. */
static void conn_answer(struct serve *sv, struct conn *c, bool too_long)
{
	char *body = NULL, line[256];
	size_t blen = 0;

	c->head[strcspn(c->head, "\r\n")] = '\0';
	int code = too_long ? 431 : serve_route(c->head);
	bool with_body = strncmp(c->head, "HEAD ", 5) != 0;
	const char *type = "text/plain; charset=utf-8";
	if (code == 200) {
		if (sv->h->get(sv->h->ctx, &body, &blen) < 0) {
			free(body), body = NULL;
			code = 500;
		} else {
			type = sv->h->type;
		}
	}
	const struct serve_status *st = serve_status(code);
	if (code != 200)
		blen = strlen(st->body);
	int n = snprintf(line, sizeof(line), "HTTP/1.0 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n", code, st->reason, type, blen);
	size_t total = (size_t)n + (with_body ? blen : 0);
	c->out = malloc(total);
	if (!c->out) {
		free(body);
		conn_close(c);
		return;
	}
	memcpy(c->out, line, (size_t)n);
	if (with_body)
		memcpy(c->out + n, code == 200 ? body : st->body, blen);
	free(body);
	c->out_len = total, c->out_off = 0;
	c->state = CONN_WRITE;
	/* The refresh may have taken a while: the client's time starts now. */
	double now = text_mono();
	c->deadline = now + SERVE_WRITE_S;
	conn_write(c, now);
}

static void conn_read(struct serve *sv, struct conn *c)
{
	for (;;) {
		char discard[4096];
		bool head = c->state == CONN_HEAD;
		char *to = head ? c->head + c->head_len : discard;
		size_t room = head ? SERVE_HEAD_MAX - 1 - c->head_len : sizeof(discard);
		ssize_t r = recv(c->fd, to, room, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (r <= 0) { /* closed or reset, before a whole request or after the answer */
			conn_close(c);
			return;
		}
		if (!head)
			continue;
		/* Look for the blank line from a little before the new bytes on. */
		size_t from = c->head_len > 3 ? c->head_len - 3 : 0;
		c->head_len += (size_t)r;
		c->head[c->head_len] = '\0';
		if (strstr(c->head + from, "\r\n\r\n") || strstr(c->head + from, "\n\n") ||
		    memchr(c->head + from, '\0', c->head_len - from)) {
			conn_answer(sv, c, false);
			return;
		}
		if (c->head_len == SERVE_HEAD_MAX - 1) {
			conn_answer(sv, c, true);
			return;
		}
	}
}

int serve_loop(int lfd, const struct serve_handler *h, volatile sig_atomic_t *stop)
{
	struct serve *sv = calloc(1, sizeof(*sv));
	struct pollfd pfd[SERVE_CONN_MAX + 1];
	struct conn *polled[SERVE_CONN_MAX + 1];
	int rc = 0;

	if (!sv)
		return -ENOMEM;
	sv->h = h;
	fcntl(lfd, F_SETFL, fcntl(lfd, F_GETFL) | O_NONBLOCK);
	while (!*stop) {
		double now = text_mono(), next = now + SERVE_TICK_MS / 1000.0;
		nfds_t n = 0;
		if (now >= sv->lull)
			pfd[n] = (struct pollfd){.fd = lfd, .events = POLLIN}, polled[n++] = NULL;
		for (size_t i = 0; i < SERVE_CONN_MAX; i++) {
			struct conn *c = &sv->conns[i];
			if (c->state == CONN_FREE)
				continue;
			if (now >= c->deadline) {
				conn_close(c);
				continue;
			}
			if (c->deadline < next)
				next = c->deadline;
			pfd[n] = (struct pollfd){.fd = c->fd, .events = c->state == CONN_WRITE ? POLLOUT : POLLIN};
			polled[n++] = c;
		}
		int ready = poll(pfd, n, (int)((next - now) * 1000) + 1);
		if (ready < 0 && errno != EINTR) {
			rc = -errno;
			break;
		}
		for (nfds_t i = 0; ready > 0 && i < n && !*stop; i++) {
			struct conn *c = polled[i];
			if (!pfd[i].revents)
				continue;
			if (!c)
				serve_accept(sv, lfd, text_mono());
			else if (c->state == CONN_WRITE)
				conn_write(c, text_mono());
			else if (c->state != CONN_FREE) /* an accept may have dropped it */
				conn_read(sv, c);
		}
	}
	for (size_t i = 0; i < SERVE_CONN_MAX; i++)
		if (sv->conns[i].state != CONN_FREE)
			conn_close(&sv->conns[i]);
	free(sv);
	return rc;
}

/* --- --listen: a session step per scrape ----------------------------------------- */

struct serve_session {
	struct session *ss;
	struct snapshot *s;
	struct batch_opts o;
	double min_age, last;
	bool have;
	int status;
};

static int serve_session_get(void *ctx, char **body, size_t *len)
{
	struct serve_session *x = ctx;

	if (!x->have || text_mono() - x->last >= x->min_age) {
		char *cause = NULL;
		int rc = session_step(x->ss, x->s, &cause);
		if (rc == -ECANCELED) { /* stopping: this scrape gets no half refresh */
			free(cause);
			return rc;
		}
		if (rc < 0)
			fprintf(stderr, "leaktop: %s\n", cause ? cause : strerror(-rc));
		x->status = rc < 0 || session_recording_failed(x->ss);
		free(cause);
		x->have = true;
		x->last = text_mono();
	}
	FILE *f = open_memstream(body, len);
	if (!f)
		return -ENOMEM;
	/* Under the lock: a scrape sees one refresh's history and alerts. */
	session_lock(x->ss);
	x->o.alerts = session_alerts(x->ss);
	metrics_write(f, x->s, session_history(x->ss), &x->o);
	session_unlock(x->ss);
	return fclose(f) ? -ENOMEM : 0;
}

int serve_run(int lfd, struct session *ss, const struct batch_opts *bo, double min_age,
	      volatile sig_atomic_t *stop)
{
	struct serve_session x = {.ss = ss, .s = snapshot_new(), .o = *bo, .min_age = min_age};
	struct serve_handler h = {.type = METRICS_CONTENT_TYPE, .get = serve_session_get, .ctx = &x};

	if (!x.s)
		return 1;
	int rc = serve_loop(lfd, &h, stop);
	if (rc < 0)
		fprintf(stderr, "leaktop: --listen: %s\n", strerror(-rc));
	snapshot_free(x.s);
	return rc < 0 ? 1 : x.status;
}
