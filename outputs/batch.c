/* Batch output: text like `top -b`, and JSON Lines with one object per refresh. */
#include "config.h"

#include "outputs/batch.h"
#include "model/alert.h"
#include "model/history.h"
#include "outputs/metrics.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

static void json_verdict(FILE *f, const struct history_stats *st)
{
	fputs(", \"verdict\": ", f);
	text_json_string(f, st ? leak_verdict_name(st->verdict) : NULL);
	fputs(", \"verdict_reason\": ", f);
	text_json_string(f, st ? st->reason : NULL);
	fputs(", \"close_wait_oldest_s\": ", f);
	text_json_num(f, st ? st->close_wait_oldest_s : NAN, 1);
	/* Only there when that age is the kernel's lower bound (">=2m" on the screen):
	 * older readers and recordings keep their exact output. */
	if (st && st->close_wait_oldest_bound)
		fputs(", \"close_wait_oldest_is_bound\": true", f);
}

static void json_proc_history(FILE *f, const struct history_stats *st)
{
	fputs(", \"fd_growth_per_min\": ", f);
	text_json_num(f, st ? st->fd_growth_per_min : NAN, 2);
	fputs(", \"close_wait_growth_per_min\": ", f);
	text_json_num(f, st ? st->close_wait_growth_per_min : NAN, 2);
	fputs(", \"exhaustion_eta_s\": ", f);
	text_json_num(f, st ? st->exhaustion_eta_s : NAN, 0);
	json_verdict(f, st);
	fputs(", \"rss_growth_mb_per_min\": ", f);
	text_json_num(f, st ? st->rss_growth_mb_per_min : NAN, 2);
	fputs(", \"mem_verdict\": ", f);
	text_json_string(f, st ? leak_verdict_name(st->mem_verdict) : NULL);
	fputs(", \"mem_verdict_reason\": ", f);
	text_json_string(f, st ? st->mem_reason : NULL);
}

static void json_port_history(FILE *f, const struct port_agg *p, const struct history_stats *st)
{
	const char *sep = "";

	fputs(", \"growth_per_min\": ", f);
	if (!st) {
		fputs("null", f);
	} else {
		putc('{', f);
		for (unsigned i = 1; i < ST_COUNT; i++) {
			double g = st->growth_per_min[i];
			if (!isfinite(g) || (!p->states[i] && fabs(g) < 0.005))
				continue;
			fprintf(f, "%s\"%s\": ", sep, sk_state_name(i));
			text_json_num(f, g, 2);
			sep = ", ";
		}
		putc('}', f);
	}
	json_verdict(f, st);
}

static void json_alerts(FILE *f, const struct alerts *a)
{
	size_t n = 0;
	const struct alert *e = a ? alerts_events(a, &n) : NULL;

	fputs(", \"alerts\": [", f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s{\"alert\": \"%s\", \"level\": \"%s\", \"pid\": ", i ? ", " : "",
			alert_kind_name(e[i].kind), alert_level_name(e[i].level));
		if (e[i].pid)
			fprintf(f, "%d, \"comm\": ", e[i].pid);
		else
			fputs("null, \"comm\": ", f);
		text_json_string(f, e[i].pid ? e[i].comm : NULL);
		if (e[i].port)
			fprintf(f, ", \"port\": %u, \"side\": \"%s\"", e[i].port,
				e[i].side == SIDE_LOCAL ? "local" : "remote");
		else
			fputs(", \"port\": null, \"side\": null", f);
		fputs(", \"value\": ", f);
		text_json_num(f, e[i].value, -6);
		fputs(", \"threshold\": ", f);
		text_json_num(f, e[i].threshold, -6);
		fputs(", \"message\": ", f);
		text_json_string(f, e[i].message);
		putc('}', f);
	}
	putc(']', f);
}

/* --sockets: every socket that passes the filter, with every (pid, fd) that holds it.
 * head[sock] and next[owner] chain each socket's owners (pid order, as owners are). */
