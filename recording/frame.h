/* Frames: the rows one refresh (or one event) of a format 3 recording wrote, in the
 * order written, as one blob with a CRC. They are what a reader replays: appended to
 * one table whose first pages are laid down when the file is made, a frame never
 * moves once written, so a file cut or copied anywhere holds its earlier frames
 * whole, and a frame cut or torn fails its CRC. The rows are recording/schema's, column
 * by column, each against the same column of the frame's previous row of its table
 * (rows of a refresh are much alike): an integer as a zigzag varint of the
 * difference, a real as 8 bytes, text and blobs as 0 when the same as that one, else
 * their length + 1 and their bytes; a nullable column's value one more, 0 for NULL.
 * Pure: bytes in, bytes out. */
#ifndef LEAKTOP_FRAME_H
#define LEAKTOP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recording/schema.h"

/* A column's value, as read from a frame or bound by the writer. */
enum frame_type { FV_NULL, FV_INT, FV_REAL, FV_TEXT, FV_BLOB };
struct frame_value {
	enum frame_type type;
	int64_t i;
	double d;
	const void *p; /* text or blob bytes (not NUL-terminated), n of them */
	size_t n;
};

/* The most columns a table has (port_change). */
#define FRAME_MAX_COLS PORTCH_NCOLS

/* A frame being written; on allocation failure it stays failed and empty. */
/* The previous row of each table in the frame: what a row is written against. Its
 * text and blobs are where the frame holds their bytes (an offset in it). */
struct frame_prev {
	int64_t i[TB_COUNT][FRAME_MAX_COLS];
	size_t off[TB_COUNT][FRAME_MAX_COLS], n[TB_COUNT][FRAME_MAX_COLS];
	bool text[TB_COUNT][FRAME_MAX_COLS];
};

struct frame_buf {
	uint8_t *b;
	size_t len, cap;
	unsigned rows;
	bool failed;
	struct frame_prev prev;
};

void frame_begin(struct frame_buf *f);
/* Whether table t's rows go into frames (every table a refresh or an event writes). */
bool frame_has_table(enum schema_table t);
/* Append a row of table t: vals[c] for each column the format written has
 * (schema_has_col(t, c, SCHEMA_V_NOW)). Returns 0, -EINVAL (a value of the wrong
 * type: a bug) or -ENOMEM. */
int frame_add_row(struct frame_buf *f, enum schema_table t, const struct frame_value *vals);
/* Close the frame (its CRC); f->b, f->len are the blob. Returns 0 or -ENOMEM. */
int frame_end(struct frame_buf *f);
void frame_free(struct frame_buf *f);

/* Reading a frame from a file: nothing in it is trusted. */
struct frame_reader {
	const uint8_t *start, *p, *end;
	unsigned ver; /* the file's format (SCHEMA_V): which columns a row has */
	struct frame_prev prev;
};
/* Check the blob's header and CRC; ver is the file's format. Returns 0 or -EILSEQ. */
int frame_open(struct frame_reader *r, const void *data, size_t len, unsigned ver);
/* The next row: its table and values (vals[FRAME_MAX_COLS]; text and blobs point
 * into the blob; columns the format has not are FV_NULL). Returns 1 for a row, 0
 * at the end, -EILSEQ for bytes no writer makes. */
int frame_next(struct frame_reader *r, enum schema_table *t, struct frame_value *vals);

/* CRC-32 (IEEE) of n bytes, continued from crc (0 to start). */
uint32_t frame_crc32(uint32_t crc, const void *data, size_t n);

#endif
