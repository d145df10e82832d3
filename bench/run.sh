#!/usr/bin/env bash
# Cache-hit benchmark: Moxy vs nginx proxy_cache, same origin, same objects, same machine.
#
# Needs: nginx, wrk, taskset, python3 (apt-get install nginx wrk). Installs nothing.
# Each server is pinned to one core (SERVER_CPU), wrk to another (CLIENT_CPU). Systems and object
# sizes alternate, ROUNDS times; the table gives the median req/s and p99 of the rounds, the server
# RSS after the runs, and the ratio Moxy/nginx.
#
# Usage: bench/run.sh            (builds moxy in release mode with a static Swift runtime, in
#                                .build-static, if MOXY_BIN is not set)
# Knobs: ROUNDS=5 DURATION=10 CONNECTIONS=50 SERVER_CPU=0 CLIENT_CPU=1 MOXY_BIN=path MODE=signed|route
#        TIER=memory|disk SIZES="1k 100k" (disk: "100k 1m")
#        TLS=1: both over HTTPS (TLS 1.3, a P-256 certificate made here; wrk keeps its connections,
#        so this is the cost of encrypting hits, not of handshakes)
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ORIGIN_PORT=${ORIGIN_PORT:-18080}
MOXY_PORT=${MOXY_PORT:-18081}
NGINX_PORT=${NGINX_PORT:-18082}
# MODE=signed measures signed-URL hits; MODE=route measures origin-route hits (`--route /=origin`).
MODE=${MODE:-signed}
# TIER=disk measures disk hits: Moxy's disk tier on, objects over 64 KiB kept on disk only (so every
# hit reads the file), against nginx proxy_cache (whose files sit in the page cache likewise).
TIER=${TIER:-memory}
SIZES=${SIZES:-$([ "$TIER" = disk ] && echo "100k 1m" || echo "1k 100k")}

source bench/common.sh
require_tools nginx wrk taskset python3
build_moxy
make_workdir moxy-bench
SCHEME=http
TLS_ARGS=()
if [ -n "${TLS:-}" ]; then
    SCHEME=https
    make_tls_cert
    TLS_ARGS=(--tls-listen "127.0.0.1:$MOXY_PORT" --tls-cert "$WORK/tls.pem" --tls-key "$WORK/tls.key")
    MOXY_PLAIN_PORT=$((MOXY_PORT + 100))
fi

# Origin: static files with an image type and a long max-age (both proxies may cache them).
make_origin_files
start_origin "$ORIGIN_PORT"

# Moxy: one event loop on the server core.
ROUTE_ARGS=()
[ "$MODE" = route ] && ROUTE_ARGS=(--route "/=http://127.0.0.1:$ORIGIN_PORT")
# The memory tier in the default configuration (the disk tier on, in the work directory).
TIER_ENV=("MOXY_CACHE_DISK_PATH=$WORK/moxy-cache")
[ "$TIER" = disk ] && TIER_ENV=(MOXY_CACHE_DISK_ENABLED=true "MOXY_CACHE_DISK_PATH=$WORK/moxy-cache" MOXY_CACHE_MEMORY_MAX_OBJECT=64KiB)
env "${TIER_ENV[@]}" MOXY_KEY=bench-key MOXY_ALLOW_LOOPBACK=true taskset -c "$SERVER_CPU" "$MOXY_BIN" serve \
    --listen "127.0.0.1:${MOXY_PLAIN_PORT:-$MOXY_PORT}" --threads 1 --log-level warning "${ROUTE_ARGS[@]}" "${TLS_ARGS[@]}" &
MOXY_PID=$!
PIDS+=($MOXY_PID)

# nginx: proxy_cache (bench/common.sh).
write_nginx_conf "$NGINX_PORT" "$ORIGIN_PORT"
if [ -n "${TLS:-}" ]; then nginx_tls "$NGINX_PORT"; fi
taskset -c "$SERVER_CPU" nginx -c "$WORK/nginx.conf" -p "$WORK" &
PIDS+=($!)

