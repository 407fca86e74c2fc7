/* Size and cost of a recording, on synthetic refreshes of a steady box: N sockets
 * (a few connections come and go, some queues move), P processes (some RSS moves).
 *   tests/bench_record FILE [sockets] [refreshes] [procs]
 * Prints the file size, record and build cost per refresh, and seek times. */
#include "config.h"

#include "model/snapshot.h"
#include "recording/replay.h"
#include "sources/source.h"
#include "recording/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] : "bench.db";
	long nsocks = argc > 2 ? atol(argv[2]) : 10000, nref = argc > 3 ? atol(argv[3]) : 1800;
	long nprocs = argc > 4 ? atol(argv[4]) : 300;
	struct record_info info = {.interval = 2, .boot_time = 1.7e9, .clk_tck = 100};
	struct record *r;
	struct snapshot *s = snapshot_new();
	char *cause = NULL;
	double t_build = 0, t_rec = 0;
	uint64_t churn = 0;

	if (record_open(&r, path, &info, &cause)) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	srand(1);
	for (long t = 1; t <= nref; t++) {
		double t0 = now();
		snapshot_clear(s);
		s->tick = (uint64_t)t;
		s->time = 1.8e9 + (double)t * 2;
		s->refresh_ms = 30;
		for (long i = 0; i < nprocs; i++) {
			struct proc_rec *p = snapshot_add_proc(s);
			p->pid = (int32_t)(100 + i), p->ppid = 1, p->start_time = (uint64_t)i;
			p->fds = 10 + nsocks / nprocs, p->rss_kb = 5000 + (uint64_t)((rand() % 10 == 0) ? t : 0);
			p->fd_limit = 65536, p->fd_limit_hard = 65536, p->state = 'S';
			snprintf(p->comm, sizeof(p->comm), "worker%ld", i);
			snprintf(p->user, sizeof(p->user), "svc");
			snprintf(p->cmdline, sizeof(p->cmdline), "/usr/bin/worker --id %ld --config /etc/worker.conf", i);
		}
		/* 5 connections replaced per refresh: the oldest ones go, new ones come. */
		churn += 5;
		for (long i = 0; i < nsocks; i++) {
			struct sock_rec *k = snapshot_add_sock(s);
			uint64_t id = churn + (uint64_t)i;
			k->cookie = id, k->inode = (uint32_t)(100000 + id), k->family = AF_INET, k->proto = 6;
			k->state = ST_ESTABLISHED, k->lport = 443, k->rport = (uint16_t)(32768 + id % 28000);
			uint8_t la[16] = {10, 0, 0, 1}, ra[16] = {10, 0, (uint8_t)(id >> 8), (uint8_t)id};
			snapshot_sock_set_addrs(s, k, la, ra);
			k->timer = 2;
			if (rand() % 100 == 0)
				k->rqueue = (uint32_t)(rand() % 5000), k->wqueue = (uint32_t)(rand() % 5000);
			struct sock_owner *o = snapshot_add_owner(s);
			o->inode = k->inode, o->proc = (int32_t)(id % (uint64_t)nprocs), o->fd = (int32_t)(10 + id / (uint64_t)nprocs % 60000);
		}
		snapshot_build(s);
		double t1 = now();
		if (record_snapshot(r, s, &cause)) {
			fprintf(stderr, "%s\n", cause);
			return 1;
		}
		double t2 = now();
		t_build += t1 - t0, t_rec += t2 - t1;
	}
	record_close(r);
	struct stat st;
	stat(path, &st);
	printf("%ld sockets, %ld processes, %ld refreshes: %.1f MB; per refresh: build %.2f ms, record %.2f ms\n",
	       nsocks, nprocs, nref, (double)st.st_size / 1e6, t_build * 1e3 / (double)nref, t_rec * 1e3 / (double)nref);

	struct source *src;
	if (replay_source_new(&src, path, &cause)) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	double worst = 0, sum = 0;
	long n = (long)replay_count(src);
	for (int i = 0; i < 20; i++) {
		long at = i == 0 ? n - 1 : i == 1 ? 0 : rand() % n;
		double t0 = now();
		replay_seek(src, at);
		if (source_next(src, s, &cause)) {
			fprintf(stderr, "%s\n", cause);
			return 1;
		}
		double d = now() - t0;
		sum += d;
		if (d > worst)
			worst = d;
	}
	printf("seek + rebuild: average %.1f ms, worst %.1f ms (%zu sockets)\n", sum * 50, worst * 1e3, s->nsocks);
	source_free(src);
	snapshot_free(s);
	return 0;
}
