"""Sniffers (courier admin, seed 003): while a sniffer is valid, its user's requests and responses through every courier
API are recorded, redacted (``parley.domain.redaction``), and readable through ``get-logs`` (docs/courier.md, "Sniffers").

How a request knows its user is sniffed without a read: the tenant item carries the sniffers not ended
(``dal.sniffers``); the authorizer reads that item on every cache miss anyway and puts them in the context
(``Caller.sniffed_users``). A courier function (``parley.api.endpoint``) looks there — a string test, no DynamoDB
call — and only for a sniffed user makes one ``PutItem`` (``record``), after the answer is built; a failed write is
logged, never raised. A new sniffer takes effect when the authorizer next runs for a credential: within
``AuthorizerCacheSeconds`` (30 s deployed). A sniffer stops at ``valid-until`` exactly (each request checks the end).
The sniffer routes themselves (``/v1/sniffers…``) are never recorded: reading the logs would grow them.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import sniffers as store
from parley.domain import redaction
from parley.domain.ids import new_id
from parley.errors import Conflict, NotFound, Unprocessable
from parley.models.sniffers import NewSnifferAttributes, SnifferAttributes, SnifferLogAttributes

logger = Logger(child=True)

MAX_VALIDITY = timedelta(days=7)  # valid-until at most this far ahead
LOG_RETENTION = timedelta(days=7)  # a log is kept this long after it is written; a sniffer this long after valid-until
MAX_ACTIVE = 20  # sniffers not ended, per tenant (they travel in every request's authorizer context)
USER_HEADER = "x-user-id"
NOT_RECORDED_PREFIX = "/v1/sniffers"


# ───────────── the admin routes ─────────────
def create(tenant_id: str, attrs: NewSnifferAttributes) -> tuple[str, SnifferAttributes]:
    """A new sniffer of one of the tenant's users until ``valid-until`` (in the future, at most ``MAX_VALIDITY`` ahead:
    else 422). An unknown user (another tenant's included) is a 404; more than ``MAX_ACTIVE`` sniffers a 409."""
    from parley.dal import directory

    now = clock.now()
    until = clock.parse_iso(attrs.valid_until)
    where = {"pointer": "/data/attributes/valid-until", "code": "invalid-valid-until"}
    if until <= now:
        raise Unprocessable("valid-until must be in the future", **where)
    if until > now + MAX_VALIDITY:
        raise Unprocessable(f"valid-until must be at most {MAX_VALIDITY.days} days ahead", **where)
    if directory.get(tenant_id, "users", attrs.user_id) is None:
        raise NotFound(f"no user {attrs.user_id!r}", pointer="/data/attributes/user-id", code="not-found")
    sniffer = {
        "id": new_id(),
        "user_id": attrs.user_id,
        "valid_until": clock.iso(until),
        "created_time": clock.iso(now),
    }
    ttl = int((until + LOG_RETENTION).timestamp())
    for _ in range(5):  # another create may change the tenant's map between the read and the write
        found = store.active(tenant_id)
        if found is None:
            raise NotFound("no such tenant")
        current, version = found
        keep = {k: v for k, v in current.items() if int(v.get("until", 0)) > now.timestamp()}  # ended ones are dropped
        if len(keep) >= MAX_ACTIVE:
            raise Conflict(f"the tenant has {MAX_ACTIVE} sniffers running already", code="too-many-sniffers")
        keep[sniffer["id"]] = {"user_id": attrs.user_id, "until": int(until.timestamp())}
        if store.create(tenant_id, sniffer, ttl, keep, version):
            return sniffer["id"], _attributes(sniffer)
    raise Conflict("sniffers are being created concurrently; try again", code="conflict")


def get(tenant_id: str, sniffer_id: str) -> tuple[str, SnifferAttributes]:
    return sniffer_id, _attributes(_stored(tenant_id, sniffer_id))


def logs(tenant_id: str, sniffer_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, SnifferLogAttributes]], int]:
    """The sniffer's logs, oldest first: its user's recorded requests from its creation to its ``valid-until``."""
    sniffer = _stored(tenant_id, sniffer_id)
    items, total = store.logs_page(
        tenant_id, sniffer["user_id"], sniffer["created_time"], sniffer["valid_until"], int(time.time()), offset=offset, limit=limit
    )
    return [(i["id"], SnifferLogAttributes(**_log_fields(i))) for i in items], total


def _stored(tenant_id: str, sniffer_id: str) -> dict[str, Any]:
    stored = store.get(tenant_id, sniffer_id)
    if stored is None or int(stored.get("ttl", 0)) <= time.time():  # past its ttl: gone, whether or not DynamoDB deleted it
        raise NotFound(f"no sniffer {sniffer_id!r}", code="not-found")
    return stored


