"""Python waitress with the benchmark app as a WSGI application.

threads=4 (waitress's default). connection_limit is raised from 100 and
asyncore_use_poll is on (select() cannot watch more than 1024 descriptors) so
the 256-connection and 1,000-idle-connection scenarios work.
"""

import os
import re

from waitress import serve

CHUNK = b"\0" * (64 * 1024)
HELLO = b"Hello World"


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        start_response("200 OK", [("Content-Type", "text/plain;charset=UTF-8"), ("Content-Length", "11")])
        return [HELLO]
    if path == "/upload":
        stream = environ["wsgi.input"]
        n = 0
        while True:
            block = stream.read(65536)
            if not block:
                break
            n += len(block)
        body = str(n).encode()
        start_response("200 OK", [("Content-Type", "text/plain;charset=UTF-8"), ("Content-Length", str(len(body)))])
        return [body]
    if path == "/stream":
        m = re.search(r"(?:^|&)mib=(\d+)", environ.get("QUERY_STRING", ""))
        chunks = (int(m.group(1)) if m else 64) * 16
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (CHUNK for _ in range(chunks))
    start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [b"Not Found"]


if __name__ == "__main__":
    print("ready", flush=True)
    serve(
        app,
        host="127.0.0.1",
        port=int(os.environ["PORT"]),
        threads=4,
        connection_limit=2000,
        asyncore_use_poll=True,
    )
