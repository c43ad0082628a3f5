# A naive Python server, as people write them: BaseHTTPRequestHandler in
# the HTTP/1.0 it speaks by default (no keep-alive, and with NO_LENGTH=1
# no Content-Length: the body ends with the connection), or in HTTP/1.1
# (PROTO=HTTP/1.1) with keep-alive; do_HEAD = do_GET, so a HEAD gets the
# body too, written after the head.
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = os.environ.get("PROTO", "HTTP/1.0")

    def do_GET(self):
        body = ("%s %d %s\n" % (self.command, os.getpid(), self.path)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        if not os.environ.get("NO_LENGTH"):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.do_GET()

    def log_message(self, *a):
        pass

class Server(ThreadingHTTPServer):
    request_queue_size = 128  # socketserver's 5 drops connects under load

Server(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
