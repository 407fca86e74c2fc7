#!/bin/sh
# Precision and recall on real software, side by side, counted. Healthy: a real nginx
# serving a JVM whose Apache HttpClient pool returns (and replaces) its connections
# and a JVM client without keep-alive (TIME_WAIT fills on nginx's port to its steady
# state), a JVM whose heap grows to its plateau, an RSS sawtooth, and leaktop itself.
# Beside them, leaks: a JVM whose pool leaks its responses to nginx (CLOSE_WAIT with
# the unread body, the pool exhausted), a server leaking CLOSE_WAIT, a pile that was
# there 10 s before leaktop started, a memory leak. leaktop watches for FV_REFRESHES
# refreshes 1 s apart (default 120: about 2.5 minutes with the set-up) in batch JSON;
# then every verdict is counted: no healthy program or port is ever `leak`, none is
# `suspect` after its first minute, no alert names one, and each leak is `leak`
# within its bound. The counts are printed per program (suspect in the first minute
# too, which is allowed).
# FV_LEAKTOP=path runs another build (to count the verdicts of an older one); with
# FV_KEEP=DIR the recording and the JSON are kept in DIR.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
# It counts judgement, which a sanitizer build does not change: two minutes of JVMs
# once, in the plain pass (the sanitizer pass runs leaktop on real piles elsewhere).
if [ -n "${LEAKTOP_SANITIZERS:-}" ]; then
	echo "SKIP: the false verdicts are counted in the plain pass of make check-all"
	exit 77
fi
own_netns --pid "$@"
need nginx java javac jq ss
N=${FV_REFRESHES:-120}
LT_BIN=${FV_LEAKTOP:-$LEAKTOP}
J=/usr/share/java
CP="$TMP/java:$J/httpclient.jar:$J/httpcore.jar:$J/commons-logging.jar"
for jar in httpclient httpcore commons-logging; do
	[ -r "$J/$jar.jar" ] || { echo "SKIP: needs $J/$jar.jar (libhttpclient-java)"; exit 77; }
done

mkdir -p "$TMP/java"
javac -d "$TMP/java" -cp "$CP" "$srcdir/tests/live/java/PoolClient.java" "$srcdir/tests/live/java/HeapPlateau.java" ||
	fail "javac failed"

# --- nginx: its own prefix, three servers on 127.0.0.2 ------------------------------
NG="$TMP/nginx"
mkdir -p "$NG/www" "$NG/logs"
echo ok > "$NG/www/small"
head -c 65536 /dev/zero | tr '\0' x > "$NG/www/big"
cat > "$NG/nginx.conf" <<EOF
user root;
worker_processes 2;
daemon off;
pid $NG/nginx.pid;
error_log $NG/logs/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $NG/body;
	proxy_temp_path $NG/proxy;
	fastcgi_temp_path $NG/fastcgi;
	uwsgi_temp_path $NG/uwsgi;
	scgi_temp_path $NG/scgi;
	keepalive_timeout 4s;
	root $NG/www;
	server { listen 127.0.0.2:8080; }
	server { listen 127.0.0.2:8081; }
	server { listen 127.0.0.2:8082; }
}
EOF
bg nginx -p "$NG" -c "$NG/nginx.conf" -e "$NG/logs/error.log"
NGINX=$BG
listening() { ss -tlnH "sport = :$1" | grep -q .; }
for p in 8080 8081 8082; do
	wait_until 30 listening $p || { cat "$NG/logs/error.log" >&2; fail "nginx does not listen on $p"; }
done

now() { date +%s.%N; }
# started NAME PID: the program and when it started, for the counts
started() { echo "$1 $2 $(now)" >> "$TMP/progs"; }
: > "$TMP/progs"
started nginx "$NGINX"

# --- a pile already there: 400 CLOSE_WAIT with unread bytes, held 10 s and more -----
start_server --name oldpile
OLD_PID=$SERVER_PID OLD_PORT=$PORT
started oldpile "$OLD_PID"
"$LEAKY" client --port "$OLD_PORT" --count 400 --bytes 100
held() { ss -tniH state close-wait "sport = :$OLD_PORT" | grep -o 'lastrcv:[0-9]*' | cut -d: -f2 | sort -n | head -1; }
old_enough() { [ "$(ss -tanH state close-wait "sport = :$OLD_PORT" | wc -l)" -eq 400 ] && [ "$(held)" -ge 11000 ]; }
wait_until 90 old_enough || fail "the old pile never was 400 CLOSE_WAIT held 11 s: $(held) ms"

