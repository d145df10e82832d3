#!/usr/bin/env bash
# The shared tier's client against redis-benchmark on the same machine and the same redis-server
# (GET, 4 connections, pipelines of 16), then one shared-tier hit against one disk-tier hit.
# Needs: redis-server, redis-benchmark (Debian redis-tools). Usage: bench/shared-tier.sh
# Knobs: GETS=200000 PORT=16390
set -euo pipefail
cd "$(dirname "$0")/.."
GETS=${GETS:-200000}
PORT=${PORT:-16390}
WORK=$(mktemp -d /tmp/moxy-shared-bench.XXXXXX)
trap 'redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
redis-server --port "$PORT" --bind 127.0.0.1 --save "" --appendonly no --dir "$WORK" --daemonize yes --logfile "$WORK/log"
for _ in $(seq 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
swift build -c release --package-path Benchmarks --product shared-tier-cost >&2
redis-cli -p "$PORT" set bench:key aaa >/dev/null
echo "redis-benchmark: $(redis-benchmark -p "$PORT" -t get -n "$GETS" -c 4 -P 16 -q | tr -d '\r' | grep -o 'GET: [0-9.]* requests per second')"
"$(swift build -c release --package-path Benchmarks --show-bin-path)/shared-tier-cost" "$PORT" "$GETS"
