/* The story's data beyond the replay: per-refresh series for the charts, asked of
 * the recording (recording/recquery.h) over the story's refreshes. */
#include "config.h"

#include "outputs/story.h"
#include "recording/recquery.h"
#include "recording/schema.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

int story_proc_series(const struct story *st, struct sqlite3 *db, const struct story_proc *p,
		      enum story_series which, double *v)
{
	static const unsigned cols[SS_COUNT] = {
		[SS_FDS] = PROCCH_FDS, [SS_FD_LIMIT] = PROCCH_FD_LIMIT, [SS_RSS_KB] = PROCCH_RSS_KB, [SS_CLOSE_WAIT] = 0,
	};

	for (size_t i = 0; i < st->nrefresh; i++)
		v[i] = NAN;
	if (!cols[which])
		return -EINVAL;
	return recquery_proc_series(db, p->pid, p->start_time, cols[which], st->ticks, st->nrefresh, v, NULL);
}

int story_port_series(const struct story *st, struct sqlite3 *db, const struct story_port *p, double *v)
{
	return recquery_port_series(db, p->netns, p->port, p->side, p->proto, schema_state_col(ST_CLOSE_WAIT),
				    st->ticks, st->nrefresh, v, NULL);
}
