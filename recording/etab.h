/* The recording writer's change tracker: what the last refresh held, keyed by two
 * 64-bit words, each entry an ent_hdr followed by what the writer keeps. */
#ifndef LEAKTOP_ETAB_H
#define LEAKTOP_ETAB_H

#include <stddef.h>
#include <stdint.h>

#include "model/hashtab.h"

/* Every entry starts with this header; id 0 marks an entry not filled in, a negative
 * id an entry matched this refresh. */
struct ent_hdr {
	uint64_t a, b;
	int64_t id;
};

/* The entries in one array (in the order they were added), found through the one
 * hash table by a hash of (a, b). */
struct etab {
	struct hashtab idx;  /* hash of (a, b) -> entry index (uint32_t) */
	char *ents;
	size_t esize, n, cap;
	char *names;         /* the sockets' UNIX names, kept to compare with the next refresh */
	size_t names_len, names_cap;
};

/* An empty table of entries of esize bytes. */
void etab_init(struct etab *t, size_t esize);
/* Empty the table, with room for n entries. Returns 0 or -ENOMEM. */
int etab_reset(struct etab *t, size_t n);
/* Keep a copy of a name in the table: its offset, 0 ("") for none, or -1 on ENOMEM. */
int64_t etab_add_name(struct etab *t, const char *name);
const char *etab_name(const struct etab *t, uint32_t off);
/* Keep a copy of len bytes (an IPv6 socket's addresses) beside the names: their
 * offset (never 0), or -1 on ENOMEM. Read back with etab_bytes. */
int64_t etab_add_bytes(struct etab *t, const void *bytes, size_t len);
/* The len bytes at off, or NULL when off is not such a copy. */
const void *etab_bytes(const struct etab *t, uint32_t off, size_t len);
/* Entry i of the table's n. */
struct ent_hdr *etab_at(const struct etab *t, size_t i);
/* The entry for (a, b): the one there is, or a new one (zeroed but for a and b, id 0).
 * NULL when out of memory. */
struct ent_hdr *etab_slot(struct etab *t, uint64_t a, uint64_t b);
/* The filled-in entry for (a, b), or NULL. */
struct ent_hdr *etab_find(const struct etab *t, uint64_t a, uint64_t b);
/* Undo the matching marks (negative ids) of a refresh that was rolled back. */
void etab_unmark(struct etab *t);
void etab_free(struct etab *t);

#endif
