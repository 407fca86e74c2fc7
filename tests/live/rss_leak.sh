#!/bin/sh
# A native memory leak, live: a process that allocates and touches 2 MB every 250 ms
# is judged a memory leak, its RSS growth close to 480 MB/min and its RSS what the
# kernel says; one that takes as much in a single step is not. A 6 s growth window
# keeps the test short. Then the 80x24 dashboard at its defaults (2 s, a 5 minute
# window): a process growing 6 MB/s with flat fds reads leak in its VERDICT column,
# and its reason on the message line, within 32 refreshes (a minute of growth: a JVM
# warming up or an RSS sawtooth's rise grows as fast for half of one). In network and pid
# namespaces of its own (on a busy box the history keeps the 512 processes with the
# most fds, and a memory leaker holds few).
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need jq tmux sqlite3
tui_setup rss_leak

bg "$LEAKY" mem --rate 2 --every 250 --count 200 --name memleak
LEAK_PID=$BG
bg "$LEAKY" mem --every 0 --count 64 --name memstep
STEP_PID=$BG
# Held until leaktop has seen it small: its step comes 3 s after it starts, and a busy
# box may take longer than that to start leaktop.
kill -STOP "$STEP_PID"
bg "$LEAKTOP" --batch --no-config -o json -n 0 -d 0.5 --growth-window 0.1 \
	--pid "$LEAK_PID,$STEP_PID" > "$TMP/run.json"
LT_PID=$BG
step_seen() { jq -r "select(.processes) | .processes[] | select(.pid == $STEP_PID) | .rss_kb" "$TMP/run.json" 2>/dev/null | grep -q .; }
wait_until 60 step_seen || fail "leaktop never showed the stepping process"
kill -CONT "$STEP_PID"

# verdict PID: the memory verdict of PID in every complete refresh so far, one a line
verdicts() {
	jq -r "select(.processes) | .processes[] | select(.pid == $1) | .mem_verdict" \
		"$TMP/run.json" 2>/dev/null
}
leak_judged() { verdicts "$LEAK_PID" | grep -qx leak; }
wait_until 60 leak_judged || fail "the leaking process was never judged a memory leak: $(verdicts "$LEAK_PID" | tail -1)"
# And the step seen whole (its 64 MB are touched one by one: slow on a loaded box).
step_rss() { jq -r "select(.processes) | .processes[] | select(.pid == $STEP_PID) | .rss_kb" "$TMP/run.json" 2>/dev/null; }
step_whole() { step_rss | tail -1 | awk '{ exit !($1 > 65536) }'; }
wait_until 60 step_whole || fail "leaktop did not see the step whole: RSS $(step_rss | tail -1) kB"
kill "$LT_PID"
wait "$LT_PID" 2>/dev/null || true

# The first refresh that said so.
jq -c "select(.processes) | .processes[] | select(.pid == $LEAK_PID and .mem_verdict == \"leak\")" \
	"$TMP/run.json" 2>/dev/null | head -1 > "$TMP/leak.json"
j() { jq -r "$@" "$TMP/leak.json"; }
echo "ok: the leak's reason: $(j .mem_verdict_reason)"
j '.rss_growth_mb_per_min' | awk '{ exit !($1 >= 240 && $1 <= 960) }' ||
	fail "RSS growth $(j .rss_growth_mb_per_min) MB/min, far from the 480 it allocates"
j '.mem_verdict_reason' | grep -Eq '^RSS \+[0-9.]+ MB/min for [0-9]+s, now [0-9]+ MB$' ||
	fail "the reason does not read 'RSS +N MB/min for Ns, now N MB': $(j .mem_verdict_reason)"

# RSS as the kernel counts it, once the leak has stopped at 200 MB.
full() { [ "$(awk '/^VmRSS/ { print int($2 / 1024) }' "/proc/$LEAK_PID/status")" -ge 200 ]; }
wait_until 60 full || fail "the leaking process did not reach 200 MB"
# It may still be touching its last pages: leaktop's figure must lie between what the
# kernel says just before and just after it looked (2% slack each side).
before=$(awk '/^VmRSS/ { print $2 }' "/proc/$LEAK_PID/status")
"$LEAKTOP" --batch --no-config -o json --pid "$LEAK_PID" > "$TMP/now.json"
after=$(awk '/^VmRSS/ { print $2 }' "/proc/$LEAK_PID/status")
ours=$(jq -r ".processes[] | select(.pid == $LEAK_PID) | .rss_kb" "$TMP/now.json")
awk -v a="$ours" -v lo="$before" -v hi="$after" 'BEGIN { if (hi < lo) { t = lo; lo = hi; hi = t }
	exit !(a >= lo - lo / 50 && a <= hi + hi / 50) }' ||
	fail "rss_kb $ours, but the kernel says VmRSS $before kB before and $after kB after"
echo "ok: rss_kb $ours, VmRSS $before-$after kB"

# One step of 64 MB, taken while leaktop watched, is an allocation, not a leak.
jq -r "select(.processes) | .processes[] | select(.pid == $STEP_PID) | .rss_kb" "$TMP/run.json" \
	2>/dev/null > "$TMP/step.rss"
awk 'NR == 1 { first = $1 } { last = $1 } END { exit !(first < 32768 && last > 65536) }' "$TMP/step.rss" ||
	fail "leaktop did not see the step: RSS $(head -1 "$TMP/step.rss") kB, then $(tail -1 "$TMP/step.rss") kB"
if verdicts "$STEP_PID" | grep -qx leak; then
	fail "a single 64 MB step was judged a memory leak"
fi
echo "ok: the single step stayed $(verdicts "$STEP_PID" | sort -u | xargs)"

# --- The 80x24 dashboard at its default refresh and window -------------------------
bg "$LEAKY" mem --rate 3 --every 500 --count 400 --name memgrow
GROW_PID=$BG
screen() { $TM capture-pane -p -t lt; }
new_tmux
OUT=$(mktemp -d "$TMP/run.XXXXXX")
$TM new-session -d -s lt -x 80 -y 24 env TERM=xterm-256color LANG=C.UTF-8 XDG_CONFIG_HOME="$TMP/cfg" \
	"$RUN" "$OUT" "$LEAKTOP" --no-config --pid "$GROW_PID" -w "$TMP/grow.db"
wait_until 60 test -s "$OUT/pid" || fail "leaktop did not start"
row_leak() { screen | grep -Eq "^ *$GROW_PID .*memgrow.* leak"; }
# Within 32 refreshes, counted in its recording (a busy box makes refreshes late, not
# fewer): the row says leak, or 33 refreshes have gone by.
refreshes() { rec_refreshes "$TMP/grow.db"; }
leak_or_late() { row_leak || [ "$(refreshes)" -ge 33 ]; }
wait_until 300 leak_or_late || { screen >&2; fail "the dashboard stopped refreshing"; }
row_leak || { screen >&2; fail "the 80x24 row did not say leak within 32 refreshes for a 6 MB/s RSS leak"; }
echo "ok: $(screen | grep -E "^ *$GROW_PID ")"
screen | grep -q "memory: RSS +" || { screen >&2; fail "the message line lacks the memory reason"; }
echo "ok: $(screen | grep "memory: RSS +")"
echo "PASS"
