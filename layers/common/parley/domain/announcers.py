"""Announcers: event-triggered announcements (announcers, seed 003; docs/courier.md "Announcers and the courier events
bus").

An announcer names one of the events Parley emits on the courier events bus (``parley.domain.courier_events.EVENTS``,
e.g. ``individual-shared``) and what to post when it happens: ``type`` ``message`` (the one type) with ``args``
(``MessageArgs``: the text, the sender, and where). The routes are tenant-scoped: any caller of the tenant reads and
edits its announcers; another tenant's id is a 404 as an unknown one is. ``organization-id`` must be the tenant's.

``run(job)`` is the ``announce`` job's (AutomationFunction; an EventBridge event that the bus's rule delivered to
AutomationQueue): for each of the tenant's announcers of that event (GSI4) in the event's organization, claim the
announcement ``(announcer, event-id)`` (a conditional put), post into each target channel, recording each post (and
the channel about to be posted: ``pending``). A redelivered event finds the announcement done and posts nothing; a run
that died goes on from the record: one announcement per (announcer, event, channel).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from pydantic import ValidationError

from parley import clock
from parley.dal import announcers as store
from parley.domain.ids import new_id
from parley.errors import Conflict, NotFound, Unprocessable
from parley.models.announcers import AnnouncerAttributes, AnnouncerCreateAttributes, AnnouncerPatchAttributes, MessageArgs

POINTER = "/data/attributes/"
TYPES = ("message",)


def _attributes(item: dict[str, Any]) -> AnnouncerAttributes:
    return AnnouncerAttributes(
        args=item.get("args") or {},
        created_at=item["created_at"],
        created_by=item.get("created_by"),
        event=item["event"],
        last_modified_at=item["last_modified_at"],
        last_modified_by=item.get("last_modified_by"),
        name=item["name"],
        organization_id=item["organization_id"],
        type=item["kind"],
    )


def _check(tenant_id: str, event: str, kind: str, args: dict[str, Any]) -> dict[str, Any]:
    """The event, type and args of an announcer, checked (422 naming the member; 404 for an id the tenant lacks)."""
    from parley.domain import channels
    from parley.domain.courier_events import EVENTS

    if event not in EVENTS:
        raise Unprocessable(f"event must be one of {', '.join(EVENTS)}", pointer=POINTER + "event", code="invalid-event")
    if kind not in TYPES:
        raise Unprocessable(f"type must be one of {', '.join(TYPES)}", pointer=POINTER + "type", code="invalid-type")
    try:
        parsed = MessageArgs.model_validate(args)
    except ValidationError as err:
        problem = err.errors()[0]
        where = "/".join(str(p) for p in problem.get("loc", ()))
        msg = "unknown member" if problem.get("type") == "extra_forbidden" else problem.get("msg", "invalid")
        raise Unprocessable(
            f"args/{where}: {msg}", pointer=POINTER + "args" + (f"/{where}" if where else ""), code="invalid-args"
        ) from None
    if parsed.channel_ids and parsed.individual_group_id:
        raise Unprocessable("args: channel-ids or individual-group-id, not both", pointer=POINTER + "args", code="invalid-args")
    from parley.dal import directory

    if directory.get(tenant_id, "individuals", parsed.sender_individual_id) is None:
        raise NotFound(f"no individual {parsed.sender_individual_id!r}", pointer=POINTER + "args/sender-individual-id", code="not-found")
    if parsed.individual_group_id and channels.group_members(tenant_id, parsed.individual_group_id) is None:
        raise NotFound(
            f"no individual-group {parsed.individual_group_id!r}", pointer=POINTER + "args/individual-group-id", code="not-found"
        )
    return parsed.model_dump(mode="json", by_alias=True, exclude_none=True)


def create(tenant_id: str, attrs: AnnouncerCreateAttributes, *, user_id: str | None) -> tuple[str, AnnouncerAttributes]:
    from parley.domain import channels

    channels.require_organization(tenant_id, attrs.organization_id, pointer=POINTER + "organization-id")
    args = _check(tenant_id, attrs.event, attrs.type, attrs.args)
    now = clock.iso(clock.now())
    item = {"tenant_id": tenant_id, "id": new_id(), "organization_id": attrs.organization_id, "name": attrs.name,
            "name_lc": attrs.name.lower(), "event": attrs.event, "kind": attrs.type, "args": args, "created_at": now,
            "created_by": user_id, "last_modified_at": now, "last_modified_by": user_id}  # fmt: skip
    store.create({k: v for k, v in item.items() if v is not None})
    return item["id"], _attributes(item)


def _require(tenant_id: str, announcer_id: str) -> dict[str, Any]:
    item = store.get(tenant_id, announcer_id)
    if item is None:
        raise NotFound(f"no announcer {announcer_id!r}", parameter="id", code="not-found")
    return item


def get(tenant_id: str, announcer_id: str) -> tuple[str, AnnouncerAttributes]:
    return announcer_id, _attributes(_require(tenant_id, announcer_id))


def update(tenant_id: str, announcer_id: str, attrs: AnnouncerPatchAttributes, *, user_id: str | None) -> tuple[str, AnnouncerAttributes]:
    """PATCH: only the members sent change (null is a 422: every member is required); the result is checked whole."""
    item = _require(tenant_id, announcer_id)
    sent = attrs.model_fields_set
    for name in sorted(sent):
        if getattr(attrs, name) is None:
            raise Unprocessable(f"{name.replace('_', '-')} cannot be null", pointer=POINTER + name.replace("_", "-"), code="invalid-value")
    event = attrs.event if "event" in sent else item["event"]
    kind = attrs.type if "type" in sent else item["kind"]
    args = attrs.args if "args" in sent else item.get("args") or {}
    checked = _check(tenant_id, event, kind, args)  # type: ignore[arg-type]
    edited = {**item, "event": event, "kind": kind, "args": checked, "last_modified_at": clock.iso(clock.now())}
    if "name" in sent:
        edited |= {"name": attrs.name, "name_lc": str(attrs.name).lower()}
    if user_id:
        edited["last_modified_by"] = user_id
    edited = {k: v for k, v in edited.items() if not k.startswith("GSI") and k not in ("PK", "SK", "type")}
    if not store.replace(edited, previous_modified_at=item["last_modified_at"]):
        raise Conflict("the announcer changed at the same time: try again", pointer="/data", code="concurrent-change")
    return announcer_id, _attributes(edited)


def page(tenant_id: str, *, organization_id: str | None, name: str | None, offset: int, limit: int
         ) -> tuple[list[tuple[str, AnnouncerAttributes]], int]:  # fmt: skip
    """The tenant's announcers (or an organization's: 404 unless it is the tenant's), oldest first; ``filter[name]``
    equality, case-insensitive."""
    if organization_id is not None:
        from parley.domain import channels

        channels.require_organization(tenant_id, organization_id, parameter="organization-id")
    items, total = store.page(tenant_id, organization_id=organization_id, name_lc=name.lower() if name is not None else None,
                              offset=offset, limit=limit)  # fmt: skip
    return [(i["id"], _attributes(i)) for i in items], total


# ───────────── the announce job ─────────────
def _targets(tenant_id: str, args: dict[str, Any], detail: dict[str, Any]) -> list[str]:
    from parley.dal import channels as channel_store

    if args.get("channel-ids"):
        return list(dict.fromkeys(args["channel-ids"]))
    if not args.get("individual-group-id") and detail.get("channel-id"):  # channel-created / members-added: that channel
        return [str(detail["channel-id"])]
    group = args.get("individual-group-id") or detail.get("individual-group-id")
    return sorted(channel_store.group_channel_ids(tenant_id, group)) if group else []


def _text(tenant_id: str, message: str, detail: dict[str, Any]) -> str:
    if "{" not in message or not detail.get("individual-id"):
        return message
    from parley.dal import directory

    stored = directory.get(tenant_id, "individuals", str(detail["individual-id"]))
    attrs = directory.attributes(stored) if stored else {}
    return message.replace("{first-name}", str(attrs.get("first-name") or "")).replace("{last-name}", str(attrs.get("last-name") or ""))


def message_id(announcer_id: str, event_id: str, channel_id: str) -> str:
    """The id of an announcer's post of one event into one channel: the same on every run of that announcement."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"parley:announcement:{announcer_id}:{event_id}:{channel_id}"))


