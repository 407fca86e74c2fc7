#!/bin/sh
# The 80x24 incident screen, driven through tmux the way a new on-call user met it:
# the key bar names the keys, the help scrolls to the replay keys and stays up until
# closed, F2 shows and sorts by a column the width had left out (and saves it), Home
# and End as terminals send them, Ctrl-W/Ctrl-U in a prompt, the alert count before
# the message with every alert whole under m, and a process holding 300 reset fds
# lists them in its drill-down, marked CLOSED, scrolled sideways with Right/Left.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
need unshare ip
own_netns --pid "$@"
need tmux
[ -n "${LEAKTOP_NETNS:-}" ] || fail "not in a namespace of its own"
tui_setup screen
N=300

# A server holding N fds of connections its client reset: CLOSED, in no TCP table.
start_server --name rstsrv
RST_PID=$SERVER_PID RST_PORT=$PORT
bg "$LEAKY" client --port "$RST_PORT" --count "$N" --hold --rst
CLIENT_PID=$BG
wait_until 30 sh -c "[ \$(ls -l /proc/$RST_PID/fd | grep -c socket:) -eq $((N + 1)) ]" ||
	fail "the server never accepted $N connections"
kill -USR1 "$CLIENT_PID"
wait "$CLIENT_PID" || fail "the client failed"
# And a CLOSE_WAIT leaker: two alerts (its process and its port) at 10.
start_server --name cwsrv
"$LEAKY" client --port "$PORT" --count 20 --bytes 10

screen() { $TM capture-pane -p -t lt; }
has() { screen | grep -Eq -- "$1"; }
row() { screen | sed -n "${1}p"; }
wait_screen() { wait_until 30 has "$1" || { screen >&2; fail "screen never showed: $1"; }; }
key() { $TM send-keys -t lt "$@"; }
raw() { $TM send-keys -t lt -H "$@"; } # bytes, in hex: what a terminal sends

CFG=$TMP/cfg
new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s lt -x 80 -y 24 env TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$CFG" \
	"$RUN" "$OUT" "$LEAKTOP" --delay 1 --close-wait-alert 10
wait_until 30 test -s "$OUT/pid" || fail "leaktop did not start"
wait_screen "rstsrv"

# --- The key bar, htop's F-keys plus the thread dump and restart -------------------
for k in F1Help F2Setup F3Search F4Filter F6Sort F9Kill DDump RRestart F10Quit; do
	row 24 | grep -q "$k" || fail "the key bar lacks $k: $(row 24)"
done
echo "ok: the key bar at 80 columns: $(row 24)"

# --- Alerts: the count first, every alert whole under m -----------------------------
wait_screen "^ALERT [a-z]+ \(\+[0-9]+ more, m\): "
echo "ok: the alert line: $(row 4)"
key m
wait_screen "Messages"
wait_until 30 sh -c "[ \$($TM capture-pane -p -t lt | grep -c 'ALERT ') -ge 2 ]" ||
	{ screen >&2; fail "the message view lacks the alerts"; }
echo "ok: every alert in the message view"
key Escape
wait_until 30 sh -c "! $TM capture-pane -p -t lt | grep -q Messages" || fail "the message view did not close"

# --- Help: wraps at 80 columns, names every key, scrolls; a stray key does not close it
key F1
wait_screen "help: Up/Down/PgUp/PgDn scroll"
has "Column setup" && fail "the whole help fits 24 lines: nothing to scroll"
key x
# Page by page to the end: every line fits (none is cut at the 80th column: the help
# wraps), and the replay keys and the keys of the views are there, the K that
# confirms a thread dump which terminates the process among them.
: > "$TMP/help.txt"
for i in $(seq 30); do
	screen | sed '1d;$d' >> "$TMP/help.txt"
	has "^Theme [a-z0-9-]+\. Mouse" && break
	before=$(row 2)
	key NPage
	paged() { [ "$(row 2)" != "$before" ]; }
	wait_until 30 paged || { screen >&2; fail "PgDn did not scroll the help"; }
done
awk 'length > 79 { print "FAIL: a help line cut at 80 columns: " $0; bad = 1 } END { exit bad }' "$TMP/help.txt" || fail "the help does not wrap"
for want in "^Replay \(leaktop -r FILE\):" "^  \+ = - +play faster or slower" \
	"^  K +thread dump \(D\) of a process that SIGQUIT terminates" "^Messages \(m\):" \
	"^  a +the actions alone" "^Thread dump \(d\):" "^  Left Right +scroll sideways" \
	"^  d +the latest thread dump" "^  s +set the refresh delay"; do
	grep -Eq -- "$want" "$TMP/help.txt" || { cat "$TMP/help.txt" >&2; fail "the help lacks: $want"; }
done
key Home
wait_screen "F1 h \? +this help"
key q
wait_screen "PID +USER +COMMAND"
echo "ok: the help wraps at 80 columns, names K and the views' keys, scrolls, and q closes it"

