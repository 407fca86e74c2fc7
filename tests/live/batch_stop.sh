#!/bin/sh
# A stop signal ends batch mode within a refresh: SIGTERM sent while a refresh reads
# /proc (the third, held there by LEAKTOP_TEST_SCAN_DELAY_MS/_TICK) ends leaktop by
# SIGTERM (a shell sees 143, a parent WIFSIGNALED), soon (the delay is printed; the
# bound is only how long a broken test takes to fail), with no half refresh on
# standard output or in its -w recording, which replays as printed.
# In network and pid namespaces of its own.
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need python3

REC="$TMP/stopped.db"
OUTF="$TMP/stopped.json"
start_server --name leakysrv
bg "$LEAKY" client --port "$PORT" --count 50 --bytes 10 --every 20

# Python reads the status as a parent does (a negative returncode: killed by that
# signal), which a shell's $? cannot tell from exit(143).
LEAKTOP_TEST_SCAN_DELAY_MS=600000 LEAKTOP_TEST_SCAN_DELAY_TICK=3 \
python3 - "$LEAKTOP" "$REC" "$OUTF" "$((60 * WAIT_SCALE))" <<'PY' || fail "see above"
import signal, subprocess, sys, time
leaktop, rec, out, bound = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
with open(out, "wb") as f:
    p = subprocess.Popen([leaktop, "-b", "-o", "json", "-n", "0", "-d", "0", "-w", rec], stdout=f)
    end = time.monotonic() + bound
    while open(out, "rb").read().count(b"\n") < 2:
        if p.poll() is not None or time.monotonic() > end:
            p.kill()
            sys.exit("FAIL: leaktop printed fewer than 2 refreshes")
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    try:
        rc = p.wait(timeout=bound)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit("FAIL: leaktop did not end %.0f s after SIGTERM" % bound)
    print("SIGTERM mid-refresh: ended after %.0f ms, status %d" % ((time.monotonic() - t0) * 1000, rc))
    if rc != -signal.SIGTERM:
        sys.exit("FAIL: status %d, not killed by SIGTERM (-15)" % rc)
PY

# What was printed: two whole refreshes, nothing of the third.
assert_eq "refreshes printed" 2 "$(wc -l < "$OUTF")"
jq -e . "$OUTF" > /dev/null || fail "standard output is not whole JSON documents"
# The recording: closed (no -wal), and it replays as printed.
[ ! -e "$REC-wal" ] || fail "the stop left $REC-wal: the recording was not closed"
"$LEAKTOP" -r "$REC" -b -o json > "$TMP/replay.json" || fail "the recording does not replay"
cmp -s "$TMP/replay.json" "$OUTF" || {
	diff "$OUTF" "$TMP/replay.json" | tr ',' '\n' | grep '^[<>]\|^[^{]' | head -20 >&2 || true
	fail "the stopped recording does not replay as printed"
}

# The same stop from a shell: 128 + 15.
LEAKTOP_TEST_SCAN_DELAY_MS=600000 LEAKTOP_TEST_SCAN_DELAY_TICK=2 "$LEAKTOP" -b -o json -n 0 -d 0 > "$TMP/sh.json" &
W=$!
wait_until 60 sh -c "[ \$(wc -l < '$TMP/sh.json') -ge 1 ]" || fail "the second run printed nothing"
kill -TERM "$W"
rc=0
wait "$W" || rc=$?
assert_eq "status a shell sees after SIGTERM" 143 "$rc"
assert_eq "refreshes printed by the second run" 1 "$(wc -l < "$TMP/sh.json")"
echo "PASS"
