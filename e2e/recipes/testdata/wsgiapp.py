import os, json
def app(environ, start_response):
    body = (json.dumps({"pid": os.getpid(), "generation": os.environ.get("BATON_GENERATION", "")}) + "\n").encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
