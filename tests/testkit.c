/* The unit suites' one runner and one snapshot builder (testkit.h). */
#include "config.h"

#include "tests/testkit.h"

#include <arpa/inet.h>
#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int testkit_run(const char *name, const struct testkit_case *cases, size_t ncases)
{
	Suite *su = suite_create(name);

	for (size_t i = 0; i < ncases; i++) {
		const struct testkit_case *c = &cases[i];
		if (c->left_out) {
			/* Check has no skip: the case is left out, and the log says why. */
			fprintf(stderr, "check_%s: case %s left out: %s\n", name, c->name, c->left_out);
			continue;
		}
		TCase *tc = tcase_create(c->name);
		if (c->setup || c->teardown)
			tcase_add_checked_fixture(tc, c->setup, c->teardown);
		if (c->timeout > 0)
			tcase_set_timeout(tc, c->timeout);
		for (const TTest *const *t = c->tests; t && *t; t++)
			tcase_add_test(tc, *t);
		for (const TTest *const *t = c->aborting; t && *t; t++)
			tcase_add_test_raise_signal(tc, *t, c->signal);
		suite_add_tcase(su, tc);
	}
	SRunner *sr = srunner_create(su);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

void testkit_mkdir(char dir[TESTKIT_DIR_MAX], const char *suite)
{
	ck_assert_int_lt(snprintf(dir, TESTKIT_DIR_MAX, "/tmp/check_%s.XXXXXX", suite), TESTKIT_DIR_MAX);
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

int testkit_rmdir(const char *dir)
{
	char cmd[TESTKIT_DIR_MAX + 16];

	/* dir is one testkit_mkdir made: no quote in it. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

void testkit_leaktop(char *bin, size_t size)
{
	const char *top = getenv("top_builddir");
	char *real = realpath(top ? top : ".", NULL);

	ck_assert_ptr_nonnull(real);
	ck_assert_int_lt(snprintf(bin, size, "%s/leaktop", real), (int)size);
	free(real);
}

char *testkit_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *out = NULL;
	size_t n = 0;
	FILE *m;
	int c;

	if (!f)
		return NULL;
	m = open_memstream(&out, &n);
	ck_assert_ptr_nonnull(m);
	while ((c = getc(f)) != EOF)
		putc(c, m);
	fclose(f);
	fclose(m);
	if (len)
		*len = n;
	return out;
}

static void copy(char *dst, size_t size, const char *src)
{
	if (src)
		snprintf(dst, size, "%s", src);
}

/* For the helpers tests call thousands of times a refresh: a ck_assert that holds
 * still writes its line to Check's pipe (a syscall each: 3 million of them made
 * check_history take 45 s), so these only call Check when one fails. */
#define NEED(ok, what) ((ok) ? (void)0 : ck_abort_msg("%s:%d: %s", __FILE__, __LINE__, what))

int testkit_proc(struct snapshot *s, const struct testkit_proc *in)
{
	struct proc_rec *p = snapshot_add_proc(s);

	NEED(p, "out of memory");
	p->pid = in->pid, p->ppid = in->ppid, p->uid = in->uid, p->flags = in->flags;
	p->start_time = in->start_time, p->netns = in->netns, p->rss_kb = in->rss_kb;
	p->fds = in->fds, p->fd_limit = in->fd_limit, p->fd_limit_hard = in->fd_limit_hard;
	p->state = in->state;
	copy(p->comm, sizeof(p->comm), in->comm);
	copy(p->user, sizeof(p->user), in->user);
	copy(p->unit, sizeof(p->unit), in->unit);
	copy(p->cmdline, sizeof(p->cmdline), in->cmdline);
	copy(p->container, sizeof(p->container), in->container);
	return (int)(s->nprocs - 1);
}

struct sock_owner *testkit_owner(struct snapshot *s, int32_t proc, int32_t fd, uint32_t inode)
{
	struct sock_owner *o = snapshot_add_owner(s);

	NEED(o, "out of memory");
	o->proc = proc, o->fd = fd, o->inode = inode;
	return o;
}

void testkit_sock_addrs(struct snapshot *s, struct sock_rec *k, const char *laddr, const char *raddr)
{
	uint8_t l[16] = {0}, r[16] = {0};

	if (laddr)
		NEED(inet_pton(k->family, laddr, l) == 1, laddr);
	if (raddr)
		NEED(inet_pton(k->family, raddr, r) == 1, raddr);
	NEED(!snapshot_sock_set_addrs(s, k, l, r), "out of memory");
}

struct sock_rec *testkit_sock(struct snapshot *s, const struct testkit_sock *in)
{
	struct sock_rec *k = snapshot_add_sock(s);

	NEED(k, "out of memory");
	k->cookie = in->cookie, k->inode = in->inode, k->uid = in->uid;
	k->rqueue = in->rq, k->wqueue = in->wq, k->lport = in->lport, k->rport = in->rport;
	k->family = in->family ? in->family : AF_INET;
	k->proto = in->proto, k->state = in->state, k->timer = in->timer, k->type = in->type;
	NEED(!snapshot_sock_set_netns(s, k, in->netns), "netns");
	testkit_sock_addrs(s, k, in->laddr, in->raddr);
	if (in->held)
		testkit_owner(s, in->proc, in->fd, in->inode);
	return k;
}

void testkit_refresh(struct snapshot *s, uint64_t tick, double time)
{
	snapshot_clear(s);
	s->tick = tick;
	s->time = time;
	s->closed_valid = true;
	struct netns_rec *own = snapshot_add_netns(s, 4026531840ULL, true);
	NEED(own, "out of memory");
	own->own = true;
}

void testkit_sql(const char *file, const char *stmt)
{
	sqlite3 *db;
	char *err = NULL;

	ck_assert_int_eq(sqlite3_open(file, &db), SQLITE_OK);
	/* Tests edit the schema on purpose (writable_schema): not defensive. */
	sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 0, NULL);
	ck_assert_msg(sqlite3_exec(db, stmt, NULL, NULL, &err) == SQLITE_OK, "%s: %s", stmt, err);
	sqlite3_close(db);
}
