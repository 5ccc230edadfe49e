"""A fake of Amazon's Alexa side: a real HTTP server on 127.0.0.1:<free port>, in a thread. The local stack starts one
and gives every function its URL (``ALEXA_CERT_FETCH_URL``, ``ALEXA_LWA_URL``, ``ALEXA_API_URL``) and its test CA
(``ALEXA_CERT_ROOTS``); the tests start their own (docs/courier.md "Alexa (issue 20)").

- ``GET /echo.api/<name>.pem`` — the signing certificate chains, as ``s3.amazonaws.com/echo.api/`` serves Amazon's
  (leaf, then intermediate), issued by a test CA made at start (RSA 2048): ``echo-api-cert.pem`` (valid, SAN
  ``echo-api.amazon.com``), ``expired-cert.pem`` (expired yesterday), ``wrong-san-cert.pem`` (SAN ``example.com``).
  The CA is trusted ONLY through ``ALEXA_CERT_ROOTS``, which a function honours only with a loopback fetch URL;
- ``POST /auth/o2/token`` — Login with Amazon's client credentials grant (``client_id``/``client_secret`` of a skill
  registered with ``add_client``; ``scope``) → ``{access_token, token_type, expires_in, scope}``, else 401
  ``{error: invalid_client}``;
- ``POST /v1/proactiveEvents/stages/development`` and ``/v1/proactiveEvents/`` — a Proactive Event (bearer token of
  scope ``alexa::proactive_events``; ``timestamp``, ``referenceId``, ``expiryTime``, ``event.name``,
  ``relevantAudience``, else 400) → 202, kept in ``events``;
- ``POST /v1/alerts/reminders`` → 201 ``{alertToken, createdTime, status: ON}``; ``PUT /v1/alerts/reminders/{token}``
  → 200 (404 unknown) — bearer of scope ``alexa::alerts:reminders:skill:readwrite``; kept in ``reminders``.

``sign(body, chain=…)`` makes the headers Alexa sends (``SignatureCertChainUrl``, ``Signature-256``) with the chain's
key: the tests act as Alexa with it. Every request is recorded (``requests``); ``fail_next(status)`` answers the next
API call with an error.
"""

from __future__ import annotations

import base64
import json
import secrets
import tempfile
import threading
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

CERT_URL = "https://s3.amazonaws.com/echo.api/{name}"
EVENTS_SCOPE = "alexa::proactive_events"
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"


def _key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _cert(subject: str, key: Any, issuer: Any, issuer_key: Any, *, ca: bool, san: str | None, start: datetime, end: datetime) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer.subject if issuer is not None else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key((issuer_key if issuer is not None else key).public_key()), critical=False
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
                          key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True,
        )  # fmt: skip
    else:
        builder = builder.add_extension(
            x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=True, data_encipherment=False,
                          key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True,
        ).add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)  # fmt: skip
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return builder.sign(issuer_key if issuer is not None else key, hashes.SHA256())


