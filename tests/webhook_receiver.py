"""A webhook receiver for tests: a real HTTP server on loopback that records what it is sent
and answers from a script (tests/test_webhooks.py, test_plugins.py, test_inbox_webhooks.py)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    """An HTTP server on 127.0.0.1 recording every request; answers from `script` (status,
    seconds to wait) in turn, then 200; a 3xx points at `location` when it is set."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], str]] = []
        self.script: list[tuple[int, float]] = []
        self.location: str | None = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"])).decode()
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status, wait = receiver.script.pop(0) if receiver.script else (200, 0.0)
                time.sleep(wait)
                answer = b'{"ok": true}' if status < 300 else b"broken today"
                try:
                    self.send_response(status)
                    self.send_header("content-length", str(len(answer)))
                    if 300 <= status < 400 and receiver.location is not None:
                        self.send_header("location", receiver.location)
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:
                    pass  # the sender gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.requests]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