# --- leaktop ------------------------------------------------------------------------
bg "$LT_BIN" --batch --no-config -o json -d 1 -n "$N" -w "$TMP/run.db" > "$TMP/run.json"
LT=$BG
started leaktop "$LT"
ticked() { grep -q '"tick": 2,' "$TMP/run.json"; }
wait_until 60 ticked || fail "leaktop did not refresh"

# --- the rest start while leaktop watches: their warm-up is seen ---------------------
javaw() { bg java -Xmx256m -cp "$CP" "$@"; }
javaw PoolClient http://127.0.0.2:8080/small return 8 20 400 6000 > "$TMP/pool.out" 2>&1
started pool "$BG"
javaw PoolClient http://127.0.0.2:8081/small close 150 > "$TMP/close.out" 2>&1
started noalive "$BG"
javaw HeapPlateau 120 > "$TMP/plateau.out" 2>&1
started plateau "$BG"
bg "$LEAKY" saw --rate 10 --count 120 --every 1000 --name sawtooth
started sawtooth "$BG"
javaw PoolClient http://127.0.0.2:8082/big leak 150 200 > "$TMP/jleak.out" 2>&1
started jleak "$BG"
start_server --name cwserver
started cwserver "$SERVER_PID"
CW_PORT=$PORT
bg "$LEAKY" client --port "$CW_PORT" --count 100000 --bytes 10 --every 200
started cwclient "$BG"
bg "$LEAKY" mem --rate 1 --every 500 --count 400 --name memleak
started memleak "$BG"
for f in pool close plateau jleak; do
	wait_until 60 grep -q ready "$TMP/$f.out" || { cat "$TMP/$f.out" >&2; fail "the $f JVM did not start"; }
done
# nginx's workers are healthy too.
for w in $(ps -o pid= --ppid "$NGINX"); do echo "nginx $w $(awk '{print $3}' "$TMP/progs" | head -1)" >> "$TMP/progs"; done

# The run: as long as leaktop's refreshes take (under load, longer).
wait_until $((N * 4)) sh -c "! kill -0 $LT 2>/dev/null" || fail "leaktop did not finish $N refreshes"
[ -n "${FV_KEEP:-}" ] && cp "$TMP/run.db" "$TMP/run.json" "$TMP/progs" "$FV_KEEP/"

# --- the counts ---------------------------------------------------------------------
# What each program and port is: healthy, a leak (with its bound in seconds from its
# start), or the far end of a leak (a mirror: never a finding of its own).
role() {
	case $1 in
	nginx | pool | noalive | plateau | sawtooth | leaktop | cwclient) echo healthy ;;
	oldpile) echo arrival ;;
	cwserver) echo leak:40 ;;
	jleak) echo leak:60 ;;
	memleak) echo leak:90 ;;
	esac
}
# proc lines: tick time pid verdict; port lines: tick time port side verdict
jq -r 'select(.processes) | . as $r | .processes[] | "\($r.tick) \($r.time) \(.pid) \(.verdict)"' "$TMP/run.json" > "$TMP/procs"
jq -r 'select(.ports) | . as $r | .ports[] | select(.proto == "tcp") | "\($r.tick) \($r.time) \(.port)/\(.side) \(.verdict)"' \
	"$TMP/run.json" > "$TMP/ports"
jq -r '. as $r | (.alerts // [])[] | select(.level != "clear") | "\($r.tick) \(.alert) \(.pid // "-") \(.port // "-")/\(.side // "-")"' \
	"$TMP/run.json" > "$TMP/alerts"
T0=$(awk 'NR == 1 { print $2 }' "$TMP/procs")
TICKS=$(tail -1 "$TMP/procs" | awk '{print $1}')
SPAN=$(awk 'NR == 1 { a = $2 } { b = $2 } END { printf "%.0f", b - a }' "$TMP/procs")
echo "leaktop: $TICKS refreshes over ${SPAN}s"

bad=0
printf '%-10s %-7s %5s %5s %8s %8s %6s  %s\n' program pid ticks leak suspect "(1st min)" alerts \
	"first leak (s after its start)"
