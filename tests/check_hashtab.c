/* The shared hash table and growable array: what the socket joins, the history's
 * ages and the fd map rely on (every key found again, growth, deletion, overflow). */
#include "config.h"

#include "model/hashtab.h"
#include "model/vec.h"
#include "tests/testkit.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

struct rec {
	uint32_t idx;
	float first;
	uint8_t state;
};

/* Keys like socket inodes: neighbours, plus 0 and the top of the range. */
static uint64_t key_of(uint32_t i)
{
	return i == 0 ? 0 : i == 1 ? UINT64_MAX : 300000 + i;
}

START_TEST(put_get_grows_and_keeps_every_value)
{
	struct hashtab t;
	bool found;

	hashtab_init(&t, sizeof(struct rec));
	ck_assert_ptr_null(hashtab_get(&t, 5));
	for (uint32_t i = 0; i < 30000; i++) {
		struct rec *r = hashtab_put(&t, key_of(i), &found);
		ck_assert_ptr_nonnull(r);
		ck_assert(!found);
		ck_assert_uint_eq(r->idx, 0); /* a new value starts zeroed */
		r->idx = i, r->first = (float)i / 2, r->state = (uint8_t)i;
	}
	ck_assert_uint_eq(t.used, 30000);
	ck_assert_uint_ge(t.cap - t.cap / 4, 30000);
	for (uint32_t i = 0; i < 30000; i++) {
		const struct rec *r = hashtab_get(&t, key_of(i));
		ck_assert_ptr_nonnull(r);
		ck_assert_uint_eq(r->idx, i);
		ck_assert_uint_eq(r->state, (uint8_t)i);
		ck_assert(hashtab_put(&t, key_of(i), &found) == r && found);
	}
	ck_assert_ptr_null(hashtab_get(&t, 999999));
	ck_assert_uint_eq(t.used, 30000);
	hashtab_free(&t);
	hashtab_free(&t); /* freeing twice, or never used, is fine */
}
END_TEST

START_TEST(reset_empties_and_keeps_storage)
{
	struct hashtab t;
	bool found;

	hashtab_init(&t, sizeof(int32_t));
	ck_assert_int_eq(hashtab_reset(&t, 1000), 0);
	size_t cap = t.cap;
	ck_assert_uint_ge(cap - cap / 4, 1000);
	for (uint32_t i = 0; i < 1000; i++)
		*(int32_t *)hashtab_put(&t, key_of(i), &found) = (int32_t)i;
	ck_assert_uint_eq(t.cap, cap); /* sized up front: no growth */
	ck_assert_int_eq(hashtab_reset(&t, 10), 0);
	ck_assert_uint_eq(t.cap, cap);
	ck_assert_uint_eq(t.used, 0);
	for (uint32_t i = 0; i < 1000; i++)
		ck_assert_ptr_null(hashtab_get(&t, key_of(i)));
	hashtab_free(&t);
}
END_TEST

START_TEST(delete_keeps_the_others_reachable)
{
	struct hashtab t;
	bool found;
	enum { N = 5000 };

	/* A small table so the probe runs are long and wrap around the end. */
	hashtab_init(&t, sizeof(uint32_t));
	for (uint32_t i = 0; i < N; i++)
		*(uint32_t *)hashtab_put(&t, key_of(i), &found) = i;
	for (uint32_t i = 0; i < N; i += 3)
		ck_assert(hashtab_del(&t, key_of(i)));
	ck_assert(!hashtab_del(&t, key_of(0)));
	ck_assert(!hashtab_del(&t, 424242424242ULL));
	for (uint32_t i = 0; i < N; i++) {
		const uint32_t *v = hashtab_get(&t, key_of(i));
		if (i % 3 == 0) {
			ck_assert_ptr_null(v);
		} else {
			ck_assert_ptr_nonnull(v);
			ck_assert_uint_eq(*v, i);
		}
	}
	ck_assert_uint_eq(t.used, N - (N + 2) / 3);
	/* Delete everything: all slots empty again, and the table takes new keys. */
	for (uint32_t i = 0; i < N; i++)
		hashtab_del(&t, key_of(i));
	ck_assert_uint_eq(t.used, 0);
	for (size_t i = 0; i < t.cap; i++)
		ck_assert_uint_eq(hashtab_key_at(&t, i), 0);
	*(uint32_t *)hashtab_put(&t, 7, &found) = 7;
	ck_assert_uint_eq(*(uint32_t *)hashtab_get(&t, 7), 7);
	hashtab_free(&t);
}
END_TEST

