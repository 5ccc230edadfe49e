"""A local fake of SendGrid's v3 Mail Send API: a real HTTP server on 127.0.0.1:<free port>, in a thread.

It checks what SendGrid checks first (Bearer key, JSON body, personalizations/from/subject/content),
answers 202 with an ``X-Message-Id`` like SendGrid, and records every request. Tests can script the
next answers (``fail_next(status)``, ``delay_next(seconds)``) to exercise throttling, 5xx and timeouts.

    with FakeSendGrid(api_keys={"SG.test"}) as sg:
        provider = SendGridEmailProvider(tenant_id="t", api_key="SG.test", base_url=sg.url)
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes
    json: Any
    status: int  # what the fake answered
    message_id: str | None = None


@dataclass
class Scripted:
    status: int = 202
    delay: float = 0.0
    body: dict[str, Any] | None = None


@dataclass
class FakeSendGrid:
    api_keys: set[str] = field(default_factory=lambda: {"SG.test-key"})
    requests: list[Recorded] = field(default_factory=list)
    _script: list[Scripted] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ── lifecycle ──
    def start(self) -> FakeSendGrid:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:
                self._reply(404, {"errors": [{"message": "not found"}]})

            def _reply(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                if data:
                    self.send_header("Content-Type", "application/json")
                self.end_headers()
                if data:
                    self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-sendgrid", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSendGrid:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    # ── scripting ──
    def fail_next(self, status: int, message: str = "scripted failure") -> None:
        with self._lock:
            self._script.append(Scripted(status=status, body={"errors": [{"message": message, "field": None, "help": None}]}))

    def delay_next(self, seconds: float) -> None:
        with self._lock:
            self._script.append(Scripted(status=202, delay=seconds))

    def sends(self) -> list[Recorded]:
        """The requests SendGrid accepted (202)."""
        return [r for r in self.requests if r.status == 202]

    # ── the API ──
    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        headers = {k: v for k, v in h.headers.items()}
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        with self._lock:
            scripted = self._script.pop(0) if self._script else None

        status, body, out_headers, message_id = self._answer(h.path, headers, parsed, scripted)
        with self._lock:
            self.requests.append(Recorded(h.command, h.path, headers, raw, parsed, status, message_id))
        if scripted and scripted.delay:
            time.sleep(scripted.delay)
        h._reply(status, body, out_headers)  # type: ignore[attr-defined]

    def _answer(
        self, path: str, headers: dict[str, str], body: Any, scripted: Scripted | None
    ) -> tuple[int, dict[str, Any] | None, dict[str, str], str | None]:
        if path != "/v3/mail/send":
            return 404, {"errors": [{"message": "not found"}]}, {}, None
        auth = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not auth.startswith("Bearer ") or auth.removeprefix("Bearer ") not in self.api_keys:
            return 401, {"errors": [{"message": "The provided authorization grant is invalid, expired, or revoked"}]}, {}, None
        if scripted and scripted.status != 202:
            return scripted.status, scripted.body, {}, None
        problems = _validate(body)
        if problems:
            return 400, {"errors": [{"message": p} for p in problems]}, {}, None
        message_id = secrets.token_urlsafe(16)
        return 202, None, {"X-Message-Id": message_id}, message_id


def _validate(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["Bad Request: the request body must be JSON"]
    problems = []
    pers = body.get("personalizations")
    if not isinstance(pers, list) or not pers or not all(isinstance(p, dict) and p.get("to") for p in pers):
        problems.append("The personalizations field is required and must have at least one personalization with a to address.")
    if not isinstance(body.get("from"), dict) or not body["from"].get("email"):
        problems.append("The from object must be provided for every email send.")
    if not body.get("subject"):
        problems.append("The subject is required.")
    content = body.get("content")
    if not isinstance(content, list) or not content:
        problems.append("Unless a valid template_id is provided, the content parameter is required.")
    elif content[0].get("type") != "text/plain" and any(c.get("type") == "text/plain" for c in content):
        problems.append("If present, text/plain content must be first, followed by any other content.")
    return problems
