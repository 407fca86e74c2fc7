/* The digest of a Java thread dump: where the application's threads are, not where
 * the JDK parks them. A thread's place is its first frame outside the JDK and the
 * libraries below (table), and a thread waiting in a pool's lease is told with the
 * application frame that asked for the connection. */
#include "config.h"

#include "program/tdigest.h"
#include "model/hashtab.h"
#include "model/vec.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The threads read at most (a JVM with more is rare; each costs about 600 bytes). */
#define TDIGEST_THREADS_MAX 20000

/* How many digest lines a viewer shows above the dump. */
#define TDIGEST_VIEW_LINES 12

/* Code that is not the application's: a frame whose class starts with one of these
 * (or, shaded into an application's jar, has one after ".shaded.") is library code.
 * The JDK comes first: a thread with nothing but JDK frames is told as such. */
static const struct {
	const char *prefix, *name;
} libs[] = {
	{"java.", "JDK"}, {"javax.", "JDK"}, {"jdk.", "JDK"}, {"sun.", "JDK"}, {"com.sun.", "JDK"},
	{"org.apache.http.", "HttpClient 4"}, {"org.apache.hc.", "HttpClient 5"},
	{"org.eclipse.jetty.", "Jetty"}, {"io.netty.", "Netty"}, {"com.zaxxer.hikari.", "Hikari"},
	{"okhttp3.", "OkHttp"}, {"okio.", "OkHttp"}, {"org.apache.commons.pool2.", "commons-pool2"},
	{"org.apache.commons.dbcp2.", "DBCP2"}, {"com.mchange.", "c3p0"}, {"org.apache.tomcat.", "Tomcat"},
	{"org.apache.catalina.", "Tomcat"}, {"org.apache.coyote.", "Tomcat"}, {"io.undertow.", "Undertow"},
	{"org.xnio.", "Undertow"}, {"org.jboss.", "JBoss"}, {"org.glassfish.", "GlassFish"},
	{"org.springframework.", "Spring"}, {"reactor.", "Reactor"}, {"io.vertx.", "Vert.x"}, {"io.grpc.", "gRPC"},
	{"com.google.common.", "Guava"}, {"com.google.protobuf.", "protobuf"}, {"kotlin.", "Kotlin"},
	{"kotlinx.", "Kotlin"}, {"scala.", "Scala"}, {"akka.", "Akka"}, {"org.postgresql.", "PostgreSQL JDBC"},
	{"com.mysql.", "MySQL JDBC"}, {"org.mariadb.", "MariaDB JDBC"}, {"oracle.", "Oracle JDBC"},
	{"redis.clients.", "Jedis"}, {"io.lettuce.", "Lettuce"}, {"org.hibernate.", "Hibernate"},
	{"com.fasterxml.", "Jackson"}, {"org.slf4j.", "SLF4J"}, {"ch.qos.logback.", "Logback"},
	{"org.apache.logging.", "Log4j"}, {"org.apache.log4j.", "Log4j"}, {"org.apache.kafka.", "Kafka"},
	{"feign.", "Feign"}, {"retrofit2.", "Retrofit"}, {"com.amazonaws.", "AWS SDK"}, {"software.amazon.", "AWS SDK"},
	{"org.apache.cxf.", "CXF"}, {"org.aspectj.", "AspectJ"}, {"net.bytebuddy.", "Byte Buddy"},
	{"com.codahale.metrics.", "Dropwizard"}, {"io.dropwizard.", "Dropwizard"}, {"io.micrometer.", "Micrometer"},
	{"groovy.", "Groovy"}, {"org.codehaus.groovy.", "Groovy"},
};

/* Where a thread waits for something a library hands out. Checked top down, above
 * the first application frame; the first match wins. */
