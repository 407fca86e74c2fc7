/* The handover report as one self-contained HTML page (`--report -o html`): the
 * same summary and timeline as the Markdown one, inline SVG charts per culprit with
 * the alerts and actions marked, print CSS; no script, no font from the network. */
#ifndef LEAKTOP_HTML_H
#define LEAKTOP_HTML_H

#include <stdio.h>

struct sqlite3;
struct record_info;
struct alert_thresholds;

/* Like report_write (outputs/report.h), as HTML. */
int html_report_write(FILE *f, struct sqlite3 *db, const struct record_info *info, const char *path,
		      const struct alert_thresholds *t, char **cause);

/* s with & < > " ' as entities and control characters escaped; cut at max bytes. */
void html_text(FILE *f, const char *s, size_t max);

#endif
