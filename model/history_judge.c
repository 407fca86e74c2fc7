/* The history's figures and verdicts: the evidence of each process and port (growth,
 * stalls, what left a CLOSE_WAIT pile, the far ends of others' piles) handed to
 * leak_judge and leak_judge_mem; the verdict changes of an update and their raises;
 * the system's file handles. */
#include "config.h"

#include "model/history.h"
#include "model/history_int.h"
#include "model/vec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- figures ----------------------------------------------------------------- */

/* The samples of e inside the slope window: their times into h->tbuf, once per
 * judgement; returns how many. */
static size_t window_times(const struct history *h, const struct hist_ent *e)
{
	size_t n = e->count < h->win_n ? e->count : h->win_n;
	uint64_t seq = e->last_seq + 1 - n;

	for (size_t i = 0; i < n; i++)
		h->tbuf[i] = h->times[(seq + i) % h->cap];
	return n;
}

/* Column col of the last n samples into h->vbuf; true when it is flat over them,
 * and then h->vbuf is filled only when fill is. */
static bool window_col(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col, size_t n,
		       bool fill)
{
	bool flat = e->col_moved[col] <= e->last_seq + 1 - n;
	size_t skip = e->count - n;

	if (flat) {
		double c = n ? hist_ring_at(e, nvals, e->count - 1)[col] : 0;
		for (size_t i = 0; fill && i < n; i++)
			h->vbuf[i] = c;
	} else {
		for (size_t i = 0; i < n; i++)
			h->vbuf[i] = hist_ring_at(e, nvals, (uint32_t)(skip + i))[col];
	}
	return flat;
}

/* What leak_slope makes of a flat series, without the sums: no reset to stop at,
 * a slope of exactly 0. */
static void fit_flat(const double *t, size_t n, double window_s, struct leak_fit *fit)
{
	size_t first = 0;

	memset(fit, 0, sizeof(*fit));
	if (!n)
		return;
	for (size_t i = n - 1; i > 0; i--)
		if (t[n - 1] - t[i - 1] > window_s) {
			first = i;
			break;
		}
	fit->n = n - first;
	fit->span_s = t[n - 1] - t[first];
	fit->valid = fit->n >= 3 && fit->span_s >= 1.0;
}

/* Fit col over the n samples inside the slope window (times in h->tbuf). */
static void fit_col(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col, size_t n,
		    struct leak_fit *fit)
{
	if (window_col(h, e, nvals, col, n, false))
		fit_flat(h->tbuf, n, h->o.window_s, fit);
	else
		leak_slope(h->tbuf, h->vbuf, n, h->o.window_s, fit);
}

static double per_min_new(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col, size_t n)
{
	double sum = 0;

	if (window_col(h, e, nvals, col, n, false)) /* integers: the same sum, exactly */
		sum = n > 1 ? (double)hist_ring_at(e, nvals, e->count - 1)[col] * (double)(n - 1) : 0;
	else
		for (size_t i = 1; i < n; i++) /* the first sample's news came before the span */
			sum += h->vbuf[i];
	double span = n ? h->tbuf[n - 1] - h->tbuf[0] : 0;
	return span > 0 ? sum / span * 60 : 0;
}

/* How long, and over how many refreshes, the count in slot `which` has not moved
 * beyond noise. */
static void flat_for(const struct history *h, const struct hist_ent *e, unsigned which, double *secs, unsigned *n)
{
	uint64_t seq0 = e->last_seq + 1 - e->count, at = e->moved_seq[which];

	if (at < seq0)
		at = seq0;
	*n = (unsigned)(e->last_seq - at);
	*secs = h->now - h->times[at % h->cap];
}

/* Whether the count in slot `which` rose and has stood still since (leak_stalled). */
static bool ent_stalled(const struct history *h, const struct hist_ent *e, unsigned which, double *flat_s)
{
	unsigned flat_n;

	flat_for(h, e, which, flat_s, &flat_n);
	return leak_stalled(hist_rate_before(h, e, which), *flat_s, flat_n, leak_noise(e->anchor[which]), &h->o.leak);
}

/* Sockets that left the count (slot 1's column) per minute over the window: those
 * that came, less what the count gained. */