# count NAME PID ROLE START: print the line; healthy: false counts, leak: found in time
count() {
	awk -v pid="$2" -v start="$4" -v t0="$T0" -v role="$3" -v name="$1" -v alerts="$5" '
	$3 == pid {
		n++
		grace = (start > t0 ? start : t0) + 60
		if ($4 == "leak") { leak++; if (first == "") first = $2 - start }
		if ($4 == "suspect" && $2 > grace) late++
		if ($4 == "suspect" && $2 <= grace) early++
	}
	END {
		printf "%-10s %-7s %5d %5d %8d %8d %6d  %s\n", name, pid, n, leak, late, early, alerts,
			first == "" ? "-" : sprintf("%.0f", first)
		if (role == "healthy" && (leak || late || alerts)) exit 1
		if (role ~ /^leak:/) { split(role, b, ":"); if (first == "" || first > b[2]) exit 1 }
	}' "$TMP/procs" || return 1
	# There before leaktop, held 10 s and more: a look from the first refresh, a leak
	# from the third.
	[ "$3" = arrival ] || return 0
	awk -v pid="$2" '$3 == pid && (($1 == 1 && $4 != "suspect" && $4 != "leak") || ($1 >= 3 && $4 != "leak")) {
		if (!bad) printf "  %s at refresh %d: %s", pid, $1, $4; bad++ }
		END { if (bad) printf " (and %d more refreshes not as they should be)\n", bad - 1; exit bad > 0 }' "$TMP/procs"
}
while read -r name pid start; do
	r=$(role "$name")
	a=$(awk -v p="$pid" '$3 == p' "$TMP/alerts" | wc -l)
	case $r in leak* | arrival) a=0 ;; esac # an alert about a leak is right
	count "$name" "$pid" "$r" "$start" "$a" || bad=$((bad + 1))
done < "$TMP/progs"
# Processes the test did not start (its shell, sleep, ss): never a finding.
others=$(awk '{print $2}' "$TMP/progs" | tr '\n' '|')
awk -v o="|${others}" 'index(o, "|" $3 "|") == 0 && $4 == "leak" { n++ } END { printf "%-10s %-7s %5s %5d\n", "others", "-", "-", n; exit n > 0 }' \
	"$TMP/procs" || bad=$((bad + 1))

# Ports: nginx's three (and the far ends of the leaks), each side.
printf '%-14s %-8s %5s %5s %8s %8s %6s\n' port role ticks leak suspect "(1st min)" alerts
port_count() { # port_count PORT/SIDE ROLE
	a=$(awk -v p="${1%/*}/${1#*/}" '$3 == "-" && $4 == p' "$TMP/alerts" | wc -l)
	[ "$2" = leak ] && a=0
	awk -v key="$1" -v role="$2" -v t0="$T0" -v alerts="$a" '
	$3 == key { n++; if ($4 == "leak") leak++; if ($4 == "suspect") { if ($2 > t0 + 60) late++; else early++ } }
	END {
		printf "%-14s %-8s %5d %5d %8d %8d %6d\n", key, role, n, leak, late, early, alerts
		if (role != "leak" && (leak || late || alerts)) exit 1
		if (role == "leak" && !leak) exit 1
	}' "$TMP/ports"
}
port_count 8080/local healthy || bad=$((bad + 1))
port_count 8080/remote healthy || bad=$((bad + 1))
port_count 8081/local healthy || bad=$((bad + 1))
port_count 8081/remote healthy || bad=$((bad + 1))
port_count 8082/local mirror || bad=$((bad + 1))
port_count 8082/remote leak || bad=$((bad + 1))
port_count "$CW_PORT/local" leak || bad=$((bad + 1))
port_count "$CW_PORT/remote" mirror || bad=$((bad + 1))
port_count "$OLD_PORT/local" leak || bad=$((bad + 1))
port_count "$OLD_PORT/remote" mirror || bad=$((bad + 1))
[ "$bad" = 0 ] || fail "$bad programs or ports judged wrong (see the counts above)"

# The reasons: the exhausted pool says so, a server's pile never does, and nginx's port
# says whose leak it mirrors.
pid_of() { awk -v n="$1" '$1 == n { print $2; exit }' "$TMP/progs"; }
reasons() { # reasons PID: every refresh's reason for that process
	jq -r "select(.processes) | .processes[] | select(.pid == $1) | .verdict_reason" "$TMP/run.json"
}
JLEAK=$(pid_of jleak)
reasons "$JLEAK" | grep -q "^CLOSE_WAIT stalled at 150 for .* (pool exhausted?) after" ||
	fail "the exhausted pool never read stalled: $(reasons "$JLEAK" | tail -1)"
echo "ok: $(reasons "$JLEAK" | grep "stalled at 150" | tail -1 | cut -c1-120)"
reasons "$(pid_of cwserver)" | grep -q "pool exhausted" && fail "a server's pile was called a pool"
jq -r "select(.ports) | .ports[] | select(.port == 8082 and .side == \"local\") | .verdict_reason" "$TMP/run.json" |
	grep -q "the far end of pid $JLEAK (java)'s CLOSE_WAIT" || fail "nginx's port does not say whose leak it mirrors"
echo "ok: nginx's port 8082 is the far end of pid $JLEAK's leak"
echo "PASS"
