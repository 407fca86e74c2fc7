/* OpenMetrics text output: every family a gauge, samples of a family together, label
 * values escaped, and the processes and ports beyond the top N summed into "other". */
#include "config.h"

#include "outputs/metrics.h"
#include "model/alert.h"
#include "outputs/batch_opts.h"
#include "model/history.h"
#include "model/snapshot.h"
#include "model/view.h"

#include <math.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void metrics_label_value(FILE *f, const char *s)
{
	putc('"', f);
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fprintf(f, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			putc(*s, f);
	}
	putc('"', f);
}

static void family(FILE *f, const char *name, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

static const char *const kind_names[SK_KIND_COUNT] = {
	[SK_TCP] = "tcp", [SK_UDP] = "udp", [SK_UNIX] = "unix", [SK_OTHER] = "other",
};
_Static_assert(sizeof(kind_names) / sizeof(kind_names[0]) == SK_KIND_COUNT, "a name per kind");

/* One process row, or the sum of the rest (pid < 0). */
struct mproc {
	int32_t pid;
	const char *comm, *container;
	int64_t fds;             /* -1: not readable */
	uint64_t fd_limit;
	double fd_pct;           /* view_fd_pct; NAN for the rest and when unknown */
	uint32_t kinds[SK_KIND_COUNT];
	uint32_t states[ST_COUNT];
	uint64_t recv_q, rss_kb;
	const struct history_stats *st; /* NULL when not known yet, or the rest */
};

static void proc_labels(FILE *f, const struct mproc *p)
{
	if (p->pid < 0)
		fputs("pid=\"other\",comm=\"other\",container=\"\"", f);
	else {
		fprintf(f, "pid=\"%d\",comm=", p->pid);
		metrics_label_value(f, p->comm);
		fputs(",container=", f);
		metrics_label_value(f, p->container);
	}
}

/* One port row, or the sum of the rest (other). */
struct mport {
	bool other;
	uint16_t port;
	uint8_t proto, side;
	uint64_t netns;
	uint32_t states[ST_COUNT];
	uint64_t recv_q;
	uint32_t accept_q, accept_max;
	bool listening;
};

static void port_labels(FILE *f, const struct mport *p)
{
	if (p->other)
		fputs("port=\"other\",proto=\"\",side=\"\",netns=\"\"", f);
	else
		fprintf(f, "port=\"%u\",proto=\"%s\",side=\"%s\",netns=\"%llu\"", p->port,
			p->proto == IPPROTO_UDP ? "udp" : "tcp", p->side == SIDE_LOCAL ? "local" : "remote",
			(unsigned long long)p->netns);
}

static void write_totals(FILE *f, const struct snapshot *s)
{
	const struct totals *t = &s->totals;

	family(f, "leaktop_sockets", "Sockets in the kernel's tables, by kind.");
	for (int k = 0; k < SK_KIND_COUNT; k++)
		fprintf(f, "leaktop_sockets{kind=\"%s\"} %u\n", kind_names[k], t->kinds[k]);
	family(f, "leaktop_tcp_sockets", "TCP sockets by state.");
	for (unsigned st = 1; st < ST_CLOSED_FD; st++)
		fprintf(f, "leaktop_tcp_sockets{state=\"%s\"} %u\n", sk_state_name(st), t->states[st]);
	if (s->closed_valid) {
		family(f, "leaktop_closed_sockets",
		       "Sockets held by a process's fd but in no kernel table (reset or never connected).");
		fprintf(f, "leaktop_closed_sockets %u\n", t->states[ST_CLOSED_FD]);
	}
	family(f, "leaktop_unowned_sockets", "TCP sockets no readable process holds.");
	fprintf(f, "leaktop_unowned_sockets %u\n", t->unowned);
	family(f, "leaktop_processes", "Processes seen.");
	fprintf(f, "leaktop_processes %u\n", t->procs);
	family(f, "leaktop_unreadable_processes", "Processes whose fds could not be read.");
	fprintf(f, "leaktop_unreadable_processes %u\n", t->unreadable);
	family(f, "leaktop_file_handles_allocated", "Allocated file handles (fs.file-nr).");
	fprintf(f, "leaktop_file_handles_allocated %llu\n", (unsigned long long)t->file_alloc);
	family(f, "leaktop_file_handles_max", "File handle limit (fs.file-max).");
	fprintf(f, "leaktop_file_handles_max %llu\n", (unsigned long long)t->file_max);
	size_t dumped = 0;
	for (size_t i = 0; i < s->nnetns; i++)
		dumped += s->netns[i].dumped;
	family(f, "leaktop_netns_dumped", "Network namespaces whose sockets were dumped.");
	fprintf(f, "leaktop_netns_dumped %zu\n", dumped);
	family(f, "leaktop_netns_limited", "1 when only leaktop's own network namespace is visible (not root).");
	fprintf(f, "leaktop_netns_limited %d\n", s->netns_limited ? 1 : 0);
	family(f, "leaktop_refresh_seconds", "What the refresh cost, wall clock.");
	fprintf(f, "leaktop_refresh_seconds %.6f\n", s->refresh_ms / 1000.0);
}

static void write_procs(FILE *f, const struct snapshot *s, const struct mproc *v, size_t n, bool closed)
{
	family(f, "leaktop_process_fds", "Open file descriptors of the process.");
	for (size_t i = 0; i < n; i++)
		if (v[i].fds >= 0) {
			fputs("leaktop_process_fds{", f);
			proc_labels(f, &v[i]);
			fprintf(f, "} %lld\n", (long long)v[i].fds);
		}
	family(f, "leaktop_process_fd_limit", "Soft RLIMIT_NOFILE of the process (absent when unlimited).");
	for (size_t i = 0; i < n; i++)
		if (v[i].pid >= 0 && v[i].fd_limit != UINT64_MAX) {
			fputs("leaktop_process_fd_limit{", f);
			proc_labels(f, &v[i]);
			fprintf(f, "} %llu\n", (unsigned long long)v[i].fd_limit);
		}
	/* FD% as view_fd_pct says, cut to two decimals of a percent: 749 of 1000 is 0.7490. */
	family(f, "leaktop_process_fd_usage_ratio",
	       "Open fds over the soft RLIMIT_NOFILE, cut (not rounded) to 4 decimals (absent when unlimited).");
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i].fd_pct)) {
			fputs("leaktop_process_fd_usage_ratio{", f);
			proc_labels(f, &v[i]);
			fprintf(f, "} %.4f\n", view_fd_pct_cut(v[i].fd_pct, 2) / 100);
		}
	family(f, "leaktop_process_sockets", "Socket fds of the process found in the dumps, by kind.");
	for (size_t i = 0; i < n; i++)
		for (int k = 0; k < SK_KIND_COUNT; k++) {
			fputs("leaktop_process_sockets{", f);
			proc_labels(f, &v[i]);
			fprintf(f, ",kind=\"%s\"} %u\n", kind_names[k], v[i].kinds[k]);
		}
	family(f, "leaktop_process_tcp_sockets", "TCP sockets of the process by state (states held only).");
	for (size_t i = 0; i < n; i++)
		for (unsigned st = 1; st < ST_CLOSED_FD; st++)
			if (v[i].states[st]) {
				fputs("leaktop_process_tcp_sockets{", f);
				proc_labels(f, &v[i]);
				fprintf(f, ",state=\"%s\"} %u\n", sk_state_name(st), v[i].states[st]);
			}
	if (closed) {
		family(f, "leaktop_process_closed_fds", "Socket fds of the process in no kernel table (CLOSED).");
		for (size_t i = 0; i < n; i++) {
			fputs("leaktop_process_closed_fds{", f);
			proc_labels(f, &v[i]);
			fprintf(f, "} %u\n", v[i].states[ST_CLOSED_FD]);
		}
	}
	family(f, "leaktop_process_recv_queue_bytes", "Unread bytes in the process's TCP and UDP sockets.");
	for (size_t i = 0; i < n; i++) {
		fputs("leaktop_process_recv_queue_bytes{", f);
		proc_labels(f, &v[i]);
		fprintf(f, "} %llu\n", (unsigned long long)v[i].recv_q);
	}
	family(f, "leaktop_process_rss_bytes", "Resident memory of the process.");
	for (size_t i = 0; i < n; i++) {
		/* "other" sums known ones, which may pass one machine's bound: only the
		 * byte count must not wrap. */
		if (v[i].rss_kb > UINT64_MAX / 1024 || (v[i].pid >= 0 && !view_rss_known(v[i].rss_kb)))
			continue;
		fputs("leaktop_process_rss_bytes{", f);
		proc_labels(f, &v[i]);
		fprintf(f, "} %llu\n", (unsigned long long)v[i].rss_kb * 1024ULL);
	}
	/* From the history, once it knows them (batch mode from -n 3, --listen from the
	 * third scrape); a family only when some process has a figure. Base units, as
	 * Prometheus wants them: per second, bytes. */
	static const struct { const char *name, *help; size_t off; double scale; } stats[] = {
		{"leaktop_process_fd_growth_per_second",
		 "Open fd growth of the process over the growth window, fds a second.",
		 offsetof(struct history_stats, fd_growth_per_min), 1.0 / 60},
		{"leaktop_process_close_wait_growth_per_second",
		 "CLOSE_WAIT growth of the process over the growth window, sockets a second.",
		 offsetof(struct history_stats, close_wait_growth_per_min), 1.0 / 60},
		{"leaktop_process_fd_exhaustion_seconds",
		 "Seconds until the process reaches its soft fd limit at its fd growth (absent when not growing).",
		 offsetof(struct history_stats, exhaustion_eta_s), 1},
		{"leaktop_process_rss_growth_bytes_per_second",
		 "RSS growth of the process over the growth window, bytes a second.",
		 offsetof(struct history_stats, rss_growth_mb_per_min), 1048576.0 / 60},
	};
	for (size_t k = 0; k < sizeof(stats) / sizeof(stats[0]); k++) {
		bool any = false;
		for (size_t i = 0; i < n; i++) {
			double x = v[i].st ? *(const double *)((const char *)v[i].st + stats[k].off) : NAN;
			if (!isfinite(x))
				continue;
			if (!any)
				family(f, stats[k].name, stats[k].help), any = true;
			fprintf(f, "%s{", stats[k].name);
			proc_labels(f, &v[i]);
			fprintf(f, "} %.3f\n", x * stats[k].scale);
		}
	}
	/* The verdict on the fds, one series per process that has one: alert on
	 * leaktop_process_verdict{verdict="leak"} == 1. */
	bool any = false;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].st || isnan(v[i].st->fd_growth_per_min))
			continue;
		if (!any)
			family(f, "leaktop_process_verdict",
			       "1 for leaktop's verdict on the process (fds, sockets and memory): ok, churn, suspect or leak."), any = true;
		fputs("leaktop_process_verdict{", f);
		proc_labels(f, &v[i]);
		fprintf(f, ",verdict=\"%s\"} 1\n", leak_verdict_name(v[i].st->verdict));
	}
	(void)s;
}

