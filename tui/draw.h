/* Drawing on the terminal: the theme's attributes and text clipped to its columns. */
#ifndef LEAKTOP_DRAW_H
#define LEAKTOP_DRAW_H

#include <stdbool.h>

#include "tui/state.h"

void draw_init_theme(struct app *a);
int draw_attr(const struct app *a, int role);
/* Text clipped (by display width) to w columns, padded with spaces; right-aligned
 * when right. Control characters never reach the terminal. */
void draw_text(int y, int x, int w, const char *s, int attr, bool right);
const char *draw_block(const struct app *a);

#endif
