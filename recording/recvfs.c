/* SQLite VFSs for recordings: a reader that opens the file read-only and nothing else
 * (its own small file implementation: no inode sharing, no chown, no O_CREAT), and a
 * writer that hands the file to SQLite's own VFS but refuses every side file. */
#include "config.h"

#include "recording/recvfs.h"
#include "model/vec.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* SQLite's lock bytes (os_unix.c): a reader read-locks one of the SHARED range after
 * checking that no writer holds PENDING; a writer write-locks them all to commit. */
#define RESERVED_BYTE (RECVFS_PENDING_BYTE + 1)
#define SHARED_FIRST (RECVFS_PENDING_BYTE + 2)
#define SHARED_SIZE 510

static sqlite3_vfs *base_vfs; /* SQLite's own (unix) */

/* A file as the reader sees it. */
struct ro_file {
	sqlite3_file base;
	int fd;          /* -1: the empty WAL a reader without one is given */
	bool main;       /* the database itself (locks, whole pages) */
	int lock;        /* SQLITE_LOCK_NONE or _SHARED */
	bool nolock;     /* the filesystem has no locks: read without */
	void **shm;      /* the WAL index, in this process's memory */
	int nshm;
};

static int ro_close(sqlite3_file *f)
{
	struct ro_file *p = (struct ro_file *)f;

	for (int i = 0; i < p->nshm; i++)
		free(p->shm[i]);
	free(p->shm);
	p->shm = NULL;
	p->nshm = 0;
	if (p->fd >= 0)
		close(p->fd); /* any lock of ours goes with it (OFD locks) */
	p->fd = -1;
	return SQLITE_OK;
}

/* The size SQLite may read: a database file's whole pages only. A file cut short
 * in the middle of a page holds its first bytes and zeros after them, which could
 * pass for rows; treated as missing, the page reads as damaged instead. */
static sqlite3_int64 ro_visible(struct ro_file *p)
{
	unsigned char h[18];
	struct stat st;

	if (p->fd < 0 || fstat(p->fd, &st))
		return 0;
	if (!p->main || st.st_size < 100 || pread(p->fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h, "SQLite format 3", 16))
		return st.st_size;
	unsigned page = (unsigned)h[16] << 8 | h[17];
	if (page == 1)
		page = 65536;
	if (page < 512 || (page & (page - 1)))
		return st.st_size;
	return st.st_size / page * page;
}

static int ro_read(sqlite3_file *f, void *buf, int amt, sqlite3_int64 off)
{
	struct ro_file *p = (struct ro_file *)f;
	sqlite3_int64 size = ro_visible(p);
	size_t want = off >= size ? 0 : (size_t)(size - off < amt ? size - off : amt), got = 0;

	while (got < want) {
		ssize_t n = pread(p->fd, (char *)buf + got, want - got, (off_t)(off + (sqlite3_int64)got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return SQLITE_IOERR_READ;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got < (size_t)amt) {
		memset((char *)buf + got, 0, (size_t)amt - got);
		return SQLITE_IOERR_SHORT_READ;
	}
	return SQLITE_OK;
}

static int ro_write(sqlite3_file *f, const void *buf, int amt, sqlite3_int64 off)
{
	(void)f, (void)buf, (void)amt, (void)off;
	return SQLITE_READONLY;
}

static int ro_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	(void)f, (void)size;
	return SQLITE_READONLY;
}

static int ro_sync(sqlite3_file *f, int flags)
{
	(void)f, (void)flags;
	return SQLITE_OK;
}

static int ro_size(sqlite3_file *f, sqlite3_int64 *size)
{
	*size = ro_visible((struct ro_file *)f);
	return SQLITE_OK;
}

/* An OFD lock (of this open file only: no other descriptor of this process, such as
 * a second connection's, takes it away when it closes); it conflicts with the
 * writer's POSIX locks. Returns 0, or the errno. */
static int ofd_lock(int fd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len};

	while (fcntl(fd, F_OFD_SETLK, &fl) == -1)
		if (errno != EINTR)
			return errno;
	return 0;
}

/* SQLite's SHARED lock and no other: a writer cannot commit while a refresh is read,
 * and the reader never holds anything that stops it for longer. */
