/* The sockets pane: the sockets of a process or a port, drilled down into. */
#ifndef LEAKTOP_PANE_SOCKS_H
#define LEAKTOP_PANE_SOCKS_H

#include "tui/state.h"

extern const struct pane_ops pane_socks_ops;
/* Drill down into the sockets of a process or a port. */
void pane_socks_open(struct app *a, const struct drill *d);

#endif
