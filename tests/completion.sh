#!/bin/sh
# The bash completion offers what a user tabs for: every option the parser accepts,
# the formats, pids from /proc and ports of the sockets there are; run through
# bash-completion's own machinery, as an interactive shell would.
set -eu
srcdir=${srcdir:-.}
top_builddir=${top_builddir:-.}
LEAKTOP=$(cd "$top_builddir" && pwd)/leaktop
BC=/usr/share/bash-completion/bash_completion
command -v bash >/dev/null && [ -r "$BC" ] || { echo "SKIP: needs bash and bash-completion"; exit 77; }

# complete WORD...: what <tab> offers after "leaktop WORD...", one a line.
complete() {
	bash -c '
		. "$1"; . "$2"; shift 2
		compopt() { :; }  # only works inside a real completion
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_leaktop "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
		printf "%s\n" "${COMPREPLY[@]}"' \
		bash "$BC" "$top_builddir/completion/leaktop" "$LEAKTOP" "$@"
}
fail() { echo "FAIL: $*"; exit 1; }

# Every long option, and only those.
complete -- | sort > opts.$$ ; trap 'rm -f opts.$$' EXIT
"$LEAKTOP" --list-options | sed 's/=.*/=/' | sort | diff -u - opts.$$ ||
	fail "leaktop --<tab> does not offer exactly the parser's options"
[ "$(complete --for)" = "--format=" ] || fail "--for<tab> should give --format="
[ "$(complete --format '')" = "$("$LEAKTOP" --list-options | sed -n 's/^--format=//p' | tr '|' '\n')" ] ||
	fail "--format <tab> should offer the formats the parser accepts"
[ "$(complete --format=j)" = json ] || fail "--format=j<tab> should give json"

# Pids: this shell's own pid is offered, also after a comma.
complete --pid '' | grep -qx "$$" || fail "--pid <tab> does not offer pid $$"
complete -p "1,$$" | grep -qx "1,$$" || fail "-p 1,PID<tab> does not complete the second pid"
# Network namespaces: this shell's own.
complete --netns '' | grep -qx "$(stat -L -c %i /proc/$$/ns/net)" || fail "--netns <tab> does not offer this shell's namespace"
# Ports: whatever is there right now, read the same way ss would show it.
if command -v ss >/dev/null && port=$(ss -Htan | awk 'NR == 1 { n = split($4, a, ":"); print a[n] }') && [ -n "$port" ]; then
	complete --port '' | grep -qx "$port" || fail "--port <tab> does not offer local port $port"
fi
# Themes: the user's own (here from LEAKTOP_THEME_PATH), without the suffix.
mkdir -p themes.$$ && : > themes.$$/night-shift.theme && trap 'rm -rf opts.$$ themes.$$' EXIT
[ "$(LEAKTOP_THEME_PATH=$PWD/themes.$$ complete --theme ni)" = night-shift ] ||
	fail "--theme ni<tab> does not offer the theme in LEAKTOP_THEME_PATH"
echo "PASS: options, formats, pids, ports and themes complete"
