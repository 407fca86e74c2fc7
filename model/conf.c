/* A small `key = value` parser for leaktop.conf. Every error names the file and the
 * line, because the person reading it is fixing the file in an editor. */
#include "config.h"

#include "model/conf.h"
#include "model/text.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

const struct conf_key *conf_find(const struct conf_key *keys, size_t nkeys, const char *name)
{
	for (size_t i = 0; i < nkeys; i++)
		if (keys[i].type != CONF_PREFIX && !strcmp(keys[i].name, name))
			return &keys[i];
	/* "restart.java" under a "restart." row: a name after the prefix. */
	for (size_t i = 0; i < nkeys; i++) {
		size_t n = strlen(keys[i].name);
		if (keys[i].type == CONF_PREFIX && !strncmp(keys[i].name, name, n) && name[n])
			return &keys[i];
	}
	return NULL;
}

int conf_set(const struct conf_key *k, void *obj, const char *value, char **why)
{
	char *field = (char *)obj + k->offset, *end;
	double d;

	switch (k->type) {
	case CONF_PREFIX:
		return 0; /* valid; read where it is used (conf_lookup_file) */
	case CONF_STRING:
		if (strlen(value) >= k->size)
			return text_cause(why, -EINVAL, "value of %s is too long (at most %zu characters)", k->name,
					  k->size - 1);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case CONF_DOUBLE:
	case CONF_UINT:
		errno = 0;
		d = strtod(value, &end);
		if (errno || end == value || *end || !isfinite(d) || d < k->min || d > k->max ||
		    (k->type == CONF_UINT && d != floor(d)))
			return k->type == CONF_UINT ? text_cause(why, -EINVAL, "%s: expected a whole number from %.0f to %.0f",
								 k->name, k->min, k->max)
						    : text_cause(why, -EINVAL, "%s: expected a number from %g to %g", k->name,
								 k->min, k->max);
		if (k->type == CONF_UINT) {
			uint32_t u = (uint32_t)d;
			memcpy(field, &u, sizeof(u));
		} else {
			memcpy(field, &d, sizeof(d));
		}
		return 0;
	}
	abort();
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

static bool valid_key(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!isalnum((unsigned char)*k) && !strchr("_-.", *k))
			return false;
	return true;
}

static int fail(char **cause, const char *name, unsigned line, const char *what, const char *detail)
{
	char safe[256];

	/* detail is the file's text: a key or a line may hold escape sequences. */
	if (detail)
		text_escape(safe, sizeof(safe), detail, strlen(detail));
	return text_cause(cause, -EINVAL, "%s:%u: %s%s%s", name, line, what, detail ? ": " : "", detail ? safe : "");
}

/* A key is ASCII: every other byte of a key that is not one shown as \xNN, so the
 * culprit is seen (a BOM, a no-break or zero-width space read as nothing). */
static int fail_key(char **cause, const char *name, unsigned line, const char *key)
{
	char safe[256];
	size_t n = 0;

	for (const unsigned char *k = (const unsigned char *)key; *k && n + 5 < sizeof(safe); k++) {
		if (*k < 0x20 || *k >= 0x7f || *k == '\\')
			n += (size_t)snprintf(safe + n, sizeof(safe) - n, "\\x%02x", *k);
		else
			safe[n++] = (char)*k;
	}
	safe[n] = '\0';
	return text_cause(cause, -EINVAL, "%s:%u: unknown key: %s", name, line, safe);
}

/* Split a trimmed, non-comment line into key and value (quotes removed). Returns
 * NULL, or what is wrong with the line. */
static const char *split_line(char *line, char **key, char **value)
{
	char *eq = strchr(line, '=');

	if (!eq)
		return "expected 'key = value'";
	*eq = '\0';
	*key = trim(line);
	*value = trim(eq + 1);
	if (!**key)
		return "expected a key before '='";
	size_t vlen = strlen(*value);
	/* Quotes keep leading or trailing spaces in a value. */
	if (vlen >= 2 && (*value)[0] == '"' && (*value)[vlen - 1] == '"')
		(*value)[vlen - 1] = '\0', (*value)++;
	return NULL;
}

