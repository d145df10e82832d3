#!/usr/bin/env python3
# Resident memory per memory-tier entry: starts `moxy serve` (one event loop) routed to a local origin
# serving distinct 200-byte objects, requests N of them (pipelined, 500 per connection) and prints
# VmRSS and the growth per entry after each fifth. Usage:
#   python3 bench/memory-per-entry.py .build/debug/moxy 1GiB 10000    (no eviction: bytes per entry)
#   python3 bench/memory-per-entry.py .build/debug/moxy 8MiB 10000    (a full tier: RSS levels off)
import socket, subprocess, time, re, sys, threading, http.server, os
class H(http.server.BaseHTTPRequestHandler):
    protocol_version="HTTP/1.1"
    def do_GET(self):
        body=b"\x07"*200
        self.send_response(200)
        self.send_header("Content-Type","image/png"); self.send_header("Cache-Control","public, max-age=86400")
        self.send_header("Last-Modified","Mon, 30 Nov 2026 08:00:00 GMT"); self.send_header("Content-Length",str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self,*a): pass
srv=http.server.ThreadingHTTPServer(("127.0.0.1",0),H); port=srv.server_address[1]
threading.Thread(target=srv.serve_forever,daemon=True).start()
binary=sys.argv[1]; mem=sys.argv[2]; n=int(sys.argv[3])
log=open("/tmp/moxy-memory-per-entry.log","w")
p=subprocess.Popen([binary,"serve","--listen","127.0.0.1:0","--threads","1","--route",f"/=http://127.0.0.1:{port}","--memory-cache-size",mem],stderr=log,stdout=subprocess.DEVNULL,
    env={**os.environ,"MOXY_CACHE_DISK_ENABLED":"false"})  # the memory tier alone
mport=None
for _ in range(100):
    time.sleep(0.1)
    m=re.search(r"address=127.0.0.1:(\d+)",open("/tmp/moxy-memory-per-entry.log").read())
    if m: mport=int(m.group(1)); break
def rss():
    for l in open(f"/proc/{p.pid}/status"):
        if l.startswith("VmRSS"): return int(l.split()[1])*1024
def run(lo,hi):
    s=socket.create_connection(("127.0.0.1",mport))
    req="".join(f"GET /uploads/2026/11/photo-{i}.png HTTP/1.1\r\nHost: images.example.com\r\n\r\n" for i in range(lo,hi))
    req+="GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    s.sendall(req.encode()); data=b""
    while True:
        d=s.recv(65536)
        if not d: break
        data+=d
    return data.count(b"HTTP/1.1 200")
run(0,50); idle=rss(); print("idle",idle)
done=50
step=n//5
for k in range(5):
    for b in range(done, done+step, 500): run(b,b+500)
    done+=step
    r=rss(); print(done, r, (r-idle)//(done-50), "B/entry")
p.terminate()
