#!/bin/sh
# The handover from a real incident, recorded by the dashboard (tmux, 80x24): an Apache
# HttpClient 4.5 pool exhausted against a real nginx (tests/live/java/PoolWait.java
# leases 60 connections and never reads nor closes a response, so main waits in the
# pool) beside a server that never closes what it accepts, and a thread dump of the
# JVM taken through the dashboard. The Markdown report leads with the JVM and what its
# pile became (stalled), its next steps name the code the dump shows waiting for a
# pooled connection and the exhausted pool, the server's inbound pile has its own
# step, addresses have one form, and the leaktop that recorded is in no row. The HTML
# page tells the same, has a chart per culprit with event markers, and headless
# Chromium renders it without console errors, drawn (a non-blank screenshot, kept in
# the build directory) with SVG paths of one point per recorded refresh.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need tmux sqlite3 java javac python3 nginx
J=/usr/share/java
CP=$TMP
for jar in httpclient httpcore commons-logging jetty9-server jetty9-util jetty9-http jetty9-io servlet-api; do
	[ -r "$J/$jar.jar" ] || { echo "SKIP: needs $J/$jar.jar (libhttpclient-java, libjetty9-java)"; exit 77; }
	CP=$CP:$J/$jar.jar
done

SOCK="$TMP/tmux.sock"
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; cleanup' EXIT
export HOME="$TMP/home"
unset XDG_STATE_HOME XDG_CONFIG_HOME
mkdir -p "$HOME" "$TMP/www" "$TMP/logs"
LOG="$HOME/.local/state/leaktop/actions.log"
ARTIFACT="$(cd "$top_builddir" && pwd)/tests/live/report_handover.png"

screen() { tmux -S "$SOCK" capture-pane -p -t t; }
keys() { tmux -S "$SOCK" send-keys -t t "$@"; }
on_screen() { screen | grep -qF -- "$1"; }
wait_screen() {
	wait_until 30 on_screen "$1" || { screen >&2; fail "never on screen: $1"; }
}
sql() { rec_sql "$TMP/rec.db" "$1"; }

# nginx, serving a body bigger than HttpClient buffers, closing idle keep-alives at 2 s.
chmod 711 "$TMP" # its worker runs as nobody
head -c 20000 /dev/zero | tr '\0' x > "$TMP/www/big.txt"
chmod -R a+rX "$TMP/www"
cat > "$TMP/nginx.conf" <<EOF
worker_processes 1;
pid $TMP/nginx.pid;
error_log $TMP/logs/error.log;
events { worker_connections 1024; }
http { access_log off; keepalive_timeout 2s; client_body_temp_path $TMP/body;
  server { listen 127.0.0.1:8080; root $TMP/www; } }
EOF
bg nginx -p "$TMP" -c "$TMP/nginx.conf" -g 'daemon off;'
wait_until 30 ss_is 1 -l "sport = :8080" || fail "nginx did not listen"
javac -d "$TMP" -cp "$CP" "$srcdir/tests/live/java/PoolWait.java" || fail "javac failed"

tmux -S "$SOCK" new-session -d -s t -x 80 -y 24 \
	"env TERM=xterm $LEAKTOP --no-config -d 0.5 --close-wait-alert=5 -w $TMP/rec.db"
wait_screen "PID"

# The inbound leak: a server that never closes, a client that keeps connecting.
start_server --name leakysrv
bg "$LEAKY" client --port "$PORT" --every 150 --count 30
# The outbound one: the pool of 60, exhausted.
bg java -Xmx64m -cp "$CP" PoolWait http://127.0.0.1:8080/big.txt 60 > "$TMP/java.out" 2>&1
JPID=$BG
wait_until 60 grep -q exhausted "$TMP/java.out" || { cat "$TMP/java.out" >&2; fail "the pool was not exhausted"; }
wait_until 60 ss_is 60 state close-wait "dport = :8080" || fail "no 60 CLOSE_WAIT to nginx"
full=$(date +%s)
wait_until 30 sh -c "sqlite3 '$TMP/rec.db' \"SELECT count(*) FROM event WHERE kind = 'alert' AND pid = $SERVER_PID\" | grep -q '^[1-9]'" ||
	fail "no alert recorded for the leaking server"
# The pile stands still: the model calls that a stall after 10 s and 5 refreshes.
wait_until 60 sh -c "[ \"\$(sqlite3 '$TMP/rec.db' 'SELECT count(*) FROM refresh WHERE time > $full + 12')\" -ge 5 ]" ||
	fail "the recording did not go on for 12 s after the pile was complete"

