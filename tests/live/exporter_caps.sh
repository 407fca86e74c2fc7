#!/bin/sh
# The exporter unit's CapabilityBoundingSet is what leaktop needs, and no more than
# it needs: run with exactly those capabilities (as the unit runs it: root, the
# rest of the bounding set dropped), leaktop sees a leaking server that belongs to
# another user and lives in another network namespace, fds, sockets and all; with
# any one of them dropped it loses sight of something.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
need jq setpriv unshare ip
own_netns --pid "$@"

UNIT=$srcdir/contrib/systemd/leaktop-exporter.service.in
caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
[ -n "$caps" ] || fail "no CapabilityBoundingSet in the unit"
echo "unit: $caps"

# A server owned by nobody, in a network namespace of its own, with 7 CLOSE_WAIT.
N=7
ready=$TMP/ready
: > "$ready" && chmod 666 "$ready" && chmod 755 "$TMP"
bg unshare -n sh -c "ip link set lo up && exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
	$LEAKY server --name capsrv --ready $ready" >/dev/null
wait_until 30 test -s "$ready" || fail "the server did not start"
PORT=$(cat "$ready")
SERVER_PID=$(pgrep -P "$BG" -x capsrv || echo "$BG")
[ "$(stat -c %U "/proc/$SERVER_PID")" = nobody ] || fail "the server does not run as nobody"
nsenter -t "$SERVER_PID" -n "$LEAKY" client --port "$PORT" --count "$N" >/dev/null
NS=$(stat -L -c %i "/proc/$SERVER_PID/ns/net")
wait_until 30 sh -c "[ \$(nsenter -t $SERVER_PID -n ss -tanH state close-wait | wc -l) -eq $N ]" ||
	fail "no $N CLOSE_WAIT in the server's namespace"

# see CAPS: what leaktop sees of the server with only CAPS (setpriv's names).
see() {
	setpriv --bounding-set "-all,$1" --inh-caps=-all "$LEAKTOP" -b --no-config -o json --pid "$SERVER_PID" \
		2>"$TMP/err" | jq -c "{fds_read: (.processes[0].fds > $N), cw: (.processes[0].states.CLOSE_WAIT // 0),
			netns_dumped: ([.totals.netns[] | select(.netns == $NS and .dumped)] | length == 1)}"
}
setpriv_caps=$(echo "$caps" | tr ' ' '\n' | sed 's/^CAP_//' | tr 'A-Z' 'a-z' | sed 's/^/+/' | paste -sd, -)
all=$(see "$setpriv_caps")
echo "with the unit's capabilities: $all"
assert_eq "server's fds read, its CLOSE_WAIT, its namespace dumped" "{\"fds_read\":true,\"cw\":$N,\"netns_dumped\":true}" "$all"
for c in $(echo "$setpriv_caps" | tr , ' '); do
	less=$(see "$(echo "$setpriv_caps" | tr , '\n' | grep -vx -- "$c" | paste -sd, -)")
	echo "without ${c#+}: $less $(head -c 120 "$TMP/err")"
	[ "$less" != "$all" ] || fail "${c#+} is in the unit but leaktop sees as much without it"
done
case " $caps " in *CAP_NET_ADMIN*) fail "CAP_NET_ADMIN is in the unit" ;; esac
echo "PASS"
