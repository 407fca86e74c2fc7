/* libFuzzer target: the dashboard's filter and search queries (view_query_parse),
 * matched against a small snapshot, and the --pid/--port/--netns lists and clock
 * times the command line parses. */
#include "config.h"

#include "tests/fuzz/fuzz.h"
#include "model/snapshot.h"
#include "model/view.h"

#include <netinet/in.h>
#include <sys/socket.h>

static struct snapshot *sample(void)
{
	struct snapshot *s = snapshot_new();
	struct proc_rec *p = s ? snapshot_add_proc(s) : NULL;
	struct sock_rec *k = p ? snapshot_add_sock(s) : NULL;
	struct sock_owner *o = k ? snapshot_add_owner(s) : NULL;
	if (!o)
		abort();
	p->pid = 4242, p->ppid = 1, p->fds = 10, p->fd_limit = p->fd_limit_hard = 1024;
	snprintf(p->comm, sizeof(p->comm), "java");
	snprintf(p->user, sizeof(p->user), "www");
	snprintf(p->cmdline, sizeof(p->cmdline), "/usr/bin/java -jar app.jar");
	k->family = AF_INET, k->type = SOCK_STREAM, k->state = ST_CLOSE_WAIT;
	k->lport = 8080, k->rport = 40000, k->inode = 77, k->rqueue = 5;
	o->inode = 77, o->proc = 0, o->fd = 3, o->sock = -1;
	if (snapshot_build(s))
		abort();
	return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snapshot *s;
	if (!s)
		s = sample();
	char *text = fuzz_str(data, size), *cause = NULL;
	struct view_query q;

	if (view_query_parse(&q, text, &cause) == 0) {
		if (q.nterms > VIEW_QUERY_TERMS)
			abort();
		for (size_t i = 0; i < s->nprocs; i++)
			view_query_proc(&q, s, &s->procs[i]);
		for (size_t i = 0; i < s->nports; i++)
			view_query_port(&q, s, &s->ports[i]);
		for (size_t i = 0; i < s->nsocks; i++)
			view_query_sock(&q, s, &s->socks[i]);
		struct view_backlog bl = {0};
		view_backlog_build(&bl, s, NULL, &q);
		view_backlog_free(&bl);
	} else if (!cause || !*cause) {
		abort();
	}
	free(cause), cause = NULL;

	struct view_filter f = {0};
	view_filter_pids(&f, text, &cause);
	free(cause), cause = NULL;
	view_filter_ports(&f, text, &cause);
	free(cause), cause = NULL;
	view_filter_netns(&f, text, &cause);
	free(cause), cause = NULL;
	if (f.npids > VIEW_MAX_KEYS || f.nports > VIEW_MAX_KEYS || f.nnetns > VIEW_MAX_KEYS)
		abort();

	int secs;
	if (view_parse_clock(text, &secs) == 0 && (secs < 0 || secs >= 86400))
		abort();
	free(text);
	return 0;
}
