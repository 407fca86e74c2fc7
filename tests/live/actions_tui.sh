#!/bin/sh
# Process actions through the dashboard, in a real terminal (tmux, 80x24): D then y
# delivers SIGQUIT to the process on the row; D then n sends nothing; a pid that was
# reused between the snapshot and the y is refused; R runs a configured command with
# spaces and shell metacharacters and no shell; pid 1 is refused. All logged. In
# network and pid namespaces of its own: pid 1 is the test's shell, and the pids it
# reuses are its namespace's.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need tmux

SOCK="$TMP/tmux.sock"
trap 'tmux -S "$SOCK" kill-server 2>/dev/null || true; cleanup' EXIT
export HOME="$TMP/home"
unset XDG_STATE_HOME XDG_CONFIG_HOME
mkdir -p "$HOME/.config/leaktop"
LOG="$HOME/.local/state/leaktop/actions.log"

screen() { tmux -S "$SOCK" capture-pane -p -t t; }
keys() { tmux -S "$SOCK" send-keys -t t "$@"; }
on_screen() { screen | grep -qF -- "$1"; }
wait_screen() { # wait_screen TEXT: until TEXT is on the screen (30 s at most)
	wait_until 30 on_screen "$1" || { screen >&2; fail "never on screen: $1"; }
}
lines() { [ -f "$1" ] && wc -l < "$1" || echo 0; }
# Show only pid $1 in the processes pane, the row the actions act on.
only_pid() {
	keys F4
	wait_screen "Filter:"
	keys $(printf 'BSpace %.0s' $(seq 24)) "pid:$1" Enter
	wait_screen "Filter: pid:$1"
	wait_until 30 sh -c "tmux -S '$SOCK' capture-pane -p -t t | grep -qE '^ *\*? *$1 '" ||
		{ screen >&2; fail "pid $1 not shown"; }
}

# A JVM stand-in: prints a "thread dump" to stdout on SIGQUIT, and marks it in a file.
MARK="$TMP/quit.marker"
bg "$LEAKY" server --name leakyjava --quit-marker "$MARK" > "$TMP/leaky.out" 2>&1
JPID=$BG

tmux -S "$SOCK" new-session -d -s t -x 80 -y 24 "env TERM=xterm $LEAKTOP -d 0.5 -w $TMP/rec.db"
wait_screen "PID"
only_pid "$JPID"
wait_screen "leakyjava"

# D, then anything but y: nothing is sent.
keys D
wait_screen "Send SIGQUIT (thread dump) to:"
wait_screen "pid $JPID root leakyjava, started "
keys n
wait_screen "cancelled; nothing was sent"

# D, then y: delivered to that process, once, and the screen says where it went.
keys D
wait_screen "Send SIGQUIT (thread dump) to:"
keys y
wait_until 30 test -s "$MARK" || fail "SIGQUIT never reached pid $JPID"
wait_screen "SIGQUIT pid $JPID (leakyjava"
wait_until 30 grep -q "Full thread dump" "$TMP/leaky.out" || fail "no dump in the process's stdout"
assert_eq "SIGQUITs received (D n sent none, D y one)" 1 "$(lines "$MARK")"
grep -qF "SIGQUIT pid $JPID (leakyjava" "$LOG" || fail "not in the action log"
grep -qF "ok: dumped (still running); the dump went to $TMP/leaky.out" "$LOG" || fail "log does not say where the dump went"
assert_eq "log file mode" 600 "$(stat -c %a "$LOG")"

# The signal menu: QUIT first; Enter picks it, Esc leaves.
keys k
wait_screen "Send which signal?"
screen | grep -A1 "Send which signal" | tail -1 | grep -q "3 QUIT" || fail "QUIT is not first in the menu"
keys Escape
wait_until 30 sh -c "! tmux -S '$SOCK' capture-pane -p -t t | grep -q 'Send which signal'" || fail "menu stayed"

# R with nothing configured: refused, saying which line to add where.
keys R
wait_screen "no way to restart leakyjava"
wait_until 30 grep -qF "Add a line to $HOME/.config/leaktop/leaktop.conf: restart.leakyjava = /path/to/command args" "$LOG" ||
	fail "the refusal does not say what to configure"
wait_screen "Messages"
wait_screen "restart.leakyjava = /path/to/command args"
keys Escape

# R with a configured command: exact argv, no shell.
cat > "$TMP/restart-app" <<EOF
#!/bin/sh
for a in "\$@"; do printf '<%s>\n' "\$a"; done > "$TMP/argv.txt"
echo "restarting app"
EOF
chmod 755 "$TMP/restart-app"
printf '%s\n' "# written by the test" \
	"restart.leakyjava = $TMP/restart-app --fast \"two words\" 'semi;colon|pipe' \$(touch $TMP/pwned) >$TMP/redir * \`id\`" \
	> "$HOME/.config/leaktop/leaktop.conf"
