# Shared by the bench scripts (sourced, not run): tool checks, the moxy build, a work folder that
# is removed on exit with every process started, and waiting for ports.

# The nginx peers run with `access_log off`; so does Moxy, unless ACCESS_LOG=1 is set (Moxy's
# log then goes to standard output, which the scripts discard, and the nginx cache peer logs to
# a file in its combined format: to measure both logs' cost).
if [ -z "${ACCESS_LOG:-}" ]; then export MOXY_ACCESS_LOG_ENABLED=false; fi

# require_tools TOOL...: exit with the apt-get hint when one is missing.
require_tools() {
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install nginx wrk" >&2; exit 1; }
    done
}

# build_moxy: sets MOXY_BIN, building the deployment variant unless MOXY_BIN is already set: the
# static Swift runtime (measured faster and smaller than the dynamic one), in its own scratch path
# since toggling --static-swift-stdlib rebuilds most modules.
build_moxy() {
    if [ -z "${MOXY_BIN:-}" ]; then
        swift build -c release --product moxy --static-swift-stdlib --scratch-path .build-static >&2
        MOXY_BIN="$(swift build -c release --static-swift-stdlib --scratch-path .build-static --show-bin-path)/moxy"
    fi
}

# make_workdir NAME: sets WORK to a fresh folder readable by nginx workers; on exit, every PID in
# PIDS and the nginx master in $WORK/nginx.pid are stopped and the folder removed.
make_workdir() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$WORK"  # nginx workers run as an unprivileged user
    PIDS=()
    trap cleanup EXIT
}

cleanup() {
    for pid in "${PIDS[@]:-}"; do [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; done
    kill "$(cat "$WORK/nginx.pid" 2>/dev/null)" 2>/dev/null || true
    sleep 0.5
    rm -rf "$WORK"
}

# wait_port PORT: wait up to 10 s for 127.0.0.1:PORT to accept connections.
wait_port() {
    for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "port $1 never opened" >&2
    exit 1
}

# make_origin_files: $WORK/origin with random 1k.png, 100k.png and 1m.png, the objects the scripts ask for.
make_origin_files() {
    mkdir -p "$WORK/origin"
    head -c 1024 /dev/urandom > "$WORK/origin/1k.png"
    head -c 102400 /dev/urandom > "$WORK/origin/100k.png"
    head -c 1048576 /dev/urandom > "$WORK/origin/1m.png"
}

# nginx_conf_head [CONNECTIONS]: the lines every nginx.conf of these scripts begins with (one worker
# in the foreground, its pid and errors in $WORK), up to the `http` block.
nginx_conf_head() {
    cat <<NGX
worker_processes 1;
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/error.log warn;
events { worker_connections ${1:-1024}; }
NGX
}

# start_nostore_origin PORT CPU: nginx on 127.0.0.1:PORT (pinned to CPU) serving $WORK/www/1k.png
# (1 KiB of random bytes) with `Cache-Control: no-store`, so every request through Moxy is a miss.
start_nostore_origin() {
    mkdir -p "$WORK/www"
    head -c 1024 /dev/urandom > "$WORK/www/1k.png"
    chmod -R a+rX "$WORK/www"
    { nginx_conf_head; cat <<NGX; } > "$WORK/nginx.conf"
http {
    access_log off;
    tcp_nopush off;
    types { image/png png; }
    server {
        listen 127.0.0.1:$1;
        root $WORK/www;
        add_header Cache-Control no-store;
    }
}
NGX
    taskset -c "$2" nginx -c "$WORK/nginx.conf" -p "$WORK" &
    PIDS+=($!)
    wait_port "$1"
}

# start_nagle_origin PORT CPU: Python's http.server on 127.0.0.1:PORT (pinned to CPU) answering every
# GET with 1 KiB and `Cache-Control: no-store`, head and body in two `send` calls with Nagle on (no
# TCP_NODELAY), as many small app servers do: the body waits for the head's acknowledgement.
start_nagle_origin() {
    cat > "$WORK/nagle.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"x" * 1024
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    taskset -c "$2" python3 "$WORK/nagle.py" "$1" &
    PIDS+=($!)
    wait_port "$1"
}

# write_nginx_conf PORT ORIGIN_PORT [MASTER]: $WORK/nginx.conf for nginx proxy_cache in front of the
# origin: one worker, no access log, tcp_nopush off (else 100 KiB hits stall), a 1 h cache of 200s.
# MASTER=off runs without a master process (for valgrind, which follows one process).
write_nginx_conf() {
    mkdir -p "$WORK/nginx-cache"
    chmod 777 "$WORK/nginx-cache"
    cat > "$WORK/nginx.conf" <<NGX
worker_processes 1;
master_process ${3:-on};
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
    access_log $( [ -n "${ACCESS_LOG:-}" ] && echo "$WORK/nginx-access.log" || echo off );
    sendfile on;
    tcp_nopush off;
    tcp_nodelay on;
    keepalive_requests 1000000;
    proxy_cache_path $WORK/nginx-cache levels=1:2 keys_zone=bench:10m max_size=1g inactive=1h use_temp_path=off;
    server {
        listen 127.0.0.1:$1;
        location / {
            proxy_pass http://127.0.0.1:$2;
            proxy_cache bench;
            proxy_cache_valid 200 1h;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
NGX
}

# make_tls_cert: $WORK/tls.pem and $WORK/tls.key, a self-signed P-256 certificate for 127.0.0.1.
make_tls_cert() {
    require_tools openssl
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/tls.key" -out "$WORK/tls.pem" \
        -days 2 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 2>/dev/null
    chmod a+r "$WORK/tls.key" "$WORK/tls.pem"
}

# nginx_tls PORT [EXTRA]: turns the nginx.conf listener on PORT into TLS 1.2/1.3 with that
# certificate (EXTRA: more listen parameters, e.g. http2).
nginx_tls() {
    sed -i "s|listen 127.0.0.1:$1;|listen 127.0.0.1:$1 ssl ${2:-}; ssl_certificate $WORK/tls.pem; ssl_certificate_key $WORK/tls.key; ssl_protocols TLSv1.2 TLSv1.3;|" "$WORK/nginx.conf"
}

# start_origin PORT: a Python origin on 127.0.0.1:PORT serving $WORK/origin (HTTP/1.1 keep-alive,
# Cache-Control: public, max-age=86400, so both proxies may cache); its PID goes to PIDS.
start_origin() {
    cat > "$WORK/origin.py" <<'PY'
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def end_headers(self):
        self.send_header("Cache-Control", "public, max-age=86400")
        super().end_headers()
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
    (cd "$WORK/origin" && exec python3 "$WORK/origin.py" "$1") &
    PIDS+=($!)
}
