/* Tagged processes: a short list of copies, in the order they were tagged (untagging
 * one moves the last into its place). */
#include "config.h"

#include "tui/tags.h"
#include "tui/msgview.h"
#include "tui/panes.h"
#include "tui/state.h"
#include "model/snapshot.h"

#include <errno.h>
#include <stdlib.h>

struct tags {
	struct proc_rec p[TAGS_MAX];
	size_t n;
};

int tags_init(struct app *a)
{
	return (a->tags = calloc(1, sizeof(*a->tags))) ? 0 : -ENOMEM;
}

void tags_free(struct app *a)
{
	free(a->tags);
	a->tags = NULL;
}

bool tags_has(const struct app *a, const struct proc_rec *p)
{
	const struct tags *t = a->tags;

	for (size_t i = 0; t && i < t->n; i++)
		if (t->p[i].pid == p->pid && t->p[i].start_time == p->start_time)
			return true;
	return false;
}

size_t tags_count(const struct app *a)
{
	return a->tags ? a->tags->n : 0;
}

const struct proc_rec *tags_get(const struct app *a, size_t i)
{
	return &a->tags->p[i];
}

bool tags_toggle(struct app *a)
{
	struct tags *t = a->tags;
	const struct proc_rec *p = a->drilled ? NULL : panes_selected_proc(a);

	if (!p)
		return false;
	for (size_t i = 0; i < t->n; i++)
		if (t->p[i].pid == p->pid && t->p[i].start_time == p->start_time) {
			t->p[i] = t->p[--t->n];
			return true;
		}
	if (t->n == TAGS_MAX) {
		msgview_status(a, true, "at most %d processes can be tagged", TAGS_MAX);
		return true;
	}
	t->p[t->n++] = *p;
	return true;
}

void tags_clear(struct app *a)
{
	a->tags->n = 0;
}