static double per_min_left(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col,
			   double new_per_min, size_t n)
{
	double span = n ? h->tbuf[n - 1] - h->tbuf[0] : 0;
	if (n < 2 || span <= 0)
		return 0;
	double gained = (double)hist_ring_at(e, nvals, e->count - 1)[col] - hist_ring_at(e, nvals, e->count - n)[col];
	double left = new_per_min - gained / span * 60;
	return left > 0 ? left : 0;
}

/* Whether the count in slot `which` (column col) went on making new highs from its
 * low (or the window's start, if later) to where it stopped moving (now, unless it
 * stalled): its highest rose in each third of that time, in the last by at least a
 * third of the first, and it stood within noise of that highest at the end. A count
 * that swings (a server's connections come and go) or filled once (a pool warming
 * up) does not. */
static bool ent_going(const struct history *h, const struct hist_ent *e, unsigned nvals, unsigned col, unsigned which,
		      bool stalled, size_t win_n)
{
	uint64_t seq0 = e->last_seq + 1 - e->count, win0 = e->last_seq + 1 - (win_n < e->count ? win_n : e->count);
	uint64_t from = e->low_seq[which] > win0 ? e->low_seq[which] : win0;
	uint64_t to = stalled && e->moved_seq[which] > from ? e->moved_seq[which] : e->last_seq;

	if (from < seq0 || to < from + 2)
		return false;
	double t0 = h->times[from % h->cap], span = h->times[to % h->cap] - t0;
	uint32_t top = hist_ring_at(e, nvals, (uint32_t)(from - seq0))[col], thirds[3] = {0};
	for (uint64_t q = from; q <= to; q++) {
		uint32_t v = hist_ring_at(e, nvals, (uint32_t)(q - seq0))[col];
		int third = span > 0 ? (int)((h->times[q % h->cap] - t0) * 3 / span) : 2;
		if (v > top)
			top = v;
		thirds[third > 2 ? 2 : third < 0 ? 0 : third] = top;
	}
	uint32_t first = hist_ring_at(e, nvals, (uint32_t)(from - seq0))[col];
	uint32_t end = hist_ring_at(e, nvals, (uint32_t)(to - seq0))[col];
	/* The last third by a third as much as the first at least: not a swing that ends
	 * one above its old high. */
	return thirds[0] > first && thirds[1] > thirds[0] && thirds[2] > thirds[1] &&
	       3 * (thirds[2] - thirds[1]) >= thirds[0] - first && end + leak_noise(top) >= top;
}

/* The CLOSE_WAIT pile's turnover at this update (known only when the entity was in the
 * last one): how many left it since it began rising from its low, and for how many
 * refreshes in a row it has been kept: no more left than 1 in 100 (a connection reset
 * by its peer leaves the pile while its fd stays: a big pile loses one now and then). */
static void cw_turnover(const struct history *h, struct hist_ent *e, uint32_t cw)
{
	bool known = e->cw_prev_seq && e->cw_prev_seq + 1 == h->seq;
	uint32_t left = known && e->cw_prev > e->cw_stay ? e->cw_prev - e->cw_stay : 0;

	if (e->low_seq[0] == h->seq)
		e->cw_left_low = 0; /* what left made the low */
	else
		e->cw_left_low += left;
	if (left > e->cw_prev / 100)
		e->cw_kept_n = 0;
	else
		e->cw_kept_n = known ? e->cw_kept_n + 1 : 0;
	e->cw_prev = cw;
	e->cw_prev_seq = h->seq;
}