/* Called for every line of a file, key NULL for a blank or comment line; raw is the
 * line as written (without its newline). Returns 0 to go on or -errno to stop. */
typedef int (*conf_line_fn)(void *ctx, const char *key, const char *value, const char *raw, size_t rawlen,
			    unsigned lineno, char **cause);

/* The one reader of leaktop.conf's lines: startup, the restart lookup and the writer
 * all see the same keys in the same bytes, whatever the lines' lengths. text[0..len)
 * may hold NUL bytes: they are refused, not taken for the end of the file. */
static int conf_walk(const char *text, size_t len, const char *name, conf_line_fn fn, void *ctx, char **cause)
{
	char *copy = malloc(len + 1);
	unsigned lineno = 0;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	/* A UTF-8 byte order mark (what some editors put first) is no part of a key. */
	size_t start = len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3) ? 3 : 0;
	for (size_t at = start; !rc && at < len;) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
		const char *raw = text + at;
		lineno++;
		at += n + (nl != NULL);
		if (memchr(raw, '\0', n)) {
			rc = fail(cause, name, lineno, "NUL byte", NULL);
			break;
		}
		memcpy(copy, raw, n);
		copy[n] = '\0';
		char *line = trim(copy), *key = NULL, *value = NULL;
		if (*line && *line != '#') {
			char *whole = strchr(line, '=') ? NULL : line;
			const char *bad = split_line(line, &key, &value);
			if (bad) {
				rc = fail(cause, name, lineno, bad, whole);
				break;
			}
		}
		rc = fn(ctx, key, value, raw, n, lineno, cause);
	}
	free(copy);
	return rc;
}

struct parse_ctx {
	const struct conf_key *keys;
	size_t nkeys;
	void *obj;
	const char *name;
};

static int parse_line(void *ctx, const char *key, const char *value, const char *raw, size_t rawlen,
		      unsigned lineno, char **cause)
{
	const struct parse_ctx *c = ctx;
	(void)raw, (void)rawlen;

	if (!key)
		return 0;
	const struct conf_key *k = valid_key(key) ? conf_find(c->keys, c->nkeys, key) : NULL;
	if (!k)
		return fail_key(cause, c->name, lineno, key);
	char *why = NULL;
	int rc = conf_set(k, c->obj, value, &why);
	if (rc)
		fail(cause, c->name, lineno, why ? why : "bad value", NULL);
	free(why);
	return rc;
}

static int parse_text(const char *text, size_t len, const char *name, const struct conf_key *keys, size_t nkeys,
		      void *obj, char **cause)
{
	struct parse_ctx c = {keys, nkeys, obj, name};
	return conf_walk(text, len, name, parse_line, &c, cause);
}

int conf_parse(const char *text, const char *name, const struct conf_key *keys, size_t nkeys, void *obj,
	       char **cause)
{
	return parse_text(text, strlen(text), name, keys, nkeys, obj, cause);
}

/* A missing file is no error where it is read: forget what conf_read_file said. */
static void drop_cause(char **cause)
{
	if (cause) {
		free(*cause);
		*cause = NULL;
	}
}

/* conf_read_file, and with trust (conf_load, conf_lookup_file run as root) the
 * descriptor it reads is first checked by conf_check_trust. */
