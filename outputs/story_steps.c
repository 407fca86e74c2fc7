/* The handover's "Next steps": what the evidence of each culprit says to do, in the
 * summary's order. Each rule reads what the story kept (its ports, their Recv-Q,
 * whether the pile stopped, its fds that are not sockets, its memory, its limit,
 * a restart) and the digest of the thread dump taken of it, and says one sentence. */
#include "config.h"

#include "outputs/story.h"
#include "program/tdigest.h"
#include "model/text.h"
#include "model/view.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Fds that are not sockets: this many more, and at least half of the growth. */
#define STEPS_NONSOCK_MIN 10

/* What a culprit's evidence is, gathered once for the rules. */
struct evidence {
	const struct story *st;
	const struct story_proc *p;     /* NULL for a port told on its own */
	const struct story_port *port;  /* the port told on its own */
	const struct story_port *out;   /* its biggest outbound CLOSE_WAIT pile */
	const struct story_port *in;    /* its biggest inbound one */
	char name[PROC_COMM_MAX + 32];  /* "pid 14 java" */
	bool stalled;                   /* its CLOSE_WAIT stopped growing and stayed */
	double stalled_since;
	int64_t nonsock;                /* growth of its fds that are not sockets */
	const struct story_event *dump; /* its latest thread dump */
	struct tdigest dig;
	const struct tdigest_group *pool, *app; /* the digest's pool wait, first app place */
};

struct steps_ctx {
	const struct story *st;
	void (*fn)(void *ctx, const char *step);
	void *ctx;
	size_t n;
};

/* What to change in the code that leaked, by the library its threads wait in. */
static const struct {
	const char *lib, *fix;
} fixes[] = {
	{"HttpClient 4", "read every response's entity to its end and close the response "
			 "(EntityUtils.consume(response.getEntity()), then response.close(); or try-with-resources)"},
	{"HttpClient 5", "close every ClassicHttpResponse (try-with-resources), or pass a response handler to "
			 "execute() so the client releases the connection itself"},
	{"Hikari", "close every Connection (try-with-resources); leakDetectionThreshold logs where one was taken "
		   "and never returned"},
	{"commons-pool2", "return every borrowed object (returnObject, or close() on a pooled connection); "
			  "abandoned-object removal with logAbandoned shows where one was borrowed"},
	{"Tomcat DBCP", "close every Connection; removeAbandonedOnBorrow with logAbandoned shows where one was taken"},
	{"Tomcat JDBC pool", "close every Connection; removeAbandoned with logAbandoned shows where one was taken"},
	{"c3p0", "close every Connection; debugUnreturnedConnectionStackTraces shows where one was taken"},
};

static const char *fix_of(const char *lib)
{
	for (size_t i = 0; lib && i < sizeof(fixes) / sizeof(fixes[0]); i++)
		if (!strcmp(fixes[i].lib, lib))
			return fixes[i].fix;
	return NULL;
}

static void say(struct steps_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct steps_ctx *c, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->fn(c->ctx, buf);
	c->n++;
}

static const char *clock_of(char buf[16], double t)
{
	return text_time(buf, 16, "%H:%M:%S", t);
}

static bool is_jvm(const struct story_proc *p)
{
	size_t n = strcspn(p->cmdline, " ");
	return !strcmp(p->comm, "java") || (n >= 4 && !strncmp(p->cmdline + n - 4, "java", 4));
}

/* " Its thread dump at 12:41:40 shows where: 1 thread WAITING for ..." or how to
 * take one. */
static void dump_clause(const struct evidence *e, const char *what, char *buf, size_t n)
{
	char when[16], line[TDIGEST_LINE];
	const struct tdigest_group *g = e->pool ? e->pool : e->app;

	if (g) {
		tdigest_group_line(g, line, sizeof(line));
		snprintf(buf, n, " Its thread dump at %s shows where: %s.", clock_of(when, e->dump->time), line);
	} else if (e->dump) {
		snprintf(buf, n, " Its thread dump at %s is in the timeline below: look there for the code that %s.",
			 clock_of(when, e->dump->time), what);
	} else if (e->p && is_jvm(e->p)) {
		snprintf(buf, n, " Take a thread dump to see which code %s (D in the dashboard, or jstack %d).", what,
			 (int)e->p->pid);
	} else if (e->p) {
		/* SIGQUIT would end it: a debugger's stacks instead. */
		snprintf(buf, n, " Its threads' stacks show which code %s (eu-stack -p %d, or gdb -p %d -batch -ex "
				 "'thread apply all bt').", what, (int)e->p->pid, (int)e->p->pid);
	} else {
		buf[0] = '\0';
	}
}

