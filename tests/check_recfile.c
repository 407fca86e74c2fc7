/* Where a recording may go: another user's file, a FIFO, a directory, a symlink or
 * a side file someone left are refused with a message saying why, and a refused
 * recording leaves no file of its own behind. */
#include "config.h"

#include "recording/record.h"
#include "tests/testkit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[TESTKIT_DIR_MAX];

static void setup(void)
{
	testkit_mkdir(dir, "recfile");
}

static void teardown(void)
{
	ck_assert_int_eq(testkit_rmdir(dir), 0);
}

/* The names in folder d, sorted, joined by spaces. */
static char *names_in(const char *d)
{
	struct dirent **e;
	char *out = calloc(1, 4096);
	int n = scandir(d, &e, NULL, alphasort);

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(e[i]->d_name, ".") && strcmp(e[i]->d_name, ".."))
			snprintf(out + strlen(out), 4096 - strlen(out), "%s%s", *out ? " " : "", e[i]->d_name);
		free(e[i]);
	}
	free(e);
	return out;
}

/* record_open(file) fails, saying words, and the folder holds just what it held. */
static void assert_refused(const char *file, const char *words)
{
	struct record_info info = {.interval = 1};
	struct record *r = NULL;
	char *cause = NULL, *before = names_in(dir), *after;

	ck_assert_int_lt(record_open(&r, file, &info, &cause), 0);
	ck_assert_ptr_null(r);
	ck_assert_msg(cause && strstr(cause, words), "'%s' lacks '%s'", cause ? cause : "(null)", words);
	ck_assert_ptr_null(strchr(cause, '\n'));
	after = names_in(dir);
	ck_assert_msg(!strcmp(before, after), "left behind: [%s] became [%s]", before, after);
	free(before);
	free(after);
	free(cause);
}

START_TEST(fifo_directory_and_symlink_refused)
{
	char name[128];

	snprintf(name, sizeof(name), "%s/fifo", dir);
	ck_assert_int_eq(mkfifo(name, 0600), 0);
	assert_refused(name, "is a FIFO");
	snprintf(name, sizeof(name), "%s/sub", dir);
	ck_assert_int_eq(mkdir(name, 0700), 0);
	assert_refused(name, "is a directory");
	snprintf(name, sizeof(name), "%s/link", dir);
	ck_assert_int_eq(symlink("/tmp/check_recfile_never_created", name), 0);
	assert_refused(name, "is a symbolic link");
	ck_assert_int_eq(access("/tmp/check_recfile_never_created", F_OK), -1);
}
END_TEST

/* A file of another user in a sticky world-writable folder (/tmp): the one who made
 * it empty would read the recording. As root: a file chowned to nobody; and nobody
 * (a child that drops to it) is refused root's file. */
START_TEST(another_users_file_refused)
{
	char name[128];
	struct stat st;
	int fd;

	if (geteuid() != 0) {
		fprintf(stderr, "check_recfile: not root: another user's file cannot be made; skipped\n");
		return;
	}
	snprintf(name, sizeof(name), "%s/theirs.db", dir);
	ck_assert_int_ge(fd = open(name, O_CREAT | O_WRONLY, 0666), 0);
	close(fd);
	ck_assert_int_eq(chown(name, 65534, 65534), 0);
	ck_assert_int_eq(chmod(name, 0666), 0);
	assert_refused(name, "belongs to");
	ck_assert_int_eq(stat(name, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0666); /* not chmod'ed either: not ours */

	/* The other way round, in a sticky folder like /tmp: root made the file, nobody
	 * may not take it (fs.protected_regular is left as it is). */
	ck_assert_int_eq(chmod(dir, 01777), 0);
	snprintf(name, sizeof(name), "%s/roots.db", dir);
	ck_assert_int_ge(fd = open(name, O_CREAT | O_WRONLY, 0666), 0);
	close(fd);
	ck_assert_int_eq(chmod(name, 0666), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct record_info info = {.interval = 1};
		struct record *r = NULL;
		char *cause = NULL;
		if (setgid(65534) || setuid(65534))
			_exit(3);
		int rc = record_open(&r, name, &info, &cause);
		_exit(rc < 0 && cause && strstr(cause, "belongs to root") ? 0 : 1);
	}
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "nobody took root's empty file (%d)", status);
	ck_assert_int_eq(stat(name, &st), 0);
	ck_assert_int_eq(st.st_size, 0);
}
END_TEST

/* SQLite opens FILE-wal and FILE-shm by name, whoever made them: one left there
 * beforehand is refused, and the file leaktop had just created is removed. */
START_TEST(side_file_left_there_refused)
{
	char name[128], side[160];
	int fd;

	snprintf(name, sizeof(name), "%s/rec.db", dir);
	snprintf(side, sizeof(side), "%s-wal", name);
	ck_assert_int_ge(fd = open(side, O_CREAT | O_WRONLY, 0666), 0);
	close(fd);
	assert_refused(name, "rec.db-wal already exists");
	ck_assert_int_eq(access(name, F_OK), -1);
}
END_TEST

/* A path through a symlinked folder is refused (SQLite follows none) with what to
 * do, and the file created before SQLite said so is gone again. */
START_TEST(failure_leaves_nothing_behind)
{
	char real[128], link[128], name[160], *left;

	snprintf(real, sizeof(real), "%s/real", dir);
	snprintf(link, sizeof(link), "%s/link", dir);
	ck_assert_int_eq(mkdir(real, 0700), 0);
	ck_assert_int_eq(symlink("real", link), 0);
	snprintf(name, sizeof(name), "%s/rec.db", link);
	assert_refused(name, "symbolic link");
	left = names_in(real);
	ck_assert_msg(!*left, "left in the folder: %s", left);
	free(left);

	/* And a good one still works and leaves just the file once closed. */
	struct record_info info = {.interval = 1};
	struct record *r = NULL;
	char *cause = NULL;
	snprintf(name, sizeof(name), "%s/rec.db", real);
	ck_assert_int_eq(record_open(&r, name, &info, &cause), 0);
	record_close(r);
	left = names_in(real);
	ck_assert_str_eq(left, "rec.db");
	free(left);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "core", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			fifo_directory_and_symlink_refused,
			another_users_file_refused,
			side_file_left_there_refused,
			failure_leaves_nothing_behind)},
	};

	return TESTKIT_RUN("recfile", cases);
}