static int read_whole(const char *path, size_t max, bool trust, char **text, size_t *len, char **cause)
{
	/* O_NONBLOCK: opening a FIFO with no writer must not hang before the check. */
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY), rc = 0;
	struct stat st;
	char *buf = NULL;
	size_t n = 0;

	*text = NULL;
	*len = 0;
	if (fd < 0)
		return text_cause(cause, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st))
		rc = text_cause(cause, -errno, "%s: %s", path, strerror(errno));
	else if (S_ISDIR(st.st_mode))
		rc = text_cause(cause, -EISDIR, "%s: is a directory, not a file", path);
	else if (!S_ISREG(st.st_mode))
		rc = text_cause(cause, -EINVAL, "%s: not a regular file (a FIFO, device or socket is not read)", path);
	else if (st.st_size < 0 || (uint64_t)st.st_size > max)
		rc = text_cause(cause, -EFBIG, "%s: larger than %zu KB: refused, not cut", path, max / 1024);
	else if (trust && (rc = conf_check_trust(fd, path, getuid(), getenv("HOME"), cause)))
		;
	else if (!(buf = malloc(max + 2)))
		rc = -ENOMEM;
	/* Read up to one byte past max: a file that grew since fstat is refused too. */
	while (!rc) {
		ssize_t r = read(fd, buf + n, max + 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			rc = text_cause(cause, -errno, "%s: %s", path, strerror(errno));
		else if (!r)
			break;
		else if ((n += (size_t)r) > max)
			rc = text_cause(cause, -EFBIG, "%s: larger than %zu KB: refused, not cut", path, max / 1024);
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;
}

int conf_read_file(const char *path, size_t max, char **text, size_t *len, char **cause)
{
	return read_whole(path, max, false, text, len, cause);
}

/* --- who may hand root a configuration file ----------------------------------------- */

/* Why st (a file, or a folder when dir) is not to be trusted, into why; false when it
 * is: owned by root or ruid, and writable by no one else. A sticky folder (/tmp) may
 * be writable by all: no one can rename or remove what another owns in it, and what
 * is in it is checked in its turn. */
static bool untrusted(const struct stat *st, bool dir, uid_t ruid, char *why, size_t n)
{
	if (st->st_uid != 0 && st->st_uid != ruid) {
		struct passwd pw, *res = NULL;
		char tmp[1024], name[64] = "";
		if (!getpwuid_r(st->st_uid, &pw, tmp, sizeof(tmp), &res) && res)
			text_escape(name, sizeof(name), pw.pw_name, strlen(pw.pw_name));
		snprintf(why, n, "belongs to %s%suid %u%s, not to root%s", name, *name ? " (" : "", (unsigned)st->st_uid,
			 *name ? ")" : "", ruid ? " or you" : "");
		return true;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) && !(dir && (st->st_mode & S_ISVTX))) {
		snprintf(why, n, "can be written by %s (mode %04o)", st->st_mode & S_IWOTH ? "anyone" : "its group",
			 (unsigned)(st->st_mode & 07777));
		return true;
	}
	return false;
}

static int refuse(char **cause, const char *path, const char *what, const char *where, const char *why)
{
	char p[512], w[512];

	text_escape(p, sizeof(p), path, strlen(path));
	text_escape(w, sizeof(w), where ? where : "", where ? strlen(where) : 0);
	return text_cause(cause, -EPERM,
			  "%s not used: %s%s%s %s; as root, leaktop reads a configuration file only when it and "
			  "its folders belong to root%s and no one else can write them", p, what, where ? " " : "", w,
			  why, getuid() ? " or you" : "");
}

int conf_check_trust(int fd, const char *path, uid_t ruid, const char *home, char **cause)
{
	char why[160], *real = realpath(path, NULL), *rhome = home && *home == '/' ? realpath(home, NULL) : NULL;
	struct stat st, rst;
	int rc = 0;

	if (fstat(fd, &st) || !real || stat(real, &rst) || rst.st_dev != st.st_dev || rst.st_ino != st.st_ino)
		rc = refuse(cause, path, "it", NULL, "changed while it was read");
	else if (untrusted(&st, S_ISDIR(st.st_mode), ruid, why, sizeof(why)))
		rc = refuse(cause, path, "it", NULL, why);
	/* Its folders, from its own up to home (ssh's StrictModes), or to / when the file
	 * is not under home: whoever can write one can put another file in its place. */
	for (char *slash; !rc && real && (slash = strrchr(real, '/'));) {
		slash[slash == real] = '\0';
		if (stat(real, &st))
			rc = text_cause(cause, -errno, "%s: %s", real, strerror(errno));
		else if (untrusted(&st, true, ruid, why, sizeof(why)))
			rc = refuse(cause, path, "its folder", real, why);
		if ((rhome && !strcmp(real, rhome)) || !strcmp(real, "/"))
			break;
	}
	free(real);
	free(rhome);
	return rc;
}

