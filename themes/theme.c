/* Theme files: parsing (testable without a terminal), the built-in default, and the
 * search path (user themes first, then the installed ones). */
#include "config.h"

#include "themes/theme.h"
#include "model/conf.h"
#include "model/text.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const role_names[TH_STATE] = {
	[TH_NORMAL] = "normal",
	[TH_HEADER] = "header",
	[TH_TITLE] = "title",
	[TH_COLHEAD] = "column",
	[TH_SORTED] = "sorted",
	[TH_SELECTED] = "selected",
	[TH_DIMSEL] = "selected.inactive",
	[TH_STATUS] = "status",
	[TH_KEY] = "key",
	[TH_KEYNAME] = "key.name",
	[TH_WARNING] = "warning",
	[TH_CRITICAL] = "critical",
	[TH_GROWTH] = "growth",
	[TH_LIVE] = "live",
	[TH_REPLAY] = "replay",
};
_Static_assert(sizeof(role_names) / sizeof(role_names[0]) == TH_STATE, "a name per role");

const char *theme_role_name(unsigned role)
{
	static char state_names[ST_COUNT][32];

	if (role < TH_STATE)
		return role_names[role];
	if (role >= TH_COUNT)
		return NULL;
	char *n = state_names[role - TH_STATE];
	if (!n[0]) {
		/* "state.close_wait": the kernel's name in lower case. */
		int len = snprintf(n, sizeof(state_names[0]), "state.%s", sk_state_name(role - TH_STATE));
		for (int i = 6; i < len; i++)
			n[i] = (char)tolower((unsigned char)n[i]);
	}
	return n;
}

static const char *const color_names[] = {
	"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
};

enum { BLACK, RED, GREEN, YELLOW, BLUE, MAGENTA, CYAN, WHITE };
#define D THEME_DEFAULT_COLOR

/* The default dark theme: what a broken or missing theme falls back to. */
static const struct theme_style default_roles[TH_COUNT] = {
	[TH_NORMAL] = {D, D, 0},
	[TH_HEADER] = {D, D, 0},
	[TH_TITLE] = {BLACK, GREEN, TA_BOLD},
	[TH_COLHEAD] = {BLACK, GREEN, 0},
	[TH_SORTED] = {BLACK, CYAN, TA_BOLD},
	[TH_SELECTED] = {BLACK, CYAN, 0},
	[TH_DIMSEL] = {D, D, TA_REVERSE},
	[TH_STATUS] = {YELLOW, D, TA_BOLD},
	[TH_KEY] = {BLACK, CYAN, 0},
	[TH_KEYNAME] = {D, D, TA_BOLD},
	[TH_WARNING] = {YELLOW, D, TA_BOLD},
	[TH_CRITICAL] = {RED, D, TA_BOLD},
	[TH_GROWTH] = {MAGENTA, D, TA_BOLD},
	[TH_LIVE] = {GREEN, D, TA_BOLD},
	[TH_REPLAY] = {MAGENTA, D, TA_BOLD},
	[TH_STATE + ST_UNKNOWN] = {D, D, 0},
	[TH_STATE + ST_ESTABLISHED] = {GREEN, D, 0},
	[TH_STATE + ST_SYN_SENT] = {CYAN, D, 0},
	[TH_STATE + ST_SYN_RECV] = {CYAN, D, TA_BOLD},
	[TH_STATE + ST_FIN_WAIT1] = {BLUE, D, TA_BOLD},
	[TH_STATE + ST_FIN_WAIT2] = {BLUE, D, 0},
	[TH_STATE + ST_TIME_WAIT] = {WHITE, D, TA_DIM},
	[TH_STATE + ST_CLOSE] = {WHITE, D, 0},
	[TH_STATE + ST_CLOSE_WAIT] = {RED, D, TA_BOLD},
	[TH_STATE + ST_LAST_ACK] = {MAGENTA, D, 0},
	[TH_STATE + ST_LISTEN] = {YELLOW, D, 0},
	[TH_STATE + ST_CLOSING] = {MAGENTA, D, TA_BOLD},
	[TH_STATE + ST_NEW_SYN_RECV] = {CYAN, D, TA_BOLD},
	[TH_STATE + ST_CLOSED_FD] = {RED, D, TA_REVERSE},
};
#undef D

void theme_default(struct theme *t)
{
	snprintf(t->name, sizeof(t->name), "default");
	memcpy(t->roles, default_roles, sizeof(t->roles));
}

