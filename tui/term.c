/* The dashboard's terminal: can it run here, the clock, signals (stop, and a crash that must
 * put the terminal back), and restoring it on every way out. */
#include "config.h"

#include "tui/term.h"
#include "model/text.h"
#include "sources/stop.h"

#include <curses.h>
#include <term.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t term_stop_signal;
static struct termios saved_tty;
static bool have_saved_tty;
static char reset_seq[128];      /* rmcup, cnorm, sgr0: what a crash writes on its way out */
static size_t reset_len;
static bool curses_on;

static void on_stop(int sig)
{
	__atomic_store_n(&term_stop_signal, sig, __ATOMIC_RELAXED); /* the refresh thread reads it too */
}

/* A crash: put the terminal back with async-signal-safe calls, then die as before. */
static void on_fatal(int sig)
{
	if (have_saved_tty)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
	if (reset_len && write(STDOUT_FILENO, reset_seq, reset_len) < 0)
		reset_len = 0;
	signal(sig, SIG_DFL);
	raise(sig);
}

void term_restore(void)
{
	if (curses_on && !isendwin())
		endwin();
	curses_on = false;
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

void term_install_signals(void)
{
	static const int stops[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction sa = {.sa_handler = on_stop};

	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++)
		sigaction(stops[i], &sa, NULL);
	/* A replay's queries end when one of them comes, whatever the file holds, and so
	 * does a refresh under way, so the worker is joined. */
	stop_on(&term_stop_signal);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	for (size_t i = 0; i < NFATAL; i++)
		sigaction(fatal_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void term_thread_signals(void)
{
	sigset_t fatal;

	sigemptyset(&fatal);
	for (size_t i = 0; i < NFATAL; i++)
		sigaddset(&fatal, fatal_signals[i]);
	pthread_sigmask(SIG_UNBLOCK, &fatal, NULL);
}

void term_save(void)
{
	have_saved_tty = tcgetattr(STDIN_FILENO, &saved_tty) == 0;
}

void term_started(void)
{
	curses_on = true;
	atexit(term_restore);
}

static void add_reset(const char *cap)
{
	const char *s = tigetstr(cap);
	if (s && s != (char *)-1 && reset_len + strlen(s) < sizeof(reset_seq)) {
		memcpy(reset_seq + reset_len, s, strlen(s));
		reset_len += strlen(s);
	}
}

double term_now(void)
{
	return text_mono();
}

_Noreturn void term_oom(void)
{
	term_restore();
	fputs("leaktop: out of memory\n", stderr);
	exit(1);
}


/* A clear message instead of a curses error. */
int term_check(char **why)
{
	const char *term = getenv("TERM");
	int err = 0;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return text_cause(why, -ENOTTY, "%s", "the dashboard needs a terminal on standard input and output");
	if (!term || !*term)
		return text_cause(why, -EINVAL, "%s", "TERM is not set");
	if (setupterm(NULL, STDOUT_FILENO, &err) != OK)
		return text_cause(why, -EINVAL, err == -1 ? "no terminfo database found for TERM=%s"
						     : "the terminal type '%s' is unknown", term);
	/* dumb and hardcopy terminals have no cursor addressing: nothing to draw with. */
	const char *cup = tigetstr("cup");
	bool ok = cup && cup != (char *)-1 && tigetflag("gn") != 1 && tigetflag("hc") != 1;
	if (ok) {
		add_reset("rmcup");
		add_reset("cnorm");
		add_reset("sgr0");
	}
	del_curterm(cur_term);
	return ok ? 0 : text_cause(why, -EINVAL, "the terminal type '%s' cannot move the cursor", term);
}
