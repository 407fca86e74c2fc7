/* The thread dump (SIGQUIT) done safely: what the target does with SIGQUIT before it
 * is sent, what happened after (dumped, ignored, terminated), and the dump itself
 * read back from the file its stdout or stderr appends to. No curses. */
#ifndef LEAKTOP_TDUMP_H
#define LEAKTOP_TDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct action_log;
struct proc_rec;

/* What SIGQUIT will do to a process, from SigCgt and SigIgn of /proc/PID/status. */
enum tdump_disp {
	TDUMP_CAUGHT,   /* a handler: a JVM prints its threads and goes on */
	TDUMP_DEFAULT,  /* no handler: the process terminates, maybe with a core dump */
	TDUMP_IGNORED,  /* ignored: nothing happens */
	TDUMP_UNKNOWN,  /* /proc/PID/status could not be read */
	TDUMP_DISP_COUNT
};

/* Read pid's SIGQUIT disposition under proc_root ("/proc"). Returns 0 or -errno
 * (then *d is TDUMP_UNKNOWN). */
int tdump_disposition(const char *proc_root, int32_t pid, enum tdump_disp *d);

/* One line for the confirmation: "it will print a thread dump and keep running",
 * "it has no SIGQUIT handler: it will TERMINATE (and may dump core)", ... */
const char *tdump_disp_warning(enum tdump_disp d);

/* The key that confirms a thread dump for this disposition: 'K' when the process
 * will die (so a reflex 'y' cannot kill it), 'y' otherwise. */
int tdump_confirm_key(enum tdump_disp d);

/* What happened after SIGQUIT was sent. */
enum tdump_outcome { TDUMP_DUMPED, TDUMP_NOTHING, TDUMP_TERMINATED, TDUMP_OUTCOME_COUNT };

/* "dumped (still running)", "ignored (nothing happened)", "terminated". */
const char *tdump_outcome_name(enum tdump_outcome o);

/* Wait up to wait_ms for pid (the process that started at start_time) to go, and
 * say what became of it: TDUMP_TERMINATED when it exited, became a zombie or its pid
 * now belongs to another process; else TDUMP_NOTHING when disp is TDUMP_IGNORED, else
 * TDUMP_DUMPED. A process that catches SIGQUIT is looked at once, after a short
 * grace; one that does not is polled until it goes or wait_ms passes. */
enum tdump_outcome tdump_wait_outcome(const char *proc_root, int32_t pid, uint64_t start_time,
				      enum tdump_disp disp, int wait_ms);

/* --- the dump, read back from the file it went to ---------------------------------- */

#define TDUMP_TEXT_MAX (8 * 1024 * 1024)

/* Where fds 1 and 2 of the target write, when they are regular files, and how long
 * each was before the signal. Each file is opened once, before the signal (through
 * /proc/PID/fd/N, O_NONBLOCK, and kept only when that descriptor is a regular file),
 * and read through that descriptor: the target cannot swap a FIFO in between (its
 * SIGQUIT handler may), so nothing here can block on an open or a read. */
struct tdump_capture {
	int nfiles;
	struct {
		int fd;            /* ours, read-only: what was appended is read through it */
		char shown[512];   /* the file's name (escaped), for the dump's title */
		uint64_t dev, ino;
		int64_t start;
	} f[2];
	char *text;                /* what was appended (raw bytes, NUL-terminated), or NULL */
	size_t len;
	bool truncated;            /* more than TDUMP_TEXT_MAX was appended */
};

/* Before the signal: note the regular files fds 1 and 2 of pid point at (one when
 * both are the same file). Returns how many. */
int tdump_capture_begin(const char *proc_root, int32_t pid, struct tdump_capture *c);
/* After it: poll the files for growth for up to wait_ms (stopping once the growth has
 * stopped for settle_ms), then read what was appended, at most TDUMP_TEXT_MAX bytes,
 * into c->text. Returns 0 (c->text may still be NULL: nothing appended) or -errno. */
int tdump_capture_end(struct tdump_capture *c, int wait_ms, int settle_ms);
/* Frees the text and closes the files. */
void tdump_capture_release(struct tdump_capture *c);

/* --- the whole thread dump, as the dashboard does it --------------------------------- */

/* Check p, read its disposition, note its output files, send SIGQUIT, then report
 * what happened in the log line (and the recording, through the log's hook, with the
 * dump text): "dumped (still running); the dump went to /var/log/app.log, 12 KB read
 * back", "ignored: ...", "terminated: ...". *dump (malloc'd, may be NULL) gets the
 * dump read back. Returns 0 when the process dumped and still runs, else -errno
 * (-ENOTSUP ignored, -ESRCH terminated, or why nothing was sent). */
int tdump_do(struct action_log *log, const struct proc_rec *p, char **line, char **dump, size_t *dump_len);

/* How long tdump_do waits, overridable for tests (milliseconds). */
extern int tdump_wait_ms;

#endif
