/* Rows put in order only as far as they are looked at: the drill-down of a port with
 * many sockets orders the screenful shown, End the last rows, a search as far as it
 * walks; every row shown is the one a full sort puts there, whatever the column,
 * with ties, and the selection stays on its socket across a refresh. */
#include "config.h"

#include "model/view.h"
#include "model/snapshot.h"
#include "program/options.h"
#include "tui/input.h"
#include "tui/msgview.h"
#include "tui/pane_backlog.h"
#include "tui/pane_ports.h"
#include "tui/pane_procs.h"
#include "tui/pane_socks.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "tests/testkit.h"

#include <curses.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NSOCKS 3000
#define PORT 8080

static struct snapshot *s;
static struct view_ctx ctx;

/* NSOCKS sockets on port 8080, half of them held by web (pid 10), the rest by
 * no one. Every column has ties: four states, five Recv-Q values, three Send-Q, 50
 * remote ports on three remote addresses (of three widths), TCP and UDP, a few
 * timers. Remote port 40036 is on every 50th socket, all with Recv-Q 2: in the
 * middle of the default order. */
static void setup(void)
{
	static const char *const raddr[] = {"127.0.0.1", "127.0.0.22", "127.0.0.133"};
	static const uint8_t states[] = {ST_ESTABLISHED, ST_CLOSE_WAIT, ST_TIME_WAIT, ST_FIN_WAIT2};

	s = snapshot_new();
	TESTKIT_PROC(s, .pid = 10, .start_time = 1010, .comm = "web", .user = "www", .fds = NSOCKS, .fd_limit = 65536);
	for (uint32_t i = 0; i < NSOCKS; i++) {
		struct sock_rec *k = TESTKIT_SOCK(s, .cookie = 1000 + i, .inode = 1000 + (i * 7919u) % NSOCKS,
			.state = states[i % 4], .lport = PORT, .rport = (uint16_t)(40000 + i % 50),
			.rq = (i * 7u) % 5, .wq = i % 3, .proto = i % 10 ? IPPROTO_TCP : IPPROTO_UDP,
			.timer = (uint8_t)(i % 3), .laddr = "127.0.0.1", .raddr = raddr[i % 3],
			.held = i % 2 == 0, .proc = 0, .fd = 3 + (int)i);
		k->expires_ms = (i % 4) * 1000;
	}
	ck_assert_int_eq(snapshot_build(s), 0);
	ctx = (struct view_ctx){.s = s};
}

static void teardown(void)
{
	snapshot_free(s);
}

/* The sockets of the port, in the snapshot's order (as the drill-down collects them). */
static size_t port_rows(uint32_t *rows)
{
	size_t n = 0;
	for (size_t i = 0; i < s->nsocks; i++)
		if (s->socks[i].lport == PORT)
			rows[n++] = (uint32_t)i;
	return n;
}

static void same_rows(const uint32_t *got, const uint32_t *want, size_t from, size_t to, int col, bool inv)
{
	for (size_t i = from; i < to; i++)
		ck_assert_msg(got[i] == want[i], "%s%s: row %zu is %u, a full sort has %u",
			      view_tables[VT_SOCKS].cols[col].title, inv ? " inverted" : "", i, got[i], want[i]);
}

/* For every column, both ways: the first rows, the last ones (End), a row's rank,
 * and, ordered further and further as a scroll or a search does, all of them. */
START_TEST(rows_in_place_are_where_a_full_sort_puts_them)
{
	static uint32_t full[NSOCKS], lazy[NSOCKS];
	size_t n = port_rows(full);
	ck_assert_uint_eq(n, NSOCKS);

	for (int col = 0; col < SC_COUNT; col++)
		for (int inv = 0; inv < 2; inv++) {
			struct view_order o;
			port_rows(full);
			port_rows(lazy);
			view_sort(VT_SOCKS, &ctx, full, n, col, inv);
			view_order_init(&o, VT_SOCKS, col, inv);
			view_order_head(&o, &ctx, lazy, n, 20);
			ck_assert_uint_eq(o.head, 20);
			same_rows(lazy, full, 0, 20, col, inv);
			view_order_tail(&o, &ctx, lazy, n, 1); /* End */
			same_rows(lazy, full, n - 1, n, col, inv);
			view_order_tail(&o, &ctx, lazy, n, 30);
			same_rows(lazy, full, 0, 20, col, inv);
			same_rows(lazy, full, n - 30, n, col, inv);
			/* Between the two, each row's rank is its place in the full sort. */
			for (size_t i = 20; i < n - 30; i += 97) {
				size_t r = view_order_rank(&o, &ctx, lazy, n, i);
				ck_assert_msg(full[r] == lazy[i], "%s: rank %zu of row %u", view_tables[VT_SOCKS].cols[col].title,
					      r, lazy[i]);
			}
			ck_assert_uint_eq(view_order_rank(&o, &ctx, lazy, n, 5), 5);
			for (size_t k = 40; o.head + o.tail < n; k *= 2) {
				view_order_head(&o, &ctx, lazy, n, k);
				same_rows(lazy, full, 0, o.head, col, inv);
			}
			same_rows(lazy, full, 0, n, col, inv);
		}
}
END_TEST

