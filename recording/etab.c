/* The recording writer's change tracker: a table of what the last refresh held,
 * keyed by two 64-bit words, to find what appeared, changed or went. */
#include "config.h"

#include "recording/etab.h"
#include "model/hash.h"
#include "model/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The table's key for (a, b), and the next one to try when two pairs share a key
 * (the entry holds a and b, so a shared key is found, not confused). */
static uint64_t key_of(uint64_t a, uint64_t b) { return mix64(a ^ mix64(b)); }
static uint64_t key_next(uint64_t k) { return mix64(k + 1); }

void etab_init(struct etab *t, size_t esize)
{
	memset(t, 0, sizeof(*t));
	t->esize = esize;
	hashtab_init(&t->idx, sizeof(uint32_t));
}

int etab_reset(struct etab *t, size_t n)
{
	int rc;

	if ((rc = hashtab_reset(&t->idx, n)) || (rc = vec_reserve_min(&t->ents, &t->cap, n, t->esize, 64)))
		return rc;
	t->n = 0;
	t->names_len = 0;
	return 0;
}

int64_t etab_add_name(struct etab *t, const char *name)
{
	size_t len = strlen(name), start = t->names_len ? t->names_len : 1;

	if (!len)
		return 0;
	if (vec_reserve_min(&t->names, &t->names_cap, start + len + 1, 1, 4096))
		return -1;
	t->names[0] = '\0';
	memcpy(t->names + start, name, len + 1);
	t->names_len = start + len + 1;
	return (int64_t)start;
}

int64_t etab_add_bytes(struct etab *t, const void *bytes, size_t len)
{
	size_t start = t->names_len ? t->names_len : 1;

	if (vec_reserve_min(&t->names, &t->names_cap, start + len, 1, 4096))
		return -1;
	t->names[0] = '\0';
	memcpy(t->names + start, bytes, len);
	t->names_len = start + len;
	return (int64_t)start;
}

const void *etab_bytes(const struct etab *t, uint32_t off, size_t len)
{
	return t->names && off && off <= t->names_len && len <= t->names_len - off ? t->names + off : NULL;
}

const char *etab_name(const struct etab *t, uint32_t off)
{
	return t->names && off < t->names_len ? t->names + off : "";
}

struct ent_hdr *etab_at(const struct etab *t, size_t i)
{
	return (struct ent_hdr *)(t->ents + i * t->esize);
}

struct ent_hdr *etab_slot(struct etab *t, uint64_t a, uint64_t b)
{
	for (uint64_t k = key_of(a, b);; k = key_next(k)) {
		bool found;
		uint32_t *v = hashtab_put(&t->idx, k, &found);
		if (!v)
			return NULL;
		if (found) {
			struct ent_hdr *e = etab_at(t, *v);
			if (e->a == a && e->b == b)
				return e;
			continue;
		}
		if (t->n >= UINT32_MAX || vec_reserve_min(&t->ents, &t->cap, t->n + 1, t->esize, 64)) {
			hashtab_del(&t->idx, k);
			return NULL;
		}
		*v = (uint32_t)t->n;
		struct ent_hdr *e = etab_at(t, t->n++);
		memset(e, 0, t->esize);
		e->a = a, e->b = b;
		return e;
	}
}

struct ent_hdr *etab_find(const struct etab *t, uint64_t a, uint64_t b)
{
	for (uint64_t k = key_of(a, b);; k = key_next(k)) {
		const uint32_t *v = hashtab_get(&t->idx, k);
		if (!v)
			return NULL;
		struct ent_hdr *e = etab_at(t, *v);
		if (e->a == a && e->b == b)
			return e->id ? e : NULL;
	}
}

void etab_unmark(struct etab *t)
{
	for (size_t i = 0; i < t->n; i++) {
		struct ent_hdr *e = etab_at(t, i);
		if (e->id < 0)
			e->id = -e->id;
	}
}

void etab_free(struct etab *t)
{
	hashtab_free(&t->idx);
	free(t->ents);
	free(t->names);
	t->ents = t->names = NULL;
	t->n = t->cap = t->names_len = t->names_cap = 0;
}
