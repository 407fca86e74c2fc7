/* The refresh worker: a thread that runs the session step and hands each refresh to
 * the loop. */
#ifndef LEAKTOP_WORKER_H
#define LEAKTOP_WORKER_H

#include <stdbool.h>

#include "tui/state.h"

struct action_event;
struct record;
struct snapshot;
struct source;

/* worker_start takes rec (closed on failure too) and returns NULL when it cannot
 * start. */
struct worker *worker_start(struct app *a, struct source *src, struct record *rec);
/* Stop it. Returns false when it is still inside a refresh: a refresh of a busy host
 * can take seconds, and leaktop must not wait for it to exit, so the thread is left to
 * end with the process (and what it uses is not freed). When recording, it waits: the
 * refresh under way is finished and committed, then the recording is closed. */
bool worker_stop(struct worker *w);
int worker_wake_fd(const struct worker *w);   /* readable when a refresh is ready */
/* Take a finished refresh into *front (unless paused; a replay's seek always) and ask
 * for the next one when it is due. Called between worker_lock and worker_unlock. */
bool worker_poll(struct app *a, struct snapshot **front);
/* A replay seek: to refresh index, or (by_time) to the last one at or before t. */
void worker_seek_request(struct worker *w, long index, bool by_time, double t);
/* The action log's hook: queue an action for the recording (ctx is the worker). */
void worker_queue_action(void *ctx, const struct action_event *ev);
/* History and alerts are the worker's: the loop reads them (a->hist, a->alerts) only
 * between these. */
void worker_lock(struct app *a);
void worker_unlock(struct app *a);

#endif
