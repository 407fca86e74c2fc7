#!/bin/sh
# --alert-cmd: a leaking server crosses a low CLOSE_WAIT threshold; the program runs
# exactly once for it (not once per refresh), with the details in its environment,
# and the JSON output carries the same transition in its "alerts" array. A recording
# keeps the transitions as alert events (the report lists them); a replay of it never
# runs the program. The dashboard runs it too, and its output never reaches the screen.
# In network and pid namespaces of its own.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need ss jq sqlite3 curl

start_server --name leakysrv
bg "$LEAKY" client --port "$PORT" --every 100 --count 150

cat > "$TMP/hook" <<'HOOK'
#!/bin/sh
echo "$LEAKTOP_ALERT|$LEAKTOP_LEVEL|$LEAKTOP_PID|$LEAKTOP_COMM|$LEAKTOP_PORT|$LEAKTOP_THRESHOLD|$LEAKTOP_MESSAGE" >> "$HOOK_OUT"
echo "hook output must not reach leaktop's stdout"
sed -n 's/^SigIgn:\t//p' /proc/$$/status >> "$HOOK_OUT.sigign"
HOOK
chmod 700 "$TMP/hook"
export HOOK_OUT="$TMP/hook.out"
: > "$HOOK_OUT"

# The threshold is crossed while leaktop watches: the client is still connecting.
"$LEAKTOP" --batch --no-config -o json -n 10 -d 0.5 --close-wait-alert=5 --alert-cmd="$TMP/hook" \
	> "$TMP/out.json"
[ "$(ss -tanH state close-wait "sport = :$PORT" | wc -l)" -gt 5 ] || fail "the leak never crossed 5 CLOSE_WAIT"

grep "^close_wait|" "$HOOK_OUT" | grep "|$SERVER_PID|" > "$TMP/proc.alerts" || true
assert_eq "alert program runs for the server's CLOSE_WAIT" 1 "$(wc -l < "$TMP/proc.alerts")"
IFS='|' read -r kind level pid comm aport threshold message < "$TMP/proc.alerts"
assert_eq "LEAKTOP_LEVEL" warning "$level"
assert_eq "LEAKTOP_COMM" leakysrv "$comm"
assert_eq "LEAKTOP_THRESHOLD" 5 "$threshold"
case $message in "pid $SERVER_PID (leakysrv) holds "*" CLOSE_WAIT sockets (more than 5)") ;;
*) fail "LEAKTOP_MESSAGE: $message" ;; esac
assert_eq "alert program runs for port $PORT" 1 "$(grep -c "^port_close_wait|warning|||$PORT|5|" "$HOOK_OUT" || true)"

# Every line is JSON (the hook's own output went to stderr), and the transition is
# in exactly one refresh's alerts.
jq -e . "$TMP/out.json" > /dev/null || fail "batch output is not clean JSON"
assert_eq "alerts in the JSON output" 1 \
	"$(jq -c ".alerts[] | select(.alert == \"close_wait\" and .pid == $SERVER_PID)" "$TMP/out.json" | wc -l)"

# --- recorded alerts, and a replay that never runs the program ------------------
# The leak is over the threshold from the first refresh: the alert fires once, goes
# into the recording as an event, and the handover report lists it.
"$LEAKTOP" --batch --no-config -n 3 -d 0.2 --close-wait-alert=5 --pid "$SERVER_PID" \
	-w "$TMP/alerts.db" > /dev/null 2> "$TMP/rec.err"
assert_eq "alert events recorded for the server" 1 "$(rec_sql "$TMP/alerts.db" \
	"SELECT count(*) FROM event WHERE kind = 'alert' AND pid = $SERVER_PID AND what LIKE 'warning close_wait: %'")"
