#!/usr/bin/env bash
# Requests served and failed during repeated rollouts, under wrk (which
# never retries), against the same load in steady state; and how long a
# rollout takes beyond the app's own start time.
#
#   bench/rollout.sh [WORKERS] [SECONDS] [CONNECTIONS]
#
# Needs wrk (apt-get install -y wrk). Traffic goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${1:-4}; secs=${2:-20}; conns=${3:-64}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

out=$(mktemp -d); trap 'kill $master 2>/dev/null; wait $master 2>/dev/null; rm -rf "$out"' EXIT
mkdir -p "$out/bin" "$out/run"
go build -o "$out/bin/baton" ./cmd/baton
go build -o "$out/bin/hello" ./examples/hello
export XDG_RUNTIME_DIR=$out/run
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$out/bin/baton" run --name bench -w "$workers" -l "127.0.0.1:$port" -- "$out/bin/hello" >"$out/master.log" 2>&1 &
master=$!
for _ in $(seq 200); do
  [ "$("$out/bin/baton" status --name bench --json 2>/dev/null | grep -c '"ready"')" = "$workers" ] && break
  sleep 0.05
done

run_wrk() { wrk -t2 -c"$conns" -d"${secs}s" --latency "http://127.0.0.1:$port/" ; }
summ() { # requests, errors (socket errors + non-2xx), p50, p99
  awk '/requests in/ {req=$1}
       /Socket errors/ {gsub(",",""); err+=$4+$6+$8+$10}
       /Non-2xx/ {err+=$NF}
       /^ +50%/ {p50=$2} /^ +99%/ {p99=$2}
       END {printf "requests=%s failed=%d p50=%s p99=%s\n", req, err, p50, p99}' "$1"
}

echo "== steady state: $workers workers, ${secs}s, $conns connections"
run_wrk >"$out/steady.txt"; summ "$out/steady.txt"

echo "== rollouts back to back during the same load"
run_wrk >"$out/rolling.txt" &
wrkpid=$!
n=0; : >"$out/reloads.txt"
while kill -0 $wrkpid 2>/dev/null; do
  "$out/bin/baton" reload --name bench >>"$out/reloads.txt" 2>&1 || true
  n=$((n+1))
done
wait $wrkpid
summ "$out/rolling.txt"
echo "rollouts=$n killed_after_stop_timeout=$(grep -o '[0-9]* killed after' "$out/reloads.txt" | awk '{s+=$1} END {print s+0}')"

echo "== rollout time beyond the app's own start (no load)"
: >"$out/quiet.txt"
for _ in 1 2 3 4 5 6 7 8 9 10; do
  "$out/bin/baton" reload --name bench >>"$out/quiet.txt"
  "$out/bin/baton" status --name bench --json | python3 -c 'import json,sys; print("seconds", json.load(sys.stdin)["rollout"]["seconds"])' >>"$out/quiet.txt"
done
awk -v w="$workers" '
  /ready after/ {for (i=1;i<=NF;i++) if ($i=="after") {ready+=$(i+1); nr++}}
  /^seconds/ {total+=$2*1000; n++}
  END {printf "rollouts=%d workers=%d mean_rollout_ms=%.1f mean_app_start_ms=%.1f baton_overhead_ms_per_worker=%.1f\n",
       n, w, total/n, ready/nr, (total/n - ready/n)/w}' "$out/quiet.txt"
