#!/bin/sh
# The dashboard, driven through tmux at 80x24 and 60x15 against a real CLOSE_WAIT
# leak: the leaker tops the processes pane, its port shows its CLOSE_WAIT pile, Enter
# lists its sockets, sort keys reorder, help opens, q exits 0; hostile names arrive
# escaped; SIGTERM and SIGHUP leave the tty as it was; NO_COLOR means no colour
# escapes; closing the pane ends leaktop. The first frame shows the dump before the
# owners ("owners: reading"), then they fill in.
#
# It runs in its own network and pid namespaces, so the only processes and sockets
# on screen are the test's own, whatever else the machine is doing.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need tmux stty ss
tui_setup test
N=60
# The leaked connections' orphaned client ends (FIN_WAIT2) stay for the whole test,
# so ss's TCP total holds still (this namespace's setting only).
sysctl -qw net.ipv4.tcp_fin_timeout=900

start_server --name leakysrv
"$LEAKY" client --port "$PORT" --count "$N" --bytes 100
wait_ss "$N" state close-wait "sport = :$PORT"
# A process whose name is an escape sequence.
EVIL_PORT_FILE="$TMP/evil.ready"
bg "$LEAKY" server --name "$(printf '\033[31mevil')" --ready "$EVIL_PORT_FILE" >/dev/null
EVIL_PID=$BG
wait_until 30 test -s "$EVIL_PORT_FILE" || fail "evil server did not start"

screen() { $TM capture-pane -p -t lt; }
has() { # has [-i] REGEX: the screen shows it
	local flags=-Eq
	[ "$1" = -i ] && { flags=-Eqi; shift; }
	screen | grep $flags -- "$1"
}
# row N: line N of the screen
row() { screen | sed -n "${1}p"; }
wait_screen() { wait_until 30 has "$1" || { screen >&2; fail "screen never showed: $1"; }; }

# start W H [env...]: leaktop in a fresh W x H pane; results land in $OUT.
start() {
	local w=$1 h=$2
	shift 2
	new_tmux
	OUT=$(mktemp -d "$TMP/run.XXXXXX")
	$TM new-session -d -s lt -x "$w" -y "$h" env "$@" "$RUN" "$OUT" "$LEAKTOP" --delay "${LT_DELAY:-1}"
	wait_until 30 test -s "$OUT/pid" || fail "leaktop did not start"
	LT_PID=$(cat "$OUT/pid")
	wait_screen "TCP [0-9]+:"
}

finished() { # finished EXPECTED_RC WHAT: leaktop ended with that status and the tty is as before
	wait_until 30 test -s "$OUT/rc" || { screen >&2; fail "$2: leaktop did not exit"; }
	assert_eq "$2: exit status" "$1" "$(cat "$OUT/rc")"
	assert_eq "$2: stty -g afterwards" "$(cat "$OUT/before")" "$(cat "$OUT/after")"
}

# --- 80x24: every pane at once -----------------------------------------------
start 80 24 TERM=screen LANG=C.UTF-8
wait_screen "^ *$SERVER_PID +root +leakysrv +[0-9]+ "
row 4 | grep -q "PID.*USER.*COMMAND.*FDS" || fail "row 4 is not the processes header: $(row 4)"
row 5 | grep -Eq "^ *$SERVER_PID " || { screen >&2; fail "the leaker is not the first process row"; }
echo "ok: the leaking server tops the processes pane"
# The ports pane: its port, owner, sockets (listener + N), N CLOSE_WAIT.
has "^ *$PORT +$SERVER_PID +$((N + 1)) +$N " || { screen >&2; fail "ports pane lacks port $PORT with $N CLOSE_WAIT"; }
echo "ok: the ports pane shows port $PORT with $N CLOSE_WAIT"
has 'LISTEN' || has 'CLOSE_WAIT' || fail "no state names in the header"
# The escaped name, and never the raw escape.
# The escaped name, and never the raw escape. (Checked at the end, so a failure
# here does not hide the rest.)
has '\\x1b\[31mevil' && EVIL_SHOWN=yes || EVIL_SHOWN=$(screen | grep -o '[^ ]*31mevil' || echo nothing)
$TM capture-pane -p -e -t lt | grep -q "$(printf '\033')\[31mevil" && fail "a raw escape reached the terminal"

# Enter: the server's sockets.
$TM send-keys -t lt Enter
wait_screen "^$((N + 1)) sockets of $SERVER_PID "
# Largest Recv-Q first: 100 bytes + the FIN on each leaked socket; End reaches the listener.
has "CLOSE_WAIT +127\.0\.0\.1:$PORT +127\.0\.0\.1:[0-9]+ +101 " || fail "the drill-down lacks CLOSE_WAIT sockets on $PORT"
has "LISTEN +127" && fail "the listener (Recv-Q 0) should sort last, off screen"
$TM send-keys -t lt End
wait_screen "LISTEN +127\.0\.0\.1:$PORT "
echo "ok: Enter lists the server's $((N + 1)) sockets"
$TM send-keys -t lt Escape
wait_screen "PID +USER +COMMAND"
row 5 | grep -Eq "^ *$SERVER_PID " || fail "after Esc the leaker moved: $(row 5)"

