#!/usr/bin/env bash
# Writes the current commit into the binary's build info (`moxy --version`, `moxy_build_info`)
# before a release build; `git checkout Sources/MoxyServer/Operations/MoxyBuildCommit.swift` undoes it.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=$(git describe --always --dirty --abbrev=12)
file=Sources/MoxyServer/Operations/MoxyBuildCommit.swift
sed -i "s/static let value = \".*\"/static let value = \"$commit\"/" "$file"
echo "stamped $commit into $file"
