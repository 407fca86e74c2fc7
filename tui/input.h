/* Keys, prompts and the mouse: what the dashboard does with each. */
#ifndef LEAKTOP_INPUT_H
#define LEAKTOP_INPUT_H

#include "tui/state.h"

/* One key (or KEY_RESIZE, KEY_MOUSE) from the terminal. */
void input_key(struct app *a, int key);

#endif
