#!/usr/bin/env bash
# System calls per keep-alive cache hit, Moxy against nginx proxy_cache, counted by `strace -c -f`
# while one connection asks for the same object COUNT times (after a warm-up that fills the
# cache and, for disk hits, checks the file's blocks once). Explains where wall-clock time goes that
# instructions per hit do not show: kernel work per request.
#
# Needs: strace, nginx, python3 (apt-get install strace nginx). Usage: bench/syscalls.sh
# Knobs: COUNT=2000 MOXY_BIN=path SIZES="1k 100k" TIER=memory|disk (disk: objects over 64 KiB
# stay on disk only)
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT=${COUNT:-2000}
TIER=${TIER:-memory}
SIZES=${SIZES:-1k 100k}
ORIGIN_PORT=${ORIGIN_PORT:-18090}
MOXY_PORT=${MOXY_PORT:-18091}
NGINX_PORT=${NGINX_PORT:-18092}
source bench/common.sh
require_tools strace nginx python3
build_moxy
make_workdir moxy-syscalls
make_origin_files
start_origin "$ORIGIN_PORT"
TIER_ENV=("MOXY_CACHE_DISK_PATH=$WORK/moxy-cache")
[ "$TIER" = disk ] && TIER_ENV=(MOXY_CACHE_DISK_ENABLED=true "MOXY_CACHE_DISK_PATH=$WORK/moxy-cache" MOXY_CACHE_MEMORY_MAX_OBJECT=64KiB)
env "${TIER_ENV[@]}" MOXY_KEY=bench-key MOXY_ALLOW_LOOPBACK=true "$MOXY_BIN" serve \
    --listen "127.0.0.1:$MOXY_PORT" --threads 1 --log-level warning --route "/=http://127.0.0.1:$ORIGIN_PORT" &
MOXY_PID=$!
PIDS+=($MOXY_PID)
write_nginx_conf "$NGINX_PORT" "$ORIGIN_PORT"
nginx -c "$WORK/nginx.conf" -p "$WORK" &
PIDS+=($!)
wait_port "$ORIGIN_PORT"; wait_port "$MOXY_PORT"; wait_port "$NGINX_PORT"

# client.py PORT PATH COUNT: COUNT requests on one keep-alive connection, each answer read whole.
cat > "$WORK/client.py" <<'PY'
import socket, sys
port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
buffer = b""
for _ in range(count):
    s.sendall(request)
    while b"\r\n\r\n" not in buffer: buffer += s.recv(1 << 20)
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
    while len(buffer) < length: buffer += s.recv(1 << 20)
    buffer = buffer[length:]
PY

# count NAME PORT PIDS PATH: syscalls per request while COUNT hits are answered.
count() {
    local name=$1 port=$2 pids=$3 path=$4
    python3 "$WORK/client.py" "$port" "$path" 20  # warm: fill, and check disk blocks once
    local -a attach=()
    for pid in $pids; do attach+=(-p "$pid"); done
    strace -c -f -o "$WORK/$name.strace" "${attach[@]}" 2>/dev/null &
    local tracer=$!
    sleep 1
    python3 "$WORK/client.py" "$port" "$path" "$COUNT"
    kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
    awk -v n="$COUNT" -v name="$name" '
        $1 ~ /^[0-9.]+$/ && $NF != "total" { calls[$NF] = $4; total += $4 }
        END {
            printf "%-12s %5.1f syscalls per hit:", name, total / n
            for (c in calls) if (calls[c] / n >= 0.05) printf " %s %.2f", c, calls[c] / n
            print ""
        }
    ' "$WORK/$name.strace"
}

NGINX_WORKER=$(pgrep -P "$(cat "$WORK/nginx.pid")" | tr '\n' ' ')
echo "tier: $TIER, $COUNT keep-alive hits on one connection (strace -c -f)"
for size in $SIZES; do
    count "moxy-$size" "$MOXY_PORT" "$MOXY_PID" "/$size.png"
    count "nginx-$size" "$NGINX_PORT" "$NGINX_WORKER" "/$size.png"
done
