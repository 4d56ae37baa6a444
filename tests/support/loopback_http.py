"""A real HTTP server on 127.0.0.1 for tool tests: fixed routes, request counts.

Routes (GET):
    /hello            200 text/plain "hello, world"
    /latin1           200 text/plain; charset=iso-8859-1, body "café" in Latin-1
    /big?n=N          200 with N bytes of "a", sent in 8 KiB chunks; a client that hangs
                      up early is counted in ``aborted``
    /missing          404 with a short body
    /fail             503 with Retry-After: 7
    /redirect?to=URL  302 to URL (any scheme)
    /loop             302 to /loop, forever
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CHUNK = 8 * 1024


@dataclass
class LoopbackHttp:
    base_url: str
    requests: Counter[str] = field(default_factory=Counter)
    aborted: Counter[str] = field(default_factory=Counter)  # client hung up mid-body

    def url(self, path: str) -> str:
        return self.base_url + path


def _handler(state: LoopbackHttp) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for start in range(0, len(body), CHUNK):
                    self.wfile.write(body[start : start + CHUNK])
            except (BrokenPipeError, ConnectionResetError):
                state.aborted[urlsplit(self.path).path] += 1

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            state.requests[parts.path] += 1
            text = {"Content-Type": "text/plain; charset=utf-8"}
            if parts.path == "/hello":
                self._send(200, b"hello, world", text)
            elif parts.path == "/latin1":
                latin = {"Content-Type": "text/plain; charset=iso-8859-1"}
                self._send(200, "café".encode("latin-1"), latin)
            elif parts.path == "/big":
                self._send(200, b"a" * int(query["n"][0]), text)
            elif parts.path == "/missing":
                self._send(404, b"no such page", text)
            elif parts.path == "/fail":
                self._send(503, b"try later", {**text, "Retry-After": "7"})
            elif parts.path == "/redirect":
                self._send(302, b"", {"Location": query["to"][0]})
            elif parts.path == "/loop":
                self._send(302, b"", {"Location": "/loop"})
            else:
                self._send(500, b"unknown route", text)

    return Handler


@contextmanager
def loopback_http() -> Iterator[LoopbackHttp]:
    """Serve the routes above on an ephemeral port for the duration of the block."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = LoopbackHttp(base_url=f"http://127.0.0.1:{server.server_address[1]}")
    server.RequestHandlerClass = _handler(state)
    # A short poll interval: shutdown() waits for the next poll.
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
