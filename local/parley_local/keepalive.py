"""HTTP/1.1 keep-alive for werkzeug's threaded server (the local gateway and moto's server).

werkzeug's development server answers every request with ``Connection: close``, because
``http.server`` cannot drain an unread request body before the next request line. So every boto3
call of every function opened a new TCP connection to moto, and moto's server started a new thread for
it (~150 per second under 20 concurrent clients), and every client request to the gateway did the same.
Here the request body is read through a stream limited to its ``Content-Length`` and drained after the
response (werkzeug's own drain, which reads everything readable, is given nothing to read), so the
connection can serve the next request; anything else (a chunked request body,
``Expect``, an unreadable length, a failed response) still closes the connection as before. An idle
connection is closed after ``timeout`` seconds (and its thread ends).
"""

from __future__ import annotations

import io
import socket
from typing import Any

from werkzeug.serving import WSGIRequestHandler
from werkzeug.wsgi import LimitedStream


class KeepAliveMixin:
    """Mix in before a ``WSGIRequestHandler`` (sub)class."""

    timeout = 120  # seconds an idle keep-alive connection (and its thread) lives

    def setup(self) -> None:
        super().setup()  # type: ignore[misc]
        # An answer is written as its headers, then its body: with Nagle's algorithm on, the body waited for the
        # client's (delayed) ACK of the headers, 40 ms on Linux, on every keep-alive request after the first.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()  # type: ignore[misc]
        length = environ.get("CONTENT_LENGTH") or "0"
        self._body: LimitedStream | None = None
        self._keep = not environ.get("HTTP_TRANSFER_ENCODING") and not environ.get("HTTP_EXPECT") and length.isdigit()
        if self._keep:
            self._body = LimitedStream(self.rfile, int(length))  # type: ignore[attr-defined]
            environ["wsgi.input"] = self._body
            # After answering, werkzeug discards whatever else is readable on the socket (safe only when it
            # closes the connection): with keep-alive that would be the next request, so it reads nothing.
            self._rfile = self.rfile  # type: ignore[attr-defined]
            self.rfile = io.BytesIO(b"")
        return environ

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() == "connection" and value.lower() == "close" and getattr(self, "_keep", False):
            return  # HTTP/1.1: the connection stays open unless the client asked to close it
        super().send_header(keyword, value)  # type: ignore[misc]

    def run_wsgi(self) -> None:
        self._keep = False
        self._body = None
        self._rfile = None
        try:
            super().run_wsgi()  # type: ignore[misc]
        finally:
            if self._rfile is not None:
                self.rfile = self._rfile
        if not self._keep or self._body is None:
            self.close_connection = True
            return
        try:
            self._body.exhaust()  # what the application did not read, so the next request line is next
        except Exception:
            self.close_connection = True

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):
            return  # an idle keep-alive connection reaching its timeout: expected
        super().log_error(format, *args)  # type: ignore[misc]


class KeepAliveRequestHandler(KeepAliveMixin, WSGIRequestHandler):
    """werkzeug's request handler with keep-alive (the local gateway's)."""
