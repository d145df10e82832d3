#!/usr/bin/env python3
"""Writes N disk-tier entries (format 2, empty bodies) into DIR as a signed-URL Moxy would have
stored them, fast enough for a million: bench/purge.sh uses it. Keys are
http://127.0.0.1:1/o/<n>.png (one in ten under /a/), one entry in a hundred tagged `t`.
Needs the `crc32c` module (pip install crc32c).
usage: bench/disk-fill.py DIR N"""
import hashlib, os, struct, sys, time
import crc32c

def text(value, length_bytes):
    data = value.encode()
    return struct.pack(">H" if length_bytes == 2 else ">I", len(data)) + data

def entry(key, now, tags):
    header = text(key, 4)
    header += struct.pack(">Hqq", 200, now, 31536000)
    # freshness: lifetime, initial age, swr, sie, max stale (-1: none), flags (explicit), no withheld fields
    header += struct.pack(">qqqqqB", 31536000, 0, 0, 0, -1, 1) + struct.pack(">H", 0)
    fields = [("Content-Type", "image/png"), ("Cache-Control", "public, max-age=31536000")]
    header += struct.pack(">H", len(fields)) + b"".join(text(n, 2) + text(v, 4) for n, v in fields)
    header += struct.pack(">H", 0)                      # vary names
    header += struct.pack(">BQ", 0, 0)                  # variant generation: none
    header += struct.pack(">H", len(tags)) + b"".join(text(t, 2) for t in tags)
    header += struct.pack(">BQ", 0, 0)                  # last good: none
    header += struct.pack(">Q", 0)                      # body length
    prefix = b"MOXY" + struct.pack(">HHI", 2, 0, len(header))
    return prefix + header + struct.pack(">I", crc32c.crc32c(prefix + header))

def main():
    directory, count = sys.argv[1], int(sys.argv[2])
    now = int(time.time())
    until = now + 31536000
    made = set()
    for number in range(count):
        key = "http://127.0.0.1:1/%s/%d.png" % ("a" if number % 10 == 0 else "o", number)
        name = hashlib.sha256(key.encode()).digest()[:8].hex()
        folder = os.path.join(directory, name[15], name[13:15])
        if folder not in made:
            os.makedirs(folder, exist_ok=True)
            made.add(folder)
        path = os.path.join(folder, name)
        with open(path, "wb") as file:
            file.write(entry(key, now, ["t"] if number % 100 == 0 else []))
        os.utime(path, (until, until))

main()
