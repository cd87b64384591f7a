#!/usr/bin/env bash
# `make bench`: release build, the real services on free loopback ports, the benchmarks.
# `make bench ONLY=redis`, `ONLY=clickhouse`, `ONLY=console` or `ONLY=simulate` runs one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
only=${ONLY:-all}
swift build -c release --product tollgate
swift build -c release --product tollgate-bench-redis
swift build -c release --product tollgate-bench-clickhouse
swift build -c release --product tollgate-bench-console
# The keypress benchmark reads the console's screen with pyte, a terminal emulator from PyPI.
if [ "$only" = all ] || [ "$only" = console ]; then
    python3 -c 'import pyte' 2>/dev/null || python3 -m pip install -q pyte
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")
cleanup() { scripts/services.sh stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
scripts/services.sh start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/env"
echo "machine: $(nproc) cores, $(uname -r); redis $(redis-server --version | awk '{print $3}'); clickhouse $(clickhouse-client --version 2>/dev/null | awk '{print $NF}')"
case "$only" in all|redis) TOLLGATE_BENCH_REDIS=$TOLLGATE_TEST_REDIS .build/release/tollgate-bench-redis ;; esac
case "$only" in all|clickhouse) .build/release/tollgate-bench-clickhouse ;; esac
case "$only" in all|console)
    TOLLGATE_BENCH_REDIS=$TOLLGATE_TEST_REDIS .build/release/tollgate-bench-console
    python3 scripts/bench-keys.py .build/release/tollgate "$TOLLGATE_TEST_REDIS" "${TOLLGATE_BENCH_CONSOLE_SIZES:-1000,10000,100000}"
    scripts/bench-bytes.sh .build/release/tollgate "$TOLLGATE_TEST_REDIS" "${TOLLGATE_BENCH_CONSOLE_SIZES:-1000,10000,100000}" ;;
esac
case "$only" in all|simulate) scripts/bench-simulate.sh .build/release/tollgate "$TOLLGATE_TEST_REDIS" "$TOLLGATE_TEST_CLICKHOUSE" ;; esac
