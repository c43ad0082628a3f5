#!/usr/bin/env python3
# A worker that daemonizes and exits: its main process forks a child that
# leaves the process group (setsid), keeps stdout and stderr (the master's
# pipes) open and sleeps; the main process exits 0 once the child has
# escaped. The child records its pid as a file in $ESCAPED so that the test
# can kill it.
import os
import sys
import time

r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    os.setsid()
    with open(os.path.join(os.environ["ESCAPED"], str(os.getpid())), "w") as f:
        f.write("baton-hardening-daemon\n")
    os.write(w, b"x")
    os.close(w)
    os.closerange(3, 1024)  # all but stdin, stdout and stderr
    while True:
        time.sleep(1000)
os.close(w)
os.read(r, 1)
print("daemonized: pid %d escaped" % pid, flush=True)
os._exit(0)