int conf_read(const char *path, char **text, size_t *len, char **cause)
{
	return read_whole(path, CONF_FILE_MAX, geteuid() == 0, text, len, cause);
}

int conf_load(const char *path, bool must_exist, const struct conf_key *keys, size_t nkeys, void *obj,
	      char **cause)
{
	char *text;
	size_t len;
	int rc = conf_read(path, &text, &len, cause);

	if (rc == -ENOENT && !must_exist) {
		drop_cause(cause);
		return 0;
	}
	if (!rc)
		rc = parse_text(text, len, path, keys, nkeys, obj, cause);
	free(text);
	return rc;
}

struct lookup_ctx {
	const char *key;
	char *value;
};

static int lookup_line(void *ctx, const char *key, const char *value, const char *raw, size_t rawlen,
		       unsigned lineno, char **cause)
{
	struct lookup_ctx *c = ctx;
	(void)raw, (void)rawlen, (void)lineno, (void)cause;

	if (!key || strcmp(key, c->key))
		return 0;
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	free(c->value);
	c->value = v;
	return 0;
}

int conf_lookup_file(const char *path, const char *key, char **value, char **cause)
{
	struct lookup_ctx c = {key, NULL};
	char *text;
	size_t len;
	int rc = conf_read(path, &text, &len, cause);

	*value = NULL;
	if (rc == -ENOENT) {
		drop_cause(cause);
		return rc;
	}
	if (!rc)
		rc = conf_walk(text, len, path, lookup_line, &c, cause);
	free(text);
	if (!rc && !c.value)
		rc = -ENOENT;
	if (rc)
		free(c.value);
	else
		*value = c.value;
	return rc;
}

char *conf_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (xdg && *xdg == '/') {
		if (asprintf(&p, "%s/leaktop/leaktop.conf", xdg) < 0)
			p = NULL;
	} else if (home && *home == '/') {
		if (asprintf(&p, "%s/.config/leaktop/leaktop.conf", home) < 0)
			p = NULL;
	}
	return p;
}

struct save_ctx {
	const char *key;
	FILE *out;
};

static int save_line(void *ctx, const char *key, const char *value, const char *raw, size_t rawlen,
		     unsigned lineno, char **cause)
{
	const struct save_ctx *c = ctx;
	(void)value, (void)lineno, (void)cause;

	/* Every other line as it was; this key's lines give way to one at the end. */
	if (!key || strcmp(key, c->key)) {
		fwrite(raw, 1, rawlen, c->out);
		putc('\n', c->out);
	}
	return 0;
}

int conf_with_key(const char *text, size_t len, const char *path, const char *key, const char *value,
		  char **out, size_t *outlen, char **cause)
{
	FILE *f = open_memstream(out, outlen);
	int rc = 0;

	if (!f)
		return text_cause(cause, -ENOMEM, "%s: out of memory", path);
	struct save_ctx c = {key, f};
	if (text && (rc = conf_walk(text, len, path, save_line, &c, cause))) {
		fclose(f);
		free(*out);
		*out = NULL;
		return rc;
	}
	fprintf(f, "%s = %s\n", key, value);
	if (fclose(f)) {
		free(*out);
		*out = NULL;
		return text_cause(cause, -ENOMEM, "%s: out of memory", path);
	}
	return 0;
}
