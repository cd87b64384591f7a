#!/usr/bin/env bash
# `make bench`: release build, the real services on free loopback ports, the benchmarks.
# `make bench ONLY=redis` or `ONLY=clickhouse` runs one of them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release --product tollgate-bench-redis
swift build -c release --product tollgate-bench-clickhouse
dir=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")
cleanup() { scripts/services.sh stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
scripts/services.sh start "$dir" >/dev/null
# shellcheck disable=SC1091
source "$dir/env"
echo "machine: $(nproc) cores, $(uname -r); redis $(redis-server --version | awk '{print $3}'); clickhouse $(clickhouse-client --version 2>/dev/null | awk '{print $NF}')"
case "${ONLY:-all}" in all|redis) TOLLGATE_BENCH_REDIS=$TOLLGATE_TEST_REDIS .build/release/tollgate-bench-redis ;; esac
case "${ONLY:-all}" in all|clickhouse) .build/release/tollgate-bench-clickhouse ;; esac