static int ro_lock(sqlite3_file *f, int level)
{
	struct ro_file *p = (struct ro_file *)f;
	int e;

	if (level <= p->lock)
		return SQLITE_OK;
	if (level > SQLITE_LOCK_SHARED)
		return SQLITE_BUSY; /* a reader never writes, nor checkpoints a WAL */
	if (!p->main || p->nolock) {
		p->lock = level;
		return SQLITE_OK;
	}
	if ((e = ofd_lock(p->fd, F_RDLCK, RECVFS_PENDING_BYTE, 1)) == 0) {
		e = ofd_lock(p->fd, F_RDLCK, SHARED_FIRST, SHARED_SIZE);
		ofd_lock(p->fd, F_UNLCK, RECVFS_PENDING_BYTE, 1);
	}
	if (e == EAGAIN || e == EACCES)
		return SQLITE_BUSY;
	/* A filesystem without locks (some network ones): the rows are checked anyway. */
	if (e)
		p->nolock = true;
	p->lock = level;
	return SQLITE_OK;
}

static int ro_unlock(sqlite3_file *f, int level)
{
	struct ro_file *p = (struct ro_file *)f;

	if (level < SQLITE_LOCK_SHARED && p->lock >= SQLITE_LOCK_SHARED && p->main && !p->nolock)
		ofd_lock(p->fd, F_UNLCK, SHARED_FIRST, SHARED_SIZE);
	if (level < p->lock)
		p->lock = level;
	return SQLITE_OK;
}

static int ro_reserved(sqlite3_file *f, int *out)
{
	struct ro_file *p = (struct ro_file *)f;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = RESERVED_BYTE, .l_len = 1};

	*out = 0;
	if (p->main && !p->nolock && fcntl(p->fd, F_OFD_GETLK, &fl) == 0)
		*out = fl.l_type != F_UNLCK;
	return SQLITE_OK;
}

static int ro_control(sqlite3_file *f, int op, void *arg)
{
	(void)f, (void)op, (void)arg;
	return SQLITE_NOTFOUND;
}

static int ro_sector(sqlite3_file *f)
{
	(void)f;
	return 4096;
}

static int ro_device(sqlite3_file *f)
{
	(void)f;
	return 0;
}

/* The WAL index in heap memory: this reader alone uses it, and builds it from the
 * WAL when it first reads (SQLite's recovery, which writes only here). */
static int ro_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
	struct ro_file *p = (struct ro_file *)f;

	*out = NULL;
	if (region >= p->nshm) {
		if (!extend)
			return SQLITE_OK;
		size_t cap = (size_t)p->nshm;
		if (vec_resize(&p->shm, &cap, (size_t)region + 1, sizeof(*p->shm)))
			return SQLITE_NOMEM;
		for (; p->nshm <= region; p->nshm++)
			if (!(p->shm[p->nshm] = calloc(1, (size_t)size)))
				return SQLITE_NOMEM;
	}
	*out = p->shm[region];
	return SQLITE_OK;
}

static int ro_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
	(void)f, (void)offset, (void)n, (void)flags;
	return SQLITE_OK;
}

/* A full barrier as a read-modify-write of one shared word rather than a fence: the
 * same ordering between two connections' barriers (each synchronizes with the last),
 * and one ThreadSanitizer can see (it does not model fences; gcc refuses one there). */
static void ro_shm_barrier(sqlite3_file *f)
{
	static int word;

	(void)f;
	__atomic_fetch_add(&word, 0, __ATOMIC_SEQ_CST);
}

static int ro_shm_unmap(sqlite3_file *f, int del)
{
	struct ro_file *p = (struct ro_file *)f;

	(void)del;
	for (int i = 0; i < p->nshm; i++)
		free(p->shm[i]);
	free(p->shm);
	p->shm = NULL;
	p->nshm = 0;
	return SQLITE_OK;
}

static const sqlite3_io_methods ro_methods = {
	.iVersion = 2,
	.xClose = ro_close,
	.xRead = ro_read,
	.xWrite = ro_write,
	.xTruncate = ro_truncate,
	.xSync = ro_sync,
	.xFileSize = ro_size,
	.xLock = ro_lock,
	.xUnlock = ro_unlock,
	.xCheckReservedLock = ro_reserved,
	.xFileControl = ro_control,
	.xSectorSize = ro_sector,
	.xDeviceCharacteristics = ro_device,
	.xShmMap = ro_shm_map,
	.xShmLock = ro_shm_lock,
	.xShmBarrier = ro_shm_barrier,
	.xShmUnmap = ro_shm_unmap,
};

static sqlite3_vfs ro_vfs, ro_wal_vfs, rw_vfs;

/* Open a file to read: a regular file, never through a FIFO or device (O_NONBLOCK:
 * the open itself cannot hang), the last component never a symlink when nofollow. */
