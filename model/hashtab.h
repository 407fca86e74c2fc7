/* The one hash table: open addressing with linear probing, keyed by a uint64, each
 * slot holding its key and a fixed-size value inline (an index into a caller's array,
 * or a small record), so a table of 150k sockets is one allocation and no per-item
 * malloc. Lookups are inline: they sit in the per-socket loops. A table has any
 * number of slots (a multiple of 64), not a power of two: a key's home slot is its
 * hash scaled to the table (a multiply, not a mask), so a table sized for a million
 * sockets takes 4/3 of a million slots, not 2^21 (doc/performance.md). */
#ifndef LEAKTOP_HASHTAB_H
#define LEAKTOP_HASHTAB_H

#include "model/hash.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Slots are `stride` bytes: the key (0 marks an empty slot), then the value. Key 0
 * itself lives in one extra slot past the last, used when zero_used. */
struct hashtab {
	unsigned char *slots;
	size_t cap;          /* slots, a multiple of 64, or 0 before the first use */
	size_t used;         /* keys held, key 0 included */
	size_t vsize, stride;
	bool zero_used;
};

/* An empty table of values of vsize bytes (at most 256); allocates nothing yet. */
void hashtab_init(struct hashtab *t, size_t vsize);
void hashtab_free(struct hashtab *t);
/* Empty the table, keeping its storage, grown to hold n keys without growing again
 * (an eighth more when it grows). Returns 0 or -ENOMEM (the table is then empty, with
 * no storage). */
int hashtab_reset(struct hashtab *t, size_t n);
/* Room for n keys without growing again, keeping those it holds (an eighth more
 * when it grows). 0 or -ENOMEM. */
int hashtab_reserve(struct hashtab *t, size_t n);
/* The out-of-line part of hashtab_put: key 0, and growing. */
void *hashtab_put_slow(struct hashtab *t, uint64_t key, bool *found);
/* Remove key; returns whether it was there. Values of other keys may move. */
bool hashtab_del(struct hashtab *t, uint64_t key);
/* Remove every key whose value keep() refuses, in one pass over the slots; returns
 * how many went. keep must not touch the table. */
size_t hashtab_sweep(struct hashtab *t, bool (*keep)(const void *value, void *ctx), void *ctx);
/* Bytes the table holds, for memory accounting. */
size_t hashtab_bytes(const struct hashtab *t);
/* The slots needed for n keys at most 3/4 full (a multiple of 64); 0 when that
 * overflows. */
size_t hashtab_cap_for(size_t n, size_t stride);

static inline uint64_t hashtab_key_at(const struct hashtab *t, size_t slot)
{
	uint64_t k;
	__builtin_memcpy(&k, t->slots + slot * t->stride, sizeof(k));
	return k;
}

/* Where a probe for key starts: its hash scaled to [0, cap). */
static inline size_t hashtab_home(const struct hashtab *t, uint64_t key)
{
	return (size_t)(((unsigned __int128)mix64(key) * t->cap) >> 64);
}

/* The slot after i, round the end to 0. */
static inline size_t hashtab_next(const struct hashtab *t, size_t i)
{
	return i + 1 == t->cap ? 0 : i + 1;
}

/* Where key is, or the empty slot where it would go. key != 0, t->cap != 0. */
static inline size_t hashtab_slot(const struct hashtab *t, uint64_t key)
{
	size_t i = hashtab_home(t, key);
	uint64_t k;

	while ((k = hashtab_key_at(t, i)) && k != key)
		i = hashtab_next(t, i);
	return i;
}

/* The value of key, or NULL. */
static inline void *hashtab_get(const struct hashtab *t, uint64_t key)
{
	if (!key)
		return t->zero_used ? t->slots + t->cap * t->stride + sizeof(uint64_t) : NULL;
	if (!t->cap)
		return NULL;
	size_t i = hashtab_slot(t, key);
	return hashtab_key_at(t, i) ? t->slots + i * t->stride + sizeof(uint64_t) : NULL;
}

/* The value of a new key (zeroed; *found false) or of a known one (*found true),
 * growing the table when it gets 3/4 full. NULL when out of memory. */
static inline void *hashtab_put(struct hashtab *t, uint64_t key, bool *found)
{
	if (!key || t->used + 1 > t->cap - t->cap / 4)
		return hashtab_put_slow(t, key, found);
	size_t i = hashtab_slot(t, key);
	unsigned char *slot = t->slots + i * t->stride;
	if ((*found = hashtab_key_at(t, i) != 0))
		return slot + sizeof(uint64_t);
	__builtin_memcpy(slot, &key, sizeof(key));
	__builtin_memset(slot + sizeof(uint64_t), 0, t->vsize);
	t->used++;
	return slot + sizeof(uint64_t);
}

/* Ask for key's first slot ahead of a lookup: the per-socket loops know the next
 * keys, and their tables are bigger than the cache. A macro: GCC finds a function
 * that only prefetches pure and drops the call before inlining it. */
#define hashtab_prefetch(t, key)                                                            \
	do {                                                                                \
		const struct hashtab *pf_t_ = (t);                                          \
		if (pf_t_->cap)                                                             \
			__builtin_prefetch(pf_t_->slots +                                   \
					   hashtab_home(pf_t_, key) * pf_t_->stride);       \
	} while (0)

#endif
