#!/usr/bin/env bash
# The test command (README, `.ci/run`): checks the toolchain, installs the Debian packages the
# tests need when one is missing, builds with the tests (failing on a warning from the project's
# own Sources/), then runs every test. Arguments go to `swift test` (e.g. --filter PurgeTests).
#
# What the tests need: chromium (the status page is loaded in a real headless Chromium), systemd
# (`systemd-analyze verify` checks examples/moxy.service), and the interpreters of the client
# snippets in clients/ (each is run against every URL vector): ruby with ruby-liquid (the Jekyll
# filter), python3 with python3-jinja2, nodejs, golang-go, php-cli, and openssl for the POSIX
# shell one; redis-server (the Redis client's tests start their own servers); wordpress,
# mariadb-server, php-mysql and curl (a real WordPress 6.1 with its own throw-away MariaDB, served
# by PHP's built-in server, installed over HTTP: Tests/MoxyTestSupport/WordPressSite.swift);
# libbrotli-dev and libzstd-dev to build (the brotli and zstd forms of stored text), and the
# brotli and zstd tools that decode them in the tests; python3-h2 (HTTP/2 protocol attacks sent
# to the TLS listener). Origin servers,
# Redis, Moxy and clients all run on 127.0.0.1; the CLI tests start the freshly built `moxy`
# binary. (The benchmarks in bench/ need nginx and wrk; not the tests.)
set -euo pipefail
cd "$(dirname "$0")/.."

# Swift 6.2 or later: swift-configuration, swift-service-lifecycle and the YAML provider need it.
version=$(swift --version 2>/dev/null | sed -n 's/.*Swift version \([0-9][0-9]*\)\.\([0-9][0-9]*\).*/\1 \2/p' | head -1)
read -r major minor <<<"${version:-0 0}"
if [ "$major" -lt 6 ] || { [ "$major" -eq 6 ] && [ "$minor" -lt 2 ]; }; then
    echo "Moxy needs Swift 6.2 or later; this toolchain is ${major}.${minor} ($(command -v swift || echo 'no swift on PATH'))" >&2
    exit 1
fi

# Each entry: the Debian package, then the shell check that says it is usable (the tests prefer
# /usr/bin's interpreters, so a pyenv or rbenv on PATH does not hide a missing Debian module).
needs=(
    "chromium|command -v chromium"
    "systemd|command -v systemd-analyze"
    "ruby|test -x /usr/bin/ruby"
    "ruby-liquid|/usr/bin/ruby -e 'require \"liquid\"'"
    "python3|test -x /usr/bin/python3"
    "python3-jinja2|/usr/bin/python3 -c 'import jinja2'"
    "nodejs|test -x /usr/bin/node"
    "golang-go|test -x /usr/bin/go"
    "php-cli|test -x /usr/bin/php"
    "openssl|test -x /usr/bin/openssl"
    "redis-server|test -x /usr/bin/redis-server"
    "redis-tools|test -x /usr/bin/redis-cli"
    "wordpress|test -r /usr/share/wordpress/wp-settings.php"
    "mariadb-server|test -x /usr/sbin/mariadbd"
    "php-mysql|/usr/bin/php -r 'exit(extension_loaded(\"mysqli\") ? 0 : 1);'"
    "curl|test -x /usr/bin/curl"
    "libbrotli-dev|test -r /usr/include/brotli/encode.h"
    "libzstd-dev|test -r /usr/include/zstd.h"
    "brotli|test -x /usr/bin/brotli"
    "zstd|test -x /usr/bin/zstd"
    "python3-h2|/usr/bin/python3 -c 'import h2, hpack'"
)
present() { eval "${1#*|}" >/dev/null 2>&1; }
missing=()
for need in "${needs[@]}"; do
    present "$need" || missing+=("${need%%|*}")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages the tests use)" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
for need in "${needs[@]}"; do
    present "$need" || { echo "missing ${need%%|*} (check: ${need#*|}) after installing ${missing[*]}" >&2; exit 1; }
done

# Build first, so that a warning in the project's own code fails the run (the dependencies'
# warnings are theirs; a global warnings-as-errors flag would hit them too).
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! swift build --build-tests 2>&1 | tee "$log"; then
    echo "the build failed" >&2
    exit 1
fi
if grep -E "^$(pwd)/Sources/.*: warning: " "$log" | sort -u | grep . >&2; then
    echo "warnings in Sources/ (above): fix them" >&2
    exit 1
fi
swift test --skip-build "$@"