static void write_ports(FILE *f, const struct mport *v, size_t n)
{
	family(f, "leaktop_port_sockets", "Sockets on a port by state (states held only).");
	for (size_t i = 0; i < n; i++)
		for (unsigned st = 1; st < ST_CLOSED_FD; st++)
			if (v[i].states[st]) {
				fputs("leaktop_port_sockets{", f);
				port_labels(f, &v[i]);
				fprintf(f, ",state=\"%s\"} %u\n", sk_state_name(st), v[i].states[st]);
			}
	family(f, "leaktop_port_recv_queue_bytes", "Unread bytes in the port's sockets (listeners left out).");
	for (size_t i = 0; i < n; i++) {
		fputs("leaktop_port_recv_queue_bytes{", f);
		port_labels(f, &v[i]);
		fprintf(f, "} %llu\n", (unsigned long long)v[i].recv_q);
	}
	family(f, "leaktop_port_accept_queue", "Connections waiting in the port's accept queues.");
	for (size_t i = 0; i < n; i++)
		if (v[i].listening) {
			fputs("leaktop_port_accept_queue{", f);
			port_labels(f, &v[i]);
			fprintf(f, "} %u\n", v[i].accept_q);
		}
	family(f, "leaktop_port_accept_queue_max", "The port's accept queue limits (listen backlog).");
	for (size_t i = 0; i < n; i++)
		if (v[i].listening) {
			fputs("leaktop_port_accept_queue_max{", f);
			port_labels(f, &v[i]);
			fprintf(f, "} %u\n", v[i].accept_max);
		}
}

