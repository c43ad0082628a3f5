#!/usr/bin/env bash
# The master's own footprint with many workers, and rollout time by worker
# count beyond the app's own start.
#
#   bench/footprint.sh [COUNTS...]        default: 1 4 16 64 256
#
# For each count N: start `baton run -w N` on examples/hello, wait until all
# are ready, then read the master's RSS (and of it anonymous memory and
# pages of files: the baton binary, libc), OS threads and open fds from
# /proc, its CPU over 5 s at idle, then run 3 rollouts and report the mean
# rollout time, the app's own start (sum of "ready after" of the new
# workers) and baton's overhead per worker, and the master's CPU during
# them; then its RSS again a second after the rollouts and one
# `baton status` (a master that rolled and is being looked at), and last
# once it has settled, 35 s later: the master gives back the file pages a
# status or a scrape brought back within 30 s (internal/master/trim.go).
# Traffic: none. Needs python3 (to pick a port).
set -euo pipefail
cd "$(dirname "$0")/.."
counts=("$@"); [ ${#counts[@]} -gt 0 ] || counts=(1 4 16 64 256)
out=$(mktemp -d); trap '[ -n "${master:-}" ] && kill $master 2>/dev/null; rm -rf "$out"' EXIT
mkdir -p "$out/run"
go build -o "$out/baton" ./cmd/baton
go build -o "$out/hello" ./examples/hello
export XDG_RUNTIME_DIR=$out/run
tick=$(getconf CLK_TCK)
cpu() { awk -v t="$tick" '{print ($14+$15)/t}' "/proc/$1/stat"; }
rss_mb() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
# The master's private memory (heap, stacks): RSS less the pages of the
# baton binary and libraries it maps, which are shared and reclaimable.
anon_mb() { awk '/^RssAnon/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
file_mb() { awk '/^RssFile/ {printf "%.1f", $2/1024}' "/proc/$1/status"; }
threads() { awk '/^Threads/ {print $2}' "/proc/$1/status"; }

printf "%-8s %7s %8s %8s %8s %6s %11s %11s %13s %16s %14s %16s %16s\n" workers rss_MB anon_MB file_MB threads fds idle_cpu_% rollout_ms app_start_ms overhead_ms/wkr rollout_cpu_% rss_after_MB settled_MB
for n in "${counts[@]}"; do
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "$out/baton" run --name fp -w "$n" -l "127.0.0.1:$port" -- "$out/hello" >"$out/master.log" 2>&1 &
  master=$!
  for _ in $(seq 1200); do
    [ "$("$out/baton" status --name fp --json 2>/dev/null | grep -c '"state": "ready"')" = "$n" ] && break
    sleep 0.05
  done
  rss=$(rss_mb $master); anon=$(anon_mb $master); file=$(file_mb $master); thr=$(threads $master); fds=$(ls /proc/$master/fd | wc -l)
  c0=$(cpu $master); sleep 5; c1=$(cpu $master)
  idle=$(awk -v a="$c0" -v b="$c1" 'BEGIN {printf "%.2f", (b-a)/5*100}')
  : >"$out/reload.txt"
  t0=$(date +%s.%N); c0=$(cpu $master)
  for _ in 1 2 3; do "$out/baton" reload --name fp >>"$out/reload.txt"; done
  t1=$(date +%s.%N); c1=$(cpu $master)
  roll=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b-a)/3*1000}')
  rcpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN {printf "%.1f", (b-a)/(e-s)*100}')
  app=$(awk '/ready after/ {for (i=1;i<=NF;i++) if ($i=="after") s+=$(i+1)} END {printf "%.1f", s/3}' "$out/reload.txt")
  over=$(awk -v r="$roll" -v a="$app" -v n="$n" 'BEGIN {printf "%.2f", (r-a)/n}')
  sleep 1; "$out/baton" status --name fp >/dev/null
  after="$(rss_mb $master) ($(anon_mb $master)+$(file_mb $master))"
  sleep 35
  settled="$(rss_mb $master) ($(anon_mb $master)+$(file_mb $master))"
  printf "%-8s %7s %8s %8s %8s %6s %11s %11s %13s %16s %14s %16s %16s\n" "$n" "$rss" "$anon" "$file" "$thr" "$fds" "$idle" "$roll" "$app" "$over" "$rcpu" "$after" "$settled"
  "$out/baton" stop --name fp --timeout 120s >/dev/null
  wait $master 2>/dev/null || true; master=
done
