/* Batch output: text like `top -b`, and JSON Lines with one object per refresh. */
#include "config.h"

#include "model/batch.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const format_names[FMT_COUNT] = {
	[FMT_TEXT] = "text",
	[FMT_JSON] = "json",
};

int batch_format_parse(const char *name)
{
	for (int i = 0; i < FMT_COUNT; i++)
		if (!strcmp(name, format_names[i]))
			return i;
	return -1;
}

const char *batch_format_name(enum batch_format f)
{
	return f < FMT_COUNT ? format_names[f] : NULL;
}

static double start_unix(const struct proc_rec *p, const struct batch_opts *o)
{
	return o->boot_time + (double)p->start_time / (double)(o->clk_tck > 0 ? o->clk_tck : 100);
}

static void json_states(FILE *f, const uint32_t *states)
{
	const char *sep = "";

	putc('{', f);
	for (unsigned st = 1; st < ST_COUNT; st++) {
		if (!states[st])
			continue;
		fprintf(f, "%s\"%s\": %u", sep, sk_state_name(st), states[st]);
		sep = ", ";
	}
	putc('}', f);
}

static void json_limit(FILE *f, uint64_t v)
{
	if (v == UINT64_MAX)
		fputs("null", f);
	else
		fprintf(f, "%llu", (unsigned long long)v);
}

static void write_json(FILE *f, const struct snapshot *s, const struct batch_opts *o,
		       const uint32_t *procs, size_t nprocs, const uint32_t *backlog, size_t nbacklog)
{
	const struct totals *t = &s->totals;
	const char *sep = "";

	fprintf(f, "{\"time\": %.3f, \"tick\": %llu, \"refresh_ms\": %.1f, ", s->time,
		(unsigned long long)s->tick, s->refresh_ms);
	fprintf(f, "\"totals\": {\"sockets\": %u, \"states\": ", t->sockets);
	json_states(f, t->states);
	fprintf(f, ", \"unowned\": %u, \"processes\": %u, \"file_nr\": {\"allocated\": %llu, \"max\": %llu}, "
		"\"unreadable_processes\": %u}",
		t->unowned, t->procs, (unsigned long long)t->file_alloc, (unsigned long long)t->file_max,
		t->unreadable);
	if (s->status[0]) {
		fputs(", \"status\": ", f);
		text_json_string(f, s->status);
	}

	fputs(", \"processes\": [", f);
	for (size_t i = 0; i < nprocs; i++) {
		const struct proc_rec *p = &s->procs[procs[i]];
		fprintf(f, "%s{\"pid\": %d, \"start_time\": %.2f, \"comm\": ", sep, p->pid, start_unix(p, o));
		text_json_string(f, p->comm);
		fputs(", \"cmdline\": ", f);
		text_json_string(f, p->cmdline);
		fputs(", \"user\": ", f);
		text_json_string(f, p->user);
		fprintf(f, ", \"fds\": %lld, \"fd_limit\": ", (long long)p->fds);
		json_limit(f, p->fd_limit);
		fprintf(f, ", \"sockets\": %u, \"socket_fds\": %u, \"states\": ", p->sockets, p->sock_fds);
		json_states(f, p->states);
		fprintf(f, ", \"recv_q\": %llu, \"rss_kb\": %llu, \"unit\": ",
			(unsigned long long)p->recv_q, (unsigned long long)p->rss_kb);
		text_json_string(f, p->unit[0] ? p->unit : NULL);
		fputs(p->flags & PROC_UNREADABLE ? ", \"readable\": false}" : "}", f);
		sep = ", ";
	}

	fputs("], \"ports\": [", f);
	sep = "";
	size_t shown = 0;
	for (size_t i = 0; i < s->nports && (!o->top || shown < o->top); i++) {
		const struct port_agg *p = &s->ports[i];
		if (!view_port_match(&o->filter, p))
			continue;
		shown++;
		fprintf(f, "%s{\"port\": %u, \"side\": \"%s\", \"sockets\": %u, \"pids\": [", sep, p->port,
			p->side == SIDE_LOCAL ? "local" : "remote", p->count);
		for (uint32_t j = 0; j < p->npids; j++)
			fprintf(f, "%s%d", j ? ", " : "", p->pids[j]);
		fputs("], \"states\": ", f);
		json_states(f, p->states);
		fprintf(f, ", \"recv_q\": %llu", (unsigned long long)p->recv_q);
		if (p->states[ST_LISTEN])
			fprintf(f, ", \"accept_q\": %u, \"accept_max\": %u", p->accept_q, p->accept_max);
		putc('}', f);
		sep = ", ";
	}

	fputs("], \"backlog\": [", f);
	sep = "";
	for (size_t i = 0; i < nbacklog; i++) {
		const struct sock_rec *k = &s->socks[backlog[i]];
		const struct proc_rec *p = snapshot_sock_proc(s, k);
		char la[SOCK_ADDR_MAX], ra[SOCK_ADDR_MAX];
		fprintf(f, "%s{\"pid\": ", sep);
		if (p)
			fprintf(f, "%d, \"fd\": %d", p->pid, snapshot_sock_fd(s, k));
		else
			fputs("null, \"fd\": null", f);
		fprintf(f, ", \"local\": \"%s\", \"remote\": \"%s\", \"state\": \"%s\", \"recv_q\": %u, "
			"\"send_q\": %u, \"inode\": %u}",
			sock_addr_format(la, k->family, k->laddr, k->lport),
			sock_addr_format(ra, k->family, k->raddr, k->rport), sk_state_name(k->state), k->rqueue,
			k->wqueue, k->inode);
		sep = ", ";
	}
	fputs("]}\n", f);
}

