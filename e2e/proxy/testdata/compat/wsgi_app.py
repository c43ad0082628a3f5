# A plain WSGI app: it answers every method alike, so under gunicorn a
# HEAD gets its body too.
def app(environ, start_response):
    n = int(environ.get("CONTENT_LENGTH") or 0)
    if n:
        environ["wsgi.input"].read(n)
    body = b"ok %s\n" % environ["REQUEST_METHOD"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