static bool keep_odd(const void *value, void *ctx)
{
	(void)ctx;
	return *(const uint32_t *)value % 2;
}

/* The history keeps one table of socket ages and sweeps out the sockets an update did
 * not see: every kept key stays reachable, whatever runs the sweep broke. */
START_TEST(sweep_drops_what_keep_refuses)
{
	struct hashtab t;
	bool found;
	enum { N = 20000 };

	hashtab_init(&t, sizeof(uint32_t));
	ck_assert_uint_eq(hashtab_sweep(&t, keep_odd, NULL), 0);
	/* Dense keys, so the runs are long and some wrap around the end. */
	for (uint32_t i = 0; i < N; i++)
		*(uint32_t *)hashtab_put(&t, key_of(i), &found) = i;
	ck_assert_uint_eq(hashtab_sweep(&t, keep_odd, NULL), N / 2);
	ck_assert_uint_eq(t.used, N / 2);
	for (uint32_t i = 0; i < N; i++) {
		const uint32_t *v = hashtab_get(&t, key_of(i));
		if (i % 2 == 0) {
			ck_assert_ptr_null(v);
		} else {
			ck_assert_ptr_nonnull(v);
			ck_assert_uint_eq(*v, i);
		}
	}
	size_t n = 0;
	for (size_t i = 0; i < t.cap; i++)
		n += hashtab_key_at(&t, i) != 0;
	ck_assert_uint_eq(n, N / 2); /* key 0 (i == 0) is even: gone too */
	hashtab_free(&t);
}
END_TEST

/* Slots are as small as the value allows: int32 values take 12 bytes, not 16, and a
 * value of 8-byte alignment stays aligned. */
START_TEST(slots_are_packed_and_aligned)
{
	struct hashtab a, b, c;
	bool found;

	hashtab_init(&a, sizeof(int32_t));
	hashtab_init(&b, sizeof(struct rec));
	hashtab_init(&c, sizeof(uint64_t));
	ck_assert_uint_eq(a.stride, 12);
	ck_assert_uint_eq(b.stride, 20);
	ck_assert_uint_eq(c.stride, 16);
	for (uint64_t i = 1; i < 100; i++) {
		uint64_t *v = hashtab_put(&c, i * 7919, &found);
		ck_assert_uint_eq((uintptr_t)v % _Alignof(uint64_t), 0);
		struct rec *r = hashtab_put(&b, i, &found);
		ck_assert_uint_eq((uintptr_t)r % _Alignof(struct rec), 0);
	}
	/* Reserving keeps the keys. */
	ck_assert_int_eq(hashtab_reserve(&c, 5000), 0);
	ck_assert_uint_ge(c.cap, 5000 * 4 / 3);
	for (uint64_t i = 1; i < 100; i++)
		ck_assert_ptr_nonnull(hashtab_get(&c, i * 7919));
	hashtab_free(&a);
	hashtab_free(&b);
	hashtab_free(&c);
}
END_TEST