keys R
wait_screen "Restart by running:"
wait_screen "restart-app --fast 'two words'"
keys y
wait_until 30 test -s "$TMP/argv.txt" || fail "the restart command never ran"
expected="<--fast>
<two words>
<semi;colon|pipe>
<\$(touch>
<$TMP/pwned)>
<>$TMP/redir>
<*>
<\`id\`>"
assert_eq "restart argv" "$expected" "$(cat "$TMP/argv.txt")"
[ ! -e "$TMP/pwned" ] && [ ! -e "$TMP/redir" ] || fail "a shell interpreted the restart command"
wait_screen "Messages"
wait_screen "| restarting app"
keys Escape
grep -qF "ok: exit 0: restarting app" "$LOG" || fail "restart result not logged"

# A pid reused between the snapshot and the y: refused, the newcomer untouched.
OLD_MARK="$TMP/old.marker" NEW_MARK="$TMP/new.marker"
bg "$LEAKY" server --name leakyold --quit-marker "$OLD_MARK" > /dev/null
OPID=$BG
only_pid "$OPID"
wait_screen "leakyold" # (its name is set just after it starts)
keys D
wait_screen "pid $OPID root leakyold"
kill -9 "$OPID"
wait "$OPID" 2>/dev/null || true
reused=""
for i in $(seq 50); do
	echo $((OPID - 1)) > /proc/sys/kernel/ns_last_pid 2>/dev/null || break
	"$LEAKY" server --name leakynew --quit-marker "$NEW_MARK" > /dev/null &
	NPID=$!
	BG_PIDS="$BG_PIDS $NPID"
	if [ "$NPID" = "$OPID" ]; then reused=1; break; fi
	kill -9 "$NPID"; wait "$NPID" 2>/dev/null || true
done
if [ -n "$reused" ]; then
	keys y
	wait_screen "FAILED: refused"
	wait_until 30 grep -qF "no longer the process you selected" "$LOG" || fail "reuse not refused in the log"
	kill -0 "$NPID" || fail "the new process at pid $OPID died"
	[ ! -e "$NEW_MARK" ] || fail "SIGQUIT reached the process that reused pid $OPID"
	echo "ok: reused pid $OPID refused"
else
	# Could not get the same pid back (no ns_last_pid): the process is just gone.
	keys y
	wait_screen "FAILED"
	grep -qF "pid $OPID has exited" "$LOG" || fail "exited process not refused"
	echo "ok: (pid not reusable here) exited process refused"
fi

# Space tags (in the processes pane); D then acts on every tagged process.
# The first is a wrapper that execs the server once tagged (as `exec java` in a start
# script does): same pid and start time, a new name, which the confirmation must show.
mkfifo "$TMP/go1"
bg sh -c 'read x < "$1"; exec "$2" server --name leakytag1 --quit-marker "$3" > /dev/null' sh \
	"$TMP/go1" "$LEAKY" "$TMP/tag1.marker"
T1=$BG
bg "$LEAKY" server --name leakytag2 --quit-marker "$TMP/tag2.marker" > /dev/null
T2=$BG
# One at a time, each alone on screen: two rows with equal FDS may swap places
# between two key presses when a refresh comes in between.
for t in "$T1" "$T2"; do
	only_pid "$t"
	keys Space
	wait_until 30 sh -c "tmux -S '$SOCK' capture-pane -p -t t | grep -qE '^\* +$t '" ||
		{ screen >&2; fail "tagged row $t not marked"; }
done
echo go > "$TMP/go1"
keys F4
wait_screen "Filter:"
keys $(printf 'BSpace %.0s' $(seq 24)) "leakytag" Enter
# Both rows, tagged, under the names they give themselves once started (a refresh that
# came first shows the name they were started with; the filter matches their cmdline).
wait_until 30 sh -c "[ \$(tmux -S '$SOCK' capture-pane -p -t t | grep -cE '^\* +($T1 .* leakytag1|$T2 .* leakytag2)') -eq 2 ]" ||
	{ screen >&2; fail "the two tagged processes are not shown marked"; }
keys D
wait_screen "Send SIGQUIT (thread dump) to 2 processes:"
wait_screen "pid $T1 root leakytag1"
wait_screen "pid $T2 root leakytag2"
keys y
wait_until 30 test -s "$TMP/tag1.marker" || fail "tagged process 1 got nothing"
wait_until 30 test -s "$TMP/tag2.marker" || fail "tagged process 2 got nothing"
wait_screen "SIGQUIT: 2 done, 0 failed"
keys U
wait_until 30 sh -c "! tmux -S '$SOCK' capture-pane -p -t t | grep -qE '^\* '" || fail "U left tags"

# pid 1: refused before any prompt.
only_pid 1
keys D
wait_screen "refused: pid 1 is init"
on_screen "Send SIGQUIT" && fail "a prompt for pid 1"
grep -qF "SIGQUIT pid 1 " "$LOG" || fail "refusal for pid 1 not logged"

keys q
wait_until 30 sh -c "! tmux -S '$SOCK' has-session -t t 2>/dev/null" || fail "leaktop did not quit"
# The session recording has the actions too (for the next shift's replay).
if command -v sqlite3 >/dev/null; then
	assert_eq "thread dump in the recording" "SIGQUIT" \
		"$(rec_sql "$TMP/rec.db" "select what from event where kind = 'action' and pid = $JPID and result like 'dumped%'")"
fi
echo "ok: actions through the dashboard"
