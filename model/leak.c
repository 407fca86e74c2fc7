/* Growth, time to exhaustion and the leak verdict. Pure functions, so the diagnosis
 * is tested on synthetic series, not on a live system. */
#include "config.h"

#include "model/leak.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
		.cw_pile = 100,
		.leak_age_s = 600,
		.suspect_age_s = 60,
		.churn_age_s = 10,
		.churn_new_per_min = 60,
		.fd_growth_min = 10,
		.fd_warn_pct = 75,
		.mem_growth_min_mb = 1,
		.mem_growth_frac = 0.10,
		.mem_span_s = 60,
		.mem_min_samples = 10,
		.stall_s = 5,
		.stall_samples = 3,
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

uint32_t leak_noise(uint32_t v)
{
	return v / 256 > 1 ? v / 256 : 1;
}

bool leak_stalled(double rate_per_min, double flat_s, unsigned flat_n, uint32_t tol, const struct leak_params *p)
{
	return rate_per_min > 0 && flat_s >= p->stall_s && flat_n >= p->stall_samples &&
	       rate_per_min / 60 * flat_s > 2.0 * tol;
}

bool leak_steady(uint32_t rise, uint32_t max_step, unsigned rises)
{
	return rise > 0 && rises >= 2 && max_step <= rise / 2;
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

/* Why a pile or a count stopped where it stands, as far as the evidence says: at the
 * fd limit; an outbound pool that holds all its connections; a server whose clients
 * stopped coming (or whose leaking path is no longer taken). */
static const char *stall_hint(const struct leak_evidence *e, bool cw)
{
	if (e->at_fd_limit)
		return " (at its fd limit)";
	if (!cw)
		return "";
	return e->cw_inbound ? " (no new connections?)" : " (pool exhausted?)";
}

/* Growth over the window, or, once it stopped, where and since when it stands and how
 * it rose until then: "+37/min for 12m" or "stalled at 400 for 30s (pool exhausted?)
 * after +857/min for 28s". */
static void growth_clause(char *buf, size_t size, double rate, double grow_s, bool stalled, uint32_t at,
			  double flat_s, double rate_before, const char *hint)
{
	char r[24], g[16], f[16];

	format_rate(r, sizeof(r), stalled ? rate_before : rate);
	leak_format_duration(g, sizeof(g), stalled ? grow_s - flat_s : grow_s);
	if (stalled)
		snprintf(buf, size, "stalled at %u for %s%s after %s for %s", at,
			 leak_format_duration(f, sizeof(f), flat_s), hint, r, g);
	else
		snprintf(buf, size, "%s for %s", r, g);
}

/* --- the rules ------------------------------------------------------------------ */

/* What every rule shares: the evidence, the thresholds, and the clauses made once. */
struct judging {
	const struct leak_evidence *e;
	const struct leak_params *p;
	char *reason;
	size_t size;
	char old[24];   /* the oldest CLOSE_WAIT: "14m", ">=2m" */
	char peer[96];  /* ", to 10.0.0.7:5432" or ", 2 remote hosts" */
	char to[96];    /* ", to 10.0.0.7:5432" or "" */
	bool cw_growing; /* CLOSE_WAIT grew by cw_min over the window, steadily */
	bool cw_kept;    /* and (nearly) none of the rise left again: at most 1 in 10 */
	bool cw_unread;  /* most of the pile (cw_min at least) holds unread Recv-Q: the
			  * application gave up on them before reading the peer's data; a
			  * healthy pool's idle connections closed by their server hold only
			  * the FIN */
	char closed[32]; /* "none closed", "only 2 closed" */
};

/* Each rule says its verdict and writes the reason, or returns -1: not its case. */
typedef int (*leak_rule)(struct judging *j);

static int rule_self(struct judging *j)
{
	if (!j->e->self)
		return -1;
	snprintf(j->reason, j->size, "leaktop itself: not judged");
	return VERDICT_OK;
}

/* A pile growing steadily for churn_age_s and more, none of it closed: whatever
 * comes in stays. */
static int rule_cw_growing_kept(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	char grow[128];

	if (!j->cw_growing || e->cw_grow_s < j->p->churn_age_s || !j->cw_kept)
		return -1;
	growth_clause(grow, sizeof(grow), e->cw_fit.slope_per_min, e->cw_grow_s, e->cw_stalled, e->cw, e->cw_flat_s,
		      e->cw_rate_before, stall_hint(e, true));
	snprintf(j->reason, j->size, "CLOSE_WAIT %s, %s, oldest %s%s", grow, j->closed, j->old, j->peer);
	return VERDICT_LEAK;
}

/* A pile that nothing leaves: held churn_age_s and more, and as big as the alert's
 * threshold (leaktop arrived after it formed: the kernel's ages say how old) or of
 * unread connections, or a minute old; none closed over the last two refreshes. */
static int rule_cw_kept(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	const struct leak_params *p = j->p;

	if (e->cw < p->cw_min || e->cw_kept_n < 2 ||
	    (e->cw_held < p->cw_pile && e->cw_old < p->cw_min && !(j->cw_unread && e->cw_held >= p->cw_min)))
		return -1;
	if (e->cw_rise >= p->cw_min && e->cw_flat_s >= p->stall_s) {
		/* Seen forming (in one step: a pool whose server finished every response),
		 * then standing: where it stopped is what it became. */
		char f[16];
		snprintf(j->reason, j->size, "CLOSE_WAIT stalled at %u for %s%s, %s, oldest %s%s", e->cw,
			 leak_format_duration(f, sizeof(f), e->cw_flat_s), stall_hint(e, true), j->closed, j->old, j->to);
		return VERDICT_LEAK;
	}
	snprintf(j->reason, j->size, "%u CLOSE_WAIT never closed, oldest %s%s", e->cw, j->old, j->to);
	return VERDICT_LEAK;
}

/* A minute old (or ten), not growing, some still being closed: the old ones never will
 * be. Whether some are closed is known from the third refresh on; before, a pile a
 * minute old is a look (rule_cw_oldest), and from then rule_cw_kept's if none was. */
static int rule_cw_old(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	const struct leak_params *p = j->p;

	if (e->cw >= p->cw_min && e->cw_oldest_s >= p->leak_age_s) {
		snprintf(j->reason, j->size, "%u CLOSE_WAIT never closed, oldest %s%s", e->cw, j->old, j->to);
		return VERDICT_LEAK;
	}
	if (e->cw_old < p->cw_min || j->cw_growing || e->seen_n < 3)
		return -1;
	snprintf(j->reason, j->size, "%u CLOSE_WAIT, %u held over %s, oldest %s%s", e->cw, e->cw_old,
		 leak_format_duration((char[16]){0}, 16, p->suspect_age_s), j->old, j->to);
	return VERDICT_LEAK;
}

/* Growing steadily, but some are closed: a server slow to close under load, or a leak
 * on one path among many. Worth a look; a leak once some are a minute old. */
static int rule_cw_growing(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	char grow[128];

	if (!j->cw_growing || e->cw_grow_s < j->p->churn_age_s)
		return -1;
	growth_clause(grow, sizeof(grow), e->cw_fit.slope_per_min, e->cw_grow_s, e->cw_stalled, e->cw, e->cw_flat_s,
		      e->cw_rate_before, stall_hint(e, true));
	if (e->cw_old >= j->p->cw_min && e->seen_n >= 3) {
		/* A leak on one path among many: the rest is closed, these never will be. */
		snprintf(j->reason, j->size, "CLOSE_WAIT %s, some closed, %u held over %s, oldest %s%s", grow, e->cw_old,
			 leak_format_duration((char[16]){0}, 16, j->p->suspect_age_s), j->old, j->peer);
		return VERDICT_LEAK;
	}
	snprintf(j->reason, j->size, "CLOSE_WAIT %s, some closed, oldest %s%s", grow, j->old, j->peer);
	return VERDICT_SUSPECT;
}

/* Young, but growing in three refreshes or more and none closed: a leak's first
 * seconds (or a burst of slow requests). Worth a look; a leak once churn_age_s old. */
static int rule_cw_young(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	char grow[128];

	if (!j->cw_growing || e->cw_rises < 3 || !j->cw_kept)
		return -1;
	growth_clause(grow, sizeof(grow), e->cw_fit.slope_per_min, e->cw_grow_s, false, 0, 0, 0, "");
	snprintf(j->reason, j->size, "CLOSE_WAIT %s, %s yet, oldest %s%s", grow, j->closed, j->old, j->peer);
	return VERDICT_SUSPECT;
}

/* A pile as big as the alert's threshold or of unread connections, held (leaktop just
 * arrived), or still young (a fast leak's first seconds): worth a look at once. */
static int rule_cw_pile(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	const struct leak_params *p = j->p;

	if (e->cw < p->cw_min) /* a threshold set to 0 names no pile */
		return -1;
	if (e->cw_held >= p->cw_pile || (j->cw_unread && e->cw_held >= p->cw_min)) {
		snprintf(j->reason, j->size, "%u CLOSE_WAIT, %u held %s or more, oldest %s%s", e->cw, e->cw_held,
			 leak_format_duration((char[16]){0}, 16, p->churn_age_s), j->old, j->to);
		return VERDICT_SUSPECT;
	}
	if ((e->cw < p->cw_pile && !j->cw_unread) || e->cw_kept_n == 0 || !j->cw_kept)
		return -1;
	snprintf(j->reason, j->size, "%u CLOSE_WAIT, %s yet, oldest %s%s", e->cw, j->closed, j->old, j->to);
	return VERDICT_SUSPECT;
}

static int rule_cw_oldest(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	const struct leak_params *p = j->p;
	char dur[16];

	if (e->cw >= p->cw_min && e->cw_oldest_s >= p->suspect_age_s) {
		snprintf(j->reason, j->size, "%u CLOSE_WAIT, oldest %s%s", e->cw, j->old, j->to);
		return VERDICT_SUSPECT;
	}
	if (e->cw >= p->cw_min && e->watched_s < p->suspect_age_s && e->cw_oldest_s >= e->watched_s &&
	    !e->cw_age_bound) {
		/* A pile already there when leaktop started: its age is not known yet. */
		snprintf(j->reason, j->size, "%u CLOSE_WAIT already there when watching began %s ago", e->cw,
			 leak_format_duration(dur, sizeof(dur), e->watched_s));
		return VERDICT_SUSPECT;
	}
	return -1;
}

bool leak_fd_growing(const struct leak_evidence *e, const struct leak_params *p)
{
	return e->fd_fit.valid && e->fd_fit.slope_per_min * e->fd_fit.span_s / 60.0 >= p->fd_growth_min &&
	       e->fd_rise >= p->fd_growth_min && leak_steady(e->fd_rise, e->fd_max_step, e->fd_rises) && e->fd_going &&
	       e->fd_grow_s >= p->churn_age_s;
}

/* fds (a port: sockets a process holds) growing steadily without CLOSE_WAIT to
 * explain it; or grown for a minute and then stalled. A burst that stopped (a pool
 * warming up) is not growth. */
static int rule_fd_growth(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	const struct leak_params *p = j->p;
	const char *what = e->has_fds ? "fds" : "sockets";
	char grow[128];

	if (!leak_fd_growing(e, p) || (e->fd_stalled && e->fd_grow_s - e->fd_flat_s < p->suspect_age_s))
		return -1;
	growth_clause(grow, sizeof(grow), e->fd_fit.slope_per_min, e->fd_grow_s, e->fd_stalled, e->fds, e->fd_flat_s,
		      e->fd_rate_before, stall_hint(e, false));
	snprintf(j->reason, j->size, "%s %s%s", what, grow,
		 e->cw ? "" : e->has_fds ? ", not CLOSE_WAIT sockets" : ", not CLOSE_WAIT");
	return e->fd_grow_s >= p->leak_age_s ? VERDICT_LEAK : VERDICT_SUSPECT;
}

/* Near the fd limit (the fd_usage alert's warning): EMFILE is close, whatever the cause. */
static int rule_fd_limit(struct judging *j)
{
	const struct leak_evidence *e = j->e;

	if (!e->has_fds || !(e->fd_pct >= j->p->fd_warn_pct))
		return -1;
	snprintf(j->reason, j->size, "%u fds, %.0f%% of the fd limit", e->fds, floor(e->fd_pct));
	return VERDICT_SUSPECT;
}

/* A port whose orphaned FIN_WAIT2 sockets are the far end of a process's CLOSE_WAIT:
 * closed here, held there. The finding is that process's. */
static int rule_mirror(struct judging *j)
{
	const struct leak_evidence *e = j->e;

	if (e->has_fds || !e->mirror[0] || e->orphans < j->p->cw_min)
		return -1;
	snprintf(j->reason, j->size, "%u FIN_WAIT2, the far end of %s's CLOSE_WAIT (closed here, held there)",
		 e->orphans, e->mirror);
	return VERDICT_OK;
}

/* Turnover with a flat count: most of what came in has gone again. A count growing
 * at half the rate of newcomers or more is never churn. */
static int rule_churn(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	const struct leak_params *p = j->p;

	if (e->new_per_min >= p->churn_new_per_min && e->left_per_min >= 0.5 * e->new_per_min) {
		snprintf(j->reason, j->size, "%.0f new sockets/min, count flat: short-lived connections", e->new_per_min);
		return VERDICT_CHURN;
	}
	/* Young CLOSE_WAIT is being closed only when some did leave: a pile that formed at
	 * once (a pool whose responses the server finished) is not. */
	if (e->cw && e->cw_left && e->cw_oldest_s < p->churn_age_s && e->watched_s >= p->churn_age_s &&
	    !(j->cw_growing && j->cw_kept)) {
		snprintf(j->reason, j->size, "%u CLOSE_WAIT, oldest %s: being closed", e->cw, j->old);
		return VERDICT_CHURN;
	}
	return -1;
}

static int rule_ok(struct judging *j)
{
	const struct leak_evidence *e = j->e;
	char rate[24];

	if (e->cw)
		snprintf(j->reason, j->size, "%u CLOSE_WAIT, not growing", e->cw);
	else if (e->fd_rise >= j->p->fd_growth_min && e->fd_stalled)
		snprintf(j->reason, j->size, "%s +%u, then flat for %s", e->has_fds ? "fds" : "sockets", e->fd_rise,
			 leak_format_duration(rate, sizeof(rate), e->fd_flat_s));
	else if (e->new_per_min > 0 && e->left_per_min < 0.5 * e->new_per_min && leak_growing(&e->fd_fit))
		snprintf(j->reason, j->size, "sockets %s, none closed", format_rate(rate, sizeof(rate), e->fd_fit.slope_per_min));
	else
		snprintf(j->reason, j->size, "no growth");
	return VERDICT_OK;
}

/* First match wins; rule_ok matches everything. The README's verdict table, in order. */
static const leak_rule leak_rules[] = {
	rule_self,
	rule_cw_growing_kept,
	rule_cw_kept,
	rule_cw_old,
	rule_cw_growing,
	rule_cw_young,
	rule_cw_oldest,
	rule_cw_pile,
	rule_fd_growth,
	rule_fd_limit,
	rule_mirror,
	rule_churn,
	rule_ok,
};

enum leak_verdict leak_judge(const struct leak_evidence *e, const struct leak_params *p, char *reason,
			     size_t size)
{
	struct judging j = {.e = e, .p = p, .reason = reason, .size = size};
	char dur[16];
	int v = -1;

	snprintf(j.old, sizeof(j.old), "%s%s", e->cw_age_bound ? ">=" : "",
		 leak_format_duration(dur, sizeof(dur), e->cw_oldest_s));
	peer_clause(j.peer, sizeof(j.peer), e);
	snprintf(j.to, sizeof(j.to), "%s", e->cw_peer[0] ? j.peer : "");
	/* Steadily: one step is a pool's idle connections closed by their server at once,
	 * unless it is as big as the alert's threshold (a fast leak between refreshes). */
	j.cw_growing = e->cw_fit.valid && e->cw_fit.slope_per_min * e->cw_fit.span_s / 60.0 >= p->cw_min &&
		       e->cw_rise >= p->cw_min &&
		       (leak_steady(e->cw_rise, e->cw_max_step, e->cw_rises) || e->cw_rise >= p->cw_pile);
	j.cw_kept = (uint64_t)e->cw_left * 10 <= e->cw_rise;
	j.cw_unread = e->cw_unread >= p->cw_min && (uint64_t)e->cw_unread * 2 >= e->cw;
	if (e->cw_left)
		snprintf(j.closed, sizeof(j.closed), "only %u closed", e->cw_left);
	else
		snprintf(j.closed, sizeof(j.closed), "none closed");
	for (size_t i = 0; v < 0 && i < sizeof(leak_rules) / sizeof(leak_rules[0]); i++)
		v = leak_rules[i](&j);
	if (v == VERDICT_LEAK || v == VERDICT_SUSPECT)
		add_unread(reason, size, e);
	return (enum leak_verdict)v;
}

enum leak_verdict leak_combine_mem(enum leak_verdict v, char *reason, size_t size, enum leak_verdict mem,
				   const char *mem_reason)
{
	if (mem < VERDICT_SUSPECT || (mem == VERDICT_SUSPECT && v >= VERDICT_SUSPECT))
		return v;
	if (v == VERDICT_LEAK) {
		size_t len = strlen(reason);
		if (len < size)
			snprintf(reason + len, size - len, "; memory: %s", mem_reason);
		return v;
	}
	snprintf(reason, size, "memory: %s", mem_reason);
	return mem;
}

/* "256m", "2g", "1048576k", "268435456": a JVM size option's value, in kB; 0 when
 * it is none. */
static uint64_t jvm_size_kb(const char *v)
{
	char *end;
	unsigned long long n = strtoull(v, &end, 10);
	static const struct {
		char unit;
		uint64_t per_kb_num, per_kb_den;
	} units[] = {{'k', 1, 1}, {'K', 1, 1}, {'m', 1024, 1}, {'M', 1024, 1}, {'g', 1 << 20, 1}, {'G', 1 << 20, 1},
		     {'t', 1 << 30, 1}, {'T', 1 << 30, 1}, {'\0', 1, 1024}};

	if (end == v || n > (1ULL << 50))
		return 0;
	char unit = *end == ' ' ? '\0' : *end; /* no unit: bytes */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (unit == units[i].unit)
			return n * units[i].per_kb_num / units[i].per_kb_den;
	return 0;
}

uint64_t leak_jvm_heap_kb(const char *comm, const char *cmdline, uint64_t phys_kb)
{
	const char *arg0_end = strchr(cmdline, ' '), *base;
	size_t len = arg0_end ? (size_t)(arg0_end - cmdline) : strlen(cmdline);
	uint64_t heap = 0;

	for (base = cmdline + len; base > cmdline && base[-1] != '/'; base--)
		;
	if (strcmp(comm, "java") && !((size_t)(cmdline + len - base) == 4 && !strncmp(base, "java", 4)))
		return 0;
	/* The last of each option wins, as in the JVM's own parsing. */
	for (const char *a = cmdline; (a = strstr(a, " -")); a++) {
		double pct;
		if (!strncmp(a, " -Xmx", 5))
			heap = jvm_size_kb(a + 5);
		else if (!strncmp(a, " -XX:MaxHeapSize=", 17))
			heap = jvm_size_kb(a + 17);
		else if (!strncmp(a, " -XX:MaxRAMPercentage=", 22) && sscanf(a + 22, "%lf", &pct) == 1 && pct > 0 &&
			 pct <= 100 && phys_kb)
			heap = (uint64_t)((double)phys_kb * pct / 100);
	}
	/* Without an option: a quarter of the memory (the JVM's default), when known. */
	return heap ? heap : phys_kb / 4;
}

/* The highest of v[from..to]. */
static double peak(const double *v, size_t from, size_t to)
{
	double m = v[from];
	for (size_t i = from + 1; i <= to; i++)
		if (v[i] > m)
			m = v[i];
	return m;
}

/* The last index at or before time at (first when none is). */
static size_t index_at(const double *t, size_t first, size_t n, double at)
{
	size_t i = first;
	while (i + 1 < n && t[i + 1] <= at)
		i++;
	return i;
}

enum leak_verdict leak_judge_mem(const double *t, const double *rss_kb, size_t n, double window_s, uint64_t heap_kb,
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
	double now = rss_kb[n - 1], now_mb = now / 1024;
	size_t first = n - 1, low = n - 1;
	while (first > 0 && t[n - 1] - t[first - 1] <= window_s)
		first--;
	/* The rise: since the window was last at its lowest (a sawtooth's last trough). */
	for (size_t i = n - 1; i-- > first;)
		if (rss_kb[i] < rss_kb[low])
			low = i;
	double need = p->mem_span_s < window_s / 2 ? p->mem_span_s : window_s / 2, span_s = t[n - 1] - t[low];
	struct leak_fit rf;
	leak_slope(t + low, rss_kb + low, n - low, window_s, &rf);
	double rate = rf.valid ? rf.slope_per_min / 1024 : *growth_mb_per_min;
	leak_format_duration(span, sizeof(span), rf.valid ? t[n - 1] - t[low] : fit.span_s);
	snprintf(reason, size, "RSS %+.1f MB/min for %s, now %.0f MB", rate, span, now_mb);
	/* A third of that, and half the refreshes, is long enough to look at (a suspect
	 * comes first on the screen); less cannot tell growth from a warm-up or a
	 * sawtooth's rise. */
	bool full = span_s >= need && n - low >= p->mem_min_samples;
	if (span_s < need / 3 || n - low < (p->mem_min_samples + 1) / 2)
		return VERDICT_OK;

	/* Over the rise, in thirds: the highest RSS so far must rise in each (a sawtooth's
	 * peaks do not; a heap or a cache filling to its plateau slows down: the last third
	 * must rise at least a third as much as the first), and RSS now stands above every
	 * earlier peak. */
	size_t c1 = index_at(t, first, n, t[low] + span_s / 3), c2 = index_at(t, first, n, t[low] + 2 * span_s / 3);
	double m0 = peak(rss_kb, first, low), m1 = peak(rss_kb, first, c1), m2 = peak(rss_kb, first, c2);
	double inc1 = m1 - m0, inc2 = m2 - m1, inc3 = now - m2;
	bool going = inc1 > 0 && inc2 > 0 && inc3 > 0 && inc3 >= inc1 / 3;
	/* Over the shorter span of a suspect, no slowing down at all: a cache filling in
	 * its first seconds slows within them. */
	if (!full)
		going = going && inc2 >= 0.6 * inc1 && inc3 >= 0.6 * inc1;
	/* Steady: spread over the span, not one step (a buffer grown once). */
	double rise = now - rss_kb[low], max_step = 0;
	for (size_t i = low + 1; i < n; i++)
		if (rss_kb[i] - rss_kb[i - 1] > max_step)
			max_step = rss_kb[i] - rss_kb[i - 1];
	bool steady = rise > 0 && max_step <= rise / 2;
	bool big = rate >= p->mem_growth_min_mb && rise / 1024 >= p->mem_growth_frac * now_mb;
	if (!(going && steady && big)) {
		size_t len = strlen(reason);
		if (rate > 0 && !steady && big && len < size)
			snprintf(reason + len, size - len, ", in steps");
		return VERDICT_OK;
	}
	/* A JVM's heap grows to its maximum by design: only RSS beyond it (and a quarter
	 * more for the JVM's own memory, and 64 MB) is native growth. */
	if (heap_kb && now <= (double)heap_kb * 1.25 + 64 * 1024) {
		size_t len = strlen(reason);
		if (len < size)
			snprintf(reason + len, size - len, ", within its JVM heap (max %.0f MB)", (double)heap_kb / 1024);
		return VERDICT_OK;
	}
	*growth_mb_per_min = rate;
	return full ? VERDICT_LEAK : VERDICT_SUSPECT;
}