const struct tdigest_wait tdigest_waits[] = {
	{"org.apache.http.pool.AbstractConnPool.getPoolEntryBlocking", "HttpClient 4", "a pooled connection", true},
	{"org.apache.http.impl.conn.PoolingHttpClientConnectionManager.leaseConnection", "HttpClient 4",
	 "a pooled connection", true},
	{"org.apache.hc.core5.pool.StrictConnPool.lease", "HttpClient 5", "a pooled connection", true},
	{"org.apache.hc.core5.pool.LaxConnPool.lease", "HttpClient 5", "a pooled connection", true},
	{"org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManager$", "HttpClient 5",
	 "a pooled connection", true},
	{"org.apache.hc.client5.http.impl.classic.InternalExecRuntime.acquireEndpoint", "HttpClient 5",
	 "a pooled connection", true},
	{"com.zaxxer.hikari.pool.HikariPool.getConnection", "Hikari", "a pooled connection", true},
	{"org.apache.commons.pool2.impl.GenericObjectPool.borrowObject", "commons-pool2", "a pooled connection", true},
	{"org.apache.commons.pool2.impl.GenericKeyedObjectPool.borrowObject", "commons-pool2", "a pooled connection",
	 true},
	{"org.apache.tomcat.dbcp.pool2.impl.GenericObjectPool.borrowObject", "Tomcat DBCP", "a pooled connection",
	 true},
	{"org.apache.tomcat.jdbc.pool.ConnectionPool.borrowConnection", "Tomcat JDBC pool", "a pooled connection",
	 true},
	{"com.mchange.v2.resourcepool.BasicResourcePool.awaitAvailable", "c3p0", "a pooled connection", true},
	{"oracle.ucp.", "Oracle UCP", "a pooled connection", true},
	/* Jetty's client queues a request while its connection pool is full; a blocking
	 * send() waits here for the response (or a connection) either way. */
	{"org.eclipse.jetty.client.util.FutureResponseListener.get", "Jetty HttpClient", "a response", false},
};
const size_t tdigest_nwaits = sizeof(tdigest_waits) / sizeof(tdigest_waits[0]);

/* How the JDK makes a thread wait: not where it waits. */
static const char *const parking[] = {
	"jdk.internal.misc.Unsafe.park", "sun.misc.Unsafe.park", "java.util.concurrent.locks.",
	"java.util.concurrent.ForkJoinPool.managedBlock", "java.util.concurrent.ForkJoinPool.unmanagedBlock",
	"java.lang.Object.wait", "java.lang.Thread.sleep",
};

/* One thread as parsed. */
struct thread {
	char name[48];
	char state[24];
	char at[TDIGEST_FRAME], from[TDIGEST_FRAME], wait_frame[TDIGEST_FRAME];
	const char *lib;
	bool app, frames, parked;
	int wait;
	char waiting_lock[24];
};

struct lock_held {
	char addr[24];
	size_t thread;
};

struct parser {
	struct thread *t;
	size_t n, cap;
	struct lock_held *locks;
	size_t nlocks, locks_cap;
	char app_name[TDIGEST_FRAME]; /* the current thread's application frame, qualified */
	/* A dump is outside input: tens of thousands of threads are found by hash, not
	 * by a scan per thread. Keys are string hashes; a collision takes the next key. */
	struct hashtab lock_ix, group_ix; /* -> size_t index */
	size_t skipped;                   /* threads beyond TDIGEST_THREADS_MAX */
	bool skipping;
};

static uint64_t str_hash(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL; /* FNV-1a */
	return (h ^ 0xff) * 0x100000001b3ULL;             /* ends each string */
}

/* The library of a qualified "pkg.Class.method", or NULL for application code. */
static const char *lib_of(const char *q)
{
	const char *s = strstr(q, ".shaded.");

	for (int pass = 0; pass < 2; pass++) {
		const char *c = pass ? (s ? s + 8 : NULL) : q;
		for (size_t i = 0; c && i < sizeof(libs) / sizeof(libs[0]); i++)
			if (!strncmp(c, libs[i].prefix, strlen(libs[i].prefix)))
				return libs[i].name;
	}
	return s ? "a shaded library" : NULL;
}