/* A tail put in place first, then the head meeting it: nothing lost or doubled. */
START_TEST(head_and_tail_meet)
{
	static uint32_t full[NSOCKS], lazy[NSOCKS];
	size_t n = port_rows(full);
	struct view_order o;

	port_rows(lazy);
	view_sort(VT_SOCKS, &ctx, full, n, SC_STATE, false);
	view_order_init(&o, VT_SOCKS, SC_STATE, false);
	view_order_tail(&o, &ctx, lazy, n, n - 10);
	ck_assert_uint_eq(o.tail, n - 10);
	same_rows(lazy, full, 10, n, SC_STATE, false);
	view_order_head(&o, &ctx, lazy, n, n); /* as far as the tail: 10 */
	ck_assert_uint_eq(o.head, 10);
	same_rows(lazy, full, 0, n, SC_STATE, false);
	view_order_tail(&o, &ctx, lazy, n, n);
	ck_assert_uint_eq(o.head + o.tail, n);
}
END_TEST

/* --- The drill-down as the dashboard has it ---------------------------------------- */

static struct app app;
static const struct options opts;

static void drill_setup(void)
{
	static const struct pane_ops *const ops[PANE_COUNT] = {
		[PANE_PROCS] = &pane_procs_ops, [PANE_PORTS] = &pane_ports_ops,
		[PANE_BACKLOG] = &pane_backlog_ops, [PANE_SOCKS] = &pane_socks_ops,
	};
	setup();
	memset(&app, 0, sizeof(app));
	app.o = &opts;
	app.s = s;
	for (int i = 0; i < PANE_COUNT; i++) {
		app.panes[i].ops = ops[i];
		app.panes[i].sort = view_tables[ops[i]->table].default_sort;
	}
	ck_assert_int_eq(msgview_init(&app), 0);
	pane_socks_open(&app, &(struct drill){.kind = DRILL_PORT, .port = PORT, .side = SIDE_LOCAL});
	ck_assert(app.drilled);
}

static void drill_teardown(void)
{
	msgview_free(&app);
	view_backlog_free(&app.bl);
	for (int i = 0; i < PANE_COUNT; i++)
		free(app.panes[i].rows);
	teardown();
}

static struct pane *drill(void)
{
	return &app.panes[PANE_SOCKS];
}

/* The drill-down's rows as a full sort by its column gives them. */
static size_t full_sort(uint32_t *full)
{
	size_t n = port_rows(full);
	view_sort(VT_SOCKS, &app.ctx, full, n, drill()->sort, drill()->invert);
	return n;
}

/* End goes to the last socket of the full order, Home back to the first, and neither
 * orders the whole list. */
START_TEST(end_reaches_the_last_socket_of_the_port)
{
	static uint32_t full[NSOCKS];
	struct pane *p = drill();
	size_t n = full_sort(full);

	ck_assert_uint_eq(p->nrows, n);
	pane_order(&app, p, 0, 20); /* what the screen draws */
	same_rows(p->rows, full, 0, 20, p->sort, p->invert);
	input_key(&app, KEY_END);
	ck_assert_uint_eq(p->sel, n - 1);
	pane_order(&app, p, n - 20, n);
	same_rows(p->rows, full, n - 20, n, p->sort, p->invert);
	ck_assert_msg(p->order.head + p->order.tail < n / 4, "%zu of %zu rows ordered for two screens",
		      p->order.head + p->order.tail, n);
	input_key(&app, KEY_HOME);
	ck_assert_uint_eq(p->sel, 0);
	ck_assert_uint_eq(p->rows[0], full[0]);
	/* Inverted: the selection stays on its socket, now the first of the last Recv-Q
	 * (ties stay by row, either way). */
	uint32_t sock = full[0];
	input_key(&app, 'I');
	ck_assert(p->invert);
	full_sort(full);
	ck_assert_uint_eq(p->sel, n - n / 5);
	ck_assert_uint_eq(p->rows[p->sel], sock);
	ck_assert_uint_eq(full[p->sel], sock);
	input_key(&app, KEY_HOME);
	pane_order(&app, p, 0, 20);
	same_rows(p->rows, full, 0, 20, p->sort, true);
}
END_TEST