# --- F2: RSS, left out at 80 columns, shown and sorted by, and saved ----------------
row 5 | grep -q " RSS " && fail "RSS already shows at 80 columns: $(row 5)"
key F2
wait_screen "Columns of the processes pane"
wait_until 30 has "\[-\] RSS +no room at this width" || { screen >&2; fail "the setup does not list RSS as left out"; }
key Home
for i in $(seq 13); do key Down; done
key Space Enter Escape
wait_screen "columns saved in $CFG/leaktop/leaktop.conf"
wait_screen "^ +PID .* RSS\^? "
grep -qx "tui.procs.columns = +RSS" "$CFG/leaktop/leaktop.conf" || fail "not saved: $(cat "$CFG/leaktop/leaktop.conf")"
grep -Eqx "tui.procs.sort = RSS( invert)?" "$CFG/leaktop/leaktop.conf" || fail "sort not saved"
echo "ok: F2 shows RSS at 80 columns, sorts by it, and saves it"

# --- Prompts: Ctrl-W deletes a word, Ctrl-U the line ---------------------------------
key F4
key -l "cmd:rst pid:1"
wait_screen "^Filter: cmd:rst pid:1"
key C-w
wait_screen "^Filter: cmd:rst *$" # (tmux drops the trailing space)
key C-u
wait_screen "^Filter: *$"
key Escape
echo "ok: Ctrl-W and Ctrl-U in the filter prompt"

# --- The drill-down: every reset fd, CLOSED; Home/End as terminals send them --------
# By pid: a name filter also matches the command line of tmux's own send-keys that
# typed it, a process in this namespace too, listed (and selected) if a refresh
# catches it running.
key F4
key -l "pid:$RST_PID"
key Enter
wait_screen "Filter: pid:$RST_PID"
wait_screen "^ *$RST_PID .*rstsrv"
key 1 Enter
wait_screen "^$((N + 1)) sockets of $RST_PID "
has "^ +[0-9]+ +$RST_PID +CLOSED +CLOSED " || { screen >&2; fail "no CLOSED rows"; }
echo "ok: the drill-down lists $((N + 1)) fds of the server, the reset ones CLOSED"
# End as tmux and PuTTY send it (ESC [ 4 ~) goes to the last fd, Home (ESC [ 1 ~) back
# to the first (the listener, Recv-Q sort); so do ESC [ F / ESC [ H and ESC O F /
# ESC O H. None of them leaves the drill-down (they used to read as Esc, then '[').
for pair in "1b5b347e 1b5b317e" "1b5b46 1b5b48" "1b4f46 1b4f48"; do
	set -- $pair
	raw $(echo "$1" | sed 's/../& /g')
	wait_until 30 sh -c "! $TM capture-pane -p -t lt | grep -Eq 'TCP +LISTEN'" || { screen >&2; fail "End ($1) did not reach the end"; }
	has "sockets of $RST_PID" || fail "End ($1) left the drill-down"
	raw $(echo "$2" | sed 's/../& /g')
	wait_screen "TCP +LISTEN"
	has "sockets of $RST_PID" || fail "Home ($2) left the drill-down"
done
echo "ok: Home and End as terminals send them, in the drill-down"
# Right scrolls sideways to the columns off screen; Left back, then out.
has "AGE" && fail "every column fits 80: nothing to scroll"
# Each press waits for the first column to change: a busy box may take seconds to
# redraw, and a refresh may redraw the header with other widths (an AGE grown a digit)
# before the press is read; a second press sent then would be one too many (Left at
# the edge leaves the drill-down).
first_col() { screen | grep -E "TYPE|INODE" | head -1 | awk '{ print $1 }'; }
moved() { [ "$(first_col)" != "$before" ]; }
for i in $(seq 8); do
	has "INODE.*AGE" && break
	before=$(first_col)
	key Right
	wait_until 30 moved ||
		{ screen >&2; fail "Right did not scroll the drill-down"; }
done
has "INODE.*AGE" || { screen >&2; fail "Right never showed the columns off screen"; }
has "^ +FD " && fail "Right did not scroll the FD column off"
for i in $(seq 8); do
	has "^ +FD +PID +TYPE +STATE" && break
	before=$(first_col)
	key Left
	wait_until 30 moved ||
		{ screen >&2; fail "Left did not scroll the drill-down"; }
done
has "^ +FD +PID +TYPE +STATE" || { screen >&2; fail "Left never scrolled back"; }
has "sockets of $RST_PID" || fail "Left left the drill-down before it was scrolled back"
key Left
wait_screen "^ +PID +USER +COMMAND"
echo "ok: Left/Right scroll the drill-down; Left at the edge goes back"

key q
wait_until 30 test -s "$OUT/rc" || fail "leaktop did not exit"
assert_eq "exit status" 0 "$(cat "$OUT/rc")"
