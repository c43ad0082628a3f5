#!/usr/bin/env bash
# run.sh: two baton hosts (examples/hello, 2 workers each) behind HAProxy on
# loopback; prints the environment deploy.sh needs, and stops everything on
# Ctrl-C. Needs haproxy and curl (apt-get install -y haproxy curl).
#
#   examples/haproxy/run.sh            # then, in another shell, the printed exports and:
#   examples/haproxy/deploy.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
here=examples/haproxy
command -v haproxy >/dev/null || { echo "haproxy is not installed: apt-get install -y haproxy" >&2; exit 1; }
export DIR=${DIR:-$(mktemp -d /tmp/baton-haproxy.XXXXXX)}
go build -o "$DIR/baton" ./cmd/baton && go build -o "$DIR/hello" ./examples/hello
export BATON=$DIR/baton APP=$DIR/hello
port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
export FRONT_PORT=$(port) STATS_PORT=$(port) HOST1_PORT=$(port) ADMIN1=$(port) HOST2_PORT=$(port) ADMIN2=$(port)
"$here/host.sh" 1
"$here/host.sh" 2
haproxy -db -f "$here/haproxy.cfg" >"$DIR/haproxy.log" 2>&1 &
echo $! >"$DIR/haproxy.pid"
trap 'kill $(cat "$DIR"/*.pid) 2>/dev/null' EXIT INT TERM
echo "serving on http://127.0.0.1:$FRONT_PORT/ (stats: http://127.0.0.1:$STATS_PORT/stats)"
echo "export DIR=$DIR BATON=$BATON APP=$APP FRONT_PORT=$FRONT_PORT STATS_PORT=$STATS_PORT HOST1_PORT=$HOST1_PORT ADMIN1=$ADMIN1 HOST2_PORT=$HOST2_PORT ADMIN2=$ADMIN2"
wait
