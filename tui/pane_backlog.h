/* The backlog pane: sockets with unread bytes, grouped, a group opened socket by socket. */
#ifndef LEAKTOP_PANE_BACKLOG_H
#define LEAKTOP_PANE_BACKLOG_H

#include "tui/state.h"

extern const struct pane_ops pane_backlog_ops;

#endif
