#!/bin/sh
# Each folder one job, and includes go one way (doc/contributing.md, Layout):
#   model <- sources <- recording <- program <- outputs      (main.c: all of them)
#   model <- themes;  model, sources, recording, program, themes <- tui
# A folder includes only the folders to its left, so there is no circle between
# folders. Besides: curses only in the dashboard (tui/, themes/); SQLite only in the
# recording module (recording/); libmnl and libproc2 only in sources/; the model no
# I/O library at all; and no circle of files that include each other within a folder.
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
rule "model sources program outputs tui themes bench main.c" "sqlite3\.h" \
	"SQLite outside the recording module (recording/): ask it, do not write SQL"
# Nor an SQLite call declared by hand: outside recording/, a recording is an opaque
# struct sqlite3 * handed to recording/recquery.h.
calls=$(find model sources program outputs tui themes main.c -name '*.[ch]' -print | sort |
	xargs grep -nE "\<sqlite3_[a-z_0-9]+[[:space:]]*\(" 2>/dev/null || true)
if [ -n "$calls" ]; then
	echo "FAIL: SQLite called outside the recording module (recording/): ask recording/recquery.h:"
	echo "$calls" | sed 's/^/  /'
	status=1
fi
rule "model recording program outputs tui themes" "libmnl/|libproc2/" "libmnl or libproc2 outside sources/"
rule model "sqlite3\.h|libmnl/|libproc2/|linux/(netlink|sock_diag|inet_diag)" \
	"the model is pure: no netlink, libproc2 or SQLite in it"

# Within a folder too, includes go one way: no circle of modules that include each
# other (a circle is one module in several files that cannot be read or tested
# apart). A module is foo.c with foo.h (and foo_int.h); foo_bar.c without a header of
# its own belongs to foo; any other .c to the first header of its folder it includes
# that has no .c of its own (model/view.h: filter.c, query.c, columns.c, order.c,
# format.c; tui/tui.h: app.c). Each circle is listed with the includes that close it.
circles() {
	d=$1
	for f in $(find "$d" -maxdepth 1 -name '*.[ch]' | sort); do
		s=$(basename "$f")
		s=${s%.?}
		case $f in
		*.h) m=${s%_int} ;;
		*)
			m=
			[ ! -f "$d/$s.h" ] || m=$s
			p=$s
			while [ -z "$m" ] && [ "${p%_*}" != "$p" ]; do
				p=${p%_*}
				if [ -f "$d/$p.h" ] || [ -f "$d/${p}_int.h" ]; then m=$p; fi
			done
			if [ -z "$m" ]; then
				for h in $(sed -n "s|^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$d/\([^\"/]*\)\.h\".*|\1|p" "$f"); do
					if [ ! -f "$d/${h%_int}.c" ]; then m=${h%_int}; break; fi
				done
			fi
			[ -n "$m" ] || m=$s ;;
		esac
		sed -n "s|^[[:space:]]*#[[:space:]]*include[[:space:]]*\"$d/\([^\"/]*\)\.h\".*|\1|p" "$f" |
			while read -r h; do echo "$f $m $d/$h.h ${h%_int}"; done
	done | awk -v dir="$d" '
	$2 != $4 {
		if (!(($2, $4) in edge))
			edge[$2, $4] = $1 " -> " $3
		node[$2]; node[$4]
	}
	END {
		for (a in node) for (b in node) reach[a, b] = (a, b) in edge
		for (k in node) for (a in node) if (reach[a, k]) for (b in node) if (reach[k, b]) reach[a, b] = 1
		for (a in node) if (!(a in done) && reach[a, a]) {
			members = ""; why = ""
			for (b in node) if (reach[a, b] && reach[b, a]) {
				done[b]; members = members " " b
				for (c in node) if ((b, c) in edge && reach[c, a] && reach[a, c])
					why = why "\n  " edge[b, c]
			}
			print dir ":" members why
		}
	}'
}
for d in model sources recording program outputs tui themes; do
	found=$(circles "$d")
	if [ -n "$found" ]; then
		echo "FAIL: files that include each other (break the circle: a header per module, the shared"
		echo "      types in a header of their own, the caller above what it calls):"
		echo "$found" | sed 's/^/  /'
		status=1
	fi
done
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
[ $status = 0 ] && echo "PASS: each folder its job, includes one way (between folders and within each)"
exit $status
