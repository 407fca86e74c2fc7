#!/bin/sh
# The first 80x24 screen shows the culprits, in colour and without (NO_COLOR), at the
# default options: a process growing its RSS 2 MB/s with a handful of fds is on the
# processes pane among a dozen with more fds within 20 refreshes; a client's pile of
# CLOSE_WAIT to one server (->PORT, fewer sockets than the busy ports) is the top row
# of the Ports pane, whose STATES column names the state ("CLOSE_WAIT 100%") and
# VERDICT its verdict; the Ports pane, unfocused, shows its top rows (not where it was
# scrolled) and says how many more there are; a sort the user picks still wins. Then
# the message view with 38 alerts at once, over 12 refreshes: each alert once, whole.
# In network and pid namespaces of its own.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need tmux ss sqlite3
tui_setup culprits

# A dozen healthy processes holding 40 connections each to one server (more fds than
# the memory leak has), three small servers with a few clients (more port rows than
# the unfocused pane shows), a pool of 30 connections its server hung up on (CLOSE_WAIT
# with the server's "bye" unread), and a native memory leak of 2 MB/s.
start_server --name srv
BIG=$PORT
for i in $(seq 12); do
	bg "$LEAKY" client --port "$BIG" --count 40 --hold --name "web$i"
done
for i in 1 2 3 4 5; do
	start_server --name "s$i"
	bg "$LEAKY" client --port "$PORT" --count "$((i + 1))" --hold --name "c$i"
done
start_server --hangup --name cwsrv
CW=$PORT
bg "$LEAKY" client --port "$CW" --count 30 --hold --name pool
POOL_PID=$BG
wait_ss 480 state established "dport = :$BIG"
wait_ss 30 state close-wait "dport = :$CW"
bg "$LEAKY" mem --rate 1 --every 500 --count 400 --name memgrow
MEM_PID=$BG

# Two dashboards at the defaults, one in colour and one without.
new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
OUT_MONO=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s lt -x 80 -y 24 env TERM=xterm-256color LANG=C.UTF-8 \
	"$RUN" "$OUT" "$LEAKTOP" --no-config -w "$TMP/colour.db"
$TM new-session -d -s mono -x 80 -y 24 env TERM=xterm-256color LANG=C.UTF-8 NO_COLOR=1 \
	"$RUN" "$OUT_MONO" "$LEAKTOP" --no-config
wait_until 30 test -s "$OUT/pid" || fail "leaktop did not start"
wait_until 30 test -s "$OUT_MONO/pid" || fail "leaktop (NO_COLOR) did not start"
screen() { $TM capture-pane -p -t "${S:-lt}"; }
key() { $TM send-keys -t "${S:-lt}" "$@"; }
refreshes() { rec_refreshes "$1"; }

# --- The memory leak is on the first screen ------------------------------------------
# Its fds rank it below the dozen: the only way onto the screen is its verdict.
FDS_ABOVE=$(for p in /proc/[0-9]*; do ls "$p/fd" 2>/dev/null | wc -l; done | sort -n | awk -v m="$(ls /proc/$MEM_PID/fd | wc -l)" '$1 > m' | wc -l)
[ "$FDS_ABOVE" -ge 12 ] || fail "only $FDS_ABOVE processes have more fds than the memory leak"
mem_row() { screen | grep -Eq "^ *$MEM_PID +root +memgrow .* (leak|suspect) *$"; }
# Within 20 refreshes, counted in the recording (a busy box makes them late, not fewer).
mem_or_late() { mem_row || [ "$(refreshes "$TMP/colour.db")" -ge 21 ]; }
wait_until 180 mem_or_late || { screen >&2; fail "the dashboard stopped refreshing"; }
mem_row || { screen >&2; fail "the memory leak was not on the first 80x24 screen within 20 refreshes"; }
echo "ok: the memory leak on the first screen: $(screen | grep -E "^ *$MEM_PID ")"
S=mono mem_row || { S=mono screen >&2; fail "NO_COLOR: the memory leak is not on the first screen"; }
echo "ok: and without colour"

# --- The Ports pane: the pile first, its state and verdict in words -----------------
# pane ROW: the ROWth line of the Ports pane (1: its header), whichever line it is on.
pane() { screen | awk -v n="$1" '/^ +PORT +PID +SOCKS/ { on = 1 } on && ++i == n { print; exit }'; }
pile_first() {
	pane 2 | grep -Eq "^ *[-0-9>]+ +.* (leak|suspect) +[A-Z_]+ [0-9]+%" &&
		screen | grep -Eq "^ *->$CW +$POOL_PID +30 +30 .* (leak|suspect) +CLOSE_WAIT 100%"
}
for S in lt mono; do
	wait_until 120 pile_first || { screen >&2; fail "$S: the CLOSE_WAIT pile ->$CW is not the Ports pane's first row"; }
	echo "ok ($S): the Ports pane leads with the pile: $(screen | grep -E "^ *->$CW ")"
done
S=lt

