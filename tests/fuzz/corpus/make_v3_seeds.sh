#!/bin/sh
# How the format 3 seeds of tests/fuzz/corpus/record and corpus/frame were made (as
# root, with a leaktop of format 3.0 and the sqlite3 shell): a recording of three
# refreshes in fresh pid and network namespaces, its padding frames dropped and its
# pages made 512 bytes (the reader takes any page size) to keep it small; then
# copies with a table made an endless view, a trigger, text in an integer column,
# and, as "LKTPFUZZ" inputs (tests/fuzz/fuzz_record.c), with side files: another
# recording's WAL beside it, and a format 2 file with its own WAL. The frame seeds
# are its frames without their header and CRC.
# Usage: unshare -n --pid --fork --mount-proc sh make_seeds.sh BUILDDIR SRCDIR OUTDIR
set -eu
B=$1 S=$2 O=$3
ip link set lo up
T=$(mktemp -d)
mkdir -p "$O/record" "$O/frame"
"$B/tests/leaky" server --name leakysrv --ready "$T/ready" >/dev/null &
while [ ! -s "$T/ready" ]; do sleep 0.1; done
"$B/tests/leaky" client --port "$(cat "$T/ready")" --count 3 --bytes 100
"$B/leaktop" -b -n 3 -d 0.2 -w "$T/r.db" >/dev/null
kill %1 2>/dev/null || true
small() { sqlite3 "$1" "DELETE FROM frame WHERE id <= 0; PRAGMA page_size = 512; VACUUM;"; }
small "$T/r.db"
cp "$T/r.db" "$O/record/v3_three_refreshes.db"
cp "$T/r.db" "$T/v.db"
sqlite3 "$T/v.db" "DROP TABLE sock; CREATE VIEW sock AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
 SELECT x AS id, x AS cookie, 0 AS netns, 2 AS family, 6 AS proto, 1 AS type, '' AS laddr, 1 AS lport, '' AS raddr,
 2 AS rport, '' AS name, 0 AS peer, 1 AS first_tick FROM c"
cp "$T/v.db" "$O/record/v3_endless_view.db"
cp "$T/r.db" "$T/t.db"
sqlite3 "$T/t.db" "CREATE TRIGGER t AFTER INSERT ON refresh BEGIN DELETE FROM sock; END"
cp "$T/t.db" "$O/record/v3_trigger.db"
cp "$S/tests/data/rec-2.0.db" "$T/w.db"
sqlite3 "$T/w.db" "PRAGMA journal_mode = DELETE; PRAGMA page_size = 512; VACUUM;
 UPDATE sock_change SET state = 'x', inode = 1.5 WHERE tick = 2"
cp "$T/w.db" "$O/record/v2_wrong_types.db"
# A format 2 file with its own WAL: rows changed by a writer killed before its checkpoint.
cp "$S/tests/data/rec-2.0.db" "$T/o.db"
python3 - "$T/o.db" <<'PY'
import os, signal, sqlite3, sys
if os.fork() == 0:
    c = sqlite3.connect(sys.argv[1], isolation_level=None)
    c.execute("PRAGMA wal_autocheckpoint = 0")
    c.execute("INSERT INTO refresh SELECT tick + 1, time + 1, refresh_ms, status, sockets, procs, unreadable,"
              " file_alloc, file_max, closed_valid, netns_limited FROM refresh WHERE tick = (SELECT max(tick) FROM refresh)")
    os.kill(os.getpid(), signal.SIGKILL)
os.wait()
PY
part() { printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
fuzzin() { # OUT MAIN [WAL]
	{ printf LKTPFUZZ; part "$(stat -c %s "$2")"; cat "$2"
	  if [ -n "${3:-}" ]; then part "$(stat -c %s "$3")"; cat "$3"; fi; } > "$1"
}
fuzzin "$O/record/v2_own_wal.fuzz" "$T/o.db" "$T/o.db-wal"
fuzzin "$O/record/v3_foreign_wal.fuzz" "$T/r.db" "$T/o.db-wal"
i=0
sqlite3 "$T/r.db" "SELECT hex(substr(data, 4, length(data) - 7)) FROM frame ORDER BY id" | while read -r h; do
	i=$((i + 1))
	echo "$h" | xxd -r -p > "$O/frame/frame$i"
done
rm -rf "$T"
