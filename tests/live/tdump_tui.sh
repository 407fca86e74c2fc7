#!/bin/sh
# The thread dump through the dashboard (tmux, 80x24) on three processes: one that
# catches SIGQUIT dumps and lives ("dumped"); one with the default action is named as
# one that will TERMINATE, y does not send, K does, and the result says "terminated";
# one that ignores SIGQUIT is said to do nothing and the result says "ignored". The
# dump opens with d from the main screen, its tabs expanded (not \x09) and its long
# lines scrolled sideways with Right and Left; the message view shows the three
# outcomes marked as actions, alone with a, however much else it holds.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
need tmux
# Network and pid namespaces of its own: leaktop (slow under ThreadSanitizer) sees the
# test's processes, not whatever load the box carries.
own_netns --pid "$@"

SOCK="$TMP/tmux.sock"
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; cleanup' EXIT
export HOME="$TMP/home"
unset XDG_STATE_HOME XDG_CONFIG_HOME
mkdir -p "$HOME"
LOG="$HOME/.local/state/leaktop/actions.log"

screen() { tmux -S "$SOCK" capture-pane -p -t t; }
keys() { tmux -S "$SOCK" send-keys -t t "$@"; }
on_screen() { screen | grep -qF -- "$1"; }
wait_screen() {
	wait_until 30 on_screen "$1" || { screen >&2; fail "never on screen: $1"; }
}
only_pid() {
	keys F4
	wait_screen "Filter:"
	keys $(printf 'BSpace %.0s' $(seq 24)) "pid:$1" Enter
	wait_screen "Filter: pid:$1"
	wait_until 30 sh -c "tmux -S '$SOCK' capture-pane -p -t t | grep -qE '^ *\*? *$1 '" ||
		{ screen >&2; fail "pid $1 not shown"; }
}

# Catches SIGQUIT (a JVM stand-in, its stdout to a file: a dump as a JVM writes it,
# frames indented by a tab, some wider than 80 columns); default action; ignored.
printf '%s\n' 'Full thread dump (leaky)' '' '"main" #1 prio=5 os_prio=0 tid=0x1 nid=0x2 waiting on condition' \
	'   java.lang.Thread.State: WAITING (parking)' \
	'	at org.apache.http.pool.AbstractConnPool.getPoolEntryBlocking(AbstractConnPool.java:393)' \
	'	at PoolLeak.main(PoolLeak.java:42)' > "$TMP/dump.txt"
bg "$LEAKY" server --name leakyjava --quit-marker "$TMP/quit.marker" --quit-dump "$TMP/dump.txt" > "$TMP/leaky.out" 2>&1
JPID=$BG
ulimit -c 0
# (A shell starts background jobs with SIGQUIT ignored: a Python process puts back the
# default action, as one does unless told otherwise.)
need python3
bg python3 -c 'import signal, time; signal.signal(signal.SIGQUIT, signal.SIG_DFL); time.sleep(600)'
DPID=$BG
bg sh -c 'trap "" QUIT; exec sleep 601'
IPID=$BG

tmux -S "$SOCK" new-session -d -s t -x 80 -y 24 "env TERM=xterm $LEAKTOP -d 0.5"
wait_screen "PID"

# Caught: y sends; it dumps and still runs; the dump is read back and viewable. (Its
# row under the name it gives itself once started: a refresh that came first shows
# the name it was started with, and the action is logged under what was confirmed.)
only_pid "$JPID"
wait_screen "leakyjava"
keys D
wait_screen "it handles SIGQUIT"
wait_screen "y: yes, do it"
keys y
wait_until 30 grep -qF "SIGQUIT pid $JPID" "$LOG" || fail "not logged"
grep -qF "ok: dumped (still running); the dump went to $TMP/leaky.out" "$LOG" || { cat "$LOG"; fail "not dumped"; }
kill -0 "$JPID" || fail "the catching process died"
wait_screen "d reads the dump: SIGQUIT pid $JPID"
# d, from the main screen: tabs expanded to 8 columns; the frame wider than 80 cut at
# first, then shown with Right; Left back, and Left again closes the viewer.
keys d
wait_screen "Thread dump of pid $JPID"
wait_screen "        at PoolLeak.main(PoolLeak.java:42)"
on_screen '\x09' && { screen >&2; fail "a tab shown as \\x09"; }
on_screen "(AbstractConnPool.java:393)" && { screen >&2; fail "a line wider than 80 columns is not cut"; }
wait_screen "Left/Right sideways"
keys Right
wait_screen "(AbstractConnPool.java:393)"
wait_screen "columns 21-"
keys Left
wait_screen "        at PoolLeak.main"
keys Left
wait_until 30 sh -c "! tmux -S '$SOCK' capture-pane -p -t t | grep -q 'Thread dump of'" || { screen >&2; fail "Left at the edge did not close the dump"; }
wait_screen "PID"
echo "ok: d opens the dump, tabs expanded, Right and Left scroll it sideways"
# ... and from the message view, where the outcome is marked as an action: with a,
# the actions alone (alerts about this box's other processes may have come since).
keys m
wait_screen "d thread dump"
keys a
wait_screen "ACTION SIGQUIT pid $JPID (leakyjava"
keys a d
wait_screen "Thread dump of pid $JPID"
wait_screen "Full thread dump"
keys Escape Escape

