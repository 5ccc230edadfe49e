"""User notifications (seed 003 ``user-notifications``, ``user-notification-counts``; docs/courier.md "User
notifications and badges"): a notification to one courier user, stored, counted in the user's day, and delivered over
push, SMS and email.

``notify`` is the one way a notification is made (multicasts call it per recipient, with a deterministic id):

1. **store, once**: the notification and its day's count in one transaction, conditional on the id being new. A
   redelivered call finds it and goes on with the transports not yet done (``deliveries`` on the item says which).
2. **push** (``parley.domain.push.deliver``): every device of the user that allows notifications, with the individual's
   badge total (``badges.total``) and the notification id as collapse id; idempotent per device there.
3. **SMS**, one message per ``data.sms.bodies[]`` item, when ``sms`` is among the user's ``notifications``, its
   ``sms-mode`` is not ``disabled``, it has a phone that is not ``phone-unsubscribed`` and that number is opted in (the
   SMS opt-in store, as every SMS): through the send pipeline (a QUEUED message on the send queue; held until the
   user's sending window when the tenant keeps quiet hours, in the user's ``tz``).
4. **email**, when ``email`` is among the user's ``notifications``, it has an email address, the notification carries
   an email and the address is not suppressed: through the send pipeline.

SMS and email messages have deterministic ids (``uuid5`` of the notification id, the transport and the body's index),
and a message is created only if its id is new (``attribute_not_exists``): a retried transport finds its message and
never queues a second one. What each transport did is recorded on the notification (``deliveries``) in one write
once they are done; a call killed before it is repeated whole, and every transport finds its own work done.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from parley import clock
from parley.dal import directory as people
from parley.dal import notifications as store
from parley.errors import NotFound, ParleyError
from parley.models.notifications import EmailContent, NotificationData
from parley.models.user_notifications import Delivery, NotificationCountAttributes, UserNotificationAttributes

ACTIVE_DAYS = 30  # a notification is active this long after it was made; older ones only with include[inactive]
SOURCE_API = "courier"
TRANSPORTS = ("push", "sms", "email")
_NAMESPACE = uuid.UUID("2d6f5c1a-8e3b-4f7a-9c0d-5b1e4a7f3c92")


@dataclass
class NotifyResult:
    notification_id: str
    created: bool  # False: the notification existed (a redelivered call)
    deliveries: dict[str, dict[str, Any]] = field(default_factory=dict)  # per transport: outcome, reason, message_ids, devices


def message_id(notification_id: str, transport: str, index: int = 0) -> str:
    """The send pipeline message of a notification's SMS body ``index`` or its email: the same id every time."""
    return str(uuid.uuid5(_NAMESPACE, f"{notification_id}\n{transport}\n{index}"))


