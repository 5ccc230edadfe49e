"""A JSON Web Key Set fetched from a tenant's identity provider (``Tenant.jwt_jwks_url``), with the standard library.

Bounded: ``TIMEOUT_SECONDS`` per fetch and at most ``MAX_BYTES`` read. Called only while a request is being
authorized (never at import or init: SnapStart snapshots carry no connection). Caching is the caller's
(``parley.domain.user_tokens.JwksCache``).
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any

TIMEOUT_SECONDS = 3.0
MAX_BYTES = 256 * 1024


class JwksError(Exception):
    """The key set could not be fetched or is not a JSON object."""


def fetch(url: str, timeout: float = TIMEOUT_SECONDS) -> dict[str, Any]:
    """GET ``url`` and parse its JSON object (raises ``JwksError`` on any failure)."""
    if not url.startswith("https://"):
        raise JwksError("a JWKS URL must be https")
    request = urllib.request.Request(url, headers={"Accept": "application/json", "User-Agent": "parley-authorizer"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (https only, checked above)
            body = response.read(MAX_BYTES + 1)
    except (OSError, ValueError) as err:  # URLError, HTTPError, timeouts are OSErrors
        raise JwksError(f"fetching {url}: {err}") from err
    if len(body) > MAX_BYTES:
        raise JwksError(f"{url}: key set larger than {MAX_BYTES} bytes")
    try:
        data = json.loads(body)
    except ValueError as err:
        raise JwksError(f"{url}: not JSON") from err
    if not isinstance(data, dict):
        raise JwksError(f"{url}: not a JSON object")
    return data
