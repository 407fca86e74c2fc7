#!/bin/sh
# The man page renders without a warning, with groff and with mandoc (whichever are
# installed), and the rendered page has the sections a reader looks for.
set -eu
MAN=${srcdir:-.}/doc/leaktop.1
checked=""
if command -v groff >/dev/null; then
	out=$(LC_ALL=C groff -ww -z -man "$MAN" 2>&1)
	[ -z "$out" ] || { echo "FAIL: groff warns:"; echo "$out"; exit 1; }
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" ENVIRONMENT EXAMPLES "SEE ALSO"; do
		LC_ALL=C groff -man -Tascii -P-cbou "$MAN" 2>/dev/null | grep -q "^$s" || { echo "FAIL: no $s section"; exit 1; }
	done
	checked="$checked groff"
fi
if command -v mandoc >/dev/null; then
	# -W warning: style hints (line length) are not failures.
	mandoc -T lint -W warning "$MAN" || { echo "FAIL: mandoc -T lint warns"; exit 1; }
	checked="$checked mandoc"
fi
[ -n "$checked" ] || { echo "SKIP: neither groff nor mandoc is installed"; exit 77; }
echo "PASS: no warnings from$checked"
