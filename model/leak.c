/* Growth, time to exhaustion and the leak verdict. Pure functions, so the diagnosis
 * is tested on synthetic series, not on a live system. */
#include "config.h"

#include "model/leak.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void leak_slope(const double *t, const double *v, size_t n, double window_s, struct leak_fit *out)
{
	size_t first = 0;

	memset(out, 0, sizeof(*out));
	if (!n)
		return;
	/* Walk back from the newest sample while inside the window and not across a reset. */
	for (size_t i = n - 1; i > 0; i--) {
		if (t[n - 1] - t[i - 1] > window_s) {
			first = i;
			break;
		}
		if (v[i - 1] >= 8 && v[i] < v[i - 1] / 2) {
			first = i;
			break;
		}
	}
	size_t m = n - first;
	double span = t[n - 1] - t[first];
	out->n = m;
	out->span_s = span;
	if (m < 3 || span < 1.0)
		return;
	/* Centred sums keep the arithmetic exact enough with unix-time abscissas. */
	double tm = 0, vm = 0;
	for (size_t i = first; i < n; i++)
		tm += t[i], vm += v[i];
	tm /= (double)m, vm /= (double)m;
	double sxy = 0, sxx = 0;
	for (size_t i = first; i < n; i++) {
		sxy += (t[i] - tm) * (v[i] - vm);
		sxx += (t[i] - tm) * (t[i] - tm);
	}
	if (sxx <= 0)
		return;
	out->valid = true;
	out->slope_per_min = sxy / sxx * 60.0;
}

bool leak_growing(const struct leak_fit *fit)
{
	return fit->valid && fit->slope_per_min * fit->span_s / 60.0 >= 1.0;
}

double leak_eta_s(double current, uint64_t limit, const struct leak_fit *fit)
{
	if (limit == UINT64_MAX || limit == 0)
		return INFINITY;
	if (current >= (double)limit)
		return 0;
	if (!leak_growing(fit))
		return INFINITY;
	return ((double)limit - current) / (fit->slope_per_min / 60.0);
}

static const char *const verdict_names[] = {
	[VERDICT_OK] = "ok",
	[VERDICT_CHURN] = "churn",
	[VERDICT_SUSPECT] = "suspect",
	[VERDICT_LEAK] = "leak",
};
_Static_assert(sizeof(verdict_names) / sizeof(verdict_names[0]) == VERDICT_COUNT, "a name per verdict");

const char *leak_verdict_name(enum leak_verdict v)
{
	return (unsigned)v < VERDICT_COUNT ? verdict_names[v] : "?";
}

void leak_params_default(struct leak_params *p)
{
	*p = (struct leak_params){
		.cw_min = 5,
		.leak_age_s = 600,
		.suspect_age_s = 60,
		.churn_age_s = 10,
		.churn_new_per_min = 60,
		.fd_growth_min = 10,
		.few_hosts = 2,
		.mem_growth_min_mb = 1,
		.mem_growth_frac = 0.10,
		.mem_min_samples = 10,
		.stall_s = 10,
		.stall_samples = 5,
	};
}

char *leak_format_duration(char *buf, size_t size, double secs)
{
	if (!isfinite(secs))
		snprintf(buf, size, "never");
	else if (secs < 1)
		snprintf(buf, size, "%.0fms", secs < 0 ? 0 : secs * 1000);
	else if (secs < 60)
		snprintf(buf, size, "%.0fs", floor(secs));
	else if (secs < 3600)
		snprintf(buf, size, "%.0fm", floor(secs / 60));
	else if (secs < 86400)
		snprintf(buf, size, "%dh%02dm", (int)(secs / 3600), (int)fmod(secs / 60, 60));
	else if (secs < 86400.0 * 100000) /* a damaged recording's span: no int overflow */
		snprintf(buf, size, "%dd%02dh", (int)(secs / 86400), (int)fmod(secs / 3600, 24));
	else
		snprintf(buf, size, ">100000d");
	return buf;
}

/* "+37/min" or "+0.4/min": whole numbers once they are big enough to read so. */
static char *format_rate(char *buf, size_t size, double per_min)
{
	snprintf(buf, size, fabs(per_min) >= 10 ? "%+.0f/min" : "%+.1f/min", per_min);
	return buf;
}

/* Appends the "N with unread Recv-Q" clause: the application stopped reading before
 * it stopped closing, which points at the code path that gave up on the peer. */
static void add_unread(char *reason, size_t size, const struct leak_evidence *e)
{
	size_t len = strlen(reason);
	if (e->cw_unread && len < size)
		snprintf(reason + len, size - len, ", %u with unread Recv-Q (stopped reading before closing)",
			 e->cw_unread);
}

static const char *hosts_word(uint32_t n)
{
	return n == 1 ? "host" : "hosts";
}

bool leak_stalled(const struct leak_fit *fit, double flat_s, unsigned flat_n, const struct leak_params *p)
{
	return leak_growing(fit) && flat_s >= p->stall_s && flat_n >= p->stall_samples;
}