void theme_strip_colors(struct theme *t)
{
	for (int i = 0; i < TH_COUNT; i++)
		t->roles[i].fg = t->roles[i].bg = THEME_DEFAULT_COLOR;
	/* Without colour the selection and headers must still stand out. */
	t->roles[TH_SELECTED].attrs |= TA_REVERSE;
	t->roles[TH_TITLE].attrs |= TA_REVERSE;
	t->roles[TH_COLHEAD].attrs |= TA_REVERSE;
	t->roles[TH_SORTED].attrs |= TA_REVERSE | TA_BOLD;
}

bool theme_has_colors(const struct theme *t)
{
	for (int i = 0; i < TH_COUNT; i++)
		if (t->roles[i].fg != THEME_DEFAULT_COLOR || t->roles[i].bg != THEME_DEFAULT_COLOR)
			return true;
	return false;
}

static int parse_color(const char *w, int16_t *out)
{
	char *end;
	long v;

	if (!strcasecmp(w, "default")) {
		*out = THEME_DEFAULT_COLOR;
		return 0;
	}
	bool bright = !strncasecmp(w, "bright-", 7);
	for (int i = 0; i < 8; i++)
		if (!strcasecmp(bright ? w + 7 : w, color_names[i])) {
			*out = (int16_t)(i + (bright ? 8 : 0));
			return 0;
		}
	errno = 0;
	v = strtol(w, &end, 10);
	if (errno || end == w || *end || v < 0 || v > 255)
		return -1;
	*out = (int16_t)v;
	return 0;
}

static const struct {
	const char *name;
	uint16_t bit;
} attr_names[] = {
	{"bold", TA_BOLD}, {"reverse", TA_REVERSE}, {"underline", TA_UNDERLINE}, {"dim", TA_DIM}, {"normal", 0},
};

static int fail_at(char **cause, const char *file, int line, const char *what, const char *word)
{
	char safe[256]; /* word is the file's text: it may hold escape sequences */

	text_escape(safe, sizeof(safe), word, strlen(word));
	return text_cause(cause, -EINVAL, "%s:%d: %s '%s'", file, line, what, safe);
}

static int parse_line(struct theme *t, char *line, const char *file, int lineno, char **cause)
{
	char *eq = strchr(line, '='), *save = NULL;
	char *role = strtok_r(line, " \t=", &save);
	int r;

	if (!role)
		return 0;
	if (!eq)
		return fail_at(cause, file, lineno, "expected 'role = colour attributes' in", role);
	for (r = 0; r < TH_COUNT; r++)
		if (!strcasecmp(role, theme_role_name((unsigned)r)))
			break;
	if (r == TH_COUNT)
		return fail_at(cause, file, lineno, "unknown role", role);
	struct theme_style st = {THEME_DEFAULT_COLOR, THEME_DEFAULT_COLOR, 0};
	bool have_color = false;
	for (char *w = strtok_r(eq + 1, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		size_t a;
		for (a = 0; a < sizeof(attr_names) / sizeof(attr_names[0]); a++)
			if (!strcasecmp(w, attr_names[a].name))
				break;
		if (a < sizeof(attr_names) / sizeof(attr_names[0])) {
			st.attrs |= attr_names[a].bit;
			continue;
		}
		/* FG or FG,BG */
		char *comma = strchr(w, ',');
		if (comma)
			*comma = '\0';
		if (have_color || parse_color(w, &st.fg) || (comma && parse_color(comma + 1, &st.bg)))
			return fail_at(cause, file, lineno, "unknown colour or attribute", w);
		have_color = true;
	}
	t->roles[r] = st;
	return 0;
}

int theme_parse(struct theme *t, const char *text, const char *file, char **cause)
{
	int lineno = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		/* A line as long as it is (the file is bounded): a comment may be long. */
		char *line = strndup(p, len);
		lineno++;
		if (!line)
			return text_cause(cause, -ENOMEM, "out of memory");
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		int rc = parse_line(t, line, file, lineno, cause);
		free(line);
		if (rc)
			return rc;
		p = nl ? nl + 1 : p + len;
	}
	return 0;
}

/* The directories searched, most personal first: every LEAKTOP_THEME_PATH entry,
 * then the user's and the installed ones. malloc'd (free with dirs_free); *n is
 * their count, 0 when out of memory. */
