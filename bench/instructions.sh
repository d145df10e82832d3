#!/usr/bin/env bash
# Instructions per keep-alive cache hit, counted by valgrind's callgrind: a count that does not
# swing with the machine's load, unlike req/s. Moxy runs as the static release build stripped of
# debug info (valgrind cannot load the dynamic Swift runtime); nginx proxy_cache is counted the
# same way when it is installed.
#
# Each system serves N and then 2N hits of a 1 KiB object on one keep-alive connection (after one
# miss that fills the cache); instructions per hit = (I(2N) - I(N)) / N, so start-up, the miss and
# shutdown cancel out.
#
# Needs: valgrind, python3 (nginx optional). Usage: bench/instructions.sh
# Knobs: HITS=2000 MOXY_BIN=path (default: builds .build-static) MODES="signed route yaml"
# (yaml: the route from a configuration file with a `cache:` section, as users write it)
# ACCESS_LOG=1 (the default a user gets: the access log on)
# KEEP=DIR keeps the callgrind files (NAME-N.out) there, for callgrind_annotate
set -euo pipefail
cd "$(dirname "$0")/.."

HITS=${HITS:-2000}
MODES=${MODES:-signed route yaml}
ORIGIN_PORT=${ORIGIN_PORT:-18090}
MOXY_PORT=${MOXY_PORT:-18091}
NGINX_PORT=${NGINX_PORT:-18092}

source bench/common.sh
require_tools valgrind python3
build_moxy
make_workdir moxy-instructions
strip --strip-debug -o "$WORK/moxy" "$MOXY_BIN"

mkdir -p "$WORK/origin"
head -c 1024 /dev/urandom > "$WORK/origin/1k.png"
start_origin "$ORIGIN_PORT"

# client.py PORT PATH COUNT: one miss, then COUNT requests on one keep-alive connection; every
# answer after the first must be a hit.
cat > "$WORK/client.py" <<'PY'
import socket, sys
port, path, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
s = socket.create_connection(("127.0.0.1", port))
request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
buffer = b""
def response():
    global buffer
    while b"\r\n\r\n" not in buffer:
        chunk = s.recv(65536)
        if not chunk: raise SystemExit("connection closed")
        buffer += chunk
    head, _, buffer = buffer.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length": length = int(value)
    while len(buffer) < length:
        buffer += s.recv(65536)
    buffer = buffer[length:]
    return head
for i in range(count + 1):
    s.sendall(request)
    head = response()
    if not head.startswith(b"HTTP/1.1 200"): raise SystemExit(f"not a 200: {head[:80]!r}")
    lower = head.lower()
    if i > 0 and b"cache-status: moxy" in lower and b"hit" not in lower.split(b"cache-status:")[1].split(b"\r\n")[0]:
        raise SystemExit(f"not a hit: {head!r}")
PY

wait_port "$ORIGIN_PORT"

# count COMMAND...: run the server under callgrind, drive HITS then 2*HITS hits, print I(2N)-I(N) / N.
totals() {  # callgrind output file -> total instructions
    awk '/^(summary|totals):/ {print $2}' "$1" | tail -1
}
measure() {  # measure NAME PORT PATH COMMAND...
    local name=$1 port=$2 path=$3; shift 3
    local -a counts=()
    for n in "$HITS" "$((HITS * 2))"; do
        rm -rf "${WORK:?}/nginx-cache/"* "${WORK:?}/moxy-cache"  # every run starts with an empty cache
        valgrind --tool=callgrind --callgrind-out-file="$WORK/$name-$n.out" "$@" >/dev/null 2>"$WORK/$name-$n.log" &
        local pid=$!
        wait_port "$port"
        python3 "$WORK/client.py" "$port" "$path" "$n"
        kill -INT "$pid" 2>/dev/null || true
        # nginx under valgrind sometimes misses the INT (seen 2026-12-01): TERM after 10 s.
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        counts+=("$(totals "$WORK/$name-$n.out")")
        if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$WORK/$name-$n.out" "$KEEP/"; fi
    done
    echo "$name: $(( (counts[1] - counts[0]) / HITS )) instructions per hit (I($HITS)=${counts[0]}, I($((HITS * 2)))=${counts[1]})"
}

for mode in $MODES; do
    if [ "$mode" = route ]; then
        path=/1k.png
        args=(--route "/=http://127.0.0.1:$ORIGIN_PORT")
    elif [ "$mode" = yaml ]; then
        path=/1k.png
        cat > "$WORK/moxy.yaml" <<YAML
routes:
  assets:
    path_prefix: /
    upstream: http://127.0.0.1:$ORIGIN_PORT
    cache:
      default_ttl: 5m
      stale_while_revalidate: 1m
      stale_if_error: 1d
YAML
        args=(--config "$WORK/moxy.yaml")
    else
        path=$(MOXY_KEY=bench-key "$WORK/moxy" sign "http://127.0.0.1:$ORIGIN_PORT/1k.png")
        args=()
    fi
    MOXY_CACHE_DISK_PATH="$WORK/moxy-cache" MOXY_KEY=bench-key MOXY_ALLOW_LOOPBACK=true measure "moxy-$mode" "$MOXY_PORT" "$path" \
        "$WORK/moxy" serve --listen "127.0.0.1:$MOXY_PORT" --threads 1 --log-level warning "${args[@]}"
done

if command -v nginx >/dev/null; then
    write_nginx_conf "$NGINX_PORT" "$ORIGIN_PORT" off
    measure nginx "$NGINX_PORT" /1k.png nginx -c "$WORK/nginx.conf" -p "$WORK"
fi
