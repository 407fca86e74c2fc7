/* A source of snapshots: the live system or a recording. The views cannot tell
 * them apart except by `live` and the replay controls. */
#ifndef LEAKTOP_SOURCE_H
#define LEAKTOP_SOURCE_H

#include <stdbool.h>

struct snapshot;
struct source;

struct source_ops {
	const char *name;
	/* Fill s with the next refresh. Returns 0, 1 at the end of a recording, or
	 * -errno (*cause says why; s may still hold a partial refresh); -ECANCELED when
	 * told to stop (sources/stop.h): s is then no refresh, to be shown nowhere. */
	int (*next)(struct source *src, struct snapshot *s, char **cause);
	void (*free)(struct source *src);
};

struct source {
	const struct source_ops *ops;
	bool live;
};

static inline int source_next(struct source *src, struct snapshot *s, char **cause)
{
	return src->ops->next(src, s, cause);
}

static inline void source_free(struct source *src)
{
	if (src)
		src->ops->free(src);
}

/* The live system: a sock_diag dump and a /proc scan per refresh. */
int live_source_new(struct source **out, const char *proc_root, char **cause);
/* Readlink every fd on every refresh instead of only what may have changed: the
 * reference the incremental map is tested against (--full-scan). */
void live_source_full_scan(struct source *src, bool on);
/* The first screen before the first refresh: every socket of leaktop's own netns from
 * one dump, joined to no process, s->owners_pending set; on another thread than the
 * first refresh, which waits for it and then takes these sockets (s must stay as it
 * is until that refresh is done) rather than dump them again. Returns 0 or -errno
 * (*cause says why); -EINVAL for a source that is not live. */
int live_source_preview(struct source *src, struct snapshot *s, char **cause);
/* Say so (on) before a preview runs beside the first refresh: that refresh then
 * waits until live_source_preview has returned, so the first frame has the cores.
 * Off: no preview after all (its thread did not start); the refresh waits for none. */
void live_source_preview_beside(struct source *src, bool on);

#endif