/* A search finds the first match in the order shown, n the next; a refresh and a new
 * sort keep the selection on its socket, at the place a full sort gives it. */
START_TEST(search_and_refresh_keep_the_full_sorts_places)
{
	static uint32_t full[NSOCKS];
	struct pane *p = drill();
	size_t n = full_sort(full), first = n, second = n;

	for (size_t i = 0; i < n && second == n; i++)
		if (s->socks[full[i]].rport == 40036) {
			if (first == n)
				first = i;
			else
				second = i;
		}
	ck_assert_uint_lt(second, n);
	ck_assert_uint_gt(first, 1000); /* far past what the screen ordered */
	input_key(&app, '/');
	for (const char *c = "40036"; *c; c++)
		input_key(&app, *c);
	input_key(&app, '\r');
	ck_assert_uint_eq(p->sel, first);
	ck_assert_uint_eq(p->rows[p->sel], full[first]);
	input_key(&app, 'n');
	ck_assert_uint_eq(p->sel, second);
	ck_assert_uint_eq(p->rows[p->sel], full[second]);

	/* A refresh: the same sockets, another Recv-Q for the selected one. */
	uint32_t sock = p->rows[p->sel];
	s->socks[sock].rqueue = 3;
	panes_rebuild(&app);
	full_sort(full);
	ck_assert_uint_eq(p->rows[p->sel], sock);
	ck_assert_uint_eq(full[p->sel], sock);
	/* Sorted by the next columns (SEND-Q, INODE, TIMER): the full sort's places too. */
	for (int i = 0; i < 3; i++) {
		input_key(&app, '>');
		full_sort(full);
		ck_assert_uint_eq(p->rows[p->sel], sock);
		ck_assert_msg(full[p->sel] == sock, "sorted by %s: the selection is at %zu",
			      view_tables[VT_SOCKS].cols[p->sort].title, p->sel);
		pane_order(&app, p, p->top, p->top + 20);
	}
}
END_TEST

/* Widths are measured on a sample of a long list, and on every row drawn: a wide
 * address the sample missed widens its column as it comes on screen. */
START_TEST(a_wide_address_shown_widens_its_column)
{
	struct pane *p = drill();
	size_t n = p->nrows;
	char buf[64];

	int v4 = (int)strlen("127.0.0.133:40048"); /* the widest of the port */
	ck_assert_int_eq(p->data_w[SC_REMOTE], v4);
	/* A wider remote address on a socket the sample skips (it takes every second
	 * row here), with the most Recv-Q: the first row. */
	ck_assert_uint_gt(n, 2048);
	struct sock_rec *k = &s->socks[1];
	static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6};
	uint8_t l[16];
	memcpy(l, sock_laddr(s, k).b, sizeof(l));
	k->family = AF_INET6;
	ck_assert_int_eq(snapshot_sock_set_addrs(s, k, l, v6), 0);
	k->rqueue = 9;
	panes_rebuild(&app);
	ck_assert_int_eq(p->data_w[SC_REMOTE], v4);
	pane_order(&app, p, 0, 20);
	ck_assert_uint_eq(p->rows[0], 1);
	p->ops->measure(&app, p, 0, 20);
	view_tables[VT_SOCKS].cols[SC_REMOTE].fmt(&app.ctx, 1, buf, sizeof(buf));
	ck_assert_str_eq(buf, "[2001:db8:1:2:3:4:5:6]:40001");
	ck_assert_int_eq(p->data_w[SC_REMOTE], (int)strlen(buf));
}
END_TEST

int main(void)
{
	const struct testkit_case cases[] = {
		{.name = "order", .setup = setup, .teardown = teardown,
		 .tests = TESTKIT_TESTS(
			rows_in_place_are_where_a_full_sort_puts_them,
			head_and_tail_meet)},
		{.name = "drill", .setup = drill_setup, .teardown = drill_teardown,
		 .tests = TESTKIT_TESTS(
			end_reaches_the_last_socket_of_the_port,
			search_and_refresh_keep_the_full_sorts_places,
			a_wide_address_shown_widens_its_column)},
	};

	return TESTKIT_RUN("order", cases);
}
