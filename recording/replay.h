/* Replaying a recording (tables in recording/schema.h) as a source of snapshots, with the seek
 * operations the dashboard's time controls need. Refreshes are numbered by index,
 * 0 .. replay_count() - 1, in recording order. */
#ifndef LEAKTOP_REPLAY_H
#define LEAKTOP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "recording/schema.h"

struct source;

/* Open a recording. A file still being written by a live leaktop is fine: refreshes
 * it commits later show up (replay_count grows). Returns 0 or -errno with a one-line
 * *cause (missing file, not a recording, damaged, newer format). */
int replay_source_new(struct source **out, const char *path, char **cause);

/* The meta table: host, kernel, interval, boot time, format version. */
const struct record_info *replay_info(const struct source *src);

/* Refreshes recorded so far (looks again for ones a live writer committed since). */
size_t replay_count(struct source *src);

/* Index of the refresh source_next delivered last; -1 before the first. */
long replay_pos(const struct source *src);

/* Make source_next deliver refresh `index` (clamped to the recording). Step one back
 * with replay_seek(src, replay_pos(src) - 1), one forward with + 1. */
void replay_seek(struct source *src, long index);

/* Index of the last refresh taken at or before unix time t (0 if t is before the
 * first). Use with replay_seek to jump to a time. */
long replay_find_time(struct source *src, double t);

/* Wall-clock time (unix seconds) and tick of refresh `index`; 0 when out of range. */
double replay_time(const struct source *src, long index);
uint64_t replay_tick(const struct source *src, long index);

/* The events (alerts raised, actions taken) recorded with the refresh source_next
 * delivered last, in the order they were recorded; *n of them, NULL when none (and
 * for a source that is not a replay). The
 * array and its strings belong to the source until its next source_next. */
const struct record_event *replay_events(const struct source *src, size_t *n);

#endif
