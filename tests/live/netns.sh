#!/bin/sh
# A leak inside a container's network namespace: ss in the outer namespace sees none
# of it, leaktop attributes the CLOSE_WAIT sockets to the server in its own netns, keeps
# port P of two namespaces apart, filters by --netns, and without root says that only
# its own namespace is visible. The test itself runs in network and pid namespaces of
# its own (the "host" here), so leaktop sees only the test's three namespaces.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need ip ss jq setpriv

# Named namespaces live in /run/netns, shared with the host: a random suffix ($$ is 1
# in the test's pid namespace).
SUFFIX=$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
NS1=leaktop-a-$SUFFIX NS2=leaktop-b-$SUFFIX
netns_cleanup() {
	cleanup
	ip netns del "$NS1" 2>/dev/null || true
	ip netns del "$NS2" 2>/dev/null || true
}
trap netns_cleanup EXIT
for ns in "$NS1" "$NS2"; do
	ip netns add "$ns" || { echo "SKIP: cannot create a network namespace"; exit 77; }
	ip -n "$ns" link set lo up
done
INO1=$(stat -L -c %i "/run/netns/$NS1") INO2=$(stat -L -c %i "/run/netns/$NS2")
[ "$INO1" != "$INO2" ] || fail "two namespaces with one inode"

N=30
# ip netns exec enters the netns and execs the command: its pid is the server's.
bg ip netns exec "$NS1" "$LEAKY" server --name podsrv --ready "$TMP/ready1"
SRV1=$BG
wait_until 30 test -s "$TMP/ready1" || fail "server in $NS1 did not start"
PORT=$(cat "$TMP/ready1")
# The same port in the other namespace: another row, another owner.
bg ip netns exec "$NS2" "$LEAKY" server --name podsrv2 --port "$PORT" --ready "$TMP/ready2"
SRV2=$BG
wait_until 30 test -s "$TMP/ready2" || fail "server in $NS2 did not start"
ip netns exec "$NS1" "$LEAKY" client --port "$PORT" --count "$N" --bytes 100
wait_until 30 sh -c "[ \$(ip netns exec $NS1 ss -tanH state close-wait | wc -l) -eq $N ]" ||
	fail "no $N CLOSE_WAIT sockets in $NS1"

# The outer namespace's ss sees none of them.
assert_eq "CLOSE_WAIT on port $PORT seen by ss in the outer netns" 0 "$(ss_count close-wait "$PORT")"

"$LEAKTOP" --batch --format json > "$TMP/out.json"
j() { jq -r "$@" "$TMP/out.json"; }
assert_eq "netns of the server" "$INO1" "$(j ".processes[] | select(.pid == $SRV1) | .netns")"
assert_eq "the server's CLOSE_WAIT count" "$N" \
	"$(j ".processes[] | select(.pid == $SRV1) | .states.CLOSE_WAIT")"
assert_eq "the server's Recv-Q" "$((N * 101))" "$(j ".processes[] | select(.pid == $SRV1) | .recv_q")"
assert_eq "owner of port $PORT in $NS1" "$SRV1" \
	"$(j ".ports[] | select(.port == $PORT and .side == \"local\" and .netns == $INO1) | .pids | join(\",\")")"
assert_eq "CLOSE_WAIT on port $PORT in $NS1" "$N" \
	"$(j ".ports[] | select(.port == $PORT and .side == \"local\" and .netns == $INO1) | .states.CLOSE_WAIT")"
assert_eq "owner of port $PORT in $NS2" "$SRV2" \
	"$(j ".ports[] | select(.port == $PORT and .side == \"local\" and .netns == $INO2) | .pids | join(\",\")")"
assert_eq "both namespaces dumped" "true true" \
	"$(j "[.totals.netns[] | select(.netns == $INO1 or .netns == $INO2) | .dumped] | map(tostring) | join(\" \")")"
assert_eq "netns visible" "all" "$(j .totals.netns_visible)"

# --netns keeps that namespace's processes and ports only.
"$LEAKTOP" --batch --format json --netns "$INO1" > "$TMP/ns1.json"
assert_eq "processes with --netns $INO1" "$SRV1" \
	"$(jq -r '[.processes[].pid] | join(",")' "$TMP/ns1.json")"
assert_eq "netns of every port with --netns" "$INO1" \
	"$(jq -r '[.ports[].netns] | unique | join(",")' "$TMP/ns1.json")"
assert_eq "backlog sockets of the server, tagged with $NS1" "$N" \
	"$(jq -r "[.backlog[] | select(.pid == $SRV1 and .netns == $INO1)] | length" "$TMP/ns1.json")"
"$LEAKTOP" --batch --netns "$INO1" > "$TMP/ns1.txt"
grep -Eq "^ *$PORT +local +$((N + 1)) .*; netns $INO1\$" "$TMP/ns1.txt" ||
	fail "text report lacks the port row with its netns"

# Not root: only leaktop's own namespace, and it says so.
cp "$LEAKTOP" "$TMP/leaktop" && chmod 755 "$TMP" "$TMP/leaktop"
setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/leaktop" -b -o json > "$TMP/user.json"
assert_eq "netns visible without root" "own" "$(jq -r .totals.netns_visible "$TMP/user.json")"
assert_eq "namespaces dumped without root" 1 "$(jq -r '[.totals.netns[] | select(.dumped)] | length' "$TMP/user.json")"
setpriv --reuid=65534 --regid=65534 --clear-groups "$TMP/leaktop" -b > "$TMP/user.txt"
grep -q "only leaktop's own is visible (not root)" "$TMP/user.txt" || fail "text header does not say so"
echo "PASS"
