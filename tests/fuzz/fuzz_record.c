/* libFuzzer target: recordings. The input is written as a database file, replayed
 * refresh by refresh through the replay source into a history and the batch output
 * (as `leaktop -r FILE -b` does), with the time controls' seeks, and summarised by
 * the report writer: a damaged file gives an error or less, never a crash. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "sources/recread.h"
#include "sources/replay.h"
#include "sources/source.h"
#include "tui/writers/batch.h"
#include "model/history.h"
#include "tui/writers/report.h"
#include "model/snapshot.h"

/* One refresh's worth of replay is enough to find what a file can do: bound the rest
 * so a large seed still runs in milliseconds. */
#define MAX_REFRESHES 64

static void remove_db(const char *path)
{
	char side[160];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
}

static void one_line(const char *what, const char *cause)
{
	if (!cause || !*cause || strchr(cause, '\n')) { /* an error says why, on one line */
		fprintf(stderr, "%s: error message '%s'\n", what, cause ? cause : "(none)");
		abort();
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
	fuzz_write_file(path, data, size);

	struct source *src = NULL;
	char *cause = NULL;
	if (replay_source_new(&src, path, &cause) == 0) {
		struct snapshot *s = snapshot_new();
		struct history *h = history_new(NULL);
		if (!s || !h)
			abort();
		const struct record_info *info = replay_info(src);
		/* What tui/main.c takes from the recording for batch output. */
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
		if (report_write(devnull, db, &info, path, &cause))
			one_line("report_write", cause);
		recread_close(db);
	}
	free(cause);
	return 0;
}
