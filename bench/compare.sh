#!/usr/bin/env bash
# Side by side, in one run (the machine is shared and noisy: read the
# ratios): (1) throughput and p99 of the same app served directly, under
# baton with inherited sockets, behind --proxy tcp and behind --proxy http,
# and, for reference, behind nginx and HAProxy as HTTP reverse proxies,
# median of 3 wrk runs each; (2) failed requests over N reloads under wrk
# keep-alive load (wrk never retries): baton inherit (examples/hello),
# baton --proxy http and PM2 cluster mode running the same plain Node app
# (examples/node/server.js, drained with server.close()).
#
#   bench/compare.sh [RELOADS] [SECONDS]        default: 20 10
#
# Installs wrk, nginx and HAProxy from Debian and PM2 from npm when missing. Loopback only.
#
# The Go example listens with plain TCP in every row (GODEBUG=multipathtcp=0):
# Go 1.24+ listens with Multipath TCP by default, which the kernel cannot
# steer to: --proxy tcp would then proxy every connection, as in the
# "--steer off" row.
set -euo pipefail
export GODEBUG=multipathtcp=0
cd "$(dirname "$0")/.."
reloads=${1:-20}; secs=${2:-10}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
command -v nginx >/dev/null || apt-get install -y nginx-light >/dev/null 2>&1 || echo "nginx could not be installed: its row is skipped" >&2
command -v haproxy >/dev/null || apt-get install -y haproxy >/dev/null 2>&1 || echo "haproxy could not be installed: its row is skipped" >&2
command -v pm2 >/dev/null || npm install -g pm2 >/dev/null 2>&1 || echo "pm2 could not be installed from npm: its row is skipped" >&2
out=$(mktemp -d)
export XDG_RUNTIME_DIR=$out/run PM2_HOME=$out/pm2
mkdir -p "$XDG_RUNTIME_DIR"
cleanup() {
  "$out/baton" stop --name cmp >/dev/null 2>&1 || true
  command -v pm2 >/dev/null && pm2 kill >/dev/null 2>&1 || true
  [ -n "${direct:-}" ] && kill "$direct" 2>/dev/null || true
  [ -n "${peer:-}" ] && kill "$peer" 2>/dev/null || true
  [ -n "${apps:-}" ] && kill $apps 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
. bench/lib.sh
build_binaries "$out"
# wrk_run PORT SECONDS: "rps p99_ms failed"
wrk_run() {
  wrk -t2 -c64 -d"${2}s" --latency "http://127.0.0.1:$1/" | awk '
    /Requests\/sec/ {rps=$2}
    /^ +99%/ {v=$2; if (v ~ /us$/) {sub("us","",v); v/=1000} else if (v ~ /ms$/) {sub("ms","",v)} else if (v ~ /s$/) {sub("s","",v); v*=1000}; p99=v}
    /Socket errors/ {gsub(",",""); f+=$4+$6+$8+$10}
    /Non-2xx/ {f+=$NF}
    END {printf "%.0f %.2f %d\n", rps, p99, f}'
}
median3() { sort -n | awk '{a[NR]=$0} END {print a[2]}'; }
start_baton() { local p=$1; shift; "$out/baton" run --name cmp -w 2 -l "127.0.0.1:$p" "$@" >"$out/baton.log" 2>&1 & wait_up "$p"; }
stop_baton() { "$out/baton" stop --name cmp --timeout 60s >/dev/null; }

echo "== 1. throughput, same app (examples/hello), wrk 64 connections, ${secs}s x 3, median"
printf "%-22s %10s %9s %8s\n" setup req/s p99_ms ratio
measure() { # LABEL PORT
  local r=() p=() f i
  for i in 1 2 3; do read -r a b f < <(wrk_run "$2" "$secs"); r+=("$a"); p+=("$b"); done
  rps=$(printf "%s\n" "${r[@]}" | median3); p99=$(printf "%s\n" "${p[@]}" | median3)
  [ "$1" = direct ] && base=$rps
  printf "%-22s %10s %9s %8s\n" "$1" "$rps" "$p99" "$(awk -v a="$rps" -v b="$base" 'BEGIN {printf "%.2f", a/b}')"
}
P=$(port)
GOMAXPROCS=2 "$out/hello" -addr "127.0.0.1:$P" >/dev/null 2>&1 & direct=$!
wait_up "$P"; measure direct "$P"; kill $direct; wait $direct 2>/dev/null || true; direct=
P=$(port); start_baton "$P" -- "$out/hello"; measure "baton inherit" "$P"; stop_baton
P=$(port); start_baton "$P" --mode proxy --proxy tcp -- "$out/hello" -addr "127.0.0.1:{port}"
wait_steered "$out/baton" cmp
measure "baton --proxy tcp" "$P"; stop_baton
P=$(port); start_baton "$P" --mode proxy --proxy tcp --steer off -- "$out/hello" -addr "127.0.0.1:{port}"; measure "  --steer off" "$P"; stop_baton
P=$(port); start_baton "$P" --mode proxy --proxy http -- "$out/hello" -addr "127.0.0.1:{port}"; measure "baton --proxy http" "$P"; stop_baton

# What a C reverse proxy gets on the same machine, as operators run them
# (a process or thread per core, keep-alive to the app): the same two
# example servers behind nginx and HAProxy in HTTP mode.
A=$(port); B=$(port)
GOMAXPROCS=2 "$out/hello" -addr "127.0.0.1:$A" >/dev/null 2>&1 & apps="$!"
GOMAXPROCS=2 "$out/hello" -addr "127.0.0.1:$B" >/dev/null 2>&1 & apps="$apps $!"
wait_up "$A"; wait_up "$B"
if command -v nginx >/dev/null; then
  P=$(port); start_nginx "$out" "$P" "$A" "$B"; measure "nginx proxy_pass" "$P"; stop_peer
fi
if command -v haproxy >/dev/null; then
  P=$(port); start_haproxy "$out" "$P" "$A" "$B"; measure "HAProxy (http mode)" "$P"; stop_peer
fi
kill $apps; wait $apps 2>/dev/null || true; apps=

echo "== 2. failed requests over $reloads reloads, wrk 2 threads 16 keep-alive connections"
printf "%-40s %10s %8s\n" setup requests failed
# during LABEL PORT RELOAD_CMD...: wrk for as long as the reloads take
during() {
  local label=$1 p=$2; shift 2
  wrk -t2 -c16 -d600s "http://127.0.0.1:$p/" >"$out/wrk.txt" 2>&1 & local w=$!
  sleep 1
  for _ in $(seq "$reloads"); do "$@" >>"$out/reloads.log" 2>&1 || echo "reload failed" >>"$out/reloads.log"; done
  sleep 1; kill -INT $w; wait $w || true
  awk -v l="$label" '/requests in/ {r=$1} /Socket errors/ {gsub(",",""); f+=$4+$6+$8+$10} /Non-2xx/ {f+=$NF} END {printf "%-40s %10s %8d\n", l, r, f}' "$out/wrk.txt"
}
P=$(port); start_baton "$P" -- "$out/hello"
during "baton inherit (examples/hello)" "$P" "$out/baton" reload --name cmp; stop_baton
P=$(port); start_baton "$P" --mode proxy --proxy http -- node examples/node/server.js
during "baton --proxy http (Node, server.close())" "$P" "$out/baton" reload --name cmp; stop_baton
if command -v pm2 >/dev/null; then
  P=$(port)
  PORT=$P pm2 start examples/node/server.js -i 2 --name cmp >/dev/null
  wait_up "$P"
  during "PM2 cluster, pm2 reload (Node, same app)" "$P" pm2 reload cmp
  pm2 delete cmp >/dev/null
fi
{ grep -c "reload failed" "$out/reloads.log" || true; } | awk '{print "reload commands that failed: " $1}'
