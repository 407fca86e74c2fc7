/* The ports pane: sockets by port and state, with a bar of their states. */
#ifndef LEAKTOP_PANE_PORTS_H
#define LEAKTOP_PANE_PORTS_H

#include <stddef.h>

#include "tui/state.h"

extern const struct pane_ops pane_ports_ops;
/* Without colour the bars are letters: "States: W=CLOSE_WAIT ..." for the footer. */
void pane_ports_legend(const struct app *a, char *buf, size_t n);

#endif
