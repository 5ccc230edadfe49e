"""A local HTTP receiver for the messaging-plugins' webhooks (issue 19): records every POST (path, headers, raw body)
and answers what the test sets — status, Content-Type, body — after ``delay`` seconds (a timeout test)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class PluginReceiver:
    status: int = 200
    content_type: str = "application/json"
    answer: bytes = b'{"message": "Sunny, 21 degrees"}'
    delay: float = 0.0
    drip: float = 0.0  # seconds between the answer's bytes
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]  # type: ignore[union-attr]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/expand?v=1"

    def start(self) -> PluginReceiver:
        me = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                me.requests.append({"path": self.path, "headers": dict(self.headers.items()), "body": raw})
                if me.delay:
                    time.sleep(me.delay)
                try:
                    self.send_response(me.status)
                    if 300 <= me.status < 400:
                        self.send_header("Location", f"http://127.0.0.1:{me.port}/elsewhere")
                    self.send_header("Content-Type", me.content_type)
                    self.send_header("Content-Length", str(len(me.answer)))
                    self.end_headers()
                    if me.drip:
                        for byte in me.answer:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(me.drip)
                    else:
                        self.wfile.write(me.answer)
                except OSError:  # the caller gave up (its timeout)
                    pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
