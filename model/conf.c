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
	return text_cause(cause, -EINVAL, "%s:%u: %s%s%s", name, line, what, detail ? ": " : "", detail ? detail : "");
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

int conf_parse(const char *text, const char *name, const struct conf_key *keys, size_t nkeys, void *obj,
		 char **cause)
{
	char *copy = strdup(text), *next = copy;
	unsigned lineno = 0;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	while (!rc && next) {
		char *line = next, *nl = strchr(next, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		line = trim(line);
		if (!*line || *line == '#')
			continue;
		char *key, *value, *whole = strchr(line, '=') ? NULL : line;
		const char *bad = split_line(line, &key, &value);
		if (bad) {
			rc = fail(cause, name, lineno, bad, whole);
			break;
		}
		const struct conf_key *k = valid_key(key) ? conf_find(keys, nkeys, key) : NULL;
		if (!k) {
			rc = fail(cause, name, lineno, "unknown key", key);
			break;
		}
		char *why = NULL;
		if ((rc = conf_set(k, obj, value, &why)))
			fail(cause, name, lineno, why ? why : "bad value", NULL);
		free(why);
	}
	free(copy);
	return rc;
}

int conf_load(const char *path, bool must_exist, const struct conf_key *keys, size_t nkeys, void *obj,
		char **cause)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (!f) {
		rc = -errno;
		if (rc == -ENOENT && !must_exist)
			return 0;
		return text_cause(cause, rc, "%s: %s", path, strerror(-rc));
	}
	FILE *mem = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	if (!mem) {
		fclose(f);
		return -ENOMEM;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	rc = ferror(f) ? -EIO : 0;
	fclose(f);
	if (fclose(mem) || !text)
		rc = rc ? rc : -ENOMEM;
	if (!rc)
		rc = conf_parse(text, path, keys, nkeys, obj, cause);
	else
		text_cause(cause, rc, "%s: %s", path, strerror(-rc));
	free(text);
	return rc;
}

int conf_lookup_file(const char *path, const char *key, char *value, size_t size, char **cause)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	int rc = -ENOENT;

	if (!f) {
		rc = -errno;
		return rc == -ENOENT ? rc : text_cause(cause, rc, "%s: %s", path, strerror(-rc));
	}
	while (fgets(line, sizeof(line), f)) {
		char *k, *v, *l = trim(line);
		if (!*l || *l == '#' || split_line(l, &k, &v) || strcmp(k, key))
			continue;
		snprintf(value, size, "%s", v);
		rc = 0;
	}
	fclose(f);
	return rc;
}

char *conf_default_path(void)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (xdg && *xdg) {
		if (asprintf(&p, "%s/leaktop/leaktop.conf", xdg) < 0)
			p = NULL;
	} else if (home && *home) {
		if (asprintf(&p, "%s/.config/leaktop/leaktop.conf", home) < 0)
			p = NULL;
	}
	return p;
}

/* mkdir -p of the directory a file is in. */
static int make_parent(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(dir, 0700) && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	return mkdir(dir, 0700) && errno != EEXIST ? -errno : 0;
}

int conf_save_key(const char *path, const char *key, const char *value, char **cause)
{
	char tmp[4200], line[4096];
	FILE *in = fopen(path, "re"), *out;
	int rc = 0;

	if (!in && errno != ENOENT)
		rc = -errno;
	else if (!in)
		rc = make_parent(path);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = rc ? -1 : open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (!rc && (fd < 0 || !(out = fdopen(fd, "w")))) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
	}
	if (rc) {
		if (in)
			fclose(in);
		if (cause && asprintf(cause, "%s: %s", path, strerror(-rc)) < 0)
			*cause = NULL;
		return rc;
	}
	/* Every other line as it was; this key's lines give way to one at the end. */
	while (in && fgets(line, sizeof(line), in)) {
		char copy[4096], *k, *v, *l;
		snprintf(copy, sizeof(copy), "%s", line);
		l = trim(copy);
		if (*l && *l != '#' && !split_line(l, &k, &v) && !strcmp(k, key))
			continue;
		fputs(line, out);
	}
	fprintf(out, "%s = %s\n", key, value);
	if (in)
		fclose(in);
	if (fclose(out) || rename(tmp, path)) {
		rc = -errno;
		unlink(tmp);
		if (cause && asprintf(cause, "%s: %s", path, strerror(-rc)) < 0)
			*cause = NULL;
	}
	return rc;
}