# ───────────── notify ─────────────
def notify(
    tenant_id: str,
    *,
    notification_id: str,
    user_id: str,
    individual_id: str | None,
    organization_id: str | None,
    category: str | None,
    data: NotificationData,
    email: EmailContent | None,
    source: dict[str, str],
) -> NotifyResult:
    """Make the notification ``notification_id`` for ``user_id`` and deliver it (module docstring). Idempotent: a second
    call with the same id delivers only what the first did not, and never sends anything twice."""
    user_item = people.get(tenant_id, "users", user_id)
    user = _effective(user_item) if user_item else {}
    now = clock.iso(clock.now())
    fields = {
        "user_id": user_id,
        "individual_id": individual_id,
        "organization_id": organization_id,
        "category": category,
        "data": data.model_dump(mode="json", exclude_none=True),
        "email": email.model_dump(mode="json") if email else None,
        "acknowledged": False,
        "created_at": now,
        "user_first_name": user.get("first-name"),
        "user_last_name": user.get("last-name"),
        "source": {str(k): str(v) for k, v in source.items()} or None,
        "deliveries": {},
    }
    created = store.create(store.item(tenant_id, notification_id, fields))
    stored = store.get(tenant_id, notification_id, consistent=True) if not created else store.item(tenant_id, notification_id, fields)
    if stored is None:  # created, then purged before we read it: nothing left to deliver
        return NotifyResult(notification_id, created)
    if stored.get("user_id") != user_id:
        raise ValueError(f"notification {notification_id!r} exists for another user")
    payload = NotificationData.model_validate(json.loads(stored.get("data") or "{}"))
    mail = EmailContent.model_validate(json.loads(stored["email"])) if stored.get("email") else None
    done: dict[str, Any] = dict(stored.get("deliveries") or {})
    result = NotifyResult(notification_id, created, {k: v for k, v in done.items()})
    pending = [t for t in TRANSPORTS if t not in done]
    if not pending:
        return result
    caller = _caller(tenant_id) if {"sms", "email"} & set(pending) else None
    fresh: dict[str, dict[str, Any]] = {}
    for transport in pending:
        if transport == "push":
            delivery = _push(tenant_id, notification_id, user_id, stored.get("individual_id"), payload)
        elif transport == "sms":
            delivery = _sms(caller, notification_id, user_id, user, payload)
        else:
            delivery = _email(caller, notification_id, user_id, user, mail)
        delivery["at"] = clock.iso(clock.now())
        fresh[transport] = delivery
    # One write records them all: a call killed before it repeats every transport, and each finds its own work done
    # (the messages' deterministic ids, push's per-device claims), so nothing is sent twice.
    from parley.domain.communication_summaries import provider_message_count

    store.record_deliveries(tenant_id, notification_id, fresh, individual_id=stored.get("individual_id"),
                            provider_messages=provider_message_count(fresh))  # fmt: skip
    result.deliveries.update(fresh)
    return result


def _effective(user_item: dict[str, Any]) -> dict[str, Any]:
    from parley.domain.directory import effective

    return effective(user_item)


def _caller(tenant_id: str) -> Any:
    from parley.dal import tenants
    from parley.domain.context import Caller

    tenant = tenants.cached(tenant_id)
    if tenant is None:
        raise NotFound(f"no tenant {tenant_id!r}")
    return Caller.of(tenant)


def _skipped(reason: str) -> dict[str, Any]:
    return {"outcome": "skipped", "reason": reason, "message_ids": [], "devices": []}


def _push(tenant_id: str, notification_id: str, user_id: str, individual_id: str | None, data: NotificationData) -> dict[str, Any]:
    """Every allowed device of the user (``parley.domain.push.deliver``), with the individual's badge total."""
    if data.apn is None and data.fcm is None and data.web is None:
        return _skipped("the notification has no push payload (data.apn, data.fcm, data.web)")
    try:
        from parley.domain import push  # the push transport (docs/courier.md "Push credentials and devices")
    except ImportError:
        return {"outcome": "failed", "reason": "the push transport is not installed", "message_ids": [], "devices": []}
    from parley.domain import badges

    attempts = push.deliver(
        tenant_id,
        user_id,
        notification_id,
        data,
        badge=badges.total(tenant_id, individual_id) if data.apn else None,
        collapse_id=notification_id,
    )
    devices = [
        {k: v for k, v in (("device_id", getattr(a, "device_id", None)), ("transport", getattr(a, "transport", None)),
                           ("outcome", getattr(a, "outcome", None)), ("reason", getattr(a, "reason", None))) if v is not None}
        for a in attempts
    ]  # fmt: skip
    outcomes = {d.get("outcome") for d in devices}
    if not devices:
        return _skipped("the user has no device that allows notifications")
    if outcomes & {"sent", "duplicate"}:
        outcome = "sent"
    elif outcomes <= {"skipped", "disabled"}:
        outcome = "skipped"
    else:
        outcome = "failed"
    return {"outcome": outcome, "reason": None, "message_ids": [], "devices": devices}


def _wants(user: dict[str, Any], transport: str) -> bool:
    channels = user.get("notifications")
    return isinstance(channels, list) and transport in channels


