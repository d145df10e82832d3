#!/usr/bin/env bash
# Soak: REQUESTS requests (5 million by default) through one Moxy, with resident memory, open
# descriptors, disk usage and req/s sampled every 10 s into a CSV and a PNG plot a user can look at.
#
# The mix (wrk with a Lua script, 50 connections): 80 % hits (routes and signed URLs; 1 KiB
# objects in the memory tier, 100 KiB ones over the memory tier's 64 KiB object limit, so disk
# hits), 15 % misses (an object the origin marks no-store), 5 % validation failures (an API route
# whose origin answers 200 with an error body, never stored); and, beside it, a purge every 100 ms
# through the admin API (hard and soft, by URL and by tag), so entries are refetched all along.
# After warm-up (the first fifth of the samples) each series should stay within ±5 % of its
# median; the script says which do.
#
# Needs: nginx, wrk, python3, gnuplot (apt-get install nginx wrk gnuplot-nox). Usage: bench/soak.sh
# Knobs: REQUESTS=5000000 MOXY_BIN=path SERVER_CPU=0 CLIENT_CPU=1 OUT=soak (writes OUT.csv, OUT.png)
set -euo pipefail
cd "$(dirname "$0")/.."
REQUESTS=${REQUESTS:-5000000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
ORIGIN_PORT=${ORIGIN_PORT:-18090}
MOXY_PORT=${MOXY_PORT:-18091}
ADMIN_PORT=${ADMIN_PORT:-18093}
OUT=${OUT:-soak}
TOKEN=soak-admin-token-0123456789
source bench/common.sh
require_tools nginx wrk python3 gnuplot taskset
build_moxy
make_workdir moxy-soak

# Origin (nginx, so that it keeps up): /a/N.bin (1 KiB), /b/N.bin (100 KiB), cacheable and tagged
# `soak N`; /miss/N no-store; /api/N a WordPress-style error sent as 200.
mkdir -p "$WORK/www"
head -c 1024 /dev/urandom > "$WORK/www/small.bin"
head -c 102400 /dev/urandom > "$WORK/www/large.bin"
chmod -R a+rX "$WORK/www"
{ nginx_conf_head 4096; cat <<NGX; } > "$WORK/nginx.conf"
http {
    access_log off;
    tcp_nopush off;
    default_type application/octet-stream;
    root $WORK/www;
    server {
        listen 127.0.0.1:$ORIGIN_PORT;
        location ~ ^/a/s?(?<n>[0-9]+)\.bin\$ { add_header Cache-Control "public, max-age=3600"; add_header Surrogate-Key "soak \$n"; try_files /small.bin =404; }
        location ~ ^/b/s?(?<n>[0-9]+)\.bin\$ { add_header Cache-Control "public, max-age=3600"; add_header Surrogate-Key "soak \$n"; try_files /large.bin =404; }
        location /miss/ { add_header Cache-Control no-store; try_files /small.bin =404; }
        location /api/ { default_type application/json; return 200 '{"code":"rest_error","message":"database down","data":{"status":500}}'; }
    }
}
NGX
taskset -c "$CLIENT_CPU" nginx -c "$WORK/nginx.conf" -p "$WORK" &
PIDS+=($!)

cat > "$WORK/moxy.yaml" <<YAML
listen: 127.0.0.1:$MOXY_PORT
signed_prefix: /s
admin:
  listen: 127.0.0.1:$ADMIN_PORT
  token: $TOKEN
cache:
  memory_max_object: 64KiB
  disk:
    path: $WORK/moxy-cache
routes:
  api:
    path_prefix: /api/
    upstream: http://127.0.0.1:$ORIGIN_PORT
    validate:
      json: true
      rules:
        - name: not-wp-error
          not:
            all:
              - {pointer: /code, type: string}
              - {pointer: /message, type: string}
      on_invalid: pass
  assets:
    path_prefix: /
    upstream: http://127.0.0.1:$ORIGIN_PORT
YAML
MOXY_KEY=soak-key MOXY_ALLOW_LOOPBACK=true taskset -c "$SERVER_CPU" "$MOXY_BIN" serve --config "$WORK/moxy.yaml" \
    --threads 1 --log-level warning > /dev/null &
MOXY_PID=$!
PIDS+=($MOXY_PID)
wait_port "$ORIGIN_PORT"; wait_port "$MOXY_PORT"; wait_port "$ADMIN_PORT"

# 200 objects of each kind; signed URLs for half of them.
{
    echo "signed = {"
    for i in $(seq 0 99); do
        printf '"/s%s",\n' "$(MOXY_KEY=soak-key "$MOXY_BIN" sign "http://127.0.0.1:$ORIGIN_PORT/a/s$i.bin")"
        printf '"/s%s",\n' "$(MOXY_KEY=soak-key "$MOXY_BIN" sign "http://127.0.0.1:$ORIGIN_PORT/b/s$i.bin")"
    done
    echo "}"
    cat <<'LUA'
local n = 0
request = function()
    n = n + 1
    local r = math.random(100)
    local path
    if r <= 40 then path = "/a/" .. math.random(0, 199) .. ".bin"
    elseif r <= 60 then path = "/b/" .. math.random(0, 199) .. ".bin"
    elseif r <= 80 then path = signed[math.random(#signed)]
    elseif r <= 95 then path = "/miss/" .. n
    else path = "/api/" .. math.random(0, 49) end
    return wrk.format("GET", path)
end
LUA
} > "$WORK/mix.lua"

total_requests() {  # moxy_requests_total summed over its labels
    curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | awk '/^moxy_requests_total\{/ {sum += $NF} END {printf "%d", sum}'
}
purger() {  # a purge every 100 ms: hard and soft, by URL and by tag
    local i=0
    while :; do
        i=$((i + 1))
        case $((i % 4)) in
            0) query="url=http://127.0.0.1:$MOXY_PORT/a/$((RANDOM % 200)).bin" ;;
            1) query="url=http://127.0.0.1:$MOXY_PORT/b/$((RANDOM % 200)).bin&soft=1" ;;
            2) query="tag=$((RANDOM % 200))" ;;
            3) query="tag=$((RANDOM % 200))&soft=1" ;;
        esac
        curl -s -o /dev/null -X POST -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$ADMIN_PORT/purge?$query" || true
        sleep 0.1
    done
}
purger &
PIDS+=($!)
taskset -c "$CLIENT_CPU" wrk -t1 -c50 -d10h -s "$WORK/mix.lua" "http://127.0.0.1:$MOXY_PORT" > "$WORK/wrk.log" 2>&1 &
WRK=$!
PIDS+=($WRK)

