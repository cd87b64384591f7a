#!/usr/bin/env bash
# `make sandbox`: a Redis and a ClickHouse of their own on free loopback ports (data in a
# temporary folder), `tollgate simulate` driving traffic into them in the background, and the
# console open on both. Quitting the console (q or ctrl-c), or a signal to this script, stops
# everything it started and removes the folder.
#   TENANTS (default 2000), RATE (requests/s, default 2000), SCENARIOS (default all), SEED (1)
#   SANDBOX_DIR_FILE: a file to write the temporary folder's path to (for its test)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${TOLLGATE_BIN:-}" ]; then
    bin=$TOLLGATE_BIN   # a binary already built (the test of this script)
else
    scripts/deps.sh
    swift build --product tollgate
    bin=$(swift build --show-bin-path)/tollgate
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-sandbox.XXXXXX")
[ -n "${SANDBOX_DIR_FILE:-}" ] && echo "$dir" >"$SANDBOX_DIR_FILE"
cleanup() {
    # Once begun it runs to its end: a second ctrl-c, or the terminal closing, cannot cut it short.
    trap '' INT TERM HUP
    # The simulator first (it writes what it holds and stops), then the services it writes to.
    if [ -s "$dir/simulate.pid" ]; then
        kill "$(cat "$dir/simulate.pid")" 2>/dev/null || true
        for _ in $(seq 40); do kill -0 "$(cat "$dir/simulate.pid")" 2>/dev/null || break; sleep 0.25; done
    fi
    scripts/services.sh stop "$dir" || true
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

echo "sandbox: starting Redis and ClickHouse in $dir"
scripts/services.sh sandbox "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/env"
# The sandbox's own config, spool and state: nothing of a real context is read or written.
: >"$dir/config.toml"
export TOLLGATE_CONFIG=$dir/config.toml TOLLGATE_SPOOL=$dir/spool.jsonl XDG_STATE_HOME=$dir/state
unset TOLLGATE_REDIS_URL TOLLGATE_CLICKHOUSE_URL

scenarios=()
for s in ${SCENARIOS:-all}; do scenarios+=(--scenario "$s"); done
"$bin" simulate --redis "$SANDBOX_REDIS" --clickhouse "$SANDBOX_CLICKHOUSE" --tenants "${TENANTS:-2000}" \
    --rate "${RATE:-2000}" --seed "${SEED:-1}" "${scenarios[@]}" </dev/null >"$dir/simulate.log" 2>&1 &
echo $! >"$dir/simulate.pid"
for _ in $(seq 240); do
    grep -q '^simulating' "$dir/simulate.log" 2>/dev/null && break
    kill -0 "$(cat "$dir/simulate.pid")" 2>/dev/null || { cat "$dir/simulate.log" >&2; exit 1; }
    sleep 0.25
done
grep -v '^ ' "$dir/simulate.log"
"$bin" --redis "$SANDBOX_REDIS" --clickhouse "$SANDBOX_CLICKHOUSE"
