/* The terminal and signals: what a crash or a signal restores, and the process's
 * clock and its way out when memory runs out. */
#ifndef LEAKTOP_TERM_H
#define LEAKTOP_TERM_H

#include <signal.h>
#include <stdbool.h>

extern volatile sig_atomic_t term_stop_signal; /* SIGINT, SIGTERM, SIGHUP or SIGQUIT came */
void term_install_signals(void);
void term_thread_signals(void);        /* a thread: unblock the crash signals (restore first) */
void term_save(void);                  /* keep the tty settings a crash restores */
void term_started(void);               /* curses is on: restore it on exit */
void term_restore(void);
_Noreturn void term_oom(void);         /* restores the terminal, says so, exits 1 */
double term_now(void);                 /* monotonic seconds */
/* Can this terminal draw the dashboard (terminals on stdin and stdout, TERM known, a
 * cursor that moves)? 0, or -errno with *why. */
int term_check(char **why);

#endif
