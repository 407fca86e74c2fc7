/* Frames (model/frame.h): the rows of one refresh or event as one checked blob,
 * encoded and decoded column by column from model/schema. */
#include "config.h"

#include "model/frame.h"
#include "model/vec.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* "LF" and the frame format, before the rows; the CRC of all before it after them. */
static const uint8_t frame_magic[3] = {'L', 'F', 1};
#define CRC_LEN 4

/* The tables a refresh or an event writes: their rows go into frames. */
static const bool in_frames[TB_COUNT] = {
	[TB_REFRESH] = true, [TB_SOCK] = true, [TB_SOCK_CHANGE] = true, [TB_SOCK_GONE] = true, [TB_PROC] = true,
	[TB_PROC_CHANGE] = true, [TB_PROC_GONE] = true, [TB_FD] = true, [TB_FD_GONE] = true, [TB_FD_STALE] = true,
	[TB_NETNS] = true, [TB_NETNS_GONE] = true, [TB_EVENT] = true, [TB_PORT] = true, [TB_PORT_CHANGE] = true,
	[TB_PORT_GONE] = true, [TB_EVENT_DUMP] = true,
};

bool frame_has_table(enum schema_table t)
{
	return (unsigned)t < TB_COUNT && in_frames[t];
}

/* CRC-32 (IEEE 802.3, reflected), four bits at a time. */
uint32_t frame_crc32(uint32_t crc, const void *data, size_t n)
{
	static const uint32_t nibble[16] = {
		0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
		0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
	};
	const uint8_t *b = data;

	crc = ~crc;
	for (size_t i = 0; i < n; i++) {
		crc ^= b[i];
		crc = (crc >> 4) ^ nibble[crc & 15];
		crc = (crc >> 4) ^ nibble[crc & 15];
	}
	return ~crc;
}

static void put(struct frame_buf *f, const void *data, size_t n)
{
	if (f->failed)
		return;
	if (vec_reserve_min(&f->b, &f->cap, f->len + n, 1, 4096)) {
		f->failed = true;
		return;
	}
	memcpy(f->b + f->len, data, n);
	f->len += n;
}

static void put_varint(struct frame_buf *f, uint64_t v)
{
	uint8_t b[10];
	size_t n = 0;

	do {
		b[n] = (uint8_t)(v & 0x7f) | (v > 0x7f ? 0x80 : 0);
		n++;
		v >>= 7;
	} while (v);
	put(f, b, n);
}

static uint64_t zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void frame_begin(struct frame_buf *f)
{
	f->len = 0;
	f->rows = 0;
	f->failed = false;
	memset(&f->prev, 0, sizeof(f->prev));
	put(f, frame_magic, sizeof(frame_magic));
}

/* An integer against the previous one of its column (wrapping: cookies use all
 * 64 bits). */
static uint64_t delta(int64_t v, int64_t prev)
{
	return zigzag((int64_t)((uint64_t)v - (uint64_t)prev));
}

static int64_t undelta(uint64_t z, int64_t prev)
{
	int64_t d = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
	return (int64_t)((uint64_t)prev + (uint64_t)d);
}

int frame_add_row(struct frame_buf *f, enum schema_table t, const struct frame_value *vals)
{
	const struct schema_tab *tab = &schema_tables[t];
	uint8_t id = (uint8_t)t;

	if (!frame_has_table(t))
		return -EINVAL;
	put(f, &id, 1);
	for (unsigned c = 0; c < tab->ncols; c++) {
		const struct frame_value *v = &vals[c];
		bool nullable = schema_col_nullable(t, c);
		if (!schema_has_col(t, c, SCHEMA_V_NOW))
			continue;
		if (v->type == FV_NULL && !nullable)
			return -EINVAL;
		int64_t *prev = &f->prev.i[t][c];
		switch (schema_col_vt(t, c)) {
		case VT_INT:
			if (v->type != FV_INT && v->type != FV_NULL)
				return -EINVAL;
			/* Nullable integer columns hold no negative value (model/schema), so
			 * their difference + 1 cannot wrap to NULL's 0. */
			if (nullable && v->type == FV_INT && v->i < 0)
				return -EINVAL;
			if (v->type == FV_NULL)
				put_varint(f, 0);
			else
				put_varint(f, delta(v->i, *prev) + nullable);
			if (v->type == FV_INT)
				*prev = v->i;
			break;
		case VT_REAL: {
			uint8_t b[8];
			uint64_t bits;
			if (v->type != FV_REAL)
				return -EINVAL;
			memcpy(&bits, &v->d, sizeof(bits));
			for (int i = 0; i < 8; i++)
				b[i] = (uint8_t)(bits >> (8 * i));
			put(f, b, 8);
			break;
		}
		case VT_TEXT:
		case VT_BLOB: {
			size_t *off = &f->prev.off[t][c], *n = &f->prev.n[t][c];
			if (v->type != FV_TEXT && v->type != FV_BLOB && v->type != FV_NULL)
				return -EINVAL;
			if (v->type == FV_NULL) {
				put_varint(f, 0);
				break;
			}
			/* The same bytes as the previous row's: one byte. */
			if (f->prev.text[t][c] && *n == v->n && !f->failed && !memcmp(f->b + *off, v->p, v->n)) {
				put_varint(f, nullable);
				break;
			}
			put_varint(f, (uint64_t)v->n + 1 + nullable);
			*off = f->len;
			*n = v->n;
			f->prev.text[t][c] = true;
			put(f, v->p, v->n);
			break;
		}
		}
	}
	f->rows++;
	return f->failed ? -ENOMEM : 0;
}

