/* Themes: semantic roles (header, selected row, each TCP state, ...) mapped to colours
 * and attributes, parsed from small text files. No curses here: draw.c maps them. */
#ifndef LEAKTOP_THEME_H
#define LEAKTOP_THEME_H

#include <stdbool.h>
#include <stdint.h>

#include "model/snapshot.h"

enum theme_role {
	TH_NORMAL,
	TH_HEADER,      /* the summary lines at the top */
	TH_TITLE,       /* a pane's title line */
	TH_COLHEAD,     /* column headers */
	TH_SORTED,      /* the column header being sorted by */
	TH_SELECTED,    /* the selected row of the focused pane */
	TH_DIMSEL,      /* the selected row of another pane */
	TH_STATUS,      /* the status and prompt line */
	TH_KEY,         /* the key bar's labels ("Help", "Quit") */
	TH_KEYNAME,     /* the key bar's keys ("F1", "F10") */
	TH_WARNING,     /* fd use past half the limit, a status message */
	TH_CRITICAL,    /* fd use past 90% of the limit, a failing source */
	TH_GROWTH,      /* growing counts (history) */
	TH_LIVE,
	TH_REPLAY,
	TH_STATE,       /* TH_STATE + enum sk_state: one per TCP state */
	TH_COUNT = TH_STATE + ST_COUNT
};

enum theme_attr { TA_BOLD = 1, TA_REVERSE = 2, TA_UNDERLINE = 4, TA_DIM = 8 };

#define THEME_DEFAULT_COLOR (-1)

struct theme_style {
	int16_t fg, bg;  /* 0-255 or THEME_DEFAULT_COLOR */
	uint16_t attrs;  /* enum theme_attr */
};

struct theme {
	char name[64];
	struct theme_style roles[TH_COUNT];
};

/* "header", "state.close_wait", ...; NULL when out of range. */
const char *theme_role_name(unsigned role);

/* The built-in default (dark) theme, used when no file can be read. */
void theme_default(struct theme *t);
/* Keep attributes only: what a terminal without colours (or NO_COLOR) gets. */
void theme_strip_colors(struct theme *t);
/* True when any role uses a colour. */
bool theme_has_colors(const struct theme *t);

/* Parse a theme file's text over t (roles it does not name keep their value).
 * Lines are "role = FG[,BG] [bold] [reverse] [underline] [dim]" and # comments.
 * Returns 0 or -EINVAL with *cause = "FILE:LINE: what is wrong". */
int theme_parse(struct theme *t, const char *text, const char *file, char **cause);

/* Load theme NAME: from $LEAKTOP_THEME_PATH (colon-separated dirs), then
 * $XDG_CONFIG_HOME/leaktop/themes (~/.config/...), then PKGDATADIR/themes.
 * On any failure t holds the default theme and *cause says why. */
int theme_load(struct theme *t, const char *name, char **cause);

/* The names of every installed and user theme, sorted, without duplicates.
 * Returns the count (at most max); names are malloc'd, free with theme_names_free. */
size_t theme_names(char **names, size_t max);
void theme_names_free(char **names, size_t n);

#endif
