"""Texting accounts' numbers (docs/courier.md "Texting" → "Accounts, numbers, lookups"): buying, settings, logs,
user number maps, and the interface the texts and inbound SMS use:

    number_for(e164)                                  → the receiving number (tenant, account, settings) or None
    account_auth(tenant_id, account_id)               → (account sid, auth token), cached
    record_number_log(tenant_id, number_id, entry)    → a text-number-logs line, only when the number's logging is on
    sender_for(tenant_id, account_id, user_id, e164)  → the number a text goes out from

Every number is stored in E.164 and routed by a global item (``dal/text_numbers``): one number belongs to one
tenant. Buying asks Twilio with the account's own credentials (Secrets Manager ``parley/texting/<t>/<account>``) and
points the number's SMS and status webhooks at ``TEXT_INBOUND_URL`` (the texting inbound Function URL).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from parley import clock
from parley.dal import text_numbers as store
from parley.domain.ids import new_id
from parley.errors import BadRequest, Conflict, NotFound, ParleyError, Unprocessable
from parley.models.courier_text_numbers import (
    NumberLogAttributes,
    NumberMapAttributes,
    NumberMapCreate,
    TextNumber,
    TextNumberAttributes,
    TextNumberCreate,
    TextNumberUpdate,
)

SECRET_PREFIX = "parley/texting"  # noqa: S105 (a name prefix, not a secret)
SETTINGS = ("forward_to", "alert", "logging", "events")
MAX_LOG = 4000  # characters of one log line


class BadGateway(ParleyError):
    """Twilio refused or could not be reached: nothing was stored (502)."""

    status = 502


class Unavailable(ParleyError):
    """The deployment lacks what the request needs (the inbound webhook URL): 503."""

    status = 503


def pointer(member: str) -> str:
    return f"/data/attributes/{member}"


def e164(value: str, region: str, *, pointer: str | None = None, parameter: str | None = None) -> str:
    """``value`` in E.164 (read in the tenant's ``region``), or a 400 naming the member or parameter."""
    from parley.models.phones import e164 as parse

    try:
        return parse(value, region or "US")
    except ValueError as err:
        name = parameter or (pointer or "").rsplit("/", 1)[-1] or "number"
        raise BadRequest(f"{name}: {err}", pointer=pointer, parameter=parameter, code="invalid-phone-number") from None


def secret_name(tenant_id: str, account_id: str) -> str:
    return f"{SECRET_PREFIX}/{tenant_id}/{account_id}"


def twilio_failure(err: Any, doing: str) -> ParleyError:
    """A Twilio refusal as the answer: its 4xx that the request caused → 422; anything else → 502."""
    if 400 <= err.status < 500 and err.status not in (401, 403, 429):
        return Unprocessable(f"Twilio refused to {doing}: {err.message}", code="twilio-refused")
    return BadGateway(f"Twilio could not {doing}: {err.message}", code="twilio-unavailable")


# ── the interface (texts and inbound SMS) ──


def _text_number(stored: dict[str, Any]) -> TextNumber:
    return TextNumber(
        id=stored["id"],
        tenant_id=stored["tenant_id"],
        account_id=stored["account_id"],
        phone_number=stored["phone_number"],
        organization_id=stored.get("organization_id", ""),
        twilio_id=stored.get("twilio_id", ""),
        settings={k: stored.get(k) for k in SETTINGS} | {"events": stored.get("events") or {}},
    )


def number_for(e164_number: str) -> TextNumber | None:
    """The number receiving an inbound SMS (``To``, E.164): its tenant, account and settings; None when it is none of
    ours."""
    routed = store.route(e164_number)
    if routed is None:
        return None
    stored = store.get_number(routed["tenant_id"], routed["number_id"])
    return _text_number(stored) if stored else None


def account_auth(tenant_id: str, account_id: str) -> tuple[str, str]:
    """The account's Twilio ``(account sid, auth token)`` from Secrets Manager (cached per container, 5 min);
    ``NotFound`` when the tenant has no such account or its secret cannot be read."""
    from parley.dal import secrets

    try:
        value = secrets.named_secret(secret_name(tenant_id, account_id))
    except LookupError:
        raise NotFound(f"no credentials for text-account {account_id!r}", code="not-found") from None
    if not value.get("account_sid") or not value.get("auth_token"):
        raise NotFound(f"no credentials for text-account {account_id!r}", code="not-found")
    return str(value["account_sid"]), str(value["auth_token"])


def api_key_secret_name(tenant_id: str, account_id: str) -> str:
    return f"{secret_name(tenant_id, account_id)}/api-key"


def api_key(tenant_id: str, account_id: str) -> tuple[str, str, str]:
    """``(account sid, API key sid, API key secret)``: the account's one API key, which signs its access tokens
    (voice agents and conferences, video visits). Made through Twilio's ``Keys.json`` on first use and kept in its
    own secret (``api_key_secret_name``: the account's credentials secret is the operator's, replaced on rotation);
    a key made by a racing request that lost the secret's create is left unused at Twilio (its secret is never
    stored)."""
    from parley.dal import secrets
    from parley.providers import twilio_rest

    account_sid, token = account_auth(tenant_id, account_id)
    name = api_key_secret_name(tenant_id, account_id)
    try:
        kept = secrets.named_secret(name)
        if kept.get("key_sid") and kept.get("key_secret"):
            return account_sid, str(kept["key_sid"]), str(kept["key_secret"])
    except LookupError:
        pass
    try:
        key_sid, key_secret = twilio_rest.create_key(account_sid, token, f"parley {account_id}")
    except twilio_rest.TwilioError as err:
        raise twilio_failure(err, "create an API key") from None
    kept = secrets.create_once(name, {"key_sid": key_sid, "key_secret": key_secret})
    return account_sid, str(kept["key_sid"]), str(kept["key_secret"])


def record_number_log(tenant_id: str, number_id: str, entry: dict[str, Any]) -> None:
    """A log line of the number (JSON of ``entry``), only when its ``logging`` is on; kept ``LOG_DAYS`` days."""
    stored = store.get_number(tenant_id, number_id)
    if not stored or not stored.get("logging"):
        return
    now = clock.now()
    line = entry if isinstance(entry, str) else json.dumps(entry, sort_keys=True, default=str)
    store.put_log(tenant_id, number_id, new_id(), clock.iso(now), line[:MAX_LOG], int((now + timedelta(days=store.LOG_DAYS)).timestamp()))


def sender_for(tenant_id: str, account_id: str, user_id: str | None, target_e164: str) -> TextNumber:
    """The number a text of ``account_id`` goes out from: the user's mapped number in the account's organization
    (``text-user-number-maps``, the stable sender), else the account's ``phone-number`` (its default sender), else its
    oldest number. ``Unprocessable`` when the account has no number; ``NotFound`` when there is no such account.
    ``target_e164`` is not used to choose today (one sender per user, whoever the recipient): it is in the interface
    for a per-recipient sticky sender."""
    account = store.get_account(tenant_id, account_id)
    if account is None:
        raise NotFound(f"no text-account {account_id!r}", code="not-found")
    if user_id:
        for mapped in sorted(store.user_maps(tenant_id, user_id), key=lambda m: m["created_at"]):
            if mapped.get("organization_id") != account["organization_id"]:
                continue
            number = store.get_number(tenant_id, mapped["number_id"])
            if number and number["account_id"] == account_id:
                return _text_number(number)
    owned = store.account_numbers(tenant_id, account_id)
    if not owned:
        raise Unprocessable(f"text-account {account_id!r} has no number: buy one first", code="no-number")
    default = next((n for n in owned if n["phone_number"] == account.get("phone_number")), None)
    return _text_number(default or owned[0])


# ── text-account-numbers ──


def view(stored: dict[str, Any]) -> TextNumberAttributes:
    return TextNumberAttributes(
        account_id=stored["account_id"],
        alert=bool(stored.get("alert")),
        capability_mms=bool(stored.get("capability_mms")),
        capability_sms=bool(stored.get("capability_sms")),
        capability_voice=bool(stored.get("capability_voice")),
        created_at=stored["created_at"],
        events=stored.get("events") or {},
        forward_to=stored.get("forward_to"),
        lata=stored.get("lata"),
        latitude=stored.get("latitude"),
        logging=bool(stored.get("logging")),
        longitude=stored.get("longitude"),
        notes=stored.get("notes"),
        phone_number=stored["phone_number"],
        postal_code=stored.get("postal_code"),
        rate_center=stored.get("rate_center"),
        region=stored.get("region"),
        twilio_id=stored["twilio_id"],
    )


def inbound_url() -> str:
    url = os.environ.get("TEXT_INBOUND_URL", "")
    if not url:
        raise Unavailable("buying a number needs TEXT_INBOUND_URL (the texting inbound webhook), which this deployment lacks",
                          code="inbound-url-missing")  # fmt: skip
    return url


def buy(tenant_id: str, account: dict[str, Any], *, area_code: str | None, notes: str | None, forward_to: str | None = None,
        alert: bool = False, logging: bool = False) -> dict[str, Any]:  # fmt: skip
    """Buy an SMS-capable number into ``account`` (in ``area_code`` if given) and store it; its SMS and status
    webhooks point at ``TEXT_INBOUND_URL``. 422 when Twilio has no number there; 502 when Twilio fails."""
    from parley.providers import twilio_rest

    webhook = inbound_url()
    sid, token = account_auth(tenant_id, account["id"])
    try:
        offer = twilio_rest.available_number(sid, token, area_code)
        if offer is None:
            where = f" in area code {area_code}" if area_code else ""
            raise Unprocessable(
                f"Twilio has no SMS-capable number for sale{where}", pointer=pointer("area-code"), code="no-number-available"
            )
        bought = twilio_rest.buy_number(sid, token, offer["phone_number"], sms_url=webhook, status_url=webhook, friendly_name=notes or "")
    except twilio_rest.TwilioError as err:
        raise twilio_failure(err, "buy a number") from None
    capabilities = bought.get("capabilities") or offer.get("capabilities") or {}
    number_id, now = new_id(), clock.iso(clock.now())
    item = store.number_item(
        tenant_id,
        number_id,
        {
            "account_id": account["id"],
            "organization_id": account["organization_id"],
            "phone_number": bought["phone_number"],
            "twilio_id": bought["sid"],
            # IncomingPhoneNumbers spells them sms/mms/voice, AvailablePhoneNumbers SMS/MMS/voice
            "capability_sms": bool(capabilities.get("sms", capabilities.get("SMS"))),
            "capability_mms": bool(capabilities.get("mms", capabilities.get("MMS"))),
            "capability_voice": bool(capabilities.get("voice", capabilities.get("Voice"))),
            "lata": offer.get("lata"),
            "latitude": _text(offer.get("latitude")),
            "longitude": _text(offer.get("longitude")),
            "postal_code": offer.get("postal_code"),
            "rate_center": offer.get("rate_center"),
            "region": offer.get("region"),
            "notes": notes,
            "forward_to": forward_to,
            "alert": alert,
            "logging": logging,
            "events": {},
            "created_at": now,
            "last_modified_at": now,
        },
    )
    try:
        store.create_number(item)
    except Exception as err:
        _give_back(sid, token, bought["sid"])  # a number Parley cannot route is not kept (nor paid for)
        if store.lost_race(err):
            raise Conflict(f"{bought['phone_number']} is routed to another number already", code="number-taken") from None
        raise
    return item


def _give_back(sid: str, token: str, number_sid: str) -> None:
    from aws_lambda_powertools import Logger

    from parley.providers import twilio_rest

    try:
        twilio_rest.release_number(sid, token, number_sid)
    except twilio_rest.TwilioError as err:  # the original failure is what the caller hears; this one is logged
        Logger(child=True).error("a bought number could not be released", extra={"number_sid": number_sid, "error": err.message})


def create(tenant_id: str, region: str, attrs: TextNumberCreate, *, idempotency_key: str | None = None,
           lambda_context: Any = None) -> tuple[str, TextNumberAttributes]:  # fmt: skip
    """Buy a number into ``attrs.account_id``. An ``Idempotency-Key`` makes a retried create answer the first number
    (one purchase)."""
    from parley.domain.idempotency import run_once

    done = run_once(tenant_id=tenant_id, scope="courier.text-account-numbers.create", key=idempotency_key,
                    payload=attrs.model_dump(mode="json"), fn=lambda: {"id": _create(tenant_id, region, attrs)},
                    lambda_context=lambda_context)  # fmt: skip
    return get(tenant_id, done["id"], consistent=True)


def _create(tenant_id: str, region: str, attrs: TextNumberCreate) -> str:
    if not attrs.account_id:
        raise Unprocessable("account-id is required", pointer=pointer("account-id"), code="missing-member")
    account = store.get_account(tenant_id, attrs.account_id, consistent=True)
    if account is None:
        raise Unprocessable(f"no text-account {attrs.account_id!r}", pointer=pointer("account-id"), code="unknown-account")
    forward = e164(attrs.forward_to, region, pointer=pointer("forward-to")) if attrs.forward_to else None
    item = buy(
        tenant_id, account, area_code=attrs.area_code, notes=attrs.notes, forward_to=forward, alert=attrs.alert, logging=attrs.logging
    )
    return str(item["id"])


def stored_number(tenant_id: str, number_id: str, *, consistent: bool = False) -> dict[str, Any]:
    found = store.get_number(tenant_id, number_id, consistent=consistent)
    if found is None:
        raise NotFound(f"no text-account-number {number_id!r}", code="not-found")
    return found


def get(tenant_id: str, number_id: str, *, consistent: bool = False) -> tuple[str, TextNumberAttributes]:
    return number_id, view(stored_number(tenant_id, number_id, consistent=consistent))


def page(tenant_id: str, region: str, *, account_id: str | None, phone: str | None, parameter: str, offset: int,
         limit: int) -> tuple[list[tuple[str, TextNumberAttributes]], int]:  # fmt: skip
    """The tenant's numbers (of ``account_id`` if given), newest first; ``phone`` (E.164 or the tenant's national
    form) → the one number routed there, if it is this tenant's."""
    if phone is not None:
        wanted = e164(phone, region, parameter=parameter)
        routed = store.route(wanted)
        found = store.get_number(tenant_id, routed["number_id"]) if routed and routed["tenant_id"] == tenant_id else None
        matches = [found] if found and (not account_id or found["account_id"] == account_id) else []
        return [(n["id"], view(n)) for n in matches[offset : offset + limit]], len(matches)
    items, total = store.numbers(tenant_id, account_id, offset=offset, limit=limit)
    return [(i["id"], view(i)) for i in items], total


def update(tenant_id: str, region: str, number_id: str, attrs: TextNumberUpdate) -> tuple[str, TextNumberAttributes]:
    stored_number(tenant_id, number_id)
    sent = attrs.model_fields_set
    changes: dict[str, Any] = {}
    remove: list[str] = []
    for name in ("alert", "logging"):
        if name in sent:
            value = getattr(attrs, name)
            if value is None:
                raise BadRequest(f"{name.replace('_', '-')} cannot be null", pointer=pointer(name), code="invalid-member")
            changes[name] = value
    if "notes" in sent:
        if attrs.notes is not None:
            changes["notes"] = attrs.notes
        else:
            remove.append("notes")
    if "forward_to" in sent:
        if attrs.forward_to:
            changes["forward_to"] = e164(attrs.forward_to, region, pointer=pointer("forward-to"))
        else:
            remove.append("forward_to")
    if "events" in sent:
        events: dict[str, Any] = {}
        rule = attrs.events.unknown_number if attrs.events else None
        if rule is not None:
            rule_out = rule.model_dump(exclude_none=True)
            if rule.to:
                rule_out["to"] = e164(rule.to, region, pointer=pointer("events/unknown-number/to"))
            if rule.action == "reply" and not rule.message:
                raise Unprocessable("events.unknown-number: a reply needs a message", pointer=pointer("events/unknown-number/message"),
                                    code="missing-member")  # fmt: skip
            events["unknown-number"] = rule_out
        changes["events"] = events
    changes["last_modified_at"] = clock.iso(clock.now())
    try:
        updated = store.update_number(tenant_id, number_id, changes, remove)
    except Exception as err:
        if store.lost_race(err):
            raise NotFound(f"no text-account-number {number_id!r}", code="not-found") from None
        raise
    return number_id, view(updated)


def reset_logs(tenant_id: str, number_id: str) -> tuple[str, TextNumberAttributes]:
    stored = stored_number(tenant_id, number_id)
    store.delete_partition(store.log_pk(tenant_id, number_id))
    return number_id, view(stored)


def log_page(tenant_id: str, number_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, NumberLogAttributes]], int]:
    stored = store.get_number(tenant_id, number_id)
    if stored is None:
        raise NotFound(f"no text-account-number {number_id!r}", parameter="number-id", code="not-found")
    items, total = store.logs(tenant_id, number_id, offset=offset, limit=limit)
    return [(i["id"], NumberLogAttributes(created_at=i["created_at"], log=i["log"])) for i in items], total


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


