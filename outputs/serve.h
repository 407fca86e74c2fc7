/* --listen: a small single-threaded HTTP/1.0 responder serving /metrics (OpenMetrics)
 * to a Prometheus scraper, loopback unless told otherwise; no client can hold up
 * another's scrape (see serve.c). */
#ifndef LEAKTOP_SERVE_H
#define LEAKTOP_SERVE_H

#include <signal.h>
#include <stddef.h>

struct batch_opts;
struct session;

/* "[HOST:]PORT" or "[V6ADDR]:PORT" (numeric; HOST 127.0.0.1 when left out; PORT 1 to
 * 65535, 0 picks a free one): bind and listen. Returns the listening fd, or -errno
 * (*cause says why in one line). *bound is the actual "HOST:PORT", at least 64 bytes. */
int serve_listen(const char *spec, char *bound, size_t boundsize, char **cause);

/* Is sa (the --listen address, written host) one to serve on: 0.0.0.0 or ::, a
 * loopback address, or one of ifs (getifaddrs)? A multicast or broadcast address is
 * refused (bind takes one, and no scrape can reach it), and so is one not of this host
 * (bind takes any with net.ipv4.ip_nonlocal_bind). 0, or -errno with *cause. */
struct sockaddr;
struct ifaddrs;
int serve_host_check(const struct sockaddr *sa, const struct ifaddrs *ifs, const char *host, char **cause);

/* The status for one request head: 200 for GET (or HEAD) /metrics, 404 for another
 * path, 405 for another method, 400 when it is not an HTTP request line. */
int serve_route(const char *head);

/* What a GET or HEAD of /metrics gets: get() puts a malloc'd body in *body, *len and
 * returns 0, or -errno for a 500. */
struct serve_handler {
	const char *type; /* its Content-Type */
	int (*get)(void *ctx, char **body, size_t *len);
	void *ctx;
};

/* Answer requests on the listening fd lfd until *stop (seen within 0.2 s): all clients
 * at once, each with a deadline, at most 64 of them (a new one drops the oldest idle
 * one). Returns 0 when stopped, or -errno when it cannot go on. */
int serve_loop(int lfd, const struct serve_handler *h, volatile sig_atomic_t *stop);

/* serve_loop for --listen. Answer requests until *stop: each scrape gets a session step (the refresh is
 * recorded, feeds the history and the alerts, and runs --alert-cmd per transition),
 * or the last refresh when it is younger than min_age seconds; the metrics carry the
 * alerts active then. Returns 0, or 1 when the last refresh or the recording failed. */
int serve_run(int lfd, struct session *ss, const struct batch_opts *bo, double min_age,
	      volatile sig_atomic_t *stop);

#endif
