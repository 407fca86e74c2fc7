/* The configuration file (~/.config/leaktop/leaktop.conf): `key = value` lines, `#`
 * comments. Keys are a table of typed fields, so a new setting is one row; the
 * command line sets the same fields through conf_set, with the same checks. */
#ifndef LEAKTOP_CONF_H
#define LEAKTOP_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum conf_type {
	CONF_DOUBLE,   /* double, within [min, max] */
	CONF_UINT,     /* uint32_t, within [min, max] */
	CONF_STRING,   /* char[size], NUL-terminated */
	CONF_PREFIX,   /* name "restart.": any key "restart.NAME" is valid; not stored,
			* whoever needs one reads it with conf_lookup_file */
};

struct conf_key {
	const char *name;      /* letters, digits, '_', '-', '.': "fd_warn", "restart.java" */
	enum conf_type type;
	size_t offset;         /* of the field in the configured object */
	size_t size;           /* CONF_STRING: the buffer's size */
	double min, max;
};

const struct conf_key *conf_find(const struct conf_key *keys, size_t nkeys, const char *name);

/* Set k's field in obj from text. Returns 0 or -EINVAL (*why says what was expected). */
int conf_set(const struct conf_key *k, void *obj, const char *value, char **why);

/* Parse text (the contents of a file called `name` in messages). Returns 0, or
 * -EINVAL with *cause like "FILE:LINE: unknown key 'x'". */
int conf_parse(const char *text, const char *name, const struct conf_key *keys, size_t nkeys, void *obj,
		 char **cause);

/* The largest configuration or theme file read: a bigger one is refused, not cut. */
#define CONF_FILE_MAX ((size_t)1 << 20)

/* Read the whole file at path into *text (malloc'd, NUL-terminated; *len bytes, which
 * may hold NUL bytes). Only a regular file of at most max bytes is read: a directory,
 * a FIFO (opened without blocking), a device, or a file over max is refused. Returns
 * 0 or -errno (-ENOENT when missing) with *cause "PATH: why". */
int conf_read_file(const char *path, size_t max, char **text, size_t *len, char **cause);

/* A configuration file can make leaktop run programs (alert.cmd, restart.*), so as
 * root one is used only when the file (fd, opened from path) and every folder above
 * it, up to home (inclusive; to / when it is not under home), belong to root or to
 * ruid and no one else can write them: what ssh's StrictModes and sudo do. A folder
 * writable by all with the sticky bit (/tmp) passes. Returns 0, or -EPERM with *cause:
 * "PATH not used: its folder DIR belongs to uid 65534, not to root; ...". */
int conf_check_trust(int fd, const char *path, uid_t ruid, const char *home, char **cause);

/* conf_read_file for a configuration file: at most CONF_FILE_MAX, and as root
 * conf_check_trust's checks too, with getuid() and $HOME. */
int conf_read(const char *path, char **text, size_t *len, char **cause);

/* Read and parse a file (conf_read_file's checks, at most CONF_FILE_MAX; as root
 * conf_check_trust's too, with getuid() and $HOME). A missing file is fine (0)
 * unless must_exist. A NUL byte is an error of its line. */
int conf_load(const char *path, bool must_exist, const struct conf_key *keys, size_t nkeys, void *obj,
	      char **cause);

/* The value of key in the file at path, read by the same reader, checks and line
 * parser as conf_load (the last one wins): *value malloc'd, returns 0; -ENOENT when the file or
 * the key is absent; other -errno with *cause when the file cannot be read or a line
 * is malformed (then nothing from it is used). For keys read at the moment they are
 * needed (restart.COMM), so an edit takes effect without restarting leaktop. */
int conf_lookup_file(const char *path, const char *key, char **value, char **cause);

/* The configuration text (len bytes, read from path: for messages) with key set to
 * value: its lines for key give way to one at the end, the rest kept, into a new
 * *out of *outlen bytes the caller frees. A text conf_load would refuse is refused
 * the same way. 0 or -errno with *cause. */
int conf_with_key(const char *text, size_t len, const char *path, const char *key, const char *value,
		  char **out, size_t *outlen, char **cause);

/* $XDG_CONFIG_HOME/leaktop/leaktop.conf, else $HOME/.config/leaktop/leaktop.conf;
 * malloc'd, NULL when neither is set. A relative XDG_CONFIG_HOME is ignored, as the
 * XDG base directory spec says (it would be read from wherever leaktop started), and
 * so is a relative HOME. */
char *conf_default_path(void);

#endif
