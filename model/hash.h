/* The one integer mix the open-addressing tables use (snapshot, history, recording):
 * the murmur3 finalizer, so neighbouring inodes and cookies spread over the table. */
#ifndef LEAKTOP_HASH_H
#define LEAKTOP_HASH_H

#include <stdint.h>

static inline uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

#endif
