"""Alexa (seed 003's ask-*; docs/courier.md "Alexa (issue 20)").

- **skills**: a tenant registers its Alexa skill (``register_skill``: ``python -m parley.admin ask-skill``): its
  application id (``amzn1.ask.skill.…``), the organization it serves, and its Login-with-Amazon client id and secret
  (Secrets Manager ``parley/alexa/<tenant>/<skill id>``). The skill's endpoint is ``/v1/ask-entries/?tenant=<tenant>``.
- **ask-entries** (``handle``): every request verified as Amazon requires (``parley.providers.alexa.verify``), its
  skill known, its request id never seen before (a replay is refused) — else 400 and nothing written; then the skill
  event is applied (subscriptions created, changed, removed, linked to a Parley user) and a valid ASK response answered.
- **ask-subscriptions**: created by Alexa's skill events, never by the API; ``send`` pushes a Proactive Event to the
  subscribed Alexa user with the skill's LWA client credentials.
- **ask-reminders**: an individual's reminders (local time, IANA zone, RRULE) synced to the Alexa Reminders API through
  the acting user's linked subscription; ``synced-to-alexa`` says whether the last sync went through.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from parley import clock
from parley.dal import ask as store
from parley.errors import BadRequest, Conflict, NotFound, ParleyError, Unprocessable
from parley.models.ask import (
    ReminderAttributes,
    ReminderCreateAttributes,
    ReminderPatchAttributes,
    SendBody,
    SubscriptionAttributes,
)

EVENTS_SCOPE = "alexa::proactive_events"
REMINDERS_SCOPE = "alexa::alerts:reminders:skill:readwrite"
REQUEST_TTL_SECONDS = 86_400
_SUBSCRIBING = ("AlexaSkillEvent.SkillEnabled", "AlexaSkillEvent.ProactiveSubscriptionChanged", "AlexaSkillEvent.SkillAccountLinked")
_KEYS = ("PK", "SK", "type", "GSI3PK", "GSI3SK", "GSI4PK", "GSI4SK")


class AlexaFailed(ParleyError):
    """Amazon refused or could not be reached: a 502 of ours (code ``alexa-failed``), never a 500."""

    status = 502


# ───────────── skills ─────────────
def secret_name(tenant_id: str, skill_id: str) -> str:
    return f"parley/alexa/{tenant_id}/{skill_id}"


def register_skill(
    tenant_id: str, organization_id: str, alexa_app_id: str, client_id: str, client_secret: str, *, development: bool = False
) -> str:
    """Register (or re-register: same id, new secret) the tenant's skill; its id (the seed's ``skill-id``)."""
    from parley.dal import secrets
    from parley.domain.channels import require_organization

    if not alexa_app_id.startswith("amzn1.ask.skill.") or len(alexa_app_id) > 128:
        raise Unprocessable("the Alexa application id looks like amzn1.ask.skill.<uuid>", code="invalid-alexa-app-id")
    if not client_id or not client_secret:
        raise Unprocessable("the skill's LWA client id and secret are required", code="missing-member")
    require_organization(tenant_id, organization_id)
    current = store.skill(tenant_id, alexa_app_id)
    skill_id = current["id"] if current else str(uuid.uuid4())
    name = secret_name(tenant_id, skill_id)
    secrets.put_tenant_secret(name, {"client-id": client_id, "client-secret": client_secret})
    store.put_skill({"id": skill_id, "tenant_id": tenant_id, "organization_id": organization_id, "alexa_app_id": alexa_app_id,
                     "secret_name": name, "development": development,
                     "created_at": current["created_at"] if current else clock.iso(clock.now())})  # fmt: skip
    return skill_id


def _credentials(skill: dict[str, Any]) -> tuple[str, str]:
    from parley.dal import secrets

    try:
        value = secrets.named_secret(skill["secret_name"])
    except LookupError as err:
        raise AlexaFailed(f"the skill's LWA credentials cannot be read: {err}", code="alexa-credentials") from None
    return str(value.get("client-id") or ""), str(value.get("client-secret") or "")


def _token(skill: dict[str, Any], scope: str) -> str:
    from parley.providers import alexa

    client_id, client_secret = _credentials(skill)
    return alexa.access_token(client_id, client_secret, scope)


# ───────────── ask-entries ─────────────
def _member(envelope: dict[str, Any], *path: str) -> Any:
    node: Any = envelope
    for name in path:
        if not isinstance(node, dict):
            return None
        node = node.get(name)
    return node


def _speech(text: str) -> dict[str, Any]:
    return {"version": "1.0", "response": {"outputSpeech": {"type": "PlainText", "text": text}, "shouldEndSession": True}}


def handle(tenant_id: str | None, body: bytes, headers: dict[str, str], *, now: datetime | None = None) -> dict[str, Any]:
    """The ASK response to a verified request; ``BadRequest`` (nothing written) for anything Amazon did not sign now,
    a skill the tenant did not register, or a request id seen before."""
    from parley.providers import alexa

    now = now or clock.now()
    if tenant_id is None:
        raise BadRequest("the skill endpoint needs ?tenant=<tenant id>", parameter="tenant", code="missing-tenant")
    try:
        envelope = alexa.verify(body, headers, now)
    except alexa.InvalidRequest as err:
        raise BadRequest(f"not a valid Alexa request: {err}", code="invalid-alexa-request") from None
    app_id = _member(envelope, "context", "System", "application", "applicationId") or _member(
        envelope, "session", "application", "applicationId"
    )
    skill = store.skill(tenant_id, app_id) if isinstance(app_id, str) and app_id else None
    if skill is None:
        raise BadRequest("the request is for a skill this tenant did not register", code="unknown-skill")
    request = envelope["request"]
    request_id, request_type = request.get("requestId"), request.get("type")
    if not isinstance(request_id, str) or not request_id or len(request_id) > 256 or not isinstance(request_type, str):
        raise BadRequest("request.requestId and request.type are required", code="invalid-alexa-request")
    user = _member(envelope, "context", "System", "user") or _member(envelope, "session", "user") or {}
    alexa_user = user.get("userId") if isinstance(user, dict) else None
    recorded = store.record_request(
        tenant_id, app_id, request_id,
        {"request_type": request_type, "alexa_user_id": alexa_user, "timestamp": request["timestamp"],
         "received_at": clock.iso(now), "ttl": int(now.timestamp()) + REQUEST_TTL_SECONDS},
    )  # fmt: skip
    if not recorded:
        raise BadRequest("this request was received before (a replay)", code="replayed-request")
    if isinstance(alexa_user, str) and alexa_user:
        _apply(tenant_id, skill, request, alexa_user, user, now)
    return _answer(request_type, request)


def _answer(request_type: str, request: dict[str, Any]) -> dict[str, Any]:
    if request_type == "LaunchRequest":
        return _speech("Welcome. Your care team's updates and reminders will reach you here.")
    if request_type == "IntentRequest":
        intent = _member(request, "intent", "name")
        if intent in ("AMAZON.StopIntent", "AMAZON.CancelIntent"):
            return _speech("Goodbye.")
        return _speech("You can ask me to open your care team's updates. Reminders you set with your care team come here too.")
    return {"version": "1.0", "response": {}}  # SessionEndedRequest and skill events: nothing to say


def _linked_user(tenant_id: str, user: dict[str, Any]) -> str | None:
    """The Parley user whose token is the Alexa user's linked account token, when it is one of this tenant's."""
    token = user.get("accessToken") if isinstance(user, dict) else None
    if not isinstance(token, str) or not token:
        return None
    from parley.domain import user_tokens

    checked = user_tokens.check(token)
    if checked is None or checked[0].tenant_id != tenant_id:
        return None
    return checked[0].user_id or None


def _apply(tenant_id: str, skill: dict[str, Any], request: dict[str, Any], alexa_user: str, user: dict[str, Any], now: datetime) -> None:
    kind = request["type"]
    sub_id = str(uuid.uuid5(uuid.UUID(skill["id"]), alexa_user))
    current = store.subscription(tenant_id, sub_id, consistent=True)
    stamp = str(request["timestamp"])
    if current is not None and str(current.get("event_at", "")) > stamp:
        return  # an older event than the one applied: Amazon does not order its deliveries
    if kind == "AlexaSkillEvent.SkillDisabled" or (
        kind == "AlexaSkillEvent.ProactiveSubscriptionChanged" and not _member(request, "body", "subscriptions")
    ):
        if current is not None:
            store.delete_subscription(tenant_id, sub_id)
        return
    events: list[str] | None = None
    if kind == "AlexaSkillEvent.ProactiveSubscriptionChanged":
        events = sorted(
            {s["eventName"] for s in request["body"]["subscriptions"] if isinstance(s, dict) and isinstance(s.get("eventName"), str)}
        )
    linked = _linked_user(tenant_id, user)
    if kind == "AlexaSkillEvent.SkillAccountLinked":
        linked = linked or _linked_user(tenant_id, {"accessToken": _member(request, "body", "accessToken")})
    if kind not in _SUBSCRIBING and (current is None or not linked or linked == current.get("user_id")):
        return  # a request of a user without a subscription (or nothing new about one): recorded, nothing else
    at = clock.iso(now)
    item = {k: v for k, v in (current or {}).items() if k not in _KEYS} or {
        "id": sub_id, "tenant_id": tenant_id, "organization_id": skill["organization_id"], "skill_id": skill["id"],
        "alexa_app_id": skill["alexa_app_id"], "alexa_user_id": alexa_user, "registered_events": [], "created_at": at,
    }  # fmt: skip
    if events is not None:
        item["registered_events"] = events
    if linked:
        item["user_id"] = linked
    item.update({"last_modified_at": at, "event_at": stamp})
    store.put_subscription(item)


# ───────────── ask-subscriptions ─────────────
def subscription_view(item: dict[str, Any]) -> SubscriptionAttributes:
    return SubscriptionAttributes(
        alexa_app_id=item["alexa_app_id"], alexa_user_id=item["alexa_user_id"], created_at=item["created_at"],
        last_modified_at=item["last_modified_at"], organization_id=item["organization_id"],
        registered_events=list(item.get("registered_events") or []), skill_id=item["skill_id"], user_id=item.get("user_id"),
    )  # fmt: skip


def list_subscriptions(
    tenant_id: str, organization_id: str, *, skill_id: str | None, user_id: str | None, offset: int, limit: int
) -> tuple[list[tuple[str, SubscriptionAttributes]], int]:
    from parley.domain.channels import require_organization

    require_organization(tenant_id, organization_id, parameter="organization-id")
    items, total = store.subscriptions_of_org(tenant_id, organization_id, skill_id=skill_id, user_id=user_id, offset=offset, limit=limit)
    return [(i["id"], subscription_view(i)) for i in items], total


def require_subscription(tenant_id: str, sub_id: str) -> dict[str, Any]:
    item = store.subscription(tenant_id, sub_id)
    if item is None:
        raise NotFound(f"no ask-subscription {sub_id}", code="not-found")
    return item


def send(tenant_id: str, sub_id: str, body: SendBody, *, now: datetime | None = None) -> dict[str, Any]:
    """Push the Proactive Event to the subscription's Alexa user; the event as sent (for the caller's log)."""
    from parley.providers import alexa

    sub = require_subscription(tenant_id, sub_id)
    if body.event.name not in (sub.get("registered_events") or []):
        raise Conflict(f"the Alexa user is not subscribed to {body.event.name!r}", pointer="/event/name", code="not-subscribed")
    skill = store.skill(tenant_id, sub["alexa_app_id"])
    if skill is None:
        raise Conflict("the subscription's skill is no longer registered", code="unknown-skill")
    now = now or clock.now()
    event = {
        "timestamp": clock.iso(now),
        "referenceId": str(uuid.uuid4()),
        "expiryTime": clock.iso(now + timedelta(seconds=body.expire)),
        "event": {"name": body.event.name, "payload": body.event.payload},
        "localizedAttributes": body.localized,
        "relevantAudience": {"type": "Unicast", "payload": {"user": sub["alexa_user_id"]}},
    }
    try:
        alexa.send_event(_token(skill, EVENTS_SCOPE), event, development=bool(skill.get("development")))
    except alexa.AlexaError as err:
        raise AlexaFailed(f"the Proactive Events API refused the event: {err.message}", code="alexa-failed") from None
    return event


# ───────────── ask-reminders ─────────────
def reminder_view(item: dict[str, Any]) -> ReminderAttributes:
    return ReminderAttributes(
        account_id=item.get("account_id"), alexa_reminder_id=item.get("alexa_reminder_id"), created_at=item["created_at"],
        created_by=item.get("created_by"), individual_id=item["individual_id"], name=item.get("name"),
        reminder_content=item["reminder_content"], reminder_rrule=item.get("reminder_rrule"),
        reminder_time_local=item["reminder_time_local"], synced_to_alexa=bool(item.get("synced_to_alexa")), tz_info=item["tz_info"],
    )  # fmt: skip


def _pointer(member: str) -> str:
    return f"/data/attributes/{member}"


def _check_schedule(local: str, tz: str, rrule: str | None) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise Unprocessable(f"tz-info {tz!r} is not an IANA time zone", pointer=_pointer("tz-info"), code="invalid-tz-info") from None
    try:
        start = datetime.fromisoformat(local).replace(tzinfo=zone)
    except ValueError:
        raise Unprocessable("reminder-time-local is not a local date and time", pointer=_pointer("reminder-time-local"),
                            code="invalid-reminder-time") from None  # fmt: skip
    if rrule is not None:
        from dateutil.rrule import rrulestr

        text = rrule.removeprefix("RRULE:")
        if not re.fullmatch(r"[A-Za-z0-9=;,+-]+", text) or "FREQ=" not in text.upper():
            raise Unprocessable("reminder-rrule must be one RFC 5545 RRULE with FREQ (e.g. FREQ=WEEKLY;BYDAY=MO)",
                                pointer=_pointer("reminder-rrule"), code="invalid-rrule")  # fmt: skip
        try:
            rrulestr(text, dtstart=start)
        except (ValueError, TypeError) as err:
            raise Unprocessable(
                f"reminder-rrule is not an RFC 5545 RRULE: {err}", pointer=_pointer("reminder-rrule"), code="invalid-rrule"
            ) from None


def _alexa_reminder(item: dict[str, Any], alexa_user: str, now: datetime) -> dict[str, Any]:
    trigger: dict[str, Any] = {"type": "SCHEDULED_ABSOLUTE", "scheduledTime": item["reminder_time_local"], "timeZoneId": item["tz_info"]}
    if item.get("reminder_rrule"):
        trigger["recurrence"] = {"recurrenceRules": [str(item["reminder_rrule"]).removeprefix("RRULE:")]}
    return {
        "requestTime": clock.iso(now),
        "trigger": trigger,
        "alertInfo": {"spokenInfo": {"content": [{"locale": "en-US", "text": item["reminder_content"]}]}},
        "pushNotification": {"status": "ENABLED"},
        "relevantAudience": {"type": "Unicast", "payload": {"user": alexa_user}},
    }


def _sync(tenant_id: str, item: dict[str, Any], user_id: str, now: datetime) -> None:
    """Create or update the reminder at Alexa through the user's linked subscription; ``synced_to_alexa`` (and
    ``sync_error``, ours, not answered) record the outcome. Never raises for Amazon: the reminder is kept either way."""
    from parley.providers import alexa

    sub = None
    if item.get("account_id"):
        sub = store.subscription(tenant_id, item["account_id"])
    if sub is None:
        subs = store.subscriptions_of_user(tenant_id, user_id)
        sub = subs[-1] if subs else None
    skill = store.skill(tenant_id, sub["alexa_app_id"]) if sub else None
    if sub is None or skill is None:
        item.update({"synced_to_alexa": False, "sync_error": "the user has no linked Alexa account"})
        return
    item["account_id"] = sub["id"]
    body = _alexa_reminder(item, sub["alexa_user_id"], now)
    try:
        token = _token(skill, REMINDERS_SCOPE)
        if item.get("alexa_reminder_id"):
            alexa.update_reminder(token, item["alexa_reminder_id"], body)
        else:
            item["alexa_reminder_id"] = alexa.create_reminder(token, body)
    except (alexa.AlexaError, AlexaFailed) as err:
        item.update({"synced_to_alexa": False, "sync_error": str(err)[:500]})
        return
    item["synced_to_alexa"] = True
    item.pop("sync_error", None)


def create_reminder(tenant_id: str, attrs: ReminderCreateAttributes, *, user_id: str, individual_id: str) -> tuple[str, ReminderAttributes]:
    for name, member in (("reminder_content", "reminder-content"), ("reminder_time_local", "reminder-time-local"), ("tz_info", "tz-info")):
        if getattr(attrs, name) is None:
            raise Unprocessable(f"{member} is required", pointer=_pointer(member), code="missing-member")
    assert attrs.reminder_time_local is not None and attrs.tz_info is not None
    _check_schedule(attrs.reminder_time_local, attrs.tz_info, attrs.reminder_rrule)
    now = clock.now()
    item: dict[str, Any] = {
        "id": str(uuid.uuid4()), "tenant_id": tenant_id, "individual_id": individual_id, "name": attrs.name,
        "reminder_content": attrs.reminder_content, "reminder_rrule": attrs.reminder_rrule,
        "reminder_time_local": attrs.reminder_time_local, "tz_info": attrs.tz_info, "created_at": clock.iso(now),
        "created_by": user_id, "last_modified_at": clock.iso(now),
    }  # fmt: skip
    _sync(tenant_id, item, user_id, now)
    store.put_reminder({k: v for k, v in item.items() if v is not None})
    return item["id"], reminder_view(item)


def require_reminder(tenant_id: str, reminder_id: str, *, user_id: str) -> dict[str, Any]:
    """The reminder, when it is of one of the acting user's individuals; 404 otherwise (as an unknown id)."""
    from parley.domain import ownership

    item = store.reminder(tenant_id, reminder_id, consistent=True)
    if item is None or not ownership.owns(tenant_id, user_id, item["individual_id"]):
        raise NotFound(f"no ask-reminder {reminder_id}", code="not-found")
    return item


