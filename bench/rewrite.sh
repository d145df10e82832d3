#!/usr/bin/env bash
# moxy rewrite throughput and peak memory: SIZE_MIB (default 100) of two page shapes, an article
# (14 KiB of text per block of markup) and a markup-heavy listing (1.5 KiB blocks), each through
# `moxy rewrite` with GNU time's maximum resident set. MOXY_BIN=… to reuse a build.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/common.sh
[ -x /usr/bin/time ] || { echo "missing /usr/bin/time: apt-get install time" >&2; exit 1; }
build_moxy
make_workdir moxy-rewrite
SIZE_MIB=${SIZE_MIB:-100}
python3 - "$WORK" "$SIZE_MIB" <<'PY'
import sys
work, mib = sys.argv[1], int(sys.argv[2])
tags = ('<img src="http://a.example/photo.jpg?w=640&amp;h=480" alt="photo" srcset="http://a.example/p2.jpg 2x">'
        '<!-- comment <img src="http://a.example/no.png"> --><style>.x{background:url(http://a.example/bg.png)}</style>'
        "<script>var a = '<img src=\"http://a.example/s.png\">';</script></p></div>\n")
for name, text in [("article", "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 250),
                   ("listing", "Lorem ipsum dolor sit amet. " * 40)]:
    block = '<div class="post"><h2>Title &amp; more</h2><p>' + text + tags
    open(f"{work}/{name}.html", "w").write(block * ((mib << 20) // len(block) + 1))
PY
for shape in article listing; do
    file="$WORK/$shape.html"
    bytes=$(stat -c %s "$file")
    start=$(date +%s.%N)
    MOXY_KEY=bench /usr/bin/time -f "%M" -o "$WORK/rss" "$MOXY_BIN" rewrite --base https://img.example.com < "$file" > "$WORK/out.html"
    end=$(date +%s.%N)
    python3 -c "import sys; b,s,e,r=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]),int(sys.argv[4]); print(f'$shape: {b/2**20:.0f} MiB in {e-s:.2f} s = {b/2**20/(e-s):.0f} MiB/s, peak RSS {r/1024:.1f} MiB')" \
        "$bytes" "$start" "$end" "$(cat "$WORK/rss")"
done
