"""Signed outbound callbacks of texts (docs/courier.md "Signed callbacks"): a reply to a text, a change of its status.

- **signed** like Stripe's webhooks: ``Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
  with the tenant's signing secret; ``Parley-Delivery-Id`` names the delivery (the same on every retry of it), so a
  receiver can drop a duplicate. ``verify`` is the documented recipe, tested as such.
- **queued**: one delivery item per cause (its id derived from the cause: a replayed webhook makes none) and one job
  on TextCallbackQueue; ``functions/core/text_callbacks`` POSTs it, retried with backoff (the job's visibility) up to
  ``MAX_RECEIVE_COUNT`` (the queue's maxReceiveCount); the item moves ``pending → delivered`` exactly once (a
  conditional write), or ``failed``/``refused``.
- **SSRF**: the URL's host is resolved and every address checked before connecting: loopback, private (10/8,
  172.16/12, 192.168/16, fc00::/7), link-local (169.254/16 with the metadata address, fe80::/10), shared (100.64/10),
  multicast, reserved and unspecified addresses are refused, and the connection is made to the checked address (no
  second lookup, so no DNS rebinding); redirects are never followed (a 3xx is a failed delivery). A refusal is recorded
  on the delivery (``refused`` with the reason) and never retried.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import text_callbacks as plumbing
from parley.dal import texts as store
from parley.settings import get_settings

logger = Logger(child=True)

SIGNATURE_HEADER = "Parley-Signature"
DELIVERY_HEADER = "Parley-Delivery-Id"
TOLERANCE_SECONDS = 300
TIMEOUT_SECONDS = 10
USER_AGENT = "Parley-Callbacks/1.0"
_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_SHARED = ipaddress.ip_network("100.64.0.0/10")


# ── signing ──
def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None) -> bool:
    """The receiver's check (docs/courier.md's recipe): the header's ``t`` within ``tolerance`` seconds of now, and one
    of its ``v1`` values equal (constant time) to HMAC-SHA256(secret, "<t>." + the raw body)."""
    parts = [p.split("=", 1) for p in (header or "").split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    macs = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not macs or not stamps[0].strip().isdigit():
        return False
    stamp = int(stamps[0])
    if abs((time.time() if now is None else now) - stamp) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, m) for m in macs)


# ── scheduling ──
def schedule(tenant_id: str, delivery_id: str, *, text_id: str, kind: str, url: str, payload: dict[str, Any]) -> bool:
    """One delivery of ``payload`` to ``url``, queued; False (nothing queued) when ``delivery_id`` exists already."""
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    created = store.create_callback(
        tenant_id,
        delivery_id,
        {
            "text_id": text_id,
            "kind": kind,
            "url": url,
            "body": body,
            "state": "pending",
            "attempts": 0,
            "created_at": clock.iso(clock.now()),
        },
    )
    if created:
        plumbing.enqueue({"tenant_id": tenant_id, "delivery_id": delivery_id})
    return created


# ── SSRF ──
class Refused(Exception):
    """The destination may not be called (a private, loopback, link-local or metadata address; not http(s))."""


def _allowed_exception(host: str, port: int) -> bool:
    """``TEXT_CALLBACK_ALLOW`` (the local stack's receivers only): ``host:port`` pairs, ``host:*`` any port of host."""
    allowed = {a.strip().lower() for a in get_settings().text_callback_allow.split(",") if a.strip()}
    return f"{host.lower()}:{port}" in allowed or f"{host.lower()}:*" in allowed


def forbidden_address(address: str) -> str | None:
    """Why an address may not be called, or None."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip in _METADATA:
        return "a cloud metadata address"
    for test, why in (
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_private, "a private address"),
        (ip.is_reserved, "a reserved address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "a shared (carrier-grade NAT) address"),
    ):
        if test:
            return why
    return None


@dataclass(frozen=True)
class Destination:
    scheme: str
    host: str
    port: int
    address: str
    target: str  # path and query


def destination(url: str) -> Destination:
    """The checked address to connect to for ``url``: every address the host resolves to must be allowed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("not an absolute http(s) URL")
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as err:
        raise Refused("invalid port") from err
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise Refused(f"{host} does not resolve: {err}") from err
    addresses = list(dict.fromkeys(info[4][0] for info in infos))
    if not addresses:
        raise Refused(f"{host} does not resolve")
    if not _allowed_exception(host, port):
        for address in addresses:
            why = forbidden_address(address)
            if why:
                raise Refused(f"{host} resolves to {address}, {why}")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Destination(parts.scheme, host, port, addresses[0], target)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked address, with the certificate checked against the URL's host name (SNI too)."""

    def __init__(self, dest: Destination, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__(dest.host, dest.port, timeout=timeout, context=ssl.create_default_context())
        self._address = dest.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(dest: Destination, body: bytes, headers: dict[str, str]) -> int:
    """One POST to the checked address (never a redirect followed: http.client follows none). Its status code."""
    return exchange(dest, body, headers)[0]


def exchange(
    dest: Destination, body: bytes, headers: dict[str, str], *, timeout: float = TIMEOUT_SECONDS, max_bytes: int = 65_536
) -> tuple[int, str, bytes]:
    """One POST to the checked address, as ``post``: its status code, Content-Type and the first ``max_bytes`` of its
    body (the messaging-plugins' webhooks read the answer). ``timeout`` bounds the whole exchange — connecting,
    sending, the answer's head and its body (a slow drip too): ``TimeoutError`` (an ``OSError``) past it."""
    deadline = time.monotonic() + timeout

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no complete answer within {timeout:g} s")
        return remaining

    if dest.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPS(dest, timeout)
    else:
        conn = http.client.HTTPConnection(dest.address, dest.port, timeout=timeout)
    host = dest.host if dest.port in (80, 443) else f"{dest.host}:{dest.port}"
    try:
        conn.request("POST", dest.target, body=body, headers={**headers, "Host": host})
        sock = conn.sock  # kept: the connection drops it when the answer says close, the answer still reads from it
        sock.settimeout(left())
        response = conn.getresponse()
        data = bytearray()
        while len(data) < max_bytes and not response.isclosed():  # closed: the whole answer is read
            sock.settimeout(left())
            chunk = response.read1(min(65_536, max_bytes - len(data)))
            if not chunk:
                break
            data += chunk
        return response.status, response.getheader("Content-Type") or "", bytes(data)
    finally:
        conn.close()


# ── delivering ──
@dataclass(frozen=True)
class Attempt:
    outcome: str  # delivered | refused | failed | retry | done (finished before)
    detail: str = ""


def attempt(tenant_id: str, delivery_id: str, receive_count: int) -> Attempt:
    """One attempt of a delivery (the job's ``receive_count``-th): POSTed, and the outcome recorded."""
    item = store.get_callback(tenant_id, delivery_id)
    if item is None or item.get("state") != "pending":
        return Attempt("done", "no pending delivery")
    now = clock.iso(clock.now())
    attempts = int(item.get("attempts") or 0) + 1
    try:
        dest = destination(item["url"])
    except Refused as err:
        store.finish_callback(tenant_id, delivery_id, state="refused", now=now, detail=f"refused: {err}", attempts=attempts)
        logger.warning("text callback refused", extra={"tenant_id": tenant_id, "delivery_id": delivery_id, "reason": str(err)})
        return Attempt("refused", str(err))
    body = item["body"].encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY_HEADER: delivery_id,
        SIGNATURE_HEADER: sign(plumbing.signing_secret(tenant_id), int(time.time()), body),
    }
    try:
        status = post(dest, body, headers)
        detail = f"HTTP {status}"
    except (OSError, http.client.HTTPException) as err:
        status, detail = 0, f"connection failed: {err}"
    if 200 <= status < 300:
        store.finish_callback(tenant_id, delivery_id, state="delivered", now=now, detail=detail, attempts=attempts)
        return Attempt("delivered", detail)
    final = (300 <= status < 400) or (400 <= status < 500 and status not in (408, 425, 429))
    if 300 <= status < 400:
        detail += " (redirects are not followed)"
    if final or receive_count >= get_settings().max_receive_count:  # the last receive: recorded, not dead-lettered
        store.finish_callback(tenant_id, delivery_id, state="failed", now=now, detail=detail, attempts=attempts)
        return Attempt("failed", detail)
    store.note_attempt(tenant_id, delivery_id, now=now, detail=detail, attempts=attempts)
    return Attempt("retry", detail)


def backoff_seconds(receive_count: int) -> int:
    """10 s, 20 s, 40 s … up to 15 minutes between attempts."""
    return min(10 * 2 ** max(receive_count - 1, 0), 900)


def handle_batch(records: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    """The SQS batch of TextCallbackFunction: a job to retry is reported failed after its visibility is set to the
    backoff; every other job (delivered, refused, failed for good, unreadable) is acknowledged."""
    failures: list[dict[str, str]] = []
    for record in records:
        try:
            job = json.loads(record["body"])
            tenant_id, delivery_id = str(job["tenant_id"]), str(job["delivery_id"])
        except (ValueError, KeyError, TypeError):
            logger.error("unreadable text callback job", extra={"message_id": record.get("messageId")})
            continue
        receive_count = int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
        try:
            result = attempt(tenant_id, delivery_id, receive_count)
        except Exception as err:
            logger.exception("text callback attempt failed", extra={"tenant_id": tenant_id, "delivery_id": delivery_id})
            from parley.domain import dead_letters

            dead_letters.note("text-callback", record, err)  # on its last receive: why (dlq show)
            failures.append({"itemIdentifier": record["messageId"]})
            continue
        logger.info("text callback", extra={"tenant_id": tenant_id, "delivery_id": delivery_id, "outcome": result.outcome,
                                            "detail": result.detail})  # fmt: skip
        if result.outcome == "retry":
            try:
                plumbing.back_off(record["receiptHandle"], backoff_seconds(receive_count))
            except Exception:
                logger.exception("could not set the retry's backoff", extra={"delivery_id": delivery_id})
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
