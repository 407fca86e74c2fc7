#!/usr/bin/env python3
"""The dashboard's first frames as a person sees them: leaktop at 80x24 in tmux, its
pane read every 10 ms, and the ms from launch to the first frame with socket counts
("TCP N:", N > 0) and to the first with processes ("Procs N"). The pane is read through
one tmux control-mode client (capture-pane over a pipe, under 0.1 ms a read), not a
process a read: a poller that forked a shell pipeline every 5 ms took a core from the
refresh it timed (on 2 cores it put 2 s on the owners at a million sockets; one tmux
client every 20 ms still 0.8 s).
Prints "FIRST_MS OWNERS_MS VMHWM_KB SELF_FIRST_MS SELF_OWNERS_MS"; the last two are
leaktop's own figures (LEAKTOP_TIMING's "drawn ... from launch"), "-" when missing.
usage: bench/paint.py LEAKTOP [extra leaktop args...]"""
import os, re, subprocess, sys, tempfile, time

lt, extra = sys.argv[1], sys.argv[2:]
tm = ["tmux", "-L", "paint-%d" % os.getpid(), "-f", "/dev/null"]
err = tempfile.NamedTemporaryFile(prefix="leaktop-paint-", suffix=".err", delete=False).name
t0 = time.monotonic()
subprocess.run(tm + ["new-session", "-d", "-s", "p", "-x", "80", "-y", "24", "sh", "-c",
                     'TERM=screen LEAKTOP_TIMING=1 exec "$0" --delay 60 "$@" 2>' + err, lt] + extra,
               check=True)
ctl = subprocess.Popen(tm + ["-C", "attach", "-t", "p"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                       text=True, bufsize=1)


def block():
    """The next command's output (between %begin and %end); notifications skipped."""
    out = None
    for line in ctl.stdout:
        if line.startswith("%begin"):
            out = []
        elif out is not None and line.startswith(("%end", "%error")):
            return "".join(out)
        elif out is not None:
            out.append(line)
    sys.exit("bench/paint.py: the tmux control client ended")


def tmux(command):
    ctl.stdin.write(command + "\n")
    ctl.stdin.flush()
    return block()


first = owners = None
hwm = "-"
try:
    block()  # the attach's own
    while time.monotonic() - t0 < 600:
        screen = tmux("capture-pane -p -t p")
        t = (time.monotonic() - t0) * 1000
        if first is None and re.search(r"^TCP [1-9][0-9]*:", screen, re.M):
            first = t
        if first is not None and re.search(r"Procs [1-9]", screen):
            owners = t
            pid = tmux("display-message -p -t p '#{pane_pid}'").strip()
            with open("/proc/%s/status" % pid) as f:
                hwm = next((l.split()[1] for l in f if l.startswith("VmHWM:")), "-")
            break
        time.sleep(0.01)
finally:
    subprocess.run(tm + ["kill-server"], capture_output=True)
    ctl.wait()
own = {}
with open(err) as f:
    for line in f:
        m = re.match(r"leaktop: (first frame|owners).* drawn ([0-9.]+) ms from launch", line)
        if m:
            own.setdefault("first" if m.group(1) == "first frame" else "owners", m.group(2))
            if "with owners" in line:
                own.setdefault("owners", m.group(2))
os.unlink(err)
if first is None or owners is None:
    sys.exit("bench/paint.py: no %s on screen in 600 s" % ("frame" if first is None else "owners"))
print("%.1f %.1f %s %s %s" % (first, owners, hwm, own.get("first", "-"), own.get("owners", "-")))