# --- An unfocused pane shows its top rows, and how many more there are ---------------
# Focused, End scrolls the Ports pane to its last row, the pile out of sight; back on
# the processes pane, the Ports pane shows its top rows again (it used to stay
# scrolled, the pile out of view and nothing said).
key 2 End
pile_hidden() { ! screen | grep -Eq -- "^ *->$CW +$POOL_PID "; }
wait_until 30 pile_hidden || { screen >&2; fail "End did not scroll the Ports pane"; }
key 1
more() { pane 1 | grep -Eq "\+[0-9]+ more *$"; }
wait_until 30 more || { screen >&2; fail "the unfocused Ports pane does not say there are more rows"; }
wait_until 30 pile_first || { screen >&2; fail "the unfocused Ports pane kept its scroll position"; }
echo "ok: the unfocused Ports pane shows its top rows: $(pane 1 | sed 's/  */ /g')"

# --- A sort the user picks wins over the culprits -------------------------------------
key '<' Home # from FDS to COMMAND: by name, from its first row
first_proc() { screen | awk '/^ +PID +USER +COMMAND/ { getline; print $3; exit }'; }
first_is_c1() { [ "$(first_proc)" = c1 ]; }
wait_until 30 first_is_c1 || { screen >&2; fail "sorted by COMMAND, the first row is $(first_proc), not c1"; }
echo "ok: sorted by COMMAND, c1 leads, not the culprits"
key q
wait_until 30 test -s "$OUT/rc" || fail "leaktop did not exit"
S=mono key q
wait_until 30 test -s "$OUT_MONO/rc" || fail "leaktop (NO_COLOR) did not exit"

# --- 38 alerts at once, 12 refreshes: each said once, whole -----------------------------
PIDS=""
for i in $(seq 36); do
	bg "$LEAKY" client --port "$CW" --count 11 --hold --name "cl$i"
	PIDS="$PIDS $BG"
done
wait_ss $((30 + 36 * 11)) state close-wait "dport = :$CW"
OUT=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s flood -x 80 -y 24 env TERM=xterm-256color LANG=C.UTF-8 \
	"$RUN" "$OUT" "$LEAKTOP" --no-config -d 0.5 --close-wait-alert 10 -w "$TMP/flood.db"
S=flood
wait_until 30 test -s "$OUT/pid" || fail "leaktop did not start"
# The backlog pane: no selected row's reason is noted, the alerts alone are.
key 3
# The 36 clients, the pool and its port: 38 alerts (the message view used to keep 32
# of them in mind, and said them all again at every refresh).
all_alerts() { screen | grep -Eq '^ALERT [a-z]+ \(\+(3[7-9]|[4-9][0-9]) more'; }
wait_until 60 all_alerts || { screen >&2; fail "38 alerts never fired"; }
r0=$(refreshes "$TMP/flood.db")
twelve_more() { [ "$(refreshes "$TMP/flood.db")" -ge $((r0 + 12)) ]; }
wait_until 120 twelve_more || fail "12 more refreshes never came"
key m
title() { screen | grep " Messages ("; }
wait_until 30 title >/dev/null || { screen >&2; fail "no message view"; }
key Home
at_top() { title | grep -q "lines 1-"; }
wait_until 30 at_top || { screen >&2; fail "Home did not go to the first message"; }
# Page by page (the title says which lines show), while the refreshes go on.
: > "$TMP/messages.txt"
seen=0
for page in $(seq 50); do
	# The last page may overlap the one before: only lines not seen yet.
	first=$(title | sed -E 's/.*lines ([0-9]+)-.*/\1/')
	screen | sed -n '/ Messages (/,$p' | sed '1d;$d' | tail -n "+$((seen >= first ? seen - first + 2 : 1))" >> "$TMP/messages.txt"
	seen=$(title | sed -E 's/.*lines [0-9]+-([0-9]+) .*/\1/')
	title | grep -Eq "lines [0-9]+-([0-9]+) of \1 *$" && break
	was=$(title)
	key NPage
	moved() { [ "$(title)" != "$was" ]; }
	wait_until 30 moved || { screen >&2; fail "PgDn did not move the message view"; }
done
# Continuation lines (indented) joined to the line they continue.
awk '/^    / { sub(/^ +/, " "); line = line $0; next } { if (line != "") print line; line = $0 } END { print line }' \
	"$TMP/messages.txt" > "$TMP/joined.txt"
for p in $PIDS $POOL_PID; do
	n=$(grep -c "ALERT warning close_wait: pid $p (" "$TMP/joined.txt" || true)
	[ "$n" = 1 ] || { cat "$TMP/joined.txt" >&2; fail "the alert of pid $p is in the message view $n times"; }
done
grep -Eq "pid $POOL_PID \(pool\) holds 30 CLOSE_WAIT sockets \(more than 10\)" "$TMP/joined.txt" ||
	{ cat "$TMP/joined.txt" >&2; fail "the pool's alert is not whole in the message view"; }
echo "ok: 38 alerts over 12 refreshes: each once in the message view, whole ($(wc -l < "$TMP/joined.txt") entries)"
key Escape q
wait_until 30 test -s "$OUT/rc" || fail "leaktop did not exit"
assert_eq "exit status" 0 "$(cat "$OUT/rc")"
echo "PASS"