def _attributes(stored: dict[str, Any]) -> SnifferAttributes:
    return SnifferAttributes(created_time=stored["created_time"], user_id=stored["user_id"], valid_until=stored["valid_until"])


LOG_FIELDS = tuple(SnifferLogAttributes.model_fields)


def _log_fields(item: dict[str, Any]) -> dict[str, Any]:
    out = {name: str(item.get(name) or "") for name in LOG_FIELDS}
    out["status_code"] = int(item.get("status_code") or 0)
    return out


# ───────────── recording, from every courier function (``parley.api.endpoint``) ─────────────
def before(event: dict[str, Any]) -> dict[str, Any] | None:
    """What a request's log needs from the event as it arrived (the resolver rewrites its path and media type), or
    None — at the cost of a dictionary lookup — when the authorizer's context names no sniffed user at all."""
    try:
        context = (event.get("requestContext") or {}).get("authorizer") or {}
        if not context.get("sniffedUsers"):
            return None
        headers = {str(k): str(v) for k, v in (event.get("headers") or {}).items() if v is not None}
        return {"path": str(event.get("path") or ""), "headers": headers, "context": dict(context)}
    except (AttributeError, TypeError):  # not an API Gateway event: nothing to record, and never a failure
        return None


def record(event: dict[str, Any], seen: dict[str, Any] | None, answer: dict[str, Any] | None) -> None:
    """Record the request and its answer when its user is sniffed now: one ``PutItem``. Never raises."""
    if seen is None or answer is None:
        return
    try:
        _record(event, seen, answer)
    except Exception as err:  # recording must never fail the request
        logger.warning("sniffer log not written", extra={"error": f"{type(err).__name__}: {err}"})


def sniffed_user(context: dict[str, Any], headers: dict[str, str]) -> str | None:
    """The courier user of the request: a user token's ``sub``, else the ``X-User-ID`` of an API-key request."""
    if context.get("credential") == "user_token":
        return str(context.get("userId") or "") or None
    return next((v.strip() for k, v in headers.items() if k.lower() == USER_HEADER), None) or None


def _record(event: dict[str, Any], seen: dict[str, Any], answer: dict[str, Any]) -> None:
    from parley.domain.context import Caller

    path = seen["path"]
    if path.rstrip("/") == NOT_RECORDED_PREFIX or path.startswith(NOT_RECORDED_PREFIX + "/"):
        return
    caller = Caller.from_authorizer(seen["context"])
    headers = seen["headers"]
    user = sniffed_user(seen["context"], headers)
    until = caller.sniffed_until(user)
    now = clock.now()
    if user is None or until is None or until <= now.timestamp():
        return
    lower = {k.lower(): v for k, v in headers.items()}
    content_type = lower.get("content-type", "")
    method = str(event.get("httpMethod") or "")
    status = int(answer.get("statusCode") or 0)
    ctx = event.get("requestContext") or {}
    params = event.get("multiValueQueryStringParameters") or {k: [v] for k, v in (event.get("queryStringParameters") or {}).items()}
    header_lines = "\n".join(f"{name}: {value}" for name, value in redaction.headers(headers).items())
    log = {
        "id": new_id(),
        "created_time": clock.iso(now),
        "method": method,
        "path": path,
        "query_string": redaction.query(params),
        "content_type": content_type,
        "body": redaction.body(_text(event.get("body"), event.get("isBase64Encoded")), content_type),
        "message": redaction.cut(f"{method} {path} -> {status}\n{header_lines}"),
        "request_id": str(ctx.get("requestId") or ""),
        "trace_id": lower.get("x-amzn-trace-id") or os.environ.get("_X_AMZN_TRACE_ID", ""),
        "user_agent": lower.get("user-agent") or str((ctx.get("identity") or {}).get("userAgent") or ""),
        "status_code": status,
        "response": redaction.body(_text(answer.get("body"), answer.get("isBase64Encoded")), _answer_type(answer)),
    }
    store.put_log(caller.tenant_id, user, log, int((now + LOG_RETENTION).timestamp()))


def _text(body: Any, base64_encoded: Any) -> str:
    if not body:
        return ""
    if not base64_encoded:
        return str(body)
    try:
        raw = base64.b64decode(str(body), validate=True)
    except (binascii.Error, ValueError):
        return "[a body that is not valid base64]"
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"[{len(raw)} bytes of binary data]"


def _answer_type(answer: dict[str, Any]) -> str:
    for name, value in (answer.get("headers") or {}).items():
        if name.lower() == "content-type":
            return str(value)
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        if name.lower() == "content-type" and values:
            return str(values[0])
    return ""
