#!/bin/sh
# Socket fds in no kernel table: a server keeps the fds of connections its clients
# reset (SO_LINGER {1,0}). ss shows nothing; leaktop counts them as CLOSED for that
# pid, and lsof agrees (the same number of fds of TYPE "sock", no protocol table). A
# well-behaved server next to it has none. In network and pid namespaces of its own.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need ss jq lsof

N=40
start_server --name rstsrv
RST_PID=$SERVER_PID RST_PORT=$PORT
# Reset only once the server has accepted them all (a reset connection still in the
# accept queue is dropped, never accepted).
bg "$LEAKY" client --port "$RST_PORT" --count "$N" --hold --rst
CLIENT_PID=$BG
wait_until 30 sh -c "[ \$(ls -l /proc/$RST_PID/fd | grep -c socket:) -eq $((N + 1)) ]" ||
	fail "the server never accepted $N connections"
kill -USR1 "$CLIENT_PID"
wait "$CLIENT_PID" || fail "the client failed"
# Reset and gone from every TCP table: only the listener is left on the port.
wait_until 30 ss_is 1 "sport = :$RST_PORT" || fail "ss still lists reset connections on port $RST_PORT"

# A healthy server: its clients close properly and it closes too.
start_server --name oksrv --close
OK_PID=$SERVER_PID
"$LEAKY" client --port "$PORT" --count 20 --bytes 10
# Settled: the healthy server has closed every connection; only its listener is left.
wait_ss 1 "sport = :$PORT"

"$LEAKTOP" --batch --format json > "$TMP/out.json"
"$LEAKTOP" --batch --pid "$RST_PID" > "$TMP/out.txt"
j() { jq -r "$@" "$TMP/out.json"; }

# lsof lists a socket it finds in no /proc/net table with TYPE "sock" and NAME
# "can't identify protocol" (lsof 4.95 and later: "protocol: TCP").
lsof_unknown=$(lsof -nP -p "$RST_PID" 2>/dev/null | awk '$5 == "sock"' | wc -l)
assert_eq "lsof's unidentified sockets of the server" "$N" "$lsof_unknown"
assert_eq "CLOSED fds of the server (lsof says $lsof_unknown)" "$lsof_unknown" \
	"$(j ".processes[] | select(.pid == $RST_PID) | .closed")"
assert_eq "CLOSED in the server's state histogram" "$N" \
	"$(j ".processes[] | select(.pid == $RST_PID) | .states.CLOSED")"
assert_eq "the server's TCP sockets (the listener)" 1 \
	"$(j ".processes[] | select(.pid == $RST_PID) | .sockets")"
assert_eq "the healthy server's CLOSED fds" 0 "$(j ".processes[] | select(.pid == $OK_PID) | .closed")"
# Every socket fd is accounted for: TCP, UDP, UNIX, other, or CLOSED.
for p in $RST_PID $OK_PID; do
	assert_eq "socket fds of $p not accounted for" 0 \
		"$(j ".processes[] | select(.pid == $p) | .socket_fds - .sockets - .udp - .unix - .other_sockets - .closed")"
done
[ "$(j '.totals.states.CLOSED')" -ge "$N" ] || fail "the totals miss the CLOSED sockets"
grep -Eq "^ *$RST_PID +root +rstsrv .* $N +0 +0 +[0-9]+ " "$TMP/out.txt" ||
	fail "text report lacks the server's CLOSED column"
grep -q "CLOSED (socket fds in no kernel table)" "$TMP/out.txt" || fail "text header lacks CLOSED"

# Running on: from the second refresh the own netns is dumped while the fds are read.
# Every refresh must still count the known fds, and fds reset while leaktop runs
# must join them (at the latest one refresh after their fds were first read).
bg "$LEAKTOP" --batch -n 0 -d 0.2 --format json > "$TMP/run.json"
LT_PID=$BG
closed() { # the server's CLOSED fds, one line per complete refresh so far
	jq -r "select(.processes) | .processes[] | select(.pid == $RST_PID) | .closed" \
		"$TMP/run.json" 2>/dev/null
}
refreshes_at_least() { [ "$(closed | wc -l)" -ge "$1" ]; }
last_closed_is() { [ "$(closed | tail -1)" = "$1" ]; }
server_socket_fds_are() { [ "$(ls -l "/proc/$RST_PID/fd" | grep -c socket:)" -eq "$1" ]; }

wait_until 60 refreshes_at_least 3 || fail "leaktop did not refresh three times"
assert_eq "the server's CLOSED fds in refreshes 1 to 3" "$N $N $N" "$(closed | head -3 | xargs)"
M=10
bg "$LEAKY" client --port "$RST_PORT" --count "$M" --hold --rst
CLIENT_PID=$BG
wait_until 30 server_socket_fds_are $((N + M + 1)) ||
	fail "the server never accepted $M more connections"
kill -USR1 "$CLIENT_PID"
wait "$CLIENT_PID" || fail "the client failed"
wait_until 60 last_closed_is $((N + M)) ||
	fail "CLOSED did not reach $((N + M)) after $M more resets: the last refresh says $(closed | tail -1)"
kill "$LT_PID"
wait "$LT_PID" 2>/dev/null || true
closed | awk -v max=$((N + M)) '$1 > max { bad = 1 } END { exit bad }' ||
	fail "a refresh counted more CLOSED fds than there were resets"
echo "PASS"
