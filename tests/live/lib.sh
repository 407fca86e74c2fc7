# Shared by the live tests: root check, background processes cleaned up on exit,
# polling, and assertions. Loopback (127.0.0.0/8) only.
set -eu
if [ -z "${LEAKTOP_LIVE:-}" ]; then
	echo "SKIP: live test; run it with make check-live (as root)"
	exit 77
fi
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
LEAKTOP=${LEAKTOP:-$top_builddir/leaktop}
LEAKY=${LEAKY:-$top_builddir/tests/leaky}
BG_PIDS=""
TMP=$(mktemp -d "${TMPDIR:-/tmp}/leaktop-live.XXXXXX")
# In the sanitizer passes (make check-tsan, check-sanitizers) every report goes to a
# file of this test's own, whatever ran it: leaktop in a tmux pane (whose stderr is
# the screen), in the background (killed, its exit status never read) or in a pipe.
# Any such file fails the test at its end (sanitizer_reports) and is printed, even if
# what it asserted held.
# ThreadSanitizer runs leaktop 5-15 times slower: every wait_until bound is 3 times longer.
WAIT_SCALE=1
if [ -n "${LEAKTOP_TSAN:-}" ]; then
	TSAN_OPTIONS="${TSAN_OPTIONS:-} log_path=$TMP/sanitizer-report"
	export TSAN_OPTIONS
	WAIT_SCALE=3
fi
if [ -n "${LEAKTOP_SANITIZERS:-}" ]; then
	ASAN_OPTIONS="${ASAN_OPTIONS:-} log_path=$TMP/sanitizer-report"
	UBSAN_OPTIONS="${UBSAN_OPTIONS:-} log_path=$TMP/sanitizer-report print_stacktrace=1"
	export ASAN_OPTIONS UBSAN_OPTIONS
fi

sanitizer_reports() {
	local f found=""
	for f in "$TMP"/sanitizer-report.*; do
		[ -e "$f" ] || continue
		found=1
		echo "FAIL: sanitizer report ($f):" >&2
		cat "$f" >&2
	done
	[ -z "$found" ]
}

cleanup() {
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if ! sanitizer_reports; then
		rm -rf "$TMP"
		exit 1
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: needs root"
		exit 77
	fi
}

# own_netns [--pid] "$@": rerun the calling test in a network namespace of its own
# (loopback up), so sockets other programs hold on this box do not crowd what it
# asserts, nor take its port numbers; with --pid also in a pid namespace with its own
# /proc, so the only processes leaktop sees are the test's, and the only namespace it
# dumps is the one ss sees (as root it dumps the namespace of every process it sees).
# A test that cannot have them is skipped, not run among the host's sockets.
own_netns() {
	local pid=""
	if [ "${1:-}" = --pid ]; then
		pid="--pid --fork --mount-proc"
		shift
	fi
	if [ -z "${LEAKTOP_NETNS:-}" ]; then
		need unshare ip ss
		unshare -n $pid true 2>/dev/null || { echo "SKIP: cannot create namespaces (unshare -n $pid)"; exit 77; }
		rm -rf "$TMP"
		export srcdir top_builddir
		LEAKTOP_NETNS=1 exec unshare -n $pid sh "$0" "$@"
	fi
	ip link set lo up
	# A fresh namespace: no TCP socket but the test's own from here on.
	[ "$(ss -tanH | wc -l)" = 0 ] || fail "a new network namespace with TCP sockets in it"
	if [ -n "$pid" ]; then
		[ "$$" = 1 ] || fail "not pid 1 of a pid namespace of its own"
	fi
}

# tui_setup NAME: what the tmux-driven tests share. new_tmux gives each run a tmux
# server of its own ($TM): a new session on a server still shutting down fails
# ("server exited unexpectedly"); every server is killed on exit. The server's name
# comes from $TMP, unique on the box: $$ is 1 in every pid namespace, and the same
# test run twice at once (another worktree's) shared, and killed, one server.
tui_setup() {
	TUI_NAME=$1
	LEAKTOP=$(cd "$(dirname "$LEAKTOP")" && pwd)/$(basename "$LEAKTOP")
	RUN="$(cd "$srcdir" && pwd)/tests/live/tui_run.sh"
	LEAKTOP_THEME_PATH="$(cd "$srcdir" && pwd)/themes"
	export LEAKTOP_THEME_PATH
	RUNS=0
	TM=true
	trap 'cleanup_tmux' EXIT
}
new_tmux() {
	$TM kill-server 2>/dev/null || true
	RUNS=$((RUNS + 1))
	TM="tmux -L leaktop-$TUI_NAME-${TMP##*.}-$RUNS -f /dev/null"
}
cleanup_tmux() {
	$TM kill-server 2>/dev/null || true
	cleanup
}

# rec_sql FILE SQL: a query of a recording leaktop may be writing: each refresh's
# commit locks the file for a moment (its journal is in memory, no WAL), and on a
# busy box that moment is long enough for a query to meet "database is locked".
rec_sql() { sqlite3 -cmd ".timeout 30000" "$@"; }
# rec_refreshes FILE: the refreshes a recording holds so far, one row each in its
# refresh table, read only (a wait_until that counted them by replaying the whole file
# through leaktop -r, ten times a second, spent more CPU than the rest of its test).
rec_refreshes() { rec_sql "file:$1?mode=ro" "SELECT count(*) FROM refresh" 2>/dev/null || echo 0; }

need() {
	for c in "$@"; do
		command -v "$c" >/dev/null || { echo "SKIP: needs $c"; exit 77; }
	done
}

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# bg CMD...: start CMD in the background; its pid lands in $BG.
bg() {
	"$@" &
	BG=$!
	BG_PIDS="$BG_PIDS $BG"
}

# wait_until SECS CMD...: poll CMD every 0.1 s until it succeeds (about SECS seconds
# when CMD is quick, longer on a busy machine; 3 times that under ThreadSanitizer).
# Bounds are generous (30-60 s): they only decide how long a broken test takes to fail.
wait_until() {
	local n=$(( $1 * 10 * WAIT_SCALE )); shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		sleep 0.1
	done
}

# start_server [leaky server options]: starts a leaking server; sets SERVER_PID and PORT.
start_server() {
	local ready; ready=$(mktemp "$TMP/ready.XXXXXX")
	bg "$LEAKY" server --ready "$ready" "$@" >/dev/null
	SERVER_PID=$BG
	wait_until 30 test -s "$ready" || fail "leaky server did not start"
	PORT=$(cat "$ready")
}

ss_count() { # ss_count STATE PORT: sockets in STATE with that local port
	ss -tanH state "$1" "sport = :$2" | wc -l
}
ss_is() { # ss_is N SS-FILTER...: ss -tan lists exactly N sockets so filtered
	local n=$1; shift
	[ "$(ss -tanH "$@" | wc -l)" -eq "$n" ]
}
ss_ge() { # ss_ge N SS-FILTER...: ss -tan lists N or more sockets so filtered
	local n=$1; shift
	[ "$(ss -tanH "$@" | wc -l)" -ge "$n" ]
}
# wait_ss N SS-FILTER...: until the sockets so filtered are exactly N, so that what is
# compared with ss afterwards is a settled load, not one still changing.
wait_ss() {
	local n=$1; shift
	wait_until 30 ss_is "$n" "$@" || fail "ss never listed $n sockets for '$*' (now $(ss -tanH "$@" | wc -l))"
}

assert_eq() { # assert_eq WHAT EXPECTED ACTUAL
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	echo "ok: $1 = $3"
}
