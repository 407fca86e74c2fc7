/* The dashboard, for main.c: can it run here, and run it (tui/app.c, the loop). */
#ifndef LEAKTOP_TUI_H
#define LEAKTOP_TUI_H

struct options;
struct source;
struct record;

/* Can this terminal run the dashboard? 0, or 2 after saying why on stderr. */
int tui_preflight(void);

/* Run the dashboard on src (live or a replay), recording every refresh to rec when
 * it is not NULL, until the user quits or a signal arrives. Takes src and rec: both
 * are closed on the way out. Returns the exit status. */
int tui_run(const struct options *o, struct source *src, struct record *rec);

#endif
