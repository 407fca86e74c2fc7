/* The history's storage: entity sets (processes, ports) found through the one hash
 * table, and each entity's ring of samples, grown as samples arrive. */
#include "config.h"

#include "model/history_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Both halves of an entity's key in one table key. Two entities could share it (not
 * for real pids and ports): the ents are checked, and the second is not tracked. */
uint64_t hist_set_key(uint64_t ka, uint64_t kb)
{
	return ka * 0x9e3779b97f4a7c15ULL ^ kb; /* the table mixes it */
}

struct hist_ent *hist_set_find(const struct hist_set *st, uint64_t ka, uint64_t kb)
{
	const uint32_t *i = hashtab_get(&st->index, hist_set_key(ka, kb));
	const struct hist_ent *e = i ? &st->ents[*i] : NULL;
	return e && e->ka == ka && e->kb == kb ? (struct hist_ent *)e : NULL;
}

/* Index ents[i] under its key; false when another entity holds that key. */
bool hist_set_index(struct hist_set *st, size_t i)
{
	bool found;
	uint32_t *v = hashtab_put(&st->index, hist_set_key(st->ents[i].ka, st->ents[i].kb), &found);
	if (!v || (found && *v != i))
		return false;
	*v = (uint32_t)i;
	return true;
}

int hist_set_init(struct hist_set *st, size_t max, unsigned nvals)
{
	st->max = max;
	st->nvals = nvals;
	st->alloc = max;
	hashtab_init(&st->index, sizeof(uint32_t));
	st->ents = calloc(max, sizeof(*st->ents));
	if (!st->ents || hashtab_reset(&st->index, max))
		return -ENOMEM;
	return 0;
}

/* Forget ents[i]; the last entity takes its place. */
void hist_set_remove(struct hist_set *st, size_t i)
{
	hashtab_del(&st->index, hist_set_key(st->ents[i].ka, st->ents[i].kb));
	free(st->ents[i].ring);
	st->ents[i] = st->ents[--st->n];
	memset(&st->ents[st->n], 0, sizeof(st->ents[0]));
	uint32_t *v = i < st->n ? hashtab_get(&st->index, hist_set_key(st->ents[i].ka, st->ents[i].kb)) : NULL;
	if (v)
		*v = (uint32_t)i;
}

struct hist_ent *hist_set_add(struct hist_set *st, uint64_t ka, uint64_t kb)
{
	if (st->n >= st->max)
		return NULL;
	struct hist_ent *e = &st->ents[st->n];
	memset(e, 0, sizeof(*e));
	e->ka = ka, e->kb = kb;
	if (!hist_set_index(st, st->n)) {
		memset(e, 0, sizeof(*e));
		return NULL;
	}
	st->n++;
	return e;
}

void hist_set_free(struct hist_set *st)
{
	for (size_t i = 0; i < st->n; i++)
		free(st->ents[i].ring);
	free(st->ents);
	hashtab_free(&st->index);
}

/* --- rings ------------------------------------------------------------------- */

const uint32_t *hist_ring_at(const struct hist_ent *e, unsigned nvals, uint32_t i)
{
	return &e->ring[(size_t)((e->head + i) % e->cap) * nvals];
}

/* Append vals as sample seq; a gap since the last sample is filled with the last
 * values (the process was briefly unreadable, say). */
