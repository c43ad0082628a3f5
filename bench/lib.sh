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
