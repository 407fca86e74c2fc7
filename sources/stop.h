/* What stops when the program is told to stop (a stop signal's flag): a refresh of
 * the live system, checked between dump messages and between processes, so a refresh
 * of a million sockets ends within a fraction of a second, not when it is done; and
 * any query of a recording (recording/recread.c), within a few thousand SQLite steps. */
#ifndef LEAKTOP_STOP_H
#define LEAKTOP_STOP_H

#include <signal.h>
#include <stdbool.h>

/* Stop when *flag becomes non-zero (a handler sets it); up to four flags (the
 * program's, the dashboard's). */
void stop_on(volatile sig_atomic_t *flag);
/* Has one of them been set? A refresh that sees it gives up with -ECANCELED. */
bool stop_asked(void);

#endif