static void judge(struct history *h, struct hist_ent *e, unsigned nvals, unsigned cw_col, unsigned new_col,
		  bool is_proc)
{
	struct history_stats *st = &e->stats;
	const struct leak_params *p = &h->o.leak;
	struct leak_evidence ev = {.has_fds = is_proc, .self = e->self, .fd_pct = NAN};
	unsigned fd_col = is_proc ? HS_FDS : PORT_HELD;
	size_t n = window_times(h, e);

	fit_col(h, e, nvals, cw_col, n, &ev.cw_fit);
	ev.cw_grow_s = hist_rising_s(h, e, 0);
	ev.cw = e->cur[cw_col];
	ev.cw_rise = ev.cw > e->low[0] ? ev.cw - e->low[0] : 0;
	ev.cw_max_step = e->max_step[0];
	ev.cw_rises = e->rises[0];
	ev.cw_oldest_s = ev.cw && isfinite(e->cw_oldest) ? h->now - e->cw_oldest : 0;
	ev.cw_age_bound = ev.cw && e->cw_oldest_bound;
	ev.cw_old = e->cw_old;
	ev.cw_held = e->cw_held;
	ev.cw_hosts = e->nhosts;
	ev.cw_unread = e->cw_unread;
	ev.cw_inbound = e->cw_inbound > 0;
	cw_turnover(h, e, ev.cw);
	ev.cw_kept_n = e->cw_kept_n;
	ev.cw_left = e->cw_left_low;
	ev.cw_stalled = ent_stalled(h, e, 0, &ev.cw_flat_s);
	ev.cw_rate_before = hist_rate_before(h, e, 0);
	if (ev.cw && e->peer_n == 1) {
		char addr[SOCK_ADDR_MAX];
		snprintf(ev.cw_peer, sizeof(ev.cw_peer), "%s",
			 sock_addr_format(addr, e->peer_family, e->peer_addr, e->peer_port));
	}
	ev.new_per_min = per_min_new(h, e, nvals, new_col, n);
	fit_col(h, e, nvals, fd_col, n, &ev.fd_fit);
	ev.left_per_min = per_min_left(h, e, nvals, is_proc ? HS_SOCKETS : PORT_HELD, ev.new_per_min, n);
	ev.fds = e->cur[fd_col];
	ev.fd_grow_s = hist_rising_s(h, e, 1);
	ev.fd_rise = ev.fds > e->low[1] ? ev.fds - e->low[1] : 0;
	ev.fd_max_step = e->max_step[1];
	ev.fd_rises = e->rises[1];
	ev.fd_stalled = ent_stalled(h, e, 1, &ev.fd_flat_s);
	ev.fd_going = ev.fd_rise >= p->fd_growth_min && ent_going(h, e, nvals, fd_col, 1, ev.fd_stalled, n);
	ev.fd_rate_before = hist_rate_before(h, e, 1);
	if (is_proc && e->fd_limit && e->fd_limit != UINT64_MAX) {
		ev.fd_pct = 100.0 * ev.fds / (double)e->fd_limit;
		ev.at_fd_limit = ev.fds + 1 >= e->fd_limit;
	}
	ev.orphans = e->orphan_fw2;
	const struct hist_ent *m = e->mirror_pid ? hist_set_find(&h->procs, (uint64_t)e->mirror_pid, e->mirror_start) : NULL;
	if (m)
		snprintf(ev.mirror, sizeof(ev.mirror), "pid %d (%s)", e->mirror_pid, m->comm);
	/* Growth and ETA follow the last refreshes once a count has stood still; a count
	 * that does not grow steadily (a burst, a pool warming up) has no ETA. */
	bool cw_stalled = ev.cw_stalled && leak_growing(&ev.cw_fit);
	st->close_wait_growth_per_min = !ev.cw_fit.valid ? NAN : cw_stalled ? 0 : ev.cw_fit.slope_per_min;
	st->fd_growth_per_min = NAN;
	st->exhaustion_eta_s = INFINITY;
	st->fd_stalled = ev.fd_stalled && leak_growing(&ev.fd_fit);
	st->close_wait_stalled = cw_stalled;
	st->stalled_s = fmax(st->fd_stalled ? ev.fd_flat_s : 0, cw_stalled ? ev.cw_flat_s : 0);
	if (is_proc) {
		struct leak_fit eta_fit = ev.fd_fit;
		if (st->fd_stalled || !leak_fd_growing(&ev, p))
			eta_fit.slope_per_min = 0;
		st->fd_growth_per_min = ev.fd_fit.valid ? (st->fd_stalled ? 0 : ev.fd_fit.slope_per_min) : NAN;
		st->exhaustion_eta_s = ev.fd_fit.valid || e->cur[HS_FDS] >= e->fd_limit
					       ? leak_eta_s(e->cur[HS_FDS], e->fd_limit, &eta_fit) : NAN;
		window_col(h, e, nvals, HS_RSS_KB, n, true);
		st->mem_verdict = leak_judge_mem(h->tbuf, h->vbuf, n, h->o.window_s, e->heap_kb, p,
						 &st->rss_growth_mb_per_min, st->mem_reason, sizeof(st->mem_reason));
		if (e->self) {
			st->mem_verdict = VERDICT_OK;
			snprintf(st->mem_reason, sizeof(st->mem_reason), "leaktop itself: not judged");
		}
	} else {
		st->rss_growth_mb_per_min = NAN;
		st->mem_verdict = VERDICT_OK;
		st->mem_reason[0] = '\0';
	}
	st->close_wait_oldest_s = ev.cw_oldest_s;
	st->close_wait_oldest_bound = ev.cw_age_bound;
	st->close_wait_hosts = ev.cw_hosts;
	st->mirror_pid = e->mirror_pid;
	st->self = e->self;
	st->span_s = e->count ? h->now - h->times[(e->last_seq + 1 - e->count) % h->cap] : 0;
	ev.watched_s = st->span_s;
	ev.seen_n = e->count;
	st->verdict = leak_judge(&ev, p, st->reason, sizeof(st->reason));
	st->verdict = leak_combine_mem(st->verdict, st->reason, sizeof(st->reason), st->mem_verdict, st->mem_reason);
}

