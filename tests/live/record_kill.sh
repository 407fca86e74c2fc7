#!/bin/sh
# A recording survives its writer: read while leaktop still writes it, then after
# kill -9 it replays up to the last refresh committed; SIGTERM closes it cleanly.
# In network and pid namespaces of its own.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need jq sqlite3

REC="$TMP/killed.db"
start_server --name leakysrv
bg "$LEAKY" client --port "$PORT" --count 200 --bytes 10 --every 20

bg sh -c "exec \"$LEAKTOP\" -b -o json -n 0 -d 0.1 -w \"$REC\" > /dev/null"
WRITER=$BG
three() { [ "$(rec_refreshes "$REC")" -ge 3 ]; }
wait_until 30 three ||
	fail "the recording never reached 3 refreshes"

# Readable while it is being written.
"$LEAKTOP" -r "$REC" -b -o json -n 2 > "$TMP/during.json" || fail "reading a recording being written failed"
assert_eq "refreshes read while recording" 2 "$(wc -l < "$TMP/during.json")"

kill -9 "$WRITER"
wait "$WRITER" 2>/dev/null || true
n=$(rec_refreshes "$REC")
[ "$n" -ge 3 ] || fail "only $n refreshes committed"
"$LEAKTOP" -r "$REC" -b -o json > "$TMP/after.json" || fail "replay after kill -9 failed"
assert_eq "refreshes replayed after kill -9" "$n" "$(wc -l < "$TMP/after.json")"
assert_eq "last tick replayed" "$(rec_sql "file:$REC?mode=ro" "SELECT max(tick) FROM refresh")" \
	"$(tail -1 "$TMP/after.json" | jq .tick)"
jq -e ".processes[] | select(.pid == $SERVER_PID and .comm == \"leakysrv\")" < "$TMP/after.json" >/dev/null ||
	fail "the replay lost the server"
"$LEAKTOP" -r "$REC" --report | grep -q "^| $PORT |" || fail "the report of a killed recording lacks port $PORT"

# SIGTERM: the refresh under way is dropped, the file is closed (no -wal left behind),
# and leaktop ends by the signal (128 + 15).
REC2="$TMP/termed.db"
"$LEAKTOP" -b -o json -n 0 -d 0.1 -w "$REC2" > "$TMP/termed.json" &
W2=$!
wait_until 30 sh -c "[ \$(wc -l < '$TMP/termed.json') -ge 3 ]" || fail "the second recorder printed too little"
kill -TERM "$W2"
rc=0
wait "$W2" || rc=$?
assert_eq "status after SIGTERM" 143 "$rc"
[ ! -e "$REC2-wal" ] || fail "SIGTERM left $REC2-wal: the recording was not closed"
assert_eq "refreshes printed = refreshes recorded after SIGTERM" "$(wc -l < "$TMP/termed.json")" "$(rec_refreshes "$REC2")"
"$LEAKTOP" -r "$REC2" -b -o json > "$TMP/termed.replay.json"
cmp -s "$TMP/termed.replay.json" "$TMP/termed.json" || {
	diff "$TMP/termed.json" "$TMP/termed.replay.json" | tr ',' '\n' | grep '^[<>]\|^[^{]' | head -20 >&2 || true
	fail "the SIGTERMed recording does not replay as printed"
}
echo "PASS"