/* "at java.base@17/java.lang.Object.wait(java.base@17/Native Method)" ->
 * q = "java.lang.Object.wait", shown = "java.lang.Object.wait" or, with a line
 * number, "PoolWait.fetch:38". */
static void frame_of(const char *at, size_t len, char *q, char *shown)
{
	const char *paren = memchr(at, '(', len), *end = paren ? paren : at + len, *name = at, *hidden = NULL;

	for (const char *c = at; c < end; c++)
		if (*c == '/' && end - c > 2 && c[1] == '0' && c[2] == 'x') /* hidden: "Foo$$Lambda$1/0x0800.run" */
			hidden = c;
		else if (*c == '/' && !hidden) /* a module prefix: "java.base@17.0.15/", "app//" */
			name = c + 1;
	if (hidden) {
		const char *dot = memchr(hidden, '.', (size_t)(end - hidden));
		snprintf(q, TDIGEST_FRAME, "%.*s%.*s", (int)(hidden - name), name, dot ? (int)(end - dot) : 0, dot ? dot : "");
	} else {
		snprintf(q, TDIGEST_FRAME, "%.*s", (int)(end - name), name);
	}
	snprintf(shown, TDIGEST_FRAME, "%s", q);
	if (!paren)
		return;
	const char *colon = NULL;
	for (const char *c = paren; c < at + len && *c != ')'; c++)
		if (*c == ':')
			colon = c;
	if (!colon)
		return;
	const char *d = colon + 1;
	while (d < at + len && *d >= '0' && *d <= '9')
		d++;
	size_t l = strlen(shown);
	if (d > colon + 1 && l + 1 < TDIGEST_FRAME)
		snprintf(shown + l, TDIGEST_FRAME - l, ":%.*s", (int)(d - colon - 1), colon + 1);
}

/* "org.apache.http.pool.AbstractConnPool.getPoolEntryBlocking:391" ->
 * "AbstractConnPool.getPoolEntryBlocking:391": the library's class is enough. */
static const char *short_class(const char *shown)
{
	const char *method = NULL, *cls = shown;

	for (const char *c = shown; *c && *c != ':'; c++)
		if (*c == '.') {
			cls = method ? method + 1 : shown;
			method = c;
		}
	return method ? cls : shown;
}

static void on_frame(struct parser *p, struct thread *t, const char *at, size_t len)
{
	char q[TDIGEST_FRAME], shown[TDIGEST_FRAME];

	frame_of(at, len, q, shown);
	t->frames = true;
	if (strstr(q, "$$Lambda")) /* generated: says nothing of who called */
		return;
	if (t->app) {
		/* The application frame that called it: the next one of another method. */
		if (!t->from[0] && !lib_of(q) && strcmp(q, p->app_name))
			snprintf(t->from, sizeof(t->from), "%s", shown);
		return;
	}
	const char *lib = lib_of(q);
	/* A thread running through a pool's lease is not waiting in it. */
	if (t->wait < 0 && strcmp(t->state, "RUNNABLE"))
		for (size_t i = 0; i < tdigest_nwaits; i++)
			if (strstr(q, tdigest_waits[i].frame)) {
				t->wait = (int)i;
				snprintf(t->wait_frame, sizeof(t->wait_frame), "%s", short_class(shown));
				break;
			}
	if (!lib) {
		t->app = true;
		snprintf(t->at, sizeof(t->at), "%s", shown);
		snprintf(p->app_name, sizeof(p->app_name), "%s", q);
		return;
	}
	/* No application frame yet: the place is the first frame of a library other
	 * than the JDK (Jetty's idle pool threads), else the first JDK frame that is not
	 * how the JDK parks a thread, else the top one. */
	bool parks = false, jdk = !strcmp(lib, "JDK");
	for (size_t i = 0; i < sizeof(parking) / sizeof(parking[0]) && !parks; i++)
		parks = !strncmp(q, parking[i], strlen(parking[i]));
	bool have_lib = t->at[0] && strcmp(t->lib, "JDK");
	if (!t->at[0] || (!have_lib && (!jdk || (t->parked && !parks)))) {
		snprintf(t->at, sizeof(t->at), "%s", shown);
		t->lib = lib;
		t->parked = parks;
	}
}