static void port_growth(struct history *h, struct hist_ent *e)
{
	size_t n = window_times(h, e);

	for (unsigned st = 0; st < ST_COUNT; st++)
		e->stats.growth_per_min[st] = NAN;
	for (unsigned st = 1; st < ST_COUNT; st++) {
		struct leak_fit fit;
		fit_col(h, e, PORT_VALS, st - 1, n, &fit);
		e->stats.growth_per_min[st] = fit.valid ? fit.slope_per_min : NAN;
	}
}

void hist_judge(struct history *h, struct hist_ent *e, bool is_proc)
{
	if (is_proc) {
		judge(h, e, PROC_VALS, HS_CLOSE_WAIT, HS_NEW, true);
	} else {
		judge(h, e, PORT_VALS, ST_CLOSE_WAIT - 1, PORT_NEW, false);
		port_growth(h, e);
	}
}

/* This update's verdict against the one shown after the last: a change is news when
 * it makes or unmakes a finding (suspect, leak); ok and churn trade places quietly. */
int hist_note_change(struct history *h, struct hist_ent *e, bool is_proc)
{
	struct history_change *c;

	if (e->stats.verdict == e->verdict_was)
		return 0;
	if (e->stats.verdict < VERDICT_SUSPECT && e->verdict_was < VERDICT_SUSPECT) {
		e->verdict_was = (uint8_t)e->stats.verdict;
		return 0;
	}
	if (!(c = VEC_PUSH(h->changes, h->nchanges, h->changes_cap)))
		return -ENOMEM;
	*c = (struct history_change){.is_port = !is_proc, .from = e->verdict_was, .to = e->stats.verdict};
	if (is_proc) {
		c->pid = (int32_t)e->ka, c->start_time = e->kb;
		memcpy(c->comm, e->comm, sizeof(c->comm));
	} else {
		c->netns = e->ka, c->port = (uint16_t)e->kb, c->side = (uint8_t)(e->kb >> 16);
	}
	memcpy(c->reason, e->stats.reason, sizeof(c->reason));
	e->verdict_was = (uint8_t)e->stats.verdict;
	return 0;
}

/* fs.file-nr: where it last moved beyond noise, and its low, as hist_track_* keep them
 * for an entity. */
void hist_track_file_nr(struct history *h, double v)
{
	uint64_t seq0 = h->seq >= h->cap ? h->seq - h->cap + 1 : 1;
	uint32_t tol = leak_noise((uint32_t)fmin(h->file_anchor, UINT32_MAX));

	if (h->seq == 1 || fabs(v - h->file_anchor) > tol)
		h->file_moved_seq = h->seq, h->file_anchor = v;
	if (h->seq == 1 || v <= h->file_low) {
		h->file_low = v, h->file_low_seq = h->seq;
	} else if (h->file_low_seq < seq0) {
		h->file_low = INFINITY;
		for (uint64_t q = seq0; q <= h->seq; q++)
			if (h->file_nr[q % h->cap] <= h->file_low)
				h->file_low = h->file_nr[q % h->cap], h->file_low_seq = q;
	}
}

