#!/bin/sh
# The alert rules on a real leak: a server that leaks CLOSE_WAIT towards 82% of its
# fd limit and a process that leaks memory, scraped from `leaktop --listen` once a
# second with curl (a 30 s growth window: a memory leak is one after 24 s of it); the
# scrapes become the input of `promtool test rules` (each
# scrape one minute there: time runs 60 times faster, the values are leaktop's own),
# then leaktop is stopped and the failed scrapes make up == 0. The rules that must
# fire do, for the processes and port they must (the process rule for both: a memory
# leak reads `leak` too); the 90% rule, the slow exporter
# and a memory leak of the server do not. Every metric name the rules and the
# dashboard use is in the scrapes; a scrape has no more series than the README says.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
need curl promtool jq prlimit
own_netns --pid

UP=40 DOWN=7 INSTANCE=fleetbox:9207 LIMIT=200
RULES=$(cd "$srcdir" && pwd)/contrib/prometheus/leaktop.rules.yml
start_server --name fleetsrv
prlimit --pid "$SERVER_PID" --nofile=$LIMIT:$LIMIT
base=$(ls "/proc/$SERVER_PID/fd" | wc -l)
CONNS=$((LIMIT * 82 / 100 - base))
bg "$LEAKTOP" --listen 127.0.0.1:0 -d 0 --growth-window 0.5 --no-config > "$TMP/listen.out"
LISTEN_PID=$BG
wait_until 30 grep -q serving "$TMP/listen.out" || fail "--listen did not start"
URL=$(sed -n 's/^leaktop: serving //p' "$TMP/listen.out")
bg "$LEAKY" mem --rate 1 --every 500 --count 120 --name memleak
MEM_PID=$BG

# Scrape i at second i: the leak over 20 s, then held; leaktop stopped after UP scrapes.
mkdir "$TMP/s"
t0=$(date +%s.%N)
i=0
while [ $i -lt $((UP + DOWN)) ]; do
	[ $i = 1 ] && bg "$LEAKY" client --port "$PORT" --count "$CONNS" --every $((20000 / CONNS)) --bytes 10
	[ $i = $UP ] && { kill "$LISTEN_PID"; wait "$LISTEN_PID" 2>/dev/null || true; }
	if secs=$(curl -sf -m 5 -o "$TMP/s/$i.prom" -w '%{time_total}' "$URL"); then
		echo "$i 1 $secs" >> "$TMP/s/scrapes"
	else
		rm -f "$TMP/s/$i.prom"
		echo "$i 0" >> "$TMP/s/scrapes"
	fi
	i=$((i + 1))
	now=$(date +%s.%N)
	sleep "$(awk -v t0="$t0" -v now="$now" -v i=$i 'BEGIN { d = t0 + i - now; print (d > 0 ? d : 0) }')"