wait_port "$ORIGIN_PORT"; wait_port "$MOXY_PORT"; wait_port "$NGINX_PORT"

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
nginx_rss_kib() {  # master + workers
    local master; master=$(cat "$WORK/nginx.pid")
    local total; total=$(rss_kib "$master")
    for child in $(pgrep -P "$master"); do total=$((total + $(rss_kib "$child"))); done
    echo "$total"
}
MOXY_IDLE_RSS=$(rss_kib "$MOXY_PID")

declare -A URL
for size in $SIZES; do
    if [ "$MODE" = route ]; then
        path="/$size.png"
    else
        path=$(MOXY_KEY=bench-key "$MOXY_BIN" sign "http://127.0.0.1:$ORIGIN_PORT/$size.png")
    fi
    URL[moxy-$size]="$SCHEME://127.0.0.1:$MOXY_PORT$path"
    URL[nginx-$size]="$SCHEME://127.0.0.1:$NGINX_PORT/$size.png"
done

# Warm both caches and check that the second request is a hit.
for key in "${!URL[@]}"; do
    curl -sk -o /dev/null "${URL[$key]}"; curl -sk -o /dev/null "${URL[$key]}"
done
FIRST_SIZE=${SIZES%% *}
curl -sk -D - -o /dev/null "${URL[moxy-$FIRST_SIZE]}" | grep -qi "cache-status: moxy; hit" || { echo "moxy did not hit" >&2; exit 1; }
if [ "$TIER" = disk ]; then
    curl -sk -D - -o /dev/null "${URL[moxy-$FIRST_SIZE]}" | grep -qi "detail=disk" || { echo "moxy did not hit on disk" >&2; exit 1; }
fi
for size in $SIZES; do
    curl -skf -o /dev/null "${URL[nginx-$size]}" || { echo "nginx failed: $(tail -3 "$WORK/nginx-error.log")" >&2; exit 1; }
done

to_ms() {  # wrk latency like 812.00us, 1.20ms, 1.01s -> ms
    awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n *= 1; else if (v ~ /s$/) n *= 1000; printf "%.3f", n }'
}
declare -A RPS P99
for round in $(seq "$ROUNDS"); do
    for size in $SIZES; do
        for system in moxy nginx; do
            out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${URL[$system-$size]}")
            rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
            p99=$(to_ms "$(echo "$out" | awk '$1 == "99%" {print $2}')")
            errors=$(echo "$out" | awk '/Non-2xx|Socket errors/' | tr '\n' ' ')
            RPS[$system-$size]+="$rps "
            P99[$system-$size]+="$p99 "
            echo "round $round $size $system: $rps req/s, p99 $p99 ms $errors" >&2
        done
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
MOXY_RSS=$(rss_kib "$MOXY_PID")
NGINX_RSS=$(nginx_rss_kib)

echo
echo "Cache hits ($MODE, $TIER tier${TLS:+, over TLS}), $ROUNDS rounds x ${DURATION}s, $CONNECTIONS connections, server on CPU $SERVER_CPU, wrk on CPU $CLIENT_CPU"
printf "%-6s %14s %14s %12s %12s %8s\n" size "moxy req/s" "nginx req/s" "moxy p99 ms" "nginx p99 ms" ratio
for size in $SIZES; do
    m=$(echo "${RPS[moxy-$size]}" | median); n=$(echo "${RPS[nginx-$size]}" | median)
    mp=$(echo "${P99[moxy-$size]}" | median); np=$(echo "${P99[nginx-$size]}" | median)
    printf "%-6s %14.0f %14.0f %12.3f %12.3f %8.2f\n" "$size" "$m" "$n" "$mp" "$np" "$(awk -v a="$m" -v b="$n" 'BEGIN {print a / b}')"
done
echo "RSS: moxy idle $((MOXY_IDLE_RSS / 1024)) MiB ($MOXY_IDLE_RSS KiB), moxy after load $((MOXY_RSS / 1024)) MiB ($MOXY_RSS KiB), nginx master+worker after load $((NGINX_RSS / 1024)) MiB ($NGINX_RSS KiB)"
