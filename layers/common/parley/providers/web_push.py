"""Web push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payload encryption (RFC 8291), through ``pywebpush``
(docs/courier.md "Push credentials and devices"). pywebpush (and requests, aiohttp, cryptography under it) is imported
when a web push is sent or a web credential checked, never at a function's cold start.

The push service is the subscription's ``endpoint``: an ``https`` URL. Plain ``http`` is taken only for the hosts
``PARLEY_WEB_PUSH_HTTP_HOSTS`` names (``host:port``, comma-separated): the local stack's fake push service; a deployed
function has no such variable, so a subscription can never make it call a plain-http or loopback address.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 10
TTL_SECONDS = 24 * 3600  # how long the push service keeps a push for an offline browser
_MAX_ENDPOINT = 2048


class SubscriptionInvalid(ValueError):
    """A web push subscription that cannot be pushed to (not JSON, no https endpoint, keys missing)."""


class WebPushGone(Exception):
    """The push service answered 404 or 410: the subscription expired or was unsubscribed."""


class WebPushFailed(Exception):
    """The push service refused the push (another 4xx/5xx) or could not be reached."""


@dataclass(frozen=True)
class Subscription:
    endpoint: str
    p256dh: str
    auth: str

    def info(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}


def _http_hosts() -> set[str]:
    return {h.strip().lower() for h in os.environ.get("PARLEY_WEB_PUSH_HTTP_HOSTS", "").split(",") if h.strip()}


def subscription(token: str) -> Subscription:
    """The subscription a web device's token holds: the browser's ``PushSubscription.toJSON()`` (``endpoint``,
    ``keys.p256dh``, ``keys.auth``)."""
    try:
        raw = json.loads(token)
    except ValueError as err:
        raise SubscriptionInvalid("a web device's token is its push subscription as JSON (endpoint and keys)") from err
    if not isinstance(raw, dict):
        raise SubscriptionInvalid("a web device's token is a JSON object (endpoint and keys)")
    endpoint, keys = raw.get("endpoint"), raw.get("keys")
    if not isinstance(endpoint, str) or not endpoint or len(endpoint) > _MAX_ENDPOINT:
        raise SubscriptionInvalid("the subscription has no endpoint")
    parts = urlsplit(endpoint)
    allowed_http = parts.scheme == "http" and (parts.netloc or "").lower() in _http_hosts()
    if not (parts.scheme == "https" or allowed_http) or not parts.hostname or parts.username or parts.password:
        raise SubscriptionInvalid("the subscription's endpoint must be an https URL")
    if not isinstance(keys, dict) or not all(isinstance(keys.get(k), str) and keys.get(k) for k in ("p256dh", "auth")):
        raise SubscriptionInvalid("the subscription has no keys.p256dh and keys.auth")
    return Subscription(endpoint=endpoint, p256dh=keys["p256dh"], auth=keys["auth"])


def vapid_key(private_key: str) -> Any:
    """The VAPID signing key (py_vapid) from its text: the raw P-256 private key, base64url, or its PEM/DER. ValueError
    when it is not one. Never read from a file (pywebpush would take a string that names a file as a path)."""
    from py_vapid import Vapid

    try:
        key = Vapid.from_string(private_key=private_key)
    except Exception as err:  # py_vapid raises several kinds for a bad key
        raise ValueError("not a P-256 private key (base64url raw, DER or PEM)") from err
    if key.private_key is None:
        raise ValueError("not a P-256 private key (base64url raw, DER or PEM)")
    return key


def public_key(private_key: str) -> str:
    """The application server key a browser subscribes with (base64url of the uncompressed P-256 point)."""
    import base64

    from cryptography.hazmat.primitives import serialization

    point = vapid_key(private_key).public_key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).decode().rstrip("=")


def send(sub: Subscription, payload: dict[str, Any], *, private_key: str, subject: str, topic: str | None = None) -> int:
    """Push ``payload`` (JSON) to the subscription, encrypted for it and signed with the VAPID key; the push service's
    status (201 accepted). ``topic`` (≤ 32 URL-safe characters) makes a later push with the same topic replace this
    one while it waits. ``WebPushGone`` on 404/410; ``WebPushFailed`` on any other refusal or a network failure."""
    from pywebpush import WebPushException, webpush

    headers = {"Urgency": "normal", **({"Topic": topic} if topic else {})}
    parts = urlsplit(sub.endpoint)
    claims = {"sub": subject, "aud": f"{parts.scheme}://{parts.netloc}", "exp": int(time.time()) + 12 * 3600}
    try:
        response = webpush(
            sub.info(),
            data=json.dumps(payload, separators=(",", ":")),
            vapid_private_key=vapid_key(private_key),
            vapid_claims=claims,
            ttl=TTL_SECONDS,
            headers=headers,
            timeout=TIMEOUT_SECONDS,
        )
    except WebPushException as err:
        status = getattr(err.response, "status_code", None) or getattr(err.response, "status", None)
        if status in (404, 410):
            raise WebPushGone(f"the push service answered {status}: the subscription is gone") from err
        raise WebPushFailed(f"the push service refused the push ({status or 'no answer'})") from err
    except Exception as err:  # requests' connection errors and timeouts
        raise WebPushFailed(f"the push service could not be reached: {type(err).__name__}") from err
    return int(getattr(response, "status_code", 201))