static void unread_clause(const struct story_port *o, char *buf, size_t n)
{
	/* Each CLOSE_WAIT socket counts its peer's FIN in Recv-Q: more is data. */
	if (o->recvq_peak > o->cw_peak)
		snprintf(buf, n, ", with %llu bytes never read", (unsigned long long)o->recvq_peak);
	else
		buf[0] = '\0';
}

/* --- the rules ----------------------------------------------------------------------- */

static bool outbound(const struct evidence *e)
{
	return e->p && e->out;
}

static void say_outbound(struct steps_ctx *c, const struct evidence *e)
{
	char unread[64], where[768], fix[512] = "";
	const char *f = e->pool ? fix_of(tdigest_waits[e->pool->wait].lib) : NULL;

	unread_clause(e->out, unread, sizeof(unread));
	dump_clause(e, "holds them", where, sizeof(where));
	if (f)
		snprintf(fix, sizeof(fix), " In that code, %s.", f);
	if (unread[0])
		say(c, "%s holds %u CLOSE_WAIT connections to %s%s: the server closed them, and %s neither read the "
		       "responses to the end nor closed them.%s%s",
		    e->name, e->out->cw_peak, e->out->endpoint, unread, e->name, where, fix);
	else
		say(c, "%s holds %u CLOSE_WAIT connections to %s: the server closed them and %s never closed its side "
		       "(a connection taken and not given back or closed).%s%s",
		    e->name, e->out->cw_peak, e->out->endpoint, e->name, where, fix);
}

static bool pool_exhausted(const struct evidence *e)
{
	return e->p && e->out && (e->stalled || e->pool);
}

static void say_pool(struct steps_ctx *c, const struct evidence *e)
{
	char when[16], waiting[256] = "";

	if (e->pool)
		snprintf(waiting, sizeof(waiting), "; its thread dump shows %zu thread%s waiting for %s", e->pool->threads,
			 e->pool->threads == 1 ? "" : "s", tdigest_waits[e->pool->wait].what);
	if (e->stalled)
		say(c, "%s's pile stopped growing at %u CLOSE_WAIT at %s and stayed there: its connection pool is "
		       "exhausted (its maximum is likely %u). Compare the pool's maximum with the connections leased and "
		       "never released: every request that needs one now waits%s.",
		    e->name, e->p->cw_last, clock_of(when, e->stalled_since), e->p->cw_last, waiting);
	else
		say(c, "%s's connection pool is exhausted%s. Compare the pool's maximum with the connections leased "
		       "and never released (%u in CLOSE_WAIT to %s).",
		    e->name, waiting, e->out->cw_peak, e->out->endpoint);
}

/* Waiting for a pooled connection with no CLOSE_WAIT pile: the connections it leased
 * are still open (the server keeps them), and never given back. */
static bool pool_no_pile(const struct evidence *e)
{
	return e->p && e->pool && !e->out;
}

static void say_pool_no_pile(struct steps_ctx *c, const struct evidence *e)
{
	char when[16], line[TDIGEST_LINE], fix[512] = "";
	const char *f = fix_of(tdigest_waits[e->pool->wait].lib);

	tdigest_group_line(e->pool, line, sizeof(line));
	if (f)
		snprintf(fix, sizeof(fix), " In that code, %s.", f);
	say(c, "%s's thread dump at %s shows %s: its pool has no connection left to give. The connections it leased "
	       "are still open (none in CLOSE_WAIT): compare the pool's maximum with the connections leased and never "
	       "released.%s",
	    e->name, clock_of(when, e->dump->time), line, fix);
}

static bool inbound(const struct evidence *e)
{
	return e->p && e->in;
}

