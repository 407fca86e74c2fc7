#!/bin/sh
# Runs in a tmux pane: records the tty settings before and after leaktop, its pid
# and its exit status, then keeps the pane (and its tty) open for inspection.
out=$1
shift
stty -g > "$out/before"
sh -c 'echo $$ > "$0/pid"; exec "$@"' "$out" "$@"
echo $? > "$out/rc"
stty -g > "$out/after"
exec sleep 600
