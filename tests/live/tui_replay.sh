#!/bin/sh
# The dashboard's history and recording, driven through tmux at 80x24 against a real
# leak on loopback: a server leaking a connection every 100 ms shows FD/MIN, VERDICT
# `leak`; `leaktop -w FILE` then q leaves a replayable recording; `leaktop -r FILE`
# shows REPLAY, and [ ] g step through the recorded refreshes; q exits 0.
#
# It runs in its own network and pid namespaces, so the only processes and sockets
# on screen are the test's own.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need tmux jq ss
tui_setup replay

screen() { $TM capture-pane -p -t lt; }
has() { screen | grep -Eq -- "$1"; }
wait_screen() { wait_until "${2:-30}" has "$1" || { screen >&2; fail "screen never showed: $1"; }; }
# start CMD...: leaktop in a fresh 80x24 pane; results land in $OUT.
start() {
	new_tmux
	OUT=$(mktemp -d "$TMP/run.XXXXXX")
	$TM new-session -d -s lt -x 80 -y 24 env TERM=screen LANG=C.UTF-8 "$RUN" "$OUT" "$LEAKTOP" --no-config "$@"
	wait_until 30 test -s "$OUT/pid" || fail "leaktop did not start"
	LT_PID=$(cat "$OUT/pid")
}
finished() { # finished EXPECTED_RC WHAT
	wait_until 30 test -s "$OUT/rc" || { screen >&2; fail "$2: leaktop did not exit"; }
	assert_eq "$2: exit status" "$1" "$(cat "$OUT/rc")"
}

# --- The live dashboard judges a leak, and records it ---------------------------
start_server --name leakysrv
# A minute of leaking, however long a busy machine takes to show the verdict.
bg "$LEAKY" client --port "$PORT" --every 100 --count 600 --bytes 100
CLIENT_PID=$BG
REC="$TMP/tui.db"
start -d 0.5 -w "$REC"
wait_screen "^ *$SERVER_PID +root +leakysrv"
screen | sed -n 4p | grep -Eq "FD/MIN.*VERDICT" || { screen >&2; fail "no FD/MIN and VERDICT columns at 80x24"; }
# A few seconds of growth: the verdict is leak and the growth positive.
wait_screen "^ *$SERVER_PID +root +leakysrv +[0-9]+ .* \+[0-9.]+ .* leak *$" 60
echo "ok: the leaking server shows FD/MIN growth and VERDICT leak"
# The reason for the selected row, the first after Home, is in the footer.
$TM send-keys -t lt Home
wait_screen "^leak pid $SERVER_PID leakysrv: CLOSE_WAIT" # the verdict first
echo "ok: the footer gives the selected process's verdict reason"
$TM send-keys -t lt q
finished 0 "q while recording"
assert_eq "file mode of the recording" "600" "$(stat -c %a "$REC")"
"$LEAKTOP" -r "$REC" -b -o json > "$TMP/tui.json" || fail "the TUI's recording does not replay"
n=$(wc -l < "$TMP/tui.json")
[ "$n" -ge 3 ] || fail "the TUI recorded only $n refreshes"
assert_eq "the recording has the leaker" leakysrv \
	"$(tail -1 "$TMP/tui.json" | jq -r ".processes[] | select(.pid == $SERVER_PID) | .comm")"
echo "ok: leaktop -w FILE in the dashboard, then q, leaves $n replayable refreshes"
# SIGTERM and SIGHUP while recording: the refresh under way is finished, the file closed.
for sig in TERM HUP; do
	REC3="$TMP/sig$sig.db"
	start -d 0.2 -w "$REC3"
	wait_screen "^ *$SERVER_PID +root +leakysrv"
	kill -s "$sig" "$LT_PID"
	finished 0 "SIG$sig while recording"
	n=$("$LEAKTOP" -r "$REC3" -b -o json | wc -l) || fail "SIG$sig: the recording does not replay"
	[ "$n" -ge 1 ] || fail "SIG$sig: nothing recorded"
	echo "ok: SIG$sig while recording leaves $n replayable refreshes"
done
kill "$CLIENT_PID" "$SERVER_PID" 2>/dev/null || true

# --- Replay: a batch recording of a growing leak, stepped through ------------------
start_server --name growsrv
bg "$LEAKY" client --port "$PORT" --every 150 --count 200 --bytes 100
# The leak under way before the first recorded refresh, so that it has a count to show.
wait_until 30 ss_ge 1 state close-wait "sport = :$PORT" || fail "the second client never got going"
REC2="$TMP/batch.db"
# A low CLOSE_WAIT threshold: the alert it raises is recorded, and the replay shows it.
"$LEAKTOP" -b -n 6 -d 0.3 -w "$REC2" -o json --close-wait-alert=3 > "$TMP/batch.json" ||
	fail "recording in batch mode failed"
