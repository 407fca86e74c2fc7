/* How SQLite reaches a recording's files: through VFSs that open the file itself and
 * nothing beside it. A reader never writes, never creates, removes or changes the
 * ownership of a file (no -journal, -wal or -shm is made or rolled back), and
 * reads a file still being written under SQLite's own read lock; the writer opens
 * the file it was given and no side file (format 3 keeps its journal in memory). */
#ifndef LEAKTOP_RECVFS_H
#define LEAKTOP_RECVFS_H

#include <stdint.h>

/* The VFS names for sqlite3_open_v2, known to SQLite once recvfs_register() ran. */
#define RECVFS_WRITE "leaktop-write"
/* Read-only; a WAL-mode file (format 2) reads as if its WAL were empty. */
#define RECVFS_READ "leaktop-read"
/* Read-only, with FILE-wal read too (opened read-only, never a symlink), its index
 * kept in this process's memory instead of FILE-shm. Only for a WAL nobody else has
 * open: a writer could reuse it under this reader. */
#define RECVFS_READ_WAL "leaktop-read-wal"

/* Register the three (once; thread-safe). Returns an SQLite result code. */
int recvfs_register(void);

/* The byte where SQLite's locks of a database file start (its PENDING byte), and
 * the read locks every SQLite connection holds on FILE-shm while it has it open. */
#define RECVFS_PENDING_BYTE 0x40000000
#define RECVFS_SHM_DMS 128

#endif
