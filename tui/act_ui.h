/* Process actions in the dashboard (tags, confirmation, signal menu): the curses side
 * of program/actions.c. Their outcomes go to the message view (tui/msgview.h). */
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

/* D, R, k/F9: each acts on the tagged processes, or else the selected one, and asks
 * y/N first. */
void act_ui_dump(struct app *a);
void act_ui_restart(struct app *a);
void act_ui_signal_menu(struct app *a);

/* While a confirmation or the signal menu is up, it takes every key: returns true
 * when it took this one. */
bool act_ui_key(struct app *a, int key);
/* Draw what is up over the panes; false when nothing is. */
bool act_ui_draw(struct app *a);

#endif
