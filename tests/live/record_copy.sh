#!/bin/sh
# A recording copied while leaktop writes it, at moments picked at random: with cp,
# with dd in 4 KB reads, and slowly in 64 KB pieces (as scp over a slow link), each
# copy replays at least every refresh committed before the copy began, exactly as
# the finished file replays them; sqlite3 .backup (what the README advises) gives
# every one. Then the finished file cut at 16 fractions replays the refreshes whose
# frames lie before the cut. In network and pid namespaces of its own; meant to be
# run under load too (bench/busy).
. "${srcdir:-.}/tests/live/lib.sh"
need_root
own_netns --pid "$@"
need jq sqlite3 dd od

REC="$TMP/live.db"
# Refreshes committed so far (SQLite's read lock: none half-written).
committed() { rec_sql "file:$1?mode=ro" "SELECT count(*) FROM frame WHERE kind = 'refresh'" 2>/dev/null || echo 0; }
# A random pause of 0 to 255 ms.
jitter() { sleep "0.$(printf '%03d' "$(od -An -N1 -tu1 /dev/urandom | tr -d ' ')")"; }

start_server --name leakysrv
bg "$LEAKY" client --port "$PORT" --count 100000 --bytes 10 --every 20 >/dev/null
# No alert can fire (the pile passes 100 in a few seconds): a replay prints the
# alerts it recorded on standard error, and a damaged copy's one line is asserted.
bg sh -c "exec \"$LEAKTOP\" -b -o json -n 0 -d 0.1 --close-wait-alert 1000000 -w \"$REC\" > /dev/null"
WRITER=$BG
three() { [ "$(committed "$REC")" -ge 3 ]; }
wait_until 60 three ||
	fail "the recording never reached 3 refreshes"

i=0
for how in cp dd slow cp dd slow cp dd slow cp dd slow backup; do
	i=$((i + 1))
	jitter
	before=$(committed "$REC")
	copy="$TMP/copy$i.db"
	case $how in
	cp) cp "$REC" "$copy" ;;
	dd) dd if="$REC" of="$copy" bs=4096 status=none ;;
	slow) # 64 KB at a time with pauses: the copy spans several commits
		size=$(stat -c %s "$REC") n=0
		: > "$copy"
		while [ $((n * 65536)) -lt "$size" ]; do
			dd if="$REC" bs=65536 skip=$n count=1 status=none >> "$copy"
			n=$((n + 1))
			[ $((n % 8)) = 0 ] && sleep 0.05
		done ;;
	backup) rec_sql "$REC" ".backup '$copy'" ;; # as README says: with a busy timeout
	esac
	rc=0
	"$LEAKTOP" -r "$copy" -b -o json > "$copy.json" 2> "$copy.err" || rc=$?
	got=$(wc -l < "$copy.json")
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "copy $i ($how): exit $rc: $(cat "$copy.err")"
	[ "$rc" = 0 ] || [ "$(wc -l < "$copy.err")" = 1 ] || fail "copy $i ($how): more than one line: $(cat "$copy.err")"
	[ "$got" -ge "$before" ] || fail "copy $i ($how): replays $got refreshes, $before were committed before it: $(cat "$copy.err")"
	[ "$how" != backup ] || [ "$rc" = 0 ] || fail "a .backup copy is not whole: $(cat "$copy.err")"
	echo "ok: copy $i ($how): $before committed before it, it replays $got"
done

kill -TERM "$WRITER"
rc=0
wait "$WRITER" || rc=$?
[ "$rc" = 143 ] || fail "leaktop did not end by SIGTERM (status $rc, not 143)"
"$LEAKTOP" -r "$REC" -b -o json > "$TMP/final.json" || fail "the finished recording does not replay"
total=$(wc -l < "$TMP/final.json")
# Every copy replays the finished file's first refreshes, line for line.
for j in $(seq 1 $i); do
	n=$(wc -l < "$TMP/copy$j.db.json")
	head -n "$n" "$TMP/final.json" | cmp -s - "$TMP/copy$j.db.json" ||
		fail "copy $j replays refreshes other than the finished file's first $n"
done
echo "ok: every copy replays the finished file's first refreshes ($total in all)"

# Cut at 16 fractions: never more than the whole, always a prefix, more as it grows.
size=$(stat -c %s "$REC") last=0 counts=""
for k in $(seq 1 16); do
	head -c $((size * k / 16)) "$REC" > "$TMP/cut.db"
	"$LEAKTOP" -r "$TMP/cut.db" -b -o json > "$TMP/cut.json" 2> "$TMP/cut.err" || true
	n=$(wc -l < "$TMP/cut.json")
	[ "$k" = 16 ] || grep -q "is cut short" "$TMP/cut.err" || fail "cut at $k/16 says nothing of the cut: $(cat "$TMP/cut.err")"
	head -n "$n" "$TMP/final.json" | cmp -s - "$TMP/cut.json" || fail "cut at $k/16 replays other refreshes"
	[ "$n" -ge "$last" ] || fail "cut at $k/16 replays $n, fewer than a shorter cut ($last)"
	# The handover report of the cut file covers the same refreshes.
	if [ "$k" != 16 ] && [ "$n" -gt 0 ]; then
		"$LEAKTOP" -r "$TMP/cut.db" --report > "$TMP/cut.md" 2> "$TMP/cut.err" ||
			fail "cut at $k/16: no report: $(cat "$TMP/cut.err")"
		grep -q "is cut short .*: the report covers its $n refreshes before the cut" "$TMP/cut.err" ||
			fail "cut at $k/16: the report does not say what it covers: $(cat "$TMP/cut.err")"
		grep -q "), $n refreshes every" "$TMP/cut.md" || fail "cut at $k/16: the report is not of its $n refreshes"
	fi
	last=$n counts="$counts $n"
done
assert_eq "the whole file cut at 16/16" "$total" "$last"
# The report reads the tables; a file whose tables are damaged but whose frames are
# whole (the first page of table proc zeroed, SQLite's dbstat says where) is
# reported from its frames, and the report is the whole file's.
"$LEAKTOP" -r "$REC" --report | grep -v '^- Recording: ' > "$TMP/whole.md"
cp "$REC" "$TMP/dmg.db"
page=$(rec_sql "file:$REC?mode=ro" "SELECT min(pageno) FROM dbstat WHERE name = 'proc'")
dd if=/dev/zero of="$TMP/dmg.db" bs=65536 seek=$((page - 1)) count=1 conv=notrunc status=none
"$LEAKTOP" -r "$TMP/dmg.db" --report 2> "$TMP/dmg.err" | grep -v '^- Recording: ' > "$TMP/dmg.md" ||
	fail "table proc damaged: no report: $(cat "$TMP/dmg.err")"
grep -q "is damaged: the report covers its $total refreshes before the damage" "$TMP/dmg.err" ||
	fail "table proc damaged: $(cat "$TMP/dmg.err")"
cmp -s "$TMP/whole.md" "$TMP/dmg.md" || fail "table proc damaged, the report is not the whole file's"
echo "ok: table proc damaged (page $page), the report from the frames is the whole file's"
echo "ok: cuts at 1/16 .. 16/16 of $size bytes replay$counts of $total"
echo "PASS"
