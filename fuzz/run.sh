#!/usr/bin/env bash
# Runs one libFuzzer target: fuzz/run.sh TARGET SECONDS [extra libFuzzer flags]
# Targets: FuzzURLDecoders FuzzCacheControl FuzzRange FuzzMediaType FuzzIPAddress FuzzJSON FuzzYAML FuzzRequestDecoder FuzzDiskEntry FuzzHTMLRewrite FuzzRedirect FuzzAdminWire FuzzPurgeLog FuzzSitemap FuzzRESP
# Builds with -sanitize=fuzzer,address in fuzz/.build (its own scratch path), keeps the corpus in
# fuzz/corpus/TARGET and writes crashers to fuzz/crashers/TARGET/.
set -euo pipefail
cd "$(dirname "$0")"
TARGET=${1:?usage: fuzz/run.sh TARGET SECONDS}
SECONDS_TO_RUN=${2:?usage: fuzz/run.sh TARGET SECONDS}
shift 2
# lld: gold fails on these objects with an internal error.
FLAGS=(-c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld)
swift build "${FLAGS[@]}" --product "$TARGET" >&2
BIN="$(swift build "${FLAGS[@]}" --show-bin-path)/$TARGET"
mkdir -p "corpus/$TARGET" "crashers/$TARGET"
[ -d "seeds/$TARGET" ] && cp -n seeds/"$TARGET"/* "corpus/$TARGET/" 2>/dev/null || true
exec "$BIN" "corpus/$TARGET" -max_total_time="$SECONDS_TO_RUN" -artifact_prefix="crashers/$TARGET/" -print_final_stats=1 "$@"
