#!/bin/sh
# A client-side leak at 80x24: a pool of 20 connections to one service that hung up
# on them sits in CLOSE_WAIT in the client. Without any key, the Ports pane has a
# row for the remote port (->PORT) with the 20 CLOSE_WAIT and a RECV-Q column, no
# row per ephemeral port; r cycles to remote-only and local-only; the Backlog pane
# shows the pool as one group, by its remote endpoint.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need tmux ss
tui_setup outbound
N=20

start_server --name svc --hangup
SVC_PORT=$PORT
bg "$LEAKY" client --port "$SVC_PORT" --count "$N" --hold
CLIENT_PID=$BG
wait_ss "$N" state close-wait "dport = :$SVC_PORT"

screen() { $TM capture-pane -p -t lt; }
has() { screen | grep -Eq -- "$1"; }
wait_screen() { wait_until 30 has "$1" || { screen >&2; fail "screen never showed: $1"; }; }
key() { $TM send-keys -t lt "$@"; }

new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s lt -x 80 -y 24 env TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$TMP/cfg" \
	"$RUN" "$OUT" "$LEAKTOP" --delay 1
wait_until 30 test -s "$OUT/pid" || fail "leaktop did not start"

# The Ports pane's header, RECV-Q included at 80 columns.
wait_screen "^ *PORT +PID +SOCKS .*RECV-Q"
echo "ok: RECV-Q in the Ports pane at 80 columns: $(screen | grep -E '^ *PORT +PID +SOCKS')"
# The client's row: ->PORT, its pid, N sockets, N CLOSE_WAIT, and the state most of
# them are in, in words (ESTAB gives way at 80 columns).
wait_screen "^ *->$SVC_PORT +$CLIENT_PID +$N +$N .* CLOSE_WAIT 100%"
echo "ok: without r, the Ports pane shows the remote endpoint: $(screen | grep -E -- "->$SVC_PORT ")"
# No ephemeral local port of the pool has a row of its own.
for p in $(ss -tanH state close-wait "dport = :$SVC_PORT" | awk '{ sub(/.*:/, "", $3); print $3 }'); do
	has "^ *$p +$CLIENT_PID " && { screen >&2; fail "ephemeral port $p has a row of its own"; }
done
echo "ok: no row per ephemeral port"

# r: remote only (the pool), then local only (no pool, the service's port).
key r
wait_screen "VERDICT +REMOTE"
has "^ *->$SVC_PORT +$CLIENT_PID " || { screen >&2; fail "remote-only lacks ->$SVC_PORT"; }
key r
wait_screen "VERDICT +LOCAL"
has "^ *->$SVC_PORT " && { screen >&2; fail "local-only shows ->$SVC_PORT"; }
key r
wait_screen "VERDICT +ALL PORTS"
wait_screen "^ *->$SVC_PORT +$CLIENT_PID +$N "
echo "ok: r cycles remote-only, local-only, both"

# The Backlog pane: the pool is one group, by remote endpoint ("bye\n" and the FIN
# unread in each).
wait_screen "^ *$CLIENT_PID +->$SVC_PORT +$N +[0-9]+ .*127\.0\.0\.1:$SVC_PORT"
# A backlog row by local port would read "PID PORT SOCKS RECV-Q ...": numbers only.
has "^ *$CLIENT_PID +[0-9]+ +[0-9]+ +[0-9]+ " && { screen >&2; fail "the client has a backlog row by local port"; }
echo "ok: the Backlog groups the pool by remote endpoint: $(screen | grep -E "^ *$CLIENT_PID +->")"

# And the text report says the same: one remote row for the service port.
"$LEAKTOP" -b -n 1 > "$TMP/batch" || fail "leaktop -b failed"
grep -Eq "^ *$SVC_PORT remote +$N " "$TMP/batch" || { cat "$TMP/batch" >&2; fail "the text report lacks the remote port"; }
echo "ok: the text report lists port $SVC_PORT remote with $N sockets"
key q
wait_until 30 test -s "$OUT/rc" || fail "leaktop did not exit"
