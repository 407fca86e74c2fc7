#!/bin/sh
# Hostile and clumsy command lines and input files: each is refused with a clear one-line
# message (exit 2) instead of being taken for something else, and nothing crashes.
set -eu
top_builddir=${top_builddir:-.}
LEAKTOP=${LEAKTOP:-$top_builddir/leaktop}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leaktop-bad.XXXXXX")
trap '[ -z "${lowfd:-}" ] || kill $lowfd 2>/dev/null || :; rm -rf "$tmp"' EXIT
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

# Every output format a mode cannot write is an error, not quietly another: --report
# -o json printed Markdown, --listen -o json served OpenMetrics, the dashboard ignored -o.
cp "${srcdir:-$(dirname "$0")/..}/tests/data/rec-2.0.db" "$tmp/fmt.db"
chmod u+w "$tmp/fmt.db"
for f in json openmetrics text; do
	refused "--report writes markdown or html, not $f" -r "$tmp/fmt.db" --report -o "$f"
done
refused "--listen serves openmetrics only, not json" --listen 127.0.0.1:0 -o json
refused "--listen serves openmetrics only, not text" -o text --listen 127.0.0.1:0
refused "the dashboard has no output format; add --batch" -o json
refused "the dashboard has no output format" -r "$tmp/fmt.db" -o openmetrics
refused "markdown and html are report formats" -r "$tmp/fmt.db" -b -o html
refused "--report prints one report and exits" -r "$tmp/fmt.db" --report -b
refused "--sockets adds a list to JSON output only" -b --sockets
refused "--sockets adds a list to JSON output only" -b -o openmetrics --sockets

# A write error on standard output is said in words and exits non-zero, in every mode:
# --report said "Input/output error", --help and --version exited 0.
if [ -w /dev/full ]; then
	# full WORD ARGS...: leaktop ARGS > /dev/full exits non-zero, one line says WORD.
	full() {
		word=$1; shift
		rc=0
		$run "$LEAKTOP" "$@" >/dev/full 2>"$tmp/err" </dev/null || rc=$?
		# (other processes on this box may fire alerts and change verdicts: news, not errors)
		grep -Ev '^leaktop: (alert|verdict) ' "$tmp/err" >"$tmp/err1" || true
		if [ $rc = 0 ]; then echo "FAIL: leaktop $* > /dev/full exited 0"; status=1
		elif ! grep -q -- "$word" "$tmp/err1" || [ "$(wc -l <"$tmp/err1")" != 1 ]; then
			echo "FAIL: leaktop $* > /dev/full: expected one line with '$word', got: $(cat "$tmp/err1")"; status=1
		else echo "ok: leaktop $* > /dev/full: exit $rc, $(cat "$tmp/err1")"; fi
	}
	nospace="writing output: No space left on device"
	full "$nospace" -r "$tmp/fmt.db" --report
	full "$nospace" -r "$tmp/fmt.db" --report -o html
	full "$nospace" --help
	full "$nospace" --version
	full "$nospace" --no-config -b
	full "$nospace" --no-config -b -o json
	full "$nospace" --no-config -b -n 2 -d 0 -o openmetrics
	full "$nospace" -r "$tmp/fmt.db" -b -o json
	full "$nospace" --no-config --listen 127.0.0.1:0
else
	echo "skip: write errors (no writable /dev/full)"
fi

# --listen on a multicast or broadcast address: bind() takes it, and leaktop said
# "serving" where no scrape can come.
for addr in 224.0.0.1:0 '[ff02::1]:0' 255.255.255.255:0; do
	rc=0
	$run "$LEAKTOP" --no-config --listen "$addr" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
	if [ $rc = 0 ] || grep -q serving "$tmp/out" || ! grep -Eq "a multicast address|the broadcast address" "$tmp/err"; then
		echo "FAIL: --listen $addr: exit $rc, $(cat "$tmp/out" "$tmp/err")"; status=1
	else echo "ok: --listen $addr refused: $(cat "$tmp/err")"; fi
done

# A UTF-8 byte order mark (an editor's) is skipped at the start of the file; anywhere
# else the culprit is shown, not an invisible "unknown key: alert.fd_warn".
printf '\357\273\277alert.fd_warn = 50\n' >"$tmp/bom.conf"
if "$LEAKTOP" -b -n 1 --config "$tmp/bom.conf" -p $$ >/dev/null 2>"$tmp/err"; then echo "ok: a BOM at the start of the file is skipped"
else echo "FAIL: a BOM at the start of the file: $(cat "$tmp/err")"; status=1; fi
printf 'alert.fd_warn = 50\n\357\273\277alert.fd_crit = 90\n' >"$tmp/bom2.conf"
refused 'bom2.conf:2: unknown key: \\xef\\xbb\\xbfalert.fd_crit' -b -n 1 --config "$tmp/bom2.conf"
printf 'alert.fd\342\200\213_warn = 50\n' >"$tmp/zwsp.conf"
refused 'zwsp.conf:1: unknown key: alert.fd\\xe2\\x80\\x8b_warn' -b -n 1 --config "$tmp/zwsp.conf"

