/* Tests for the process scan: parsers, fake /proc trees (committed in tests/data/proc1
 * and built at run time for what changes between scans), and the real /proc. */
#include "config.h"

#include "sources/procscan.h"
#include "model/snapshot.h"
#include "tests/testkit.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TESTDATADIR
#define TESTDATADIR "tests/data"
#endif

/* ---- a fake reader -------------------------------------------------------------- */

#define FAKE_MAX 16
struct fake {
	struct procinfo p[FAKE_MAX];
	size_t n;
	unsigned calls;
};

static int fake_read(void *ctx, int (*fn)(void *arg, const struct procinfo *pi), void *arg,
		     char **cause)
{
	struct fake *f = ctx;
	f->calls++;
	for (size_t i = 0; i < f->n; i++) {
		int rc = fn(arg, &f->p[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static struct procinfo *fake_add(struct fake *f, int32_t pid, uint64_t start, const char *comm)
{
	ck_assert_uint_lt(f->n, FAKE_MAX);
	struct procinfo *pi = &f->p[f->n++];
	*pi = (struct procinfo){
		.pid = pid, .ppid = 1, .uid = 1000, .start_time = start, .netns = 4026531840u,
		.rss_kb = 1234, .state = 'S', .comm = comm, .user = "app", .unit = "app.service",
		.cmdline = "/usr/bin/app --serve",
	};
	return pi;
}

static struct procscan *scanner(const char *root, struct fake *f)
{
	struct procscan *p = NULL;
	char *cause = NULL;
	int rc = procscan_new(&p, root, &cause);
	ck_assert_msg(rc == 0, "procscan_new(%s): %s", root, cause ? cause : "?");
	procscan_set_reader(p, fake_read, f);
	return p;
}

static struct snapshot *scan(struct procscan *p)
{
	struct snapshot *s = snapshot_new();
	char *cause = NULL;
	ck_assert_ptr_nonnull(s);
	int rc = procscan_scan(p, s, &cause);
	ck_assert_msg(rc == 0, "procscan_scan: %s", cause ? cause : "?");
	free(cause);
	return s;
}

static const struct proc_rec *proc(const struct snapshot *s, int32_t pid)
{
	for (size_t i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

/* The inode on fd of pid, 0 if that fd is no socket, -1 if the pid is absent. */
static int64_t owner_inode(const struct snapshot *s, int32_t pid, int32_t fd)
{
	const struct proc_rec *r = proc(s, pid);
	if (!r)
		return -1;
	for (size_t i = 0; i < s->nowners; i++)
		if (s->owners[i].proc == (int32_t)(r - s->procs) && s->owners[i].fd == fd)
			return s->owners[i].inode;
	return 0;
}

/* Procs, counts and owners must match: the incremental map must equal a full scan. */
static void assert_same_scan(const struct snapshot *a, const struct snapshot *b)
{
	ck_assert_uint_eq(a->nprocs, b->nprocs);
	ck_assert_uint_eq(a->nowners, b->nowners);
	for (size_t i = 0; i < a->nprocs; i++) {
		ck_assert_int_eq(a->procs[i].pid, b->procs[i].pid);
		ck_assert_int_eq(a->procs[i].fds, b->procs[i].fds);
		ck_assert_uint_eq(a->procs[i].sock_fds, b->procs[i].sock_fds);
	}
	for (size_t i = 0; i < a->nowners; i++) {
		ck_assert_uint_eq(a->owners[i].inode, b->owners[i].inode);
		ck_assert_int_eq(a->owners[i].proc, b->owners[i].proc);
		ck_assert_int_eq(a->owners[i].fd, b->owners[i].fd);
	}
}

/* ---- fake trees built at run time ---------------------------------------------- */

static char *tree_new(void)
{
	char tmpl[] = "/tmp/check_procscan.XXXXXX";
	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	char *root = strdup(tmpl), path[512];
	snprintf(path, sizeof(path), "%s/sys", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sys/fs", root);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sys/fs/file-nr", root);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("100\t0\t1000\n", f);
	fclose(f);
	return root;
}

static void tree_proc(const char *root, int pid, uint64_t start)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%d", root, pid);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%d/fd", root, pid);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%d/stat", root, pid);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "%d (app) S 1 %d %d 0 -1 4194304 99 0 0 0 12 3 0 0 20 0 1 0 %llu "
		"3133440 381 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		pid, pid, pid, (unsigned long long)start);
	fclose(f);
	snprintf(path, sizeof(path), "%s/%d/limits", root, pid);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("Limit                     Soft Limit           Hard Limit           Units     \n"
	      "Max open files            1024                 2048                 files     \n", f);
	fclose(f);
}

/* Point fd at target (NULL: close it). */
static void tree_fd(const char *root, int pid, int fd, const char *target)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%d/fd/%d", root, pid, fd);
	unlink(path);
	if (target)
		ck_assert_int_eq(symlink(target, path), 0);
}

/* A tree holding pid 100 ("app", started at 5000), listed by f; add its fds. */
static char *app_tree(struct fake *f)
{
	char *root = tree_new();
	tree_proc(root, 100, 5000);
	fake_add(f, 100, 5000, "app");
	return root;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

static void tree_free(char *root)
{
	nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(root);
}

/* Simulate the dump and join: sockets with these inodes (uid 1000), then build. */
static void dump_join(struct snapshot *s, const uint32_t *inodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct sock_rec *k = snapshot_add_sock(s);
		ck_assert_ptr_nonnull(k);
		k->inode = inodes[i];
		k->cookie = inodes[i];
		k->uid = 1000;
		k->state = ST_ESTABLISHED;
		k->family = AF_INET;
	}
	ck_assert_int_eq(snapshot_build(s), 0);
}

/* ---- parsers ----------------------------------------------------------------------- */

/* The container name from /proc/PID/cgroup, for each runtime's cgroup layout. */
START_TEST(test_container)
{
	static const struct { const char *cgroup, *want; } cases[] = {
		{"0::/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n",
		 "docker:0123456789ab"},
		{"0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1b2c.slice/"
		 "cri-containerd-fedcba9876543210fedcba9876543210.scope", "containerd:fedcba987654"},
		{"12:memory:/docker/abcdef012345abcdef012345\n0::/docker/abcdef012345abcdef012345\n",
		 "docker:abcdef012345"},
		{"0::/kubepods/burstable/pod0f3e-11/99887766554433221100aabbccddeeff", "k8s:998877665544"},
		{"0::/machine.slice/libpod-aaaabbbbccccddddeeee.scope/container", "podman:aaaabbbbcccc"},
		{"0::/machine.slice/crio-1234567890abcdef.scope", "crio:1234567890ab"},
		{"0::/lxc.payload.web1/init.scope", "lxc:web1"},
		{"0::/system.slice/sshd.service", ""},
		{"0::/system.slice/docker-compose@x.service", ""}, /* not an id */
		{"0::/user.slice/user-1000.slice/session-3.scope", ""},
		{"", ""},
	};
	char out[PROC_CONTAINER_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		procscan_container(cases[i].cgroup, out, sizeof(out));
		ck_assert_msg(!strcmp(out, cases[i].want), "case %zu: got '%s', want '%s'", i, out,
			      cases[i].want);
	}
	procscan_container(NULL, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

/* The systemd unit column, from the same cgroup text: what systemctl status names. */
START_TEST(test_unit)
{
	static const struct { const char *cgroup, *want; } cases[] = {
		{"0::/system.slice/sshd.service\n", "sshd.service"},
		{"0::/user.slice/user-1000.slice/session-3.scope", "session-3.scope"},
		{"0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.service", "user@1000.service"},
		{"0::/init.scope", "init.scope"},
		{"0::/system.slice/docker-0123456789ab.scope", "docker-0123456789ab.scope"},
		{"0::/", ""},
		{"0::/docker/abcdef012345abcdef012345", ""},     /* no unit: a runtime's path */
		{"0::/system.slice", ""},
		/* cgroup v1 (libproc2 joins the lines with commas): systemd's own hierarchy. */
		{"4:memory:/process_api/e937,1:name=systemd:/system.slice/cron.service,0::/", "cron.service"},
		{"9:name=systemd:/\n4:memory:/x.service\n0::/\n", ""},
		{"", ""},
	};
	char out[PROC_UNIT_MAX];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		procscan_unit(cases[i].cgroup, out, sizeof(out));
		ck_assert_msg(!strcmp(out, cases[i].want), "case %zu: got '%s', want '%s'", i, out,
			      cases[i].want);
	}
	procscan_unit(NULL, out, sizeof(out));
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_parse_limits)
{
	uint64_t soft = 0, hard = 0;
	const char *text =
		"Limit                     Soft Limit           Hard Limit           Units     \n"
		"Max processes             96365                96365                processes \n"
		"Max open files            20000                524288               files     \n"
		"Max locked memory         8388608              8388608              bytes     \n";
	ck_assert_int_eq(procscan_parse_limits(text, &soft, &hard), 0);
	ck_assert_uint_eq(soft, 20000);
	ck_assert_uint_eq(hard, 524288);

	ck_assert_int_eq(procscan_parse_limits(
		"Max open files            unlimited            unlimited            files\n",
		&soft, &hard), 0);
	ck_assert(soft == UINT64_MAX && hard == UINT64_MAX);

	ck_assert_int_eq(procscan_parse_limits("Max processes 1 1 processes\n", &soft, &hard),
			 -ENOENT);
	ck_assert_int_eq(procscan_parse_limits("Max open files  lots  1 files\n", &soft, &hard),
			 -EINVAL);
	ck_assert_int_eq(procscan_parse_limits("Max open files 12", &soft, &hard), -EINVAL);
}
END_TEST

START_TEST(test_parse_file_nr)
{
	uint64_t alloc = 0, max = 0;
	ck_assert_int_eq(procscan_parse_file_nr("2080\t0\t9223372036854775807\n", &alloc, &max), 0);
	ck_assert_uint_eq(alloc, 2080);
	ck_assert_uint_eq(max, 9223372036854775807ull);
	ck_assert_int_eq(procscan_parse_file_nr("2080\t0\n", &alloc, &max), -EINVAL);
	ck_assert_int_eq(procscan_parse_file_nr("", &alloc, &max), -EINVAL);
}
END_TEST

START_TEST(test_socket_inode)
{
	ck_assert_uint_eq(procscan_socket_inode("socket:[12345]"), 12345);
	ck_assert_uint_eq(procscan_socket_inode("socket:[4294967295]"), 4294967295u);
	ck_assert_uint_eq(procscan_socket_inode("socket:[4294967296]"), 0);
	ck_assert_uint_eq(procscan_socket_inode("socket:[]"), 0);
	ck_assert_uint_eq(procscan_socket_inode("socket:[12]x"), 0);
	ck_assert_uint_eq(procscan_socket_inode("socket:[12"), 0);
	ck_assert_uint_eq(procscan_socket_inode("pipe:[12345]"), 0);
	ck_assert_uint_eq(procscan_socket_inode("/dev/null"), 0);
	ck_assert_uint_eq(procscan_socket_inode("/tmp/socket:[1]"), 0);
}
END_TEST

/* ---- the committed tree ------------------------------------------------------------ */

/* tests/data/proc1 holds regular files only (make dist follows symlinks, and these
 * point nowhere); its fd links are listed in proc1/fdlinks as "PID FD TARGET" and
 * made here, in a copy of the tree. */
static const char *copy_root;

static int copy_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	const char *rel = path + strlen(TESTDATADIR "/proc1");
	char dst[1024], buf[4096];

	snprintf(dst, sizeof(dst), "%s%s", copy_root, rel);
	if (flag == FTW_D)
		return mkdir(dst, st->st_mode & 0777) && errno != EEXIST;
	if (flag != FTW_F || !strcmp(path + strlen(path) - 5, ".keep"))
		return 0;
	FILE *in = fopen(path, "r"), *out = fopen(dst, "w");
	ck_assert(in && out);
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	fclose(out);
	return 0;
}

static char *proc1_tree(void)
{
	char tmpl[] = "/tmp/check_procscan1.XXXXXX", line[256], target[200];
	int pid, fd;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	copy_root = tmpl;
	ck_assert_int_eq(nftw(TESTDATADIR "/proc1", copy_one, 16, FTW_PHYS), 0);
	FILE *f = fopen(TESTDATADIR "/proc1/fdlinks", "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%d %d %199s", &pid, &fd, target) == 3)
			tree_fd(tmpl, pid, fd, target);
	fclose(f);
	return strdup(tmpl);
}

static void proc1_reader(struct fake *f)
{
	/* Not in pid order, as a reader may give them. */
	fake_add(f, 300, 7000, "evil) S 9 (x");
	fake_add(f, 100, 5000, "server");
	fake_add(f, 400, 8000, "gone");         /* no /proc/400: exited */
	fake_add(f, 500, 4000, "reused");       /* /proc/500/stat says 9999: pid reused */
	struct procinfo *k = fake_add(f, 2, 1, "kthreadd");
	k->ppid = 0, k->cmdline = "", k->user = "root", k->uid = 0, k->unit = "";
}

START_TEST(test_scan_tree)
{
	struct fake f = {0};
	proc1_reader(&f);
	char *root = proc1_tree();
	struct procscan *p = scanner(root, &f);
	struct snapshot *s = scan(p);

	ck_assert_uint_eq(s->nprocs, 3);
	ck_assert_int_eq(s->procs[0].pid, 2);
	ck_assert_int_eq(s->procs[1].pid, 100);
	ck_assert_int_eq(s->procs[2].pid, 300);
	ck_assert_ptr_null(proc(s, 400));
	ck_assert_ptr_null(proc(s, 500));

	const struct proc_rec *r = proc(s, 100);
	ck_assert_int_eq(r->fds, 7);
	ck_assert_uint_eq(r->fd_limit, 1024);
	ck_assert_uint_eq(r->fd_limit_hard, 4096);
	ck_assert_uint_eq(r->sock_fds, 3);
	ck_assert_uint_eq(r->start_time, 5000);
	ck_assert_uint_eq(r->rss_kb, 1234);
	ck_assert_uint_eq(r->flags, 0);
	ck_assert_str_eq(r->comm, "server");
	ck_assert_str_eq(r->user, "app");
	ck_assert_str_eq(r->unit, "app.service");
	ck_assert_str_eq(r->cmdline, "/usr/bin/app --serve");

	/* Owners: sorted by proc then fd, not yet joined. */
	ck_assert_uint_eq(s->nowners, 4);
	static const struct { int32_t pid, fd; uint32_t inode; } want[] = {
		{100, 3, 4242}, {100, 4, 4243}, {100, 10, 4244}, {300, 1, 9001},
	};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(s->procs[s->owners[i].proc].pid, want[i].pid);
		ck_assert_int_eq(s->owners[i].fd, want[i].fd);
		ck_assert_uint_eq(s->owners[i].inode, want[i].inode);
		ck_assert_int_eq(s->owners[i].sock, -1);
	}

	r = proc(s, 2);
	ck_assert(r->flags & PROC_KTHREAD);
	ck_assert_int_eq(r->fds, 0);

	/* A ')' in comm does not shift the stat fields. */
	r = proc(s, 300);
	ck_assert_int_eq(r->fds, 2);
	ck_assert(r->fd_limit == UINT64_MAX && r->fd_limit_hard == UINT64_MAX);
	ck_assert_uint_eq(r->flags & PROC_KTHREAD, 0);

	ck_assert_uint_eq(s->totals.file_alloc, 2080);
	ck_assert_uint_eq(s->totals.file_max, 9223372036854775807ull);
	ck_assert_uint_eq(s->totals.unreadable, 0);

	/* The join works on what the scan produced. */
	dump_join(s, (const uint32_t[]){4243, 9001}, 2);
	ck_assert_uint_eq(s->procs[1].sockets, 1);

	snapshot_free(s);
	procscan_free(p);
	tree_free(root);
}
END_TEST

START_TEST(test_escape_comm)
{
	struct fake f = {0};
	/* libproc2 turns control characters into '?'; the name comes from the stat file
	 * instead, so the escape sequence is shown for what it is. */
	struct procinfo *pi = fake_add(&f, 100, 5000, "?[2Jpwned");
	pi->cmdline = "evil\x1b]0;title\x07 --arg";
	char *root = proc1_tree(), path[512];
	snprintf(path, sizeof(path), "%s/100/stat", root);
	FILE *st = fopen(path, "w");
	ck_assert_ptr_nonnull(st);
	fputs("100 (\x1b[2Jpwned) S 1 100 100 0 -1 4194560 99 0 0 0 12 3 0 0 20 0 1 0 5000 3133440 381 "
	      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n", st);
	fclose(st);
	struct procscan *p = scanner(root, &f);
	struct snapshot *s = scan(p);

	const struct proc_rec *r = proc(s, 100);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->comm, "\\x1b[2Jpwned");
	ck_assert_str_eq(r->cmdline, "evil\\x1b]0;title\\x07 --arg");
	ck_assert_ptr_null(strchr(r->comm, '\x1b'));
	snapshot_free(s);
	procscan_free(p);
	tree_free(root);
}
END_TEST

START_TEST(test_missing_root)
{
	struct procscan *p = NULL;
	char *cause = NULL;
	ck_assert_int_eq(procscan_new(&p, TESTDATADIR "/no-such-proc", &cause), -ENOENT);
	ck_assert_ptr_nonnull(cause);
	ck_assert_ptr_nonnull(strstr(cause, "no-such-proc"));
	free(cause);
}
END_TEST

/* ---- changes between scans --------------------------------------------------------- */

START_TEST(test_pid_reuse)
{
	struct fake f = {0};
	char *root = app_tree(&f);
	tree_fd(root, 100, 0, "/dev/null");
	tree_fd(root, 100, 3, "socket:[4242]");
	struct procscan *p = scanner(root, &f);
	struct snapshot *s = scan(p);
	ck_assert_int_eq(owner_inode(s, 100, 3), 4242);
	snapshot_free(s);

	/* Same pid, another process: its fd 3 must be read, not taken from the old one. */
	tree_proc(root, 100, 6000);
	tree_fd(root, 100, 3, "socket:[5555]");
	f.p[0].start_time = 6000;
	s = scan(p);
	ck_assert_int_eq(owner_inode(s, 100, 3), 5555);
	ck_assert_uint_eq(proc(s, 100)->start_time, 6000);
	snapshot_free(s);

	/* The reader saw the old process, /proc has a new one by now: skipped. */
	f.p[0].start_time = 5000;
	s = scan(p);
	ck_assert_ptr_null(proc(s, 100));
	ck_assert_uint_eq(s->nowners, 0);
	snapshot_free(s);

	procscan_free(p);
	tree_free(root);
}
END_TEST

/* Found by fuzz_procscan: an fd entry named past INT32_MAX overflowed its number
 * (undefined: the sanitizer build stops on it), and a process with no fds at all (a
 * kernel thread) offset a NULL array. Such entries are skipped, never aliased. */
START_TEST(test_fd_names_out_of_range)
{
	struct fake f = {0};
	char *root = app_tree(&f), path[512];
	tree_fd(root, 100, 0, "/dev/null");
	snprintf(path, sizeof(path), "%s/100/fd/4294967299", root);
	ck_assert_int_eq(symlink("socket:[4242]", path), 0);
	snprintf(path, sizeof(path), "%s/100/fd/99999999999999999999", root);
	ck_assert_int_eq(symlink("socket:[4243]", path), 0);
	tree_proc(root, 2, 10);
	fake_add(&f, 2, 10, "kthreadd");
	struct procscan *p = scanner(root, &f);

	for (int round = 0; round < 2; round++) { /* the first scan, and the incremental one */
		struct snapshot *s = scan(p);
		ck_assert_int_eq(proc(s, 100)->fds, 1);
		ck_assert_int_eq(owner_inode(s, 100, 3), 0);
		ck_assert_int_eq(proc(s, 2)->fds, 0);
		procscan_note_dump(p, s);
		snapshot_free(s);
	}
	procscan_free(p);
	tree_free(root);
}
END_TEST

START_TEST(test_incremental)
{
	struct fake f = {0};
	char *root = app_tree(&f);
	tree_fd(root, 100, 0, "/dev/null");
	tree_fd(root, 100, 3, "socket:[4242]");
	tree_fd(root, 100, 4, "socket:[4243]");
	tree_proc(root, 200, 5100);
	tree_fd(root, 200, 0, "socket:[4300]");
	fake_add(&f, 200, 5100, "other");
	struct procscan *p = scanner(root, &f);

	struct snapshot *s1 = scan(p);
	dump_join(s1, (const uint32_t[]){4242, 4243, 4300}, 3);
	ck_assert_uint_eq(s1->totals.unowned, 0);
	procscan_note_dump(p, s1);

	/* fd 3 closed and reopened as another socket, fd 4 closed, fd 7 new. */
	tree_fd(root, 100, 3, "socket:[4343]");
	tree_fd(root, 100, 4, NULL);
	tree_fd(root, 100, 7, "socket:[4400]");
	struct snapshot *s2 = scan(p);
	/* A known fd number is not read again until the dump says its socket left. */
	ck_assert_int_eq(owner_inode(s2, 100, 3), 4242);
	ck_assert_int_eq(owner_inode(s2, 100, 4), 0);
	ck_assert_int_eq(owner_inode(s2, 100, 7), 4400);
	ck_assert_int_eq(proc(s2, 100)->fds, 3);
	dump_join(s2, (const uint32_t[]){4343, 4400, 4300}, 3);
	procscan_note_dump(p, s2);

	struct snapshot *s3 = scan(p);
	ck_assert_int_eq(owner_inode(s3, 100, 3), 4343);
	ck_assert_int_eq(owner_inode(s3, 200, 0), 4300);

	struct fake f2 = f;
	struct procscan *fresh = scanner(root, &f2);
	struct snapshot *full = scan(fresh);
	assert_same_scan(s3, full);

	snapshot_free(s1);
	snapshot_free(s2);
	snapshot_free(s3);
	snapshot_free(full);
	procscan_free(fresh);
	procscan_free(p);
	tree_free(root);
}
END_TEST

START_TEST(test_full_rescan)
{
	struct fake f = {0};
	char *root = app_tree(&f);
	tree_fd(root, 100, 3, "socket:[4242]");
	struct procscan *p = scanner(root, &f);
	snapshot_free(scan(p));

	tree_fd(root, 100, 3, "pipe:[1]");
	procscan_full_rescan(p);
	struct snapshot *s = scan(p);
	ck_assert_int_eq(owner_inode(s, 100, 3), 0);
	ck_assert_uint_eq(proc(s, 100)->sock_fds, 0);
	snapshot_free(s);
	procscan_free(p);
	tree_free(root);
}
END_TEST

/* Limits are not reread for a quiet process every scan, but a process whose fd
 * count moves gets them at once, and a quiet one within a few scans. */
START_TEST(test_limits_change)
{
	struct fake f = {0};
	char *root = app_tree(&f), path[512];
	tree_fd(root, 100, 0, "/dev/null");
	struct procscan *p = scanner(root, &f);
	struct snapshot *s = scan(p);
	ck_assert_uint_eq(proc(s, 100)->fd_limit, 1024);
	snapshot_free(s);

	snprintf(path, sizeof(path), "%s/100/limits", root);
	FILE *lf = fopen(path, "w");
	ck_assert_ptr_nonnull(lf);
	fputs("Max open files            65536                65536                files\n", lf);
	fclose(lf);
	bool seen = false;
	for (int i = 0; i < 8 && !seen; i++) {
		s = scan(p);
		seen = proc(s, 100)->fd_limit == 65536;
		ck_assert_uint_eq(proc(s, 100)->fd_limit_hard, seen ? 65536 : 2048);
		snapshot_free(s);
	}
	ck_assert_msg(seen, "a changed limit never showed");

	lf = fopen(path, "w");
	ck_assert_ptr_nonnull(lf);
	fputs("Max open files            4096                 65536                files\n", lf);
	fclose(lf);
	tree_fd(root, 100, 1, "/dev/null");
	s = scan(p);
	ck_assert_uint_eq(proc(s, 100)->fd_limit, 4096);
	snapshot_free(s);
	procscan_free(p);
	tree_free(root);
}
END_TEST

/* A file fd reused for a socket: no socket left the dump, but a new one stays
 * unowned. After two dumps the processes of its uid are read again. */
START_TEST(test_unowned_reread)
{
	struct fake f = {0};
	char *root = app_tree(&f);
	tree_fd(root, 100, 5, "/var/log/app.log");
	struct procscan *p = scanner(root, &f);
	struct snapshot *s = scan(p);
	dump_join(s, NULL, 0);
	procscan_note_dump(p, s);
	snapshot_free(s);

	tree_fd(root, 100, 5, "socket:[4500]");
	for (int round = 0; round < 2; round++) {
		s = scan(p);
		ck_assert_int_eq(owner_inode(s, 100, 5), 0);
		dump_join(s, (const uint32_t[]){4500}, 1);
		ck_assert_uint_eq(s->totals.unowned, 1);
		procscan_note_dump(p, s);
		snapshot_free(s);
	}
	s = scan(p);
	ck_assert_int_eq(owner_inode(s, 100, 5), 4500);
	snapshot_free(s);
	procscan_free(p);
	tree_free(root);
}
END_TEST

/* One refresh as the live source does it: scan, dump and join, recheck, join again. */
static struct snapshot *refresh(struct procscan *p, const uint32_t *inodes, size_t n, int *rechecked)
{
	struct snapshot *s = scan(p);
	dump_join(s, inodes, n);
	*rechecked = procscan_recheck(p, s);
	ck_assert_int_ge(*rechecked, 0);
	if (*rechecked)
		ck_assert_int_eq(snapshot_build(s), 0);
	procscan_note_dump(p, s);
	return s;
}

/* The recheck puts right, in the same refresh, what the fd numbers alone hide: a
 * socket replaced by another at the same fd, a file fd reused for a socket, and a
 * socket handed to a child whose parent reused the fd for a file. */
START_TEST(test_recheck)
{
	struct fake f = {0};
	char *root = app_tree(&f);
	int re;
	tree_fd(root, 100, 3, "socket:[4242]");
	tree_fd(root, 100, 4, "socket:[4600]");
	tree_fd(root, 100, 5, "/var/log/app.log");
	struct procscan *p = scanner(root, &f);
	struct snapshot *s = refresh(p, (const uint32_t[]){4242, 4600}, 2, &re);
	ck_assert_int_eq(re, 0);
	ck_assert_uint_eq(s->totals.unowned, 0);
	snapshot_free(s);

	/* dup2 of a new socket onto fd 3; a socket at the old log file's number. */
	tree_fd(root, 100, 3, "socket:[4343]");
	tree_fd(root, 100, 5, "socket:[4500]");
	s = refresh(p, (const uint32_t[]){4343, 4600, 4500}, 3, &re);
	ck_assert_int_eq(re, 1);
	ck_assert_int_eq(owner_inode(s, 100, 3), 4343);
	ck_assert_int_eq(owner_inode(s, 100, 5), 4500);
	ck_assert_uint_eq(s->totals.unowned, 0);
	ck_assert_uint_eq(proc(s, 100)->sockets, 3);
	/* Learned after the dumps: were it in none, it could be younger than they are. */
	ck_assert(!procscan_fd_check(p, 100, 3, 4343));
	ck_assert(procscan_fd_check(p, 100, 4, 4600));
	snapshot_free(s);

	/* Nothing moved: nothing to put right. */
	s = refresh(p, (const uint32_t[]){4343, 4600, 4500}, 3, &re);
	ck_assert_int_eq(re, 0);
	snapshot_free(s);

	/* Hand-over: child 300 holds 4600 at fd 4; the parent's fd 4 is a file now. */
	tree_proc(root, 300, 6000);
	tree_fd(root, 300, 4, "socket:[4600]");
	tree_fd(root, 100, 4, "/dev/null");
	fake_add(&f, 300, 6000, "child");
	s = refresh(p, (const uint32_t[]){4343, 4600, 4500}, 3, &re);
	ck_assert_int_eq(re, 1);
	ck_assert_int_eq(owner_inode(s, 100, 4), 0);
	ck_assert_int_eq(owner_inode(s, 300, 4), 4600);
	ck_assert_int_eq(snapshot_sock_proc(s, &s->socks[1])->pid, 300);
	ck_assert_uint_eq(proc(s, 100)->sockets, 2);

	struct fake f2 = f;
	struct procscan *fresh = scanner(root, &f2);
	struct snapshot *full = scan(fresh);
	dump_join(full, (const uint32_t[]){4343, 4600, 4500}, 3);
	assert_same_scan(s, full);
	snapshot_free(full);
	procscan_free(fresh);
	snapshot_free(s);
	procscan_free(p);
	tree_free(root);
}
END_TEST

/* The own netns dumped beside the scan: a socket fd that scan read first may have
 * been opened after the dump passed, so the fd check leaves it for the next refresh
 * (not CLOSED yet); an fd known from an earlier scan is decided now. */
START_TEST(test_fd_check_early_dump)
{
	const uint64_t own = 4026531840u;
	struct fake f = {0};
	char *root = app_tree(&f);
	tree_fd(root, 100, 3, "socket:[4242]");
	struct procscan *p = scanner(root, &f);
	struct snapshot *s = scan(p);

	procscan_dump_early(p, 0); /* every dump after the scan: the fd decides */
	ck_assert(procscan_fd_check(p, 100, 3, 4242));
	ck_assert(!procscan_fd_check(p, 100, 3, 4243));
	procscan_dump_early(p, own);
	ck_assert(!procscan_fd_check(p, 100, 3, 4242));
	procscan_dump_early(p, own + 1); /* another netns went early, not this one's */
	ck_assert(procscan_fd_check(p, 100, 3, 4242));
	snapshot_free(s);

	tree_fd(root, 100, 5, "socket:[4250]");
	s = scan(p);
	procscan_dump_early(p, own);
	ck_assert(procscan_fd_check(p, 100, 3, 4242));
	ck_assert(!procscan_fd_check(p, 100, 5, 4250));
	snapshot_free(s);

	/* Closed: not held any more, whatever was known. */
	tree_fd(root, 100, 3, NULL);
	s = scan(p);
	ck_assert(procscan_fd_check(p, 100, 5, 4250));
	ck_assert(!procscan_fd_check(p, 100, 3, 4242));
	snapshot_free(s);
	procscan_free(p);
	tree_free(root);
}
END_TEST

/* Root reads a mode-000 directory anyway; without CAP_DAC_OVERRIDE and
 * CAP_DAC_READ_SEARCH it gets the EACCES a normal user gets. Only this forked test
 * process loses them. */
static bool drop_dac_caps(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return false;
	for (int i = 0; i < 2; i++)
		data[i].effective &= ~(CAP_TO_MASK(CAP_DAC_OVERRIDE) | CAP_TO_MASK(CAP_DAC_READ_SEARCH));
	return syscall(SYS_capset, &hdr, data) == 0;
}

START_TEST(test_unreadable)
{
	char *root = tree_new(), path[512];
	tree_proc(root, 100, 5000);
	tree_fd(root, 100, 3, "socket:[4242]");
	tree_proc(root, 200, 5100);
	tree_fd(root, 200, 3, "socket:[4300]");
	snprintf(path, sizeof(path), "%s/100/fd", root);
	ck_assert_int_eq(chmod(path, 0), 0);
	if (geteuid() == 0)
		ck_assert_msg(drop_dac_caps(), "cannot drop CAP_DAC_OVERRIDE: %s", strerror(errno));
	int probe = open(path, O_RDONLY | O_DIRECTORY);
	ck_assert_msg(probe < 0 && errno == EACCES, "mode 000 is still readable here");

	struct fake f = {0};
	fake_add(&f, 100, 5000, "secret");
	fake_add(&f, 200, 5100, "app");
	struct procscan *p = scanner(root, &f);
	char *cause = NULL;
	struct snapshot *s = snapshot_new();
	ck_assert_int_eq(procscan_scan(p, s, &cause), 0);
	ck_assert_ptr_null(cause);

	const struct proc_rec *r = proc(s, 100);
	ck_assert_ptr_nonnull(r);
	ck_assert(r->flags & PROC_UNREADABLE);
	ck_assert_int_eq(r->fds, -1);
	ck_assert_uint_eq(r->fd_limit, 1024);
	ck_assert_uint_eq(s->totals.unreadable, 1);
	ck_assert_int_eq(owner_inode(s, 100, 3), 0);
	ck_assert_int_eq(owner_inode(s, 200, 3), 4300);
	ck_assert_uint_eq(proc(s, 200)->flags & PROC_UNREADABLE, 0);
	snapshot_free(s);
	procscan_free(p);
	chmod(path, 0700);
	tree_free(root);
}
END_TEST

/* ---- the real /proc ---------------------------------------------------------------- */

static const struct sock_owner *find_owner(const struct snapshot *s, int32_t pid, int fd)
{
	const struct proc_rec *r = snapshot_find_proc(s, pid);
	if (!r)
		return NULL;
	for (size_t i = 0; i < s->nowners; i++)
		if (&s->procs[s->owners[i].proc] == r && s->owners[i].fd == fd)
			return &s->owners[i];
	return NULL;
}

/* cmdline is escaped as comm is: every byte of a control or bidi character as \xNN.
 * libproc2's cmdline had them as '?' and '.': an RLO (U+202E) that turns
 * "evil<RLO>txt.exe" into "evilexe.txt" on a terminal was lost, not shown. */
START_TEST(test_live_cmdline_escaped)
{
	static const char argv0[] = "evil\xe2\x80\xaetxt.exe\x1b[2J\x01";
	pid_t kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		execl("/bin/sleep", argv0, "30", (char *)NULL);
		_exit(127);
	}
	/* exec'd once its cmdline is argv0's */
	char path[64], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)kid);
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(path, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		if (n > 4 && !memcmp(buf, "evil", 4))
			break;
		usleep(10000);
	}
	struct procscan *p = NULL;
	char *cause = NULL;
	ck_assert_msg(procscan_new(&p, "/proc", &cause) == 0, "%s", cause);
	struct snapshot *s = snapshot_new();
	ck_assert_msg(procscan_scan(p, s, &cause) == 0, "scan: %s", cause ? cause : "?");
	const struct proc_rec *r = snapshot_find_proc(s, kid);
	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(r->cmdline, "evil\\xe2\\x80\\xaetxt.exe\\x1b[2J\\x01 30");
	/* A kernel thread has no cmdline: [comm], as ps shows it. */
	const struct proc_rec *k = snapshot_find_proc(s, 2);
	if (k)
		ck_assert_str_eq(k->cmdline, "[kthreadd]");
	snapshot_free(s);
	procscan_free(p);
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
}
END_TEST

