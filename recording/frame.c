/* Frames (recording/frame.h): the rows of one refresh or event as one checked blob,
 * encoded and decoded column by column from recording/schema. */
#include "config.h"

#include "recording/frame.h"
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

/* CRC-32 (IEEE 802.3, reflected), a byte at a time. */
static const uint32_t crc_table[256] = {
	0x00000000, 0x77073096, 0xee0e612c, 0x990951ba, 0x076dc419, 0x706af48f, 0xe963a535, 0x9e6495a3,
	0x0edb8832, 0x79dcb8a4, 0xe0d5e91e, 0x97d2d988, 0x09b64c2b, 0x7eb17cbd, 0xe7b82d07, 0x90bf1d91,
	0x1db71064, 0x6ab020f2, 0xf3b97148, 0x84be41de, 0x1adad47d, 0x6ddde4eb, 0xf4d4b551, 0x83d385c7,
	0x136c9856, 0x646ba8c0, 0xfd62f97a, 0x8a65c9ec, 0x14015c4f, 0x63066cd9, 0xfa0f3d63, 0x8d080df5,
	0x3b6e20c8, 0x4c69105e, 0xd56041e4, 0xa2677172, 0x3c03e4d1, 0x4b04d447, 0xd20d85fd, 0xa50ab56b,
	0x35b5a8fa, 0x42b2986c, 0xdbbbc9d6, 0xacbcf940, 0x32d86ce3, 0x45df5c75, 0xdcd60dcf, 0xabd13d59,
	0x26d930ac, 0x51de003a, 0xc8d75180, 0xbfd06116, 0x21b4f4b5, 0x56b3c423, 0xcfba9599, 0xb8bda50f,
	0x2802b89e, 0x5f058808, 0xc60cd9b2, 0xb10be924, 0x2f6f7c87, 0x58684c11, 0xc1611dab, 0xb6662d3d,
	0x76dc4190, 0x01db7106, 0x98d220bc, 0xefd5102a, 0x71b18589, 0x06b6b51f, 0x9fbfe4a5, 0xe8b8d433,
	0x7807c9a2, 0x0f00f934, 0x9609a88e, 0xe10e9818, 0x7f6a0dbb, 0x086d3d2d, 0x91646c97, 0xe6635c01,
	0x6b6b51f4, 0x1c6c6162, 0x856530d8, 0xf262004e, 0x6c0695ed, 0x1b01a57b, 0x8208f4c1, 0xf50fc457,
	0x65b0d9c6, 0x12b7e950, 0x8bbeb8ea, 0xfcb9887c, 0x62dd1ddf, 0x15da2d49, 0x8cd37cf3, 0xfbd44c65,
	0x4db26158, 0x3ab551ce, 0xa3bc0074, 0xd4bb30e2, 0x4adfa541, 0x3dd895d7, 0xa4d1c46d, 0xd3d6f4fb,
	0x4369e96a, 0x346ed9fc, 0xad678846, 0xda60b8d0, 0x44042d73, 0x33031de5, 0xaa0a4c5f, 0xdd0d7cc9,
	0x5005713c, 0x270241aa, 0xbe0b1010, 0xc90c2086, 0x5768b525, 0x206f85b3, 0xb966d409, 0xce61e49f,
	0x5edef90e, 0x29d9c998, 0xb0d09822, 0xc7d7a8b4, 0x59b33d17, 0x2eb40d81, 0xb7bd5c3b, 0xc0ba6cad,
	0xedb88320, 0x9abfb3b6, 0x03b6e20c, 0x74b1d29a, 0xead54739, 0x9dd277af, 0x04db2615, 0x73dc1683,
	0xe3630b12, 0x94643b84, 0x0d6d6a3e, 0x7a6a5aa8, 0xe40ecf0b, 0x9309ff9d, 0x0a00ae27, 0x7d079eb1,
	0xf00f9344, 0x8708a3d2, 0x1e01f268, 0x6906c2fe, 0xf762575d, 0x806567cb, 0x196c3671, 0x6e6b06e7,
	0xfed41b76, 0x89d32be0, 0x10da7a5a, 0x67dd4acc, 0xf9b9df6f, 0x8ebeeff9, 0x17b7be43, 0x60b08ed5,
	0xd6d6a3e8, 0xa1d1937e, 0x38d8c2c4, 0x4fdff252, 0xd1bb67f1, 0xa6bc5767, 0x3fb506dd, 0x48b2364b,
	0xd80d2bda, 0xaf0a1b4c, 0x36034af6, 0x41047a60, 0xdf60efc3, 0xa867df55, 0x316e8eef, 0x4669be79,
	0xcb61b38c, 0xbc66831a, 0x256fd2a0, 0x5268e236, 0xcc0c7795, 0xbb0b4703, 0x220216b9, 0x5505262f,
	0xc5ba3bbe, 0xb2bd0b28, 0x2bb45a92, 0x5cb36a04, 0xc2d7ffa7, 0xb5d0cf31, 0x2cd99e8b, 0x5bdeae1d,
	0x9b64c2b0, 0xec63f226, 0x756aa39c, 0x026d930a, 0x9c0906a9, 0xeb0e363f, 0x72076785, 0x05005713,
	0x95bf4a82, 0xe2b87a14, 0x7bb12bae, 0x0cb61b38, 0x92d28e9b, 0xe5d5be0d, 0x7cdcefb7, 0x0bdbdf21,
	0x86d3d2d4, 0xf1d4e242, 0x68ddb3f8, 0x1fda836e, 0x81be16cd, 0xf6b9265b, 0x6fb077e1, 0x18b74777,
	0x88085ae6, 0xff0f6a70, 0x66063bca, 0x11010b5c, 0x8f659eff, 0xf862ae69, 0x616bffd3, 0x166ccf45,
	0xa00ae278, 0xd70dd2ee, 0x4e048354, 0x3903b3c2, 0xa7672661, 0xd06016f7, 0x4969474d, 0x3e6e77db,
	0xaed16a4a, 0xd9d65adc, 0x40df0b66, 0x37d83bf0, 0xa9bcae53, 0xdebb9ec5, 0x47b2cf7f, 0x30b5ffe9,
	0xbdbdf21c, 0xcabac28a, 0x53b39330, 0x24b4a3a6, 0xbad03605, 0xcdd70693, 0x54de5729, 0x23d967bf,
	0xb3667a2e, 0xc4614ab8, 0x5d681b02, 0x2a6f2b94, 0xb40bbe37, 0xc30c8ea1, 0x5a05df1b, 0x2d02ef8d,
};

