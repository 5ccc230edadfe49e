"""Secrets out of recorded traffic (the courier sniffers, ``parley.domain.sniffers``): what a sniffer log stores of a
request and its response, with credentials and token-like values replaced by ``[redacted]``.

- headers: ``Authorization`` (and ``Proxy-Authorization``) keep their scheme (``Bearer [redacted]``, ``Basic [redacted]``);
  ``X-API-Key``, ``Cookie``, ``Set-Cookie``, ``X-Amz-Security-Token`` and signature headers are ``[redacted]`` whole;
- JSON bodies: the value of every member whose name (case, ``-`` and ``_`` ignored) contains one of ``SECRET_WORDS``
  (``password``, ``secret``, ``token``, ``signature``, ``credential``, ``policy``, ``apikey``, ``accesskey``, …), at any
  depth — so an upload ticket's ``upload-data`` keeps its ``key`` and loses ``policy``, ``x-amz-signature``,
  ``x-amz-credential`` and ``x-amz-security-token``; form bodies and query strings by parameter name the same way;
- any string: JWTs (three base64url parts, the first ``eyJ``), Parley API keys (``prl_…``) and signed-URL parameters
  (``X-Amz-Signature=…``, ``X-Amz-Credential=…``, ``X-Amz-Security-Token=…``, ``Signature=…``, ``AWSAccessKeyId=…``).

Redaction errs on the side of hiding: a member named ``token-count`` is hidden too.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode

REDACTED = "[redacted]"
MAX_CHARS = 16_384  # a recorded body or response longer than this is cut (the item stays far below 400 KB)

SECRET_WORDS = (
    "password",
    "passwd",
    "secret",
    "token",
    "signature",
    "credential",
    "policy",
    "apikey",
    "accesskey",
    "privatekey",
    "authorization",
    "cookie",
    "sessionid",
    # push credentials' secret `data` (docs/courier.md "Push credentials and devices"): the APNs .p8 signing key, the FCM
    # server key and service account ("private-key" and "vapid-private-key" are caught by "privatekey")
    "signingkey",
    "serverkey",
    "serviceaccount",
)
SCHEME_HEADERS = frozenset({"authorization", "proxy-authorization"})
SECRET_HEADERS = frozenset({"x-api-key", "cookie", "set-cookie", "x-amz-security-token", "x-twilio-signature", "x-amz-signature"})

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*")
_API_KEY = re.compile(r"prl_[A-Za-z0-9_\-]{8,}")
_SIGNED_PARAM = re.compile(r"(?i)\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|AWSAccessKeyId)=([^&\s\"'<>]*)")


def secret_name(name: str) -> bool:
    """Whether a member, parameter or header named so holds a secret."""
    plain = re.sub(r"[-_\s.]", "", name.lower())
    return any(word in plain for word in SECRET_WORDS)


def text(value: str) -> str:
    """A string with the token-like values in it replaced."""
    value = _JWT.sub(REDACTED, value)
    value = _API_KEY.sub(REDACTED, value)
    return _SIGNED_PARAM.sub(lambda m: f"{m.group(1)}={REDACTED}", value)


def value(data: Any) -> Any:
    """A JSON value with every secret member's value replaced, and every string's tokens."""
    if isinstance(data, dict):
        return {k: REDACTED if isinstance(k, str) and secret_name(k) and v not in (None, "") else value(v) for k, v in data.items()}
    if isinstance(data, list):
        return [value(v) for v in data]
    if isinstance(data, str):
        return text(data)
    return data


def header(name: str, raw: str) -> str:
    lname = name.lower()
    if lname in SCHEME_HEADERS:
        scheme, sep, rest = raw.strip().partition(" ")
        return f"{scheme} {REDACTED}" if sep and rest.strip() else REDACTED
    if lname in SECRET_HEADERS or secret_name(lname.removeprefix("x-")):
        return REDACTED
    return text(raw)


def headers(items: dict[str, Any] | None) -> dict[str, str]:
    """Request (or response) headers, redacted, in name order."""
    return {name: header(name, str(raw)) for name, raw in sorted((items or {}).items(), key=lambda kv: kv[0].lower())}


def query(params: dict[str, list[str]] | None) -> str:
    """A query string (``multiValueQueryStringParameters``) re-encoded, with secret parameters' values replaced."""
    pairs = [(k, REDACTED if secret_name(k) else text(v)) for k, values in (params or {}).items() for v in values or []]
    return urlencode(pairs)


def body(raw: str | None, content_type: str = "") -> str:
    """A request or response body: JSON redacted member by member, a form parameter by parameter, anything else as
    text; cut at ``MAX_CHARS``."""
    if not raw:
        return ""
    mtype = content_type.split(";")[0].strip().lower()
    out: str | None = None
    if mtype in ("", "application/json", "application/vnd.api+json") or mtype.endswith("+json"):
        try:
            out = json.dumps(value(json.loads(raw)), separators=(",", ":"), ensure_ascii=False)
        except ValueError:
            out = None
    elif mtype == "application/x-www-form-urlencoded":
        pairs = parse_qsl(raw, keep_blank_values=True)
        out = urlencode([(k, REDACTED if secret_name(k) else text(v)) for k, v in pairs])
    if out is None:
        out = text(raw)
    return cut(out)


def cut(value: str, limit: int = MAX_CHARS) -> str:
    return value if len(value) <= limit else value[:limit] + f"…[{len(value) - limit} more characters not recorded]"
