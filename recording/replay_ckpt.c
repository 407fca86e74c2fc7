/* Checkpoints of a format 3 replay: copies of the rows alive at some refreshes, made
 * while a seek reads a long way, so the next seek reads on from the nearest one
 * before its target instead of from the start of the file. A forward replay (batch
 * mode, the report) makes none. Their memory is bounded: past the budget every
 * other one goes and they are made half as often. */
#include "config.h"

#include "recording/replay_int.h"
#include "model/vec.h"

#include <stdlib.h>
#include <string.h>

/* Refreshes read between two checkpoints at first, and the memory they may take. */
#define CKPT_EVERY 256
#define CKPT_BUDGET (64u << 20)

struct replay_ckpt {
	long index;
	struct rvec v[RK_COUNT];
	int64_t cursor;
	size_t bytes;
};

static void vec_free(struct rvec *v, bool socks)
{
	for (size_t i = 0; socks && i < v->n; i++)
		free(((struct r_sock *)(v->v + i * v->esize))->name);
	free(v->v);
	v->v = NULL;
	v->n = v->cap = v->gone = 0;
}

static void ckpt_free(struct replay_ckpt *c)
{
	for (int k = 0; k < RK_COUNT; k++)
		vec_free(&c->v[k], k == RK_SOCK);
	memset(c, 0, sizeof(*c));
}

void replay_ckpt_free(struct replay_source *r)
{
	for (size_t i = 0; i < r->nckpts; i++)
		ckpt_free(&r->ckpts[i]);
	free(r->ckpts);
	r->ckpts = NULL;
	r->nckpts = r->ckpt_cap = r->ckpt_bytes = 0;
}

/* A copy of from in to (a socket's name copied too). Returns false without memory. */
static bool copy_vec(struct rvec *to, const struct rvec *from, bool socks)
{
	*to = (struct rvec){.esize = from->esize, .n = from->n, .cap = from->n, .gone = from->gone};
	if (!from->n)
		return true;
	if (!(to->v = malloc(from->n * from->esize)))
		return false;
	memcpy(to->v, from->v, from->n * from->esize);
	for (size_t i = 0; socks && i < to->n; i++) {
		struct r_sock *s = (struct r_sock *)(to->v + i * to->esize);
		if (s->name && !(s->name = strdup(s->name))) {
			for (size_t j = 0; j < i; j++)
				free(((struct r_sock *)(to->v + j * to->esize))->name);
			free(to->v);
			to->v = NULL;
			return false;
		}
	}
	return true;
}

/* Past the budget: every other checkpoint goes (the first stays), and from now on
 * they are made half as often. */
static void thin(struct replay_source *r)
{
	size_t out = 0;

	for (size_t i = 0; i < r->nckpts; i++) {
		if (i % 2) {
			r->ckpt_bytes -= r->ckpts[i].bytes;
			ckpt_free(&r->ckpts[i]);
		} else {
			r->ckpts[out++] = r->ckpts[i];
		}
	}
	r->nckpts = out;
	r->ckpt_every *= 2;
}

long replay_ckpt_every(struct replay_source *r)
{
	if (!r->ckpt_every)
		r->ckpt_every = CKPT_EVERY;
	return r->ckpt_every;
}

void replay_ckpt_save(struct replay_source *r)
{
	struct replay_ckpt c = {.index = r->state_index};
	size_t at = r->nckpts;

	if (!r->state_valid)
		return;
	while (at > 0 && r->ckpts[at - 1].index >= c.index) {
		if (r->ckpts[at - 1].index == c.index)
			return;
		at--;
	}
	for (int k = 0; k < RK_COUNT; k++) {
		if (!copy_vec(&c.v[k], replay_vec(r, (enum recread_kind)k), k == RK_SOCK)) {
			ckpt_free(&c);
			return; /* no memory for it: seeks read from further back */
		}
		c.bytes += c.v[k].n * c.v[k].esize;
	}
	c.cursor = r->cursor;
	if (VEC_RESERVE(r->ckpts, r->ckpt_cap, r->nckpts + 1)) {
		ckpt_free(&c);
		return;
	}
	memmove(&r->ckpts[at + 1], &r->ckpts[at], (r->nckpts - at) * sizeof(*r->ckpts));
	r->ckpts[at] = c;
	r->nckpts++;
	r->ckpt_bytes += c.bytes;
	while (r->ckpt_bytes > CKPT_BUDGET && r->nckpts > 1)
		thin(r);
}

long replay_ckpt_restore(struct replay_source *r, long index, long from)
{
	size_t i = r->nckpts;

	/* The last one before index (its refresh's stale fds are not kept), if nearer
	 * than from. */
	while (i > 0 && r->ckpts[i - 1].index >= index)
		i--;
	if (!i || r->ckpts[i - 1].index <= from)
		return from;
	const struct replay_ckpt *c = &r->ckpts[i - 1];
	struct rvec copy[RK_COUNT];
	for (int k = 0; k < RK_COUNT; k++)
		if (!copy_vec(&copy[k], &c->v[k], k == RK_SOCK)) {
			for (int j = 0; j < k; j++)
				vec_free(&copy[j], j == RK_SOCK);
			return from;
		}
	for (int k = 0; k < RK_COUNT; k++) {
		struct rvec *v = replay_vec(r, (enum recread_kind)k);
		replay_vec_empty(r, (enum recread_kind)k);
		free(v->v);
		*v = copy[k];
	}
	r->cursor = c->cursor;
	r->state_index = c->index;
	r->state_valid = true;
	return c->index;
}
