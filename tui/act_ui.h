/* Process actions in the dashboard (the y/N confirmation, the signal menu) on the
 * tagged processes (tui/tags.h) or the selected one: the curses side of
 * program/action_do.c. Their outcomes go to the message view (tui/msgview.h). */
#ifndef LEAKTOP_ACT_UI_H
#define LEAKTOP_ACT_UI_H

#include <stdbool.h>
#include <stddef.h>

struct app;
struct action_event;

/* Open the action log (a warning in the status line when it has no file). */
int act_ui_init(struct app *a);
void act_ui_free(struct app *a);
/* Hand every action to hook too (the session recording). */
void act_ui_set_hook(struct app *a, void (*hook)(void *ctx, const struct action_event *ev), void *ctx);

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