# A sort key changes the order: I inverts FDS, so the leaker leaves the top.
$TM send-keys -t lt I
wait_screen "FDS\^"
row 5 | grep -Eq "^ *$SERVER_PID " && fail "I did not change the order"
$TM send-keys -t lt I
wait_screen "^ *$SERVER_PID +root +leakysrv"
row 5 | grep -Eq "^ *$SERVER_PID " || fail "I twice did not restore the order"
# < goes to the previous column, COMMAND (names ascending): the escaped name sorts first.
$TM send-keys -t lt '<'
wait_screen "sorted by COMMAND"
row 5 | grep -q '31mevil' || { screen >&2; fail "sorting by COMMAND did not put the escaped name first"; }
echo "ok: I and < change the order"

# A mouse click (xterm X10 encoding, as the terminal sends it) on the PID header
# sorts by PID: Home then shows pid 1, this namespace's first process.
ch() { printf "\\$(printf %03o "$1")"; }
click() { # click X Y (0-based)
	$TM send-keys -t lt -l "$(printf '\033[M ')$(ch $((33 + $1)))$(ch $((33 + $2)))"
	$TM send-keys -t lt -l "$(printf '\033[M#')$(ch $((33 + $1)))$(ch $((33 + $2)))"
}
click 4 3
$TM send-keys -t lt Home
wait_until 30 sh -c "$TM capture-pane -p -t lt | sed -n 5p | grep -Eq '^ +1 '" ||
	{ screen >&2; fail "a click on the PID header did not sort by PID"; }
echo "ok: clicking a column header sorts by it"

# Help lists the keys; it stays up (scrolling) until q, Esc or F1 closes it.
$TM send-keys -t lt h
wait_screen "help: Up/Down/PgUp/PgDn scroll"
has "F10 q +quit" || fail "help lacks the quit key"
$TM send-keys -t lt x Escape
wait_screen "TCP [0-9]+:"
echo "ok: help opens and closes"

$TM send-keys -t lt q
finished 0 "q"

# --- 80x24: the first frame comes from the dump alone ------------------------------
# The first scan held back 3 s: meanwhile the socket counts, the port's CLOSE_WAIT
# pile and its Recv-Q are on screen, marked "owners: reading"; then the owners come.
start 80 24 TERM=screen LANG=C LEAKTOP_TEST_SCAN_DELAY_MS=3000
wait_screen "owners: reading"
has "CLOSE_WAIT $N" || { screen >&2; fail "the first frame lacks the $N CLOSE_WAIT sockets"; }
has "^ *$PORT +- +$((N + 1)) +$N " || { screen >&2; fail "the first frame's ports pane lacks port $PORT"; }
has "^ +- +$PORT +$N +$((N * 101)) " || { screen >&2; fail "the first frame's backlog lacks port $PORT"; }
has "leakysrv" && fail "the first frame already shows owners"
echo "ok: the first frame shows the dump's counts, ports and backlog, owners: reading"
wait_screen "^ *$SERVER_PID +root +leakysrv +[0-9]+ "
has "owners: reading" && { screen >&2; fail "owners: reading stayed after the owners came"; }
has "^ *$PORT +$SERVER_PID +$((N + 1)) +$N " || { screen >&2; fail "the owners did not reach the ports pane"; }
echo "ok: then the owners fill in"
$TM send-keys -t lt q
finished 0 "q after the first frame"

# --- 80x24: the first refresh takes the first frame's dump ---------------------------
# With a refresh a minute, the first screen with owners is the first refresh's: its
# sockets come from the first frame's dump (made before the scan, not again after
# it), and its TCP total is still what ss counts.
sockets=$(ss -tanH | wc -l)
LT_DELAY=60 start 80 24 TERM=screen LANG=C LEAKTOP_TEST_SCAN_DELAY_MS=2000
wait_screen "owners: reading"
wait_screen "^ *$SERVER_PID +root +leakysrv +[0-9]+ "
assert_eq "ss's TCP total, before and after" "$sockets" "$(ss -tanH | wc -l)"
assert_eq "the first refresh's TCP total" "$sockets" "$(screen | sed -n 's/^TCP \([0-9]*\):.*/\1/p')"
has "^ *$PORT +$SERVER_PID +$((N + 1)) +$N " || { screen >&2; fail "the first refresh's ports pane lacks port $PORT"; }
echo "ok: the first refresh, from the first frame's dump, counts what ss counts ($sockets)"
$TM send-keys -t lt q
finished 0 "q after the first refresh"

