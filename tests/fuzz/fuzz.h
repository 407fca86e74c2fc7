/* What the libFuzzer targets in tests/fuzz share: the entry point's prototype and
 * turning the fuzzer's bytes into the strings and files the parsers read. */
#ifndef LEAKTOP_FUZZ_H
#define LEAKTOP_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* UBSan stops at its first finding, with the stack, so libFuzzer saves the input;
 * its checks stay recoverable (configure does not pass -fno-sanitize-recover) only
 * so that tests/fuzz/ubsan.supp can hold back a known finding until it is fixed. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

/* data as a NUL-terminated string (a NUL inside ends it early, as in a C string). */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The next piece of data up to a separator byte, or to the end: for targets that
 * take several texts. Advances *data and *size past the separator. */
static inline char *fuzz_take(const uint8_t **data, size_t *size, uint8_t sep)
{
	const uint8_t *end = memchr(*data, sep, *size);
	size_t n = end ? (size_t)(end - *data) : *size;
	char *s = fuzz_str(*data, n);
	*data += end ? n + 1 : n;
	*size -= end ? n + 1 : n;
	return s;
}

/* Write data to path (created or replaced). Aborts when it cannot: that is the
 * harness failing, not the code under test. */
static inline void fuzz_write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "we");
	if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f)) {
		perror(path);
		abort();
	}
}

static char fuzz_dir_path[64];

static inline int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* Remove path and everything under it. */
static inline void fuzz_rm_tree(const char *path)
{
	nftw(path, fuzz_rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

static inline void fuzz_dir_remove(void)
{
	fuzz_rm_tree(fuzz_dir_path);
}

/* A private directory for a target's files ($TMPDIR, else /dev/shm, else /tmp),
 * made once per process and removed with what it holds when the process exits (not
 * when it crashes). */
static inline const char *fuzz_dir(void)
{
	char *dir = fuzz_dir_path;
	if (!dir[0]) {
		/* Memory, where there is some: a disk's metadata updates make the file
		 * targets several times slower. */
		const char *base = getenv("TMPDIR");
		if (!base || strlen(base) >= 32)
			base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(dir, sizeof(fuzz_dir_path), "%s/leaktop-fuzz.XXXXXX", base);
		if (!mkdtemp(dir)) {
			perror(dir);
			abort();
		}
		atexit(fuzz_dir_remove);
	}
	return dir;
}

#endif
