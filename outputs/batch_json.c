/* JSON Lines of batch output: one object per refresh, its parts as arrays, every
 * figure a number or null (model/jsonw.h writes it). */
#include "config.h"

#include "outputs/batch_int.h"
#include "model/alert.h"
#include "model/history.h"
#include "model/jsonw.h"
#include "model/snapshot.h"

#include <math.h>
#include <netinet/in.h>
#include <sys/socket.h>

static const char *side_name(unsigned side)
{
	return side == SIDE_LOCAL ? "local" : "remote";
}

/* The states held, as {"NAME": count}, in the kernel's order. */
static void json_states(struct jsonw *w, const uint32_t *states)
{
	jsonw_obj(w, "states");
	for (unsigned st = 1; st < ST_COUNT; st++)
		if (states[st])
			jsonw_uint(w, sk_state_name(st), states[st]);
	jsonw_end(w);
}

static void json_head(struct batch_ctx *c)
{
	const struct snapshot *s = c->s;
	const struct totals *t = &s->totals;
	struct jsonw *w = c->w;

	jsonw_obj(w, NULL);
	jsonw_num(w, "time", s->time, 3);
	jsonw_uint(w, "tick", s->tick);
	jsonw_num(w, "refresh_ms", s->refresh_ms, 1);
	jsonw_obj(w, "totals");
	jsonw_uint(w, "sockets", t->sockets);
	json_states(w, t->states);
	jsonw_uint(w, "udp", t->kinds[SK_UDP]);
	jsonw_uint(w, "unix", t->kinds[SK_UNIX]);
	jsonw_uint(w, "other_sockets", t->kinds[SK_OTHER]);
	if (s->closed_valid)
		jsonw_uint(w, "closed", t->states[ST_CLOSED_FD]);
	jsonw_uint(w, "unowned", t->unowned);
	jsonw_uint(w, "processes", t->procs);
	jsonw_obj(w, "file_nr");
	jsonw_uint(w, "allocated", t->file_alloc);
	jsonw_uint(w, "max", t->file_max);
	jsonw_num(w, "growth_per_min", c->file_growth, 2);
	jsonw_num(w, "eta_s", c->file_eta, 0);
	jsonw_end(w);
	jsonw_uint(w, "unreadable_processes", t->unreadable);
	jsonw_str(w, "netns_visible", s->netns_limited ? "own" : "all");
	jsonw_arr(w, "netns");
	for (size_t i = 0; i < s->nnetns; i++) {
		jsonw_obj(w, NULL);
		jsonw_uint(w, "netns", s->netns[i].inode);
		jsonw_uint(w, "processes", s->netns[i].procs);
		jsonw_uint(w, "sockets", s->netns[i].sockets);
		jsonw_bool(w, "dumped", s->netns[i].dumped);
		if (s->netns[i].own)
			jsonw_bool(w, "own", true);
		jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_end(w);
	if (s->status[0])
		jsonw_str(w, "status", s->status);
}

static void json_verdict(struct jsonw *w, const struct history_stats *st)
{
	jsonw_str(w, "verdict", st ? leak_verdict_name(st->verdict) : NULL);
	jsonw_str(w, "verdict_reason", st ? st->reason : NULL);
	jsonw_num(w, "close_wait_oldest_s", st ? st->close_wait_oldest_s : NAN, 1);
	/* Only there when that age is the kernel's lower bound (">=2m" on the screen):
	 * older readers and recordings keep their exact output. */
	if (st && st->close_wait_oldest_bound)
		jsonw_bool(w, "close_wait_oldest_is_bound", true);
}

static void json_proc(struct batch_ctx *c, uint32_t i)
{
	const struct proc_rec *p = &c->s->procs[i];
	const struct batch_opts *o = c->o;
	const struct history_stats *st = c->h ? history_proc(c->h, p->pid, p->start_time) : NULL;
	struct jsonw *w = c->w;

	jsonw_obj(w, NULL);
	jsonw_int(w, "pid", p->pid);
	jsonw_num(w, "start_time",
		  o->boot_time + (double)p->start_time / (double)(o->clk_tck > 0 ? o->clk_tck : 100), 2);
	jsonw_str(w, "comm", p->comm);
	jsonw_str(w, "cmdline", p->cmdline);
	jsonw_str(w, "user", p->user);
	jsonw_int(w, "fds", p->fds);
	if (p->fd_limit == UINT64_MAX)
		jsonw_null(w, "fd_limit");
	else
		jsonw_uint(w, "fd_limit", p->fd_limit);
	/* FD% cut to two decimals, as view_fd_pct says: 749 of 1000 is 74.90. */
	jsonw_num(w, "fd_pct", view_fd_pct_cut(view_fd_pct(p), 2), 2);
	jsonw_uint(w, "sockets", p->sockets);
	jsonw_uint(w, "socket_fds", p->sock_fds);
	jsonw_uint(w, "udp", p->kinds[SK_UDP]);
	jsonw_uint(w, "unix", p->kinds[SK_UNIX]);
	jsonw_uint(w, "other_sockets", p->kinds[SK_OTHER]);
	if (c->s->closed_valid)
		jsonw_uint(w, "closed", p->states[ST_CLOSED_FD]);
	json_states(w, p->states);
	jsonw_uint(w, "netns", p->netns);
	jsonw_str(w, "container", p->container[0] ? p->container : NULL);
	jsonw_uint(w, "recv_q", p->recv_q);
	/* One no machine has (a damaged recording's -1) is unknown, not a number. */
	if (view_rss_known(p->rss_kb))
		jsonw_uint(w, "rss_kb", p->rss_kb);
	else
		jsonw_null(w, "rss_kb");
	jsonw_str(w, "unit", p->unit[0] ? p->unit : NULL);
	jsonw_num(w, "fd_growth_per_min", st ? st->fd_growth_per_min : NAN, 2);
	jsonw_num(w, "close_wait_growth_per_min", st ? st->close_wait_growth_per_min : NAN, 2);
	jsonw_num(w, "exhaustion_eta_s", st ? st->exhaustion_eta_s : NAN, 0);
	json_verdict(w, st);
	jsonw_num(w, "rss_growth_mb_per_min", st ? st->rss_growth_mb_per_min : NAN, 2);
	jsonw_str(w, "mem_verdict", st ? leak_verdict_name(st->mem_verdict) : NULL);
	jsonw_str(w, "mem_verdict_reason", st ? st->mem_reason : NULL);
	if (p->flags & PROC_UNREADABLE)
		jsonw_bool(w, "readable", false);
	jsonw_end(w);
}

static void json_port(struct batch_ctx *c, uint32_t i)
{
	const struct port_agg *p = &c->s->ports[i];
	const struct history_stats *st = c->h ? history_port(c->h, p->netns, p->port, p->side) : NULL;
	struct jsonw *w = c->w;

	jsonw_obj(w, NULL);
	jsonw_uint(w, "port", p->port);
	jsonw_str(w, "side", side_name(p->side));
	jsonw_uint(w, "sockets", p->count);
	jsonw_arr(w, "pids");
	for (uint32_t j = 0; j < p->npids; j++)
		jsonw_int(w, NULL, p->pids[j]);
	jsonw_end(w);
	json_states(w, p->states);
	jsonw_uint(w, "recv_q", p->recv_q);
	if (p->states[ST_LISTEN]) {
		jsonw_uint(w, "accept_q", p->accept_q);
		jsonw_uint(w, "accept_max", p->accept_max);
	}
	if (!st) {
		jsonw_null(w, "growth_per_min");
	} else {
		/* The states the port holds, and those that moved by a hundredth a minute or
		 * more (a pile that drained away). */
		jsonw_obj(w, "growth_per_min");
		for (unsigned s = 1; s < ST_COUNT; s++) {
			double g = st->growth_per_min[s];
			if (isfinite(g) && (p->states[s] || fabs(g) >= 0.005))
				jsonw_num(w, sk_state_name(s), g, 2);
		}
		jsonw_end(w);
	}
	json_verdict(w, st);
	jsonw_str(w, "proto", p->proto == IPPROTO_UDP ? "udp" : "tcp");
	jsonw_uint(w, "netns", p->netns);
	jsonw_end(w);
}

static void json_backlog(struct batch_ctx *c, uint32_t i)
{
	const struct snapshot *s = c->s;
	const struct sock_rec *k = &s->socks[i];
	const struct proc_rec *p = snapshot_sock_proc(s, k);
	struct jsonw *w = c->w;
	char a[SOCK_ADDR_MAX];

	jsonw_obj(w, NULL);
	if (p) {
		jsonw_int(w, "pid", p->pid);
		jsonw_int(w, "fd", snapshot_sock_fd(s, k));
	} else {
		jsonw_null(w, "pid");
		jsonw_null(w, "fd");
	}
	if (k->family == AF_UNIX) {
		jsonw_str(w, "local", snapshot_name(s, k->un.name));
		jsonw_null(w, "remote");
		jsonw_uint(w, "peer", k->un.peer);
	} else {
		jsonw_str(w, "local", sock_addr_format(a, k->family, sock_laddr(s, k).b, k->lport));
		jsonw_str(w, "remote", sock_addr_format(a, k->family, sock_raddr(s, k).b, k->rport));
	}
	jsonw_str(w, "state", sk_state_name(k->state));
	jsonw_uint(w, "recv_q", k->rqueue);
	jsonw_uint(w, "send_q", k->wqueue);
	jsonw_uint(w, "inode", k->inode);
	jsonw_str(w, "proto", sock_proto_name(k));
	jsonw_uint(w, "netns", sock_netns(s, k));
	jsonw_end(w);
}

/* This refresh's alert transitions (fired, cleared). */
static void json_alert(struct batch_ctx *c, uint32_t i)
{
	size_t n;
	const struct alert *e = &alerts_events(c->o->alerts, &n)[i];
	struct jsonw *w = c->w;

	jsonw_obj(w, NULL);
	jsonw_str(w, "alert", alert_kind_name(e->kind));
	jsonw_str(w, "level", alert_level_name(e->level));
	if (e->pid) {
		jsonw_int(w, "pid", e->pid);
		jsonw_str(w, "comm", e->comm);
	} else {
		jsonw_null(w, "pid");
		jsonw_null(w, "comm");
	}
	if (e->port) {
		jsonw_uint(w, "port", e->port);
		jsonw_str(w, "side", side_name(e->side));
	} else {
		jsonw_null(w, "port");
		jsonw_null(w, "side");
	}
	jsonw_num(w, "value", e->value, -6);
	jsonw_num(w, "threshold", e->threshold, -6);
	jsonw_str(w, "message", e->message);
	jsonw_end(w);
}

/* --sockets: one socket and every (pid, fd) that holds it. */
static void json_socket(struct batch_ctx *c, uint32_t i)
{
	const struct snapshot *s = c->s;
	const struct sock_rec *k = &s->socks[i];
	struct jsonw *w = c->w;
	char a[SOCK_ADDR_MAX];

	jsonw_obj(w, NULL);
	jsonw_uint(w, "inode", k->inode);
	jsonw_str(w, "state", sk_state_name(k->state));
	jsonw_str(w, "local", sock_addr_format(a, k->family, sock_laddr(s, k).b, k->lport));
	jsonw_str(w, "remote", sock_addr_format(a, k->family, sock_raddr(s, k).b, k->rport));
	jsonw_uint(w, "recv_q", k->rqueue);
	jsonw_uint(w, "send_q", k->wqueue);
	jsonw_arr(w, "owners");
	for (int32_t o = c->owner_head[i]; o >= 0; o = c->owner_next[o]) {
		jsonw_obj(w, NULL);
		jsonw_int(w, "pid", s->procs[s->owners[o].proc].pid);
		jsonw_int(w, "fd", s->owners[o].fd);
		jsonw_end(w);
	}
	jsonw_end(w);
	jsonw_end(w);
}

static const char *const json_parts[BP_COUNT] = {
	[BP_PROCS] = "processes",
	[BP_PORTS] = "ports",
	[BP_BACKLOG] = "backlog",
	[BP_ALERTS] = "alerts",
	[BP_SOCKETS] = "sockets",
};

static void json_open(struct batch_ctx *c, enum batch_part p, size_t n)
{
	(void)n;
	jsonw_arr(c->w, json_parts[p]);
}

static void json_close(struct batch_ctx *c, enum batch_part p)
{
	(void)p;
	jsonw_end(c->w);
}

static void json_tail(struct batch_ctx *c)
{
	jsonw_end(c->w);
}

const struct batch_emit batch_json = {
	.head = json_head,
	.open = json_open,
	.row = {[BP_PROCS] = json_proc, [BP_PORTS] = json_port, [BP_BACKLOG] = json_backlog,
		[BP_ALERTS] = json_alert, [BP_SOCKETS] = json_socket},
	.close = json_close,
	.tail = json_tail,
};
