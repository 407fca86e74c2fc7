#!/bin/sh
# The handover from a real incident: a leaking server crosses a CLOSE_WAIT alert while
# the dashboard records (tmux, 80x24), and a thread dump of a real JVM (eight threads
# blocked on one lock, its stdout to a file) is taken through the dashboard. The
# Markdown summary names the verdict, the alert and the action with the dump's digest;
# the HTML page has a chart per culprit with event markers, and headless Chromium
# renders it without console errors, drawn (a non-blank screenshot, kept in the build
# directory) with SVG paths of one point per recorded refresh.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need tmux sqlite3 java javac python3

SOCK="$TMP/tmux.sock"
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; cleanup' EXIT
export HOME="$TMP/home"
unset XDG_STATE_HOME XDG_CONFIG_HOME
mkdir -p "$HOME"
LOG="$HOME/.local/state/leaktop/actions.log"
ARTIFACT="$(cd "$top_builddir" && pwd)/tests/live/report_handover.png"

screen() { tmux -S "$SOCK" capture-pane -p -t t; }
keys() { tmux -S "$SOCK" send-keys -t t "$@"; }
on_screen() { screen | grep -qF -- "$1"; }
wait_screen() {
	wait_until 20 on_screen "$1" || { screen >&2; fail "never on screen: $1"; }
}

# The JVM, compiled here; its stdout (where a JVM prints its thread dump) is a file.
javac -d "$TMP" "$srcdir/tests/live/Blocked.java" || fail "javac failed"
bg java -Xmx64m -cp "$TMP" Blocked > "$TMP/java.out" 2>&1
JPID=$BG
wait_until 30 grep -q ready "$TMP/java.out" || fail "the JVM did not start"

# The leak: a server that never closes, a client that keeps connecting.
start_server --name leakysrv
bg "$LEAKY" client --port "$PORT" --every 150 --count 200

tmux -S "$SOCK" new-session -d -s t -x 80 -y 24 \
	"env TERM=xterm $LEAKTOP --no-config -d 0.5 --close-wait-alert=5 -w $TMP/rec.db"
wait_screen "PID"
wait_until 20 sh -c "sqlite3 '$TMP/rec.db' \"SELECT count(*) FROM event WHERE kind = 'alert' AND pid = $SERVER_PID\" | grep -q '^[1-9]'" ||
	fail "no alert recorded for the leaking server"

# The thread dump through the dashboard.
keys F4
wait_screen "Filter:"
keys $(printf 'BSpace %.0s' $(seq 24)) "pid:$JPID" Enter
wait_until 20 sh -c "tmux -S '$SOCK' capture-pane -p -t t | grep -qE '^ *$JPID '" || { screen >&2; fail "JVM not shown"; }
keys D
wait_screen "it handles SIGQUIT"
keys y
wait_until 20 grep -qF "SIGQUIT pid $JPID" "$LOG" || fail "no thread dump logged"
grep -qF "ok: dumped (still running); the dump went to $TMP/java.out" "$LOG" || { cat "$LOG" >&2; fail "not dumped"; }
keys m
wait_screen "d: thread dump"
keys d
wait_screen "Thread dump of pid $JPID"
keys Escape Escape
# A few more refreshes after the dump, then quit.
sleep 3
keys q
wait_until 10 sh -c "! tmux -S '$SOCK' has-session -t t 2>/dev/null" || fail "leaktop did not quit"
assert_eq "the dump is stored with its action" 1 "$(sqlite3 "$TMP/rec.db" \
	"SELECT count(*) FROM event e JOIN event_dump d ON d.event = e.id WHERE e.pid = $JPID AND CAST(d.text AS TEXT) LIKE '%Full thread dump%'")"

# --- Markdown ---------------------------------------------------------------------
"$LEAKTOP" -r "$TMP/rec.db" --report > "$TMP/report.md" || fail "--report failed"
sed -n '/^## Summary/,/^## Timeline/p' "$TMP/report.md" > "$TMP/summary.md"
grep -qE "^- \*\*pid $SERVER_PID leakysrv\*\* .*: (suspect|leak): .*CLOSE\\\\_WAIT" "$TMP/summary.md" ||
	{ cat "$TMP/report.md" >&2; fail "the summary does not name the leaking server's verdict"; }
grep -qE "^- Port \*\*local port $PORT\*\*: (suspect|leak): .*held by pid $SERVER_PID leakysrv" "$TMP/summary.md" ||
	{ cat "$TMP/report.md" >&2; fail "the summary does not name the port and its holder"; }
grep -q "^- [0-9:]* \*\*alert\*\*: warning close\\\\_wait: pid $SERVER_PID (leakysrv)" "$TMP/report.md" ||
	{ cat "$TMP/report.md" >&2; fail "the timeline lacks the alert"; }
grep -q "^- [0-9:]* \*\*action\*\*: SIGQUIT to pid $JPID: dumped (still running)" "$TMP/report.md" ||
	{ cat "$TMP/report.md" >&2; fail "the timeline lacks the action"; }
grep -qE "^  - 8 threads BLOCKED at Blocked.handle:8 on a lock held by main \(TIMED\\\\_WAITING at Blocked.main:[0-9]+\): worker-" "$TMP/report.md" ||
	{ cat "$TMP/report.md" >&2; fail "no digest of the thread dump"; }

# --- HTML ---------------------------------------------------------------------------
"$LEAKTOP" -r "$TMP/rec.db" --report -o html > "$TMP/report.html" || fail "--report -o html failed"
grep -q "<figure id=\"proc-$SERVER_PID-" "$TMP/report.html" || fail "no chart of the leaking server"
grep -q "<figure id=\"proc-$JPID-" "$TMP/report.html" || fail "no chart of the JVM (named by the action)"
grep -q "<figure id=\"port-$PORT-local-6\">" "$TMP/report.html" || fail "no CLOSE_WAIT chart of port $PORT"
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
	refreshes=$(sqlite3 "$TMP/rec.db" "SELECT count(*) FROM refresh r, proc p WHERE p.pid = $SERVER_PID AND r.tick >= p.first_tick")
	python3 - "$TMP/dom.html" "$SERVER_PID" "$refreshes" <<'PY' || fail "the rendered charts do not have a point per refresh"
import re, sys
dom, pid, want = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3])
fig = re.search(r'<figure id="proc-%s-[0-9]+">.*?</figure>' % pid, dom, re.S).group(0)
d = re.search(r'<path class="series" data-points="([0-9]+)" d="([^"]*)"', fig)
points = len(re.findall(r'[ML][0-9.]+,[0-9.]+', d.group(2)))
print("server chart: %d points in the path, %s declared, %d refreshes recorded" % (points, d.group(1), want))
sys.exit(0 if points == int(d.group(1)) and abs(points - want) <= 1 else 1)
PY
	$CHROME --user-data-dir="$TMP/chrome2" --window-size=1000,2600 --screenshot="$TMP/shot.png" \
		"file://$TMP/report.html" 2> "$TMP/chrome2.err" || { cat "$TMP/chrome2.err" >&2; fail "no screenshot"; }
	cp "$TMP/shot.png" "$ARTIFACT" 2>/dev/null || true
	python3 "$srcdir/tests/live/png_check.py" "$TMP/shot.png" || fail "the screenshot is blank or has no chart"
else
	echo "SKIP part: chromium is not installed (sh setup --test)"
fi
echo "ok: the handover names the leak, the alert and the thread dump, in Markdown and HTML"
