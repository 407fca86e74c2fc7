/* Files written under the user's home, through no symbolic link. */
#include "config.h"

#include "program/userfile.h"
#include "model/text.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A symlinked ~/.config/leaktop had root write its file wherever the link's owner
 * pointed it. */
int userfile_open_folder(const char *path, char *dir, size_t dirsize, const char **base, char **cause)
{
	char *slash;
	int fd;

	if (snprintf(dir, dirsize, "%s", path) >= (int)dirsize)
		return text_cause(cause, -ENAMETOOLONG, "%s: name too long", path);
	slash = strrchr(dir, '/');
	*base = slash ? path + (slash - dir) + 1 : path;
	if (!**base)
		return text_cause(cause, -EISDIR, "%s: names a folder, not a file", path);
	if (slash)
		slash[slash == dir] = '\0';
	else
		snprintf(dir, dirsize, ".");
	if ((fd = open(*dir == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return text_cause(cause, -errno, "%s: %s", dir, strerror(errno));
	char *save = NULL;
	for (char *c = strtok_r(dir, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && (!mkdirat(fd, c, 0700) || errno == EEXIST))
			next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		struct stat st;
		if (next < 0 && (e == ELOOP || e == ENOTDIR) && !fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW) &&
		    S_ISLNK(st.st_mode)) {
			close(fd);
			/* strtok_r cut dir at c: it names the link now. */
			return text_cause(cause, -ELOOP, "%s is a symbolic link: leaktop writes its files "
					  "through none (give the real path)", dir);
		}
		close(fd);
		if (next < 0)
			return text_cause(cause, -e, "%s: %s", dir, strerror(e));
		fd = next;
		if (save && *save)
			save[-1] = '/'; /* strtok_r's cut undone: dir names what is opened so far */
	}
	return fd;
}

