"""Auto-responders (messaging-responders, seed 003; docs/courier.md "Messaging automation and scale" → "Responders").

A responder belongs to an organization and answers for one individual-group: while it is enabled, inside its
``start-at``/``end-at`` bounds and inside one of its ``calendar-args.rules`` (wall-clock windows in its own IANA time
zone), a message posted into a conversation with a member of the group gets one reply (``parley.domain.
channel_responders``, the channel-events hook). This module is the routes' domain and the calendar:

- ``active_period(responder, at)``: the start (UTC ISO) of the window ``at`` falls in, or None. The window's start is
  the period: one reply per (responder, conversation, period).
- windows are computed with ``zoneinfo`` for each local date, so a rule 09:00-17:00 America/New_York is 13:00-21:00
  UTC in summer and 14:00-22:00 UTC in winter, and the days of the transitions are 7 and 9 hours long when a window
  crosses 02:00. A wall time that does not exist (the spring gap) is read with the offset before the gap (02:30 →
  03:30 EDT); one that happens twice (the autumn overlap) is its first occurrence (``fold=0``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parley import clock
from parley.dal import responders as store
from parley.domain.ids import new_id
from parley.errors import Conflict, NotFound, Unprocessable

POINTER = "/data/attributes/"
TYPES = ("message",)  # the reply's kinds: ``message`` posts args.message (or its message-js translation)
MESSAGE_MAX = 4000
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAYS: dict[str, frozenset[int]] = {
    "everyday": frozenset(range(7)),
    "weekdays": frozenset(range(5)),
    "weekends": frozenset({5, 6}),
    **{name: frozenset({n}) for n, name in enumerate(WEEKDAYS)},
}
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?Z?$")
ALWAYS = "always"  # the period of a responder without rules and without start-at: its whole life


# ── the calendar ──
def parse_time(text: str) -> time | None:
    m = _TIME.match(text.strip())
    return time(int(m[1]), int(m[2]), int(m[3] or 0)) if m else None


def zone(name: str) -> ZoneInfo | None:
    if not name or name.startswith(("/", ".")) or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


def _calendar(item: dict[str, Any]) -> dict[str, Any]:
    raw = item.get("calendar")
    return json.loads(raw) if isinstance(raw, str) else (raw or {"timezone": "UTC", "rules": []})


def windows_on(calendar: dict[str, Any], day: Any) -> list[tuple[datetime, datetime]]:
    """The rules' windows that start on the local date ``day``, as UTC (start, end) pairs."""
    tz = zone(calendar.get("timezone") or "UTC") or ZoneInfo("UTC")
    out = []
    for rule in calendar.get("rules") or []:
        if day.weekday() not in DAYS[rule["day"]]:
            continue
        start_t, end_t = parse_time(rule["start-time"]), parse_time(rule["end-time"])
        end_day = day if end_t > start_t else day + timedelta(days=1)  # end before start: overnight; equal: 24 hours
        start = datetime.combine(day, start_t, tzinfo=tz).astimezone(UTC)
        end = datetime.combine(end_day, end_t, tzinfo=tz).astimezone(UTC)
        out.append((start, end))
    return out


def active_period(item: dict[str, Any], at: datetime) -> str | None:
    """The period ``at`` falls in (its start, UTC ISO), or None when the responder is not active then (disabled,
    outside ``start-at``/``end-at``, outside every rule). Without rules a responder is active throughout its bounds and
    its period is ``start-at`` (or ``always``). Overlapping windows: the earliest start is the period."""
    if not item.get("enabled"):
        return None
    at = at.astimezone(UTC)
    if item.get("start_at") and at < clock.parse_iso(item["start_at"]):
        return None
    if item.get("end_at") and at >= clock.parse_iso(item["end_at"]):
        return None
    calendar = _calendar(item)
    if not calendar.get("rules"):
        return item.get("start_at") or ALWAYS
    tz = zone(calendar.get("timezone") or "UTC") or ZoneInfo("UTC")
    local = at.astimezone(tz).date()
    starts = [s for d in (local - timedelta(days=1), local) for s, e in windows_on(calendar, d) if s <= at < e]
    return clock.iso(min(starts)) if starts else None


