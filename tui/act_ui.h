/* Process actions in the dashboard (tags, confirmation, signal menu, messages): the
 * curses side of tui/actions.c. */
#ifndef LEAKTOP_ACT_UI_H
#define LEAKTOP_ACT_UI_H

#include <stdbool.h>
#include <stddef.h>

struct app;
struct proc_rec;
struct action_event;

/* Open the action log (a warning in the status line when it has no file). */
int act_ui_init(struct app *a);
void act_ui_free(struct app *a);
/* Hand every action to hook too (the session recording). */
void act_ui_set_hook(struct app *a, void (*hook)(void *ctx, const struct action_event *ev), void *ctx);

/* Space in the processes pane: tag or untag the selected process. false when there is
 * no process under the cursor (the caller then pauses, as Space does elsewhere). */
bool act_ui_tag(struct app *a);
void act_ui_untag_all(struct app *a);
bool act_ui_tagged(const struct app *a, const struct proc_rec *p);
size_t act_ui_ntags(const struct app *a);

/* D, R, k/F9, m: each acts on the tagged processes, or else the selected one, and
 * asks y/N first. */
void act_ui_dump(struct app *a);
void act_ui_restart(struct app *a);
void act_ui_signal_menu(struct app *a);
void act_ui_messages(struct app *a);
/* Add a line (raw text: escaped here) to the message view, stamped with the time. */
void act_ui_note(struct app *a, const char *text);
/* Keep a thread dump (a replay's recorded one) for the dump viewer (m, then d); whose
 * names it in the title: "pid 42 java, recorded 10:12:03". */
void act_ui_keep_dump(struct app *a, const char *whose, const char *text, size_t len);

/* While a confirmation, the signal menu or the message view is up, it takes every
 * key: returns true when it took this one. */
bool act_ui_key(struct app *a, int key);
/* Draw what is up over the panes; false when nothing is. */
bool act_ui_draw(struct app *a);

#endif