done
kill "$MEM_PID"
# The exporter's own process is no part of what the rules are tested on: in the
# sanitizer build its RSS grows with AddressSanitizer's quarantine, a real memory
# "leak" of that build.
sed -i "/pid=\"$LISTEN_PID\"/d" "$TMP"/s/*.prom 2>/dev/null || true
assert_eq "scrapes answered, then failed" "$UP $DOWN" \
	"$(awk '{ n[$2]++ } END { print n[1] + 0, n[0] + 0 }' "$TMP/s/scrapes")"

# Every name the rules and the dashboard use, in a real scrape.
cat "$TMP"/s/*.prom | sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' | sort -u > "$TMP/families"
for name in $(srcdir=$srcdir sh "$srcdir/tests/fleet_names.sh" --names); do
	grep -qx "$name" "$TMP/families" || fail "$name is used by the rules or the dashboard but not in any scrape"
done
echo "ok: every metric name the rules and the dashboard use is in the scrapes"

# Bounded: at most 25 + 26 N + 20 + 15 (N + 1) series with --top N (the README).
for top in 20 2; do
	if [ $top = 20 ]; then cat "$TMP"/s/*.prom; else "$LEAKTOP" -b --no-config -o openmetrics --top $top; fi |
		awk -v max=$((25 + 26 * top + 20 + 15 * (top + 1))) -v top=$top '
		/^# EOF/ { if (n > max) bad = n; if (n > most) most = n; n = 0; next }
		!/^#/ && NF { n++ }
		/^leaktop_process_fds\{/ { p++ }
		END { printf "ok: --top %d: at most %d series a scrape (bound %d)\n", top, most, max; exit bad > 0 }' ||
		fail "a scrape with --top $top has more series than the README's bound"
done
# The second run cut the processes at 2: the rest is in pid="other".
"$LEAKTOP" -b --no-config -o openmetrics --top 2 | grep -q '^leaktop_process_fds{pid="other"' ||
	fail "--top 2 left nothing to sum as other"

# The rules' tests. promtool compares annotations too; they are checked on one alert
# below, and dropped from a copy of the rules for the others (expr, for, labels stay).
awk '/^ *annotations:/ { skip = index($0, "a"); next }
	skip && (match($0, /[^ ]/) > skip || !NF) { next }
	{ skip = 0; print }' "$RULES" > "$TMP/noann.rules.yml"
promtool check rules "$TMP/noann.rules.yml" >/dev/null || fail "the rules without annotations do not parse"
NS=$(stat -L -c %i /proc/self/ns/net)
P="job: leaktop, instance: \"$INSTANCE\""
SRV="$P, pid: \"$SERVER_PID\", comm: fleetsrv"
MEM="$P, pid: \"$MEM_PID\", comm: memleak"
last=$((UP - 1))m
test_head() { # test_head RULES: a test file's start, with every scrape as its input
	echo "rule_files: [$1]"
	echo "evaluation_interval: 1m"
	echo "tests:"
	echo "  - interval: 1m"
	echo "    input_series:"
	cat "$TMP/series.yml"
}
sh "$srcdir/tests/live/scrapes2series.sh" "$INSTANCE" $((UP + DOWN)) "$TMP/s" > "$TMP/series.yml"
{
	test_head noann.rules.yml
	cat <<EOT
    alert_rule_test:
      - {eval_time: $last, alertname: LeaktopFdUsageHigh,
         exp_alerts: [{exp_labels: {$SRV, severity: warning}}]}
      - {eval_time: $last, alertname: LeaktopFdUsageCritical, exp_alerts: []}
      - {eval_time: $last, alertname: LeaktopProcessLeaking,
         exp_alerts: [{exp_labels: {$SRV, verdict: leak, severity: warning}},
                      {exp_labels: {$MEM, verdict: leak, severity: warning}}]}
      - {eval_time: 20m, alertname: LeaktopCloseWaitGrowing,
         exp_alerts: [{exp_labels: {$P, port: "$PORT", proto: tcp, side: local, netns: "$NS", state: CLOSE_WAIT, severity: warning}}]}
      - {eval_time: 20m, alertname: LeaktopFdExhaustionSoon,
         exp_alerts: [{exp_labels: {$SRV, severity: critical}}]}
      - {eval_time: $last, alertname: LeaktopFdExhaustionSoon, exp_alerts: []}
      - {eval_time: $last, alertname: LeaktopMemoryLeak,
         exp_alerts: [{exp_labels: {$MEM, kind: mem, level: warning, severity: warning}}]}
      - {eval_time: $last, alertname: LeaktopExporterSlow, exp_alerts: []}
      - {eval_time: $last, alertname: LeaktopExporterDown, exp_alerts: []}
EOT
} > "$TMP/fired.test.yml"
# The real rules, annotations and all, on the exporter going away.
{
	test_head "$RULES"
	cat <<EOT
    alert_rule_test:
      - eval_time: $((UP + DOWN - 1))m
        alertname: LeaktopExporterDown
        exp_alerts:
          - exp_labels: {$P, severity: warning}
            exp_annotations:
              summary: leaktop exporter on $INSTANCE is not answering
              description: >-
                On the box: systemctl status leaktop-exporter; journalctl -u leaktop-exporter;
                curl -s http://127.0.0.1:9207/metrics | tail (or the address in /etc/default/leaktop-exporter).
EOT
} > "$TMP/down.test.yml"
(cd "$TMP" && promtool test rules fired.test.yml down.test.yml) ||
	{ cp "$TMP/fired.test.yml" "${TMPDIR:-/tmp}/leaktop-fleet-failed.test.yml"
	  fail "promtool test rules failed (input kept in ${TMPDIR:-/tmp}/leaktop-fleet-failed.test.yml)"; }
echo "PASS"