# ── text-user-number-maps ──


def map_view(stored: dict[str, Any]) -> NumberMapAttributes:
    return NumberMapAttributes(
        created_at=stored["created_at"], number_id=stored["number_id"], organization_id=stored["organization_id"], user_id=stored["user_id"]
    )


def create_map(tenant_id: str, attrs: NumberMapCreate) -> tuple[str, NumberMapAttributes]:
    """A user's number in an organization: the number must be the tenant's and of that organization's account, the
    user and the organization the tenant's (422 naming the member); one map per user and organization (409)."""
    from parley.dal import directory as people

    for name in ("number_id", "organization_id", "user_id"):
        if getattr(attrs, name) is None:
            member = name.replace("_", "-")
            raise Unprocessable(f"{member} is required", pointer=pointer(member), code="missing-member")
    number = store.get_number(tenant_id, attrs.number_id or "")
    if number is None:
        raise Unprocessable(f"no text-account-number {attrs.number_id!r}", pointer=pointer("number-id"), code="unknown-number")
    if people.get(tenant_id, "organizations", attrs.organization_id or "") is None:
        raise Unprocessable(f"no organization {attrs.organization_id!r}", pointer=pointer("organization-id"), code="unknown-organization")
    if number.get("organization_id") != attrs.organization_id:
        raise Unprocessable(
            "the number belongs to another organization's account", pointer=pointer("number-id"), code="number-of-another-organization"
        )
    if people.get(tenant_id, "users", attrs.user_id or "") is None:
        raise Unprocessable(f"no user {attrs.user_id!r}", pointer=pointer("user-id"), code="unknown-user")
    map_id, now = new_id(), clock.iso(clock.now())
    item = {"tenant_id": tenant_id, "id": map_id, "number_id": attrs.number_id, "organization_id": attrs.organization_id,
            "user_id": attrs.user_id, "created_at": now}  # fmt: skip
    try:
        store.create_map(item)
    except Exception as err:
        if store.lost_race(err):
            raise Conflict("the user has a number in this organization already", pointer=pointer("user-id"), code="map-exists") from None
        raise
    return map_id, map_view(item)