int hist_ring_push(struct hist_ent *e, unsigned nvals, uint32_t gcap, uint64_t seq, const uint32_t *vals)
{
	uint64_t gap = e->count && seq > e->last_seq + 1 ? seq - e->last_seq - 1 : 0;
	uint32_t fill[PROC_VALS > PORT_VALS ? PROC_VALS : PORT_VALS];

	if (gap > gcap)
		gap = gcap;
	if (e->count)
		memcpy(fill, hist_ring_at(e, nvals, e->count - 1), nvals * sizeof(*fill));
	for (uint64_t k = 0; k <= gap; k++) {
		const uint32_t *v = k < gap ? fill : vals;
		if (e->count == e->cap && e->cap < gcap) {
			uint32_t ncap = e->cap ? e->cap * 2 : RING_MIN;
			if (ncap > gcap)
				ncap = gcap;
			uint32_t *r = malloc((size_t)ncap * nvals * sizeof(*r));
			if (!r)
				return -ENOMEM;
			for (uint32_t i = 0; i < e->count; i++)
				memcpy(&r[(size_t)i * nvals], hist_ring_at(e, nvals, i), nvals * sizeof(*r));
			free(e->ring);
			e->ring = r, e->cap = ncap, e->head = 0;
		}
		if (e->count == e->cap) { /* full at the bound: overwrite the oldest */
			memcpy(&e->ring[(size_t)e->head * nvals], v, nvals * sizeof(*v));
			e->head = (e->head + 1) % e->cap;
		} else {
			memcpy(&e->ring[(size_t)((e->head + e->count) % e->cap) * nvals], v, nvals * sizeof(*v));
			e->count++;
		}
	}
	e->last_seq = seq;
	return 0;
}

/* Series `col` of e into h->tbuf/vbuf, oldest first; returns the count. */
size_t hist_ring_series(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col,
			  double *t, double *v, size_t max)
{
	size_t n = e->count < max ? e->count : max, skip = e->count - n;
	uint64_t seq0 = e->last_seq + 1 - e->count;

	for (size_t i = 0; i < n; i++) {
		t[i] = h->times[(seq0 + skip + i) % h->cap];
		v[i] = hist_ring_at(e, nvals, (uint32_t)(skip + i))[col];
	}
	return n;
}

/* Track the latest low of col in slot `which` after a push, with the biggest step and
 * the number of rising samples since; rescan the ring when the low has aged out of
 * it. */
void hist_track_low(struct hist_ent *e, unsigned nvals, unsigned which, unsigned col)
{
	uint64_t seq0 = e->last_seq + 1 - e->count;
	uint32_t v = hist_ring_at(e, nvals, e->count - 1)[col];

	if (e->count == 1 || v <= e->low[which]) {
		e->low[which] = v, e->low_seq[which] = e->last_seq;
		e->max_step[which] = e->rises[which] = 0;
		return;
	}
	uint32_t i = e->count - 1;
	if (e->low_seq[which] < seq0) {
		e->low[which] = UINT32_MAX;
		for (uint32_t k = 0; k < e->count; k++)
			if (hist_ring_at(e, nvals, k)[col] <= e->low[which])
				e->low[which] = hist_ring_at(e, nvals, k)[col], e->low_seq[which] = seq0 + k;
		e->max_step[which] = e->rises[which] = 0;
		i = (uint32_t)(e->low_seq[which] - seq0) + 1;
	}
	for (; i < e->count; i++) {
		uint32_t a = hist_ring_at(e, nvals, i - 1)[col], b = hist_ring_at(e, nvals, i)[col];
		if (b > a) {
			e->rises[which]++;
			if (b - a > e->max_step[which])
				e->max_step[which] = b - a;
		}
	}
}

/* Note the sample at which col last moved beyond noise from where it stood. */
void hist_track_moved(struct hist_ent *e, unsigned nvals, unsigned which, unsigned col)
{
	uint32_t v = hist_ring_at(e, nvals, e->count - 1)[col], a = e->anchor[which];

	if (e->count == 1 || (v > a ? v - a : a - v) > leak_noise(a))
		e->moved_seq[which] = e->last_seq, e->anchor[which] = v;
}

double hist_rising_s(const struct history *h, const struct hist_ent *e, unsigned which)
{
	return h->now - h->times[e->low_seq[which] % h->cap];
}

double hist_rate_before(const struct history *h, const struct hist_ent *e, unsigned which)
{
	uint64_t lo = e->low_seq[which], mv = e->moved_seq[which];
	if (mv <= lo || e->anchor[which] <= e->low[which] || e->last_seq - mv >= h->cap)
		return 0;
	double dt = h->times[mv % h->cap] - h->times[lo % h->cap];
	return dt > 0 ? (e->anchor[which] - e->low[which]) / dt * 60 : 0;
}