static void text_states(FILE *f, const uint32_t *states)
{
	const char *sep = "";

	for (unsigned st = 1; st < ST_COUNT; st++) {
		if (!states[st])
			continue;
		fprintf(f, "%s%u %s", sep, states[st], sk_state_name(st));
		sep = ", ";
	}
	if (!*sep)
		fputs("none", f);
}

static const char *fmt_limit(char *buf, size_t n, uint64_t v)
{
	if (v == UINT64_MAX)
		snprintf(buf, n, "-");
	else
		snprintf(buf, n, "%llu", (unsigned long long)v);
	return buf;
}

static void write_text(FILE *f, const struct snapshot *s, const struct batch_opts *o,
		       const uint32_t *procs, size_t nprocs, const uint32_t *backlog, size_t nbacklog)
{
	const struct totals *t = &s->totals;
	char when[32], lim[24];
	time_t now = (time_t)s->time;
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
	fprintf(f, "leaktop - %s  refresh %llu  took %.0f ms\n", when, (unsigned long long)s->tick,
		s->refresh_ms);
	fprintf(f, "Sockets: %u total, ", t->sockets);
	text_states(f, t->states);
	fprintf(f, "; %u without an owner\n", t->unowned);
	fprintf(f, "Files: %llu allocated of %llu max; %u processes", (unsigned long long)t->file_alloc,
		(unsigned long long)t->file_max, t->procs);
	if (t->unreadable)
		fprintf(f, ", %u not readable (run as root to see them)", t->unreadable);
	fputc('\n', f);
	if (s->status[0])
		fprintf(f, "Status: %s\n", s->status);

	fprintf(f, "\n%7s %-10s %-16s %7s %7s %5s %7s %7s %7s %9s %9s\n", "PID", "USER", "COMMAND", "FDS",
		"LIMIT", "FD%", "SOCKETS", "CLOSE_W", "ESTAB", "RECV-Q", "RSS_KB");
	for (size_t i = 0; i < nprocs; i++) {
		const struct proc_rec *p = &s->procs[procs[i]];
		char pct[8] = "-";
		if (p->fds >= 0 && p->fd_limit && p->fd_limit != UINT64_MAX)
			snprintf(pct, sizeof(pct), "%.0f", 100.0 * (double)p->fds / (double)p->fd_limit);
		fprintf(f, "%7d %-10.10s %-16.16s %7lld %7s %5s %7u %7u %7u %9llu %9llu\n", p->pid, p->user,
			p->comm, (long long)p->fds, fmt_limit(lim, sizeof(lim), p->fd_limit), pct, p->sockets,
			p->states[ST_CLOSE_WAIT], p->states[ST_ESTABLISHED], (unsigned long long)p->recv_q,
			(unsigned long long)p->rss_kb);
	}

	fprintf(f, "\n%7s %-6s %7s %9s  %s\n", "PORT", "SIDE", "SOCKETS", "RECV-Q", "STATES");
	size_t shown = 0;
	for (size_t i = 0; i < s->nports && (!o->top || shown < o->top); i++) {
		const struct port_agg *p = &s->ports[i];
		if (!view_port_match(&o->filter, p))
			continue;
		shown++;
		fprintf(f, "%7u %-6s %7u %9llu  ", p->port, p->side == SIDE_LOCAL ? "local" : "remote", p->count,
			(unsigned long long)p->recv_q);
		text_states(f, p->states);
		if (p->states[ST_LISTEN])
			fprintf(f, "; accept queue %u/%u", p->accept_q, p->accept_max);
		fputs("; pids", f);
		for (uint32_t j = 0; j < p->npids; j++)
			fprintf(f, " %d", p->pids[j]);
		fputs(p->pids_truncated ? " ...\n" : (p->npids ? "\n" : " none\n"), f);
	}

	if (nbacklog) {
		fprintf(f, "\n%9s %7s %5s %-12s %-24s %-24s %7s\n", "RECV-Q", "PID", "FD", "STATE", "LOCAL", "REMOTE",
			"SEND-Q");
		for (size_t i = 0; i < nbacklog; i++) {
			const struct sock_rec *k = &s->socks[backlog[i]];
			const struct proc_rec *p = snapshot_sock_proc(s, k);
			char la[SOCK_ADDR_MAX], ra[SOCK_ADDR_MAX], pid[16] = "-", fd[16] = "-";
			if (p) {
				snprintf(pid, sizeof(pid), "%d", p->pid);
				snprintf(fd, sizeof(fd), "%d", snapshot_sock_fd(s, k));
			}
			fprintf(f, "%9u %7s %5s %-12s %-24s %-24s %7u\n", k->rqueue, pid, fd, sk_state_name(k->state),
				sock_addr_format(la, k->family, k->laddr, k->lport),
				sock_addr_format(ra, k->family, k->raddr, k->rport), k->wqueue);
		}
	}
	fputc('\n', f);
}

int batch_write(FILE *f, const struct snapshot *s, const struct history *h, const struct batch_opts *o)
{
	uint32_t *procs = malloc((s->nprocs + 1) * sizeof(*procs));
	uint32_t *backlog = malloc((o->backlog_max + 1) * sizeof(*backlog));
	int rc = 0;

	(void)h;
	if (!procs || !backlog) {
		rc = -ENOMEM;
		goto out;
	}
	size_t nprocs = view_procs_by_fds(s, &o->filter, procs);
	if (o->top && nprocs > o->top)
		nprocs = o->top;
	size_t nbacklog = view_backlog(s, &o->filter, backlog, o->backlog_max);
	if (o->format == FMT_JSON)
		write_json(f, s, o, procs, nprocs, backlog, nbacklog);
	else
		write_text(f, s, o, procs, nprocs, backlog, nbacklog);
	if (fflush(f) == EOF || ferror(f))
		rc = -(errno ? errno : EIO);
out:
	free(procs);
	free(backlog);
	return rc;
}