def get_map(tenant_id: str, map_id: str) -> tuple[str, NumberMapAttributes]:
    found = store.get_map(tenant_id, map_id)
    if found is None:
        raise NotFound(f"no text-user-number-map {map_id!r}", code="not-found")
    return map_id, map_view(found)


def map_page(tenant_id: str, *, number_id: str | None, organization_id: str | None, user_id: str | None, offset: int,
             limit: int) -> tuple[list[tuple[str, NumberMapAttributes]], int]:  # fmt: skip
    items, total = store.maps(tenant_id, number_id=number_id, organization_id=organization_id, user_id=user_id, offset=offset, limit=limit)
    return [(i["id"], map_view(i)) for i in items], total


# ── purge ──


def purge_person(tenant_id: str, *, user_ids: Iterable[str] = (), phones: Iterable[str] = ()) -> dict[str, int]:
    """Erase what texting accounts and numbers keep about a person (``parley.domain.purge``): the users' number maps,
    the lookups of their phone numbers (E.164), and the number log lines that name one of those phones (each of the
    tenant's numbers' log partition, queried with a filter). Accounts and numbers are the organization's, not a
    person's, and stay."""
    erased = {"text_number_maps": 0, "text_number_info": 0, "text_number_logs": 0}
    for user_id in sorted(set(user_ids)):
        for mapped in store.user_maps(tenant_id, user_id):
            store.delete_map(mapped)
            erased["text_number_maps"] += 1
    wanted = sorted(set(phones))
    for phone in wanted:
        erased["text_number_info"] += store.delete_info(tenant_id, phone)
    if wanted:
        for number in store.all_numbers(tenant_id):
            erased["text_number_logs"] += store.delete_logs_naming(tenant_id, number["id"], wanted)
    return erased
