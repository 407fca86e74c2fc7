/* The recording writer's change tracker: an open-addressing table of what the last
 * refresh held, keyed by two 64-bit words, to find what appeared, changed or went. */
#include "config.h"

#include "tui/writers/etab.h"
#include "model/hash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int etab_reset(struct etab *t, size_t n)
{
	size_t cap = 64;

	while (cap < n * 2)
		cap <<= 1;
	if (cap > t->cap) {
		char *p = realloc(t->ents, cap * t->esize);
		if (!p)
			return -ENOMEM;
		t->ents = p;
		t->cap = cap;
	}
	memset(t->ents, 0, t->cap * t->esize);
	t->names_len = 0;
	return 0;
}

/* Keep a copy of a name in the table: its offset, 0 ("") for none, or -1 on ENOMEM. */
int64_t etab_add_name(struct etab *t, const char *name)
{
	size_t len = strlen(name), start = t->names_len ? t->names_len : 1;

	if (!len)
		return 0;
	if (start + len + 1 > t->names_cap) {
		size_t cap = t->names_cap ? t->names_cap : 4096;
		while (cap < start + len + 1)
			cap *= 2;
		char *p = realloc(t->names, cap);
		if (!p)
			return -1;
		t->names = p;
		t->names_cap = cap;
	}
	t->names[0] = '\0';
	memcpy(t->names + start, name, len + 1);
	t->names_len = start + len + 1;
	return (int64_t)start;
}

const char *etab_name(const struct etab *t, uint32_t off)
{
	return t->names && off < t->names_len ? t->names + off : "";
}

struct ent_hdr *etab_at(const struct etab *t, size_t i)
{
	return (struct ent_hdr *)(t->ents + i * t->esize);
}

/* The entry for (a, b), or the empty slot where it goes. */
struct ent_hdr *etab_slot(const struct etab *t, uint64_t a, uint64_t b)
{
	size_t mask = t->cap - 1, i = mix64(a ^ mix64(b)) & mask;

	for (;;) {
		struct ent_hdr *e = etab_at(t, i);
		if (!e->id || (e->a == a && e->b == b))
			return e;
		i = (i + 1) & mask;
	}
}

struct ent_hdr *etab_find(const struct etab *t, uint64_t a, uint64_t b)
{
	if (!t->cap)
		return NULL;
	struct ent_hdr *e = etab_slot(t, a, b);
	return e->id ? e : NULL;
}

/* Undo the matching marks of a refresh that was rolled back. */
void etab_unmark(struct etab *t)
{
	for (size_t i = 0; i < t->cap; i++) {
		struct ent_hdr *e = etab_at(t, i);
		if (e->id < 0)
			e->id = -e->id;
	}
}


void etab_free(struct etab *t)
{
	free(t->ents);
	free(t->names);
	t->ents = t->names = NULL;
	t->cap = t->names_len = t->names_cap = 0;
}