static void json_sockets(FILE *f, const struct snapshot *s, const struct batch_opts *o, int32_t *head,
			 int32_t *next)
{
	const char *sep = "";

	for (size_t i = 0; i < s->nsocks; i++)
		head[i] = -1;
	for (size_t i = s->nowners; i-- > 0;) {
		const struct sock_owner *w = &s->owners[i];
		next[i] = -1;
		if (w->sock < 0)
			continue;
		next[i] = head[w->sock];
		head[w->sock] = (int32_t)i;
	}
	fputs(", \"sockets\": [", f);
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct sock_rec *k = &s->socks[i];
		char la[SOCK_ADDR_MAX], ra[SOCK_ADDR_MAX];
		if (!view_sock_match(&o->filter, s, k))
			continue;
		fprintf(f, "%s{\"inode\": %u, \"state\": \"%s\", \"local\": \"%s\", \"remote\": \"%s\", "
			"\"recv_q\": %u, \"send_q\": %u, \"owners\": [", sep, k->inode, sk_state_name(k->state),
			sock_addr_format(la, k->family, k->laddr, k->lport),
			sock_addr_format(ra, k->family, k->raddr, k->rport), k->rqueue, k->wqueue);
		for (int32_t w = head[i]; w >= 0; w = next[w])
			fprintf(f, "%s{\"pid\": %d, \"fd\": %d}", w == head[i] ? "" : ", ",
				s->procs[s->owners[w].proc].pid, s->owners[w].fd);
		fputs("]}", f);
		sep = ", ";
	}
	putc(']', f);
}

