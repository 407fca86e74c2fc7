/* The recording writer's change tracker: an open-addressing table keyed by two
 * 64-bit words, each entry an ent_hdr followed by what the writer keeps. */
#ifndef LEAKTOP_ETAB_H
#define LEAKTOP_ETAB_H

#include <stddef.h>
#include <stdint.h>

/* An open-addressing table keyed by two 64-bit words. Every entry starts with this
 * header; id 0 marks an empty slot, a negative id an entry matched this refresh. */
struct ent_hdr {
	uint64_t a, b;
	int64_t id;
};

struct etab {
	char *ents;
	size_t esize, cap;
	char *names;       /* the sockets' UNIX names, kept to compare with the next refresh */
	size_t names_len, names_cap;
};

/* Empty the table, sized for n entries of esize bytes. Returns 0 or -ENOMEM. */
int etab_reset(struct etab *t, size_t n);
/* Keep a copy of a name in the table: its offset, 0 ("") for none, or -1 on ENOMEM. */
int64_t etab_add_name(struct etab *t, const char *name);
const char *etab_name(const struct etab *t, uint32_t off);
/* Entry i of the table's cap slots. */
struct ent_hdr *etab_at(const struct etab *t, size_t i);
/* The entry for (a, b), or the empty slot where it goes. */
struct ent_hdr *etab_slot(const struct etab *t, uint64_t a, uint64_t b);
/* The entry for (a, b), or NULL. */
struct ent_hdr *etab_find(const struct etab *t, uint64_t a, uint64_t b);
/* Undo the matching marks (negative ids) of a refresh that was rolled back. */
void etab_unmark(struct etab *t);
void etab_free(struct etab *t);

#endif