echo "seconds,rss_mib,open_fds,disk_mib,req_per_s,requests" > "$OUT.csv"
start=$(date +%s); last=0
echo "soaking until $REQUESTS requests (a sample every 10 s into $OUT.csv)"
while :; do
    sleep 10
    kill -0 "$MOXY_PID" 2>/dev/null || { echo "moxy stopped" >&2; exit 1; }
    now=$(total_requests)
    rss=$(awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$MOXY_PID/status")
    fds=$(ls "/proc/$MOXY_PID/fd" | wc -l)
    # A file can vanish while du walks the folder (a purge log rewritten): du says so and still counts.
    disk=$({ du -sk "$WORK/moxy-cache" 2>/dev/null || true; } | awk '{printf "%.1f", $1 / 1024}')
    echo "$(( $(date +%s) - start )),$rss,$fds,$disk,$(( (now - last) / 10 )),$now" >> "$OUT.csv"
    tail -1 "$OUT.csv"
    last=$now
    [ "$now" -ge "$REQUESTS" ] && break
done
kill "$WRK" 2>/dev/null || true

gnuplot <<GP
set datafile separator ","
set terminal png size 1200,900
set output "$OUT.png"
set multiplot layout 2,2 title "Moxy soak: $REQUESTS requests (80 % hits, 15 % misses, 5 % validation failures; a purge every 100 ms)"
set xlabel "seconds"
set yrange [0:*]
plot "$OUT.csv" using 1:2 with linespoints title "resident memory (MiB)"
plot "$OUT.csv" using 1:3 with linespoints title "open descriptors"
plot "$OUT.csv" using 1:4 with linespoints title "disk cache (MiB)"
plot "$OUT.csv" using 1:5 with linespoints title "requests per second"
unset multiplot
GP
python3 - "$OUT.csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
settled = rows[len(rows) // 5:]
for column in ["rss_mib", "open_fds", "disk_mib", "req_per_s"]:
    values = [float(r[column]) for r in settled]
    median = statistics.median(values)
    spread = max(abs(v - median) for v in values) / median * 100 if median else 0
    print(f"{column}: median {median:g}, largest deviation after warm-up {spread:.1f} % ({'within' if spread <= 5 else 'OUTSIDE'} ±5 %)")
PY
echo "plot: $OUT.png"
