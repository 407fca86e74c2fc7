#!/bin/sh
# Runs in a tmux pane: records the tty settings before and after leaktop, its pid
# and its exit status, then keeps the pane (and its tty) open for inspection.
out=$1
shift
stty -g > "$out/before"
sh -c 'echo $$ > "$0/pid"; exec "$@"' "$out" "$@"
rc=$?
# The tty settings first: a test reads them as soon as the exit status is there.
stty -g > "$out/after"
echo "$rc" > "$out/rc"
exec sleep 600
