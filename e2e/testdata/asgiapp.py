import os, json
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = (json.dumps({"pid": os.getpid(), "generation": os.environ.get("BATON_GENERATION", "")}) + "\n").encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