START_TEST(size_overflow_is_refused)
{
	struct hashtab t;

	ck_assert_uint_eq(hashtab_cap_for(SIZE_MAX / 2, 16), 0);
	ck_assert_uint_eq(hashtab_cap_for(SIZE_MAX / 16, 16), 0); /* slots fit, bytes do not */
	ck_assert_uint_eq(hashtab_cap_for(12, 16), 64);
	hashtab_init(&t, 8);
	/* A table for a million sockets takes 4/3 of a million slots (the dashboard
	 * holds three such), not the 2^21 of a power of two: 18 MB, not 25. */
	size_t cap = hashtab_cap_for(1000000, 12);
	ck_assert_uint_ge(cap - cap / 4, 1000001);
	ck_assert_uint_le(cap, 1333440);
	ck_assert_uint_eq(cap % 64, 0);
	/* Outgrowing it takes half as much again, not twice. */
	ck_assert_int_eq(hashtab_reset(&t, 1000), 0);
	cap = t.cap;
	bool found;
	for (uint64_t k = 1; k <= cap - cap / 4 + 1; k++)
		ck_assert_ptr_nonnull(hashtab_put(&t, k, &found));
	ck_assert_uint_gt(t.cap, cap);
	ck_assert_uint_le(t.cap, cap + cap / 2 + 64);
	for (uint64_t k = 1; k <= cap - cap / 4 + 1; k++)
		ck_assert_ptr_nonnull(hashtab_get(&t, k));
	/* A count that creeps up (a slow leak: a few more sockets each refresh) does
	 * not reallocate, or move, the table each time. */
	ck_assert_int_eq(hashtab_reset(&t, 100000), 0);
	const unsigned char *slots = t.slots;
	cap = t.cap;
	for (size_t n = 100000; n < 110000; n += 100) {
		ck_assert_int_eq(hashtab_reset(&t, n), 0);
		ck_assert_int_eq(hashtab_reserve(&t, n), 0);
	}
	ck_assert_ptr_eq(t.slots, slots);
	ck_assert_uint_eq(t.cap, cap);
	hashtab_free(&t);
	hashtab_init(&t, 8);
	ck_assert_int_eq(hashtab_reset(&t, SIZE_MAX / 4), -ENOMEM);
	ck_assert_uint_eq(t.cap, 0);
	hashtab_free(&t);
}
END_TEST

START_TEST(vec_push_doubles_and_keeps_contents)
{
	uint64_t *v = NULL;
	size_t n = 0, cap = 0, reallocs = 0, last_cap = 0;

	for (uint64_t i = 0; i < 30000; i++) {
		uint64_t *e = VEC_PUSH(v, n, cap);
		ck_assert_ptr_nonnull(e);
		ck_assert_uint_eq(*e, 0);
		*e = i * 3;
		if (cap != last_cap)
			reallocs++, last_cap = cap;
	}
	ck_assert_uint_eq(n, 30000);
	ck_assert_uint_le(reallocs, 12); /* doubling from 16: log2(30000/16) + 1 */
	for (uint64_t i = 0; i < n; i++)
		ck_assert_uint_eq(v[i], i * 3);
	free(v);
}
END_TEST

START_TEST(vec_size_overflow_is_refused)
{
	struct big {
		char b[4096];
	} *v = NULL;
	size_t cap = 0, n = 0;

	ck_assert_int_eq(VEC_RESERVE(v, cap, SIZE_MAX / 1024), -ENOMEM);
	ck_assert_ptr_null(v);
	ck_assert_uint_eq(cap, 0);
	ck_assert_int_eq(VEC_RESERVE(v, cap, 3), 0);
	ck_assert_uint_eq(cap, VEC_MIN);
	/* A count at the top: no wrap to a tiny allocation. */
	n = SIZE_MAX;
	ck_assert_ptr_null(VEC_PUSH(v, n, cap));
	n = SIZE_MAX / 4096 + 1;
	ck_assert_ptr_null(VEC_PUSH(v, n, cap));
	ck_assert_uint_eq(cap, VEC_MIN);
	free(v);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "hashtab",
		 .tests = TESTKIT_TESTS(
			put_get_grows_and_keeps_every_value,
			reset_empties_and_keeps_storage,
			delete_keeps_the_others_reachable,
			sweep_drops_what_keep_refuses,
			slots_are_packed_and_aligned,
			size_overflow_is_refused)},
		{.name = "vec",
		 .tests = TESTKIT_TESTS(
			vec_push_doubles_and_keeps_contents,
			vec_size_overflow_is_refused)},
	};

	return TESTKIT_RUN("hashtab", cases);
}