/* "- locked <0x00000000ff5bb3e0> (a ...)": who holds which lock (the first to say). */
static int note_lock(struct parser *p, const char *addr, size_t len)
{
	char a[sizeof(p->locks[0].addr)];
	bool found;

	snprintf(a, sizeof(a), "%.*s", (int)len, addr);
	for (uint64_t key = str_hash(0xcbf29ce484222325ULL, a);; key++) {
		size_t *ix = hashtab_put(&p->lock_ix, key, &found);
		if (!ix)
			return -ENOMEM;
		if (found && strcmp(p->locks[*ix].addr, a))
			continue;
		if (found)
			return 0;
		struct lock_held *l = VEC_PUSH(p->locks, p->nlocks, p->locks_cap);
		if (!l) {
			hashtab_del(&p->lock_ix, key);
			return -ENOMEM;
		}
		snprintf(l->addr, sizeof(l->addr), "%s", a);
		l->thread = p->n - 1;
		*ix = p->nlocks - 1;
		return 0;
	}
}

/* The "<0x...>" in a line, or NULL. */
static const char *lock_addr(const char *s, size_t n, size_t *len)
{
	const char *a = memchr(s, '<', n), *e = a ? memchr(a, '>', n - (size_t)(a - s)) : NULL;

	if (!a || !e)
		return NULL;
	*len = (size_t)(e - a - 1);
	return a + 1;
}

/* A thread's header: "name" followed by what a JVM (or jstack -l, or a profiler)
 * prints after it, so that a line of the application's own output that starts with
 * a quote is not taken for one. */
static bool thread_header(const char *s, size_t n, char *name, size_t nsize)
{
	static const char *const after[] = {" #", " daemon", " prio=", " os_prio=", " - Thread t@", " Id="};

	if (!n || *s != '"')
		return false;
	for (const char *q = s + n - 1; q > s; q--) {
		if (*q != '"')
			continue;
		for (size_t i = 0; i < sizeof(after) / sizeof(after[0]); i++) {
			size_t l = strlen(after[i]);
			if ((size_t)(s + n - q - 1) >= l && !strncmp(q + 1, after[i], l)) {
				snprintf(name, nsize, "%.*s", (int)(q - s - 1), s + 1);
				return true;
			}
		}
	}
	return false;
}

static int parse_line(struct parser *p, const char *s, size_t n)
{
	struct thread *t = p->n ? &p->t[p->n - 1] : NULL;
	const char *b = s;
	char name[sizeof(t->name)];
	size_t len;

	if (thread_header(s, n, name, sizeof(name))) {
		/* Beyond the bound a thread is counted, not read: a dump is outside input. */
		if ((p->skipping = p->n == TDIGEST_THREADS_MAX)) {
			p->skipped++;
			return 0;
		}
		if (!(t = VEC_PUSH(p->t, p->n, p->cap)))
			return -ENOMEM;
		snprintf(t->name, sizeof(t->name), "%s", name);
		t->wait = -1;
		p->app_name[0] = '\0';
		return 0;
	}
	if (!t || p->skipping)
		return 0;
	while (b < s + n && (*b == ' ' || *b == '\t'))
		b++;
	n -= (size_t)(b - s);
	if (n > 24 && !strncmp(b, "java.lang.Thread.State: ", 24)) {
		size_t w = 0;
		while (24 + w < n && b[24 + w] != ' ' && w + 1 < sizeof(t->state))
			w++;
		snprintf(t->state, sizeof(t->state), "%.*s", (int)w, b + 24);
	} else if (n > 3 && !strncmp(b, "at ", 3)) {
		on_frame(p, t, b + 3, n - 3);
	} else if (n > 17 && !strncmp(b, "- waiting to lock", 17) && !t->waiting_lock[0]) {
		const char *a = lock_addr(b, n, &len);
		if (a)
			snprintf(t->waiting_lock, sizeof(t->waiting_lock), "%.*s", (int)len, a);
	} else if (n > 8 && !strncmp(b, "- locked", 8)) {
		const char *a = lock_addr(b, n, &len);
		if (a)
			return note_lock(p, a, len);
	}
	return 0;
}

