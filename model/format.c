/* Cell formatting shared by every view: counts that shrink to their width, growth
 * rates, sparklines, clock times, and the one rule for FD%. */
#include "config.h"

#include "model/view.h"
#include "model/snapshot.h"
#include "model/text.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

size_t view_sparkline(char *buf, size_t size, const double *v, size_t n, int width, bool ascii)
{
	static const char *const blocks[8] = {"\u2581", "\u2582", "\u2583", "\u2584",
					      "\u2585", "\u2586", "\u2587", "\u2588"};
	static const char levels[] = " .:-=+*#";
	double lo = INFINITY, hi = -INFINITY;
	size_t from = 0, cells = 0, len = 0, known = 0;

	if (size)
		buf[0] = '\0';
	/* The last `width` known values. */
	for (size_t i = n; i-- > 0 && known < (size_t)(width > 0 ? width : 0);)
		if (!isnan(v[i])) {
			known++;
			from = i;
		}
	if (!known)
		return 0;
	for (size_t i = from; i < n; i++)
		if (!isnan(v[i])) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
	for (size_t i = from; i < n; i++) {
		if (isnan(v[i]))
			continue;
		/* Flat is the lowest level: no growth. */
		int l = hi > lo ? (int)((v[i] - lo) * 7.0 / (hi - lo) + 0.5) : 0;
		const char *c = ascii ? (char[2]){levels[l], 0} : blocks[l];
		size_t cl = strlen(c);
		if (len + cl + 1 > size)
			break;
		memcpy(buf + len, c, cl);
		len += cl;
		buf[len] = '\0';
		cells++;
	}
	return cells;
}

int view_parse_clock(const char *text, int *secs)
{
	int h, m, sec = 0, used = 0;

	if (sscanf(text, "%2d:%2d%n", &h, &m, &used) != 2)
		return -EINVAL;
	if (text[used] == ':') {
		int more = 0;
		if (sscanf(text + used + 1, "%2d%n", &sec, &more) != 1 || more != 2)
			return -EINVAL;
		used += 1 + more;
	}
	if (text[used] || h < 0 || h > 23 || m < 0 || m > 59 || sec < 0 || sec > 59)
		return -EINVAL;
	*secs = h * 3600 + m * 60 + sec;
	return 0;
}

double view_clock_time(double ref, int secs, double lo, double hi)
{
	struct tm tm;

	/* A damaged recording's time has no day to put the clock time on. */
	if (!text_tm(ref, false, &tm))
		return ref;
	tm.tm_hour = secs / 3600;
	tm.tm_min = secs / 60 % 60;
	tm.tm_sec = secs % 60;
	tm.tm_isdst = -1;
	double at = (double)mktime(&tm);
	for (int day = -1; day <= 1 && (at < lo || at > hi); day += 2) {
		tm.tm_mday += day;
		tm.tm_isdst = -1;
		double other = (double)mktime(&tm);
		tm.tm_mday -= day;
		if (other >= lo && other <= hi)
			return other;
	}
	return at;
}

char *view_fmt_count(char *buf, size_t size, uint64_t v, int width)
{
	static const char units[] = "KMGTP";
	int n = snprintf(buf, size, "%llu", (unsigned long long)v);
	for (int u = 0; n > width && units[u]; u++) {
		v /= 1024;
		n = snprintf(buf, size, "%llu%c", (unsigned long long)v, units[u]);
	}
	return buf;
}

/* A growth rate: "-" when not known, one decimal below `whole`, none from it. */
void view_fmt_growth(char *b, size_t n, double g, double whole)
{
	if (!isfinite(g))
		snprintf(b, n, "-");
	else
		snprintf(b, n, fabs(g) >= whole ? "%+.0f" : "%+.1f", g);
}


double view_fd_pct(const struct proc_rec *p)
{
	if (p->fds < 0 || !p->fd_limit || p->fd_limit == UINT64_MAX)
		return NAN;
	return 100.0 * (double)p->fds / (double)p->fd_limit;
}

double view_fd_pct_cut(double pct, int decimals)
{
	double scale = pow(10, decimals);
	return floor(pct * scale) / scale;
}

char *view_fmt_states(char *buf, size_t size, const uint32_t *states)
{
	size_t len = 0;

	if (size)
		buf[0] = '\0';
	for (unsigned st = 1; st < ST_COUNT; st++) {
		if (!states[st] || len >= size)
			continue;
		int w = snprintf(buf + len, size - len, "%s%u %s", len ? ", " : "", states[st], sk_state_name(st));
		len += w > 0 ? (size_t)w : 0;
	}
	if (!len)
		snprintf(buf, size, "none");
	return buf;
}

unsigned view_mostly(const uint32_t *states, unsigned *pct)
{
	uint64_t total = 0;
	unsigned top = 0;

	for (unsigned st = 1; st < ST_COUNT; st++) {
		total += states[st];
		if (states[st] && (!top || states[st] > states[top]))
			top = st; /* ties: the first in kernel order */
	}
	/* Cut, never rounded up: 99.9% is not "100%". */
	*pct = top ? (unsigned)(states[top] * 100 / total) : 0;
	return top;
}

char *view_fmt_mostly(char *buf, size_t size, const uint32_t *states)
{
	unsigned pct, top = view_mostly(states, &pct);

	if (size)
		buf[0] = '\0';
	if (top)
		snprintf(buf, size, "%s %u%%", top == ST_ESTABLISHED ? "ESTAB" : sk_state_name(top), pct);
	return buf;
}

bool view_rss_known(uint64_t rss_kb)
{
	return rss_kb <= VIEW_RSS_KB_MAX;
}

uint64_t view_sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint32_t view_sat_add32(uint32_t a, uint32_t b)
{
	return a > UINT32_MAX - b ? UINT32_MAX : a + b;
}

int64_t view_sat_add64s(int64_t a, int64_t b)
{
	return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}
