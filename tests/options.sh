#!/bin/sh
# --help and the man page cannot drift from the parser: every long option leaktop
# accepts (its hidden --list-options, the parser's own table) is in both, and every
# option either of them names is one the parser accepts.
set -eu
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
LEAKTOP=${LEAKTOP:-$top_builddir/leaktop}
MAN=$srcdir/doc/leaktop.1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leaktop-options.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
status=0

"$LEAKTOP" --list-options > "$tmp/list" || { echo "FAIL: --list-options failed"; exit 1; }
[ "$(wc -l < "$tmp/list")" -ge 5 ] || { echo "FAIL: --list-options lists too little"; exit 1; }
sed 's/=.*//' "$tmp/list" | sort -u > "$tmp/parser"
"$LEAKTOP" --help > "$tmp/help"
# The man page writes a dash as \-; the rendered text has plain dashes.
sed 's/\\-/-/g' "$MAN" > "$tmp/man"

for o in $(cat "$tmp/parser"); do
	grep -q -- "$o\\b" "$tmp/help" || { echo "FAIL: $o is not in leaktop --help"; status=1; }
	grep -q -- "$o\\b" "$tmp/man" || { echo "FAIL: $o is not in the man page ($MAN)"; status=1; }
done

# The other way round: an option documented in an OPTIONS section that the parser
# no longer accepts. (Examples may use other programs' options, so only the option
# lists are read: in --help, lines starting with the option; in the man page, .TP
# items.)
grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' "$tmp/help" | grep -oE -- '--[a-z-]+' | sort -u > "$tmp/help-opts"
awk '/^\.TP/ { getline; print }' "$tmp/man" | grep -oE -- '--[a-z][a-z-]*' | sort -u > "$tmp/man-opts"
for o in $(comm -23 "$tmp/help-opts" "$tmp/parser"); do
	echo "FAIL: leaktop --help lists $o, which the parser does not accept"; status=1
done
for o in $(comm -23 "$tmp/man-opts" "$tmp/parser"); do
	echo "FAIL: the man page lists $o, which the parser does not accept"; status=1
done

# Every value of an option with a fixed set (--format=text|json) is in the man page.
while IFS= read -r line; do
	case $line in *=*'|'*) ;; *) continue ;; esac
	for v in $(echo "${line#*=}" | tr '|' ' '); do
		grep -q "^\.BR* $v\\b" "$tmp/man" || { echo "FAIL: ${line%%=*} $v is not described in the man page"; status=1; }
		"$LEAKTOP" "${line%%=*}=$v" --help >/dev/null || { echo "FAIL: ${line%%=*}=$v is refused"; status=1; }
	done
done < "$tmp/list"

# Every key the dashboard's help lists (tui/keys.c, the table the help screen is drawn
# from) is a tag in the man page's KEYS section.
if [ -f "$srcdir/tui/keys.c" ] && command -v groff >/dev/null; then
	LC_ALL=C groff -man -Tascii -P-cbou "$MAN" 2>/dev/null |
		awk '/^KEYS/ { f = 1; next } /^[A-Z]/ { f = 0 } f && /^       [^ ]/' |
		sed -e 's/^ *//' -e 's/   *.*//' -e 's/, / /g' | tr ' ' '\n' | sort -u > "$tmp/man-keys"
	# Every binding names its key: {KEY_F(10), ACT_QUIT, "F10"}.
	grep -o 'ACT_[A-Z0-9_]*, "[^"]*"}' "$srcdir/tui/keys.c" | sed 's/.*, "\(.*\)"}$/\1/' |
		sed 's/\\\\/\\/g' | sed 's/^Bksp$/Backspace/' | sort -u > "$tmp/keys"
	[ -s "$tmp/keys" ] || { echo "FAIL: no key help found in tui/keys.c"; status=1; }
	while IFS= read -r k; do
		grep -qxF -- "$k" "$tmp/man-keys" || { echo "FAIL: key '$k' (tui/keys.c) is not in the man page's KEYS"; status=1; }
	done < "$tmp/keys"
fi

[ $status = 0 ] && echo "PASS: $(wc -l < "$tmp/parser") options in --help and the man page; $(wc -l < "$tmp/keys" 2>/dev/null || echo 0) keys in the man page"
exit $status