"$LEAKTOP" -r "$TMP/alerts.db" --report > "$TMP/report.md"
# Markdown: the underscore is escaped.
grep -qF "| alert | $SERVER_PID | warning close\_wait: pid $SERVER_PID (leakysrv) holds" "$TMP/report.md" ||
	{ cat "$TMP/report.md" >&2; fail "the report does not list the recorded alert"; }
grep -q "No alert was raised" "$TMP/report.md" && fail "the report says no alert was raised"

cat > "$TMP/marker-hook" <<HOOK
#!/bin/sh
touch "$TMP/marker"
HOOK
chmod 700 "$TMP/marker-hook"
"$LEAKTOP" -r "$TMP/alerts.db" -b --no-config --close-wait-alert=5 --alert-cmd="$TMP/marker-hook" \
	> /dev/null 2> "$TMP/replay.err"
grep -q "leaktop: alert warning close_wait: pid $SERVER_PID" "$TMP/replay.err" ||
	{ cat "$TMP/replay.err" >&2; fail "the replay raised no alert to test with"; }
[ ! -e "$TMP/marker" ] || fail "a replay ran the alert program"
grep -q "leaktop: recorded alert [0-9:]* pid $SERVER_PID: warning close_wait" "$TMP/replay.err" ||
	{ cat "$TMP/replay.err" >&2; fail "the replay did not show the recorded alert"; }
echo "ok: a replay shows the alerts recorded live"
echo "ok: a replay never runs the alert program"

