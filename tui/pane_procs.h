/* The processes pane. */
#ifndef LEAKTOP_PANE_PROCS_H
#define LEAKTOP_PANE_PROCS_H

#include "tui/state.h"

extern const struct pane_ops pane_procs_ops;

#endif
