/* Recording a session to an SQLite file: one transaction per refresh, sockets,
 * processes and socket fds stored once with their changes (deltas), per-port
 * aggregates and events (alerts, actions). The schema is in README.md. */
#ifndef LEAKTOP_RECORD_H
#define LEAKTOP_RECORD_H

#include <stdint.h>

struct snapshot;
struct record;
struct sqlite3;

/* The format written here. A reader takes any minor version of its major, and
 * refuses the others (2.0: UDP, UNIX and other sockets, namespaces, CLOSED fds). */
#define RECORD_FORMAT_MAJOR 2
#define RECORD_FORMAT_MINOR 0

/* What the meta table says about the session. */
struct record_info {
	double interval;   /* seconds between refreshes */
	double boot_time;  /* unix seconds at boot, to turn start ticks into times */
	long clk_tck;
	/* Filled by record_read_open; ignored by record_open (it asks the system). */
	double start_time;
	int major, minor;
	char host[256];
	char kernel[128];
	char version[32];
};

/* Create path (mode 0600; an existing non-empty file is refused, never overwritten)
 * and write the schema and meta table. Returns 0 or -errno with *cause set. */
int record_open(struct record **out, const char *path, const struct record_info *info, char **cause);

/* Append one refresh (a built snapshot) as one transaction. Returns 0 or -errno. */
int record_snapshot(struct record *r, const struct snapshot *s, char **cause);

enum record_event_kind { EV_ALERT, EV_ACTION, EV_COUNT };

struct record_event {
	enum record_event_kind kind;
	double time;          /* unix seconds; 0 for now */
	int32_t pid;          /* 0 when it is about no process */
	uint64_t start_time;  /* with pid, the process's identity */
	const char *what;     /* "thread dump", "restart", "fds of 1234 grow 40/min" */
	const char *result;   /* "sent SIGQUIT", "failed: EPERM"; NULL when none */
};

/* "alert" / "action". */
const char *record_event_name(enum record_event_kind kind);

/* Store an event, tied to the last recorded refresh. Returns 0 or -errno. */
int record_event(struct record *r, const struct record_event *ev, char **cause);

/* Finish and close (the last transaction is already committed). NULL is fine. */
void record_close(struct record *r);

/* Open a recording read-only and check it is one this leaktop reads: a clear
 * one-line *cause when the file is missing, not a recording, damaged, or of another
 * major format. Fills info from the meta table. Returns 0 or -errno. */
int record_read_open(struct sqlite3 **db, const char *path, struct record_info *info, char **cause);

#endif