/* --- groups ------------------------------------------------------------------------ */

static const char *holder_of(const struct parser *p, const struct thread *t, char *buf, size_t n)
{
	buf[0] = '\0';
	if (!t->waiting_lock[0])
		return buf;
	for (uint64_t key = str_hash(0xcbf29ce484222325ULL, t->waiting_lock);; key++) {
		const size_t *ix = hashtab_get(&p->lock_ix, key);
		if (!ix)
			break;
		if (strcmp(p->locks[*ix].addr, t->waiting_lock))
			continue;
		const struct thread *h = &p->t[p->locks[*ix].thread];
		/* "main (TIMED_WAITING at Blocked.main:20)"; cut, as every line may be. */
		if (h != t && snprintf(buf, n, "%.40s (%s%s%.80s)", h->name, h->state,
				       h->state[0] && h->at[0] ? " at " : "", h->at) < 0)
			buf[0] = '\0';
		break;
	}
	return buf;
}

static bool same_place(const struct tdigest_group *g, const struct thread *t, const char *holder)
{
	return g->wait == t->wait && g->app == t->app && !strcmp(g->state, t->state) && !strcmp(g->at, t->at) &&
	       (t->wait < 0 || !strcmp(g->from, t->from)) && !strcmp(g->holder, holder);
}

static void add_name(struct tdigest_group *g, const char *name, size_t *more)
{
	size_t l = strlen(g->names);

	if (g->threads > 2) {
		(*more)++;
		return;
	}
	snprintf(g->names + l, sizeof(g->names) - l, "%s%s", l ? ", " : "", name[0] ? name : "(no name)");
}

static int rank(const struct tdigest_group *g)
{
	return g->wait >= 0 ? 0 : g->app ? 1 : g->lib && !strcmp(g->lib, "JVM") ? 3 : 2;
}