def announce(tenant_id: str, announcer: dict[str, Any], event_id: str, detail: dict[str, Any]) -> bool:
    """Post ``announcer``'s announcement of one event into each target channel once: False when it was done already.

    The announcement item is claimed first (put only if absent); before each post it names the channel as ``pending``,
    after it records the message. A run that died (or failed) goes on from that record. Each post has a deterministic
    message id (``message_id``: announcer, event, channel), written only if absent, so a ``pending`` channel whose post
    went through before the run died is answered with that message, not posted again."""
    from parley.domain import channel_messages

    now = clock.now()
    at = clock.iso(now)
    posted: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    if not store.claim(tenant_id, announcer["id"], event_id, at, int(time.time()) + store.ANNOUNCEMENT_TTL_DAYS * 86400):
        earlier = store.get_announcement(tenant_id, announcer["id"], event_id)
        if earlier is None or earlier.get("state") == "done":
            return False
        posted, skipped = list(earlier.get("posted") or []), list(earlier.get("skipped") or [])  # an earlier run's: go on
        at = earlier.get("at") or at
    args = announcer.get("args") or {}
    sender = args.get("sender-individual-id")  # None: purged (``purge``): every channel skipped until a PATCH names one
    seen = {p["channel_id"] for p in posted} | {k["channel_id"] for k in skipped}
    text = _text(tenant_id, args["message"], detail)
    for channel_id in [c for c in _targets(tenant_id, args, detail) if c not in seen]:
        if sender is None:
            skipped.append({"channel_id": channel_id, "reason": "no-sender"})
            continue
        store.progress(tenant_id, announcer["id"], event_id, posted, skipped, pending=channel_id)
        try:
            message = channel_messages.post(tenant_id, channel_id, sender, text, source="announcer",
                                            message_id=message_id(announcer["id"], event_id, channel_id))  # fmt: skip
        except (NotFound, Conflict) as err:  # not a member (or no such channel), an archived channel: recorded, not retried
            skipped.append({"channel_id": channel_id, "reason": err.code or type(err).__name__})
        else:
            posted.append({"channel_id": channel_id, "message_id": message["id"]})
        store.progress(tenant_id, announcer["id"], event_id, posted, skipped, pending=None)
    store.done(tenant_id, announcer["id"], event_id, posted, skipped)
    return True


