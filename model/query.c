/* The query language of the dashboard's F4 filter and / search: terms like
 * "cmd:java port:8080", parsed once and matched against processes, ports and sockets. */
#include "config.h"

#include "model/text.h"
#include "model/view.h"
#include "model/snapshot.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const term_prefix[VQ_COUNT] = {
	[VQ_TEXT] = "",
	[VQ_CMD] = "cmd:",
	[VQ_USER] = "user:",
	[VQ_PORT] = "port:",
	[VQ_STATE] = "state:",
	[VQ_PID] = "pid:",
};

#define query_fail(cause, ...) text_cause(cause, -EINVAL, __VA_ARGS__)

static int parse_term(struct view_term *t, const char *word, char **cause)
{
	memset(t, 0, sizeof(*t));
	for (int k = VQ_COUNT - 1; k > VQ_TEXT; k--) {
		size_t n = strlen(term_prefix[k]);
		if (!strncasecmp(word, term_prefix[k], n)) {
			t->kind = (enum view_term_kind)k;
			word += n;
			break;
		}
	}
	if (!*word)
		return query_fail(cause, "empty filter term '%s'", term_prefix[t->kind]);
	snprintf(t->text, sizeof(t->text), "%s", word);
	if (t->kind == VQ_STATE) {
		int st = sk_state_parse(word);
		if (st < 0)
			return query_fail(cause, "unknown TCP state '%s' (try close_wait, estab, listen)", word);
		t->num = st;
	} else if (t->kind == VQ_PORT || t->kind == VQ_PID) {
		char *end;
		errno = 0;
		t->num = strtol(word, &end, 10);
		if (errno || *end || t->num < 0 || (t->kind == VQ_PORT && t->num > 65535))
			return query_fail(cause, "'%s' is not a number", word);
	} else {
		/* Text that is a number also matches a pid or port (bare) or a uid (user:). */
		char *end;
		t->num = strtol(word, &end, 10);
		if (*end || end == word)
			t->num = -1;
	}
	return 0;
}

int view_query_parse(struct view_query *q, const char *text, char **cause)
{
	char buf[256], *save = NULL;
	struct view_query nq = {0};

	snprintf(buf, sizeof(buf), "%s", text ? text : "");
	for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		if (nq.nterms == VIEW_QUERY_TERMS)
			return query_fail(cause, "too many filter terms (at most %s)", "8");
		int rc = parse_term(&nq.terms[nq.nterms++], w, cause);
		if (rc)
			return rc;
	}
	*q = nq;
	return 0;
}

static bool proc_has_port(const struct snapshot *s, const struct proc_rec *p, long port)
{
	for (uint32_t i = 0; i < p->owner_count; i++) {
		const struct sock_owner *o = &s->owners[p->owner_first + i];
		if (o->sock >= 0 && (s->socks[o->sock].lport == port || s->socks[o->sock].rport == port))
			return true;
	}
	return false;
}

static bool proc_term(const struct view_term *t, const struct snapshot *s, const struct proc_rec *p)
{
	switch (t->kind) {
	case VQ_CMD:
		return strcasestr(p->comm, t->text) || strcasestr(p->cmdline, t->text);
	case VQ_USER:
		return !strcasecmp(p->user, t->text) || (t->num >= 0 && (long)p->uid == t->num);
	case VQ_PORT:
		return proc_has_port(s, p, t->num);
	case VQ_STATE:
		return p->states[t->num] > 0;
	case VQ_PID:
		return p->pid == t->num;
	case VQ_TEXT:
	case VQ_COUNT:
		break;
	}
	return strcasestr(p->comm, t->text) || strcasestr(p->cmdline, t->text) || !strcasecmp(p->user, t->text) ||
	       (t->num >= 0 && p->pid == t->num);
}

bool view_query_proc(const struct view_query *q, const struct snapshot *s, const struct proc_rec *p)
{
	for (size_t i = 0; q && i < q->nterms; i++)
		if (!proc_term(&q->terms[i], s, p))
			return false;
	return true;
}

/* A term about processes matches a port or a socket through its owners. */
static bool owner_term(const struct view_term *t, const struct snapshot *s, int32_t pid)
{
	const struct proc_rec *p = pid > 0 ? snapshot_find_proc(s, pid) : NULL;
	return p && proc_term(t, s, p);
}

bool view_query_port(const struct view_query *q, const struct snapshot *s, const struct port_agg *p)
{
	for (size_t i = 0; q && i < q->nterms; i++) {
		const struct view_term *t = &q->terms[i];
		bool ok = false;
		if (t->kind == VQ_PORT || (t->kind == VQ_TEXT && t->num >= 0 && p->port == t->num))
			ok = p->port == t->num;
		else if (t->kind == VQ_STATE)
			ok = p->states[t->num] > 0;
		else
			for (uint32_t j = 0; j < p->npids && !ok; j++)
				ok = owner_term(t, s, p->pids[j]);
		if (!ok)
			return false;
	}
	return true;
}

bool view_query_sock(const struct view_query *q, const struct snapshot *s, const struct sock_rec *k)
{
	for (size_t i = 0; q && i < q->nterms; i++) {
		const struct view_term *t = &q->terms[i];
		const struct proc_rec *p = snapshot_sock_proc(s, k);
		bool ok;
		if (t->kind == VQ_PORT)
			ok = k->lport == t->num || k->rport == t->num;
		else if (t->kind == VQ_STATE)
			ok = k->state == t->num;
		else if (t->kind == VQ_TEXT && t->num >= 0 && (k->lport == t->num || k->rport == t->num))
			ok = true;
		else
			ok = p && proc_term(t, s, p);
		if (!ok)
			return false;
	}
	return true;
}

