#!/bin/sh
# scrapes2series.sh INSTANCE N DIR: the scrapes DIR/0.prom .. DIR/(N-1).prom (OpenMetrics;
# a missing or empty file is a failed scrape) as the input_series of a `promtool test
# rules` file, one sample a scrape, with the job and instance labels Prometheus adds,
# and up and scrape_duration_seconds from DIR/scrapes (lines "INDEX UP SECONDS").
set -eu
instance=$1 n=$2 dir=$3
i=0
while [ "$i" -lt "$n" ]; do
	[ -s "$dir/$i.prom" ] && awk -v i="$i" '!/^#/ && NF { print i "\t" $0 }' "$dir/$i.prom"
	i=$((i + 1))
done | awk -F'\t' -v n="$n" -v inst="$instance" -v scrapes="$dir/scrapes" '
function add(series, i, v) {
	if (!(series in seen)) { seen[series] = 1; order[++count] = series }
	val[series, i] = v
}
function targets(series) { # the labels of the target, as Prometheus attaches them
	lab = "job=\"leaktop\",instance=\"" inst "\""
	if (index(series, "{")) { sub(/\{/, "{" lab ",", series); return series }
	return series "{" lab "}"
}
{
	line = $2
	sp = match(line, / [^ ]+$/) # the value is the last field; label values may hold spaces
	add(targets(substr(line, 1, sp - 1)), $1, substr(line, sp + 1))
}
END {
	while ((getline l < scrapes) > 0) {
		split(l, f, " ")
		add(targets("up"), f[1], f[2])
		if (f[2] == 1)
			add(targets("scrape_duration_seconds"), f[1], f[3])
	}
	for (k = 1; k <= count; k++) {
		s = order[k]; vals = ""
		for (i = 0; i < n; i++)
			vals = vals (i ? " " : "") (((s, i) in val) ? val[s, i] : "_")
		gsub(/\047/, "\047\047", s) # YAML single quotes
		printf "      - series: \047%s\047\n        values: \047%s\047\n", s, vals
	}
}'
