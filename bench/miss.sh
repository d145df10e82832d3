#!/usr/bin/env bash
# Miss-path overhead: latency of a fetch through Moxy (an object the origin marks no-store, so every
# request is a miss) against the same request sent to the origin directly, one connection at a time.
#
# Needs: nginx, wrk, taskset, python3 (apt-get install nginx wrk). Installs nothing.
# Knobs: DURATION=10 MOXY_BIN=path SERVER_CPU=0 CLIENT_CPU=1
#   MODE=signed|route: a signed URL (fetched by AsyncHTTPClient) or a --route (Moxy's own pool)
#   ORIGIN=nginx|nagle: nagle is Python's http.server, which sends head and body in two writes
#   without TCP_NODELAY, so a client that delays its acknowledgements waits 40 ms per response
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-10}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ORIGIN_PORT=${ORIGIN_PORT:-18090}
MOXY_PORT=${MOXY_PORT:-18091}
MODE=${MODE:-signed}
ORIGIN=${ORIGIN:-nginx}
source bench/common.sh
require_tools nginx wrk taskset
build_moxy
make_workdir moxy-miss
if [ "$ORIGIN" = nagle ]; then start_nagle_origin "$ORIGIN_PORT" "$SERVER_CPU"; else start_nostore_origin "$ORIGIN_PORT" "$SERVER_CPU"; fi
ROUTE=()
if [ "$MODE" = route ]; then ROUTE=(--route "/=http://127.0.0.1:$ORIGIN_PORT"); fi
MOXY_KEY=bench-key MOXY_ALLOW_LOOPBACK=true taskset -c "$SERVER_CPU" "$MOXY_BIN" serve \
    --listen "127.0.0.1:$MOXY_PORT" --threads 1 --log-level warning "${ROUTE[@]}" &
PIDS+=($!)
wait_port "$MOXY_PORT"
DIRECT="http://127.0.0.1:$ORIGIN_PORT/1k.png"
if [ "$MODE" = route ]; then
    VIA="http://127.0.0.1:$MOXY_PORT/1k.png"
else
    VIA="http://127.0.0.1:$MOXY_PORT$(MOXY_KEY=bench-key "$MOXY_BIN" sign "$DIRECT")"
fi
curl -s -D - -o /dev/null "$VIA" | grep -qiE "cache-status: moxy; fwd=(uri-miss|bypass); fwd-status=200; detail=no-store" || { echo "not a miss" >&2; exit 1; }
run() { taskset -c "$CLIENT_CPU" wrk -t1 -c1 -d"${DURATION}s" --latency "$1" | awk '/^ +50%/ {p50=$2} /^ +99%/ {p99=$2} /Requests\/sec/ {rps=$2} END {print p50, p99, rps}'; }
read -r d50 d99 drps <<<"$(run "$DIRECT")"
read -r m50 m99 mrps <<<"$(run "$VIA")"
echo "one connection, ${DURATION}s each, every request through Moxy is a miss (origin: $ORIGIN, sends no-store; mode: $MODE)"
echo "direct to origin: p50 $d50, p99 $d99, $drps req/s"
echo "through Moxy:     p50 $m50, p99 $m99, $mrps req/s"
