/* Writing a file under the user's home as root: every folder on the way opened
 * without following a symbolic link, so whoever owns a folder in HOME cannot point
 * leaktop's write somewhere else (F2's column setup, the action log). */
#ifndef LEAKTOP_USERFILE_H
#define LEAKTOP_USERFILE_H

#include <stddef.h>

/* The folder path's file goes in: each component opened with O_NOFOLLOW relative to
 * the one before, and made (0700) when missing. Returns the folder's descriptor, or
 * -errno with *cause ("/home/x/.config is a symbolic link: ..."); dir (dirsize bytes)
 * gets the folder's path, *base the file's name in it. */
int userfile_open_folder(const char *path, char *dir, size_t dirsize, const char **base, char **cause);

#endif