static void say_inbound(struct steps_ctx *c, const struct evidence *e)
{
	char unread[64], where[768], when[16], stall[256] = "";

	unread_clause(e->in, unread, sizeof(unread));
	dump_clause(e, "handles these connections", where, sizeof(where));
	if (e->stalled && !e->out)
		snprintf(stall, sizeof(stall), " The pile stopped growing at %u at %s: fewer clients now, or every "
					       "thread that serves them is stuck.", e->p->cw_last,
			 clock_of(when, e->stalled_since));
	say(c, "%s holds %u CLOSE_WAIT connections it accepted on %s%s: its clients closed them and it never "
	       "closed its side. Look at how a request ends when it fails or times out (a path that returns without "
	       "closing the connection).%s%s",
	    e->name, e->in->cw_peak, e->in->endpoint, unread, stall, where);
}

static bool not_sockets(const struct evidence *e)
{
	int64_t grew = e->p ? e->p->fds_last - e->p->fds_first : 0;
	return e->p && e->nonsock >= STEPS_NONSOCK_MIN && e->nonsock * 2 >= grew;
}

static void say_not_sockets(struct steps_ctx *c, const struct evidence *e)
{
	say(c, "%s opened %lld more fds that are not sockets (files or pipes) over the recording: ls -l /proc/%d/fd "
	       "(or lsof -p %d) shows what they point at; the highest fd numbers are the newest.",
	    e->name, (long long)e->nonsock, (int)e->p->pid, (int)e->p->pid);
}

static bool memory(const struct evidence *e)
{
	return e->p && e->p->mem_leak;
}

static void say_memory(struct steps_ctx *c, const struct evidence *e)
{
	int pid = (int)e->p->pid;

	if (is_jvm(e->p))
		say(c, "%s's resident memory grew to %.0f MB (%s). Compare it with the Java heap (jcmd %d GC.heap_info): "
		       "what the heap does not explain is native memory (threads, direct buffers, JNI, malloc). Capture "
		       "next: jcmd %d GC.class_histogram for the heap, and, started with -XX:NativeMemoryTracking=summary, "
		       "jcmd %d VM.native_memory summary twice, minutes apart.",
		    e->name, (double)e->p->rss_peak_kb / 1024, e->p->mem_reason, pid, pid, pid);
	else
		say(c, "%s's resident memory grew to %.0f MB (%s): native memory. Capture next: pmap -x %d twice, "
		       "minutes apart, to see which mappings grow, then a heap profiler (heaptrack, or jemalloc's "
		       "profiling) on the one that does.",
		    e->name, (double)e->p->rss_peak_kb / 1024, e->p->mem_reason, pid);
}

static bool near_limit(const struct evidence *e)
{
	return e->p && !isnan(e->p->fd_pct_peak) && e->p->fd_pct_peak >= e->st->fd_warn_pct;
}

static void say_near_limit(struct steps_ctx *c, const struct evidence *e)
{
	say(c, "%s reached %.0f%% of its fd limit (%llu): at the limit every accept, connect and open fails "
	       "(\"Too many open files\"). A higher limit (LimitNOFILE= in its unit, ulimit -n) buys time, not a fix.",
	    e->name, view_fd_pct_cut(e->p->fd_pct_peak, 0), (unsigned long long)e->p->fd_limit);
}

static bool came_back(const struct evidence *e)
{
	if (!e->p || e->p->replaced_by < 0)
		return false;
	const struct story_proc *r = &e->st->procs[e->p->replaced_by];
	return r->first_leak || r->first_suspect || r->first_mem_leak;
}

static void say_came_back(struct steps_ctx *c, const struct evidence *e)
{
	const struct story_proc *r = &e->st->procs[e->p->replaced_by];
	char at[16], back[16];
	double t = r->first_leak ? r->first_leak : r->first_suspect ? r->first_suspect : r->first_mem_leak;

	say(c, "%s was restarted at %s and the leak came back (pid %d judged %s at %s): a restart buys time, the fix "
	       "is in the code the steps above point at.",
	    e->name, clock_of(at, r->first_seen), (int)r->pid,
	    r->first_leak ? "leak" : r->first_suspect ? "suspect" : "a memory leak", clock_of(back, t));
}

