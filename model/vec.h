/* The one growable array: a typed pointer with its length and capacity, grown by
 * doubling, every size computation checked for overflow. Works on the caller's own
 * fields (s->socks, s->nsocks, s->socks_cap), so no struct layout changes. */
#ifndef LEAKTOP_VEC_H
#define LEAKTOP_VEC_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Resize the array at *(void **)arrp to exactly ncap elements of size bytes (a copy
 * that will not grow: snapshot_copy). Returns 0, or -ENOMEM (also when the size
 * overflows) with the array unchanged. */
static inline int vec_resize(void *arrp, size_t *cap, size_t ncap, size_t size)
{
	void *old, *p;

	if (size && ncap > SIZE_MAX / size)
		return -ENOMEM;
	memcpy(&old, arrp, sizeof(old)); /* arrp is a T **: no aliasing through void ** */
	if (!(p = realloc(old, ncap && size ? ncap * size : 1)))
		return -ENOMEM;
	memcpy(arrp, &p, sizeof(p));
	*cap = ncap;
	return 0;
}

/* Make room for need elements: at least double the old capacity (min elements the
 * first time). Returns 0, or -ENOMEM with the array unchanged. */
static inline int vec_reserve_min(void *arrp, size_t *cap, size_t need, size_t size, size_t min)
{
	size_t ncap;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : min;
	while (ncap < need)
		ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
	if (size && ncap > SIZE_MAX / size)
		ncap = need; /* the doubling overflows; need alone may not */
	return vec_resize(arrp, cap, ncap, size);
}

#define VEC_MIN 16

/* VEC_RESERVE(arr, cap, need): room for need elements in arr; 0 or -ENOMEM. */
#define VEC_RESERVE(arr, cap, need) vec_reserve_min(&(arr), &(cap), (need), sizeof(*(arr)), VEC_MIN)

/* VEC_PUSH(arr, n, cap): a pointer to a new, zeroed last element (n grows by one), or
 * NULL when out of memory. arr, n and cap are evaluated more than once. */
#define VEC_PUSH(arr, n, cap)                                                               \
	((n) < SIZE_MAX && !VEC_RESERVE(arr, cap, (n) + 1)                                  \
		 ? memset(&(arr)[(n)++], 0, sizeof(*(arr)))                                  \
		 : NULL)

/* A typed array in a struct of its own: VEC_OF(struct pst) st_old, st_new; */
#define VEC_OF(type) struct { type *v; size_t n, cap; }

#endif
