#!/bin/sh
# Each folder one job, and includes go one way (doc/contributing.md, Layout):
#   model <- sources <- recording <- program <- outputs      (main.c: all of them)
#   model <- themes;  model, sources, recording, program, themes <- tui
# A folder includes only the folders to its left, so there is no circle between
# folders. Besides: curses only in the dashboard (tui/, themes/); SQLite only in the
# recording module (recording/); libmnl and libproc2 only in sources/; the model no
# I/O library at all.
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

# The folders each may include besides its own: the one-way order above.
rule model "(sources|recording|program|outputs|tui|themes)/" "the model includes nothing but the model"
rule sources "(recording|program|outputs|tui|themes)/" "a source includes only the model"
rule recording "(program|outputs|tui|themes)/" "the recording module includes only the model and sources"
rule program "(outputs|tui|themes)/" "the program includes only the model, sources and the recording module"
rule outputs "(tui|themes)/" "an output includes a part of the dashboard"
rule themes "(sources|recording|program|outputs|tui)/" "a theme includes more than the model"
rule tui "outputs/" "the dashboard includes an output (main.c chooses between them)"

curses='(n?curses|ncursesw/|term\.h|panel\.h)'
rule "model sources recording program outputs bench" "$curses" "curses outside the dashboard (tui/, themes/)"
rule "model sources program tui themes bench" "sqlite3\.h" \
	"SQLite outside the recording module (recording/): ask it, do not write SQL"
rule "model recording program outputs tui themes" "libmnl/|libproc2/" "libmnl or libproc2 outside sources/"
rule model "sqlite3\.h|libmnl/|libproc2/|linux/(netlink|sock_diag|inet_diag)" \
	"the model is pure: no netlink, libproc2 or SQLite in it"

# One JSON writer (model/jsonw.c): no JSON member written by hand ("\"key\": " in a
# format string), so commas, escaping and numbers have one place to be right.
hits=$(grep -nE '\\"[A-Za-z_]+\\": ' main.c $(find model sources recording program outputs tui themes \
	-name '*.c' | sort) 2>/dev/null || true)
if [ -n "$hits" ]; then
	echo "FAIL: JSON written by hand (use model/jsonw.h):"
	echo "$hits" | sed 's/^/  /'
	status=1
fi

# Only main.c at the top: every other C file is in a folder that says its job.
for f in *.c *.h; do
	case $f in main.c | config.h | '*.c' | '*.h') ;;
	*) echo "FAIL: $f at the top level (only main.c is)"; status=1 ;;
	esac
done

# The rules must see the tree: an empty find would pass anything.
for d in model sources recording program outputs tui; do
	[ "$(find $d -name '*.c' | wc -l)" -ge 3 ] || { echo "FAIL: no sources found in $srcdir/$d"; status=1; }
done
[ $status = 0 ] && echo "PASS: each folder its job, includes one way"
exit $status
