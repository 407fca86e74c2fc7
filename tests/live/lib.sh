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

cleanup() {
	for p in $BG_PIDS; do kill -9 "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
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
# asserts; with --pid also in a pid namespace with its own /proc, so the only
# processes a dashboard shows are the test's.
own_netns() {
	local pid=""
	if [ "${1:-}" = --pid ]; then
		pid="--pid --fork --mount-proc"
		shift
	fi
	if [ -z "${LEAKTOP_NETNS:-}" ] && command -v unshare >/dev/null && command -v ip >/dev/null; then
		rm -rf "$TMP"
		export srcdir top_builddir
		LEAKTOP_NETNS=1 exec unshare -n $pid sh "$0" "$@"
	fi
	if [ -n "${LEAKTOP_NETNS:-}" ]; then
		ip link set lo up
	fi
}

# tui_setup NAME: what the tmux-driven tests share. new_tmux gives each run a tmux
# server of its own ($TM): a new session on a server still shutting down fails
# ("server exited unexpectedly"); every server is killed on exit.
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
	TM="tmux -L leaktop-$TUI_NAME-$$-$RUNS -f /dev/null"
}
cleanup_tmux() {
	$TM kill-server 2>/dev/null || true
	cleanup
}

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

# wait_until SECS CMD...: poll CMD every 0.1 s until it succeeds.
wait_until() {
	local n=$(( $1 * 10 )); shift
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
	wait_until 10 test -s "$ready" || fail "leaky server did not start"
	PORT=$(cat "$ready")
}

ss_count() { # ss_count STATE PORT: sockets in STATE with that local port
	ss -tanH state "$1" "sport = :$2" | wc -l
}

assert_eq() { # assert_eq WHAT EXPECTED ACTUAL
	[ "$2" = "$3" ] || fail "$1: expected '$2', got '$3'"
	echo "ok: $1 = $3"
}
