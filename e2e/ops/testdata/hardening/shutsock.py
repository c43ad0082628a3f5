#!/usr/bin/env python3
# A worker that breaks the shared listening socket on its way out, as some
# servers do to wake their accept threads: on SIGTERM it calls
# shutdown(SHUT_RDWR) on fd 3 (which every worker and the master share),
# then exits. Until then it answers HTTP on fd 3 from a polling accept loop
# that survives the socket not listening for a while, and it says READY=1
# on $NOTIFY_SOCKET.
import os
import signal
import socket
import threading
import time

sock = socket.socket(fileno=3)
sock.setblocking(False)


def term(*_):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    os._exit(0)


signal.signal(signal.SIGTERM, term)


def answer(conn):
    try:
        conn.setblocking(True)
        conn.settimeout(5)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                return
            data += chunk
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
    except OSError:
        pass
    finally:
        conn.close()


def serve():
    while True:
        try:
            conn, _ = sock.accept()
        except (BlockingIOError, InterruptedError):
            time.sleep(0.01)
            continue
        except OSError:
            # EINVAL: the socket does not listen (another worker shut it
            # down); poll until the master listens on it again.
            time.sleep(0.02)
            continue
        answer(conn)


threading.Thread(target=serve, daemon=True).start()
addr = os.environ.get("NOTIFY_SOCKET")
if addr:
    if addr.startswith("@"):
        addr = "\0" + addr[1:]
    n = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n.connect(addr)
    n.sendall(b"READY=1")
    n.close()
while True:
    time.sleep(60)