# ── checks ──
def _check_calendar(args: Any) -> dict[str, Any]:
    """``calendar-args`` → the stored ``{timezone, rules}``: 422 naming the member for an unknown zone, day or time."""
    if args is None:
        return {"timezone": "UTC", "rules": []}
    where = POINTER + "calendar-args/"
    name = (args.timezone or "UTC").strip()
    if zone(name) is None:
        raise Unprocessable(f"timezone {name!r} is not an IANA time zone (e.g. America/New_York)", pointer=where + "timezone",
                            code="invalid-timezone")  # fmt: skip
    rules = []
    for n, rule in enumerate(args.rules or []):
        day = rule.day.strip().lower()
        if day not in DAYS:
            raise Unprocessable(f"day {rule.day!r} must be one of {', '.join(DAYS)}", pointer=f"{where}rules/{n}/day", code="invalid-day")
        for member, value in (("start-time", rule.start_time), ("end-time", rule.end_time)):
            if parse_time(value) is None:
                raise Unprocessable(f"{member} {value!r} must be HH:MM or HH:MM:SS (24-hour, optional Z)",
                                    pointer=f"{where}rules/{n}/{member}", code="invalid-time")  # fmt: skip
        rules.append({"day": day, "start-time": rule.start_time.strip(), "end-time": rule.end_time.strip()})
    return {"timezone": name, "rules": rules}


