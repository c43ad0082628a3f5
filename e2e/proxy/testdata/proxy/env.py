# Binds $PORT on loopback and answers with what a proxy-mode worker sees.
import http.server, json, os

class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({k: os.environ.get(k, "") for k in ("PORT", "LISTEN_FDS", "BATON_SLOT")} |
                          {"argv_port": os.environ.get("ARGV_PORT", ""), "xff": self.headers.get("X-Forwarded-For", "")}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