# The thread dump through the dashboard.
keys F4
wait_screen "Filter:"
keys $(printf 'BSpace %.0s' $(seq 24)) "pid:$JPID" Enter
wait_until 30 sh -c "tmux -S '$SOCK' capture-pane -p -t t | grep -qE '^ *$JPID '" || { screen >&2; fail "JVM not shown"; }
keys D
wait_screen "it handles SIGQUIT"
keys y
wait_until 30 grep -qF "SIGQUIT pid $JPID" "$LOG" || fail "no thread dump logged"
grep -qF "ok: dumped (still running); the dump went to $TMP/java.out" "$LOG" || { cat "$LOG" >&2; fail "not dumped"; }
keys m
wait_screen "d: read the thread dump"
keys d
wait_screen "Thread dump of pid $JPID"
# The viewer opens on the digest: the thread waiting in the pool, named by our code.
wait_screen "Digest (the dump follows):"
wait_screen "WAITING for a pooled connection (HttpClient 4"
keys Escape Escape
# A few more refreshes after the dump, then quit.
dumped=$(sql "SELECT max(time) FROM event")
wait_until 30 sh -c "[ \"\$(sqlite3 '$TMP/rec.db' 'SELECT count(*) FROM refresh WHERE time > $dumped')\" -ge 3 ]" ||
	fail "no refresh recorded after the dump"
keys q
wait_until 30 sh -c "! tmux -S '$SOCK' has-session -t t 2>/dev/null" || fail "leaktop did not quit"
assert_eq "the dump is stored with its action" 1 "$(sql \
	"SELECT count(*) FROM event e JOIN event_dump d ON d.event = e.id WHERE e.pid = $JPID AND CAST(d.text AS TEXT) LIKE '%Full thread dump%'")"
assert_eq "the recording holds the leaktop that made it" 1 "$(sql "SELECT count(*) FROM proc WHERE comm = 'leaktop'")"

# --- Markdown ---------------------------------------------------------------------
"$LEAKTOP" -r "$TMP/rec.db" --report > "$TMP/report.md" || fail "--report failed"
sed -n '/^## Summary/,/^## Next steps/p' "$TMP/report.md" > "$TMP/summary.md"
sed -n '/^## Next steps/,/^## Timeline/p' "$TMP/report.md" > "$TMP/steps.md"
show() { cat "$TMP/report.md" >&2; fail "$1"; }
[ -s "$TMP/steps.md" ] || show "no Next steps between the Summary and the Timeline"
# It leads with the culprit, and what its pile became.
first=$(grep -m1 '^- ' "$TMP/summary.md")
echo "$first" | grep -q "^- \*\*pid $JPID java\*\* " || show "the summary does not lead with the JVM"
echo "$first" | grep -qE ": leak[^:]*: CLOSE\\\\_WAIT stalled at 60 " || show "the JVM's reason is not its latest (stalled)"
echo "$first" | grep -qF "to 127.0.0.1:8080" || show "the JVM's pile is not told with its endpoint"
grep -qE "^- \*\*pid $SERVER_PID leakysrv\*\* .*: (suspect|leak): .*CLOSE\\\\_WAIT.*on local port $PORT " "$TMP/summary.md" ||
	show "the summary does not name the leaking server and its port"
# The clients' side of the server's pile is its far end: told with it, not apart.
! grep -q "^- Port " "$TMP/summary.md" || show "a port told apart from the process that holds it or its far end"
# One address form; no row for the leaktop that recorded.
! grep -q "ffff" "$TMP/report.md" || show "an IPv4-mapped address in the report"
! grep -qE "^- \*\*pid [0-9]+ leaktop\*\*|^\| [0-9]+ \| leaktop \|" "$TMP/report.md" || show "leaktop has a row"
# Next steps from the evidence: the unread responses and the code the dump shows,
# the exhausted pool, the server's inbound pile.
grep -qE "^- pid $JPID java holds 60 CLOSE\\\\_WAIT connections to 127.0.0.1:8080, with [0-9]+ bytes never read: .* asked by PoolWait.fetch:[0-9]+, called from PoolWait.main:[0-9]+: main\. In that code, read every response" "$TMP/steps.md" ||
	show "no step for the JVM's unread responses naming PoolWait.fetch"
grep -qE "^- pid $JPID java's pile stopped growing at 60 CLOSE\\\\_WAIT at .*connection pool is exhausted" "$TMP/steps.md" ||
	show "no step for the exhausted pool"
grep -qE "^- pid $SERVER_PID leakysrv holds [0-9]+ CLOSE\\\\_WAIT connections it accepted on local port $PORT" "$TMP/steps.md" ||
	show "no step for the server's inbound pile"
grep -q "^- [0-9:]* \*\*alert\*\*: warning close\\\\_wait: pid $SERVER_PID (leakysrv)" "$TMP/report.md" ||
	show "the timeline lacks the alert"
grep -q "^- [0-9:]* \*\*action\*\*: SIGQUIT to pid $JPID: dumped (still running)" "$TMP/report.md" ||
	show "the timeline lacks the action"
grep -qE "^  - 1 thread WAITING for a pooled connection \(HttpClient 4: AbstractConnPool.getPoolEntryBlocking:[0-9]+\) asked by PoolWait.fetch:[0-9]+, called from PoolWait.main:[0-9]+: main$" "$TMP/report.md" ||
	show "the dump's digest does not name the thread waiting in the pool"