def _sms(caller: Any, notification_id: str, user_id: str, user: dict[str, Any], data: NotificationData) -> dict[str, Any]:
    from parley.dal import optins as optin_state
    from parley.domain import phones, quiet_hours

    bodies = [b for b in (data.sms.bodies if data.sms else []) if b.strip()]
    if not bodies:
        return _skipped("the notification has no SMS body (data.sms.bodies)")
    if not _wants(user, "sms"):
        return _skipped("the user's notifications do not include sms")
    if str(user.get("sms-mode") or "").lower() == "disabled":
        return _skipped("the user's sms-mode is disabled")
    if user.get("phone-unsubscribed") is True:
        return _skipped("the user's phone is unsubscribed")
    try:
        phone = phones.optional(user.get("phone"), caller.default_country)
    except ParleyError:
        return _skipped("the user's phone is not a phone number")
    if not phone:
        return _skipped("the user has no phone")
    state = optin_state.get_state(caller.tenant_id, phone)
    if state is None:
        return _skipped(f"{phone} has not opted in to SMS")
    if not state.get("opted_in"):
        return _skipped(f"{phone} has opted out of SMS")
    from parley.dal import messages
    from parley.domain import emails, sms

    ids, held = [], False
    for index, body in enumerate(bodies):
        msg = emails.new_outbound(
            caller, "sms", source_api=SOURCE_API, recipient=phone, message_id=message_id(notification_id, "sms", index), body=body,
            created_by=user_id,
        )  # fmt: skip
        until = None
        if caller.quiet_hours:
            tz_name, tz = quiet_hours.zone(user.get("tz"), caller.timezone)
            until = quiet_hours.next_allowed(msg.created_at, tz)
        if until is None:
            made = _once(lambda m=msg: emails.submit(m))
        elif messages.get(caller.tenant_id, msg.id, load_body=False) is None:  # (holding notes an event first: not twice)
            made = _once(lambda m=msg, u=until, z=tz_name: sms.hold_for_quiet_hours(m, u, z))
        else:
            made = False
        if made:
            held = held or until is not None
        else:  # made by an earlier call: held if it is still waiting for its schedule
            earlier = messages.get(caller.tenant_id, msg.id, load_body=False)
            held = held or (earlier is not None and earlier.status.value == "SCHEDULED")
        ids.append(msg.id)
    return {"outcome": "held" if held else "queued", "reason": "quiet hours" if held else None, "message_ids": ids, "devices": []}


def _email(caller: Any, notification_id: str, user_id: str, user: dict[str, Any], mail: EmailContent | None) -> dict[str, Any]:
    from parley.domain import emails
    from parley.errors import Suppressed

    if mail is None:
        return _skipped("the notification has no email")
    if not _wants(user, "email"):
        return _skipped("the user's notifications do not include email")
    address = str(user.get("email") or "").strip()
    if not address:
        return _skipped("the user has no email address")
    msg = emails.new_outbound(
        caller, "email", source_api=SOURCE_API, recipient=address, message_id=message_id(notification_id, "email"),
        sender_name=caller.sender_name, subject=mail.subject, body=mail.html, body_text=mail.text, created_by=user_id,
    )  # fmt: skip
    try:
        _once(lambda: emails.submit(msg))
    except Suppressed as err:
        from parley.dal import messages

        if messages.get(caller.tenant_id, msg.id, load_body=False) is None:  # (not queued by an earlier call either)
            return _skipped(str(err))
    return {"outcome": "queued", "reason": None, "message_ids": [msg.id], "devices": []}


def _once(send: Any) -> bool:
    """Run a message's create-and-queue; False when its message exists already (an earlier call made it: nothing is
    sent again; the sweeper queues a message whose queueing was lost)."""
    try:
        send()
    except Exception as err:
        if store.lost_race(err):
            return False
        raise
    return True


# ───────────── read, acknowledge ─────────────
def _active_since(now: Any = None) -> str:
    return clock.iso((now or clock.now()) - timedelta(days=ACTIVE_DAYS))


