/* The whole screen, drawn once per loop pass: the header, the panes, the footer and
 * what is up over them (help, F2, a dialog, the message view). */
#ifndef LEAKTOP_SCREEN_H
#define LEAKTOP_SCREEN_H

#include "tui/state.h"

void screen_draw(struct app *a);

#endif