/* ", 2 remote hosts", or ", to 10.0.0.7:5432" when the pile is outbound to one endpoint. */
static char *peer_clause(char *buf, size_t size, const struct leak_evidence *e)
{
	if (e->cw_peer[0])
		snprintf(buf, size, ", to %s", e->cw_peer);
	else
		snprintf(buf, size, ", %u%s remote %s", e->cw_hosts, e->cw_hosts >= 8 ? "+" : "", hosts_word(e->cw_hosts));
	return buf;
}

/* Growth over the window, or, once it stopped, where and since when it stands:
 * "+37/min for 12m" or "stalled at 400 for 30s (pool exhausted?) after +857/min for 1m". */
static void growth_clause(char *buf, size_t size, double rate, double grow_s, bool stalled, uint32_t at,
			  double flat_s)
{
	char r[24], g[16], f[16];

	format_rate(r, sizeof(r), rate);
	leak_format_duration(g, sizeof(g), grow_s);
	if (stalled)
		snprintf(buf, size, "stalled at %u for %s (pool exhausted?) after %s for %s", at,
			 leak_format_duration(f, sizeof(f), flat_s), r, g);
	else
		snprintf(buf, size, "%s for %s", r, g);
}

enum leak_verdict leak_judge(const struct leak_evidence *e, const struct leak_params *p, char *reason,
			     size_t size)
{
	char grow[96], old[24], dur[16], peer[80];
	bool cw_growing = e->cw_fit.valid && e->cw_fit.slope_per_min * e->cw_fit.span_s / 60.0 >= p->cw_min;
	bool cw_stalled = cw_growing && leak_stalled(&e->cw_fit, e->cw_flat_s, e->cw_flat_n, p);
	bool few_hosts = e->cw_hosts <= p->few_hosts;
	/* Nothing was closed while the pile grew: the oldest is as old as the growth. */
	bool ageing = e->cw_oldest_s >= 0.8 * e->cw_grow_s;
	/* A count that grows about as fast as sockets are made: nothing is closed. */
	bool count_growing = leak_growing(&e->sock_fit) && e->sock_fit.slope_per_min >= 0.5 * e->new_per_min;
	enum leak_verdict v;

	growth_clause(grow, sizeof(grow), e->cw_fit.slope_per_min, e->cw_grow_s, cw_stalled, e->cw, e->cw_flat_s);
	snprintf(old, sizeof(old), "%s%s", e->cw_age_bound ? ">=" : "",
		 leak_format_duration(dur, sizeof(dur), e->cw_oldest_s));
	peer_clause(peer, sizeof(peer), e);
	if (cw_growing && (few_hosts || ageing || e->cw_oldest_s >= p->leak_age_s)) {
		snprintf(reason, size, "CLOSE_WAIT %s, oldest %s%s", grow, old, peer);
		v = VERDICT_LEAK;
	} else if (e->cw >= p->cw_min && e->cw_oldest_s >= p->leak_age_s) {
		snprintf(reason, size, "%u CLOSE_WAIT never closed, oldest %s%s", e->cw, old, e->cw_peer[0] ? peer : "");
		v = VERDICT_LEAK;
	} else if (e->cw_old >= p->cw_min && !cw_growing) {
		/* A pile that stands still with sockets a minute old: nobody is closing them. */
		if (e->cw_old >= e->cw)
			snprintf(reason, size, "%u CLOSE_WAIT never closed, oldest %s%s", e->cw, old,
				 e->cw_peer[0] ? peer : "");
		else
			snprintf(reason, size, "%u CLOSE_WAIT, %u never closed, oldest %s%s", e->cw, e->cw_old, old,
				 e->cw_peer[0] ? peer : "");
		v = VERDICT_LEAK;
	} else if (cw_growing) {
		snprintf(reason, size, "CLOSE_WAIT %s from %u%s remote hosts, oldest %s", grow, e->cw_hosts,
			 e->cw_hosts >= 8 ? "+" : "", old);
		v = VERDICT_SUSPECT;
	} else if (e->cw >= p->cw_min && e->cw_oldest_s >= p->suspect_age_s) {
		snprintf(reason, size, "%u CLOSE_WAIT, oldest %s%s", e->cw, old, e->cw_peer[0] ? peer : "");
		v = VERDICT_SUSPECT;
	} else if (e->cw >= p->cw_min && e->watched_s < p->suspect_age_s && e->cw_oldest_s >= e->watched_s &&
		   !e->cw_age_bound) {
		/* A pile already there when leaktop started: its age is not known yet. */
		snprintf(reason, size, "%u CLOSE_WAIT already there when watching began %s ago", e->cw,
			 leak_format_duration(dur, sizeof(dur), e->watched_s));
		v = VERDICT_SUSPECT;
	} else if (e->has_fds && e->fd_fit.valid &&
		   e->fd_fit.slope_per_min * e->fd_fit.span_s / 60.0 >= p->fd_growth_min) {
		bool stalled = leak_stalled(&e->fd_fit, e->fd_flat_s, e->fd_flat_n, p);
		if (stalled)
			snprintf(grow, sizeof(grow), "stalled for %s after %s for %s",
				 leak_format_duration(dur, sizeof(dur), e->fd_flat_s),
				 format_rate(old, sizeof(old), e->fd_fit.slope_per_min),
				 leak_format_duration(peer, sizeof(peer), e->fd_grow_s));
		else
			growth_clause(grow, sizeof(grow), e->fd_fit.slope_per_min, e->fd_grow_s, false, 0, 0);
		snprintf(reason, size, "fds %s%s", grow, e->cw ? "" : ", not CLOSE_WAIT sockets");
		return e->fd_grow_s >= p->leak_age_s ? VERDICT_LEAK : VERDICT_SUSPECT;
	} else if (!e->has_fds && e->sock_fit.valid &&
		   e->sock_fit.slope_per_min * e->sock_fit.span_s / 60.0 >= p->fd_growth_min) {
		/* A port's count: the same rule as a process's fds, so the two agree. */
		growth_clause(grow, sizeof(grow), e->sock_fit.slope_per_min, e->sock_grow_s, false, 0, 0);
		snprintf(reason, size, "sockets %s%s", grow, e->cw ? "" : ", not CLOSE_WAIT");
		return e->sock_grow_s >= p->leak_age_s ? VERDICT_LEAK : VERDICT_SUSPECT;
	} else if (e->new_per_min >= p->churn_new_per_min && !count_growing) {
		snprintf(reason, size, "%.0f new sockets/min, count flat: short-lived connections", e->new_per_min);
		return VERDICT_CHURN;
	} else if (e->cw && e->cw_oldest_s < p->churn_age_s && e->watched_s >= p->churn_age_s) {
		snprintf(reason, size, "%u CLOSE_WAIT, oldest %s: being closed", e->cw, old);
		return VERDICT_CHURN;
	} else {
		if (e->cw)
			snprintf(reason, size, "%u CLOSE_WAIT, not growing", e->cw);
		else if (count_growing)
			snprintf(reason, size, "sockets %s, none closed", format_rate(grow, sizeof(grow), e->sock_fit.slope_per_min));
		else
			snprintf(reason, size, "no growth");
		return VERDICT_OK;
	}
	add_unread(reason, size, e);
	return v;
}

