/* What every unit suite shares: one runner (a suite is a table of its cases, each
 * test named once in it, run the same way everywhere) and one builder of
 * hand-made snapshots. Linked into every tests/check_* program. */
#ifndef LEAKTOP_TESTKIT_H
#define LEAKTOP_TESTKIT_H

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/snapshot.h"

/* One test case of a suite. A case without a timeout gets Check's default, which
 * `make check` sets with CK_DEFAULT_TIMEOUT. */
struct testkit_case {
	const char *name;
	void (*setup)(void);      /* a checked fixture: run in each test's child */
	void (*teardown)(void);
	int timeout;              /* seconds, 0: the default */
	const char *left_out;     /* why this case cannot run here (said), or NULL */
	const TTest *const *tests; /* TESTKIT_TESTS(a, b, ...) */
	int signal;               /* with aborting: the signal those tests must raise */
	const TTest *const *aborting; /* TESTKIT_TESTS(...) that pass only by dying of it */
};

/* The tests of a case, each named once: the START_TEST names, in order. */
#define TESTKIT_TESTS(...) ((const TTest *const[]){__VA_ARGS__, NULL})

/* Runs the cases of suite `name` in Check's default (fork) mode, CK_RUN_CASE and
 * CK_RUN_SUITE honoured; returns main's exit status (EXIT_FAILURE when a test
 * failed). */
int testkit_run(const char *name, const struct testkit_case *cases, size_t ncases);
#define TESTKIT_RUN(name, cases) testkit_run((name), (cases), sizeof(cases) / sizeof((cases)[0]))

/* main() returns this when the suite cannot run at all here (automake's SKIP). */
#define TESTKIT_SKIP 77

/* --- a test's own folder and program ------------------------------------------- */
#define TESTKIT_DIR_MAX 64
/* Makes /tmp/check_SUITE.XXXXXX, a folder of the test's own, into dir. */
void testkit_mkdir(char dir[TESTKIT_DIR_MAX], const char *suite);
/* Removes dir and all in it; returns what rm said (0: all gone). */
int testkit_rmdir(const char *dir);
/* The absolute path of the leaktop program of this build ($top_builddir, else .). */
void testkit_leaktop(char *bin, size_t size);

/* The whole file, NUL-terminated, to free; its length in *len (len may be NULL);
 * NULL when it cannot be opened. */
char *testkit_slurp(const char *path, size_t *len);

/* --- hand-built snapshots -------------------------------------------------------
 * A process or a socket as a test writes it: designated initializers, whatever is
 * left out stays 0 (""), as snapshot_add_* leaves it. */
struct testkit_proc {
	int32_t pid, ppid;
	uint32_t uid, flags;
	uint64_t start_time, netns, rss_kb;
	int64_t fds;
	uint64_t fd_limit, fd_limit_hard;
	char state;
	const char *comm, *user, *unit, *cmdline, *container; /* copied as they are */
};

struct testkit_sock {
	uint64_t cookie, netns;
	uint32_t inode, uid, rq, wq;
	uint16_t lport, rport;
	uint8_t family;            /* 0: AF_INET */
	uint8_t proto, state, timer, type;
	const char *laddr, *raddr; /* addresses as text in the family ("127.0.0.1", "::1") */
	/* Held by s->procs[proc] as fd `fd` (an owner with the socket's inode). */
	bool held;
	int32_t proc, fd;
};

/* Adds a process to s; returns its index in s->procs. */
int testkit_proc(struct snapshot *s, const struct testkit_proc *p);
/* Adds a socket to s (and its holder when held). */
struct sock_rec *testkit_sock(struct snapshot *s, const struct testkit_sock *k);
/* Sets k's addresses (text, of k's family; NULL for none) as a source does. */
void testkit_sock_addrs(struct snapshot *s, struct sock_rec *k, const char *laddr, const char *raddr);
/* Adds a socket fd: procs[proc] holds inode as fd. */
struct sock_owner *testkit_owner(struct snapshot *s, int32_t proc, int32_t fd, uint32_t inode);

#define TESTKIT_PROC(s, ...) testkit_proc((s), &(const struct testkit_proc){__VA_ARGS__})
#define TESTKIT_SOCK(s, ...) testkit_sock((s), &(const struct testkit_sock){__VA_ARGS__})

/* A refresh begun: s cleared, at this tick and time, with leaktop's own network
 * namespace dumped and CLOSED fds told apart (what a live refresh has). */
void testkit_refresh(struct snapshot *s, uint64_t tick, double time);

/* Run SQL statements on a recording file as a hand would (sqlite3 shell), the
 * schema writable: a test makes a damaged or edited file. Fails the test on error. */
void testkit_sql(const char *file, const char *stmt);

#endif
