/* The handover report (`leaktop -r FILE --report`): a Markdown summary of a
 * recording for the next shift, readable as plain text or pasted into a ticket. */
#ifndef LEAKTOP_REPORT_H
#define LEAKTOP_REPORT_H

#include <stdio.h>

/* Write the report of the recording at path. Returns 0 or -errno with a one-line
 * *cause (missing file, not a recording, damaged, newer format). */
int report_write(FILE *f, const char *path, char **cause);

#endif
