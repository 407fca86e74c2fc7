/* libFuzzer target: whole recordings, with the side files another program could put
 * beside them. The input is a database file, or "LKTPFUZZ" then up to four parts
 * (each a 4-byte little-endian length and its bytes): the file, FILE-wal,
 * FILE-journal, FILE-shm. The file is replayed refresh by refresh through the replay
 * source into a history and the batch output (as `leaktop -r FILE -b` does), with
 * the time controls' seeks, and summarised by the report writer: a damaged or
 * hostile file (views, triggers, wrong types, a foreign WAL) gives an error or
 * less, never a crash, and no file beside it is made, removed or changed. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "recording/recread.h"
#include "recording/replay.h"
#include "sources/source.h"
#include "outputs/batch.h"
#include "model/history.h"
#include "outputs/report.h"
#include "model/snapshot.h"
#include "recording/frame.h"

#include <dirent.h>
#include <sys/stat.h>

/* One refresh's worth of replay is enough to find what a file can do: bound the rest
 * so a large seed still runs in milliseconds. */
#define MAX_REFRESHES 64

static const char *const sides[] = {"", "-wal", "-journal", "-shm"};

static void remove_db(const char *path)
{
	char side[160];
	for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]); i++) {
		snprintf(side, sizeof(side), "%s%s", path, sides[i]);
		unlink(side);
	}
}

static void one_line(const char *what, const char *cause)
{
	if (!cause || !*cause || strchr(cause, '\n')) { /* an error says why, on one line */
		fprintf(stderr, "%s: error message '%s'\n", what, cause ? cause : "(none)");
		abort();
	}
}

/* Every file in the directory: name, size and a hash of its bytes. */
static uint32_t dir_state(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint32_t h = 0;

	if (!d)
		abort();
	while ((e = readdir(d))) {
		char name[300];
		struct stat st;
		if (e->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s", dir, e->d_name);
		if (stat(name, &st))
			abort();
		h ^= frame_crc32(0, e->d_name, strlen(e->d_name)) * 31 + (uint32_t)st.st_size;
		FILE *f = fopen(name, "rb");
		char buf[4096];
		size_t n;
		uint32_t c = 0;
		while (f && (n = fread(buf, 1, sizeof(buf), f)) > 0)
			c = frame_crc32(c, buf, n);
		if (f)
			fclose(f);
		h ^= c * 17;
	}
	closedir(d);
	return h;
}

/* Write the input's parts as the file and its side files. */
static void write_parts(const char *path, const uint8_t *data, size_t size)
{
	char side[160];

	if (size < 8 || memcmp(data, "LKTPFUZZ", 8)) {
		fuzz_write_file(path, data, size);
		return;
	}
	data += 8, size -= 8;
	for (size_t i = 0; i < sizeof(sides) / sizeof(sides[0]) && size >= 4; i++) {
		size_t len = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
		data += 4, size -= 4;
		if (len > size)
			len = size;
		snprintf(side, sizeof(side), "%s%s", path, sides[i]);
		fuzz_write_file(side, data, len);
		data += len, size -= len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[128];
	static FILE *devnull;
	if (!path[0]) {
		snprintf(path, sizeof(path), "%s/rec.db", fuzz_dir());
		if (!(devnull = fopen("/dev/null", "we")))
			abort();
	}
	remove_db(path);
	write_parts(path, data, size);
	uint32_t before = dir_state(fuzz_dir());

	struct source *src = NULL;
	char *cause = NULL;
	if (replay_source_new(&src, path, &cause) == 0) {
		struct snapshot *s = snapshot_new();
		struct history *h = history_new(NULL);
		if (!s || !h)
			abort();
		const struct record_info *info = replay_info(src);
		if (strchr(info->warning, '\n'))
			one_line("the warning", info->warning);
		/* What main.c takes from the recording for batch output. */
		struct batch_opts o = { .format = FMT_JSON, .sockets = true, .boot_time = info->boot_time,
					.clk_tck = info->clk_tck };
		size_t n = replay_count(src);
		int rc = 0;
		for (int i = 0; i < MAX_REFRESHES && (rc = source_next(src, s, &cause)) == 0; i++) {
			history_update(h, s);
			o.format = i % 2 ? FMT_JSON : FMT_TEXT;
			batch_write(devnull, s, h, &o);
		}
		history_free(h);
		if (rc < 0)
			one_line("source_next", cause);
		free(cause), cause = NULL;
		/* The time controls: back to the start, a time in the middle, the end. */
		if (n) {
			replay_seek(src, 0);
			replay_find_time(src, (replay_time(src, 0) + replay_time(src, (long)n - 1)) / 2);
			replay_tick(src, (long)n - 1);
			replay_seek(src, (long)n - 1);
			if (source_next(src, s, &cause) < 0)
				one_line("source_next after a seek", cause);
			free(cause), cause = NULL;
		}
		replay_seek(src, -5);
		replay_seek(src, (long)n + 5);
		source_next(src, s, &cause);
		free(cause), cause = NULL;
		snapshot_free(s);
		source_free(src);
	} else {
		one_line("replay_source_new", cause);
	}
	free(cause), cause = NULL;

	struct sqlite3 *db = NULL;
	struct record_info info;
	if (recread_open(&db, path, &info, &cause)) {
		one_line("recread_open", cause);
	} else {
		free(cause), cause = NULL;
		if (report_write(devnull, db, &info, path, NULL, &cause))
			one_line("report_write", cause);
		recread_close(db);
	}
	free(cause);
	/* A reader writes nothing: the file and whatever lies beside it as they were. */
	if (dir_state(fuzz_dir()) != before) {
		fprintf(stderr, "the replay changed, made or removed a file beside the recording\n");
		abort();
	}
	return 0;
}
