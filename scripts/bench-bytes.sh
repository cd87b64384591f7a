#!/usr/bin/env bash
# Bytes written to the terminal per refresh: the console on the overview against htop, both at
# 200x50, side by side in one tmux server for 31 s (1 s refreshes), each recorded with `script`.
# Usage: bench-bytes.sh BINARY REDIS_HOST:PORT SIZE[,SIZE...]  (database 1 + i holds SIZE i, as
# bench-keys.py uses them; seeded by tollgate-bench-console)
set -euo pipefail
binary=$1 redis=$2 sizes=$3
dir=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bytes.XXXXXX")
socket="tollgate-bytes-$$"
trap 'tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$dir"' EXIT
seconds=31
echo "bytes written to the terminal, 200x50, ${seconds} s at one refresh a second (the first frame included), recorded with script"
i=0
IFS=, read -ra list <<<"$sizes"
for size in "${list[@]}"; do
    i=$((i + 1))
    tmux -L "$socket" new-session -d -x 200 -y 50 -s htop \
        "script -q -c 'timeout $seconds htop -d 10' $dir/htop-$size >/dev/null"
    tmux -L "$socket" new-session -d -x 200 -y 50 -s console \
        "script -q -c 'timeout $seconds $binary --redis redis://$redis/$i --refresh 1' $dir/console-$size >/dev/null"
    sleep $((seconds + 2))
    tmux -L "$socket" kill-server 2>/dev/null || true
    h=$(stat -c %s "$dir/htop-$size") c=$(stat -c %s "$dir/console-$size")
    awk -v n="$size" -v h="$h" -v c="$c" -v s="$seconds" 'BEGIN {
        printf "  %6d tenants   tollgate %8.0f bytes a refresh   htop %8.0f bytes a refresh   tollgate / htop %.2fx\n", n, c / s, h / s, c / h }'
done