def stored_of(tenant_id: str, user_id: str, notification_id: str, *, consistent: bool = False) -> dict[str, Any]:
    """The user's notification; 404 when the tenant has none or it is another user's (a user sees only their own)."""
    found = store.get(tenant_id, notification_id, consistent=consistent)
    if found is None or found.get("user_id") != user_id:
        raise NotFound(f"no user-notification {notification_id!r}", code="not-found")
    return found


def get(tenant_id: str, user_id: str, notification_id: str) -> tuple[str, UserNotificationAttributes]:
    return notification_id, view(stored_of(tenant_id, user_id, notification_id))


def page(
    tenant_id: str,
    user_id: str,
    *,
    include_inactive: bool,
    acknowledged: bool | None,
    category: str | None,
    individual_id: str | None,
    organization_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[tuple[str, UserNotificationAttributes]], int]:
    """A page of the user's notifications, newest first (active ones only unless ``include_inactive``)."""
    items, total = store.page(
        tenant_id, user_id, since=None if include_inactive else _active_since(), acknowledged=acknowledged, category=category,
        individual_id=individual_id, organization_id=organization_id, offset=offset, limit=limit,
    )  # fmt: skip
    now = clock.now()
    return [(i["id"], view(i, now)) for i in items], total


def acknowledge(tenant_id: str, user_id: str, notification_id: str, *, previous: bool) -> tuple[str, UserNotificationAttributes]:
    """Mark the notification read; with ``previous`` also every earlier one of the user (created before it)."""
    stored = stored_of(tenant_id, user_id, notification_id, consistent=True)
    now = clock.iso(clock.now())
    store.acknowledge(tenant_id, notification_id, now)
    if previous:
        for key in store.unacknowledged_before(tenant_id, user_id, stored["GSI3SK"]):
            store.acknowledge(tenant_id, key["PK"].rsplit("#", 1)[1], now)
    return notification_id, view(stored_of(tenant_id, user_id, notification_id, consistent=True))


def view(stored: dict[str, Any], now: Any = None) -> UserNotificationAttributes:
    deliveries = {
        t: Delivery(outcome=d.get("outcome", ""), reason=d.get("reason"), message_ids=list(d.get("message_ids") or []),
                    devices=[dict(x) for x in d.get("devices") or []], at=d.get("at", ""))
        for t, d in (stored.get("deliveries") or {}).items()
    }  # fmt: skip
    return UserNotificationAttributes(
        acknowledged=bool(stored.get("acknowledged")),
        active=stored["created_at"] >= _active_since(now),
        created_at=stored["created_at"],
        data=NotificationData.model_validate(json.loads(stored.get("data") or "{}")),
        individual_id=stored.get("individual_id"),
        organization_id=stored.get("organization_id"),
        user_first_name=stored.get("user_first_name"),
        user_id=stored["user_id"],
        user_last_name=stored.get("user_last_name"),
        category=stored.get("category"),
        deliveries=deliveries,
    )


# ───────────── daily counts ─────────────
def counts(
    tenant_id: str, user_id: str | None, *, after: Any, before: Any, offset: int, limit: int
) -> tuple[list[NotificationCountAttributes], int]:
    """Daily counts (UTC days) of the user (or, with ``user_id`` None, of every user of the tenant) whose day lies in
    the window: a bound is read as its UTC day (``>=2024-01-01T10:00Z`` takes 2024-01-01 whole)."""
    first = after.astimezone(clock.UTC).date().isoformat() if after else "0000-00-00"
    last = before.astimezone(clock.UTC).date().isoformat() if before else "9999-12-31"
    if user_id is not None:
        items, total = store.counts_of_user(tenant_id, user_id, first, last, offset=offset, limit=limit)
    else:
        items, total = store.counts_of_tenant(tenant_id, first, last, offset=offset, limit=limit)
    return [NotificationCountAttributes(count=int(i["n"]), daily_for_date=i["day"], user_id=i["user_id"]) for i in items], total
