/* Batch output: text like `top -b`, and JSON Lines with one object per refresh, both
 * from one walk of the refresh (the outputs' parts in batch_text.c, batch_json.c). */
#include "config.h"

#include "outputs/batch.h"
#include "outputs/batch_int.h"
#include "model/alert.h"
#include "model/history.h"
#include "model/jsonw.h"
#include "outputs/metrics.h"
#include "model/snapshot.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

static const struct batch_emit *const batch_emits[FMT_COUNT] = {
	[FMT_TEXT] = &batch_text,
	[FMT_JSON] = &batch_json,
};

/* head[sock] and next[owner] chain each socket's owners (pid order, as owners are). */
static void chain_owners(const struct snapshot *s, int32_t *head, int32_t *next)
{
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
}

/* The one walk: every output goes through the same parts and rows in the same order. */
static void batch_walk(const struct batch_emit *e, struct batch_ctx *c, const struct batch_list *parts)
{
	e->head(c);
	for (unsigned p = 0; p < BP_COUNT; p++) {
		const struct batch_list *l = &parts[p];
		if (!e->row[p] || !l->shown)
			continue;
		e->open(c, p, l->n);
		for (size_t i = 0; i < l->n; i++)
			e->row[p](c, l->rows ? l->rows[i] : (uint32_t)i);
		for (size_t i = 0; e->note[p] && i < l->n; i++)
			e->note[p](c, l->rows ? l->rows[i] : (uint32_t)i);
		e->close(c, p);
	}
	e->tail(c);
}

int batch_write(FILE *f, const struct snapshot *s, const struct history *h, const struct batch_opts *o)
{
	uint32_t *procs = malloc((s->nprocs + 1) * sizeof(*procs));
	uint32_t *backlog = malloc((o->backlog_max + 1) * sizeof(*backlog));
	uint32_t *ports = malloc((s->nports + 1) * sizeof(*ports));
	uint32_t *socks = NULL;
	int32_t *chain = NULL;
	struct batch_ctx c = {.f = f, .s = s, .h = h, .o = o, .file_growth = NAN, .file_eta = NAN};
	int rc = -ENOMEM;

	bool sockets = o->sockets && o->format == FMT_JSON;
	if (sockets && (!(chain = malloc((s->nsocks + s->nowners + 1) * sizeof(*chain))) ||
			!(socks = malloc((s->nsocks + 1) * sizeof(*socks)))))
		goto out;
	if (!procs || !backlog || !ports)
		goto out;
	if (o->format == FMT_JSON && !(c.w = jsonw_new(f)))
		goto out;
	rc = 0;

	struct batch_list parts[BP_COUNT] = {
		[BP_PROCS] = {procs, view_procs_by_fds(s, &o->filter, procs), true},
		/* Both sides, as the Ports pane lists them by default. */
		[BP_PORTS] = {ports, view_ports(s, &o->filter, NULL, VIEW_PORTS_BOTH, ports), true},
		[BP_BACKLOG] = {backlog, view_backlog(s, &o->filter, backlog, o->backlog_max), true},
		[BP_ALERTS] = {NULL, 0, true},
		[BP_SOCKETS] = {socks, 0, sockets},
	};
	if (o->top && parts[BP_PROCS].n > o->top)
		parts[BP_PROCS].n = o->top;
	if (o->top && parts[BP_PORTS].n > o->top)
		parts[BP_PORTS].n = o->top;
	if (o->alerts)
		alerts_events(o->alerts, &parts[BP_ALERTS].n);
	if (sockets) {
		/* Every socket that passes the filter, with every (pid, fd) that holds it. */
		for (size_t i = 0; i < s->nsocks; i++)
			if (view_sock_match(&o->filter, s, &s->socks[i]))
				socks[parts[BP_SOCKETS].n++] = (uint32_t)i;
		c.owner_head = chain;
		c.owner_next = chain + s->nsocks;
		chain_owners(s, c.owner_head, c.owner_next);
	}
	if (o->format == FMT_OPENMETRICS) {
		metrics_write(f, s, h, o);
	} else {
		if (h)
			history_file_stats(h, &c.file_growth, &c.file_eta);
		batch_walk(batch_emits[o->format], &c, parts);
	}
	if (fflush(f) == EOF || ferror(f))
		rc = -(errno ? errno : EIO);
out:
	jsonw_free(c.w);
	free(procs);
	free(backlog);
	free(ports);
	free(socks);
	free(chain);
	return rc;
}