def update_reminder(tenant_id: str, reminder_id: str, attrs: ReminderPatchAttributes, *, user_id: str) -> ReminderAttributes:
    current = require_reminder(tenant_id, reminder_id, user_id=user_id)
    changes = attrs.model_dump(exclude_unset=True, by_alias=False)
    for name, value in changes.items():
        if value is None and name in ("reminder_content", "reminder_time_local", "tz_info"):
            raise Unprocessable(f"{name.replace('_', '-')} cannot be null", pointer=_pointer(name.replace("_", "-")), code="invalid-member")
    item = {k: v for k, v in current.items() if k not in _KEYS}
    item.update(changes)
    _check_schedule(item["reminder_time_local"], item["tz_info"], item.get("reminder_rrule"))
    now = clock.now()
    item["last_modified_at"] = clock.iso(now)
    _sync(tenant_id, item, user_id, now)
    store.put_reminder({k: v for k, v in item.items() if v is not None})
    return reminder_view(item)


def list_reminders(tenant_id: str, individual_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, ReminderAttributes]], int]:
    items, total = store.reminders_of_individual(tenant_id, individual_id, offset=offset, limit=limit)
    return [(i["id"], reminder_view(i)) for i in items], total


# ───────────── purge ─────────────
def purge(tenant_id: str, *, user_ids: set[str], individual_ids: set[str]) -> dict[str, int]:
    """A person's erasure (``parley.domain.purge``): the individuals' reminders are deleted (here; the copies at Alexa
    are the Alexa user's and stay there), and the subscriptions linked to the users are unlinked (``user_id`` removed:
    the Alexa user's subscription itself is Amazon's record of their consent, not about the person in Parley)."""
    done = {"ask_reminders": 0, "ask_subscriptions_unlinked": 0}
    for individual in sorted(individual_ids):
        for item in store.all_reminders_of_individual(tenant_id, individual):
            store.delete_reminder(tenant_id, item["id"])
            done["ask_reminders"] += 1
    for user in sorted(user_ids):
        for item in store.subscriptions_of_user(tenant_id, user):
            kept = {k: v for k, v in item.items() if k not in _KEYS and k != "user_id"}
            store.put_subscription(kept)
            done["ask_subscriptions_unlinked"] += 1
    return done