static int group_cmp(const void *a, const void *b)
{
	const struct tdigest_group *x = a, *y = b;

	if (rank(x) != rank(y))
		return rank(x) - rank(y);
	if (x->threads != y->threads)
		return x->threads > y->threads ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

static uint64_t place_key(const struct thread *t, const char *holder)
{
	uint64_t h = str_hash(str_hash(str_hash(0xcbf29ce484222325ULL, t->state), t->at), holder);

	if (t->wait >= 0) /* the caller is part of a wait's place only */
		h = str_hash(h, t->from);
	return h ^ ((uint64_t)(t->wait + 1) << 1) ^ (uint64_t)t->app;
}

static int group(struct parser *p, struct tdigest *d)
{
	size_t *more = calloc(p->n ? p->n : 1, sizeof(*more)), groups_cap = 0;
	char holder[sizeof(d->groups[0].holder)];

	if (!more)
		return -ENOMEM;
	for (size_t i = 0; i < p->n; i++) {
		struct thread *t = &p->t[i];
		struct tdigest_group *g = NULL;
		size_t k;

		holder_of(p, t, holder, sizeof(holder));
		if (!t->frames) { /* the JVM's own: one group, whatever their state */
			snprintf(t->at, sizeof(t->at), "%s", "(no Java frame)");
			t->lib = "JVM";
			t->state[0] = '\0';
		}
		uint64_t key = place_key(t, holder);
		size_t *ix;
		bool found;
		for (;; key++) {
			if (!(ix = hashtab_put(&p->group_ix, key, &found))) {
				free(more);
				return -ENOMEM;
			}
			if (!found || same_place(&d->groups[*ix], t, holder))
				break;
		}
		if (found) {
			k = *ix;
			g = &d->groups[k];
			/* Callers that differ are left unsaid. */
			if (t->wait < 0 && strcmp(g->from, t->from))
				g->from[0] = '\0';
		} else {
			if (!(g = VEC_PUSH(d->groups, d->ngroups, groups_cap))) {
				hashtab_del(&p->group_ix, key);
				free(more);
				return -ENOMEM;
			}
			k = *ix = d->ngroups - 1;
			snprintf(g->state, sizeof(g->state), "%s", t->state);
			snprintf(g->at, sizeof(g->at), "%s", t->at);
			snprintf(g->from, sizeof(g->from), "%s", t->from);
			snprintf(g->wait_frame, sizeof(g->wait_frame), "%s", t->wait_frame);
			snprintf(g->holder, sizeof(g->holder), "%s", holder);
			g->wait = t->wait;
			g->first = i;
			g->app = t->app;
			g->lib = t->lib;
		}
		g->threads++;
		add_name(g, t->name, &more[k]);
	}
	for (size_t k = 0; k < d->ngroups; k++)
		if (more[k]) {
			size_t l = strlen(d->groups[k].names);
			snprintf(d->groups[k].names + l, sizeof(d->groups[k].names) - l, " and %zu more", more[k]);
		}
	free(more);
	if (d->ngroups > 1)
		qsort(d->groups, d->ngroups, sizeof(*d->groups), group_cmp);
	return 0;
}

static void count_states(const struct parser *p, struct tdigest *d)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *s = p->t[i].state[0] ? p->t[i].state : "";
		size_t k = 0;
		while (k < d->nstates && strcmp(d->states[k].state, s))
			k++;
		if (k == d->nstates) {
			if (k == TDIGEST_STATES)
				continue;
			snprintf(d->states[k].state, sizeof(d->states[k].state), "%s", s);
			d->nstates++;
		}
		d->states[k].threads++;
	}
	/* Biggest first; a stable insertion sort keeps the first seen first on ties. */
	for (size_t i = 1; i < d->nstates; i++)
		for (size_t j = i; j > 0 && d->states[j].threads > d->states[j - 1].threads; j--) {
			__typeof__(d->states[0]) tmp = d->states[j];
			d->states[j] = d->states[j - 1];
			d->states[j - 1] = tmp;
		}
}

int tdigest_parse(const char *dump, size_t len, struct tdigest *d)
{
	struct parser p = {0};
	int rc = 0;

	memset(d, 0, sizeof(*d));
	hashtab_init(&p.lock_ix, sizeof(size_t));
	hashtab_init(&p.group_ix, sizeof(size_t));
	for (const char *s = dump, *end = dump + len; s && s < end && !rc;) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (n && s[n - 1] == '\r')
			n--;
		rc = parse_line(&p, s, n);
		s = nl ? nl + 1 : end;
	}
	if (!rc) {
		d->threads = p.n + p.skipped;
		d->skipped = p.skipped;
		count_states(&p, d);
		rc = group(&p, d);
	}
	free(p.t);
	free(p.locks);
	hashtab_free(&p.lock_ix);
	hashtab_free(&p.group_ix);
	if (rc)
		tdigest_release(d);
	return rc;
}

void tdigest_release(struct tdigest *d)
{
	free(d->groups);
	d->groups = NULL;
	d->ngroups = 0;
}

/* --- lines ------------------------------------------------------------------------- */

