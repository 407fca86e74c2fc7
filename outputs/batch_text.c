/* The text report of batch output (like `top -b`): the head in sentences, then the
 * processes, ports and backlog as tables of the columns the dashboard draws, each
 * verdict's evidence under its table. */
#include "config.h"

#include "outputs/batch_int.h"
#include "model/history.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <math.h>
#include <string.h>

static void text_head(struct batch_ctx *c)
{
	const struct snapshot *s = c->s;
	const struct totals *t = &s->totals;
	FILE *f = c->f;
	char when[32], states[256];

	c->view = (struct view_ctx){.s = s, .h = c->h, .ascii = true};
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
	if (isfinite(c->file_eta)) {
		char eta[16];
		fprintf(f, "; growing %+.0f/min, fs.file-max reached in %s", c->file_growth,
			leak_format_duration(eta, sizeof(eta), c->file_eta));
	}
	fputc('\n', f);
	if (s->status[0])
		fprintf(f, "Status: %s\n", s->status);
}

/* The table each part is shown as; the backlog only when it has rows. */
static const struct {
	enum view_table table;
	bool only_with_rows;
} text_parts[BP_COUNT] = {
	[BP_PROCS] = {VT_PROCS, false},
	[BP_PORTS] = {VT_PORTS, false},
	[BP_BACKLOG] = {VT_SOCKS, true},
};

/* One row of the table: the view's cells (r false: the titles), never cut; the last
 * column is not padded. */
static void text_line(struct batch_ctx *c, bool r, uint32_t row)
{
	const struct view_table_def *d = &view_tables[c->table];
	char buf[1024];

	for (size_t i = 0; i < c->ncols; i++) {
		const struct view_col *col = &d->cols[c->cols[i]];
		int w = col->flex && d->text_flex > col->width ? d->text_flex : col->width;
		const char *cell = col->title;
		if (r) {
			col->fmt(&c->view, row, buf, sizeof(buf));
			cell = buf;
		}
		if (i)
			fputc(' ', c->f);
		if (i + 1 == c->ncols && col->left)
			fputs(cell, c->f);
		else
			fprintf(c->f, col->left ? "%-*s" : "%*s", w, cell);
	}
	fputc('\n', c->f);
}

/* A table from the columns the dashboard draws: their titles, widths and formatters
 * (view_tables[t].text), history columns only with a history. */
static void text_open(struct batch_ctx *c, enum batch_part p, size_t n)
{
	const struct view_table_def *d = &view_tables[text_parts[p].table];

	c->ncols = 0;
	if (!n && text_parts[p].only_with_rows)
		return;
	c->table = text_parts[p].table;
	for (size_t i = 0; i < d->ntext; i++)
		if (c->h || !d->cols[d->text[i]].hist)
			c->cols[c->ncols++] = d->text[i];
	fputc('\n', c->f);
	text_line(c, false, 0);
}

static void text_row(struct batch_ctx *c, uint32_t row)
{
	text_line(c, true, row);
}

/* The evidence behind every verdict that is not ok, under the table it explains. */
static void text_reason(FILE *f, const char *what, const struct history_stats *st)
{
	/* The verdict covers memory too: its reason then says "memory: RSS ...". */
	if (st && st->verdict != VERDICT_OK)
		fprintf(f, "  %-22s %-7s %s\n", what, leak_verdict_name(st->verdict), st->reason);
}

static void text_proc_reason(struct batch_ctx *c, uint32_t i)
{
	const struct proc_rec *p = &c->s->procs[i];
	char what[40];

	if (!c->h)
		return;
	snprintf(what, sizeof(what), "pid %d %.15s", p->pid, p->comm);
	text_reason(c->f, what, history_proc(c->h, p->pid, p->start_time));
}

static void text_port_reason(struct batch_ctx *c, uint32_t i)
{
	const struct port_agg *p = &c->s->ports[i];
	char what[40];

	if (!c->h)
		return;
	snprintf(what, sizeof(what), "port %u %s", p->port, p->side == SIDE_LOCAL ? "local" : "remote");
	text_reason(c->f, what, history_port(c->h, p->netns, p->port, p->side));
}

static void text_close(struct batch_ctx *c, enum batch_part p)
{
	(void)c, (void)p;
}

static void text_tail(struct batch_ctx *c)
{
	fputc('\n', c->f);
}

/* Alerts and the --sockets list are JSON's alone. */
const struct batch_emit batch_text = {
	.head = text_head,
	.open = text_open,
	.row = {[BP_PROCS] = text_row, [BP_PORTS] = text_row, [BP_BACKLOG] = text_row},
	.note = {[BP_PROCS] = text_proc_reason, [BP_PORTS] = text_port_reason},
	.close = text_close,
	.tail = text_tail,
};