/* What fires now, one series an alert (a family only when one does): the same alerts
 * as --alert-cmd and the dashboard's alert line, with side and netns so two ports'
 * series never collide. */
static void write_alerts(FILE *f, const struct alerts *a)
{
	size_t n = 0;
	const struct alert *e = a ? alerts_active(a, &n) : NULL;

	if (n)
		family(f, "leaktop_alert_active", "1 for each alert firing now, by kind and level.");
	for (size_t i = 0; i < n; i++) {
		char pid[16] = "";
		if (e[i].pid)
			snprintf(pid, sizeof(pid), "%d", e[i].pid);
		fprintf(f, "leaktop_alert_active{kind=\"%s\",level=\"%s\",pid=\"%s\",comm=", alert_kind_name(e[i].kind),
			alert_level_name(e[i].level), pid);
		metrics_label_value(f, e[i].comm);
		if (e[i].port)
			fprintf(f, ",port=\"%u\",side=\"%s\",netns=\"%llu\"} 1\n", e[i].port,
				e[i].side == SIDE_LOCAL ? "local" : "remote", (unsigned long long)e[i].netns);
		else
			fputs(",port=\"\",side=\"\",netns=\"\"} 1\n", f);
	}
}

void metrics_write(FILE *f, const struct snapshot *s, const struct history *h, const struct batch_opts *o)
{
	uint32_t *idx = malloc((s->nprocs + 1) * sizeof(*idx));
	struct mproc *procs = calloc((o->top ? o->top : s->nprocs) + 1, sizeof(*procs));
	struct mport *ports = calloc((o->top ? o->top : s->nports) + 1, sizeof(*ports));
	size_t np = 0, nq = 0;

	write_totals(f, s);
	if (!idx || !procs || !ports)
		goto out;

	size_t n = view_procs_by_fds(s, &o->filter, idx);
	struct mproc *other = NULL;
	for (size_t i = 0; i < n; i++) {
		const struct proc_rec *p = &s->procs[idx[i]];
		struct mproc *m;
		if (!o->top || i < o->top) {
			m = &procs[np++];
			m->pid = p->pid, m->comm = p->comm, m->container = p->container;
			m->fds = p->fds, m->fd_limit = p->fd_limit, m->fd_pct = view_fd_pct(p);
			m->st = h ? history_proc(h, p->pid, p->start_time) : NULL;
		} else {
			if (!other) {
				other = &procs[np++];
				other->pid = -1;
				other->fd_pct = NAN;
			}
			m = other;
			if (p->fds > 0) /* a damaged recording's near INT64_MAX: no overflow */
				m->fds = view_sat_add64s(m->fds, p->fds);
		}
		for (int k = 0; k < SK_KIND_COUNT; k++)
			m->kinds[k] = view_sat_add32(m->kinds[k], p->kinds[k]);
		for (unsigned st = 0; st < ST_COUNT; st++)
			m->states[st] = view_sat_add32(m->states[st], p->states[st]);
		m->recv_q = view_sat_add(m->recv_q, p->recv_q);
		/* An RSS no machine has is unknown: no sample, nothing added to "other". */
		if (!view_rss_known(p->rss_kb))
			m->rss_kb = m == other ? m->rss_kb : UINT64_MAX;
		else
			m->rss_kb = view_sat_add(m->rss_kb, p->rss_kb);
	}
	write_procs(f, s, procs, np, s->closed_valid);

	struct mport *rest = NULL;
	size_t shown = 0;
	for (size_t i = 0; i < s->nports; i++) {
		const struct port_agg *p = &s->ports[i];
		struct mport *m;
		if (!view_port_match(&o->filter, p))
			continue;
		if (!o->top || shown < o->top) {
			m = &ports[nq++];
			m->port = p->port, m->proto = p->proto, m->side = p->side, m->netns = p->netns;
		} else {
			if (!rest) {
				rest = &ports[nq++];
				rest->other = true;
			}
			m = rest;
		}
		shown++;
		for (unsigned st = 0; st < ST_COUNT; st++)
			m->states[st] = view_sat_add32(m->states[st], p->states[st]);
		m->recv_q = view_sat_add(m->recv_q, p->recv_q);
		if (p->states[ST_LISTEN]) {
			m->listening = true;
			m->accept_q = view_sat_add32(m->accept_q, p->accept_q);
			m->accept_max = view_sat_add32(m->accept_max, p->accept_max);
		}
	}
	write_ports(f, ports, nq);
	write_alerts(f, o->alerts);
out:
	fputs("# EOF\n", f);
	free(idx);
	free(procs);
	free(ports);
}
