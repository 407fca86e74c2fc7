/* Recording a session to an SQLite file: one transaction per refresh, sockets,
 * processes and socket fds stored once with their changes (deltas), per-port
 * aggregates and events (alerts, actions). The tables are recording/schema's; the
 * reader is recording/recread. */
#ifndef LEAKTOP_RECORD_H
#define LEAKTOP_RECORD_H

#include "recording/schema.h"

struct snapshot;
struct record;
struct sqlite3;

/* Create path through recfile (mode 0600; never overwritten, never another user's)
 * and write the schema and meta table; path NULL: a recording in memory (a cut
 * file's refreshes, made whole again for the report). Returns 0 or -errno with
 * *cause set. */
int record_open(struct record **out, const char *path, const struct record_info *info, char **cause);

/* Append one refresh (a built snapshot) as one transaction. Returns 0 or -errno. */
int record_snapshot(struct record *r, const struct snapshot *s, char **cause);

/* Store an event, tied to the last recorded refresh. Returns 0 or -errno. */
int record_event(struct record *r, const struct record_event *ev, char **cause);

/* The database written (to read back an in-memory recording). */
struct sqlite3 *record_db(struct record *r);

/* Finish and close (the last transaction is already committed). NULL is fine. */
void record_close(struct record *r);

#endif
