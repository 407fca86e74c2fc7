/* The one hash table (model/hashtab.h): sizing, growing and deleting; lookups are
 * inline in the header. */
#include "config.h"

#include "model/hashtab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define HASHTAB_MIN 64 /* and every table's slots a multiple of it */

void hashtab_init(struct hashtab *t, size_t vsize)
{
	/* The key (read with memcpy, so it needs no alignment), then the value, each
	 * slot aligned for the value: a type's size is a multiple of its alignment, so
	 * the lowest set bit of vsize (at most 8) is enough. A table of int32 values
	 * takes 12 bytes a slot, not 16: the socket tables are the biggest there are. */
	size_t align = vsize & (~vsize + 1);

	if (!align || align > 8)
		align = 8;
	*t = (struct hashtab){.vsize = vsize};
	t->stride = (sizeof(uint64_t) + vsize + align - 1) & ~(align - 1);
}

void hashtab_free(struct hashtab *t)
{
	if (!t)
		return;
	free(t->slots);
	hashtab_init(t, t->vsize);
}

size_t hashtab_cap_for(size_t n, size_t stride)
{
	if (n >= SIZE_MAX / 4)
		return 0;
	/* n + 1 keys (one slot stays empty) in 3/4 of the slots, rounded up to 64. */
	size_t cap = (n + 1 + (n + 1) / 3 + HASHTAB_MIN) / HASHTAB_MIN * HASHTAB_MIN;
	while (cap - cap / 4 < n + 1)
		cap += HASHTAB_MIN;
	/* One more slot for key 0. */
	if (stride && cap + 1 > SIZE_MAX / stride)
		return 0;
	return cap;
}

/* Storage of cap slots (and key 0's), all empty. */
static unsigned char *slots_new(size_t cap, size_t stride)
{
	return calloc(cap + 1, stride);
}

/* The slots a table that must grow to hold n keys gets: an eighth to spare, so a
 * count that creeps up by a few keys a refresh does not move or reallocate the whole
 * table each time. */
static size_t cap_grown(size_t n, size_t stride)
{
	size_t cap = hashtab_cap_for(n + n / 8, stride);
	return cap ? cap : hashtab_cap_for(n, stride);
}

int hashtab_reset(struct hashtab *t, size_t n)
{
	size_t cap = hashtab_cap_for(n, t->stride);

	if (!cap)
		return -ENOMEM;
	t->used = 0;
	t->zero_used = false;
	if (cap <= t->cap) {
		memset(t->slots, 0, (t->cap + 1) * t->stride);
		return 0;
	}
	/* The keys go anyway: the old storage first, so the two are never held at
	 * once (36 MB at a million sockets). */
	free(t->slots);
	t->slots = NULL;
	t->cap = 0;
	cap = cap_grown(n, t->stride);
	if (!(t->slots = slots_new(cap, t->stride)))
		return -ENOMEM;
	t->cap = cap;
	return 0;
}

/* Move every key into storage of cap slots. */
static int grow_to(struct hashtab *t, size_t cap)
{
	if (cap < t->cap || cap + 1 > SIZE_MAX / t->stride)
		return -ENOMEM;
	unsigned char *s = slots_new(cap, t->stride);
	if (!s)
		return -ENOMEM;
	struct hashtab big = *t;
	big.slots = s, big.cap = cap;
	for (size_t i = 0; i < t->cap; i++) {
		uint64_t k = hashtab_key_at(t, i);
		if (k)
			memcpy(s + hashtab_slot(&big, k) * t->stride, t->slots + i * t->stride, t->stride);
	}
	if (t->slots) /* key 0's slot */
		memcpy(s + cap * t->stride, t->slots + t->cap * t->stride, t->stride);
	free(t->slots);
	*t = big;
	return 0;
}

/* Move every key into storage for half as many keys again: a table sized for a
 * million keys that overflows takes 1.5x its memory, not 2x. */
static int grow(struct hashtab *t)
{
	size_t cap = hashtab_cap_for(t->used + t->used / 2, t->stride);

	return cap ? grow_to(t, cap) : -ENOMEM;
}

int hashtab_reserve(struct hashtab *t, size_t n)
{
	size_t cap = hashtab_cap_for(n, t->stride);

	if (!cap)
		return -ENOMEM;
	return cap <= t->cap ? 0 : grow_to(t, cap_grown(n, t->stride));
}

void *hashtab_put_slow(struct hashtab *t, uint64_t key, bool *found)
{
	if (t->used + 1 > t->cap - t->cap / 4 && grow(t))
		return NULL;
	if (key) /* room now: the fast path takes it */
		return hashtab_put(t, key, found);
	unsigned char *v = t->slots + t->cap * t->stride + sizeof(uint64_t);
	if (!(*found = t->zero_used)) {
		memset(v, 0, t->vsize);
		t->zero_used = true;
		t->used++;
	}
	return v;
}

/* How many slots on from a is b, round the end. */
static size_t dist(const struct hashtab *t, size_t a, size_t b)
{
	return b >= a ? b - a : b + t->cap - a;
}

/* Empty the slot at hole. Backward shift: pull later keys of the run into the hole
 * when their home slot does not lie between the hole and where they are, so no probe
 * ends early. A key moves only to a later slot of the hole's run, or to the hole. */
static void del_at(struct hashtab *t, size_t hole)
{
	for (size_t i = hashtab_next(t, hole);; i = hashtab_next(t, i)) {
		uint64_t k = hashtab_key_at(t, i);
		if (!k)
			break;
		if (dist(t, hashtab_home(t, k), i) >= dist(t, hole, i)) {
			memcpy(t->slots + hole * t->stride, t->slots + i * t->stride, t->stride);
			hole = i;
		}
	}
	memset(t->slots + hole * t->stride, 0, t->stride);
	t->used--;
}

bool hashtab_del(struct hashtab *t, uint64_t key)
{
	if (!key) {
		if (!t->zero_used)
			return false;
		t->zero_used = false;
		t->used--;
		return true;
	}
	if (!t->cap)
		return false;
	size_t hole = hashtab_slot(t, key);
	if (!hashtab_key_at(t, hole))
		return false;
	del_at(t, hole);
	return true;
}

size_t hashtab_sweep(struct hashtab *t, bool (*keep)(const void *value, void *ctx), void *ctx)
{
	size_t dropped = 0;

	if (t->zero_used && !keep(t->slots + t->cap * t->stride + sizeof(uint64_t), ctx)) {
		t->zero_used = false;
		t->used--;
		dropped++;
	}
	if (!t->cap)
		return dropped;
	/* Start after an empty slot (there is one: the table is at most 3/4 full), so no
	 * run wraps round the start: a deletion moves keys only to the slot looked at
	 * again or to slots not reached yet, and every key is asked once. */
	size_t i = 0;
	while (hashtab_key_at(t, i))
		i++;
	for (size_t n = 0; n < t->cap;) {
		i = hashtab_next(t, i);
		n++;
		while (hashtab_key_at(t, i) && !keep(t->slots + i * t->stride + sizeof(uint64_t), ctx)) {
			del_at(t, i);
			dropped++;
		}
	}
	return dropped;
}

size_t hashtab_bytes(const struct hashtab *t)
{
	return t->slots ? (t->cap + 1) * t->stride : 0;
}
