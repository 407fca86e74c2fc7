/* Making the file a recording goes to: 0600, ours, regular, never reached through a
 * symlink, with no side file beside it that SQLite would take for its own. */
#include "config.h"

#include "recording/recfile.h"
#include "model/text.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const side_suffix[RF_COUNT] = {
	[RF_MAIN] = "", [RF_JOURNAL] = "-journal", [RF_WAL] = "-wal", [RF_SHM] = "-shm",
};
_Static_assert(sizeof(side_suffix) / sizeof(side_suffix[0]) == RF_COUNT, "a suffix per side file");

static void side_name(const struct recfile *f, enum recfile_side i, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", f->path, side_suffix[i]);
}

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket" :
	       S_ISLNK(m) ? "a symbolic link" : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a regular file";
}

static const char *user_name(uid_t uid, char *buf, size_t n)
{
	struct passwd pw, *res = NULL;
	char tmp[1024];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) == 0 && res)
		snprintf(buf, n, "%s (uid %u)", pw.pw_name, (unsigned)uid);
	else
		snprintf(buf, n, "uid %u", (unsigned)uid);
	return buf;
}

/* What an existing name is and why it will not do. */
static int refuse_existing(const char *name, const struct stat *st, bool side, char **cause)
{
	char who[300], me[300];

	if (!S_ISREG(st->st_mode))
		return text_cause(cause, -EINVAL, "%s is %s; a recording is written only to a new or empty regular file "
				  "(choose another name)", name, kind_of(st->st_mode));
	if (st->st_uid != geteuid())
		return text_cause(cause, -EPERM, "%s belongs to %s, not to %s: whoever owns it could read the recording "
				  "(remove it or choose a name in a folder only you can write)", name,
				  user_name(st->st_uid, who, sizeof(who)), user_name(geteuid(), me, sizeof(me)));
	if (side)
		return text_cause(cause, -EEXIST, "%s already exists, left by an SQLite program (sqlite3, an older leaktop) that "
				  "was killed: any SQLite reader would take it for the recording's (remove it or choose "
				  "another name)", name);
	return text_cause(cause, -EEXIST, "%s already exists; leaktop does not overwrite a file "
			  "(remove it or choose another name)", name);
}

/* A side file someone left (SQLite names them after the file): another SQLite
 * program would take it for this file's, so the name is refused. leaktop itself
 * never opens one (recording/record.c keeps its journal in memory). */
static int check_side(struct recfile *f, enum recfile_side i, char **cause)
{
	char name[4200];
	struct stat st;

	side_name(f, i, name, sizeof(name));
	if (lstat(name, &st) == 0)
		return refuse_existing(name, &st, true, cause);
	if (errno != ENOENT)
		return text_cause(cause, -errno, "cannot check %s: %s", name, strerror(errno));
	return 0;
}

static int open_main(struct recfile *f, char **cause)
{
	const char *path = f->path;
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);

	if (fd >= 0) {
		f->created[RF_MAIN] = true;
	} else if (errno == EEXIST) {
		/* An empty file made beforehand (mktemp): checked on the descriptor we
		 * opened, so what is checked is what is used. O_NONBLOCK: a FIFO does
		 * not hang the open. */
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
		if (fd < 0 && (errno == ELOOP || errno == EISDIR || errno == ENXIO || errno == EACCES) &&
		    lstat(path, &st) == 0 && (!S_ISREG(st.st_mode) || st.st_uid != geteuid()))
			return refuse_existing(path, &st, false, cause);
	}
	if (fd < 0)
		return text_cause(cause, -errno, "cannot create %s: %s", path, strerror(errno));
	if (fstat(fd, &st)) {
		int e = errno;
		close(fd);
		return text_cause(cause, -e, "cannot check %s: %s", path, strerror(e));
	}
	f->dev[RF_MAIN] = st.st_dev;
	f->ino[RF_MAIN] = st.st_ino;
	if (!f->created[RF_MAIN] && (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size > 0)) {
		close(fd);
		return refuse_existing(path, &st, false, cause);
	}
	if (!f->created[RF_MAIN] && fchmod(fd, 0600)) {
		int e = errno;
		close(fd);
		return text_cause(cause, -e, "cannot chmod %s: %s", path, strerror(e));
	}
	close(fd);
	return 0;
}

int recfile_create(struct recfile *f, const char *path, char **cause)
{
	int rc;

	memset(f, 0, sizeof(*f));
	f->path = path;
	if ((rc = open_main(f, cause)))
		return rc;
	for (int i = RF_MAIN + 1; i < RF_COUNT; i++)
		if ((rc = check_side(f, (enum recfile_side)i, cause))) {
			recfile_undo(f);
			return rc;
		}
	return 0;
}

int recfile_verify(const struct recfile *f, char **cause)
{
	struct stat st;

	if (lstat(f->path, &st) || st.st_dev != f->dev[RF_MAIN] || st.st_ino != f->ino[RF_MAIN])
		return text_cause(cause, -EBUSY, "%s was replaced while leaktop opened it; recording refused", f->path);
	return 0;
}

void recfile_undo(struct recfile *f)
{
	char name[4200];
	struct stat st;

	for (int i = 0; i < RF_COUNT; i++) {
		side_name(f, (enum recfile_side)i, name, sizeof(name));
		if (f->created[i] && lstat(name, &st) == 0 && st.st_dev == f->dev[i] && st.st_ino == f->ino[i])
			unlink(name);
		f->created[i] = false;
	}
}