# An fd_eta alert that cleared while the pile stayed is a stall, not an all-clear.
if [ "$(sql "SELECT count(*) FROM event WHERE pid = $JPID AND what LIKE 'clear fd_eta:%'")" -gt 0 ]; then
	grep -q "^- [0-9:]* \*\*growth stopped\*\*: fd\\\\_eta cleared because the growth stopped" "$TMP/report.md" ||
		show "the fd_eta clearing is not told as a stall"
	! grep -q "\*\*alert cleared\*\*: clear fd\\\\_eta: pid $JPID " "$TMP/report.md" || show "fd_eta told as an all-clear"
fi

# --- HTML ---------------------------------------------------------------------------
"$LEAKTOP" -r "$TMP/rec.db" --report -o html > "$TMP/report.html" || fail "--report -o html failed"
python3 - "$TMP/report.html" "$JPID" <<'PY' || fail "the page does not lead with the JVM and its next steps"
import re, sys
page, pid = open(sys.argv[1]).read(), sys.argv[2]
summary = re.search(r'<h2>Summary</h2>\n<ul>\n<li>(.*?)</li>', page, re.S).group(1)
steps = re.search(r'<h2>Next steps</h2>\n<ul class="steps">\n(.*?)</ul>', page, re.S).group(1)
ok = ('#proc-%s-' % pid) in summary and 'stalled at 60' in summary and 'ffff' not in page \
	and 'asked by PoolWait.fetch:' in steps and 'connection pool is exhausted' in steps
print("summary: %.160s\nsteps: %.300s" % (summary, steps))
sys.exit(0 if ok else 1)
PY
grep -q "<figure id=\"proc-$SERVER_PID-" "$TMP/report.html" || fail "no chart of the leaking server"
grep -q "<figure id=\"proc-$JPID-" "$TMP/report.html" || fail "no chart of the JVM"
grep -q "<figure id=\"port-$PORT-local-6\">" "$TMP/report.html" || fail "no CLOSE_WAIT chart of port $PORT"
grep -q "<figure id=\"port-8080-remote-6\">" "$TMP/report.html" || fail "no CLOSE_WAIT chart of 127.0.0.1:8080"
[ "$(grep -c 'class="marker m-alert"' "$TMP/report.html")" -ge 3 ] || fail "charts lack alert markers"
[ "$(grep -c 'class="marker m-action"' "$TMP/report.html")" -ge 3 ] || fail "charts lack action markers"
grep -q "<details><summary>the full thread dump" "$TMP/report.html" || fail "no full dump behind <details>"

if command -v chromium >/dev/null; then
	CHROME="chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
		--disable-component-update --disable-sync --enable-logging=stderr --v=0"
	$CHROME --user-data-dir="$TMP/chrome1" --dump-dom "file://$TMP/report.html" > "$TMP/dom.html" 2> "$TMP/chrome.err" ||
		{ cat "$TMP/chrome.err" >&2; fail "chromium could not load the page"; }
	if grep -iE "CONSOLE|Uncaught|Failed to load resource|Refused to" "$TMP/chrome.err" | grep -iE "error|fail|refused|uncaught" >&2; then
		fail "console errors while loading the page"
	fi
	# One point per recorded refresh: the server lived through every one.
	refreshes=$(sql "SELECT count(*) FROM refresh r, proc p WHERE p.pid = $SERVER_PID AND r.tick >= p.first_tick")
	python3 - "$TMP/dom.html" "$SERVER_PID" "$refreshes" <<'PY' || fail "the rendered charts do not have a point per refresh"
import re, sys
dom, pid, want = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
fig = re.search(r'<figure id="proc-%s-[0-9]+">.*?</figure>' % pid, dom, re.S).group(0)
d = re.search(r'<path class="series" data-points="([0-9]+)" d="([^"]*)"', fig)
points = len(re.findall(r'[ML][0-9.]+,[0-9.]+', d.group(2)))
print("server chart: %d points in the path, %s declared, %d refreshes recorded" % (points, d.group(1), want))
sys.exit(0 if points == int(d.group(1)) and abs(points - want) <= 1 else 1)
PY
	$CHROME --user-data-dir="$TMP/chrome2" --window-size=1000,3000 --screenshot="$TMP/shot.png" \
		"file://$TMP/report.html" 2> "$TMP/chrome2.err" || { cat "$TMP/chrome2.err" >&2; fail "no screenshot"; }
	cp "$TMP/shot.png" "$ARTIFACT" 2>/dev/null || true
	python3 "$srcdir/tests/live/png_check.py" "$TMP/shot.png" || fail "the screenshot is blank or has no chart"
else
	echo "SKIP part: chromium is not installed (sh setup --test)"
fi
echo "ok: the handover leads with the exhausted pool, its stall, the code that waits for it and what to do, in Markdown and HTML"