int frame_end(struct frame_buf *f)
{
	uint32_t crc = frame_crc32(0, f->b, f->len);
	uint8_t b[CRC_LEN] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};

	if (!f->failed)
		put(f, b, sizeof(b));
	return f->failed ? -ENOMEM : 0;
}

void frame_free(struct frame_buf *f)
{
	free(f->b);
	memset(f, 0, sizeof(*f));
}

int frame_open(struct frame_reader *r, const void *data, size_t len, unsigned ver)
{
	const uint8_t *b = data;

	r->p = r->end = NULL;
	r->ver = ver;
	if (!b || len < sizeof(frame_magic) + CRC_LEN || memcmp(b, frame_magic, sizeof(frame_magic)))
		return -EILSEQ;
	len -= CRC_LEN;
	uint32_t want = (uint32_t)b[len] | (uint32_t)b[len + 1] << 8 | (uint32_t)b[len + 2] << 16 | (uint32_t)b[len + 3] << 24;
	if (frame_crc32(0, b, len) != want)
		return -EILSEQ;
	r->start = b;
	r->p = b + sizeof(frame_magic);
	r->end = b + len;
	memset(&r->prev, 0, sizeof(r->prev));
	return 0;
}

static bool get_varint(struct frame_reader *r, uint64_t *v)
{
	*v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return false;
		uint8_t b = *r->p++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return shift < 63 || b <= 1;
	}
	return false;
}

int frame_next(struct frame_reader *r, enum schema_table *t, struct frame_value *vals)
{
	if (r->p >= r->end)
		return 0;
	unsigned id = *r->p++;
	if (id >= TB_COUNT || !frame_has_table((enum schema_table)id) || !schema_has_table((enum schema_table)id, r->ver))
		return -EILSEQ;
	*t = (enum schema_table)id;
	const struct schema_tab *tab = &schema_tables[id];
	for (unsigned c = 0; c < tab->ncols; c++) {
		struct frame_value *v = &vals[c];
		bool nullable = schema_col_nullable(*t, c);
		uint64_t u;
		memset(v, 0, sizeof(*v));
		if (!schema_has_col(*t, c, r->ver))
			continue;
		int64_t *prev = &r->prev.i[*t][c];
		switch (schema_col_vt(*t, c)) {
		case VT_INT:
			if (!get_varint(r, &u))
				return -EILSEQ;
			if (nullable && !u)
				break;
			v->type = FV_INT;
			v->i = *prev = undelta(u - nullable, *prev);
			break;
		case VT_REAL: {
			uint64_t bits = 0;
			if (r->end - r->p < 8)
				return -EILSEQ;
			for (int i = 0; i < 8; i++)
				bits |= (uint64_t)r->p[i] << (8 * i);
			r->p += 8;
			v->type = FV_REAL;
			memcpy(&v->d, &bits, sizeof(v->d));
			break;
		}
		case VT_TEXT:
		case VT_BLOB: {
			size_t *off = &r->prev.off[*t][c], *n = &r->prev.n[*t][c];
			if (!get_varint(r, &u))
				return -EILSEQ;
			if (nullable && !u)
				break;
			u -= nullable;
			v->type = schema_col_vt(*t, c) == VT_TEXT ? FV_TEXT : FV_BLOB;
			if (!u) {
				/* The previous row's bytes. */
				if (!r->prev.text[*t][c])
					return -EILSEQ;
			} else {
				u--;
				if (u > (uint64_t)(r->end - r->p))
					return -EILSEQ;
				*off = (size_t)(r->p - r->start);
				*n = (size_t)u;
				r->prev.text[*t][c] = true;
				r->p += u;
			}
			v->p = r->start + *off;
			v->n = *n;
			break;
		}
		}
	}
	return 1;
}
