/* --listen: a tiny single-threaded HTTP/1.0 responder serving /metrics (OpenMetrics)
 * to a Prometheus scraper, loopback unless told otherwise. */
#ifndef LEAKTOP_SERVE_H
#define LEAKTOP_SERVE_H

#include <signal.h>
#include <stdbool.h>

struct source;
struct batch_opts;
struct history;
struct record;
struct snapshot;

/* "[HOST:]PORT" or "[V6ADDR]:PORT" (numeric; HOST 127.0.0.1 when left out): bind and
 * listen. Returns the listening fd, or -errno (*cause says why). *bound is the
 * actual "HOST:PORT" (PORT 0 picks one), at least 64 bytes. */
int serve_listen(const char *spec, char *bound, size_t boundsize, char **cause);

/* The status for one request head: 200 for GET (or HEAD) /metrics, 404 for another
 * path, 405 for another method, 400 when it is not an HTTP request line. */
int serve_route(const char *head);

/* What batch mode and --listen do with each refresh: write it to *rec (on failure,
 * say so, close it and set it NULL) and, when it is whole, feed it to h (a partial
 * refresh would read as sockets closing). Returns 1 when the recording failed. */
int keep_refresh(const struct snapshot *s, bool whole, struct record **rec, struct history *h);

/* Answer requests until *stop: each scrape gets a refresh, or the last one when it
 * is younger than min_age seconds. Each refresh goes into h (the growth metrics) and,
 * when *rec, into the recording (closed and set NULL if writing fails). Returns 0,
 * or 1 when the last refresh or the recording failed. */
int serve_run(int lfd, struct source *src, const struct batch_opts *bo, struct history *h,
	      struct record **rec, double min_age, volatile sig_atomic_t *stop);

#endif
