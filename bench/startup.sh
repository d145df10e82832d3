#!/usr/bin/env bash
# Start-up with a warm disk tier: fills a disk-tier directory with ENTRIES entries (default 100,000,
# as a signed-URL Moxy stores them), starts `moxy serve` on it, and measures how long after the
# listener opens the first request is answered, and whether it is a hit from disk (the index is
# still being loaded in the background then). Prints the loader's end line too.
#
# Needs: curl, python3. Usage: bench/startup.sh   Knobs: ENTRIES=100000 MOXY_BIN=path
set -euo pipefail
cd "$(dirname "$0")/.."

ENTRIES=${ENTRIES:-100000}
ORIGIN_PORT=${ORIGIN_PORT:-18190}
MOXY_PORT=${MOXY_PORT:-18191}

source bench/common.sh
require_tools curl python3
build_moxy
make_workdir moxy-startup

swift build -c release --package-path Benchmarks --product disk-fill >&2
FILL="$(swift build -c release --package-path Benchmarks --show-bin-path)/disk-fill"
started=$(date +%s.%N)
"$FILL" "$WORK/moxy-cache" "$ENTRIES" "$ORIGIN_PORT"
echo "filled in $(python3 -c "print(round($(date +%s.%N) - $started, 1))") s: $(du -sh "$WORK/moxy-cache" | cut -f1)"

path=$(MOXY_KEY=bench-key "$MOXY_BIN" sign "http://127.0.0.1:$ORIGIN_PORT/o/777.png")
MOXY_KEY=bench-key MOXY_ALLOW_LOOPBACK=true MOXY_CACHE_DISK_ENABLED=true MOXY_CACHE_DISK_PATH="$WORK/moxy-cache" \
    "$MOXY_BIN" serve --listen "127.0.0.1:$MOXY_PORT" --threads 1 2> "$WORK/moxy.log" &
PIDS+=($!)
# The moment the listener accepts, one request (nothing listens on the origin port: only the disk can answer).
python3 - "$MOXY_PORT" "$path" <<'PY'
import socket, sys, time
port, path = int(sys.argv[1]), sys.argv[2]
deadline = time.time() + 30
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port)); break
    except OSError:
        if time.time() > deadline: sys.exit("moxy did not start")
        time.sleep(0.001)
opened = time.time()
s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
elapsed = (time.time() - opened) * 1000
head = data.split(b"\r\n\r\n")[0].decode()
status = [l for l in head.split("\r\n") if l.lower().startswith("cache-status")]
print(f"first request answered {elapsed:.1f} ms after the listener opened: {head.splitlines()[0]}, {status[0] if status else 'no Cache-Status'}")
PY
for _ in $(seq 300); do grep -q "disk cache loaded" "$WORK/moxy.log" && break; sleep 0.1; done
grep "disk cache loaded" "$WORK/moxy.log" || echo "loader still running after 30 s"
