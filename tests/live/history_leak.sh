#!/bin/sh
# Leak or churn, live: a server that leaks one connection every 100 ms is judged
# `leak` with growing fds; one that closes its connections under the same load is
# `ok` or `churn`. Loopback only, in network and pid namespaces of its own.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need ss jq

# judge NAME [server options]: run a server under load, leave leaktop's last JSON
# refresh in $TMP/NAME.json and the server's pid in SERVER_PID.
judge() {
	name=$1; shift
	start_server --name "$name" "$@"
	bg "$LEAKY" client --port "$PORT" --every 100 --count 250 --bytes 100
	CLIENT_PID=$BG
	# Some load first, so leaktop sees the server in motion from its first refresh.
	wait_until 30 sh -c "[ \$(ss -tanH 'sport = :$PORT' | wc -l) -ge 5 ] || \
		[ \$(ss -tanH state time-wait 'dport = :$PORT' | wc -l) -ge 5 ]" ||
		fail "the client never got going"
	# 12 s: a pile that keeps what comes in is a leak once it has for 10 s.
	"$LEAKTOP" --batch --no-config -o json -n 25 -d 0.5 > "$TMP/$name.all.json"
	tail -n 1 "$TMP/$name.all.json" > "$TMP/$name.json"
}

judge leakysrv
j() { jq -r "$@" "$TMP/leakysrv.json"; }
proc=".processes[] | select(.pid == $SERVER_PID)"
port=".ports[] | select(.port == $PORT and .side == \"local\")"
assert_eq "leaking server's verdict ($(j "$proc | .verdict_reason"))" leak "$(j "$proc | .verdict")"
assert_eq "fds are growing" true "$(j "$proc | .fd_growth_per_min > 0")"
assert_eq "CLOSE_WAIT is growing" true "$(j "$proc | .close_wait_growth_per_min > 0")"
assert_eq "the reason names CLOSE_WAIT growth from one host" true \
	"$(j "$proc | .verdict_reason | test(\"^CLOSE_WAIT \\\\+[0-9]+/min for .*, 1 remote host\")")"
assert_eq "the oldest CLOSE_WAIT has an age" true "$(j "$proc | .close_wait_oldest_s > 0")"
# 20000 fds allowed: at this pace it runs out in finite time.
assert_eq "time to EMFILE is finite" true "$(j "$proc | .exhaustion_eta_s > 0")"
assert_eq "port $PORT's verdict" leak "$(j "$port | .verdict")"
assert_eq "port $PORT's CLOSE_WAIT growth is positive" true "$(j "$port | .growth_per_min.CLOSE_WAIT > 0")"
kill "$CLIENT_PID" "$SERVER_PID"

judge oksrv --close
j() { jq -r "$@" "$TMP/oksrv.json"; }
proc=".processes[] | select(.pid == $SERVER_PID)"
verdict=$(j "$proc | .verdict")
case $verdict in
ok|churn) echo "ok: closing server's verdict = $verdict ($(j "$proc | .verdict_reason"))" ;;
*) fail "closing server judged '$verdict': $(j "$proc | .verdict_reason")" ;;
esac
assert_eq "closing server is not running out" null "$(j "$proc | .exhaustion_eta_s")"
echo "PASS"
