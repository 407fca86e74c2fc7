#!/bin/sh
# Hostile and clumsy command lines: each is refused with a clear one-line message
# (exit 2) instead of being taken for something else, and nothing crashes.
set -eu
top_builddir=${top_builddir:-.}
LEAKTOP=${LEAKTOP:-$top_builddir/leaktop}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leaktop-bad.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
status=0

# refused WORD ARGS...: leaktop ARGS exits 2 and says WORD on stderr.
refused() {
	word=$1; shift
	rc=0
	"$LEAKTOP" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
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

[ $status = 0 ] && echo "PASS: bad command lines are refused"
exit $status
