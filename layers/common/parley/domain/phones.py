"""Phone numbers as the domain takes them: E.164 or a 400 naming the field (``models.phones`` does the parsing)."""

from __future__ import annotations

import re

from parley.errors import BadRequest
from parley.models.phones import DEFAULT_REGION, e164

_NOISE = re.compile(r"[\s().\-/]")


def require(value: str, region: str = DEFAULT_REGION, field: str = "phoneNumber") -> str:
    """``value`` in E.164, read in the tenant's ``region``; ``BadRequest`` (400, in the family's error shape, worded like
    a validation error: ``phoneNumber: …``) when it cannot be a phone number."""
    try:
        return e164(value, region or DEFAULT_REGION)
    except ValueError as err:
        raise BadRequest(f"{field}: {err}") from None


def optional(value: str | None, region: str = DEFAULT_REGION, field: str = "phoneNumber") -> str | None:
    return require(value, region, field) if value else None


def best_effort(value: str, region: str = DEFAULT_REGION) -> str:
    """E.164 when ``value`` is a possible number, else ``value`` without spaces, dots, dashes and parentheses (what a
    provider sends that is no E.164 number, e.g. a short code, is still stored, under that form)."""
    try:
        return e164(value, region or DEFAULT_REGION)
    except ValueError:
        return _NOISE.sub("", value or "")
