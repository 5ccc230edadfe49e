"""video-compositions (seed 003 §6): a recorded visit's room composed into one MP4 by Twilio Video (docs/courier.md
"Video (issue 20)" → "Participants, compositions and Twilio Video's callbacks").

When a ``recorded`` channel's room ends (the ``room-ended`` callback), one composition is made per (channel, room):
``id = uuid5(channel id, room sid)``, written first only if absent, so a replayed ``room-ended`` makes no second one;
then ``POST /v1/Compositions`` with the channel's account, Twilio posting its progress to the callback URL
(``…/composition``). Its callbacks move it forward only: ``composition-enqueued`` < ``-started`` < ``-progress``
(percent rising) < ``-available`` | ``-failed``. ``GET`` answers, once available, a short-lived link to the file
(Twilio's own media redirect, ``MEDIA_TTL`` seconds).
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import video as store
from parley.errors import NotFound
from parley.models.video import CompositionAttributes

logger = Logger(child=True)

NAMESPACE = uuid.UUID("0b7d8f53-6a1e-4c52-b0f4-3e9a8c2d1f65")  # composition ids: uuid5(channel, room)
MEDIA_TTL = 600  # seconds a media link lasts

# Twilio's composition events → (our rank, status, processing-status); a callback applies only when it moves forward.
EVENTS: dict[str, tuple[int, str, str]] = {
    "composition-enqueued": (1, "enqueued", "enqueued"),
    "composition-started": (2, "processing", "processing"),
    "composition-progress": (3, "processing", "processing"),
    "composition-available": (4, "completed", "completed"),
    "composition-failed": (4, "failed", "failed"),
}


def composition_id(channel_id: str, room_sid: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{channel_id}:{room_sid}"))


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def attributes(tenant_id: str, item: dict[str, Any], *, with_link: bool = False) -> CompositionAttributes:
    link = expires = None
    if with_link and item.get("status") == "completed" and item.get("composition_sid"):
        link, expires = _media_link(tenant_id, item)
    return CompositionAttributes(
        created_at=item["created_at"],
        duration=item.get("duration"),
        last_modified_at=item["last_modified_at"],
        media_url=link,
        media_url_expires_at=expires,
        processing_pct=int(item.get("processing_pct") or 0),
        processing_status=item.get("processing_status") or "enqueued",
        size=item.get("size"),
        status=item.get("status") or "enqueued",
        video_channel_id=item["channel_id"],
    )


def _account(tenant_id: str, account_id: str) -> tuple[str, str]:
    from parley.domain import text_numbers

    return text_numbers.account_auth(tenant_id, account_id)


def _media_link(tenant_id: str, item: dict[str, Any]) -> tuple[str | None, str | None]:
    from parley.providers import twilio_rest

    try:
        sid, token = _account(tenant_id, item["account_id"])
        link = twilio_rest.composition_media(sid, token, item["composition_sid"], ttl=MEDIA_TTL)
    except (NotFound, KeyError, twilio_rest.TwilioError) as err:
        logger.warning("no media link for the composition", extra={"tenant_id": tenant_id, "id": item["id"], "error": str(err)[:200]})
        return None, None
    return link, clock.iso(clock.now() + timedelta(seconds=MEDIA_TTL))


def page(tenant_id: str, channel_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, Any]], int]:
    from parley.domain import video_channels

    video_channels.require_channel(tenant_id, channel_id, parameter="video-channel-id")
    items, total = store.compositions_of(tenant_id, channel_id, offset=offset, limit=limit)
    return [(i["id"], attributes(tenant_id, i)) for i in items], total


def get(tenant_id: str, cid: str) -> tuple[str, CompositionAttributes]:
    found = store.get_composition(tenant_id, cid, consistent=True)
    if found is None:
        raise NotFound(f"no video-composition {cid!r}", code="not-found")
    return cid, attributes(tenant_id, found, with_link=True)


def create_for_room(tenant_id: str, channel: dict[str, Any], room_sid: str, *, callback_url: str) -> str:
    """The composition of a recorded channel's ended room (made once per room). The outcome."""
    from parley.providers import twilio_rest

    cid = composition_id(channel["id"], room_sid)
    now = clock.iso(clock.now())
    item = {"tenant_id": tenant_id, "id": cid, "channel_id": channel["id"], "room_sid": room_sid, "account_id": channel.get("account_id"),
            "status": "enqueued", "processing_status": "enqueued", "processing_pct": 0, "last_seq": 0, "created_at": now,
            "last_modified_at": now}  # fmt: skip
    if not store.put_composition_if_absent({k: v for k, v in item.items() if v is not None}):
        existing = store.get_composition(tenant_id, cid, consistent=True) or {}
        if existing.get("composition_sid") or existing.get("status") == "failed":
            return "composition:exists"
    try:
        sid, token = _account(tenant_id, str(channel.get("account_id") or ""))
        made = twilio_rest.create_composition(sid, token, room_sid, status_callback=callback_url)
    except (NotFound, twilio_rest.TwilioError) as err:
        logger.warning("composition refused", extra={"tenant_id": tenant_id, "channel_id": channel["id"], "error": str(err)[:200]})
        store.set_composition(tenant_id, cid, {"status": "failed", "processing_status": "failed", "error": str(err)[:500],
                                               "last_modified_at": clock.iso(clock.now())})  # fmt: skip
        return "composition:failed"
    store.set_composition(tenant_id, cid, {"composition_sid": str(made["sid"]), "last_modified_at": clock.iso(clock.now())})
    return "composition:created"


def apply_event(tenant_id: str, channel: dict[str, Any], event: str, params: dict[str, str]) -> str:
    """A composition callback: status, percent, size and duration, forward only. The outcome."""
    rank, status, processing = EVENTS[event]
    room_sid = params.get("RoomSid") or ""
    cid = composition_id(channel["id"], room_sid)
    current = store.get_composition(tenant_id, cid, consistent=True)
    if current is None or (current.get("composition_sid") and params.get("CompositionSid") != current["composition_sid"]):
        return f"{event}:unknown-composition"
    pct = 100 if status == "completed" else max(0, min(_int(params.get("PercentageDone")) or 0, 100))
    if status == "failed":
        pct = int(current.get("processing_pct") or 0)
    changes: dict[str, Any] = {"status": status, "processing_status": processing, "last_modified_at": clock.iso(clock.now())}
    if not current.get("composition_sid") and params.get("CompositionSid"):
        changes["composition_sid"] = params["CompositionSid"]
    for name, key in (("Size", "size"), ("Duration", "duration")):
        value = _int(params.get(name))
        if value is not None and value >= 0:
            changes[key] = value
    applied = store.apply_composition_event(tenant_id, cid, changes, rank, pct)
    return f"{event}:{'applied' if applied else 'stale'}"
