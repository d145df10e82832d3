#!/usr/bin/env bash
# Route misses through the two upstream clients: a route whose upstream answers `no-store` (so
# every request goes upstream), body-less GETs, with `interim_responses: true` (the default: Moxy's
# own pooled HTTP/1.1 client, which passes 1xx on) and `false` (AsyncHTTPClient), one connection
# and then 16, against the origin directly.
#
# Needs: nginx, wrk, taskset (apt-get install nginx wrk). Installs nothing.
# Knobs: DURATION=10 MOXY_BIN=path SERVER_CPU=0 CLIENT_CPU=1
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ORIGIN_PORT=${ORIGIN_PORT:-18090}
MOXY_PORT=${MOXY_PORT:-18091}
source bench/common.sh
require_tools nginx wrk taskset
build_moxy
make_workdir moxy-route-miss
start_nostore_origin "$ORIGIN_PORT" "$SERVER_CPU"
run() { taskset -c "$CLIENT_CPU" wrk -t1 -c"$2" -d"${DURATION}s" --latency "$1" | awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Requests\/sec/ {rps=$2} END {print p50, p99, rps}'; }
for connections in 1 16; do
    read -r d50 d99 drps <<<"$(run "http://127.0.0.1:$ORIGIN_PORT/1k.png" "$connections")"
    echo "$connections connection(s), ${DURATION}s each; direct to origin: p50 $d50, p99 $d99, $drps req/s"
done
for interim in true false; do
    cat > "$WORK/moxy-$interim.yaml" <<YML
routes:
  site:
    upstream: http://127.0.0.1:$ORIGIN_PORT
    interim_responses: $interim
cache:
  disk:
    enabled: false
YML
    taskset -c "$SERVER_CPU" "$MOXY_BIN" serve --config "$WORK/moxy-$interim.yaml" \
        --listen "127.0.0.1:$MOXY_PORT" --threads 1 --log-level warning &
    pid=$!
    wait_port "$MOXY_PORT"
    curl -s -D - -o /dev/null "http://127.0.0.1:$MOXY_PORT/1k.png" | grep -qi "cache-status: moxy; fwd=" || { echo "not a miss" >&2; exit 1; }
    for connections in 1 16; do
        read -r m50 m99 mrps <<<"$(run "http://127.0.0.1:$MOXY_PORT/1k.png" "$connections")"
        echo "interim_responses: $interim, $connections connection(s): p50 $m50, p99 $m99, $mrps req/s"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
done
