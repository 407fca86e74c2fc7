#!/bin/sh
# The exporter's systemd unit, as systemd reads it: `systemd-analyze verify` has
# nothing to say (it warns about unknown keys and bad values but still exits 0, so
# any output fails), its exposure stays "OK" (3.5 or less of 10), it serves on
# loopback by default, and the settings file sets what the unit reads.
# No systemd as PID 1 is needed: both commands read the files alone.
set -eu
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
command -v systemd-analyze >/dev/null || { echo "SKIP: needs systemd-analyze (package systemd)"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/leaktop-unit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
bindir=$(cd "$top_builddir" && pwd) # verify wants ExecStart to exist: the built leaktop
unit=$tmp/leaktop-exporter.service
sed -e "s|@bindir@|$bindir|g" -e "s|@sysconfdir@|/etc|g" \
	"$srcdir/contrib/systemd/leaktop-exporter.service.in" > "$unit"

SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=no "$unit" > "$tmp/verify" 2>&1 ||
	{ cat "$tmp/verify"; echo "FAIL: systemd-analyze verify failed"; exit 1; }
[ ! -s "$tmp/verify" ] || { cat "$tmp/verify"; echo "FAIL: systemd-analyze verify warns"; exit 1; }
echo "ok: systemd-analyze verify"
if ! systemd-analyze security --offline=true --threshold=35 "$unit" > "$tmp/security" 2>&1; then
	tail -n 1 "$tmp/security"
	echo "FAIL: the unit's exposure is over 3.5"
	exit 1
fi
echo "ok: $(tail -n 1 "$tmp/security" | sed 's/^[^O]*Overall/Overall/')"

# Defaults: loopback, the settings file optional, not started at boot unless enabled.
grep -qx 'Environment=LEAKTOP_LISTEN=127.0.0.1:9207 LEAKTOP_OPTS=--no-config' "$unit" ||
	{ echo "FAIL: the unit's default address is not 127.0.0.1:9207"; exit 1; }
grep -qx 'EnvironmentFile=-/etc/default/leaktop-exporter' "$unit" ||
	{ echo "FAIL: the settings file is not read, or not optional"; exit 1; }
grep -q '^ExecStart=.*--listen=${LEAKTOP_LISTEN} $LEAKTOP_OPTS$' "$unit" ||
	{ echo "FAIL: ExecStart does not use the settings"; exit 1; }
# The settings file: assignments only (quoted when they hold spaces: what systemd
# and sh both read the same), the same default address.
settings=$srcdir/contrib/default/leaktop-exporter
bad=$(grep -Ev '^(#.*|[A-Z_]+=("[^"]*"|[^ "]*)|)$' "$settings" || true)
[ -z "$bad" ] || { echo "FAIL: not an assignment in $settings: $bad"; exit 1; }
(
	. "$settings"
	[ "$LEAKTOP_LISTEN" = 127.0.0.1:9207 ] || { echo "FAIL: $settings listens on $LEAKTOP_LISTEN"; exit 1; }
	# Its options are ones leaktop accepts.
	"$top_builddir/leaktop" $LEAKTOP_OPTS -b -n 1 -o openmetrics > /dev/null ||
		{ echo "FAIL: leaktop rejects LEAKTOP_OPTS=$LEAKTOP_OPTS"; exit 1; }
)
echo "PASS"