# --- a program that never ends ---------------------------------------------------
# It runs like the restart command (its own session, no terminal, fds 0-2 only,
# signals at their defaults: it inherited the sock_diag socket and a pipe, SIGPIPE
# ignored, leaktop's session), and leaktop never waits for it: SIGTERM ends batch mode
# and --listen at once (batch waited until the program ended, --listen 39 s).
cat > "$TMP/stuck" <<'STUCK'
#!/bin/sh
echo $$ > "$STUCK_PID.tmp" && mv "$STUCK_PID.tmp" "$STUCK_PID"
exec sleep 600
STUCK
chmod 700 "$TMP/stuck"
export STUCK_PID="$TMP/stuck.pid"
# isolated PID LEAKTOP_PID: the stuck program (now sleep) is alone in its session,
# has no terminal, only fds 0-2, no signal ignored or blocked.
stuck_is_sleep() { [ -s "$STUCK_PID" ] && [ "$(cat "/proc/$(cat "$STUCK_PID")/comm" 2>/dev/null)" = sleep ]; }
isolated() {
	local pid=$1 stat fds
	stat=$(sed 's/.*) //' "/proc/$pid/stat")
	# fields after comm: state ppid pgrp session tty_nr
	set -- $stat
	assert_eq "the alert program's process group" "$pid" "$3"
	assert_eq "the alert program's session" "$pid" "$4"
	assert_eq "the alert program's terminal (tty_nr)" 0 "$5"
	fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
	assert_eq "the alert program's open fds" "0 1 2 " "$fds"
	assert_eq "signals the alert program ignores" 0000000000000000 "$(sed -n 's/^SigIgn:\t//p' "/proc/$pid/status")"
	assert_eq "signals the alert program blocks" 0000000000000000 "$(sed -n 's/^SigBlk:\t//p' "/proc/$pid/status")"
}
running() { kill -0 "$1" 2>/dev/null && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
stopped() { ! running "$1"; }

rm -f "$STUCK_PID"
bg "$LEAKTOP" --batch --no-config -n 0 -d 0.5 --close-wait-alert=5 --alert-cmd="$TMP/stuck" --pid "$SERVER_PID" \
	> /dev/null 2> "$TMP/stuck.err"
LT=$BG
wait_until 30 stuck_is_sleep || fail "batch mode never ran the stuck alert program"
isolated "$(cat "$STUCK_PID")"
kill -TERM "$LT"
# Generous for a loaded machine; the stuck program would hold it 600 s.
wait_until 10 stopped "$LT" || fail "batch mode did not stop on SIGTERM while its alert program runs"
echo "ok: SIGTERM ends batch mode while its alert program is stuck"
running "$(cat "$STUCK_PID")" || fail "the alert program did not outlive leaktop (its limit is 10 s, not leaktop's exit)"
# ... and without leaktop it is still killed at the time limit (10 s).
wait_until 40 stopped "$(cat "$STUCK_PID")" || fail "the stuck alert program was not killed at its time limit"
echo "ok: the stuck alert program is killed at its time limit, leaktop gone"

rm -f "$STUCK_PID"
bg "$LEAKTOP" --listen 127.0.0.1:0 --no-config -d 0 --close-wait-alert=5 --alert-cmd="$TMP/stuck" \
	--pid "$SERVER_PID" > "$TMP/listen.out" 2> "$TMP/listen.err"
LT=$BG
wait_until 30 grep -q serving "$TMP/listen.out" || fail "--listen did not start"
URL=$(sed -n 's/^leaktop: serving //p' "$TMP/listen.out")
scrape() { curl -sf -m 20 "$URL" > /dev/null; }
scrape || fail "the first scrape failed"
wait_until 30 stuck_is_sleep || fail "--listen never ran the stuck alert program"
isolated "$(cat "$STUCK_PID")"
scrape || fail "a scrape failed while the alert program is stuck"
kill -TERM "$LT"
wait_until 10 stopped "$LT" || fail "--listen did not stop on SIGTERM while its alert program runs"
echo "ok: SIGTERM ends --listen while its alert program is stuck"

# --- the dashboard ---------------------------------------------------------------
need tmux
tui_setup alertcmd
start_server --name tuileak
bg "$LEAKY" client --port "$PORT" --every 100 --count 150
: > "$HOOK_OUT"
new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
# Recorded, so that the test can count the dashboard's refreshes.
REC="$TMP/tui.db"
$TM new-session -d -s lt -x 80 -y 24 env TERM=screen HOOK_OUT="$HOOK_OUT" "$RUN" "$OUT" "$LEAKTOP" \
	--no-config -d 0.5 --close-wait-alert=5 --alert-cmd="$TMP/hook" --pid "$SERVER_PID" -w "$REC"
hook_ran() { grep -q "^close_wait|warning|$SERVER_PID|tuileak|" "$HOOK_OUT"; }
wait_until 60 hook_ran || { $TM capture-pane -p -t lt >&2; fail "the dashboard never ran the alert program"; }
refreshes() { rec_refreshes "$REC"; }
refreshes_at_least() { [ "$(refreshes)" -ge "$1" ]; }
# Four more refreshes, with the leak still over the threshold.
wait_until 60 refreshes_at_least $(($(refreshes) + 4)) || fail "the dashboard stopped refreshing"
assert_eq "alert program runs, from the dashboard, for the server's CLOSE_WAIT" 1 \
	"$(grep -c "^close_wait|warning|$SERVER_PID|tuileak|" "$HOOK_OUT")"
$TM capture-pane -p -t lt > "$TMP/screen"
grep -Eq "ALERT warning( \(\+[0-9]+ more, m\))?: pid $SERVER_PID \(tuileak\) holds" "$TMP/screen" ||
	{ cat "$TMP/screen" >&2; fail "the alert line is not on the screen"; }
grep -q "hook output" "$TMP/screen" && { cat "$TMP/screen" >&2; fail "the alert program's output reached the screen"; }
# The dashboard ignores SIGTTIN and SIGTTOU: its alert program did too.
assert_eq "signals ignored by the alert programs (batch, --listen, dashboard)" 0000000000000000 \
	"$(sort -u "$HOOK_OUT.sigign" | tr '\n' ' ' | sed 's/ $//')"
$TM send-keys -t lt q
wait_until 30 test -s "$OUT/rc" || fail "the dashboard did not quit"
assert_eq "dashboard exit status" 0 "$(cat "$OUT/rc")"
echo "PASS"
