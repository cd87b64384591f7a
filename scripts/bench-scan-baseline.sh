#!/usr/bin/env bash
# The SCAN-based way an operator reads the fleet with redis-cli today: find every key of the
# gateway by SCAN (no computed names), then read each with the command its type needs, one
# command per round trip as redis-cli does when fed commands on stdin.
#   bench-scan-baseline.sh HOST PORT
set -euo pipefail
host=$1 port=$2
cli=(redis-cli -h "$host" -p "$port")
"${cli[@]}" --scan --pattern '*' | awk '
    /:session:|:cache:/         { next }   # counted by the scan itself, not read
    /^rl:/                      { print "GET " $0; next }
    /:apikeys$/ || /^gw:tenants$/ { print "SMEMBERS " $0; next }
    { print "HGETALL " $0 }
' | "${cli[@]}" >/dev/null
