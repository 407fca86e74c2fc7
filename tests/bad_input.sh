#!/bin/sh
# Hostile and clumsy command lines and input files: each is refused with a clear one-line
# message (exit 2) instead of being taken for something else, and nothing crashes.
set -eu
top_builddir=${top_builddir:-.}
LEAKTOP=${LEAKTOP:-$top_builddir/leaktop}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leaktop-bad.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
status=0
# A hang is a failure too (a FIFO as --config once blocked forever).
run=""
command -v timeout >/dev/null && run="timeout 20"

# refused WORD ARGS...: leaktop ARGS exits 2 and says WORD on stderr.
refused() {
	word=$1; shift
	rc=0
	$run "$LEAKTOP" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	if [ $rc != 2 ]; then
		echo "FAIL: leaktop $* exited $rc, expected 2 (refused)"; status=1
	elif ! grep -q -- "$word" "$tmp/err"; then
		echo "FAIL: leaktop $*: the message does not name $word: $(head -c 200 "$tmp/err")"; status=1
	elif [ "$(wc -l < "$tmp/err")" != 1 ]; then
		echo "FAIL: leaktop $*: expected one line, got: $(cat "$tmp/err")"; status=1
	else
		echo "ok: refused: leaktop $*"
	fi
}

accepted() {
	"$LEAKTOP" "$@" --help >/dev/null 2>"$tmp/err" || { echo "FAIL: leaktop $* refused: $(cat "$tmp/err")"; status=1; return; }
	echo "ok: accepted: leaktop $*"
}

# Row counts that would overflow what is sized from them (a 2^62 backlog once wrapped
# a malloc to 4 bytes).
refused --backlog -b --backlog 4611686018427387904
refused --backlog -b --backlog 1000001
refused --top -b --top 99999999999999999999
refused --top -b --top -1
accepted --backlog 1000000 --top 0

# An empty list is not "no filter": --pid "$(pidof x)" with x not running must not
# watch everything.
refused --pid -b --pid ''
refused --pid -b --pid=
refused --port -b --port ''
refused --netns -b --netns ''

# Configuration files that are not one: refused with what they are, not read for
# ever (/dev/zero grew to 1 GB, a FIFO blocked), not cut (over 1 MB), not ended early
# (a NUL), and no raw escape from the file reaches the terminal.
mkfifo "$tmp/fifo"
refused "not a regular file" -b -n 1 --config /dev/zero
refused "not a regular file" -b -n 1 --config "$tmp/fifo"
refused "is a directory" -b -n 1 --config "$tmp"
head -c 1048577 /dev/zero | tr '\0' '#' >"$tmp/big.conf"
refused "larger than 1024 KB" -b -n 1 --config "$tmp/big.conf"
printf 'alert.fd_warn = 50\nalert.fd_crit = 90\0\nalert.fd_crit = 200\n' >"$tmp/nul.conf"
refused "nul.conf:2: NUL byte" -b -n 1 --config "$tmp/nul.conf"
printf '\033]0;owned\007 = 1\n' >"$tmp/esc.conf"
refused 'unknown key: \\x1b]0;owned\\x07' -b -n 1 --config "$tmp/esc.conf"
if grep -q "$(printf '\033')" "$tmp/err"; then
	echo "FAIL: a config error wrote the file's escape sequence raw"; status=1
fi

# A damaged recording: a time no calendar holds once crashed strftime (rc 139) in
# every output, and inf went out as JSON's nonexistent `inf`.
srcdir=${srcdir:-$(dirname "$0")/..}
# is_json: every line of stdin is JSON, with no NaN or Infinity in it.
is_json() {
	if command -v python3 >/dev/null; then
		python3 -c 'import json, sys
for line in sys.stdin: json.loads(line, parse_constant=lambda c: sys.exit("not JSON: " + c))'
	else # jq takes nan and inf as numbers: refuse them by name
		! grep -Eqi '(^|[^a-z_"])(nan|-?inf(inity)?)([^a-z_"]|$)' && jq -e . >/dev/null
	fi
}
if command -v sqlite3 >/dev/null && { command -v python3 || command -v jq; } >/dev/null; then
	for t in 1e18 -1e18 1e300 9e999 -9e999; do
		cp "$srcdir/tests/data/rec-2.0.db" "$tmp/t.db"
		chmod u+w "$tmp/t.db"
		sqlite3 "$tmp/t.db" "UPDATE refresh SET time=$t; UPDATE meta SET value='$t' WHERE key='boot_time'"
		for fmt in text json markdown html; do
			rc=0
			case $fmt in
			text | json) set -- -b -n 2 -o $fmt ;;
			*) set -- --report -o $fmt ;;
			esac
			"$LEAKTOP" -r "$tmp/t.db" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
			# A time no live run writes ends the replay there, saying so (exit 1).
			if [ $rc = 1 ] && grep -q "none a leaktop writes" "$tmp/err" && [ "$(wc -l <"$tmp/err")" = 1 ]; then
				rc=0
			fi
			if [ $rc != 0 ]; then
				echo "FAIL: a recording with time $t: $* exited $rc: $(head -c 200 "$tmp/err")"; status=1
			elif [ $fmt = json ] && ! is_json <"$tmp/out"; then
				echo "FAIL: a recording with time $t: -o json is not JSON"; status=1
			else
				echo "ok: a recording with time $t: $*"
			fi
		done
	done
else
	echo "skip: damaged recordings (needs sqlite3, and python3 or jq)"
fi

# OpenMetrics is one exposition with one "# EOF" in every mode: -n 3 once wrote three,
# which promtool rejects.
if command -v promtool >/dev/null; then
	# A copy: reading a recording in WAL mode leaves -shm and -wal files beside it.
	cp "$srcdir/tests/data/rec-2.0.db" "$tmp/rec.db"
	chmod u+w "$tmp/rec.db"
	for args in "-b -n 3 -d 0" "-r $tmp/rec.db -b" "-r $tmp/rec.db -b -n 2"; do
		rc=0
		# shellcheck disable=SC2086
		$run "$LEAKTOP" $args -o openmetrics >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
		if [ $rc != 0 ]; then
			echo "FAIL: leaktop $args -o openmetrics exited $rc: $(head -c 200 "$tmp/err")"; status=1
		elif [ "$(grep -c '^# EOF$' "$tmp/out")" != 1 ] || ! promtool check metrics <"$tmp/out" >"$tmp/err" 2>&1; then
			echo "FAIL: leaktop $args -o openmetrics is not one valid exposition: $(head -c 300 "$tmp/err")"; status=1
		else
			echo "ok: leaktop $args -o openmetrics: one exposition promtool accepts"
		fi
	done
else
	echo "skip: openmetrics checks (needs promtool)"
fi

[ $status = 0 ] && echo "PASS: bad command lines are refused"
exit $status
