#!/bin/sh
# Fleet metrics of a real CLOSE_WAIT leak: `-o openmetrics` and `--listen` /metrics
# parse with promtool (Prometheus's own parser) and carry the numbers the JSON output
# gives for the same stable leak, and the alerts firing; other paths get 404. In
# network and pid namespaces of its own.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need jq curl promtool sqlite3

N=25
BYTES=99
start_server --name metsrv
"$LEAKY" client --port "$PORT" --count "$N" --bytes "$BYTES"
wait_ss "$N" state close-wait "sport = :$PORT"

# The whole box, bounded: the top 5 and "other".
"$LEAKTOP" -b -o openmetrics --top 5 > "$TMP/all.prom"
promtool check metrics < "$TMP/all.prom" || fail "promtool rejects the output"
tail -n 1 "$TMP/all.prom" | grep -qx "# EOF" || fail "no # EOF at the end"
[ "$(grep -c '^leaktop_process_fds{' "$TMP/all.prom")" -le 6 ] || fail "more than 5 processes + other"

# The leak: the same numbers as JSON (the leak is stable between the two refreshes).
"$LEAKTOP" -b -o openmetrics --pid "$SERVER_PID" > "$TMP/srv.prom"
"$LEAKTOP" -b -o json --pid "$SERVER_PID" > "$TMP/srv.json"
promtool check metrics < "$TMP/srv.prom" || fail "promtool rejects the filtered output"
j() { jq -r "$@" "$TMP/srv.json"; }
m() { # m FILE SERIES-PREFIX: the value of the one sample that starts so
	grep -F "$2" "$1" | awk '{print $NF}'
}
L="pid=\"$SERVER_PID\",comm=\"metsrv\",container=\"\""
assert_eq "fds (json $(j '.processes[0].fds'))" "$(j '.processes[0].fds')" \
	"$(m "$TMP/srv.prom" "leaktop_process_fds{$L}")"
assert_eq "CLOSE_WAIT of the server" "$(j '.processes[0].states.CLOSE_WAIT')" \
	"$(m "$TMP/srv.prom" "leaktop_process_tcp_sockets{$L,state=\"CLOSE_WAIT\"}")"
assert_eq "Recv-Q of the server" "$((N * (BYTES + 1)))" \
	"$(m "$TMP/srv.prom" "leaktop_process_recv_queue_bytes{$L}")"
assert_eq "fd limit" "$(j '.processes[0].fd_limit')" "$(m "$TMP/srv.prom" "leaktop_process_fd_limit{$L}")"
assert_eq "CLOSED fds" "$(j '.processes[0].closed')" "$(m "$TMP/srv.prom" "leaktop_process_closed_fds{$L}")"
NS=$(j '.processes[0].netns')
assert_eq "CLOSE_WAIT on port $PORT" "$(j ".ports[] | select(.port == $PORT and .side == \"local\") | .states.CLOSE_WAIT")" \
	"$(m "$TMP/srv.prom" "leaktop_port_sockets{port=\"$PORT\",proto=\"tcp\",side=\"local\",netns=\"$NS\",state=\"CLOSE_WAIT\"}")"

# Alerts firing are a family of their own, only while one fires.
grep -q "^leaktop_alert_active" "$TMP/srv.prom" && fail "an alert family with no alert firing"
"$LEAKTOP" -b -o openmetrics --pid "$SERVER_PID" --close-wait-alert=10 > "$TMP/alert.prom"
promtool check metrics < "$TMP/alert.prom" || fail "promtool rejects the output with an alert"
A="leaktop_alert_active{kind=\"close_wait\",level=\"warning\",pid=\"$SERVER_PID\",comm=\"metsrv\",port=\"\",side=\"\",netns=\"\"}"
assert_eq "the server's CLOSE_WAIT alert" 1 "$(m "$TMP/alert.prom" "$A")"