void history_file_stats(const struct history *h, double *growth_per_min, double *eta_s)
{
	size_t n = h->seq < h->cap ? h->seq : h->cap;
	struct leak_fit fit;

	for (size_t i = 0; i < n; i++) {
		uint64_t seq = h->seq + 1 - n + i;
		h->tbuf[i] = h->times[seq % h->cap];
		h->vbuf[i] = h->file_nr[seq % h->cap];
	}
	leak_slope(h->tbuf, h->vbuf, n, h->o.window_s, &fit);
	/* Stood still since it last rose: flat, whatever the window's fit says. */
	uint64_t mv = h->file_moved_seq, lo = h->file_low_seq;
	if (fit.valid && mv > lo && h->seq - lo < h->cap) {
		double dt = h->times[mv % h->cap] - h->times[lo % h->cap];
		double rate = dt > 0 ? (h->file_anchor - h->file_low) / dt * 60 : 0;
		if (leak_stalled(rate, h->now - h->times[mv % h->cap], (unsigned)(h->seq - mv),
				 leak_noise((uint32_t)fmin(h->file_anchor, UINT32_MAX)), &h->o.leak))
			fit.slope_per_min = 0;
	}
	if (growth_per_min)
		*growth_per_min = fit.valid ? fit.slope_per_min : NAN;
	if (eta_s)
		*eta_s = n ? leak_eta_s(h->vbuf[n - 1], h->file_max ? h->file_max : UINT64_MAX, &fit) : INFINITY;
}

const struct history_change *history_changes(const struct history *h, size_t *n)
{
	*n = h->nchanges;
	return h->changes;
}

void history_change_format(const struct history_change *c, char *buf, size_t n)
{
	char who[96];

	if (c->is_port)
		snprintf(who, sizeof(who), "%s port %u", c->side == SIDE_LOCAL ? "local" : "remote", c->port);
	else
		snprintf(who, sizeof(who), "pid %d (%s)", c->pid, c->comm);
	if (c->to == VERDICT_OK)
		snprintf(buf, n, "%s is ok again (was %s): %s", who, leak_verdict_name(c->from), c->reason);
	else
		snprintf(buf, n, "%s judged %s (was %s): %s", who, leak_verdict_name(c->to), leak_verdict_name(c->from),
			 c->reason);
}

/* Raise e's verdict to v with reason, and the update's change for it with it. */
static bool raise_ent(struct history *h, struct hist_ent *e, bool is_proc, enum leak_verdict v, const char *reason)
{
	if (!e || !e->count || e->self || v <= e->stats.verdict || e->last_seq != h->seq)
		return false;
	enum leak_verdict was = e->stats.verdict;
	e->stats.verdict = v;
	snprintf(e->stats.reason, sizeof(e->stats.reason), "%s", reason);
	for (size_t i = 0; i < h->nchanges; i++) {
		struct history_change *c = &h->changes[i];
		bool same = c->is_port == !is_proc &&
			    (is_proc ? c->pid == (int32_t)e->ka && c->start_time == e->kb
				     : c->netns == e->ka && c->port == (uint16_t)e->kb && c->side == (uint8_t)(e->kb >> 16));
		if (same) {
			c->to = v;
			memcpy(c->reason, e->stats.reason, sizeof(c->reason));
			if (c->from == v) /* back where it was: no news after all */
				*c = h->changes[--h->nchanges];
			e->verdict_was = (uint8_t)v;
			return true;
		}
	}
	e->verdict_was = (uint8_t)was; /* no change in this update yet: it comes from was */
	hist_note_change(h, e, is_proc);
	return true;
}

bool history_raise_proc(struct history *h, int32_t pid, uint64_t start_time, enum leak_verdict v, const char *reason)
{
	return raise_ent(h, hist_set_find(&h->procs, (uint64_t)pid, start_time), true, v, reason);
}

bool history_raise_port(struct history *h, uint64_t netns, uint16_t port, unsigned side, enum leak_verdict v,
			const char *reason)
{
	return raise_ent(h, hist_set_find(&h->ports, netns, port | (uint64_t)side << 16), false, v, reason);
}

