#!/bin/sh
# A worker that daemonizes and exits: its main process starts a child that
# leaves the process group (setsid), keeps stdout and stderr (the master's
# pipes) open and sleeps; the main process exits 0 once the child has
# escaped. The child writes its pid to $ESCAPED/<main pid>.pid, after
# setsid, so that the test can kill it.
main=$$
setsid sh -c 'echo "$$" > "$ESCAPED/$1.pid"; exec sleep 1001 3>&-' daemon "$main" &
while [ ! -s "$ESCAPED/$main.pid" ]; do sleep 0.01; done
echo "daemonized: pid $(cat "$ESCAPED/$main.pid") escaped"
exit 0