def _pem(*certs: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


@dataclass
class FakeAlexa:
    clients: dict[str, str] = field(default_factory=dict)  # LWA client id → secret
    tokens: dict[str, dict[str, str]] = field(default_factory=dict)  # access token → {client_id, scope}
    chains: dict[str, bytes] = field(default_factory=dict)  # file name → PEM chain
    keys: dict[str, Any] = field(default_factory=dict)  # file name → the leaf's private key
    events: list[dict[str, Any]] = field(default_factory=list)
    reminders: dict[str, dict[str, Any]] = field(default_factory=dict)  # alertToken → the reminder as last sent
    requests: list[dict[str, Any]] = field(default_factory=list)
    roots_path: str = ""
    _failures: list[int] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _dir: Any = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def env(self) -> dict[str, str]:
        """The functions' environment that points them at this fake (local stack and tests only)."""
        return {"ALEXA_CERT_FETCH_URL": self.url, "ALEXA_CERT_ROOTS": self.roots_path, "ALEXA_LWA_URL": self.url, "ALEXA_API_URL": self.url}

    def add_client(self, client_id: str | None = None, secret: str | None = None) -> tuple[str, str]:
        client_id = client_id or "amzn1.application-oa2-client." + secrets.token_hex(16)
        secret = secret or secrets.token_hex(32)
        with self._lock:
            self.clients[client_id] = secret
        return client_id, secret

    def snapshot(self) -> dict[str, Any]:
        """What the fake holds and was asked (``GET /_local/alexa``); client secrets and tokens are left out."""
        with self._lock:
            return {"url": self.url, "chains": sorted(self.chains), "clients": sorted(self.clients), "events": list(self.events),
                    "reminders": dict(self.reminders), "requests": list(self.requests[-500:])}  # fmt: skip

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._failures.extend([status] * times)

    def sign(self, body: bytes, *, chain: str = "echo-api-cert.pem", url: str | None = None) -> dict[str, str]:
        """The headers Alexa sends with ``body``, signed with ``chain``'s key (``url`` overrides the chain URL)."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        signature = self.keys[chain].sign(body, padding.PKCS1v15(), hashes.SHA256())
        return {"SignatureCertChainUrl": url or CERT_URL.format(name=chain), "Signature-256": base64.b64encode(signature).decode(),
                "Content-Type": "application/json"}  # fmt: skip

    def _make_pki(self) -> None:
        now = datetime.now(UTC)
        root_key, inter_key = _key(), _key()
        root = _cert("Parley Test Root CA (local only)", root_key, None, None, ca=True, san=None, start=now - timedelta(days=1),
                     end=now + timedelta(days=3650))  # fmt: skip
        inter = _cert("Parley Test Intermediate CA", inter_key, root, root_key, ca=True, san=None, start=now - timedelta(days=1),
                      end=now + timedelta(days=3650))  # fmt: skip
        for name, san, start, end in (
            ("echo-api-cert.pem", "echo-api.amazon.com", now - timedelta(days=1), now + timedelta(days=365)),
            ("expired-cert.pem", "echo-api.amazon.com", now - timedelta(days=30), now - timedelta(days=1)),
            ("wrong-san-cert.pem", "example.com", now - timedelta(days=1), now + timedelta(days=365)),
        ):
            key = _key()
            leaf = _cert("echo-api.amazon.com", key, inter, inter_key, ca=False, san=san, start=start, end=end)
            self.chains[name], self.keys[name] = _pem(leaf, inter), key
        self._dir = tempfile.TemporaryDirectory(prefix="parley-fake-alexa-")
        path = Path(self._dir.name) / "roots.pem"
        path.write_bytes(_pem(root))
        self.roots_path = str(path)

    def start(self, host: str = "127.0.0.1") -> FakeAlexa:
        self._make_pki()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                path = urllib.parse.urlsplit(self.path).path
                fake._record("GET", path, {}, None)
                name = path.removeprefix("/echo.api/")
                if path.startswith("/echo.api/") and name in fake.chains:
                    pem = fake.chains[name]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-pem-file")
                    self.send_header("Content-Length", str(len(pem)))
                    self.end_headers()
                    self.wfile.write(pem)
                    return
                self._answer(404, {"message": "no such object"})

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_POST(self) -> None:
                self._api("POST")

            def do_PUT(self) -> None:
                self._api("PUT")

            def _api(self, method: str) -> None:
                path = urllib.parse.urlsplit(self.path).path
                raw = self._body()
                status, answer = fake._handle(method, path, dict(self.headers), raw)
                self._answer(status, answer)

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="fake-alexa", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._dir is not None:
            self._dir.cleanup()

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any, status: int = 0) -> None:
        with self._lock:
            self.requests.append({"method": method, "path": path, "body": body, "status": status,
                                  "authorization": headers.get("Authorization", "")[:16]})  # fmt: skip
            del self.requests[:-2000]

    def _bearer(self, headers: dict[str, str], scope: str) -> bool:
        auth = headers.get("Authorization") or ""
        token = auth.removeprefix("Bearer ").strip()
        grant = self.tokens.get(token)
        return grant is not None and grant["scope"] == scope

    def _handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any]:
        status, answer, body = self._route(method, path, headers, raw)
        self._record(method, path, headers, body, status)
        return status, answer

    def _route(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, Any, Any]:
        if method == "POST" and path == "/auth/o2/token":
            form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace")))
            shown = {k: v for k, v in form.items() if k != "client_secret"}
            if form.get("grant_type") != "client_credentials" or self.clients.get(form.get("client_id", "")) != form.get("client_secret"):
                return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}, shown
            token = "Atc|" + secrets.token_urlsafe(24)
            with self._lock:
                self.tokens[token] = {"client_id": form["client_id"], "scope": form.get("scope", "")}
            return 200, {"access_token": token, "token_type": "bearer", "expires_in": 3600, "scope": form.get("scope", "")}, shown
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            return 400, {"message": "body is not JSON"}, None
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return failure, {"message": "fake failure"}, body
        if method == "POST" and path in ("/v1/proactiveEvents/stages/development", "/v1/proactiveEvents/", "/v1/proactiveEvents"):
            if not self._bearer(headers, EVENTS_SCOPE):
                return 403, {"message": "invalid token or scope"}, body
            missing = [k for k in ("timestamp", "referenceId", "expiryTime", "event", "relevantAudience") if k not in body]
            if missing or not isinstance(body.get("event"), dict) or not body["event"].get("name"):
                return 400, {"message": f"missing {missing or ['event.name']}"}, body
            with self._lock:
                self.events.append({**body, "stage": "development" if path.endswith("development") else "live"})
            return 202, None, body
        if path.startswith("/v1/alerts/reminders"):
            if not self._bearer(headers, REMINDERS_SCOPE):
                return 403, {"message": "invalid token or scope"}, body
            trigger = body.get("trigger") if isinstance(body, dict) else None
            if not isinstance(trigger, dict) or not trigger.get("scheduledTime") or not body.get("alertInfo"):
                return 400, {"message": "trigger.scheduledTime and alertInfo are required"}, body
            if method == "POST" and path == "/v1/alerts/reminders":
                alert = str(uuid.uuid4())
                with self._lock:
                    self.reminders[alert] = body
                return 201, {"alertToken": alert, "createdTime": datetime.now(UTC).isoformat(), "status": "ON"}, body
            alert = urllib.parse.unquote(path.removeprefix("/v1/alerts/reminders/"))
            if method == "PUT" and alert in self.reminders:
                with self._lock:
                    self.reminders[alert] = body
                return 200, {"alertToken": alert, "status": "ON"}, body
            return 404, {"message": "no such reminder"}, body
        return 404, {"message": f"no route {method} {path}"}, body