# --- 60x15: one pane at a time -------------------------------------------------
start 60 15 TERM=screen LANG=C
wait_screen "^ *$SERVER_PID +root +leakysrv"
row 5 | grep -Eq "^ *$SERVER_PID " || { screen >&2; fail "60x15: the leaker is not the first row"; }
has "^ *PORT " && fail "60x15 should show one pane at a time"
$TM send-keys -t lt 2
wait_screen "^ *$PORT +([0-9+]+ +)?$((N + 1)) +$N "
$TM send-keys -t lt Enter
wait_screen "^$((N + 1)) sockets with local port $PORT"
echo "ok: 60x15 shows one pane at a time, 2 switches to ports, Enter drills down"
$TM resize-window -t lt -x 40 -y 10 2>/dev/null || true
$TM send-keys -t lt Escape 1
# Redrawn at 40x10: the processes pane, narrowed to PID COMMAND FDS (and, with more
# rows than fit, "+N more" after COMMAND).
wait_screen "^ +PID COMMAND( +\+[0-9]+( more)?)? +FDS"
kill -0 "$LT_PID" || fail "leaktop died on a resize to 40x10"
$TM send-keys -t lt q
finished 0 "q at 60x15"

# --- Signals restore the terminal ------------------------------------------------
for sig in TERM HUP INT; do
	start 80 24 TERM=screen
	kill -s "$sig" "$LT_PID"
	finished "$([ $sig = INT ] && echo 130 || echo 0)" "SIG$sig"
done

# --- -n N: N refreshes, then out, like top -----------------------------------------
new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s lt -x 80 -y 24 env TERM=screen "$RUN" "$OUT" "$LEAKTOP" --delay 0.2 -n 3
finished 0 "-n 3"

# --- -d 0: a floor of 0.5 s (it refreshed every 0.1 s, a core busy on a big box) ---
new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s lt -x 80 -y 24 env TERM=screen "$RUN" "$OUT" "$LEAKTOP" -d 0
wait_screen "every 0\.5s"
$TM send-keys -t lt q
finished 0 "-d 0"

# --- NO_COLOR: not one colour escape ---------------------------------------------
start 80 24 TERM=xterm-256color NO_COLOR=1
wait_screen "leakysrv"
$TM send-keys -t lt 2
wait_screen "W=CLOSE_WAIT"
$TM capture-pane -p -e -t lt > "$TMP/nocolor"
grep -q "$(printf '\033')\[" "$TMP/nocolor" || fail "capture-pane -e shows no attributes at all (the test is blind)"
# tmux itself writes 39 and 49 (default colours) after every reset; any other
# foreground or background code means leaktop sent a colour.
if grep -Eq "$(printf '\033')\[([0-9;]*;)?(3[0-8]|4[0-8]|9[0-7]|10[0-7])(;|m)" "$TMP/nocolor"; then
	fail "NO_COLOR=1 and yet colour escapes: $(grep -o "$(printf '\033')\[[0-9;]*m" "$TMP/nocolor" | sort -u | tr '\n' ' ')"
fi
grep -q 'W=CLOSE_WAIT' "$TMP/nocolor" || fail "without colour the ports pane lacks its letter legend"
echo "ok: NO_COLOR=1 draws no colour, and a letter legend"
$TM send-keys -t lt q
finished 0 "q with NO_COLOR"

# --- TERM dumb, unknown or unset: a clear message, not a curses error ---------------
for term in TERM=dumb TERM=no-such-terminal -u; do
	new_tmux
	OUT=$(mktemp -d "$TMP/run.XXXXXX")
	if [ "$term" = -u ]; then
		$TM new-session -d -s lt -x 80 -y 24 env -u TERM "$RUN" "$OUT" "$LEAKTOP"
	else
		$TM new-session -d -s lt -x 80 -y 24 env "$term" "$RUN" "$OUT" "$LEAKTOP"
	fi
	wait_until 30 test -s "$OUT/rc" || fail "$term: leaktop did not exit"
	assert_eq "$term: exit status" 2 "$(cat "$OUT/rc")"
	has "use 'leaktop --batch'" || { screen >&2; fail "$term: no pointer to --batch"; }
	has -i "curses|terminfo error|Error opening" && fail "$term: a curses error instead of a message"
done

# --- Closing the pane ends leaktop (and it does not spin) ------------------------------
start 80 24 TERM=screen
$TM kill-pane -t lt
wait_until 30 sh -c "! kill -0 $LT_PID 2>/dev/null" || fail "leaktop outlived its pane"
echo "ok: closing the pane ends leaktop"

[ "$EVIL_SHOWN" = yes ] || fail "a process named ESC[31mevil shows as '$EVIL_SHOWN', not as \\x1b[31mevil"
echo "ok: a name with an escape sequence shows as \\x1b[31mevil"
echo "PASS"
