#!/usr/bin/env bash
# Starts or stops the real services the tests use, as plain processes on free loopback ports
# with their data in one folder:
#   scripts/services.sh start DIR   -> writes DIR/env (TOLLGATE_TEST_* variables) once all answer
#   scripts/services.sh clickhouse DIR   -> only a ClickHouse (DIR/env, DIR/clickhouse.pid)
#   scripts/services.sh sandbox DIR      -> a Redis and a ClickHouse for `make sandbox` (DIR/env)
#   scripts/services.sh stop DIR
# Redis standalone, a Redis Cluster of three masters and one of three masters with a replica each, ClickHouse (Debian's 18.16) alone and as two
# shards of a cluster, and a stand-in
# for Keycloak (scripts/keycloak-standin.py).
set -euo pipefail

cmd=${1:?usage: services.sh start|clickhouse|sandbox|stop DIR}
dir=${2:?usage: services.sh start|clickhouse|sandbox|stop DIR}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

wait_for() { # wait_for WHAT TRIES COMMAND...
    local what=$1 tries=$2; shift 2
    for _ in $(seq "$tries"); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.25
    done
    echo "services: $what did not come up" >&2
    return 1
}

stop() {
    local pids=()
    for pidfile in "$dir"/*.pid; do
        [ -e "$pidfile" ] || continue
        pids+=("$(cat "$pidfile")")
        rm -f "$pidfile"
    done
    [ ${#pids[@]} -eq 0 ] && return 0
    kill "${pids[@]}" 2>/dev/null || true
    for pid in "${pids[@]}"; do
        for _ in $(seq 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
    done
}

start_redis() { # start_redis NAME PORT [extra args]
    local name=$1 port=$2; shift 2
    mkdir -p "$dir/$name"
    redis-server --port "$port" --bind 127.0.0.1 --dir "$dir/$name" --save "" --appendonly no \
        --tracking-table-max-keys 10000000 --daemonize yes --pidfile "$dir/$name.pid" --logfile "$dir/$name/redis.log" "$@"
    wait_for "redis $name on $port" 80 redis-cli -p "$port" ping
}

start_clickhouse() { # start_clickhouse NAME [TCP_PORT REMOTE_SERVERS_XML]: sets ch_http and ch_tcp; DIR/NAME.pid names the server
    local name=$1 d="$dir/$1"
    ch_http=$(free_port); ch_tcp=${2:-$(free_port)}
    local ch_inter remote=${3:-}
    ch_inter=$(free_port)
    mkdir -p "$d"/{data,tmp,user_files,format_schemas,log}
    python3 - "$d" "$ch_http" "$ch_tcp" "$ch_inter" "$remote" <<'PY'
import re, sys
d, http, tcp, inter, remote = sys.argv[1:]
x = open('/etc/clickhouse-server/config.xml').read()
x = x.replace('<path>/var/lib/clickhouse/</path>', f'<path>{d}/data/</path>')
x = x.replace('<tmp_path>/var/lib/clickhouse/tmp/</tmp_path>', f'<tmp_path>{d}/tmp/</tmp_path>')
x = x.replace('<user_files_path>/var/lib/clickhouse/user_files/</user_files_path>', f'<user_files_path>{d}/user_files/</user_files_path>')
x = x.replace('<format_schema_path>/var/lib/clickhouse/format_schemas/</format_schema_path>', f'<format_schema_path>{d}/format_schemas/</format_schema_path>')
x = re.sub(r'<log>[^<]*</log>', f'<log>{d}/log/server.log</log>', x)
x = re.sub(r'<errorlog>[^<]*</errorlog>', f'<errorlog>{d}/log/server.err.log</errorlog>', x)
x = re.sub(r'<http_port>\d+</http_port>', f'<http_port>{http}</http_port>', x)
x = re.sub(r'<tcp_port>\d+</tcp_port>', f'<tcp_port>{tcp}</tcp_port>', x)
x = re.sub(r'<interserver_http_port>\d+</interserver_http_port>', f'<interserver_http_port>{inter}</interserver_http_port>', x)
x = x.replace('<listen_host>::1</listen_host>', '')
x = x.replace('<remote_servers incl="clickhouse_remote_servers" >', '<remote_servers incl="clickhouse_remote_servers" >' + remote)
open(f'{d}/config.xml', 'w').write(x)
# Every query is logged (system.query_log), so a test can see what each shard read.
u = open('/etc/clickhouse-server/users.xml').read()
u = u.replace('<default>', '<default><log_queries>1</log_queries>', 1)
open(f'{d}/users.xml', 'w').write(u)
PY
    # The shell writes its own pid and then becomes the server, so the pid file names the server.
    (cd "$d" && exec nohup sh -c 'echo $$ >"$1"; exec clickhouse-server --config-file="$2"' sh \
        "$dir/$name.pid" "$d/config.xml" >"$d/log/stdout.log" 2>&1 &)
    wait_for "clickhouse $name on $ch_http" 240 sh -c "curl -sf 'http://127.0.0.1:$ch_http/' --data-binary 'SELECT 1' | grep -q 1" \
        || { tail -20 "$d/log/server.err.log" >&2 || true; return 1; }
}

# A Redis Cluster of COUNT nodes with REPLICAS replicas per master (redis-cli --cluster create takes
# the first COUNT/(REPLICAS+1) as masters). Sets cluster_nodes (host:port,...).
start_redis_cluster() { # start_redis_cluster NAME COUNT REPLICAS
    local name=$1 count=$2 replicas=$3 nodes=() ports=()
    for i in $(seq "$count"); do
        local p; p=$(free_port)
        # The cluster bus listens on port+10000: make sure that one is free too.
        while ! python3 -c "import socket,sys; s=socket.socket(); s.bind(('127.0.0.1',$p+10000))" 2>/dev/null; do p=$(free_port); done
        start_redis "$name$i" "$p" --cluster-enabled yes --cluster-config-file "$dir/$name$i/nodes.conf" --cluster-node-timeout 2000
        nodes+=("127.0.0.1:$p"); ports+=("$p")
    done
    echo yes | redis-cli --cluster create "${nodes[@]}" --cluster-replicas "$replicas" --cluster-yes >"$dir/$name-create.log" 2>&1 \
        || { cat "$dir/$name-create.log" >&2; return 1; }
    for p in "${ports[@]}"; do
        wait_for "$name state ok on $p" 120 sh -c "redis-cli -p $p cluster info | grep -q cluster_state:ok"
    done
    cluster_nodes=$(IFS=,; echo "${nodes[*]}")
}

# Two ClickHouse servers that are the two shards of the cluster `tollgate_two_shards` (remote_servers
# in both configs), for the Distributed layout (docs/clickhouse.md). Sets shard_urls and shard_tcp.
start_clickhouse_shards() {
    local tcp1 tcp2 remote urls=()
    tcp1=$(free_port); tcp2=$(free_port)
    remote="<tollgate_two_shards><shard><replica><host>127.0.0.1</host><port>$tcp1</port></replica></shard>"
    remote+="<shard><replica><host>127.0.0.1</host><port>$tcp2</port></replica></shard></tollgate_two_shards>"
    start_clickhouse shard1 "$tcp1" "$remote"; urls+=("http://127.0.0.1:$ch_http")
    start_clickhouse shard2 "$tcp2" "$remote"; urls+=("http://127.0.0.1:$ch_http")
    shard_urls=$(IFS=,; echo "${urls[*]}")
}

# A Python that has the cryptography package (the stand-in signs tokens with RS256).
python_with_crypto() {
    for py in python3 /usr/bin/python3; do
        if command -v "$py" >/dev/null && "$py" -c 'import cryptography' 2>/dev/null; then echo "$py"; return 0; fi
    done
    echo "no python3 with the cryptography package (apt-get install python3-cryptography)" >&2
    return 1
}

# The Keycloak stand-in (scripts/keycloak-standin.py): Keycloak cannot be installed here.
start_keycloak() { # sets kc_port
    local py; py=$(python_with_crypto)
    rm -f "$dir/keycloak.port"
    ("$py" "$(dirname "$0")/keycloak-standin.py" "$dir/keycloak.port" >"$dir/keycloak.log" 2>&1 & echo $! >"$dir/keycloak.pid")
    wait_for "keycloak stand-in" 80 test -s "$dir/keycloak.port" || { cat "$dir/keycloak.log" >&2; return 1; }
    kc_port=$(cat "$dir/keycloak.port")
}

start() {
    mkdir -p "$dir"
    local redis_port; redis_port=$(free_port)
    start_redis redis "$redis_port" --databases 48   # one database per test that writes

    start_redis_cluster cluster 3 0; local cluster=$cluster_nodes
    # Three masters with a replica each, for the failover test alone (it kills a master).
    start_redis_cluster replicated 6 1; local replicated=$cluster_nodes

    start_clickhouse clickhouse
    local main_http=$ch_http main_tcp=$ch_tcp
    start_clickhouse_shards
    start_keycloak

    cat >"$dir/env" <<ENV
export TOLLGATE_TEST_REDIS=127.0.0.1:$redis_port
export TOLLGATE_TEST_REDIS_CLUSTER=$cluster
export TOLLGATE_TEST_REDIS_REPLICATED=$replicated
export TOLLGATE_TEST_CLICKHOUSE=http://127.0.0.1:$main_http
export TOLLGATE_TEST_CLICKHOUSE_TCP=$main_tcp
export TOLLGATE_TEST_CLICKHOUSE_CLUSTER=tollgate_two_shards
export TOLLGATE_TEST_CLICKHOUSE_SHARDS=$shard_urls
export TOLLGATE_TEST_KEYCLOAK=http://127.0.0.1:$kc_port
ENV
    echo "services: redis 127.0.0.1:$redis_port, cluster $cluster, replicated cluster $replicated, clickhouse http://127.0.0.1:$main_http, shards $shard_urls, keycloak stand-in http://127.0.0.1:$kc_port"
}

case $cmd in
    start) start ;;
    # A ClickHouse of its own, for a test that freezes it (SIGSTOP) without stalling the others.
    clickhouse) mkdir -p "$dir"; start_clickhouse clickhouse; echo "export TOLLGATE_TEST_CLICKHOUSE=http://127.0.0.1:$ch_http" >"$dir/env" ;;
    sandbox)
        mkdir -p "$dir"
        redis_port=$(free_port)
        start_redis redis "$redis_port"
        start_clickhouse clickhouse
        printf 'export SANDBOX_REDIS=redis://127.0.0.1:%s\nexport SANDBOX_CLICKHOUSE=http://127.0.0.1:%s\n' "$redis_port" "$ch_http" >"$dir/env" ;;
    stop) stop ;;
    *) echo "usage: services.sh start|clickhouse|sandbox|stop DIR" >&2; exit 2 ;;
esac
