#!/usr/bin/env bash
# System calls, context switches and CPU per request, by process, under
# wrk: the same app served directly, behind --proxy tcp and --proxy http,
# and, for reference, behind nginx and HAProxy as HTTP reverse proxies.
# Calls and switches are counts, not times, so they hold on a loaded or
# shared machine where throughput ratios drift; they say what a proxy
# costs per request. CPU per request (perf's task-clock) drifts with the
# machine's speed: compare rows of one run.
#
#   bench/syscalls.sh [SECONDS]        default: 4
#
# Needs perf (Debian's linux-perf) with the raw_syscalls tracepoints, wrk
# and curl; root or perf_event_paranoid <= 1. Loopback only.
#
# The Go example listens with plain TCP (GODEBUG=multipathtcp=0), so that
# --proxy tcp steers its connections in the kernel (root only); the
# "--steer off" rows are the proxy copying every byte.
set -euo pipefail
export GODEBUG=multipathtcp=0
cd "$(dirname "$0")/.."
secs=${1:-4}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
command -v perf >/dev/null || apt-get install -y linux-perf >/dev/null
command -v nginx >/dev/null || apt-get install -y nginx-light >/dev/null 2>&1 || echo "nginx could not be installed: its row is skipped" >&2
command -v haproxy >/dev/null || apt-get install -y haproxy >/dev/null 2>&1 || echo "haproxy could not be installed: its row is skipped" >&2
out=$(mktemp -d)
export XDG_RUNTIME_DIR=$out/run
mkdir -p "$XDG_RUNTIME_DIR"
cleanup() {
  "$out/baton" stop --name sc >/dev/null 2>&1 || true
  [ -n "${direct:-}" ] && kill "$direct" 2>/dev/null || true
  [ -n "${peer:-}" ] && kill "$peer" 2>/dev/null || true
  [ -n "${apps:-}" ] && kill $apps 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
. bench/lib.sh
build_binaries "$out"
# measure LABEL PORT PIDS: wrk for SECONDS+1 s, perf counts PIDS (comma-separated) for SECONDS s
measure() {
  wrk -t2 -c64 -d"$((secs + 1))s" "http://127.0.0.1:$2/" >"$out/wrk.txt" & local w=$!
  sleep 0.5
  perf stat -e raw_syscalls:sys_enter,context-switches,task-clock -x, -o "$out/perf.txt" -p "$3" -- sleep "$secs" 2>/dev/null
  wait $w
  local rps; rps=$(awk '/Requests\/sec/ {print $2}' "$out/wrk.txt")
  awk -F, -v n="$rps" -v s="$secs" -v l="$1" '{v[$3]+=$1}
    END {r=n*s; printf "%-40s %12.2f %14.2f %12.1f\n", l, v["raw_syscalls:sys_enter"]/r, v["context-switches"]/r, v["task-clock"]*1000/r}' "$out/perf.txt"
}
printf "%-40s %12s %14s %12s\n" process syscalls/req switches/req cpu_us/req
P=$(port); GOMAXPROCS=2 "$out/hello" -addr "127.0.0.1:$P" >/dev/null 2>&1 & direct=$!
wait_up "$P"; measure "direct: the app" "$P" "$direct"; kill "$direct"; wait "$direct" 2>/dev/null || true; direct=
for mode in "tcp" "tcp --steer off" "http"; do
  P=$(port)
  # shellcheck disable=SC2086 # $mode is the proxy kind and its options
  "$out/baton" run --name sc -w 2 -l "127.0.0.1:$P" --mode proxy --proxy $mode -- "$out/hello" -addr "127.0.0.1:{port}" >"$out/baton.log" 2>&1 &
  master=$!
  wait_up "$P"
  [ "$mode" = tcp ] && wait_steered "$out/baton" sc >&2
  workers=$(pgrep -d, -f "$out/hello -addr 127.0.0.1:[0-9]")
  measure "--proxy $mode: the master" "$P" "$master"
  measure "--proxy $mode: the 2 workers" "$P" "$workers"
  "$out/baton" stop --name sc --timeout 60s >/dev/null
done

# For reference, what a C reverse proxy costs here, configured as in
# bench/compare.sh: two example servers behind nginx and HAProxy.
A=$(port); B=$(port)
GOMAXPROCS=2 "$out/hello" -addr "127.0.0.1:$A" >/dev/null 2>&1 & apps="$!"
GOMAXPROCS=2 "$out/hello" -addr "127.0.0.1:$B" >/dev/null 2>&1 & apps="$apps $!"
wait_up "$A"; wait_up "$B"
if command -v nginx >/dev/null; then
  P=$(port); start_nginx "$out" "$P" "$A" "$B"
  measure "nginx proxy_pass: its workers" "$P" "$(pgrep -d, -P "$peer")"
  measure "nginx proxy_pass: the 2 apps" "$P" "${apps// /,}"
  stop_peer
fi
if command -v haproxy >/dev/null; then
  P=$(port); start_haproxy "$out" "$P" "$A" "$B"
  measure "HAProxy (http mode)" "$P" "$peer"
  measure "HAProxy (http mode): the 2 apps" "$P" "${apps// /,}"
  stop_peer
fi
