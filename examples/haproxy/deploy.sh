#!/usr/bin/env bash
# deploy.sh: restart every baton host behind HAProxy, one at a time. For each
# host: `baton stop` (its /readyz turns 503 at once; HAProxy takes it out of
# the rotation within one check; after --shutdown-delay its workers drain
# and it exits), start it again, wait until HAProxy sees it UP, then the
# next. Clients see no failed request. Replace the restart with
# `baton upgrade` when the host only needs a new baton or config: that keeps
# the host in rotation throughout.
#
# Needs the environment run.sh prints (BATON, APP, DIR and the ports).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${BATON:?}" "${DIR:?}" "${STATS_PORT:?}"

# state HOST: HAProxy's view of server HOST (UP, DOWN, ...), from its CSV stats.
state() { curl -s "http://127.0.0.1:$STATS_PORT/stats;csv" | awk -F, -v h="$1" '$1=="hosts" && $2==h {print $18}'; }

# wait_state HOST STATE [seconds]
wait_state() {
  local i
  for ((i = 0; i < ${3:-30} * 20; i++)); do
    case "$(state "$1")" in "$2"*) return 0 ;; esac
    sleep 0.05
  done
  echo "deploy: $1 is $(state "$1"), not $2, after ${3:-30}s" >&2
  return 1
}

for n in 1 2; do
  host=host$n
  wait_state "$host" UP
  echo "deploy: $host: stopping (HAProxy takes it out first)"
  "$BATON" stop --control "$DIR/$host.sock" --timeout 60s
  wait_state "$host" DOWN 5
  "$here/host.sh" "$n"
  wait_state "$host" UP 60
  echo "deploy: $host: back, HAProxy sees it UP"
done
echo "deploy: every host restarted"
