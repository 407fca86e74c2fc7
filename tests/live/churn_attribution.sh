#!/bin/sh
# The incremental inode -> (pid, fd) map under churn: a real process swaps sockets and
# files under the same fd numbers (dup2) between refreshes, hands sockets to a child
# over fork, and shares some with another. After every refresh, the (pid, fd, inode)
# of every socket fd of those processes is what a full scan says and what ss -tanp
# says. One leaktop runs incrementally, one with --full-scan; --step makes each take
# its next refresh when the test says so, once the processes are quiet. In network and
# pid namespaces of its own, so ss -tanp and leaktop see the same sockets.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need ss jq

N=40
start_server --name churnsrv
mkfifo "$TMP/ch.in" "$TMP/inc.in" "$TMP/full.in"
# bg_io IN OUT CMD...: like bg, with stdin and stdout redirected in the child (a fifo
# opened by the shell itself would block it).
bg_io() {
	local in=$1 out=$2; shift 2
	(exec "$@" <"$in" >"$out") &
	BG=$!
	BG_PIDS="$BG_PIDS $BG"
}

bg_io "$TMP/ch.in" "$TMP/ch.out" "$LEAKY" churn --port "$PORT" --count "$N" --name churner
CHURNER=$BG
exec 4>"$TMP/ch.in"
wait_until 30 grep -q ready "$TMP/ch.out" || fail "the churning process did not start"
PIDS="$SERVER_PID $CHURNER"

# The server has accepted every connection (its accept queue is empty): quiet.
quiet() { [ "$(ss -ltnH "sport = :$PORT" | awk '{ print $2 }')" = 0 ]; }
wait_until 30 quiet || fail "the server did not accept the connections"

bg_io "$TMP/inc.in" "$TMP/inc.json" "$LEAKTOP" --batch --step -n 0 -o json --sockets --backlog 0
exec 5>"$TMP/inc.in"
bg_io "$TMP/full.in" "$TMP/full.json" "$LEAKTOP" --batch --step -n 0 -o json --sockets --backlog 0 --full-scan
exec 6>"$TMP/full.in"

# "pid fd inode" of every socket fd of $PIDS, sorted: from refresh $2 of leaktop's
# output $1, and from ss -tanpe (users:(("name",pid=N,fd=M),...) ino:I).
lt_triples() {
	sed -n "${2}p" "$1" | jq -r --arg pids "$PIDS" '
		($pids | split(" ") | map(select(. != "") | tonumber)) as $p
		| .sockets[] | .inode as $i | .owners[]
		| select(.pid as $x | $p | any(. == $x)) | "\(.pid) \(.fd) \($i)"' | sort
}
ss_triples() {
	ss -tanpeH | awk -v pids=" $PIDS " '{
		ino = ""
		if (match($0, /ino:[0-9]+/)) ino = substr($0, RSTART + 4, RLENGTH - 4)
		s = $0
		while (match(s, /pid=[0-9]+,fd=[0-9]+/)) {
			split(substr(s, RSTART + 4, RLENGTH - 4), a, ",fd=")
			if (index(pids, " " a[1] " ")) print a[1], a[2], ino
			s = substr(s, RSTART + RLENGTH)
		}
	}' | sort
}

K=1 # refreshes each leaktop has printed (or is printing: the first is at start)
check() { # check WHAT
	wait_until 60 sh -c "[ \$(wc -l <'$TMP/inc.json') -ge $K ] && [ \$(wc -l <'$TMP/full.json') -ge $K ]" ||
		fail "$1: leaktop did not print refresh $K"
	ss_triples >"$TMP/ss.$K"
	lt_triples "$TMP/inc.json" "$K" >"$TMP/inc.$K"
	lt_triples "$TMP/full.json" "$K" >"$TMP/full.$K"
	[ "$(wc -l <"$TMP/ss.$K")" -gt "$N" ] || fail "$1: ss -tanp shows too few of our sockets"
	diff "$TMP/ss.$K" "$TMP/full.$K" >&2 || fail "$1: a full scan differs from ss -tanp (< ss, > leaktop)"
	diff "$TMP/ss.$K" "$TMP/inc.$K" >&2 || fail "$1: the incremental map differs from ss -tanp (< ss, > leaktop)"
	echo "ok: $1: the $(wc -l <"$TMP/ss.$K") socket fds of the server, churner and children match ss -tanp"
}

C=1 # lines the churner has answered
step() { # step COMMAND: the churner obeys, goes quiet, then both leaktops refresh
	echo "$1" >&4
	C=$((C + 1))
	wait_until 30 sh -c "[ \$(wc -l <'$TMP/ch.out') -ge $C ]" || fail "the churner did not answer '$1'"
	wait_until 30 quiet || fail "the server did not accept the new connections"
	echo >&5
	echo >&6
	K=$((K + 1))
	check "$1 (refresh $K)"
}
answer() { sed -n "${C}p" "$TMP/ch.out" | awk '{ print $2 }'; }
holds() { awk -v p="$1" '$1 == p { print $3 }' "$2" | sort; } # holds PID TRIPLES: inodes

check "first refresh"
step churn
step churn
step churn

# A hand-over: the child takes the parent's first two sockets, the parent closes its
# copies and reuses both fd numbers at once.
step fork
CHILD=$(answer)
PIDS="$PIDS $CHILD"
check "after the hand-over, with the child counted (refresh $K)"
holds "$CHURNER" "$TMP/inc.$((K - 1))" >"$TMP/before"
holds "$CHILD" "$TMP/inc.$K" >"$TMP/child"
assert_eq "sockets leaktop gives the child" 2 "$(wc -l <"$TMP/child")"
assert_eq "of those, sockets the parent held a refresh before" 2 \
	"$(comm -12 "$TMP/before" "$TMP/child" | wc -l)"
assert_eq "of those, sockets leaktop still gives the parent" 0 \
	"$(holds "$CHURNER" "$TMP/inc.$K" | comm -12 - "$TMP/child" | wc -l)"
assert_eq "the child's socket count in the process list" 2 \
	"$(sed -n "${K}p" "$TMP/inc.json" | jq ".processes[] | select(.pid == $CHILD) | .sockets")"

step churn
# Shared after fork: both hold the same sockets, at the same fd numbers.
step share
PIDS="$PIDS $(answer)"
check "after a fork that shares sockets, with the child counted (refresh $K)"
step churn
step churn
echo "PASS"
