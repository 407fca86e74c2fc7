/* The backlog pane: where unread bytes sit. Sockets with Recv-Q, grouped by owning
 * process and local port (inbound) or remote endpoint (outbound, "->5432"); Enter
 * expands a group into its single sockets. */
#include "config.h"

#include "tui/pane_backlog.h"
#include "tui/draw.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "model/snapshot.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

static struct row_key group_key(const struct app *a, const struct view_bl_group *g)
{
	int32_t pid = g->proc >= 0 ? a->s->procs[g->proc].pid : 0;
	uint64_t addr = 0;

	/* An outbound group is one remote address and port: the address, hashed into
	 * the bits above the pid (at most 2^22). */
	for (size_t i = 0; g->side == SIDE_REMOTE && i < sizeof(g->raddr); i++)
		addr = (addr ^ g->raddr[i]) * 0x100000001b3ull;
	return (struct row_key){(addr << 40) ^ ((uint64_t)(uint32_t)pid << 17 | (uint64_t)g->side << 16 | g->port), 0};
}

static bool expanded(const struct app *a, struct row_key k)
{
	for (size_t i = 0; i < a->nexpanded; i++)
		if (a->expanded[i].a == k.a)
			return true;
	return false;
}

/* The socket at position pos of a->bl.socks, its group ordered as far as pos (and
 * pane_reach beyond): rows are ordered only as they come into view (a group of 500k
 * sockets is one press of Enter away, and a refresh every few seconds). */
static uint32_t bl_sock_at(struct app *a, uint32_t pos)
{
	struct view_backlog *bl = &a->bl;
	size_t lo = 0, hi = bl->ngroups;

	while (hi - lo > 1) { /* the last group that starts at or before pos */
		size_t mid = lo + (hi - lo) / 2;
		if (bl->groups[mid].first <= pos)
			lo = mid;
		else
			hi = mid;
	}
	const struct view_bl_group *g = &bl->groups[lo];
	if (pos - g->first >= g->ordered)
		view_backlog_order(bl, a->s, lo, pane_reach(pos - g->first + 1, g->ordered));
	return bl->socks[pos];
}

static int backlog_build(struct app *a, struct pane *p)
{
	const struct view_backlog *bl = &a->bl;
	size_t n = 0;

	if (pane_grow(p, bl->ngroups + bl->nsocks))
		return -1;
	for (size_t i = 0; i < bl->ngroups; i++)
		p->rows[n++] = (uint32_t)i;
	view_sort(VT_BACKLOG, &a->ctx, p->rows, n, p->sort, p->invert);
	/* Insert the sockets of expanded groups after their group row. */
	for (size_t i = n; i-- > 0;) {
		const struct view_bl_group *g = &bl->groups[p->rows[i]];
		if (!expanded(a, group_key(a, g)))
			continue;
		/* In order as far as the pane shows (it scrolls the selection into view),
		 * and as far as the socket selected, which is to be found in its place. */
		size_t upto = (p->sel > p->top ? p->sel : p->top) + pane_screenful();
		size_t k = upto > i ? upto - i : 0;
		for (uint32_t j = 0; p->have_key && p->key.b == 1 && j < g->count; j++) {
			uint32_t sock = bl->socks[g->first + j];
			const struct sock_rec *sk = &a->s->socks[sock];
			if ((sk->inode ? sk->inode : sk->cookie) == p->key.a) {
				size_t r = view_backlog_rank(bl, a->s, p->rows[i], sock) + pane_screenful();
				k = r > k ? r : k;
				break;
			}
		}
		view_backlog_order(&a->bl, a->s, p->rows[i], k);
		memmove(&p->rows[i + 1 + g->count], &p->rows[i + 1], (n - i - 1) * sizeof(*p->rows));
		for (uint32_t j = 0; j < g->count; j++)
			p->rows[i + 1 + j] = ROW_SOCK | (g->first + j);
		n += g->count;
	}
	p->nrows = n;
	return 0;
}

static struct row_key backlog_key(const struct app *a, uint32_t row)
{
	if (row & ROW_SOCK) {
		const struct sock_rec *k = &a->s->socks[a->bl.socks[row & ~ROW_SOCK]];
		return (struct row_key){k->inode ? k->inode : k->cookie, 1};
	}
	return group_key(a, &a->bl.groups[row]);
}

static int backlog_cell_role(const struct app *a, uint32_t row, int col)
{
	return col == BC_RECVQ ? TH_WARNING : -1;
}

/* A single socket under its group: local -> remote, state, Recv-Q, Send-Q, owner fd. */
static bool backlog_draw_row(struct app *a, struct pane *p, int y, uint32_t row, int attr)
{
	if (!(row & ROW_SOCK))
		return false;
	const struct sock_rec *k = &a->s->socks[bl_sock_at(a, row & ~ROW_SOCK)];
	const struct proc_rec *o = snapshot_sock_proc(a->s, k);
	char la[SOCK_ADDR_MAX], ra[SOCK_ADDR_MAX], line[256], owner[96] = "no owner";

	if (o)
		snprintf(owner, sizeof(owner), "pid %d fd %d", o->pid, snapshot_sock_fd(a->s, k));
	snprintf(line, sizeof(line), "  %s %s -> %s %s rq %u sq %u %s", a->ascii ? "`-" : "\u2514",
		 sock_addr_format(la, k->family, sock_laddr(a->s, k).b, k->lport),
		 sock_addr_format(ra, k->family, sock_raddr(a->s, k).b, k->rport),
		 sk_state_name(k->state), k->rqueue, k->wqueue, owner);
	draw_text(y, 0, COLS, line, attr, false);
	return true;
}

static void backlog_title(const struct app *a, const struct pane *p, char *buf, size_t n)
{
	snprintf(buf, n, "COMMAND (backlog: Recv-Q by process, port or ->remote)");
}

static void backlog_enter(struct app *a, struct pane *p)
{
	uint32_t row = p->rows[p->sel];
	if (row & ROW_SOCK)
		return;
	struct row_key k = group_key(a, &a->bl.groups[row]);
	for (size_t i = 0; i < a->nexpanded; i++)
		if (a->expanded[i].a == k.a) {
			a->expanded[i] = a->expanded[--a->nexpanded];
			panes_rebuild(a);
			return;
		}
	if (a->nexpanded < sizeof(a->expanded) / sizeof(a->expanded[0]))
		a->expanded[a->nexpanded++] = k;
	panes_rebuild(a);
}

static bool backlog_match(struct app *a, uint32_t row, const struct view_query *q)
{
	if (row & ROW_SOCK)
		return view_query_sock(q, a->s, &a->s->socks[bl_sock_at(a, row & ~ROW_SOCK)]);
	const struct view_bl_group *g = &a->bl.groups[row];
	for (uint32_t j = 0; j < g->count; j++)
		if (view_query_sock(q, a->s, &a->s->socks[a->bl.socks[g->first + j]]))
			return true;
	return false;
}

const struct pane_ops pane_backlog_ops = {
	.table = VT_BACKLOG,
	.build = backlog_build,
	.key = backlog_key,
	.cell_role = backlog_cell_role,
	.draw_row = backlog_draw_row,
	.title = backlog_title,
	.enter = backlog_enter,
	.match = backlog_match,
};
