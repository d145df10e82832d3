#!/usr/bin/env bash
# Builds the DocC documentation of the library products that have a catalog (MoxySigning,
# MoxyRewrite) with the toolchain's `docc`, warnings as errors: scripts/build-docs.sh [OUTPUT_DIR]
# (default .build/docs). Open OUTPUT_DIR/MODULE/index.html through a web server, or use --serve
# with `docc preview`.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-.build/docs}
mkdir -p "$out"
graphs=$(mktemp -d)
trap 'rm -rf "$graphs"' EXIT
swift build --target MoxyRewrite -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs" >&2
for module in MoxySigning MoxyRewrite; do
    mkdir -p "$graphs/$module"
    cp "$graphs/$module".symbols.json "$graphs/$module/" 2>/dev/null || cp "$graphs/$module"*.json "$graphs/$module/"
    docc convert "Sources/$module/Docs.docc" --additional-symbol-graph-dir "$graphs/$module" \
        --fallback-display-name "$module" --fallback-bundle-identifier "org.moxy.$module" \
        --transform-for-static-hosting --warnings-as-errors --output-path "$out/$module"
    echo "$out/$module"
done
