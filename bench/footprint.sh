#!/usr/bin/env bash
# Resident memory of Moxy and nginx (master + worker): idle after start, then with CONNECTIONS idle
# keep-alive connections open (each has answered one cached 1 KiB hit first).
#
# Needs: nginx, python3 (apt-get install nginx). Usage: bench/footprint.sh
# Knobs: CONNECTIONS=1000 MOXY_BIN=path PAGES=1 (also where the idle Moxy's resident pages of its
# binary come from, by section and by module: bench/binary-pages.py)
set -euo pipefail
cd "$(dirname "$0")/.."
CONNECTIONS=${CONNECTIONS:-1000}
ORIGIN_PORT=${ORIGIN_PORT:-18090}
MOXY_PORT=${MOXY_PORT:-18091}
NGINX_PORT=${NGINX_PORT:-18092}
source bench/common.sh
require_tools nginx python3
build_moxy
make_workdir moxy-footprint
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # 1,000 connections need more than the usual 1,024 descriptors
mkdir -p "$WORK/origin"
head -c 1024 /dev/urandom > "$WORK/origin/1k.png"
start_origin "$ORIGIN_PORT"
MOXY_CACHE_DISK_PATH="$WORK/moxy-cache" MOXY_ALLOW_LOOPBACK=true "$MOXY_BIN" serve \
    --listen "127.0.0.1:$MOXY_PORT" --threads 1 --log-level warning --route "/=http://127.0.0.1:$ORIGIN_PORT" &
MOXY_PID=$!
PIDS+=($MOXY_PID)
write_nginx_conf "$NGINX_PORT" "$ORIGIN_PORT"
sed -i "s/worker_connections [0-9]*/worker_connections $((CONNECTIONS + 100))/; s/^events {/worker_rlimit_nofile 65536;\nevents {/" "$WORK/nginx.conf"
nginx -c "$WORK/nginx.conf" -p "$WORK" &
PIDS+=($!)
wait_port "$ORIGIN_PORT"; wait_port "$MOXY_PORT"; wait_port "$NGINX_PORT"
sleep 1

rss_kib() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
nginx_rss_kib() {
    local master total; master=$(cat "$WORK/nginx.pid"); total=$(rss_kib "$master")
    for child in $(pgrep -P "$master"); do total=$((total + $(rss_kib "$child"))); done
    echo "$total"
}
# hold.py PORT COUNT READY: opens COUNT keep-alive connections, one hit on each, then writes READY
# and keeps them open until killed.
cat > "$WORK/hold.py" <<'PY'
import socket, sys, time
port, count, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
sockets = []
for _ in range(count):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"GET /1k.png HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < 1024: data += s.recv(65536)
    sockets.append(s)
open(ready, "w").close()
time.sleep(3600)
PY
measure() {  # measure NAME PORT RSS-FUNCTION
    local name=$1 port=$2 rss=$3
    curl -s -o /dev/null "http://127.0.0.1:$port/1k.png"; curl -s -o /dev/null "http://127.0.0.1:$port/1k.png"
    local idle; idle=$($rss)
    if [ -n "${PAGES:-}" ] && [ "$name" = moxy ]; then python3 bench/binary-pages.py "$MOXY_PID" "$MOXY_BIN" >&2; fi
    rm -f "$WORK/ready"
    python3 "$WORK/hold.py" "$port" "$CONNECTIONS" "$WORK/ready" &
    local holder=$!
    for _ in $(seq 600); do [ -e "$WORK/ready" ] && break; sleep 0.1; done
    sleep 1
    local held; held=$($rss)
    kill "$holder"; wait "$holder" 2>/dev/null || true
    printf "%-6s idle %5.1f MiB, with %d idle keep-alive connections %5.1f MiB (+%.1f MiB)\n" "$name" \
        "$(echo "$idle / 1024" | bc -l)" "$CONNECTIONS" "$(echo "$held / 1024" | bc -l)" "$(echo "($held - $idle) / 1024" | bc -l)"
}
measure moxy "$MOXY_PORT" "rss_kib $MOXY_PID"
measure nginx "$NGINX_PORT" nginx_rss_kib