static bool unheld(const struct evidence *e)
{
	return e->port && !e->port->npids && e->port->cw_peak;
}

static void say_unheld(struct steps_ctx *c, const struct evidence *e)
{
	const struct story_port *o = e->port;

	say(c, "%s: %u CLOSE_WAIT held by no process leaktop could read: run leaktop as root, or ss -tanp state "
	       "close-wait '( %cport = :%u )' to find the holder.",
	    o->endpoint, o->cw_peak, o->side == SIDE_REMOTE ? 'd' : 's', o->port);
}

static const struct {
	bool (*applies)(const struct evidence *e);
	void (*say)(struct steps_ctx *c, const struct evidence *e);
} rules[] = {
	{outbound, say_outbound}, {pool_exhausted, say_pool}, {pool_no_pile, say_pool_no_pile}, {inbound, say_inbound},
	{not_sockets, say_not_sockets}, {memory, say_memory}, {near_limit, say_near_limit},
	{came_back, say_came_back}, {unheld, say_unheld},
};

/* --- gathering ----------------------------------------------------------------------- */

const struct story_event *story_dump_of(const struct story *st, const struct story_proc *p)
{
	for (size_t i = st->nevents; i-- > 0;) {
		const struct story_event *e = &st->events[i];
		if (e->dump && e->pid == p->pid && (e->start_time ? e->start_time == p->start_time
								  : e->time >= p->first_seen && e->time <= p->last_seen))
			return e;
	}
	return NULL;
}

static void gather(struct evidence *e, const struct story_proc *p)
{
	const struct story *st = e->st;
	double end = st->nrefresh ? st->times[st->nrefresh - 1] : 0;

	story_proc_name(st, p, e->name, sizeof(e->name));
	for (size_t i = 0; i < st->nports; i++) {
		const struct story_port *o = &st->ports[i];
		bool held = false;
		for (size_t k = 0; k < o->npids; k++)
			held |= o->pids[k] == p->pid;
		if (!held || !o->cw_peak)
			continue;
		const struct story_port **slot = o->side == SIDE_REMOTE ? &e->out : &e->in;
		if (!*slot || o->cw_peak > (*slot)->cw_peak)
			*slot = o;
	}
	/* Stopped: it grew here, then did not move to the end for as long as the model
	 * asks of a stall (leak_stalled). */
	struct leak_params lp;
	leak_params_default(&lp);
	e->stalled = !p->gone && p->cw_last && p->cw_last == p->cw_peak &&
		     (p->cw_last > p->cw_first || p->fds_peak > p->fds_first) && end - p->cw_moved_at >= lp.stall_s &&
		     end - p->cw_moved_at >= lp.stall_samples * st->interval;
	e->stalled_since = p->cw_moved_at;
	e->nonsock = (p->fds_last - p->socks_last) - (p->fds_first - p->socks_first);
	if ((e->dump = story_dump_of(st, p)) && !tdigest_parse(e->dump->dump, e->dump->dump_len, &e->dig)) {
		for (size_t i = 0; i < e->dig.ngroups; i++) {
			const struct tdigest_group *g = &e->dig.groups[i];
			if (!e->pool && g->wait >= 0 && tdigest_waits[g->wait].pool)
				e->pool = g;
			if (!e->app && g->app)
				e->app = g;
		}
	}
}

static void culprit_steps(void *ctx, const struct story_proc *p, const struct story_port *port, enum leak_verdict v,
			  const char *summary)
{
	struct steps_ctx *c = ctx;
	struct evidence e = {.st = c->st, .p = p, .port = port};

	(void)v;
	(void)summary;
	if (p)
		gather(&e, p);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++)
		if (rules[i].applies(&e))
			rules[i].say(c, &e);
	if (e.dump)
		tdigest_release(&e.dig);
}

size_t story_each_step(const struct story *st, void (*fn)(void *ctx, const char *step), void *ctx)
{
	struct steps_ctx c = {.st = st, .fn = fn, .ctx = ctx};

	story_each_culprit(st, culprit_steps, &c);
	return c.n;
}
