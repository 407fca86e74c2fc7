#!/bin/sh
# Ages from the kernel: a server holding 300 CLOSE_WAIT sockets, flat for 90 s before
# leaktop starts, is a leak by the third refresh, its oldest shown as a bound (">=1m"),
# in batch JSON and on the 80x24 dashboard. A new pile of the same size, made while
# leaktop watches, is not called old.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
need unshare ip
own_netns --pid "$@"
need ss jq tmux
[ -n "${LEAKTOP_NETNS:-}" ] || fail "not in a namespace of its own"
tui_setup kernel_age
N=300

start_server --name oldpile
OLD_PID=$SERVER_PID OLD_PORT=$PORT
"$LEAKY" client --port "$OLD_PORT" --count "$N" --bytes 10
wait_until 30 sh -c "[ \$(ss -tanH state close-wait 'sport = :$OLD_PORT' | wc -l) -eq $N ]" ||
	fail "the kernel never showed $N CLOSE_WAIT sockets"
# Nothing received for 90 s on every one of them, as the kernel counts it.
youngest() { ss -tniH state close-wait "sport = :$OLD_PORT" | grep -o 'lastrcv:[0-9]*' | cut -d: -f2 | sort -n | head -1; }
# (Every 2 s, not 0.1: 300 sockets' tcp_info, 90 s long, is most of what this test costs.)
i=0
while [ "$(youngest)" -lt 90000 ] && [ $i -lt 60 ]; do sleep 2; i=$((i + 1)); done
[ "$(youngest)" -ge 90000 ] || fail "the pile never got 90 s old: lastrcv $(youngest) ms"
echo "ok: $N CLOSE_WAIT, nothing received for $(youngest) ms"

"$LEAKTOP" --batch --no-config -o json -n 3 -d 1 --pid "$OLD_PID" > "$TMP/run.json"
third() { jq -r "select(.tick == 3) | $1" "$TMP/run.json"; }
assert_eq "the pile's verdict at the third refresh" leak "$(third ".processes[] | select(.pid == $OLD_PID) | .verdict")"
reason=$(third ".processes[] | select(.pid == $OLD_PID) | .verdict_reason")
echo "$reason" | grep -Eq "^$N CLOSE_WAIT never closed, oldest >=1m" || fail "the reason does not say how old: $reason"
echo "ok: $reason"
assert_eq "the oldest is a kernel bound" true \
	"$(third ".processes[] | select(.pid == $OLD_PID) | .close_wait_oldest_is_bound")"
age=$(third ".processes[] | select(.pid == $OLD_PID) | .close_wait_oldest_s")
awk -v a="$age" 'BEGIN { exit !(a >= 90 && a < 600) }' || fail "close_wait_oldest_s $age, not the 90 s+ the kernel knows"
assert_eq "the port's verdict" leak "$(third ".ports[] | select(.port == $OLD_PORT and .side == \"local\") | .verdict")"

# A new pile, made while leaktop watches, is young: not a leak of old sockets.
start_server --name newpile
NEW_PID=$SERVER_PID NEW_PORT=$PORT
bg "$LEAKTOP" --batch --no-config -o json -n 0 -d 1 --pid "$NEW_PID" > "$TMP/new.json"
LT=$BG
wait_until 30 sh -c "grep -q '\"tick\": 2' '$TMP/new.json'" || fail "leaktop did not refresh twice"
"$LEAKY" client --port "$NEW_PORT" --count "$N" --bytes 10
wait_until 30 sh -c "[ \$(ss -tanH state close-wait 'sport = :$NEW_PORT' | wc -l) -eq $N ]" ||
	fail "the new pile never reached $N"
sleep 3
kill "$LT"
newest=$(jq -r "select(.processes) | .processes[] | select(.pid == $NEW_PID) | .verdict_reason" "$TMP/new.json" | tail -1)
echo "$newest" | grep -q ">=" && fail "a pile made while leaktop watched reads as a kernel bound: $newest"
echo "ok: the new pile reads: $newest"

# The dashboard at 80x24: the old pile's row says leak within three refreshes.
screen() { $TM capture-pane -p -t lt; }
new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s lt -x 80 -y 24 env TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$TMP/cfg" \
	"$RUN" "$OUT" "$LEAKTOP" --no-config --delay 1 --pid "$OLD_PID"
wait_until 30 test -s "$OUT/pid" || fail "leaktop did not start"
row_leak() { screen | grep -Eq "^ *$OLD_PID .*oldpile.* leak"; }
wait_until 6 row_leak || { screen >&2; fail "the dashboard row of the old pile never said leak"; }
echo "ok: $(screen | grep -E "^ *$OLD_PID ")"
echo "PASS"
