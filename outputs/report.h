/* The handover report (`leaktop -r FILE --report`): a Markdown summary of a
 * recording for the next shift, readable as plain text or pasted into a ticket. */
#ifndef LEAKTOP_REPORT_H
#define LEAKTOP_REPORT_H

#include <stdio.h>

struct sqlite3;
struct record_info;
struct alert_thresholds;

/* Write the report of the recording at path, opened read-only as db with its meta
 * table in info (recording/recread.h: recread_open), judged with the alert thresholds
 * t (the options'; NULL: the defaults). Returns 0 or -errno with a one-line *cause
 * (damaged). */
int report_write(FILE *f, struct sqlite3 *db, const struct record_info *info, const char *path,
		 const struct alert_thresholds *t, char **cause);

/* Recorded text as Markdown (and HTML) cannot read it: controls escaped, Markdown
 * and HTML punctuation backslash-escaped, no autolinks; cut at max bytes; "-" for
 * NULL or "". */
void report_md_text(FILE *f, const char *s, size_t max);

#endif
