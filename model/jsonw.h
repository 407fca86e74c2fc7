/* The one JSON writer (after iproute2's json_writer): streaming, so 150k sockets go
 * out as they are walked, with no tree. It owns the commas, the nesting and the
 * escaping; callers only name fields. */
#ifndef LEAKTOP_JSONW_H
#define LEAKTOP_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct jsonw;

/* A writer onto f. Values at the top level are one line each (JSON Lines); each goes
 * to f when it ends (the pieces of a line are gathered first), so write nothing else
 * to f in the middle of one. NULL on ENOMEM. */
struct jsonw *jsonw_new(FILE *f);
/* Also sends what a line cut short (an error midway) holds. */
void jsonw_free(struct jsonw *w);

/* Every value takes a key: the member's name inside an object, NULL inside an array
 * or at the top level. A key where none belongs (or none where one does), an end
 * with nothing open or nesting deeper than JSONW_DEPTH is a bug: abort(). */
#define JSONW_DEPTH 16

/* Open an object ({) or an array ([); jsonw_end closes the innermost. */
void jsonw_obj(struct jsonw *w, const char *key);
void jsonw_arr(struct jsonw *w, const char *key);
void jsonw_end(struct jsonw *w);

/* A string, escaped: '"' and '\' by a backslash, control bytes (below 0x20, and DEL)
 * as \u00XX; every other byte as it is (names reach here escaped for the terminal
 * already). NULL writes null. */
void jsonw_str(struct jsonw *w, const char *key, const char *v);
void jsonw_int(struct jsonw *w, const char *key, int64_t v);
void jsonw_uint(struct jsonw *w, const char *key, uint64_t v);
/* v with decimals >= 0 digits after the point, or (decimals < 0) -decimals
 * significant digits. JSON has no NaN or Infinity: a figure unknown (NAN), never
 * (INFINITY) or damaged (a recording) is written as null. Every double in JSON goes
 * through here. */
void jsonw_num(struct jsonw *w, const char *key, double v, int decimals);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_null(struct jsonw *w, const char *key);

#endif
