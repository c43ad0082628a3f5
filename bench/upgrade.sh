#!/usr/bin/env bash
# Failed requests over N master upgrades under wrk keep-alive load (wrk
# never retries), beside the same load with N rollouts, in one run.
#
#   bench/upgrade.sh [UPGRADES] [WORKERS] [CONNECTIONS]
#
# Needs wrk (apt-get install -y wrk). Traffic goes to 127.0.0.1 only. The
# longest gap with no response is measured by the Go benchmark:
#   go test -run '^$' -bench UpgradesUnderLoad -benchtime 20x -count 5 ./e2e/
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20}; workers=${2:-4}; conns=${3:-64}
command -v wrk >/dev/null || { echo "wrk is not installed: apt-get install -y wrk" >&2; exit 1; }

out=$(mktemp -d)
trap '"$out/bin/baton" stop --name bup >/dev/null 2>&1 || true; rm -rf "$out"' EXIT
mkdir -p "$out/bin" "$out/run"
go build -o "$out/bin/baton" ./cmd/baton
go build -o "$out/bin/hello" ./examples/hello
export XDG_RUNTIME_DIR=$out/run
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$out/bin/baton" run --name bup -w "$workers" -l "127.0.0.1:$port" -- "$out/bin/hello" >"$out/master.log" 2>&1 &
for _ in $(seq 200); do
  [ "$("$out/bin/baton" status --name bup --json 2>/dev/null | grep -c '"ready"')" = "$workers" ] && break
  sleep 0.05
done

summ() { # requests, failed (socket errors + non-2xx), p99
  awk '/requests in/ {req=$1}
       /Socket errors/ {gsub(",",""); err+=$4+$6+$8+$10}
       /Non-2xx/ {err+=$NF}
       /^ +99%/ {p99=$2}
       END {printf "requests=%s failed=%d p99=%s\n", req, err, p99}' "$1"
}

# during CMD LABEL: wrk for as long as N runs of CMD take (one after another).
during() {
  wrk -t2 -c"$conns" -d120s --latency "http://127.0.0.1:$port/" >"$out/$2.txt" &
  local wrkpid=$! ok=0 start=$SECONDS
  sleep 1
  for _ in $(seq "$n"); do "$out/bin/baton" "$1" --name bup >>"$out/$2.log" 2>&1 && ok=$((ok+1)); done
  kill -INT $wrkpid; wait $wrkpid || true
  echo "$2: $ok of $n done in $((SECONDS-start))s; $(summ "$out/$2.txt")"
  [ -z "${VERBOSE:-}" ] || cat "$out/$2.txt"
}

echo "== $workers workers, $conns keep-alive connections, wrk"
during reload rollouts
during upgrade upgrades
