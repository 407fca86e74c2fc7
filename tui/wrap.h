/* Text laid out in terminal columns, for the message view, the help and the dump
 * viewer: display widths, wrapping at spaces, a sideways scroll, tabs expanded. The
 * text is escaped already (no control characters); UTF-8 in a UTF-8 locale. No
 * curses. */
#ifndef LEAKTOP_WRAP_H
#define LEAKTOP_WRAP_H

#include <stddef.h>

/* Columns that s[0..len) takes on a terminal (a byte that is no character: one). */
int wrap_width(const char *s, size_t len);

/* The next line of s that fits in width columns: its length in bytes; *skip gets the
 * bytes to go past it (the spaces it broke at too). A line breaks at its last space
 * when that is in its second half, else mid-word. 0 only when s is empty. */
size_t wrap_line(const char *s, int width, size_t *skip);

/* How many lines s takes wrapped to width, the first line first_width wide (a
 * prefix before it) and the others width. */
size_t wrap_count(const char *s, int first_width, int width);

/* s with its first cols columns left out (a sideways scroll); a wide character cut
 * in two is left out whole. */
const char *wrap_skip(const char *s, int cols);

/* src[0..len) (raw: a process's output) escaped (text_escape_controls), with each
 * tab expanded to spaces up to the next multiple of 8 columns. Returns the length
 * written; dst is always NUL-terminated. */
size_t wrap_expand_tabs(char *dst, size_t dstsize, const char *src, size_t len);

#endif