static void write_json(FILE *f, const struct snapshot *s, const struct history *h, const struct batch_opts *o,
		       const uint32_t *procs, size_t nprocs, const uint32_t *ports, size_t nports,
		       const uint32_t *backlog, size_t nbacklog, int32_t *chain)
{
	const struct totals *t = &s->totals;
	const char *sep = "";

	fputs("{\"time\": ", f);
	text_json_num(f, s->time, 3);
	fprintf(f, ", \"tick\": %llu, \"refresh_ms\": ", (unsigned long long)s->tick);
	text_json_num(f, s->refresh_ms, 1);
	fputs(", ", f);
	fprintf(f, "\"totals\": {\"sockets\": %u, \"states\": ", t->sockets);
	json_states(f, t->states);
	fprintf(f, ", \"udp\": %u, \"unix\": %u, \"other_sockets\": %u", t->kinds[SK_UDP],
		t->kinds[SK_UNIX], t->kinds[SK_OTHER]);
	if (s->closed_valid)
		fprintf(f, ", \"closed\": %u", t->states[ST_CLOSED_FD]);
	fprintf(f, ", \"unowned\": %u, \"processes\": %u, \"file_nr\": {\"allocated\": %llu, \"max\": %llu",
		t->unowned, t->procs, (unsigned long long)t->file_alloc, (unsigned long long)t->file_max);
	double file_growth = NAN, file_eta = NAN;
	if (h)
		history_file_stats(h, &file_growth, &file_eta);
	fputs(", \"growth_per_min\": ", f);
	text_json_num(f, file_growth, 2);
	fputs(", \"eta_s\": ", f);
	text_json_num(f, file_eta, 0);
	fprintf(f, "}, \"unreadable_processes\": %u", t->unreadable);
	fprintf(f, ", \"netns_visible\": \"%s\", \"netns\": [", s->netns_limited ? "own" : "all");
	for (size_t i = 0; i < s->nnetns; i++)
		fprintf(f, "%s{\"netns\": %llu, \"processes\": %u, \"sockets\": %u, \"dumped\": %s%s}",
			i ? ", " : "", (unsigned long long)s->netns[i].inode, s->netns[i].procs,
			s->netns[i].sockets, s->netns[i].dumped ? "true" : "false",
			s->netns[i].own ? ", \"own\": true" : "");
	fputs("]}", f);
	if (s->status[0]) {
		fputs(", \"status\": ", f);
		text_json_string(f, s->status);
	}

	fputs(", \"processes\": [", f);
	for (size_t i = 0; i < nprocs; i++) {
		const struct proc_rec *p = &s->procs[procs[i]];
		fprintf(f, "%s{\"pid\": %d, \"start_time\": ", sep, p->pid);
		text_json_num(f, start_unix(p, o), 2);
		fputs(", \"comm\": ", f);
		text_json_string(f, p->comm);
		fputs(", \"cmdline\": ", f);
		text_json_string(f, p->cmdline);
		fputs(", \"user\": ", f);
		text_json_string(f, p->user);
		fprintf(f, ", \"fds\": %lld, \"fd_limit\": ", (long long)p->fds);
		json_limit(f, p->fd_limit);
		/* FD% cut to two decimals, as view_fd_pct says: 749 of 1000 is 74.90. */
		fputs(", \"fd_pct\": ", f);
		text_json_num(f, view_fd_pct_cut(view_fd_pct(p), 2), 2);
		fprintf(f, ", \"sockets\": %u, \"socket_fds\": %u, \"udp\": %u, \"unix\": %u, "
			"\"other_sockets\": %u, ", p->sockets, p->sock_fds, p->kinds[SK_UDP],
			p->kinds[SK_UNIX], p->kinds[SK_OTHER]);
		if (s->closed_valid)
			fprintf(f, "\"closed\": %u, ", p->states[ST_CLOSED_FD]);
		fputs("\"states\": ", f);
		json_states(f, p->states);
		fprintf(f, ", \"netns\": %llu, \"container\": ", (unsigned long long)p->netns);
		text_json_string(f, p->container[0] ? p->container : NULL);
		fprintf(f, ", \"recv_q\": %llu, \"rss_kb\": ", (unsigned long long)p->recv_q);
		/* One no machine has (a damaged recording's -1) is unknown, not a number. */
		if (view_rss_known(p->rss_kb))
			fprintf(f, "%llu", (unsigned long long)p->rss_kb);
		else
			fputs("null", f);
		fputs(", \"unit\": ", f);
		text_json_string(f, p->unit[0] ? p->unit : NULL);
		json_proc_history(f, h ? history_proc(h, p->pid, p->start_time) : NULL);
		fputs(p->flags & PROC_UNREADABLE ? ", \"readable\": false}" : "}", f);
		sep = ", ";
	}

	fputs("], \"ports\": [", f);
	sep = "";
	for (size_t i = 0; i < nports; i++) {
		const struct port_agg *p = &s->ports[ports[i]];
		fprintf(f, "%s{\"port\": %u, \"side\": \"%s\", \"sockets\": %u, \"pids\": [", sep, p->port,
			p->side == SIDE_LOCAL ? "local" : "remote", p->count);
		for (uint32_t j = 0; j < p->npids; j++)
			fprintf(f, "%s%d", j ? ", " : "", p->pids[j]);
		fputs("], \"states\": ", f);
		json_states(f, p->states);
		fprintf(f, ", \"recv_q\": %llu", (unsigned long long)p->recv_q);
		if (p->states[ST_LISTEN])
			fprintf(f, ", \"accept_q\": %u, \"accept_max\": %u", p->accept_q, p->accept_max);
		json_port_history(f, p, h ? history_port(h, p->netns, p->port, p->side) : NULL);
		fprintf(f, ", \"proto\": \"%s\", \"netns\": %llu}", p->proto == IPPROTO_UDP ? "udp" : "tcp",
			(unsigned long long)p->netns);
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
		fputs(", \"local\": ", f);
		if (k->family == AF_UNIX) {
			text_json_string(f, snapshot_name(s, k->un.name));
			fprintf(f, ", \"remote\": null, \"peer\": %u", k->un.peer);
		} else {
			fprintf(f, "\"%s\", \"remote\": \"%s\"", sock_addr_format(la, k->family, k->laddr, k->lport),
				sock_addr_format(ra, k->family, k->raddr, k->rport));
		}
		fprintf(f, ", \"state\": \"%s\", \"recv_q\": %u, \"send_q\": %u, \"inode\": %u, "
			"\"proto\": \"%s\", \"netns\": %llu}", sk_state_name(k->state), k->rqueue, k->wqueue,
			k->inode, sock_proto_name(k), (unsigned long long)k->netns);
		sep = ", ";
	}
	putc(']', f);
	json_alerts(f, o->alerts);
	if (chain)
		json_sockets(f, s, o, chain, chain + s->nsocks);
	fputs("}\n", f);
}