ALERT_TICK=$(rec_sql "$REC2" "SELECT min(tick) FROM event WHERE kind = 'alert'")
[ -n "$ALERT_TICK" ] || fail "the batch recording holds no alert event"
cw() { sed -n "${1}p" "$TMP/batch.json" | jq ".ports[] | select(.port == $PORT and .side == \"local\") | .states.CLOSE_WAIT"; }
hms() { date -d "@$(sed -n "${1}p" "$TMP/batch.json" | jq .time)" +%H:%M:%S; }
[ "$(cw 6)" -gt "$(cw 1)" ] || fail "the leak did not grow while recording ($(cw 1) -> $(cw 6))"

# Two seconds after the last recorded refresh, so that a message stamped with today's
# clock cannot pass for one stamped with the recorded time.
LAST=$(sed -n 6p "$TMP/batch.json" | jq '.time | floor')
later() { [ "$(date +%s)" -ge $((LAST + 2)) ]; }
wait_until 30 later
start -r "$REC2"
wait_screen "REPLAY 1/6"
# The first refresh: its time and its CLOSE_WAIT count on the port.
ports_row() { screen | grep -E "^ *$PORT +$SERVER_PID " | head -1; }
wait_screen "$(hms 1) +REPLAY"
ports_row | grep -Eq "^ *$PORT +$SERVER_PID +[0-9]+ +$(cw 1) " || { screen >&2; fail "refresh 1 lacks $(cw 1) CLOSE_WAIT"; }
$TM send-keys -t lt ']' ']'
wait_screen "REPLAY 3/6"
wait_screen "$(hms 3) +REPLAY"
ports_row | grep -Eq "^ *$PORT +$SERVER_PID +[0-9]+ +$(cw 3) " || { screen >&2; fail "refresh 3 lacks $(cw 3) CLOSE_WAIT"; }
$TM send-keys -t lt '['
wait_screen "REPLAY 2/6"
ports_row | grep -Eq "^ *$PORT +$SERVER_PID +[0-9]+ +$(cw 2) " || { screen >&2; fail "refresh 2 lacks $(cw 2) CLOSE_WAIT"; }
echo "ok: ] and [ step through the recording: time and CLOSE_WAIT $(cw 1) -> $(cw 3) -> $(cw 2)"
# Stepping onto the refresh an alert was recorded with shows it, and m keeps it.
$TM send-keys -t lt '['
wait_screen "REPLAY 1/6"
i=1
while [ "$i" -lt "$ALERT_TICK" ]; do
	$TM send-keys -t lt ']'
	i=$((i + 1))
	wait_screen "REPLAY $i/6"
done
wait_screen "recorded alert .*close_wait"
$TM send-keys -t lt m
wait_screen "recorded alert [0-9:]+ pid $SERVER_PID: warning close_wait"
# Stamped with the time of the refresh it was recorded with, and every message in the
# view with a recorded refresh's time: not today's clock.
screen | grep -Eq "^$(hms "$ALERT_TICK") recorded alert" || { screen >&2; fail "the recorded alert is not stamped $(hms "$ALERT_TICK")"; }
for t in $(screen | grep -Eo '^[0-9]{2}:[0-9]{2}:[0-9]{2} ' | sort -u); do
	recorded=no
	for i in 1 2 3 4 5 6; do
		[ "$t" = "$(hms $i)" ] && recorded=yes
	done
	[ $recorded = yes ] || { screen >&2; fail "a message stamped $t, no recorded refresh's time"; }
done
$TM send-keys -t lt Escape
echo "ok: the alert recorded with refresh $ALERT_TICK shows when the replay reaches it, and in m, stamped $(hms "$ALERT_TICK")"
# g jumps to a time: the last refresh's.
$TM send-keys -t lt g
wait_screen "Go to \(HH:MM:SS\)"
$TM send-keys -t lt "$(hms 6)" Enter
wait_screen "REPLAY 6/6"
ports_row | grep -Eq "^ *$PORT +$SERVER_PID +[0-9]+ +$(cw 6) " || { screen >&2; fail "refresh 6 lacks $(cw 6) CLOSE_WAIT"; }
echo "ok: g $(hms 6) jumps to the last refresh"
# Drill-down works on the recorded sockets.
$TM send-keys -t lt 2 Enter
wait_screen "^[0-9]+ sockets with local port $PORT"
echo "ok: Enter lists the recorded sockets of the port"
$TM send-keys -t lt q
finished 0 "q in a replay"
echo "PASS"