# Served: a refresh per scrape, the same numbers, 404 elsewhere; alerts are worked
# out per scrape, served, and run --alert-cmd once per transition.
cat > "$TMP/hook" <<HOOK
#!/bin/sh
echo "\$LEAKTOP_EVENT \$LEAKTOP_ALERT \$LEAKTOP_PID" >> "$TMP/hook.out"
HOOK
chmod 700 "$TMP/hook"
bg "$LEAKTOP" --listen 127.0.0.1:0 --pid "$SERVER_PID" -d 0 -w "$TMP/served.db" --no-config \
	--close-wait-alert=10 --alert-cmd="$TMP/hook" > "$TMP/listen.out" 2> "$TMP/listen.err"
LISTEN_PID=$BG
wait_until 30 grep -q serving "$TMP/listen.out" || fail "--listen did not start"
URL=$(sed -n 's/^leaktop: serving //p' "$TMP/listen.out")
case "$URL" in http://127.0.0.1:*/metrics) ;; *) fail "not bound to loopback: $URL" ;; esac
curl -sf "$URL" > "$TMP/scrape.prom" || fail "scrape failed"
promtool check metrics < "$TMP/scrape.prom" || fail "promtool rejects the scrape"
assert_eq "CLOSE_WAIT of the server, scraped" "$N" \
	"$(m "$TMP/scrape.prom" "leaktop_process_tcp_sockets{$L,state=\"CLOSE_WAIT\"}")"
assert_eq "the server's CLOSE_WAIT alert, scraped" 1 "$(m "$TMP/scrape.prom" "$A")"
hook_ran() { grep -q "^fire close_wait $SERVER_PID\$" "$TMP/hook.out" 2>/dev/null; }
wait_until 30 hook_ran || fail "--listen did not run the alert program"
grep -q "leaktop: alert warning close_wait: pid $SERVER_PID (metsrv)" "$TMP/listen.err" ||
	fail "--listen did not report the alert on stderr"
assert_eq "content type" "application/openmetrics-text; version=1.0.0; charset=utf-8" \
	"$(curl -s -o /dev/null -w '%{content_type}' "$URL")"
assert_eq "status of /" 404 "$(curl -s -o /dev/null -w '%{http_code}' "${URL%/metrics}/")"
assert_eq "status of POST /metrics" 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL")"
# A second scrape is a new refresh: a new leak shows.
"$LEAKY" client --port "$PORT" --count 5
wait_ss $((N + 5)) state close-wait "sport = :$PORT"
assert_eq "CLOSE_WAIT after 5 more, scraped" "$((N + 5))" \
	"$(curl -sf "$URL" | grep -F "leaktop_process_tcp_sockets{$L,state=\"CLOSE_WAIT\"}" | awk '{print $NF}')"
# The scrapes make a history: fd growth (5 more fds since the first scrape) and a verdict,
# once it spans a second or more. (A pause on purpose: time has to pass, nothing to wait for.)
sleep 1.2
curl -sf "$URL" > "$TMP/grown.prom" || fail "scrape failed"
promtool check metrics < "$TMP/grown.prom" || fail "promtool rejects the scrape with growth"
awk -v s="leaktop_process_fd_growth_per_second{$L}" 'index($0, s) == 1 { found = 1; if ($NF > 0) up = 1 }
	END { exit !(found && up) }' "$TMP/grown.prom" || fail "no positive fd growth for the server when served"
grep -q "^leaktop_process_verdict{$L,verdict=\"" "$TMP/grown.prom" || fail "no verdict for the server when served"
# And each served refresh went into the recording.
kill "$LISTEN_PID"
wait "$LISTEN_PID" 2>/dev/null || true
[ "$("$LEAKTOP" -r "$TMP/served.db" -b -o json | wc -l)" -ge 4 ] ||
	fail "the recording made while serving lacks its refreshes"
# The alert fired once over four scrapes: one run of the program, one event recorded.
assert_eq "alert program runs while serving" 1 "$(grep -c "close_wait $SERVER_PID\$" "$TMP/hook.out")"
assert_eq "alert events recorded while serving" 1 \
	"$(rec_sql "$TMP/served.db" "SELECT count(*) FROM event WHERE kind = 'alert' AND pid = $SERVER_PID")"
echo "PASS"
