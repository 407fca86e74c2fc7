#!/bin/sh
# Includes go one way (DESIGN.md): sources -> model <- front ends and writers.
# A model file includes nothing of sources/, tui/ or themes/ and no I/O library;
# a sources file nothing of tui/ or themes/; curses only in the dashboard (tui/,
# not its writers) and themes/; libmnl and libproc2 only in sources/.
set -eu
srcdir=${srcdir:-.}
cd "$srcdir"
status=0

# rule DIRS PATTERN WHY: no file under DIRS has an #include matching PATTERN.
rule() {
	dirs=$1 pattern=$2 why=$3
	hits=$(find $dirs -name '*.[ch]' -print 2>/dev/null | sort |
		xargs grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" 2>/dev/null || true)
	if [ -n "$hits" ]; then
		echo "FAIL: $why:"
		echo "$hits" | sed 's/^/  /'
		status=1
	fi
}

curses='(n?curses|ncursesw/|term\.h|panel\.h)'
rule model "(sources|tui|themes)/" "a model file includes a source, front end or theme"
rule model "$curses|sqlite3\.h|libmnl/|libproc2/|linux/(netlink|sock_diag|inet_diag)" \
	"the model is pure: no curses, SQLite, netlink or libproc2 in it"
rule sources "(tui|themes)/" "a source includes a front end or theme"
rule "sources tui/writers model bench" "$curses" "curses outside the dashboard and themes"
rule "model tui themes" "libmnl/|libproc2/" "libmnl or libproc2 outside sources/"

# The rules must see the tree: an empty find would pass anything.
[ "$(find model sources tui -name '*.c' | wc -l)" -gt 10 ] || { echo "FAIL: no sources found under $srcdir"; status=1; }
[ $status = 0 ] && echo "PASS: includes go one way"
exit $status
