#!/bin/sh
# A real CLOSE_WAIT leak on loopback: leaktop --batch names the server and its port
# with the counts ss reports, and Recv-Q is the bytes sent plus one for the FIN.
# In network and pid namespaces of its own: on a busy box other sockets take the
# server's port number too (as a client's local port), and ss and leaktop see them.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need ss jq

N=50
BYTES=1223
start_server --name leakysrv
"$LEAKY" client --port "$PORT" --count "$N" --bytes "$BYTES"
# Settled: every leaked end in CLOSE_WAIT, every client end in FIN_WAIT2.
wait_ss "$N" state close-wait "sport = :$PORT"
wait_ss "$N" state fin-wait-2 "dport = :$PORT"
ss_cw=$(ss_count close-wait "$PORT")

"$LEAKTOP" --batch --format json > "$TMP/out.json"
"$LEAKTOP" --batch --port "$PORT" > "$TMP/out.txt"
j() { jq -r "$@" "$TMP/out.json"; }

assert_eq "CLOSE_WAIT on local port $PORT (ss says $ss_cw)" "$ss_cw" \
	"$(j ".ports[] | select(.port == $PORT and .side == \"local\") | .states.CLOSE_WAIT")"
assert_eq "owner of port $PORT" "$SERVER_PID" \
	"$(j ".ports[] | select(.port == $PORT and .side == \"local\") | .pids | join(\",\")")"
assert_eq "server's CLOSE_WAIT count" "$N" \
	"$(j ".processes[] | select(.pid == $SERVER_PID) | .states.CLOSE_WAIT")"
assert_eq "server's comm" "leakysrv" "$(j ".processes[] | select(.pid == $SERVER_PID) | .comm")"
assert_eq "server's Recv-Q" "$((N * (BYTES + 1)))" \
	"$(j ".processes[] | select(.pid == $SERVER_PID) | .recv_q")"
assert_eq "Recv-Q per leaked socket (bytes + FIN)" "$((BYTES + 1))" \
	"$(j "[.backlog[] | select(.pid == $SERVER_PID) | .recv_q] | unique | join(\",\")")"
# The fds leaktop counts are what the kernel lists.
assert_eq "server's fds" "$(ls /proc/$SERVER_PID/fd | wc -l)" \
	"$(j ".processes[] | select(.pid == $SERVER_PID) | .fds")"
# The orphaned client ends sit in FIN_WAIT2 on the remote side of the same port.
assert_eq "FIN_WAIT2 towards port $PORT" "$(ss -tanH state fin-wait-2 "dport = :$PORT" | wc -l)" \
	"$(j ".ports[] | select(.port == $PORT and .side == \"remote\") | .states.FIN_WAIT2")"

# The text report names the process and the port in a top -b style table.
grep -Eq "^ *$SERVER_PID +root +leakysrv " "$TMP/out.txt" || fail "text report lacks the server row"
grep -Eq "^ *$PORT +local +$((N + 1)) .*$N CLOSE_WAIT" "$TMP/out.txt" || fail "text report lacks the port row"
echo "PASS"
