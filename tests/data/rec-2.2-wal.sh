#!/bin/sh
# How tests/data/rec-2.2-wal.db and rec-2.2-wal.db-wal were made (as root, with the
# leaktop of commit 600011a, format 2.2): the load of rec-2.0.sh recorded at 0.3 s,
# its WAL checkpointed into the file by another process after the third refresh,
# then the writer killed (SIGKILL) after the sixth: the file holds refreshes 1-3 (or
# more), its WAL the rest, as a leaktop killed mid-recording leaves them.
# Usage: unshare -n --pid --fork --mount-proc sh tests/data/rec-2.2-wal.sh BUILDDIR OUT.db
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
"$B/leaktop" -b -n 0 -d 0.3 -w "$OUT" >/dev/null &
W=$!
refreshes() { sqlite3 "$OUT" 'SELECT count(*) FROM refresh' 2>/dev/null || echo 0; }
while [ "$(refreshes)" -lt 3 ]; do sleep 0.05; done
sqlite3 "$OUT" 'PRAGMA wal_checkpoint(PASSIVE)' >/dev/null
while [ "$(refreshes)" -lt 6 ]; do sleep 0.05; done
kill -9 $W
wait $W 2>/dev/null || true
kill %1 %2 %3 2>/dev/null || true
rm -rf "$T"