uint32_t frame_crc32(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *b = data;

	crc = ~crc;
	for (size_t i = 0; i < n; i++)
		crc = (crc >> 8) ^ crc_table[(crc ^ b[i]) & 0xff];
	return ~crc;
}

/* What frame_next asks of every column: its type, whether it allows NULL, which
 * format added it. From recording/schema, once. */
struct col_info {
	uint8_t vt;
	bool nullable;
};
static struct col_info col_info[TB_COUNT][FRAME_MAX_COLS];
static int col_info_ready;

static const struct col_info *info_of(enum schema_table t)
{
	if (!__atomic_load_n(&col_info_ready, __ATOMIC_ACQUIRE)) {
		/* Two threads at once write the same values: harmless. */
		for (unsigned i = 0; i < TB_COUNT; i++)
			for (unsigned c = 0; c < schema_tables[i].ncols && c < FRAME_MAX_COLS; c++)
				col_info[i][c] = (struct col_info){(uint8_t)schema_col_vt((enum schema_table)i, c),
								   schema_col_nullable((enum schema_table)i, c)};
		__atomic_store_n(&col_info_ready, 1, __ATOMIC_RELEASE);
	}
	return col_info[t];
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
			/* Nullable integer columns hold no negative value (recording/schema), so
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
	const struct col_info *info = info_of(*t);
	for (unsigned c = 0; c < tab->ncols; c++) {
		struct frame_value *v = &vals[c];
		bool nullable = info[c].nullable;
		uint64_t u;
		memset(v, 0, sizeof(*v));
		if (tab->cols[c].since > r->ver || (tab->cols[c].until && r->ver >= tab->cols[c].until))
			continue;
		int64_t *prev = &r->prev.i[*t][c];
		switch ((enum schema_vt)info[c].vt) {
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
			v->type = info[c].vt == VT_TEXT ? FV_TEXT : FV_BLOB;
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
