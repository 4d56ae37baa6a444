"""A loopback webhook: records every POST it receives, and can hold or refuse its reply.

Tests count what arrived to prove at-most-once effects: a post that was received counts
even when its reply never reached the caller (``hold_s``), which is exactly the case a
retry cannot see. Runs in a thread, or as a process for end-to-end tests::

    python -m tests.support.webhook_sink --port 0 --log FILE [--hold-s 30]

which prints ``WEBHOOK_URL=http://127.0.0.1:PORT/hook`` once it listens and appends one
JSON line per received post to FILE.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass
class Post:
    path: str
    body: Any
    headers: dict[str, str]


@dataclass
class WebhookSink:
    base_url: str
    posts: list[Post] = field(default_factory=list)
    hold_s: float = 0.0  # received posts wait this long before their reply
    status: int = 200
    log: Path | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return self.base_url + "/hook"

    def received(self) -> list[Post]:
        with self._lock:
            return list(self.posts)

    def record(self, post: Post) -> None:
        with self._lock:
            self.posts.append(post)
            if self.log is not None:
                line = {"path": post.path, "body": post.body, "headers": post.headers}
                with self.log.open("a") as handle:
                    handle.write(json.dumps(line) + "\n")


def _handler(sink: WebhookSink) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body: Any = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            sink.record(Post(self.path, body, {k.lower(): v for k, v in self.headers.items()}))
            if sink.hold_s:
                time.sleep(sink.hold_s)
            reply = b"ok" if sink.status < 400 else b"refused"
            try:
                self.send_response(sink.status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the caller gave up (or died) while the reply was held

    return Handler


@contextmanager
def webhook_sink(hold_s: float = 0.0, log: Path | None = None) -> Iterator[WebhookSink]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.daemon_threads = True
    sink = WebhookSink(f"http://127.0.0.1:{server.server_address[1]}", hold_s=hold_s, log=log)
    server.RequestHandlerClass = _handler(sink)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--hold-s", type=float, default=0.0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), BaseHTTPRequestHandler)
    server.daemon_threads = True
    sink = WebhookSink(
        f"http://127.0.0.1:{server.server_address[1]}", hold_s=args.hold_s, log=args.log
    )
    server.RequestHandlerClass = _handler(sink)
    print(f"WEBHOOK_URL={sink.url}", flush=True)
    server.serve_forever(poll_interval=0.05)


if __name__ == "__main__":
    main()
