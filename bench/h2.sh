#!/usr/bin/env bash
# HTTP/2 cache hits over TLS: Moxy's TLS listener (ALPN h2) against nginx `proxy_cache` with
# `listen ... ssl http2`, the same origin, objects and certificate, in one run. h2load (Debian's
# nghttp2-client) keeps CONNECTIONS connections with STREAMS requests in flight on each.
#
# Needs: nginx, h2load, openssl, taskset, python3 (apt-get install nginx nghttp2-client).
# Usage: bench/h2.sh   Knobs: ROUNDS=3 REQUESTS=100000 CONNECTIONS=10 STREAMS=10 SIZES="1k 100k"
#        MOXY_BIN=path SERVER_CPU=0 CLIENT_CPU=1
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
REQUESTS=${REQUESTS:-100000}
CONNECTIONS=${CONNECTIONS:-10}
STREAMS=${STREAMS:-10}
SIZES=${SIZES:-"1k 100k"}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ORIGIN_PORT=${ORIGIN_PORT:-18280}
MOXY_PORT=${MOXY_PORT:-18281}
NGINX_PORT=${NGINX_PORT:-18282}

source bench/common.sh
require_tools nginx h2load taskset python3
build_moxy
make_workdir moxy-h2
make_origin_files
start_origin "$ORIGIN_PORT"
make_tls_cert

MOXY_CACHE_DISK_PATH="$WORK/moxy-cache" MOXY_ALLOW_LOOPBACK=true taskset -c "$SERVER_CPU" "$MOXY_BIN" serve \
    --listen "127.0.0.1:$((MOXY_PORT + 100))" --tls-listen "127.0.0.1:$MOXY_PORT" --tls-cert "$WORK/tls.pem" --tls-key "$WORK/tls.key" \
    --threads 1 --log-level warning --route "/=http://127.0.0.1:$ORIGIN_PORT" &
PIDS+=($!)
write_nginx_conf "$NGINX_PORT" "$ORIGIN_PORT"
nginx_tls "$NGINX_PORT" http2
taskset -c "$SERVER_CPU" nginx -c "$WORK/nginx.conf" -p "$WORK" &
PIDS+=($!)
wait_port "$ORIGIN_PORT"; wait_port "$MOXY_PORT"; wait_port "$NGINX_PORT"

declare -A URL
for size in $SIZES; do
    URL[moxy-$size]="https://127.0.0.1:$MOXY_PORT/$size.png"
    URL[nginx-$size]="https://127.0.0.1:$NGINX_PORT/$size.png"
    for system in moxy nginx; do curl -sk --http2 -o /dev/null "${URL[$system-$size]}"; curl -sk --http2 -o /dev/null "${URL[$system-$size]}"; done
done
curl -sk --http2 -D - -o /dev/null "${URL[moxy-${SIZES%% *}]}" | grep -qi "cache-status: moxy; hit" || { echo "moxy did not hit" >&2; exit 1; }

declare -A RPS
for round in $(seq "$ROUNDS"); do
    for size in $SIZES; do
        for system in moxy nginx; do
            out=$(taskset -c "$CLIENT_CPU" h2load -n "$REQUESTS" -c "$CONNECTIONS" -m "$STREAMS" "${URL[$system-$size]}" 2>&1)
            rps=$(echo "$out" | awk '/^finished in/ {print $4}')
            failed=$(echo "$out" | awk '/^requests:/ {print $8 " succeeded, " $10 " failed, " $12 " errored"}')
            protocol=$(echo "$out" | awk '/Application protocol:/ {print $3}')
            RPS[$system-$size]+="$rps "
            echo "round $round $size $system: $rps req/s ($protocol; $failed)" >&2
        done
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo
echo "HTTP/2 hits over TLS (route), $ROUNDS rounds x $REQUESTS requests, $CONNECTIONS connections x $STREAMS streams"
printf "%-6s %14s %14s %8s\n" size "moxy req/s" "nginx req/s" ratio
for size in $SIZES; do
    m=$(echo "${RPS[moxy-$size]}" | median); n=$(echo "${RPS[nginx-$size]}" | median)
    printf "%-6s %14.0f %14.0f %8.2f\n" "$size" "$m" "$n" "$(awk -v a="$m" -v b="$n" 'BEGIN {print a / b}')"
done
