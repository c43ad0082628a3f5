#!/usr/bin/env python3
# A worker written the way many Python servers check socket activation:
# the sockets are theirs only when LISTEN_PID == getpid(). It reports what
# it received into $REPORT, notifies READY=1 and serves until SIGTERM.
import os, signal, socket, sys

pid_ok = os.environ.get("LISTEN_PID") == str(os.getpid())
n = int(os.environ.get("LISTEN_FDS", "0")) if pid_ok else 0
names = os.environ.get("LISTEN_FDNAMES", "").split(":")
kinds = []
for i in range(n):
    s = socket.socket(fileno=3 + i)
    kinds.append("%s:%s" % (names[i], "unix" if s.family == socket.AF_UNIX else "tcp"))
    s.detach()
with open(os.environ["REPORT"] + "." + str(os.getpid()), "w") as f:
    f.write("pid_ok=%s fds=%d names=%s\n" % (pid_ok, n, ",".join(kinds)))
ns = os.environ.get("NOTIFY_SOCKET")
if ns:
    c = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    c.sendto(b"READY=1\nSTATUS=python ok", ns if not ns.startswith("@") else "\0" + ns[1:])
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
signal.pause()
