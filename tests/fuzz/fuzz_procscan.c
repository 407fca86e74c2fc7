/* libFuzzer target: what leaktop reads from /proc. The input is written into a fake
 * proc tree (one process, pid 100) that the real scan reads, and the public parsers
 * get their pieces too. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "sources/procscan.h"
#include "model/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

/* Input: texts separated by NUL bytes, in this order (missing ones are empty):
 *   100/stat, 100/limits, sys/fs/file-nr, the fd table as "NAME TARGET" lines (NAME
 *   an entry of 100/fd/, TARGET where its link points), a cgroup file, ROOT/stat
 *   (btime), then the comm and command line libproc2 would report. */
enum { P_STAT, P_LIMITS, P_FILENR, P_FDS, P_CGROUP, P_ROOTSTAT, P_COMM, P_CMDLINE, P_COUNT };

struct fake {
	struct procinfo pi;
};

static int fake_read(void *ctx, int (*fn)(void *arg, const struct procinfo *pi), void *arg, char **cause)
{
	(void)cause;
	return fn(arg, &((struct fake *)ctx)->pi);
}

/* Field 22 of a stat line, counted after the last ')' as the kernel writes it: the
 * reader's start time, so the scan takes the process for the one it listed. */
static uint64_t stat_start(const char *text)
{
	const char *s = strrchr(text, ')');
	if (!s)
		return 0;
	s++;
	for (int field = 3; field < 22 && *s; field++) {
		while (*s == ' ')
			s++;
		while (*s && *s != ' ')
			s++;
	}
	return strtoull(s, NULL, 10);
}

static void put(const char *root, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", root, name);
	fuzz_write_file(path, text, strlen(text));
}

/* A new 100/fd/ with the links the input lists (at most 64). */
static void make_fds(const char *root, char *list)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/100/fd", root);
	fuzz_rm_tree(path);
	if (mkdir(path, 0700))
		abort();
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0;
	if (dfd < 0)
		abort();
	for (char *line = strtok(list, "\n"); line && n < 64; line = strtok(NULL, "\n")) {
		char *sp = strchr(line, ' ');
		if (!sp || sp == line || !sp[1])
			continue;
		*sp = '\0';
		if (strchr(line, '/') || !strcmp(line, ".") || !strcmp(line, "..") || strlen(line) > 255)
			continue;
		if (symlinkat(sp + 1, dfd, line) == 0)
			n++;
	}
	close(dfd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char root[128];
	char *part[P_COUNT];

	if (!root[0]) {
		snprintf(root, sizeof(root), "%s/proc", fuzz_dir());
		char path[200];
		const char *dirs[] = {"", "/100", "/100/fd", "/sys", "/sys/fs"};
		for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
			snprintf(path, sizeof(path), "%s%s", root, dirs[i]);
			if (mkdir(path, 0700))
				abort();
		}
	}
	for (int i = 0; i < P_COUNT; i++)
		part[i] = fuzz_take(&data, &size, '\0');

	/* The parsers on their own. */
	uint64_t a, b;
	procscan_parse_limits(part[P_LIMITS], &a, &b);
	procscan_parse_file_nr(part[P_FILENR], &a, &b);
	char container[64];
	procscan_container(part[P_CGROUP], container, sizeof(container));
	if (strlen(container) >= sizeof(container))
		abort();

	/* The scan of the tree they make. */
	put(root, "100/stat", part[P_STAT]);
	put(root, "100/limits", part[P_LIMITS]);
	put(root, "sys/fs/file-nr", part[P_FILENR]);
	put(root, "stat", part[P_ROOTSTAT]);
	char *fds = strdup(part[P_FDS]);
	for (char *line = strtok(fds, "\n"); line; line = strtok(NULL, "\n")) {
		char *sp = strchr(line, ' ');
		if (sp)
			procscan_socket_inode(sp + 1);
	}
	free(fds);
	make_fds(root, part[P_FDS]);
	procscan_boot_time(root);

	struct fake f = { .pi = {
		.pid = 100, .ppid = 1, .uid = 1000, .start_time = stat_start(part[P_STAT]),
		.netns = 4026531840u, .rss_kb = 1, .state = 'S', .comm = part[P_COMM], .user = "app",
		.unit = "app.service", .cmdline = part[P_CMDLINE], .container = container,
	} };
	struct procscan *p = NULL;
	char *cause = NULL;
	if (procscan_new(&p, root, &cause))
		abort();
	procscan_set_reader(p, fake_read, &f);
	for (int pass = 0; pass < 2; pass++) {
		struct snapshot *s = snapshot_new();
		if (!s)
			abort();
		procscan_scan(p, s, &cause);
		free(cause), cause = NULL;
		if (snapshot_build_checked(s, procscan_fd_check, p) == 0) {
			procscan_note_dump(p, s);
			procscan_recheck(p, s);
		}
		snapshot_free(s);
	}
	procscan_free(p);
	for (int i = 0; i < P_COUNT; i++)
		free(part[i]);
	return 0;
}
