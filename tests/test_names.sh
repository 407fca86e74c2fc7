#!/bin/sh
# Each unit test named once (tests/testkit.h): every START_TEST of a suite is in its
# table (TESTKIT_TESTS) exactly once, the table names no test the suite lacks, no
# suite registers tests by hand, and no two tests anywhere share a name. A test
# written but never registered would pass by never running.
set -eu
srcdir=${srcdir:-.}
cd "$srcdir/tests"
status=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() {
	echo "FAIL: $*"
	status=1
}

suites=$(ls check_*.c)
[ -n "$suites" ] || { echo "FAIL: no suites found in $srcdir/tests"; exit 1; }
for f in $suites; do
	defined=$(sed -n 's/^START_TEST(\([A-Za-z0-9_]*\)).*/\1/p' "$f" | sort)
	# The names inside every TESTKIT_TESTS( ... ) of the file, one a line.
	listed=$(tr '\n' ' ' < "$f" | grep -o 'TESTKIT_TESTS([^)]*)' |
		sed 's/^TESTKIT_TESTS(//; s/)$//' | tr ', \t' '\n\n\n' | sed '/^$/d' | sort)
	[ -n "$defined" ] || fail "$f: no START_TEST"
	for t in $(echo "$defined" | uniq -d); do fail "$f: START_TEST($t) twice"; done
	for t in $(echo "$listed" | uniq -d); do fail "$f: $t registered twice"; done
	echo "$defined" | sort -u > "$tmp/defined"
	echo "$listed" | sort -u > "$tmp/listed"
	for t in $(comm -23 "$tmp/defined" "$tmp/listed"); do
		fail "$f: START_TEST($t) is never registered (TESTKIT_TESTS)"
	done
	for t in $(comm -13 "$tmp/defined" "$tmp/listed"); do fail "$f: $t registered but not defined here"; done
	if grep -n 'tcase_add_test\|srunner_create\|suite_create' "$f" > /dev/null; then
		fail "$f: registers or runs tests by hand; list them in its testkit table"
	fi
done
for t in $(sed -n 's/^START_TEST(\([A-Za-z0-9_]*\)).*/\1/p' $suites | sort | uniq -d); do
	fail "test $t in two suites: $(grep -l "^START_TEST($t)" $suites | tr '\n' ' ')"
done
[ $status = 0 ] && echo "PASS: $(cat $suites | grep -c '^START_TEST(') tests in $(echo "$suites" | wc -l) suites, each named and registered once"
exit $status
