#!/bin/sh
# The .deb, as a sick box gets it: built with dpkg-buildpackage (nocheck: the suites
# its dh_auto_test would run are run by every other pass of make check-all; no
# -dbgsym package, which nothing here installs)
# in one fresh Debian 12 chroot, installed with apt in a second fresh one that has no
# compiler and no -dev package, and run there as a user would, in that bare
# environment: no HOME, LANG=C, a read-only current directory, an unknown TERM.
# Slow (the first run also builds the cached debootstrap base).
. "${srcdir:-.}/tests/live/lib.sh"
need_root
need git jq debootstrap timeout chroot findmnt
. "${srcdir:-.}/tests/live/chroot.sh"
[ -f "$srcdir/debian/control" ] && git -C "$srcdir" rev-parse --git-dir >/dev/null 2>&1 ||
	{ echo "SKIP: needs the project's git checkout (debian/ is not in the tarball)"; exit 77; }
t0=$(date +%s)
phase() { echo "[$(( $(date +%s) - t0 )) s] $*"; }

# --- build -------------------------------------------------------------------
phase "build chroot"
chroot_new; B=$CHROOT
mkdir "$B/src/"
# The working tree as git sees it: tracked files and new ones, not build products.
git -C "$srcdir" ls-files -z --cached --others --exclude-standard |
	tar -C "$srcdir" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -xf - -C "$B/src/"
phase "build dependencies"
chroot_apt "$B" install build-essential || fail "cannot install build-essential"
chroot_apt "$B" build-dep /src || fail "cannot install the Build-Depends of debian/control"
phase "dpkg-buildpackage"
chroot_run "$B" 400 "cd /src && DEB_BUILD_OPTIONS='nocheck noautodbgsym' dpkg-buildpackage -us -uc -b >/tmp/build.log 2>&1" ||
	{ tail -30 "$B/tmp/build.log" >&2
	  for f in $(sed -n 's/^\(FAIL\|ERROR\): //p' "$B/tmp/build.log"); do
		echo "--- ${f%.sh}.log" >&2; tail -40 "$B/src/${f%.sh}.log" >&2
	  done
	  fail "dpkg-buildpackage failed"; }
deb=$(ls "$B"/leaktop_*.deb)
[ -f "$deb" ] || fail "no leaktop_*.deb was built"
version=$(dpkg-deb -f "$deb" Version)
depends=$(dpkg-deb -f "$deb" Depends)
echo "built ${deb##*/}: Depends: $depends"
case "$depends" in *libmnl0*libproc2*|*libproc2*libmnl0*) ;; *) fail "Depends lacks the shared libraries: $depends" ;; esac

# --- install on a bare box -----------------------------------------------------
phase "install chroot"
chroot_new; R=$CHROOT
cp "$deb" "$R/tmp/"
chroot_apt "$R" install "/tmp/${deb##*/}" || fail "apt-get install ./${deb##*/} failed"
chroot_run "$R" 10 '! command -v cc && ! command -v gcc' >/dev/null || fail "the install chroot has a compiler"
dev=$(chroot_run "$R" 10 "dpkg-query -W -f '\${Package}\n' | grep -- '-dev\$' || true")
[ -z "$dev" ] || fail "the install chroot has -dev packages: $dev"

phase "run"
# A read-only current directory, as on a box whose disk went read-only.
mkdir "$R/ro" && mount --bind "$R/ro" "$R/ro" && mount -o remount,bind,ro "$R/ro" ||
	fail "cannot make a read-only directory"
chroot_run "$R" 60 'cd /ro && leaktop --batch -n 1 --format json >/tmp/out.json' ||
	fail "leaktop --batch -n 1 --format json failed"
jq -e '.totals.sockets > 0 and (.processes | map(select(.pid == 1)) | length) == 1' "$R/tmp/out.json" >/dev/null ||
	fail "the JSON lacks the sockets or pid 1: $(head -c 300 "$R/tmp/out.json")"