static char **theme_dirs(size_t *n)
{
	const char *env = getenv("LEAKTOP_THEME_PATH"), *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	size_t max = 3;
	char **dirs, *buf = env && *env ? strdup(env) : NULL, *save = NULL;

	*n = 0;
	for (const char *c = buf; c && *c; c++)
		max += *c == ':';
	if (!(dirs = calloc(max, sizeof(*dirs)))) {
		free(buf);
		return NULL;
	}
	for (char *d = buf ? strtok_r(buf, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save))
		if (!(dirs[(*n)++] = strdup(d)))
			(*n)--;
	free(buf);
	char *p = NULL;
	/* A relative XDG_CONFIG_HOME is ignored (the XDG base directory spec). */
	if (xdg && *xdg == '/' ? asprintf(&p, "%s/leaktop/themes", xdg) >= 0
			       : home && *home == '/' && asprintf(&p, "%s/.config/leaktop/themes", home) >= 0)
		dirs[(*n)++] = p;
	if ((dirs[*n] = strdup(PKGDATADIR "/themes")))
		(*n)++;
	return dirs;
}

static void dirs_free(char **dirs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(dirs[i]);
	free(dirs);
}

static bool valid_name(const char *name)
{
	if (!*name || strlen(name) > 48)
		return false;
	for (const char *p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
	return true;
}

int theme_load(struct theme *t, const char *name, char **cause)
{
	size_t nd;
	char **dirs = NULL, *why = NULL;
	int rc = -ENOENT;

	theme_default(t);
	if (!valid_name(name)) {
		return text_cause(cause, -EINVAL, "bad theme name '%s': letters, digits, - and _ only", name);
	}
	if (!(dirs = theme_dirs(&nd)))
		return text_cause(cause, -ENOMEM, "out of memory");
	for (size_t i = 0; i < nd && rc == -ENOENT; i++) {
		char *path = NULL, *text = NULL;
		size_t len;
		if (asprintf(&path, "%s/%s.theme", dirs[i], name) < 0) {
			rc = text_cause(&why, -ENOMEM, "out of memory");
			break;
		}
		/* The same checks as the config: a FIFO or device is refused, not read (a FIFO
		 * froze the dashboard before its first draw), a big file refused, not cut. */
		rc = conf_read_file(path, CONF_FILE_MAX, &text, &len, &why);
		if (rc == -ENOENT || rc == -ENOTDIR) {
			rc = -ENOENT;
		} else if (!rc && memchr(text, '\0', len)) {
			rc = text_cause(&why, -EINVAL, "%s: a NUL byte: not a theme file", path);
		} else if (!rc && !(rc = theme_parse(t, text, path, &why))) {
			snprintf(t->name, sizeof(t->name), "%s", name);
		}
		free(text);
		free(path);
	}
	if (rc == -ENOENT && !strcmp(name, "default"))
		rc = 0; /* built in */
	else if (rc == -ENOENT)
		text_cause(&why, rc, "theme '%s' not found (looked in %s and %s/themes)", name,
			   nd > 1 ? dirs[nd - 2] : nd ? dirs[0] : "?", PKGDATADIR);
	if (rc) {
		theme_default(t);
		if (cause)
			free(*cause), *cause = why, why = NULL;
	}
	free(why);
	dirs_free(dirs, nd);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

size_t theme_names(char **names, size_t max)
{
	size_t nd = 0, n = 0;
	char **dirs = theme_dirs(&nd);

	if (max)
		names[n++] = strdup("default");
	for (size_t i = 0; i < nd; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *e;
		if (!d)
			continue;
		while ((e = readdir(d)) && n < max) {
			size_t len = strlen(e->d_name);
			if (len <= 6 || strcmp(e->d_name + len - 6, ".theme"))
				continue;
			char *nm = strndup(e->d_name, len - 6);
			bool dup = !nm || !valid_name(nm);
			for (size_t j = 0; j < n && !dup; j++)
				dup = names[j] && !strcmp(names[j], nm);
			if (dup)
				free(nm);
			else
				names[n++] = nm;
		}
		closedir(d);
	}
	dirs_free(dirs, nd);
	for (size_t i = 0; i < n; i++)
		if (!names[i])
			names[i] = strdup("default"); /* keep the array well-formed after ENOMEM */
	if (n > 1) /* names may be NULL when max is 0 */
		qsort(names, n, sizeof(*names), cmp_str);
	return n;
}

void theme_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}
