/* Making untrusted text (process names, command lines) safe for a terminal or a
 * report (JSON adds its own quoting: model/jsonw.h). */
#ifndef LEAKTOP_TEXT_H
#define LEAKTOP_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct tm;

/* Copy src[0..srclen) to dst, writing control characters (C0, DEL, C1, the
 * bidirectional controls U+202A-202E, U+2066-2069, U+200E/F, U+061C, and invalid
 * UTF-8 bytes) as "\xNN" per byte and a backslash as "\\". Always NUL-terminates; cuts at
 * a character boundary. Returns the length written. */
size_t text_escape(char *dst, size_t dstsize, const char *src, size_t srclen);
/* The same for text escaped once already (what the snapshot and a recording hold): a
 * backslash is kept as it is, so escaping again does not double it; anything raw that
 * a damaged file slipped in is still escaped. */
size_t text_escape_controls(char *dst, size_t dstsize, const char *src, size_t srclen);

/* Replace *cause (when cause is not NULL) with a formatted message the caller frees,
 * NULL if out of memory; returns rc, so `return text_cause(cause, -EIO, ...)` reads
 * as one statement. The message is formatted before the old one is freed. */
int text_cause(char **cause, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Unix time t broken down into *tm (local time, or UTC when utc), or NULL when no
 * calendar holds it (not finite, beyond year 30000, or localtime_r failed): checked
 * before t is cast, since a double out of time_t's range converts to nothing defined. */
struct tm *text_tm(double t, bool utc, struct tm *tm);

/* Seconds on the monotonic clock: how long something took. */
double text_mono(void);

/* Format unix time t (local time, strftime's fmt) into buf. A time no calendar holds
 * (not finite, or beyond year 30000: a damaged recording) is written as "?" instead
 * of reaching strftime with no broken-down time. Returns buf. */
char *text_time(char *buf, size_t n, const char *fmt, double t) __attribute__((format(strftime, 3, 0)));

#endif