echo "ok: batch JSON with $(jq .totals.sockets "$R/tmp/out.json") sockets and $(jq .totals.processes "$R/tmp/out.json") processes"
chroot_run "$R" 10 'cd /ro && leaktop --help' | grep -q '^Usage: leaktop' || fail "leaktop --help"
assert_eq "leaktop --version" "leaktop $version" "$(chroot_run "$R" 10 'leaktop --version')"
chroot_run "$R" 10 'test -s /usr/share/bash-completion/completions/leaktop' || fail "no bash completion installed"
if ls "$srcdir"/themes/*.theme >/dev/null 2>&1; then
	chroot_run "$R" 10 'ls /usr/share/leaktop/themes/*.theme' >/dev/null || fail "no themes installed"
fi
# The exporter: its unit, its settings (a conffile), the rules and the dashboard;
# installed, not enabled.
chroot_run "$R" 10 'test -s /lib/systemd/system/leaktop-exporter.service && grep -qxF "ExecStart=/usr/bin/leaktop --listen=\${LEAKTOP_LISTEN} \$LEAKTOP_OPTS" /lib/systemd/system/leaktop-exporter.service' ||
	fail "no exporter unit, or it does not run /usr/bin/leaktop"
chroot_run "$R" 10 'dpkg-query -W -f="\${Conffiles}" leaktop | grep -q "/etc/default/leaktop-exporter"' ||
	fail "/etc/default/leaktop-exporter is not a conffile"
chroot_run "$R" 10 'test -s /usr/share/leaktop/contrib/prometheus/leaktop.rules.yml && test -s /usr/share/leaktop/contrib/grafana/leaktop.json' ||
	fail "no alert rules or dashboard in /usr/share/leaktop/contrib"
chroot_run "$R" 10 '! ls /etc/systemd/system/*.wants/leaktop-exporter.service 2>/dev/null' >/dev/null ||
	fail "the package enabled the exporter"
echo "ok: exporter unit, settings, rules and dashboard installed, not enabled"

# A configuration file that is not there, when asked for by name: a one-line reason.
rc=0
chroot_run "$R" 10 'cd /ro && leaktop -b --config=/nonexistent.conf >/dev/null 2>/tmp/conf.err' || rc=$?
[ "$rc" -gt 0 ] && [ "$rc" -lt 124 ] && grep -q '^leaktop: .*nonexistent.conf' "$R/tmp/conf.err" ||
	fail "--config with a missing file: exit $rc, '$(cat "$R/tmp/conf.err")'"
echo "ok: --config with a missing file: exit $rc: $(cat "$R/tmp/conf.err")"

# Not root: other users' processes are counted as not readable, and nothing fails.
chroot_run "$R" 60 'cd /ro && setpriv --reuid=nobody --regid=nogroup --clear-groups leaktop -b -o json >/tmp/user.json' ||
	fail "leaktop -b as nobody failed"
jq -e '.totals.unreadable_processes > 0' "$R/tmp/user.json" >/dev/null ||
	fail "as nobody, no process is counted as not readable"
echo "ok: as nobody, $(jq .totals.unreadable_processes "$R/tmp/user.json") processes not readable"

# The dashboard on a terminal whose TERM has no terminfo entry, or no TERM at all:
# a clear message and a non-zero exit, never a crash. script(1) gives it a tty.
for term in TERM=nosuchterm ""; do
	rc=0
	chroot_run "$R" 20 "cd /ro && $term script -qec 'leaktop -n 1' /dev/null </dev/null >/tmp/tui.out 2>&1" || rc=$?
	msg=$(tr -d '\r' <"$R/tmp/tui.out")
	echo "dashboard with ${term:-no TERM}: exit $rc: $msg"
	[ "$rc" -gt 0 ] && [ "$rc" -lt 124 ] || fail "the dashboard with ${term:-no TERM} exited $rc (crash or hang)"
	case $msg in
	leaktop:*TERM*) ;;
	*) fail "no clear message about TERM from the dashboard with ${term:-no TERM}" ;;
	esac
done

phase "man-db"
chroot_apt "$R" install man-db || fail "cannot install man-db"
rc=0
chroot_run "$R" 30 'cd /ro && man -P cat leaktop >/tmp/man.txt 2>/tmp/man.err' || rc=$?
[ $rc = 0 ] || fail "man -P cat leaktop exited $rc: $(cat "$R/tmp/man.err")"
[ ! -s "$R/tmp/man.err" ] || fail "man -P cat leaktop warned: $(cat "$R/tmp/man.err")"
grep -q 'SEE ALSO' "$R/tmp/man.txt" || fail "the man page is not rendered"
phase "PASS"
