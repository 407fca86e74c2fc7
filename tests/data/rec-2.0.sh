#!/bin/sh
# How tests/data/rec-2.0.db was made (as root, with the leaktop of commit 7b1e34c),
# and rec-2.1.db and rec-2.2.db the same way with the leaktop of commits 2430635
# (format 2.1) and 600011a (format 2.2); their outputs by the leaktop of 600011a:
# a CLOSE_WAIT leak, held ESTABLISHED clients and a listener on loopback, in a
# network and pid namespace of their own so only these sockets and processes are
# recorded. Its 4 KB pages were then made 1 KB to keep it small (the rows are
# untouched): sqlite3 rec-2.0.db 'PRAGMA journal_mode=DELETE; PRAGMA page_size=1024;
# VACUUM; PRAGMA journal_mode=WAL;'. Then its replays, which check_record compares
# with every build (run from a copy, with HOME and XDG_CONFIG_HOME an empty folder):
#   TZ=UTC leaktop -r rec-2.0.db -b [-o json] > rec-2.0.{txt,json}
#   TZ=UTC leaktop -r rec-2.0.db --report > rec-2.0.md
# Usage: unshare -n --pid --fork --mount-proc sh tests/data/rec-2.0.sh BUILDDIR OUT.db
set -eu
B=$1 OUT=$2
ip link set lo up
T=$(mktemp -d)
"$B/tests/leaky" server --name leakysrv --ready "$T/ready" >/dev/null &
while [ ! -s "$T/ready" ]; do sleep 0.1; done
PORT=$(cat "$T/ready")
"$B/tests/leaky" client --port "$PORT" --count 5 --bytes 100
"$B/tests/leaky" client --port "$PORT" --count 3 --hold &
"$B/tests/leaky" client --port "$PORT" --count 6 --bytes 100 --every 150 &
sleep 0.2
"$B/leaktop" -b -n 4 -d 0.3 -w "$OUT" >/dev/null
kill %1 %2 %3 2>/dev/null || true
rm -rf "$T"