# --- configuration files that must not be used --------------------------------------
# A process with a low fd limit sets off fd_usage at alert.fd_warn = 1, so a file's
# alert.cmd runs when the file is used: it leaves a mark.
(ulimit -n 12 && exec sleep 60) &
lowfd=$!
# conf_case NAME DIR: DIR/.config/leaktop/leaktop.conf runs a program marking $tmp/NAME.
conf_case() {
	mkdir -p "$2/.config/leaktop"
	printf '#!/bin/sh\ntouch %s\n' "$tmp/$1" >"$tmp/$1.cmd"
	chmod 755 "$tmp/$1.cmd"
	printf 'alert.fd_warn = 1\nalert.fd_crit = 2\nalert.cmd = %s\n' "$tmp/$1.cmd" >"$2/.config/leaktop/leaktop.conf"
}
# marked NAME: did the alert program of conf_case NAME run? leaktop never waits for
# it: its watchdog (leaktop-alert) starts it, so wait, with a bound a busy box needs,
# for the mark or for no watchdog left to make it.
marked() {
	i=0
	while [ $i -lt 300 ] && [ ! -e "$tmp/$1" ]; do
		[ $i -ge 10 ] && ! grep -qsx leaktop-alert /proc/[0-9]*/comm && break
		sleep 0.1; i=$((i + 1))
	done
	[ -e "$tmp/$1" ]
}
# The control: a file of one's own is used.
conf_case own "$tmp/h.own"
HOME=$tmp/h.own $run "$LEAKTOP" -b -n 1 -p $lowfd >/dev/null 2>"$tmp/err" </dev/null || true
if marked own; then echo "ok: a configuration file of one's own runs its alert.cmd"
else echo "FAIL: the control: the own file's alert.cmd did not run: $(head -c 300 "$tmp/err")"; status=1; fi
# Every spelling getopt takes for --no-config skips the file (the pre-scan knew only
# the full one, so --no-conf read the file and ran its alert.cmd).
for opt in --no-config --no-conf --no-c --no; do
	conf_case "no$opt" "$tmp/h.no$opt"
	HOME=$tmp/h.no$opt $run "$LEAKTOP" -b -n 1 -p $lowfd "$opt" >/dev/null 2>"$tmp/err" </dev/null || true
	if marked "no$opt"; then echo "FAIL: leaktop $opt read the default file and ran its alert.cmd"; status=1
	else echo "ok: leaktop $opt reads no file"; fi
done
# --conf=FILE and --config FILE read FILE, not the default one (a broken FILE says so).
printf 'alert.fd_warn = lots\n' >"$tmp/named.conf"
for opt in "--conf=$tmp/named.conf" "--co=$tmp/named.conf" "--config $tmp/named.conf"; do
	# shellcheck disable=SC2086
	refused "named.conf:1: alert.fd_warn" -b -n 1 $opt
done
# As root, a file someone else could have written is not used: nobody's HOME had root
# run nobody's alert.cmd. One line says why; leaktop goes on with the defaults.
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	conf_case nobody "$tmp/h.nobody"
	chown -R nobody "$tmp/h.nobody"
	for how in "HOME=$tmp/h.nobody" "XDG_CONFIG_HOME=$tmp/h.nobody/.config"; do
		rc=0
		env $how $run "$LEAKTOP" -b -n 1 -p $lowfd >/dev/null 2>"$tmp/err" </dev/null || rc=$?
		if marked nobody; then echo "FAIL: $how: root ran the alert.cmd of a file nobody owns"; status=1
		elif [ $rc != 0 ] || ! grep -q "leaktop.conf not used: it belongs to nobody" "$tmp/err" ||
			[ "$(grep -c 'not used' "$tmp/err")" != 1 ]; then
			echo "FAIL: $how: nobody's file: exit $rc, expected one line on why: $(head -c 300 "$tmp/err")"; status=1
		else echo "ok: $how: root does not use a file nobody owns, and says so"; fi
	done
	# Root's own file in a folder anyone can write: the same.
	conf_case open "$tmp/h.open"
	chmod 777 "$tmp/h.open/.config"
	HOME=$tmp/h.open $run "$LEAKTOP" -b -n 1 -p $lowfd >/dev/null 2>"$tmp/err" </dev/null || true
	if marked open; then echo "FAIL: root ran the alert.cmd of a file in a folder anyone can write"; status=1
	elif ! grep -q "its folder .*/h.open/.config can be written by anyone (mode 0777)" "$tmp/err"; then
		echo "FAIL: a file in a folder anyone can write: $(head -c 300 "$tmp/err")"; status=1
	else echo "ok: root does not use a file in a folder anyone can write"; fi
else
	echo "skip: configuration files of other users (needs root and a user nobody)"
fi
# A relative XDG_CONFIG_HOME is ignored (the XDG spec), not read from the current folder.
conf_case rel "$tmp/relhome/rel"
mv "$tmp/relhome/rel/.config/leaktop" "$tmp/relhome/rel/leaktop"
(cd "$tmp/relhome" && HOME=/nonexistent XDG_CONFIG_HOME=rel $run "$LEAKTOP" -b -n 1 -p $lowfd >/dev/null 2>&1 </dev/null) || true
if marked rel; then echo "FAIL: a relative XDG_CONFIG_HOME was read from the current folder"; status=1
else echo "ok: a relative XDG_CONFIG_HOME is ignored"; fi
kill $lowfd 2>/dev/null || true

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
