"""A fake Twilio REST API: a real HTTP server on 127.0.0.1:<free port>, in a thread.

It implements ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` as Twilio does for what
Parley uses: HTTP Basic auth with the account SID and auth token, a form body (To, From or
MessagingServiceSid, Body, StatusCallback), ``201`` with a message resource whose ``sid`` is
``SM`` + 32 hex digits, and Twilio's JSON error body (``code``, ``message``, ``status``) otherwise.
Every request is recorded. ``fail_next(status, ...)`` answers the next request(s) with an error;
``stall_next(seconds)`` delays the answer (to provoke a client read timeout).
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]
    account_sid: str | None = None
    auth_ok: bool = False


@dataclass
class FakeTwilio:
    accounts: dict[str, str] = field(default_factory=dict)  # sid → auth token
    requests: list[Recorded] = field(default_factory=list)
    _failures: list[tuple[int, int, str]] = field(default_factory=list)
    _stalls: list[float] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def add_account(self, sid: str | None = None, token: str | None = None) -> tuple[str, str]:
        sid = sid or "AC" + secrets.token_hex(16)
        token = token or secrets.token_hex(16)
        self.accounts[sid] = token
        return sid, token

    def fail_next(self, status: int, code: int = 20500, message: str = "Internal Server Error", times: int = 1) -> None:
        with self._lock:
            self._failures.extend([(status, code, message)] * times)

    def stall_next(self, seconds: float) -> None:
        with self._lock:
            self._stalls.append(seconds)

    def messages(self) -> list[Recorded]:
        """Requests that created a message (authenticated, answered 201)."""
        return [r for r in self.requests if r.auth_ok and r.path.endswith("/Messages.json")]

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _error(self, status: int, code: int, message: str) -> None:
                self._answer(status, {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                                      "status": status})  # fmt: skip

            def do_GET(self) -> None:
                self._error(405, 20004, "Method not allowed")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
                rec = Recorded("POST", self.path, {k: v for k, v in self.headers.items()}, form)
                with fake._lock:
                    fake.requests.append(rec)
                    stall = fake._stalls.pop(0) if fake._stalls else 0.0
                    failure = fake._failures.pop(0) if fake._failures else None
                if stall:
                    time.sleep(stall)
                parts = self.path.split("?")[0].strip("/").split("/")
                if len(parts) != 4 or parts[0] != "2010-04-01" or parts[1] != "Accounts" or parts[3] != "Messages.json":
                    return self._error(404, 20404, f"The requested resource {self.path} was not found")
                sid = parts[2]
                rec.account_sid = sid
                scheme, _, encoded = (self.headers.get("Authorization") or "").partition(" ")
                try:
                    user, _, password = base64.b64decode(encoded).decode().partition(":")
                except ValueError:
                    user = password = ""
                if scheme != "Basic" or user != sid or fake.accounts.get(sid) != password:
                    return self._error(401, 20003, "Authenticate")
                if failure:
                    return self._error(*failure)
                if not form.get("To"):
                    return self._error(400, 21604, "A 'To' phone number is required.")
                if not form.get("From") and not form.get("MessagingServiceSid"):
                    return self._error(400, 21603, "A 'From' phone number is required.")
                if not form.get("Body"):
                    return self._error(400, 21602, "Message body is required.")
                if not form["To"].startswith("+"):
                    return self._error(400, 21211, f"The 'To' number {form['To']} is not a valid phone number.")
                rec.auth_ok = True
                msg_sid = "SM" + secrets.token_hex(16)
                self._answer(
                    201,
                    {
                        "sid": msg_sid,
                        "account_sid": sid,
                        "to": form["To"],
                        "from": form.get("From"),
                        "messaging_service_sid": form.get("MessagingServiceSid"),
                        "body": form["Body"],
                        "status": "queued",
                        "num_segments": "1",
                        "direction": "outbound-api",
                        "api_version": "2010-04-01",
                        "uri": f"/2010-04-01/Accounts/{sid}/Messages/{msg_sid}.json",
                        "error_code": None,
                        "error_message": None,
                    },
                )

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-twilio", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
