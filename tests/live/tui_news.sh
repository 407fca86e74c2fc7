#!/bin/sh
# Said once: the dashboard's message view (m) has each alert as it fired and each
# verdict change, once, however many refreshes the alert stays active and the verdict
# holds (it logged every active alert again on every frame, its count changing).
. "${srcdir:-.}/tests/live/lib.sh"
need_root
need unshare ip
own_netns --pid "$@"
need tmux sqlite3
tui_setup news

# A server leaking CLOSE_WAIT, steadily, for a minute: the close_wait alert fires at 20
# and its count goes on changing.
start_server --name newssrv
bg "$LEAKY" client --port "$PORT" --count 300 --bytes 10 --every 200

screen() { $TM capture-pane -p -t lt -S -200; }
new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s lt -x 80 -y 24 env TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$TMP/cfg" \
	"$RUN" "$OUT" "$LEAKTOP" --no-config --delay 0.5 --close-wait-alert 20 --pid "$SERVER_PID" \
	-w "$TMP/news.db"
wait_until 30 test -s "$OUT/pid" || fail "leaktop did not start"
row_leak() { screen | grep -Eq "^ *$SERVER_PID .*newssrv.* leak"; }
wait_until 60 row_leak || { screen >&2; fail "the leaking server never read leak"; }
# Ten more refreshes with the alert active and the verdict holding, counted in the
# recording (a busy box makes refreshes late, not fewer).
seen=$(rec_refreshes "$TMP/news.db")
ten_more() { [ "$(rec_refreshes "$TMP/news.db")" -ge $((seen + 10)) ]; }
wait_until 60 ten_more ||
	fail "the dashboard stopped refreshing"
$TM send-keys -t lt m
wait_until 30 sh -c "$TM capture-pane -p -t lt | grep -q Messages" || { screen >&2; fail "no message view"; }
# Its first page (a line is stamped with its time).
$TM send-keys -t lt PgUp PgUp PgUp PgUp
top() { $TM capture-pane -p -t lt > "$TMP/messages"; grep -q "ALERT warning close_wait: pid $SERVER_PID" "$TMP/messages"; }
wait_until 30 top || { cat "$TMP/messages" >&2; fail "the alert is not in the message view"; }
count() { grep -c -- "$1" "$TMP/messages" || true; }
assert_eq "the close_wait alert in the message view" 1 "$(count "ALERT warning close_wait: pid $SERVER_PID (newssrv) holds")"
assert_eq "the verdict's change to leak" 1 "$(count "pid $SERVER_PID (newssrv) judged leak (was ")"
dup=$(grep -o "pid $SERVER_PID (newssrv) judged [a-z]* (was [a-z]*)" "$TMP/messages" | sort | uniq -d)
[ -z "$dup" ] || { cat "$TMP/messages" >&2; fail "said again: $dup"; }
echo "ok: $(grep -o "pid $SERVER_PID (newssrv) judged [a-z]* (was [a-z]*)" "$TMP/messages" | tr '\n' ';')"
echo "PASS"