/* One table of the text report from the columns the dashboard draws: their titles,
 * widths and formatters (view_tables[t].text), history columns only with a history.
 * Cells are never cut; the last column is not padded. */
static void text_table(FILE *f, enum view_table t, const struct view_ctx *c, const uint32_t *rows, size_t n)
{
	const struct view_table_def *d = &view_tables[t];
	uint8_t cols[VIEW_MAX_COLS];
	size_t ncols = 0;
	char buf[1024];

	for (size_t i = 0; i < d->ntext; i++)
		if (c->h || !d->cols[d->text[i]].hist)
			cols[ncols++] = d->text[i];
	fputc('\n', f);
	for (size_t r = 0; r <= n; r++) {
		for (size_t i = 0; i < ncols; i++) {
			const struct view_col *col = &d->cols[cols[i]];
			int w = col->flex && d->text_flex > col->width ? d->text_flex : col->width;
			const char *cell = col->title;
			if (r) {
				col->fmt(c, rows[r - 1], buf, sizeof(buf));
				cell = buf;
			}
			if (i)
				fputc(' ', f);
			if (i + 1 == ncols && col->left)
				fputs(cell, f);
			else
				fprintf(f, col->left ? "%-*s" : "%*s", w, cell);
		}
		fputc('\n', f);
	}
}

/* The evidence behind every verdict that is not ok, under the table it explains. */
static void text_reason(FILE *f, const char *what, const struct history_stats *st)
{
	/* The verdict covers memory too: its reason then says "memory: RSS ...". */
	if (st && st->verdict != VERDICT_OK)
		fprintf(f, "  %-22s %-7s %s\n", what, leak_verdict_name(st->verdict), st->reason);
}

