/* The file a recording goes to, made safe before SQLite opens it by name: created
 * 0600 (or an empty one of our own reused), never through a symlink, never another
 * user's, with no SQLite side file (-journal, -wal, -shm) beside it, and removed
 * again when the recording cannot start. */
#ifndef LEAKTOP_RECFILE_H
#define LEAKTOP_RECFILE_H

#include <stdbool.h>
#include <sys/types.h>

enum recfile_side { RF_MAIN, RF_JOURNAL, RF_WAL, RF_SHM, RF_COUNT };

struct recfile {
	const char *path;
	bool created[RF_COUNT]; /* made by recfile_create: removed by recfile_undo (the
				 * file itself; side files are only checked for) */
	dev_t dev[RF_COUNT];
	ino_t ino[RF_COUNT];
};

/* Create path, or take an empty regular file owned by the effective user (mode
 * made 0600). Refuses a symlink, a FIFO, a directory or
 * any other non-regular file, a file owned by someone else, a non-empty file and a
 * side file that already exists, each with a one-line *cause saying what to do.
 * Nothing it created is left behind when it fails. Returns 0 or -errno. */
int recfile_create(struct recfile *f, const char *path, char **cause);

/* Check that path still names the file checked by recfile_create (it was not
 * swapped since). Returns 0 or -errno with *cause. */
int recfile_verify(const struct recfile *f, char **cause);

/* The recording could not start: remove what recfile_create made, where the name
 * still holds that very file. */
void recfile_undo(struct recfile *f);

#endif
