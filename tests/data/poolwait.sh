#!/bin/sh
# How the exhausted-pool fixtures were made (as root, on Debian 12 with openjdk-17,
# libhttpclient-java 4.5.14, libjetty9-java 9.4.57, nginx-light, tmux), in a network and
# pid namespace of their own so only these sockets and processes are recorded:
#   unshare -n --pid --fork --mount-proc sh tests/data/poolwait.sh BUILDDIR OUTDIR
# - poolwait.db: the dashboard (tmux, 80x24, -d 1) records while tests/live/java/
#   PoolWait.java leases 101 connections from its Apache HttpClient 4.5 pool of 100
#   to a real nginx (keep-alive 3 s, a 20000-byte file) and never reads nor closes a
#   response, so its 100 connections go CLOSE_WAIT with what HttpClient did not
#   buffer of each body (12 KB) unread in Recv-Q, and main waits in
#   AbstractConnPool.getPoolEntryBlocking; the pile stops at 100 and, 20 s later, a
#   thread dump is taken through the dashboard (F4 pid:PID, D, y), then 5 refreshes
#   more. The leaktop recording it is in the recording too, as an older one was.
#   Made 4 KB pages 1 KB as rec-2.0.db was (rec-2.0.sh).
# - tdump_poolwait_main.txt: that thread dump, as leaktop read it back and stored it.
# - tdump_poolwait_jetty.txt: PoolWait as a Jetty server whose handler leases one
#   connection per request from a pool of 20 and keeps it; 40 clients (curl), so 20
#   handler threads wait in the pool; what the JVM printed on SIGQUIT (its output
#   after "exhausted", as leaktop reads back what is appended after the signal).
# - tdump_blocked.txt: the same of tests/live/Blocked.java (eight threads BLOCKED on
#   a lock that main holds while it sleeps), after "ready".
set -eu
B=$(cd "$1" && pwd) OUT=$(mkdir -p "$2" && cd "$2" && pwd)
S=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d)
J=/usr/share/java
CP=$T:$J/httpclient.jar:$J/httpcore.jar:$J/commons-logging.jar:$J/jetty9-server.jar:$J/jetty9-util.jar
CP=$CP:$J/jetty9-http.jar:$J/jetty9-io.jar:$J/servlet-api.jar
PIDS=""
trap 'for p in $PIDS; do kill -9 $p 2>/dev/null || true; done; tmux -S $T/tmux kill-server 2>/dev/null || true; rm -rf $T' EXIT
ip link set lo up
until_true() { n=600; while ! "$@"; do n=$((n - 1)); [ $n -gt 0 ] || { echo "timed out: $*" >&2; exit 1; }; sleep 0.1; done; }
dumped() { grep -q "^JNI global refs" "$1"; }

javac -d "$T" -cp "$CP" "$S/tests/live/java/PoolWait.java" "$S/tests/live/Blocked.java"
mkdir -p "$T/www" "$T/logs" "$T/home"
head -c 20000 /dev/zero | tr '\0' x > "$T/www/big.txt"
cat > "$T/nginx.conf" <<EOF
worker_processes 1;
pid $T/nginx.pid;
error_log $T/logs/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_timeout 3s; client_body_temp_path $T/tmp;
  server { listen 127.0.0.1:8080; root $T/www; } }
EOF
chmod 755 "$T" # nginx's worker (nobody) reads the file
/usr/sbin/nginx -p "$T" -c "$T/nginx.conf" -g 'daemon off;' &
PIDS="$PIDS $!"
until_true sh -c 'ss -tlnH "sport = :8080" | grep -q .'
[ "$(curl -s http://127.0.0.1:8080/big.txt | wc -c)" = 20000 ] || { echo "nginx does not serve the file" >&2; exit 1; }

# --- the recording, with the dump taken through the dashboard -----------------------
rm -f "$OUT/poolwait.db"*
HOME=$T/home tmux -S "$T/tmux" new-session -d -s t -x 80 -y 24 \
	"env TERM=xterm $B/leaktop --no-config -d 1 -w $OUT/poolwait.db"
sleep 3
java -Xmx64m -cp "$CP" PoolWait http://127.0.0.1:8080/big.txt 100 > "$T/main.out" 2>&1 &
JPID=$!
PIDS="$PIDS $JPID"
until_true grep -q exhausted "$T/main.out"
until_true sh -c '[ "$(ss -tanH state close-wait | wc -l)" -ge 100 ]'
sleep 20
keys() { tmux -S "$T/tmux" send-keys -t t "$@"; }
keys F4
sleep 1
keys $(printf 'BSpace %.0s' $(seq 24)) "pid:$JPID" Enter
sleep 2
keys D
sleep 1
keys y
until_true dumped "$T/main.out"
sleep 5
keys q
until_true sh -c "! tmux -S $T/tmux has-session -t t 2>/dev/null"
sqlite3 "$OUT/poolwait.db" "SELECT writefile('$OUT/tdump_poolwait_main.txt', d.text) FROM event_dump d" >/dev/null
sqlite3 "$OUT/poolwait.db" 'PRAGMA journal_mode=DELETE; PRAGMA page_size=1024; VACUUM; PRAGMA journal_mode=WAL;' >/dev/null
kill $JPID

# --- Jetty: twenty handler threads waiting on the pool --------------------------------
java -Xmx64m -cp "$CP" PoolWait http://127.0.0.1:8080/big.txt 20 jetty 8081 > "$T/jetty.out" 2>&1 &
JPID=$!
PIDS="$PIDS $JPID"
until_true grep -q exhausted "$T/jetty.out"
for i in $(seq 40); do
	curl -s -m 120 -o /dev/null http://127.0.0.1:8081/ &
	PIDS="$PIDS $!"
done
# 20 connections leased and kept (their 20 clients served), 20 clients still waiting.
until_true sh -c '[ "$(ss -tanH "dport = :8080" | wc -l)" -ge 20 ] && [ "$(ss -tanH state established "sport = :8081" | wc -l)" -ge 20 ]'
sleep 2
kill -QUIT $JPID
until_true dumped "$T/jetty.out"
sleep 1
sed '0,/^exhausted$/d' "$T/jetty.out" > "$OUT/tdump_poolwait_jetty.txt"

# --- Blocked: eight threads on one lock -------------------------------------------------
java -Xmx64m -cp "$T" Blocked > "$T/blocked.out" 2>&1 &
JPID=$!
PIDS="$PIDS $JPID"
until_true grep -q ready "$T/blocked.out"
kill -QUIT $JPID
until_true dumped "$T/blocked.out"
sleep 1
sed '0,/^ready$/d' "$T/blocked.out" > "$OUT/tdump_blocked.txt"