static int open_regular(const char *name, bool nofollow)
{
	struct stat st;
	int fd = open(name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (nofollow ? O_NOFOLLOW : 0));

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

static int ro_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	struct ro_file *p = (struct ro_file *)f;

	/* SQLite's own temporary files (a large sort) have no name: nowhere near the
	 * recording, and removed at once. */
	if (!name)
		return base_vfs->xOpen(base_vfs, name, f, flags, out);
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	if (flags & SQLITE_OPEN_MAIN_DB) {
		p->main = true;
		if ((p->fd = open_regular(name, false)) < 0)
			return SQLITE_CANTOPEN;
	} else if (flags & SQLITE_OPEN_WAL) {
		/* A WAL-mode file read without its WAL: an empty one stands in. */
		if (vfs == &ro_wal_vfs && (p->fd = open_regular(name, true)) < 0)
			return SQLITE_CANTOPEN;
	} else {
		return SQLITE_CANTOPEN; /* a journal, a temporary database: never */
	}
	p->base.pMethods = &ro_methods;
	if (out)
		*out = (flags & ~(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_READONLY;
	return SQLITE_OK;
}

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && !strcmp(s + n - m, tail);
}

/* Side files are not there for SQLite: no hot journal to roll back, no WAL to
 * replay (unless asked for), none to remove. */
static int side_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	if (ends_with(name, "-journal") || (vfs != &ro_wal_vfs && ends_with(name, "-wal"))) {
		*out = 0;
		return SQLITE_OK;
	}
	return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int no_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	(void)vfs, (void)name, (void)sync;
	return SQLITE_IOERR_DELETE;
}

/* The writer: the file recfile made, through SQLite's own VFS (no symlink on the
 * way), and nothing else by name. */
static int rw_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out)
{
	(void)vfs;
	if (name && !(flags & SQLITE_OPEN_MAIN_DB))
		return SQLITE_CANTOPEN;
	return base_vfs->xOpen(base_vfs, name, f, name ? flags | SQLITE_OPEN_NOFOLLOW : flags, out);
}

#define PASS(fn, ...) base_vfs->fn(base_vfs, __VA_ARGS__)
static int full_path(sqlite3_vfs *v, const char *name, int n, char *out)
{
	(void)v;
	return PASS(xFullPathname, name, n, out);
}
static int randomness(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return PASS(xRandomness, n, out);
}
static int sleep_us(sqlite3_vfs *v, int us)
{
	(void)v;
	return PASS(xSleep, us);
}
static int current_time(sqlite3_vfs *v, double *out)
{
	(void)v;
	return PASS(xCurrentTime, out);
}
static int last_error(sqlite3_vfs *v, int n, char *out)
{
	(void)v;
	return PASS(xGetLastError, n, out);
}
static int current_time64(sqlite3_vfs *v, sqlite3_int64 *out)
{
	(void)v;
	return PASS(xCurrentTimeInt64, out);
}

static int register_rc = SQLITE_ERROR;

static void fill(sqlite3_vfs *v, const char *name, int (*open)(sqlite3_vfs *, const char *, sqlite3_file *, int, int *))
{
	*v = (sqlite3_vfs){
		.iVersion = 2,
		.szOsFile = base_vfs->szOsFile > (int)sizeof(struct ro_file) ? base_vfs->szOsFile : (int)sizeof(struct ro_file),
		.mxPathname = base_vfs->mxPathname,
		.zName = name,
		.xOpen = open,
		.xDelete = no_delete,
		.xAccess = side_access,
		.xFullPathname = full_path,
		.xRandomness = randomness,
		.xSleep = sleep_us,
		.xCurrentTime = current_time,
		.xGetLastError = last_error,
		.xCurrentTimeInt64 = current_time64,
	};
}

static void register_once(void)
{
	int rc = sqlite3_initialize();

	if (rc != SQLITE_OK)
		return (void)(register_rc = rc);
	if (!(base_vfs = sqlite3_vfs_find(NULL)) || base_vfs->iVersion < 2)
		return;
	fill(&ro_vfs, RECVFS_READ, ro_open);
	fill(&ro_wal_vfs, RECVFS_READ_WAL, ro_open);
	fill(&rw_vfs, RECVFS_WRITE, rw_open);
	if ((rc = sqlite3_vfs_register(&ro_vfs, 0)) || (rc = sqlite3_vfs_register(&ro_wal_vfs, 0)) ||
	    (rc = sqlite3_vfs_register(&rw_vfs, 0)))
		return (void)(register_rc = rc);
	register_rc = SQLITE_OK;
}

int recvfs_register(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_once);
	return register_rc;
}
