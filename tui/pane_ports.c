/* The ports pane: a TCP state histogram per port, with a stacked bar: local ports and
 * a client's remote ones ("->5432") mixed, or with `r` remote only, then local only.
 * Each state has its theme colour; without colour, its legend letters. */
#include "config.h"

#include "tui/pane_ports.h"
#include "tui/draw.h"
#include "tui/pane_socks.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "model/history.h"
#include "model/snapshot.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static int ports_build(struct app *a, struct pane *p)
{
	const struct snapshot *s = a->s;

	if (pane_grow(p, s->nports))
		return -1;
	p->nrows = view_ports(s, &a->o->filter, &a->filter, (enum view_port_sides)a->port_sides, p->rows);
	view_sort_culprits(VT_PORTS, &a->ctx, p->rows, p->nrows, p->sort, p->invert, !p->sort_chosen);
	/* Bars are scaled to the busiest port, so they compare across rows. */
	a->ports_max = 1;
	for (size_t i = 0; i < p->nrows; i++)
		if (s->ports[p->rows[i]].count > a->ports_max)
			a->ports_max = s->ports[p->rows[i]].count;
	return 0;
}

static struct row_key ports_key(const struct app *a, uint32_t row)
{
	const struct port_agg *g = &a->s->ports[row];
	return (struct row_key){(uint64_t)g->port << 8 | g->side, g->netns};
}

static int ports_cell_role(const struct app *a, uint32_t row, int col)
{
	const struct port_agg *g = &a->s->ports[row];
	static const int state_of[OC_COUNT] = {
		[OC_ESTAB] = ST_ESTABLISHED, [OC_CLOSE_WAIT] = ST_CLOSE_WAIT,
		[OC_TIME_WAIT] = ST_TIME_WAIT, [OC_FIN_WAIT2] = ST_FIN_WAIT2,
	};

	const struct history_stats *st = a->hist ? history_port(a->hist, g->netns, g->port, g->side) : NULL;

	if (col == OC_ACCEPT && g->states[ST_LISTEN] && g->accept_max && g->accept_q >= g->accept_max)
		return TH_CRITICAL;
	if (col == OC_VERDICT)
		return !st || st->verdict < VERDICT_SUSPECT ? -1 : st->verdict == VERDICT_LEAK ? TH_CRITICAL : TH_WARNING;
	/* A port judged to leak: its CLOSE_WAIT figures in the critical role. */
	if (st && (col == OC_CLOSE_WAIT || col == OC_CWMIN || col == OC_CWAGE) && st->verdict >= VERDICT_SUSPECT)
		return st->verdict == VERDICT_LEAK ? TH_CRITICAL : TH_WARNING;
	if (col == OC_CWMIN)
		return st && isfinite(st->growth_per_min[ST_CLOSE_WAIT]) && st->growth_per_min[ST_CLOSE_WAIT] > 0 ? TH_GROWTH : -1;
	if (state_of[col] && g->states[state_of[col]])
		return TH_STATE + state_of[col];
	return -1;
}

/* The STATES column: the state most sockets are in, in words ("CLOSE_WAIT 98%": the
 * row's story without colour), then a bar of every state, scaled to the busiest port. */
static void ports_draw_cell(struct app *a, struct pane *p, int y, int x, int w, uint32_t row, int col, bool sel)
{
	const struct port_agg *g = &a->s->ports[row];
	uint32_t m = a->ports_max;
	char most[32];
	int filled = 0, mattr = sel ? draw_attr(a, TH_SELECTED) : (int)A_NORMAL;

	unsigned pct, top = view_mostly(g->states, &pct);
	view_fmt_mostly(most, sizeof(most), g->states);
	int mw = (int)strlen(most) + 1;
	if (mw > w)
		mw = w;
	if (top && !sel)
		mattr = draw_attr(a, TH_STATE + (int)top);
	draw_text(y, x, mw, most, mattr, false);
	x += mw;
	w -= mw;
	move(y, x);
	for (unsigned st = 0; st < ST_COUNT && filled < w; st++) {
		if (!g->states[st])
			continue;
		int n = (int)((uint64_t)g->states[st] * (uint64_t)w / m);
		if (n < 1)
			n = 1;
		if (n > w - filled)
			n = w - filled;
		int attr = draw_attr(a, TH_STATE + (int)st);
		const char *ab = sk_state_abbrev(st);
		/* In colour a solid block; without colour, the legend letters. */
		for (int i = 0; i < n; i++) {
			if (a->color) {
				attrset(attr);
				addstr(draw_block(a));
			} else {
				attrset(attr | (sel ? A_REVERSE : 0));
				addch((chtype)(unsigned char)ab[i % strlen(ab)]);
			}
		}
		filled += n;
	}
	attrset(sel ? draw_attr(a, TH_SELECTED) : (int)A_NORMAL);
	for (; filled < w; filled++)
		addch(' ');
}

static void ports_title(const struct app *a, const struct pane *p, char *buf, size_t n)
{
	static const char *const titles[VIEW_PORTS_SIDES] = {
		/* Short: at 80 columns the bar's header holds about ten characters. */
		[VIEW_PORTS_BOTH] = "ALL PORTS",
		[VIEW_PORTS_REMOTE] = "REMOTE",
		[VIEW_PORTS_LOCAL] = "LOCAL",
	};
	snprintf(buf, n, "%s", titles[a->port_sides % VIEW_PORTS_SIDES]);
}

void pane_ports_legend(const struct app *a, char *buf, size_t n)
{
	const struct pane *p = &a->panes[PANE_PORTS];
	uint32_t present[ST_COUNT] = {0};
	size_t len = (size_t)snprintf(buf, n, "States:");

	/* The letters of the states that the rows show. */
	for (size_t i = 0; a->s && i < p->nrows; i++)
		for (unsigned st = 0; st < ST_COUNT; st++)
			present[st] += a->s->ports[p->rows[i]].states[st];
	for (unsigned st = 0; st < ST_COUNT && len < n; st++)
		if (present[st])
			len += (size_t)snprintf(buf + len, n - len, " %s=%s", sk_state_abbrev(st), sk_state_name(st));
}

static void ports_enter(struct app *a, struct pane *p)
{
	const struct port_agg *g = &a->s->ports[p->rows[p->sel]];
	struct drill d = {.kind = DRILL_PORT, .port = g->port, .side = g->side, .netns = g->netns};

	snprintf(d.title, sizeof(d.title), "sockets with %s port %u", g->side == SIDE_LOCAL ? "local" : "remote",
		 g->port);
	pane_socks_open(a, &d);
}

static bool ports_match(struct app *a, uint32_t row, const struct view_query *q)
{
	return view_query_port(q, a->s, &a->s->ports[row]);
}

const struct pane_ops pane_ports_ops = {
	.table = VT_PORTS,
	.build = ports_build,
	.key = ports_key,
	.cell_role = ports_cell_role,
	.draw_cell = ports_draw_cell,
	.title = ports_title,
	.enter = ports_enter,
	.match = ports_match,
};
