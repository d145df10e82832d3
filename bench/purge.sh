#!/usr/bin/env bash
# How long a purge takes to answer on a disk tier of N entries (default 1,000,000): the answer
# waits for the purge log (appended and synced) and the memory tier; the disk's files are swept
# in the background. Also times the same kinds of purge with wait=1 (the answer after the sweep
# read every file's header), for comparison.
#   bash bench/purge.sh [N]        (MOXY_BIN=path/to/moxy to use another build; default debug)
# Needs python3 with the crc32c module (pip install crc32c) for bench/disk-fill.py, and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
BIN=${MOXY_BIN:-.build/debug/moxy}
[ -x "$BIN" ] || swift build --product moxy >&2
dir=$(mktemp -d /tmp/moxy-purge-bench.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"' EXIT
started=$(date +%s)
python3 bench/disk-fill.py "$dir/cache" "$N"
echo "filled $N entries in $(( $(date +%s) - started )) s ($(du -sh "$dir/cache" | cut -f1) on disk)"
token=bench-admin-token-0123456789
MOXY_KEY=bench MOXY_ADMIN_TOKEN=$token MOXY_CACHE_DISK_PATH="$dir/cache" MOXY_CACHE_DISK_MAX_SIZE=64GiB \
    "$BIN" serve --listen 127.0.0.1:18091 --admin-listen 127.0.0.1:18092 >"$dir/log" 2>&1 &
pid=$!
until grep -q "disk cache loaded" "$dir/log"; do sleep 1; done
grep "disk cache loaded" "$dir/log" | sed 's/^.*info moxy: /loader: /'
purge() {
    curl -s -o "$dir/answer" -w '%{time_total}' -X POST -H "Authorization: Bearer $token" --data "$1" http://127.0.0.1:18092/purge
}
# First one that waits for the sweep (the answer before this change), then the answers that do not.
for form in "prefix=http://127.0.0.1:1/o/1&wait=1" "prefix=http://127.0.0.1:1/a/" "tag=t" "url=http://127.0.0.1:1/o/7.png" "all=1"; do
    seconds=$(purge "$form")
    echo "$form: answered in ${seconds} s: $(cat "$dir/answer")"
done