def run(job: Any) -> None:
    """The ``announce`` job: ``job.data`` is the EventBridge event (``detail-type`` = the event, ``detail`` with
    ``tenant-id``, ``event-id``, ``organization-id``?). An event of another source, or without a tenant, is ignored."""
    event = job.data or {}
    name, detail = str(event.get("detail-type") or ""), event.get("detail") or {}
    if event.get("source") != "parley.courier" or not job.tenant_id or not isinstance(detail, dict):
        return
    event_id = str(detail.get("event-id") or event.get("id") or job.id)
    org = detail.get("organization-id")
    for announcer in store.of_event(job.tenant_id, name):
        if org and announcer.get("organization_id") != org:
            continue
        announce(job.tenant_id, announcer, event_id, detail)


def purge(tenant_id: str, *, user_ids: set[str], individual_ids: set[str]) -> dict[str, int]:
    """A person's purge (``domain/purge.purge_courier``): the tenant's announcers (and messaging operations) no longer
    name the purged users (``created_by``, ``last_modified_by`` removed) or individuals (an announcer's
    ``sender-individual-id`` removed: it posts nothing until a PATCH names another sender)."""
    from parley.dal import messaging_operations

    done = {"announcers": 0, "messaging_operations": 0}
    for item in store.all_of_tenant(tenant_id):
        fields = [f for f in ("created_by", "last_modified_by") if item.get(f) in user_ids]
        args = dict(item.get("args") or {})
        sender_gone = args.get("sender-individual-id") in individual_ids
        if fields or sender_gone:
            if sender_gone:
                args.pop("sender-individual-id")
            store.scrub(tenant_id, item["id"], remove=fields, args=args if sender_gone else None)
            done["announcers"] += 1
    if user_ids:
        for org_item in messaging_operations.created_by_any(tenant_id, user_ids):
            messaging_operations.scrub_creator(tenant_id, org_item["id"])
            done["messaging_operations"] += 1
    return done
