#!/bin/sh
# Record a real CLOSE_WAIT leak on loopback while it grows, replay the recording and
# get the same JSON lines as the live run; the handover report names the leaking
# process and its port. Runs in network and pid namespaces of its own, so other
# sockets and processes on the box do not crowd the report.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need jq

REC="$TMP/incident.db"
start_server --name leakysrv
"$LEAKY" client --port "$PORT" --count 20 --bytes 100
# Still leaking while leaktop records (6 s of it, however slow the box), and already
# under way at its first refresh. Six refreshes 0.3 s apart span the 1 s a growth
# needs: with the kernel's ages recorded, the replay no longer calls the pile at its
# first refresh "already there", so the verdict rests on the growth, as live.
bg "$LEAKY" client --port "$PORT" --count 150 --bytes 100 --every 40
wait_until 30 ss_ge 21 state close-wait "sport = :$PORT" || fail "the second client never got going"

"$LEAKTOP" -b -o json -n 6 -d 0.3 -w "$REC" > "$TMP/live.json" || fail "live run with -w failed"
assert_eq "file mode of the recording" "600" "$(stat -c %a "$REC")"
assert_eq "refreshes printed live" 6 "$(wc -l < "$TMP/live.json")"

"$LEAKTOP" -r "$REC" -b -o json > "$TMP/replay.json" || fail "replay failed"
assert_eq "refreshes replayed" 6 "$(wc -l < "$TMP/replay.json")"
i=0
while IFS= read -r line; do
	i=$((i + 1))
	[ "$line" = "$(sed -n "${i}p" "$TMP/replay.json")" ] || {
		echo "$line" | jq -S . > "$TMP/a.json"
		sed -n "${i}p" "$TMP/replay.json" | jq -S . > "$TMP/b.json"
		diff "$TMP/a.json" "$TMP/b.json" | head -20 >&2 || true
		fail "refresh $i differs between live and replay"
	}
done < "$TMP/live.json"
echo "ok: the replay prints the live run's JSON lines, byte for byte"

# The leak grew while it was recorded.
first=$(head -1 "$TMP/live.json" | jq ".processes[] | select(.pid == $SERVER_PID) | .fds")
last=$(tail -1 "$TMP/live.json" | jq ".processes[] | select(.pid == $SERVER_PID) | .fds")
[ "$last" -gt "$first" ] || fail "the server's fds did not grow while recording ($first -> $last)"

"$LEAKTOP" -r "$REC" --report > "$TMP/report.md" || fail "report failed"
cat "$TMP/report.md"
grep -Eq "^\| $SERVER_PID \| leakysrv \| root \| $first \| $last \| \+$((last - first)) \|" "$TMP/report.md" ||
	fail "the report does not name leakysrv's fd growth $first -> $last"
cw=$(tail -1 "$TMP/live.json" | jq ".ports[] | select(.port == $PORT and .side == \"local\") | .states.CLOSE_WAIT")
grep -Eq "^\| $PORT \| local \| $cw \| $cw \| >= [0-9]+s \| [0-9:]+ \| pid $SERVER_PID leakysrv \|$" "$TMP/report.md" ||
	fail "the report does not name port $PORT with $cw CLOSE_WAIT held by $SERVER_PID"

# The -n limit applies to a replay too.
assert_eq "replay with -n 2" 2 "$("$LEAKTOP" -r "$REC" -b -o json -n 2 | wc -l)"
echo "PASS"
