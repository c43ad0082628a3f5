#!/usr/bin/env bash
# host.sh N: start baton "host" N (1 or 2) in the background, as run.sh set
# it up: its --listen HOSTn_PORT, --admin ADMINn, and a --shutdown-delay
# longer than HAProxy's health-check interval x fall.
set -euo pipefail
n=$1
port_var=HOST${n}_PORT; admin_var=ADMIN${n}
: "${BATON:?set BATON to the baton binary}" "${APP:?set APP to the server}" "${DIR:?set DIR}"
"$BATON" run --name "host$n" --control "$DIR/host$n.sock" -w "${WORKERS:-2}" \
  -l "127.0.0.1:${!port_var}" --admin "127.0.0.1:${!admin_var}" --shutdown-delay "${SHUTDOWN_DELAY:-1s}" \
  --pidfile "$DIR/host$n.pid" -- "$APP" >>"$DIR/host$n.log" 2>&1 &