void tdigest_group_line(const struct tdigest_group *g, char *buf, size_t n)
{
	size_t l = (size_t)snprintf(buf, n, "%zu thread%s%s%s", g->threads, g->threads == 1 ? "" : "s",
				    g->state[0] ? " " : "", g->state);

#define ADD(...) (l < n ? (l += (size_t)snprintf(buf + l, n - l, __VA_ARGS__)) : l)
	if (g->wait >= 0) {
		const struct tdigest_wait *w = &tdigest_waits[g->wait];
		ADD(" for %s (%s: %s)", w->what, w->lib, g->wait_frame);
		if (g->app)
			ADD(" asked by %s", g->at);
	} else if (g->app) {
		ADD(" at %s", g->at);
	} else if (g->lib && !strcmp(g->lib, "JVM")) {
		ADD(" inside the JVM (no Java frame)");
	} else {
		ADD(" in %s code only, at %s", g->lib ? g->lib : "library", short_class(g->at));
	}
	if (g->app && g->from[0])
		ADD(", called from %s", g->from);
	if (g->holder[0])
		ADD(" on a lock held by %s", g->holder);
	ADD(": %s", g->names);
#undef ADD
}

size_t tdigest_lines(const struct tdigest *d, size_t len, char lines[][TDIGEST_LINE], size_t max)
{
	size_t out = 0, l;

	if (!max)
		return 0;
	if (!d->threads) {
		snprintf(lines[out++], TDIGEST_LINE, "no Java threads found in %zu bytes of output", len);
		return out;
	}
	l = (size_t)snprintf(lines[out], TDIGEST_LINE, "%zu threads:", d->threads);
	for (size_t i = 0; i < d->nstates && l < TDIGEST_LINE; i++)
		l += (size_t)snprintf(lines[out] + l, TDIGEST_LINE - l, "%s %zu %s", i ? "," : "", d->states[i].threads,
				      d->states[i].state[0] ? d->states[i].state : "with no state");
	if (d->skipped && l < TDIGEST_LINE)
		snprintf(lines[out] + l, TDIGEST_LINE - l, "; %zu not read (only the first %d are)", d->skipped,
			 TDIGEST_THREADS_MAX);
	out++;
	for (size_t i = 0; i < d->ngroups && out < max; i++) {
		/* The last line says what did not fit, rather than one more place. */
		if (out + 1 == max && i + 1 < d->ngroups) {
			size_t rest = 0;
			for (size_t k = i; k < d->ngroups; k++)
				rest += d->groups[k].threads;
			snprintf(lines[out++], TDIGEST_LINE, "%zu more thread%s in %zu other place%s", rest,
				 rest == 1 ? "" : "s", d->ngroups - i, d->ngroups - i == 1 ? "" : "s");
			break;
		}
		tdigest_group_line(&d->groups[i], lines[out++], TDIGEST_LINE);
	}
	return out;
}

char *tdigest_prepend(const char *dump, size_t len, size_t *outlen)
{
	static const char head[] = "Digest (the dump follows):\n";
	char lines[TDIGEST_VIEW_LINES][TDIGEST_LINE];
	struct tdigest d;
	size_t n = 0, at = sizeof(head) - 1, need = at + 1;
	char *out;

	if (tdigest_parse(dump, len, &d))
		return NULL;
	n = tdigest_lines(&d, len, lines, TDIGEST_VIEW_LINES);
	tdigest_release(&d);
	for (size_t i = 0; i < n; i++)
		need += strlen(lines[i]) + 3;
	if (len > SIZE_MAX - need - 1 || !(out = malloc(need + len + 1)))
		return NULL;
	memcpy(out, head, at);
	for (size_t i = 0; i < n; i++)
		at += (size_t)sprintf(out + at, "- %s\n", lines[i]);
	out[at++] = '\n';
	memcpy(out + at, dump, len);
	at += len;
	out[at] = '\0';
	*outlen = at;
	return out;
}
