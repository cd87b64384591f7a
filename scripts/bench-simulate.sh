#!/usr/bin/env bash
# The rate `tollgate simulate` achieves into a local Redis (and ClickHouse), asked for more than it
# can do, beside redis-benchmark's pipelined INCR rate on the same server in the same run: the
# ceiling of one client's commands, four of which make a simulated request.
#   scripts/bench-simulate.sh BINARY REDIS_HOST:PORT CLICKHOUSE_URL
set -euo pipefail
bin=$1 redis=$2 clickhouse=$3
host=${redis%:*} port=${redis##*:}
db=3
redis-cli -h "$host" -p "$port" -n $db flushdb >/dev/null
echo "simulate: 1000 tenants, asked for 100,000 requests/s for 20 s, every scenario"
for target in redis redis+clickhouse; do
    extra=()
    [ "$target" = redis+clickhouse ] && extra=(--clickhouse "$clickhouse" --clickhouse-database tollgate_bench_sim)
    line=$("$bin" simulate --redis "redis://$redis/$db" "${extra[@]}" --tenants 1000 --rate 100000 --duration 20s \
        --report-every 3600 --scenario all | grep '^done:')
    echo "  into $target: ${line#done: }"
done
incr=$(redis-benchmark -h "$host" -p "$port" --dbnum $db -n 2000000 -P 64 -q -t incr | tr '\r' '\n' | grep -o 'INCR: [0-9.]*' | tail -1)
echo "  redis-benchmark, one client pipelining 64 (the same server): $incr commands/s"
echo "  (a simulated request is 4 Redis commands or fewer: INCR, EXPIRE, HINCRBY, and a few SETs and HSETs)"