enum leak_verdict leak_combine_mem(enum leak_verdict v, char *reason, size_t size, enum leak_verdict mem,
				   const char *mem_reason)
{
	if (mem != VERDICT_LEAK)
		return v;
	if (v == VERDICT_LEAK) {
		size_t len = strlen(reason);
		if (len < size)
			snprintf(reason + len, size - len, "; memory: %s", mem_reason);
		return v;
	}
	snprintf(reason, size, "memory: %s", mem_reason);
	return VERDICT_LEAK;
}

enum leak_verdict leak_judge_mem(const double *t, const double *rss_kb, size_t n, double window_s,
				 const struct leak_params *p, double *growth_mb_per_min, char *reason, size_t size)
{
	struct leak_fit fit;
	char span[16];

	leak_slope(t, rss_kb, n, window_s, &fit);
	*growth_mb_per_min = fit.valid ? fit.slope_per_min / 1024 : NAN;
	if (!fit.valid) {
		snprintf(reason, size, "not enough history");
		return VERDICT_OK;
	}
	double now_mb = rss_kb[n - 1] / 1024;
	double rate = *growth_mb_per_min;
	leak_format_duration(span, sizeof(span), fit.span_s);
	snprintf(reason, size, "RSS %+.1f MB/min for %s, now %.0f MB", rate, span, now_mb);

	/* Steady: the rise is spread over the window, not one step (a cache filled, a
	 * buffer grown once). The fit used the last fit.n samples. */
	double rise = rss_kb[n - 1] - rss_kb[n - fit.n], max_step = 0;
	for (size_t i = n - fit.n + 1; i < n; i++)
		if (rss_kb[i] - rss_kb[i - 1] > max_step)
			max_step = rss_kb[i] - rss_kb[i - 1];
	bool steady = rise > 0 && max_step <= rise / 2;
	/* Most of a window, or, for growth fast enough to add its share of RSS sooner,
	 * mem_min_samples refreshes of it. */
	bool full = fit.span_s >= 0.8 * window_s || fit.n >= p->mem_min_samples;
	bool big = rate >= p->mem_growth_min_mb && rate * fit.span_s / 60 >= p->mem_growth_frac * now_mb;
	if (full && steady && big)
		return VERDICT_LEAK;
	if (rate > 0 && !steady && big) {
		size_t len = strlen(reason);
		if (len < size)
			snprintf(reason + len, size - len, ", in steps");
	}
	return VERDICT_OK;
}