START_TEST(test_live_self)
{
	if (access("/proc/self/fd", R_OK)) {
		fprintf(stderr, "test_live_self: /proc/self/fd not readable, skipped\n");
		return;
	}
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ge(ls, 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(ls, 4), 0);
	struct stat st;
	ck_assert_int_eq(fstat(ls, &st), 0);

	struct procscan *p = NULL;
	char *cause = NULL;
	ck_assert_msg(procscan_new(&p, "/proc", &cause) == 0, "%s", cause);
	struct snapshot *s = snapshot_new();
	int rc = procscan_scan(p, s, &cause);
	ck_assert_msg(rc == 0, "scan: %s", cause ? cause : "?");

	const struct proc_rec *me = snapshot_find_proc(s, getpid());
	ck_assert_ptr_nonnull(me);
	ck_assert_uint_ne(me->start_time, 0);
	ck_assert_int_ge(me->fds, 4);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	/* >=: valgrind keeps a few fds for itself and reports a lower soft limit. */
	ck_assert_uint_ge(me->fd_limit, rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur);
	ck_assert_uint_le(me->fd_limit, me->fd_limit_hard);
	ck_assert_str_ne(me->comm, "");
	ck_assert_uint_eq(me->uid, geteuid());
	const struct sock_owner *o = find_owner(s, getpid(), ls);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->inode, (uint32_t)st.st_ino);
	ck_assert_uint_gt(s->totals.file_max, 0);
	const struct proc_rec *init = snapshot_find_proc(s, 1);
	ck_assert_ptr_nonnull(init);
	for (size_t i = 1; i < s->nprocs; i++)
		ck_assert_int_lt(s->procs[i - 1].pid, s->procs[i].pid);

	/* Second, incremental scan: a new fd number is found, a closed one is gone. */
	int sp[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sp), 0);
	close(ls);
	snapshot_clear(s);
	ck_assert_int_eq(procscan_scan(p, s, &cause), 0);
	ck_assert_ptr_nonnull(snapshot_find_proc(s, getpid()));
	ck_assert_int_eq(fstat(sp[1], &st), 0);
	o = find_owner(s, getpid(), sp[1]);
	ck_assert_ptr_nonnull(o);
	ck_assert_uint_eq(o->inode, (uint32_t)st.st_ino);
	if (ls != sp[0] && ls != sp[1])
		ck_assert_ptr_null(find_owner(s, getpid(), ls));

	snapshot_free(s);
	procscan_free(p);
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "parse",
		 .tests = TESTKIT_TESTS(
			test_parse_limits,
			test_parse_file_nr,
			test_socket_inode,
			test_container,
			test_unit)},
		{.name = "tree",
		 .tests = TESTKIT_TESTS(
			test_scan_tree,
			test_escape_comm,
			test_live_cmdline_escaped,
			test_missing_root,
			test_pid_reuse,
			test_fd_names_out_of_range,
			test_incremental,
			test_full_rescan,
			test_limits_change,
			test_unowned_reread,
			test_recheck,
			test_fd_check_early_dump,
			test_unreadable)},
		{.name = "live", .timeout = 30,
		 .tests = TESTKIT_TESTS(
			test_live_self)},
	};

	return TESTKIT_RUN("procscan", cases);
}
