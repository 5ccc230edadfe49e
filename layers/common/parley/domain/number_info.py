"""``text-number-info`` (docs/courier.md "Texting" → "Accounts, numbers, lookups"): carrier and line type of a phone
number from Twilio Lookup v2 (``line_type_intelligence``), asked with the tenant's main Twilio account and cached per
tenant and number for ``CACHE_DAYS``.

``POST`` answers the cached record while it is fresh; an expired one, or ``reresolve: true``, asks Twilio again and
replaces it (same id). A lookup Twilio answers (even ``valid: false`` or a line-type error) is stored ``resolved``
or ``failed`` with ``error``; a Twilio that fails or cannot be reached is a 502 and changes nothing. The lookup is
synchronous, so ``pending`` (the seed's first status) is never stored: documented in docs/courier.md.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, get_args

from parley import clock
from parley.dal import text_numbers as store
from parley.domain import text_numbers
from parley.domain.ids import new_id
from parley.errors import NotFound, Unprocessable
from parley.models.courier_text_numbers import LineType, NumberInfoAttributes, NumberInfoCreate

CACHE_DAYS = 30
_TYPES = set(get_args(LineType))


def view(stored: dict[str, Any]) -> NumberInfoAttributes:
    return NumberInfoAttributes(
        carrier_name=stored.get("carrier_name"),
        created_at=stored["created_at"],
        error=stored.get("error"),
        last_modified_at=stored["last_modified_at"],
        mobile_country_code=stored.get("mobile_country_code"),
        mobile_network_code=stored.get("mobile_network_code"),
        number=stored["number"],
        status=stored["status"],
        type=stored.get("line_type") or "",
    )


def _fresh(stored: dict[str, Any]) -> bool:
    return clock.parse_iso(stored["expires_at"]) > clock.now()


def _resolve(tenant_id: str, e164: str) -> dict[str, Any]:
    from parley.domain.text_accounts import main_account
    from parley.providers import twilio_rest

    sid, token = main_account(tenant_id)
    try:
        answer = twilio_rest.lookup(sid, token, e164)
    except twilio_rest.TwilioError as err:
        if err.status == 404:  # Lookup's answer for a number it cannot read: a result, stored
            return {"status": "failed", "error": f"Twilio Lookup: {err.message}"}
        raise text_numbers.twilio_failure(err, "look the number up") from None
    intel = answer.get("line_type_intelligence") or {}
    line_type = intel.get("type") or ""
    fields: dict[str, Any] = {
        "carrier_name": intel.get("carrier_name"),
        "mobile_country_code": intel.get("mobile_country_code"),
        "mobile_network_code": intel.get("mobile_network_code"),
        "line_type": line_type if line_type in _TYPES else "unknown",
    }
    if answer.get("valid") is False:
        errors = ", ".join(answer.get("validation_errors") or []) or "invalid"
        return {**fields, "status": "failed", "error": f"not a valid number: {errors}"}
    if intel.get("error_code"):
        return {**fields, "status": "failed", "error": f"Twilio Lookup error {intel['error_code']}"}
    return {**fields, "status": "resolved"}


def create(tenant_id: str, region: str, attrs: NumberInfoCreate) -> tuple[str, NumberInfoAttributes]:
    if not attrs.number:
        raise Unprocessable("number is required", pointer=text_numbers.pointer("number"), code="missing-member")
    e164 = text_numbers.e164(attrs.number, region, pointer=text_numbers.pointer("number"))
    cached = store.info_for(tenant_id, e164)
    if cached and not attrs.reresolve and _fresh(cached):
        return cached["id"], view(cached)
    result = _resolve(tenant_id, e164)
    now = clock.now()
    record = {
        "tenant_id": tenant_id,
        "id": cached["id"] if cached else new_id(),
        "number": e164,
        "created_at": cached["created_at"] if cached else clock.iso(now),
        "last_modified_at": clock.iso(now),
        "expires_at": clock.iso(now + timedelta(days=CACHE_DAYS)),
        **result,
    }
    if cached:
        store.replace_info(record)
    else:
        try:
            store.create_info(record)
        except Exception as err:
            if not store.lost_race(err):
                raise
            won = store.info_for(tenant_id, e164)  # a concurrent create stored it first: that one is the record
            if won is None:
                raise
            return won["id"], view(won)
    return record["id"], view(record)


def get(tenant_id: str, info_id: str) -> tuple[str, NumberInfoAttributes]:
    found = store.get_info(tenant_id, info_id)
    if found is None:
        raise NotFound(f"no text-number-info {info_id!r}", code="not-found")
    return info_id, view(found)


def page(tenant_id: str, region: str, number: str, *, offset: int, limit: int) -> tuple[list[tuple[str, NumberInfoAttributes]], int]:
    """The cached record of ``number`` (at most one per tenant and number), whether fresh or expired."""
    e164 = text_numbers.e164(number, region, parameter="number")
    found = store.info_for(tenant_id, e164)
    matches = [found] if found else []
    return [(i["id"], view(i)) for i in matches[offset : offset + limit]], len(matches)