def _check_reply(kind: str | None, args: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    kind = kind or "message"
    if kind not in TYPES:
        raise Unprocessable(f"type must be one of {', '.join(TYPES)}", pointer=POINTER + "type", code="invalid-type")
    args = dict(args or {})
    unknown = sorted(set(args) - {"message", "message-js"})
    if unknown:
        raise Unprocessable(f"args.{unknown[0]} is not known (args: message, message-js)", pointer=f"{POINTER}args/{unknown[0]}",
                            code="invalid-args")  # fmt: skip
    text = args.get("message")
    if not isinstance(text, str) or not text.strip() or len(text) > MESSAGE_MAX:
        raise Unprocessable(f"args.message is required: the reply's text (1..{MESSAGE_MAX} characters)", pointer=POINTER + "args/message",
                            code="invalid-args")  # fmt: skip
    translations = args.get("message-js")
    if translations is not None:
        ok = (
            isinstance(translations, dict)
            and len(translations) <= 50
            and all(
                isinstance(k, str) and 0 < len(k) <= 35 and isinstance(v, str) and 0 < len(v) <= MESSAGE_MAX
                for k, v in translations.items()
            )
        )
        if not ok:
            raise Unprocessable("args.message-js maps a locale (en_US) to the reply's text in it", pointer=POINTER + "args/message-js",
                                code="invalid-args")  # fmt: skip
    return kind, args


def _instant(value: Any, member: str) -> str | None:
    if value is None or value == {}:
        return None
    if not isinstance(value, str):
        raise Unprocessable(f"{member} must be an ISO-8601 date-time (or null)", pointer=POINTER + member, code="invalid-time")
    try:
        return clock.iso(clock.parse_iso(value))
    except ValueError:
        raise Unprocessable(f"{member} {value!r} must be an ISO-8601 date-time with a time zone", pointer=POINTER + member,
                            code="invalid-time") from None  # fmt: skip


def _check_bounds(start_at: str | None, end_at: str | None) -> None:
    if start_at and end_at and clock.parse_iso(end_at) <= clock.parse_iso(start_at):
        raise Unprocessable("end-at must be after start-at", pointer=POINTER + "end-at", code="invalid-bounds")


def _require_group(tenant_id: str, organization_id: str, group_id: str) -> None:
    from parley.domain import channels

    found = channels.group_members(tenant_id, group_id)
    if found is None:
        raise NotFound(f"no individual-group {group_id!r}", pointer=POINTER + "individual-group-id", code="not-found")
    if found[0].get("organization-id") not in (None, organization_id):
        raise Unprocessable("the individual-group belongs to another organization", pointer=POINTER + "individual-group-id",
                            code="organization-mismatch")  # fmt: skip


# ── the routes ──
def require(tenant_id: str, responder_id: str, *, parameter: str | None = "id") -> dict[str, Any]:
    """The tenant's responder: 404 (one body for an unknown id and another tenant's)."""
    found = store.get(tenant_id, responder_id, consistent=True)
    if found is None:
        raise NotFound(f"no messaging-responder {responder_id!r}", parameter=parameter, code="not-found")
    return found


def create(tenant_id: str, user_id: str, attrs: Any) -> dict[str, Any]:
    from parley.domain import channels

    for member in ("organization_id", "individual_group_id"):
        if not getattr(attrs, member):
            name = member.replace("_", "-")
            raise Unprocessable(f"{name} is required", pointer=POINTER + name, code="missing-member")
    channels.require_organization(tenant_id, attrs.organization_id, pointer=POINTER + "organization-id")
    _require_group(tenant_id, attrs.organization_id, attrs.individual_group_id)
    kind, args = _check_reply(attrs.type, attrs.args)
    calendar = _check_calendar(attrs.calendar_args)
    start_at, end_at = _instant(attrs.start_at, "start-at"), _instant(attrs.end_at, "end-at")
    _check_bounds(start_at, end_at)
    now = clock.iso(clock.now())
    item = {"tenant_id": tenant_id, "id": new_id(), "organization_id": attrs.organization_id,
            "individual_group_id": attrs.individual_group_id,
            "name": attrs.name, "reply_type": kind, "args": json.dumps(args), "calendar": json.dumps(calendar), "start_at": start_at,
            "end_at": end_at, "enabled": True, "created_at": now, "created_by": user_id, "last_modified_at": now,
            "last_modified_by": user_id}  # fmt: skip
    return store.create(item)


def _rewrite(tenant_id: str, responder_id: str, change: Any) -> dict[str, Any]:
    """Apply ``change(item) -> new item or None (nothing to change)`` under optimistic concurrency."""
    for _attempt in range(5):
        item = require(tenant_id, responder_id)
        new = change(dict(item))
        if new is None:
            return item
        if store.replace(new, expected_modified=item["last_modified_at"]):
            return store.get(tenant_id, responder_id, consistent=True) or new
    raise Conflict("the responder changed while this request was applied; try again", code="concurrent-update")


def update(tenant_id: str, user_id: str, responder_id: str, attrs: Any) -> dict[str, Any]:
    sent = attrs.model_fields_set

    def change(item: dict[str, Any]) -> dict[str, Any] | None:
        new = dict(item)
        if "name" in sent:
            new["name"] = attrs.name
        if {"type", "args"} & sent:
            kind, args = _check_reply(attrs.type if "type" in sent else item.get("reply_type"),
                                      attrs.args if "args" in sent else json.loads(item["args"]))  # fmt: skip
            new.update(reply_type=kind, args=json.dumps(args))
        if "calendar_args" in sent:
            new["calendar"] = json.dumps(_check_calendar(attrs.calendar_args))
        for member in ("start_at", "end_at"):
            if member in sent:
                new[member] = _instant(getattr(attrs, member), member.replace("_", "-"))
        _check_bounds(new.get("start_at"), new.get("end_at"))
        if "individual_group_id" in sent:
            if not attrs.individual_group_id:
                raise Unprocessable("individual-group-id cannot be null", pointer=POINTER + "individual-group-id", code="invalid-value")
            if attrs.individual_group_id != item["individual_group_id"]:
                _require_group(tenant_id, item["organization_id"], attrs.individual_group_id)
            new["individual_group_id"] = attrs.individual_group_id
        if all(new.get(k) == item.get(k) for k in set(new) | set(item)):
            return None
        new.update(last_modified_at=clock.iso(clock.now()), last_modified_by=user_id)
        return new

    return _rewrite(tenant_id, responder_id, change)


def set_enabled(tenant_id: str, user_id: str, responder_id: str, enabled: bool) -> dict[str, Any]:
    """enable / disable: idempotent (the same state again changes nothing, not even last-modified-at)."""

    def change(item: dict[str, Any]) -> dict[str, Any] | None:
        if bool(item.get("enabled")) == enabled:
            return None
        return {**item, "enabled": enabled, "last_modified_at": clock.iso(clock.now()), "last_modified_by": user_id}

    return _rewrite(tenant_id, responder_id, change)


SORTABLE = ("created-at", "start-at", "end-at")
_FAR_PAST, _FAR_FUTURE = "0000", "9999"


def listing(tenant_id: str, organization_id: str, *, enabled: bool | None, group_id: str | None, start_window: Any, end_window: Any,
            order: list[tuple[str, bool]], offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """The organization's responders (GSI3; reads ∝ the organization's responders), filtered and sorted. A responder
    without ``start-at`` (``end-at``) matches no ``filter[cmp-start-at]`` (``cmp-end-at``); sorting, a missing
    ``start-at`` is the far past and a missing ``end-at`` the far future (they are unbounded)."""
    from parley.domain import channels

    channels.require_organization(tenant_id, organization_id, parameter="organization-id")
    items = store.of_organization(tenant_id, organization_id)
    if enabled is not None:
        items = [i for i in items if bool(i.get("enabled")) == enabled]
    if group_id is not None:
        items = [i for i in items if i["individual_group_id"] == group_id]
    for field, window in (("start_at", start_window), ("end_at", end_window)):
        if window is not None:
            items = [i for i in items if i.get(field) and window.contains(clock.parse_iso(i[field]))]
    items.sort(key=lambda i: (i["created_at"], i["id"]))
    for name, descending in reversed(order or [("created-at", False)]):
        field = name.replace("-", "_")
        missing = _FAR_PAST if field == "start_at" else _FAR_FUTURE
        items.sort(key=lambda i, f=field, m=missing: i.get(f) or m, reverse=descending)
    return items[offset : offset + limit], len(items)


def attributes(item: dict[str, Any]) -> Any:
    from parley.models.messaging_responders import ResponderAttributes

    calendar = _calendar(item)
    return ResponderAttributes.model_validate({
        "args": json.loads(item.get("args") or "{}"),
        "calendar-args": {"rules": calendar.get("rules") or [], "timezone": calendar.get("timezone") or "UTC"},
        "created-at": item["created_at"],
        "created-by": item.get("created_by"),
        "enabled": bool(item.get("enabled")),
        "end-at": item.get("end_at"),
        "individual-group-id": item["individual_group_id"],
        "last-modified-at": item["last_modified_at"],
        "last-modified-by": item.get("last_modified_by"),
        "name": item.get("name"),
        "organization-id": item["organization_id"],
        "start-at": item.get("start_at"),
        "type": item.get("reply_type") or "message",
    })  # fmt: skip


def purge_users(tenant_id: str, user_ids: Any) -> dict[str, int]:
    """The purge of a person (``domain/purge.purge_courier``): the tenant's responders no longer name the users
    (``created_by`` / ``last_modified_by`` removed). Found through the directory's organizations (their partition,
    tombstones included: a deleted organization's responders too), then each organization's responders (GSI3): reads ∝
    the tenant's organizations and responders, a rare operation's cost. Nothing else of a responder is about a person
    (its group's membership is the directory's; its replies are channel messages, the channels' purge)."""
    from parley.dal import directory, table

    users = set(user_ids)
    done = {"responders_unnamed": 0}
    if not users:
        return done
    orgs = table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=directory.pk(tenant_id, "organizations")))
    for org in orgs:
        for item in store.of_organization(tenant_id, org["entity_id"]):
            gone = [f for f in ("created_by", "last_modified_by") if item.get(f) in users]
            if gone:
                table.try_update(item["PK"], item["SK"], "REMOVE " + ", ".join(gone), condition="attribute_exists(PK)")
                done["responders_unnamed"] += 1
    return done