static void write_text(FILE *f, const struct snapshot *s, const struct history *h, const uint32_t *procs,
		       size_t nprocs, const uint32_t *ports, size_t nports, const uint32_t *backlog, size_t nbacklog)
{
	const struct totals *t = &s->totals;
	const struct view_ctx ctx = {.s = s, .h = h, .ascii = true};
	char when[32], states[256];

	text_time(when, sizeof(when), "%Y-%m-%d %H:%M:%S", s->time);
	fprintf(f, "leaktop - %s  refresh %llu  took %.0f ms\n", when, (unsigned long long)s->tick,
		s->refresh_ms);
	uint32_t tcp_states[ST_COUNT];
	memcpy(tcp_states, t->states, sizeof(tcp_states));
	tcp_states[ST_CLOSED_FD] = 0;
	fprintf(f, "Sockets: %u total, %s; %u without an owner\n", t->sockets,
		view_fmt_states(states, sizeof(states), tcp_states), t->unowned);
	fprintf(f, "Other sockets: %u UDP, %u UNIX, %u other; ", t->kinds[SK_UDP], t->kinds[SK_UNIX],
		t->kinds[SK_OTHER]);
	if (s->closed_valid)
		fprintf(f, "%u CLOSED (socket fds in no kernel table)\n", t->states[ST_CLOSED_FD]);
	else
		fputs("CLOSED not counted\n", f);
	size_t dumped = 0;
	for (size_t i = 0; i < s->nnetns; i++)
		dumped += s->netns[i].dumped;
	if (s->netns_limited)
		fputs("Network namespaces: only leaktop's own is visible (not root)\n", f);
	else
		fprintf(f, "Network namespaces: %zu dumped of %zu\n", dumped, s->nnetns);
	fprintf(f, "Files: %llu allocated of %llu max; %u processes", (unsigned long long)t->file_alloc,
		(unsigned long long)t->file_max, t->procs);
	if (t->unreadable)
		fprintf(f, ", %u not readable (run as root to see them)", t->unreadable);
	double file_growth = NAN, file_eta = INFINITY;
	if (h)
		history_file_stats(h, &file_growth, &file_eta);
	if (isfinite(file_eta)) {
		char eta[16];
		fprintf(f, "; growing %+.0f/min, fs.file-max reached in %s", file_growth,
			leak_format_duration(eta, sizeof(eta), file_eta));
	}
	fputc('\n', f);
	if (s->status[0])
		fprintf(f, "Status: %s\n", s->status);

	text_table(f, VT_PROCS, &ctx, procs, nprocs);
	for (size_t i = 0; h && i < nprocs; i++) {
		const struct proc_rec *p = &s->procs[procs[i]];
		char what[40];
		snprintf(what, sizeof(what), "pid %d %.15s", p->pid, p->comm);
		text_reason(f, what, history_proc(h, p->pid, p->start_time));
	}

	text_table(f, VT_PORTS, &ctx, ports, nports);
	for (size_t i = 0; h && i < nports; i++) {
		const struct port_agg *p = &s->ports[ports[i]];
		char what[40];
		snprintf(what, sizeof(what), "port %u %s", p->port, p->side == SIDE_LOCAL ? "local" : "remote");
		text_reason(f, what, history_port(h, p->netns, p->port, p->side));
	}

	if (nbacklog)
		text_table(f, VT_SOCKS, &ctx, backlog, nbacklog);
	fputc('\n', f);
}

int batch_write(FILE *f, const struct snapshot *s, const struct history *h, const struct batch_opts *o)
{
	uint32_t *procs = malloc((s->nprocs + 1) * sizeof(*procs));
	uint32_t *backlog = malloc((o->backlog_max + 1) * sizeof(*backlog));
	uint32_t *ports = malloc((s->nports + 1) * sizeof(*ports));
	int32_t *chain = NULL;
	int rc = 0;

	if (o->sockets && o->format == FMT_JSON &&
	    !(chain = malloc((s->nsocks + s->nowners + 1) * sizeof(*chain)))) {
		rc = -ENOMEM;
		goto out;
	}
	if (!procs || !backlog || !ports) {
		rc = -ENOMEM;
		goto out;
	}
	size_t nprocs = view_procs_by_fds(s, &o->filter, procs);
	if (o->top && nprocs > o->top)
		nprocs = o->top;
	size_t nbacklog = view_backlog(s, &o->filter, backlog, o->backlog_max);
	/* Both sides, as the Ports pane lists them by default. */
	size_t nports = view_ports(s, &o->filter, NULL, VIEW_PORTS_BOTH, ports);
	if (o->top && nports > o->top)
		nports = o->top;
	if (o->format == FMT_OPENMETRICS)
		metrics_write(f, s, h, o);
	else if (o->format == FMT_JSON)
		write_json(f, s, h, o, procs, nprocs, ports, nports, backlog, nbacklog, chain);
	else
		write_text(f, s, h, procs, nprocs, ports, nports, backlog, nbacklog);
	if (fflush(f) == EOF || ferror(f))
		rc = -(errno ? errno : EIO);
out:
	free(procs);
	free(backlog);
	free(ports);
	free(chain);
	return rc;
}
