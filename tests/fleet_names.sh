#!/bin/sh
# A renamed metric cannot silently empty a panel or mute an alert: every leaktop_*
# name the alert rules and the Grafana dashboard use is a family of leaktop's real
# OpenMetrics output (three refreshes, so the history's families are there too).
#   sh tests/fleet_names.sh            the check (make check; no root needed)
#   sh tests/fleet_names.sh --names    only the names used, one a line (for the live test)
set -eu
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
LEAKTOP=${LEAKTOP:-$top_builddir/leaktop}
RULES=$srcdir/contrib/prometheus/leaktop.rules.yml
DASH=$srcdir/contrib/grafana/leaktop.json

# Families that only show with data this run may lack: a process whose fds grow
# (the time to exhaustion), an alert firing. Each must still be a name
# outputs/metrics.c writes, and tests/live/fleet_rules.sh finds every one in a
# real leak's scrape.
MAY_BE_ABSENT="leaktop_process_fd_exhaustion_seconds leaktop_alert_active"

# Here, not in names(): an exit in a pipeline's subshell would not end the script.
command -v jq >/dev/null || { echo "SKIP: needs jq" >&2; exit 77; }
names() {
	# The rules: their expressions are the only place a name with an underscore
	# appears (annotations name the program, "leaktop -b ...").
	grep -o 'leaktop_[a-z0-9_]*' "$RULES" | sed 's/^/rules /'
	# The dashboard: panel queries and the variables' queries.
	jq -r '.. | objects | (.expr?, .definition?, .query?) | strings' "$DASH" |
		grep -o 'leaktop_[a-z0-9_]*' | sed 's/^/dashboard /'
}
if [ "${1:-}" = --names ]; then
	names | awk '{print $2}' | sort -u
	exit 0
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/leaktop-fleet.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
names | sort -u > "$tmp/used"
[ "$(awk '$1 == "rules"' "$tmp/used" | wc -l)" -ge 6 ] || { echo "FAIL: too few names in $RULES"; exit 1; }
[ "$(awk '$1 == "dashboard"' "$tmp/used" | wc -l)" -ge 6 ] || { echo "FAIL: too few names in $DASH"; exit 1; }
"$LEAKTOP" -b --no-config -o openmetrics -n 3 -d 0.6 --top 0 > "$tmp/out.prom" ||
	{ echo "FAIL: leaktop -b -o openmetrics failed"; exit 1; }
sed -n 's/^# TYPE \([^ ]*\) .*/\1/p' "$tmp/out.prom" | sort -u > "$tmp/exposed"
[ "$(wc -l < "$tmp/exposed")" -ge 10 ] || { echo "FAIL: the exposition has too few families"; exit 1; }
status=0
while read -r where name; do
	if grep -qx "$name" "$tmp/exposed"; then
		continue
	fi
	case " $MAY_BE_ABSENT " in
	*" $name "*)
		if grep -q "\"$name\"" "$srcdir/outputs/metrics.c"; then
			echo "ok: $name ($where) absent without a growing process or an alert; outputs/metrics.c writes it"
			continue
		fi ;;
	esac
	echo "FAIL: $where uses $name, which leaktop does not export"
	status=1
done < "$tmp/used"
[ $status = 0 ] && echo "PASS: $(awk '{print $2}' "$tmp/used" | sort -u | wc -l) names used, all exported"
exit $status
