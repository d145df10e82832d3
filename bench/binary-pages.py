#!/usr/bin/env python3
"""Where a running Moxy's resident pages of its own binary come from: by ELF section, and the
code by module (Swift symbols' module names; the standard library; BoringSSL; C++; C).

Usage: bench/binary-pages.py PID BINARY (root, or the process's owner, to read /proc/PID/pagemap).
Run by `PAGES=1 bash bench/footprint.sh`. Needs binutils (nm, readelf)."""
import bisect, collections, os, re, struct, subprocess, sys

pid, binary = int(sys.argv[1]), os.path.realpath(sys.argv[2])
PAGE = 4096
maps = []
for line in open(f"/proc/{pid}/maps"):
    parts = line.split()
    if len(parts) >= 6 and os.path.realpath(parts[5]) == binary:
        lo, hi = (int(x, 16) for x in parts[0].split("-"))
        maps.append((lo, hi, int(parts[2], 16)))
resident = []
with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
    for lo, hi, _ in maps:
        for address in range(lo, hi, PAGE):
            pagemap.seek(address // PAGE * 8)
            if struct.unpack("<Q", pagemap.read(8))[0] >> 63 & 1:
                resident.append(address)
base = min(lo - offset for lo, _, offset in maps)

sections = []
for line in subprocess.run(["readelf", "-SW", binary], capture_output=True, text=True).stdout.splitlines():
    m = re.search(r"\]\s+(\S+)\s+\S+\s+([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)", line)
    if m and int(m.group(2), 16):
        start = int(m.group(2), 16)
        sections.append((start, start + int(m.group(3), 16), m.group(1)))


def module(name):
    if re.match(r"_?\$s[sS]", name):
        return "Swift standard library"
    m = re.match(r"_?\$s(\d+)([A-Za-z_][A-Za-z0-9_]*)", name)
    if m and int(m.group(1)) <= len(m.group(2)):
        return m.group(2)[: int(m.group(1))]
    if name.startswith("_Z"):
        return "C++ (Swift runtime, libstdc++)"
    if "swift" in name.lower():
        return "Swift runtime"
    return "C (BoringSSL, libc, NIO's shims)"


symbols = []
sizes = collections.Counter()
for line in subprocess.run(["nm", "-nS", "--defined-only", binary], capture_output=True, text=True).stdout.splitlines():
    parts = line.split(" ", 3)
    if len(parts) == 4 and parts[2] in "tT":
        symbols.append((int(parts[0], 16), parts[3]))
        sizes[module(parts[3])] += int(parts[1], 16)
addresses = [a for a, _ in symbols]

by_section = collections.Counter()
by_module = collections.Counter()
for address in resident:
    offset = address - base
    section = next((name for lo, hi, name in sections if lo <= offset < hi), "?")
    by_section[section] += 1
    if section == ".text":
        i = bisect.bisect_right(addresses, offset) - 1
        by_module[module(symbols[i][1]) if i >= 0 else "?"] += 1

mib = lambda pages: pages * PAGE / 1048576
print(f"resident pages of {binary}: {mib(len(resident)):.1f} MiB")
print("by section:")
for name, pages in by_section.most_common(12):
    print(f"  {mib(pages):6.2f} MiB  {name}")
print("code (.text) by module: resident / mapped")
for name, pages in by_module.most_common(25):
    print(f"  {mib(pages):6.2f} / {sizes[name] / 1048576:5.2f} MiB  {name}")
