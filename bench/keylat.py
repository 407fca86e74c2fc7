#!/usr/bin/env python3
"""Key latency of the dashboard while refreshes run, as a person sees it: leaktop at
80x24 in tmux (-d 1: a refresh as soon as the last is shown), '?' pressed (help up)
and pressed again (help down) at random moments, and the time from tmux send-keys to
the first capture-pane showing the change; then leaktop's own figures
(LEAKTOP_TIMING: key to screen, lock waits, pane rebuilds; what each refresh shown
cost the screen's thread, which a key arriving meanwhile waits for before leaktop
reads it), from its standard error.
Run it beside a load (bench/loadgen), as root to see every process.
--keys KEYS first sends KEYS (tmux key names, space-separated) once the owners are
on screen, and waits for REGEX (--wait) to show: the presses are then timed in the
view those keys opened ("2 Enter": the sockets of the ports pane's first port).
usage: bench/keylat.py [--keys KEYS --wait REGEX] LEAKTOP PRESSES [extra leaktop args...]"""
import os, random, re, statistics, subprocess, sys, time
args, keys, wait = sys.argv[1:], [], None
while args and args[0] in ("--keys", "--wait"):
    if args[0] == "--keys":
        keys = args[1].split()
    else:
        wait = args[1]
    args = args[2:]
lt, presses, extra = args[0], int(args[1]), args[2:]
sock = "keylat-%d" % time.time_ns()
tm = ["tmux", "-L", sock, "-f", "/dev/null"]
def cap():
    return subprocess.run(tm + ["capture-pane", "-p", "-t", "k"], capture_output=True, text=True).stdout
errf = "/tmp/leaktop-keylat-%d.err" % time.time_ns()
subprocess.run(tm + ["new-session", "-d", "-s", "k", "-x", "80", "-y", "24", "sh", "-c",
                     'TERM=screen LEAKTOP_TIMING=1 exec "$0" -d 1 "$@" 2>' + errf, lt] + extra, check=True)
try:
    t0 = time.monotonic()
    while not re.search(r"Procs [1-9]", cap()):
        if time.monotonic() - t0 > 300:
            sys.exit("no owners in 300 s")
        time.sleep(0.05)
    print("owners on screen after %.1f s; %s" % (time.monotonic() - t0, " ".join(l for l in cap().splitlines() if l.startswith("TCP"))[:78]), flush=True)
    if keys:
        subprocess.run(tm + ["send-keys", "-t", "k"] + keys, check=True)
        t1 = time.monotonic()
        while wait and not re.search(wait, cap(), re.M):
            if time.monotonic() - t1 > 60:
                sys.exit("no %r in 60 s after %s" % (wait, " ".join(keys)))
            time.sleep(0.05)
        shown = [l for l in cap().splitlines() if wait and re.search(wait, l)]
        print("after %s: %s" % (" ".join(keys), (shown or [""])[0][:78]), flush=True)
    time.sleep(3)
    lat = []
    for i in range(presses):
        time.sleep(random.uniform(0.1, 0.9))
        want = (i % 2 == 0)  # help up, then down
        t = time.monotonic()
        subprocess.run(tm + ["send-keys", "-t", "k", "?"], check=True)
        while True:
            up = "Keys:" in cap()
            if up == want:
                break
            if time.monotonic() - t > 30:
                sys.exit("no answer in 30 s")
        lat.append((time.monotonic() - t) * 1000)
    lat.sort()
    print("presses %d: median %.0f ms, p90 %.0f ms, max %.0f ms, over 200 ms: %d" % (
        len(lat), statistics.median(lat), lat[int(len(lat) * 0.9) - 1], lat[-1], sum(l > 200 for l in lat)))
    print("all:", " ".join("%.0f" % l for l in lat))
    subprocess.run(tm + ["send-keys", "-t", "k", "q"])
    time.sleep(1)
    ins, waits, rebuilds = [], [], []
    for l in open(errf):
        m = re.match(r"leaktop: key to screen ([0-9.]+) ms: lock waits ([0-9.]+) ms, panes rebuilt ([0-9.]+) ms", l)
        if m:
            ins.append(float(m.group(1))); waits.append(float(m.group(2))); rebuilds.append(float(m.group(3)))
    refs = [float(x) for x in re.findall(r"refresh \d+: ([0-9.]+) ms", open(errf).read())]
    # Each refresh's cost to the screen's thread (with --keys, those after the keys).
    ui, seen_key = [], not keys
    for l in open(errf):
        seen_key = seen_key or l.startswith("leaktop: key to screen")
        m = re.match(r"leaktop: refresh on screen: panes rebuilt ([0-9.]+) ms, drawn ([0-9.]+) ms", l)
        if m and seen_key:
            ui.append((float(m.group(1)), float(m.group(2))))
    if keys and len(ins) > presses:
        # The keys that opened the view, apart: the presses are the last lines.
        print("in leaktop, %s: %.1f ms (panes rebuilt %.1f ms)" % (" ".join(keys), sum(ins[:-presses]), sum(rebuilds[:-presses])))
        ins, waits, rebuilds = ins[-presses:], waits[-presses:], rebuilds[-presses:]
    if ins:
        ins.sort()
        print("in leaktop (%d keys): median %.1f ms, p90 %.1f ms, max %.1f ms; lock wait max %.1f ms, rebuild max %.1f ms; refreshes %d, median %.0f ms" % (
            len(ins), statistics.median(ins), ins[int(len(ins) * 0.9) - 1], ins[-1], max(waits), max(rebuilds), len(refs), statistics.median(refs) if refs else 0))
    if ui:
        # What a key arriving during a refresh's rebuild waits for before it is read.
        busy = sorted(r + d for r, d in ui)
        print("each refresh on screen (%d), panes rebuilt + drawn: median %.1f ms, max %.1f ms (rebuilt max %.1f ms)" % (
            len(busy), statistics.median(busy), busy[-1], max(r for r, d in ui)))
finally:
    subprocess.run(tm + ["kill-server"], stderr=subprocess.DEVNULL)
    if os.path.exists(errf):
        os.remove(errf)
