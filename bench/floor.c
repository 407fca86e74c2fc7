/* The floor a refresh cannot beat: one sock_diag dump of every TCP socket, plus one
 * readdir pass over every /proc/PID/fd (and, for scale, one readlink of every fd).
 *
 *   floor [--runs N]      prints the median of N runs (default 5) of each, in ms
 */
#include "config.h"

#include "model/snapshot.h"
#include "sources/sockdiag.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Every /proc/PID/fd listed once; with `links`, every entry read with readlinkat. */
static long fd_pass(bool links)
{
	static char dents[32768];
	DIR *proc = opendir("/proc");
	struct dirent *d;
	long fds = 0;

	if (!proc)
		return -1;
	while ((d = readdir(proc))) {
		char path[300], link[64];
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/fd", d->d_name);
		int dfd = openat(dirfd(proc), path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd < 0)
			continue;
		ssize_t n;
		while ((n = getdents64(dfd, dents, sizeof(dents))) > 0)
			for (ssize_t off = 0; off < n;) {
				struct dirent64 *e = (struct dirent64 *)(dents + off);
				off += e->d_reclen;
				if (e->d_name[0] == '.')
					continue;
				fds++;
				if (links)
					(void)readlinkat(dfd, e->d_name, link, sizeof(link));
			}
		close(dfd);
	}
	closedir(proc);
	return fds;
}

int main(int argc, char **argv)
{
	int runs = argc > 2 && !strcmp(argv[1], "--runs") ? atoi(argv[2]) : 5;
	struct snapshot *s = snapshot_new();
	struct sockdiag *d = NULL;
	char *cause = NULL;
	double dump[64], dir[64], link[64];
	long fds = 0;
	size_t socks = 0;

	if (runs < 1 || runs > 64) {
		fputs("usage: floor [--runs 1..64]\n", stderr);
		return 2;
	}
	if (!s || sockdiag_open(&d, &cause)) {
		fprintf(stderr, "floor: %s\n", cause ? cause : "out of memory");
		return 1;
	}
	for (int i = 0; i < runs; i++) {
		double t0 = now_ms();
		snapshot_clear(s);
		if (sockdiag_dump_tcp(d, s, 0, &cause)) {
			fprintf(stderr, "floor: %s\n", cause);
			return 1;
		}
		double t1 = now_ms();
		fds = fd_pass(false);
		double t2 = now_ms();
		fd_pass(true);
		double t3 = now_ms();
		dump[i] = t1 - t0, dir[i] = t2 - t1, link[i] = t3 - t2;
		socks = s->nsocks;
	}
	qsort(dump, (size_t)runs, sizeof(double), cmp_double);
	qsort(dir, (size_t)runs, sizeof(double), cmp_double);
	qsort(link, (size_t)runs, sizeof(double), cmp_double);
	printf("sockets %zu fds %ld dump_ms %.1f readdir_ms %.1f floor_ms %.1f readlink_all_ms %.1f\n", socks,
	       fds, dump[runs / 2], dir[runs / 2], dump[runs / 2] + dir[runs / 2], link[runs / 2]);
	sockdiag_free(d);
	snapshot_free(s);
	return 0;
}