# Default: the prompt says it will terminate; y cancels, K sends.
only_pid "$DPID"
# Its row under its own name: the background job is "bash" until python3 has exec'd
# (the log names the process as the snapshot had it).
wait_screen "python3"
keys D
wait_screen "NO SIGQUIT handler: it will TERMINATE"
wait_screen "K (capital): yes, even if it terminates"
keys y
wait_screen "cancelled; nothing was sent (type K"
kill -0 "$DPID" || fail "y killed a process with no SIGQUIT handler"
keys D
wait_screen "will TERMINATE"
keys K
wait_until 30 grep -qF "SIGQUIT pid $DPID" "$LOG" || fail "K sent nothing"
grep -qF "SIGQUIT pid $DPID (python3, start" "$LOG" || fail "not logged under its name"
grep "SIGQUIT pid $DPID " "$LOG" | grep -qF "FAILED: terminated: pid $DPID had no handler and exited" ||
	{ cat "$LOG"; fail "termination not reported"; }
grep "SIGQUIT pid $DPID " "$LOG" | grep -q ": ok:" && fail "a killed process reported ok"
wait_screen "terminated: pid $DPID"

# A SIGQUIT handler that puts a FIFO with no writer on stdout and stderr: the
# dashboard froze in open() reading the dump back (the clock stopped, q did nothing).
mkfifo "$TMP/fifo"
export FIFO="$TMP/fifo"
bg python3 -c 'import os, signal, time
def swap(sig, frame):
    fd = os.open(os.environ["FIFO"], os.O_RDONLY | os.O_NONBLOCK)
    os.dup2(fd, 1); os.dup2(fd, 2)
signal.signal(signal.SIGQUIT, swap)
time.sleep(600)' > "$TMP/fifo.out" 2>&1
FPID=$BG
# Its handler in place (SigCgt has SIGQUIT, bit 3), python having started.
catches_quit() { [ $((0x$(sed -n 's/^SigCgt:\t//p' "/proc/$FPID/status") & 4)) != 0 ]; }
wait_until 30 catches_quit || fail "the FIFO target never set its SIGQUIT handler"
only_pid "$FPID"
keys D
wait_screen "it handles SIGQUIT"
keys y
wait_until 30 grep -qF "SIGQUIT pid $FPID" "$LOG" || { screen >&2; fail "the dump into a FIFO was not logged"; }
grep "SIGQUIT pid $FPID " "$LOG" | grep -qF "ok: dumped (still running); the dump went to $TMP/fifo.out (nothing was appended to it)" ||
	{ cat "$LOG"; fail "the dump into a FIFO: not reported as nothing appended"; }
clock() { screen | head -1 | grep -oE '[0-9]{2}:[0-9]{2}:[0-9]{2}' | head -1; }
T0=$(clock)
clock_moved() { [ "$(clock)" != "$T0" ]; }
wait_until 30 clock_moved || { screen >&2; fail "the clock stopped after a dump into a FIFO"; }
echo "ok: a dump into a FIFO does not freeze the dashboard"

# Ignored: the prompt says it does nothing; the result says so.
only_pid "$IPID"
keys D
wait_screen "it ignores SIGQUIT: sending it will do nothing"
keys y
wait_until 30 grep -qF "SIGQUIT pid $IPID" "$LOG" || fail "not sent to the ignoring process"
grep "SIGQUIT pid $IPID " "$LOG" | grep -qF "FAILED: ignored: pid $IPID ignores SIGQUIT; nothing happened" ||
	{ cat "$LOG"; fail "ignoring not reported"; }
kill -0 "$IPID" || fail "the ignoring process died"
# The three outcomes (and the dump into a FIFO above: four actions), alone with a: the
# message view may hold pages of alerts about other processes on this box, the actions
# stay one key away.
keys m
wait_screen "Messages ("
keys a
wait_screen "Actions (4 of"
for p in "$JPID" "$DPID" "$IPID"; do
	wait_screen "ACTION SIGQUIT pid $p ("
done
keys Escape
screen > "$TMP/last.txt"
keys q
lt_gone() { ! tmux -S "$SOCK" has-session -t t 2>/dev/null; }
wait_until 30 lt_gone || { screen >&2; fail "q did not quit the dashboard"; }
echo "ok: thread dumps say dumped, terminated or ignored"
