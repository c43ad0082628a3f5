# Helpers shared by the bench scripts (sourced, not run).

# port: a free loopback TCP port.
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }

# wait_up PORT: until something answers HTTP on PORT, at most 10 s.
wait_up() { for _ in $(seq 200); do curl -sf -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done; echo "nothing serves on $1" >&2; return 1; }

# build_binaries DIR: baton and the example server, into DIR.
build_binaries() {
  go build -o "$1/baton" ./cmd/baton
  go build -o "$1/hello" ./examples/hello
}

# wait_steered BATON NAME: until master NAME's --proxy tcp steers both
# its workers in the kernel (at most 10 s; it stays off when not root),
# then print its steering line.
wait_steered() {
  local i
  for i in $(seq 50); do
    "$1" status --name "$2" | grep -q '^steering: kernel, 2 of 2' && break
    sleep 0.2
  done
  "$1" status --name "$2" | grep '^steering' || true
}

# start_nginx DIR PORT A B: nginx on PORT in front of the apps on ports A
# and B, as operators run it (a worker per core, keep-alive upstream);
# sets peer to its master's pid. stop_peer stops it.
start_nginx() {
  cat >"$1/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $1/nginx.pid;
error_log $1/nginx.err;
events { worker_connections 4096; }
http {
  access_log off;
  upstream app { server 127.0.0.1:$3; server 127.0.0.1:$4; keepalive 128; }
  server {
    listen 127.0.0.1:$2;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
CONF
  nginx -c "$1/nginx.conf" & peer=$!
  wait_up "$2"
}

# start_haproxy DIR PORT A B: HAProxy in http mode on PORT in front of the
# apps on ports A and B (its default threads, connections to them reused);
# sets peer to its pid. stop_peer stops it.
start_haproxy() {
  cat >"$1/haproxy.cfg" <<CONF
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
frontend f
  bind 127.0.0.1:$2
  default_backend app
backend app
  http-reuse always
  server a 127.0.0.1:$3
  server b 127.0.0.1:$4
CONF
  haproxy -f "$1/haproxy.cfg" -db >/dev/null 2>&1 & peer=$!
  wait_up "$2"
}

# stop_peer stops what start_nginx or start_haproxy started.
stop_peer() { kill "$peer"; wait "$peer" 2>/dev/null || true; peer=; }
