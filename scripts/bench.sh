#!/usr/bin/env bash
# `make bench`: release build, a private Redis on a free loopback port, the Redis benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
swift build -c release --product tollgate-bench-redis
dir=$(mktemp -d "${TMPDIR:-/tmp}/tollgate-bench.XXXXXX")
cleanup() { scripts/services.sh stop "$dir" || true; rm -rf "$dir"; }
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$dir/redis"
redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/redis" --save "" --appendonly no --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis/redis.log"
for _ in $(seq 80); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.25; done
echo "machine: $(nproc) cores, $(uname -r); redis $(redis-server --version | awk '{print $3}')"
TOLLGATE_BENCH_REDIS=127.0.0.1:$port .build/release/tollgate-bench-redis
