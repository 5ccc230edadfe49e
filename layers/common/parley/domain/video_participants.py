"""video-participants (seed 003 §6): who joined a video visit, when, and their audio, fed by Twilio Video's room
callbacks (``parley.domain.video_callbacks``) and changed by PATCH (docs/courier.md "Video (issue 20)" →
"Participants, compositions and Twilio Video's callbacks").

One participant per (channel, individual), ``id = uuid5(channel id, individual id)``: the Twilio participant's
``ParticipantIdentity`` is the individual (the identity of the channel's access tokens). It is created by its first
``participant-connected`` event (or by ``ensure`` for a channel's invited individual); a reconnect is the same
participant, connected again. Room events apply forward only, by the room's ``SequenceNumber``.
"""

from __future__ import annotations

import uuid
from typing import Any

from parley import clock
from parley.dal import video as store
from parley.errors import Conflict, NotFound
from parley.models.video import ParticipantAttributes, ParticipantPatchAttributes

NAMESPACE = uuid.UUID("6f1c2a44-1d0e-4b8e-9a57-0c5e2b9d7a31")  # participant ids: uuid5(channel, individual)


def participant_id(channel_id: str, individual_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{channel_id}:{individual_id}"))


def _account_type(channel: dict[str, Any], individual_id: str) -> str | None:
    for p in channel.get("participants") or []:
        if isinstance(p, dict) and p.get("individual_id") == individual_id:
            return p.get("account_type")
    return None


def attributes(item: dict[str, Any]) -> ParticipantAttributes:
    return ParticipantAttributes(
        account_type=item.get("account_type"),
        audio_state=item.get("audio_state") or "unmuted",
        connected_at=item.get("connected_at"),
        disconnected=bool(item.get("disconnected")),
        disconnected_at=item.get("disconnected_at"),
        encounter_id=item.get("encounter_id"),
        individual_id=item["individual_id"],
        last_modified_at=item["last_modified_at"],
        last_modified_by=item.get("last_modified_by"),
        note=item.get("note"),
        status=item.get("status") or "invited",
        twilio_channel_id=item.get("room_sid"),
        video_channel_id=item["channel_id"],
    )


def ensure(tenant_id: str, channel: dict[str, Any], individual_id: str, *, now: str | None = None) -> dict[str, Any]:
    """The channel's participant for ``individual_id``, created (``invited``) when absent."""
    pid = participant_id(channel["id"], individual_id)
    found = store.get_participant(tenant_id, pid, consistent=True)
    if found is not None:
        return found
    now = now or clock.iso(clock.now())
    item = {"tenant_id": tenant_id, "id": pid, "channel_id": channel["id"], "individual_id": individual_id,
            "account_type": _account_type(channel, individual_id), "status": "invited", "audio_state": "unmuted",
            "disconnected": False, "last_seq": -1, "created_at": now, "last_modified_at": now}  # fmt: skip
    store.put_participant_if_absent({k: v for k, v in item.items() if v is not None})
    return store.get_participant(tenant_id, pid, consistent=True) or item


def page(tenant_id: str, channel_id: str, *, individual_id: str | None, offset: int, limit: int) -> tuple[list[tuple[str, Any]], int]:
    from parley.domain import video_channels

    video_channels.require_channel(tenant_id, channel_id, parameter="video-channel-id")
    items, total = store.participants_of(tenant_id, channel_id, individual_id=individual_id, offset=offset, limit=limit)
    return [(i["id"], attributes(i)) for i in items], total


def of_channel(tenant_id: str, channel_id: str) -> list[dict[str, Any]]:
    """Every stored participant of the channel (for the channel's own ``participants`` and its encounter)."""
    return store.all_participants(tenant_id, channel_id)


def _require(tenant_id: str, pid: str) -> dict[str, Any]:
    found = store.get_participant(tenant_id, pid, consistent=True)
    if found is None:
        raise NotFound(f"no video-participant {pid!r}", code="not-found")
    return found


def get(tenant_id: str, pid: str) -> tuple[str, ParticipantAttributes]:
    return pid, attributes(_require(tenant_id, pid))


def update(tenant_id: str, pid: str, attrs: ParticipantPatchAttributes, *, by: str | None) -> tuple[str, ParticipantAttributes]:
    """PATCH ``audio-state``, ``disconnected``, ``note`` (absent: kept; ``note: null`` removes it). ``disconnected:
    true`` marks the participant as having left (``status: disconnected``); ``false`` on one that left is a 409
    ``not-connected``: only Twilio's ``participant-connected`` connects a participant again."""
    given = attrs.model_fields_set
    for _ in range(5):
        current = _require(tenant_id, pid)
        now = clock.iso(clock.now())
        changes: dict[str, Any] = {"last_modified_at": now}
        remove: tuple[str, ...] = ()
        if by:
            changes["last_modified_by"] = by
        if "audio_state" in given and attrs.audio_state is not None:
            changes["audio_state"] = attrs.audio_state
        if "note" in given:
            if attrs.note is None:
                remove = ("note",)
            else:
                changes["note"] = attrs.note
        if "disconnected" in given and attrs.disconnected is not None:
            if attrs.disconnected and not current.get("disconnected"):
                changes.update(disconnected=True, status="disconnected", disconnected_at=now)
            elif not attrs.disconnected and current.get("disconnected"):
                raise Conflict("a participant who left connects again only by joining the room", pointer="/data/attributes/disconnected",
                               code="not-connected")  # fmt: skip
        if store.update_participant(tenant_id, current, changes, remove=remove):
            return get(tenant_id, pid)
    raise Conflict("the participant changed meanwhile: try again", code="concurrent-update")


def apply_event(tenant_id: str, channel: dict[str, Any], event: str, params: dict[str, str], seq: int) -> str:
    """A ``participant-connected`` / ``-disconnected`` room event: the participant's state, forward only. The outcome."""
    individual_id = (params.get("ParticipantIdentity") or "").strip()
    if not individual_id or len(individual_id) > 128:
        return "ignored:no-identity"
    current = ensure(tenant_id, channel, individual_id)
    at = _timestamp(params.get("Timestamp"))
    changes: dict[str, Any] = {"last_modified_at": clock.iso(clock.now()), "room_sid": params.get("RoomSid") or channel.get("room_sid")}
    if params.get("ParticipantSid"):
        changes["participant_sid"] = params["ParticipantSid"]
    if event == "participant-connected":
        changes.update(status="connected", disconnected=False, connected_at=at)
    else:
        changes.update(status="disconnected", disconnected=True, disconnected_at=at)
    changes = {k: v for k, v in changes.items() if v is not None}
    applied = store.apply_participant_event(tenant_id, current["id"], changes, seq)
    return f"{event}:{'applied' if applied else 'stale'}"


def room_ended(tenant_id: str, channel_id: str, params: dict[str, str], seq: int) -> None:
    """Everyone still connected left when the room ended."""
    at = _timestamp(params.get("Timestamp"))
    for item in store.all_participants(tenant_id, channel_id):
        if item.get("status") == "connected":
            store.apply_participant_event(tenant_id, item["id"], {"status": "disconnected", "disconnected": True, "disconnected_at": at,
                                                                 "last_modified_at": clock.iso(clock.now())}, seq)  # fmt: skip


def _timestamp(value: str | None) -> str:
    """Twilio's ``Timestamp`` (RFC 2822 or ISO-8601) as UTC ISO-8601 Z; now when absent or unreadable."""
    from datetime import UTC, datetime
    from email.utils import parsedate_to_datetime

    text = (value or "").strip()
    for parse in (lambda t: datetime.fromisoformat(t.replace("Z", "+00:00")), parsedate_to_datetime):
        try:
            parsed = parse(text)
        except (TypeError, ValueError, IndexError):
            continue
        if parsed.tzinfo is not None:
            return clock.iso(parsed.astimezone(UTC))
    return clock.iso(clock.now())


def purge(tenant_id: str, individual_ids: set[str]) -> dict[str, int]:
    """A person's purge (``domain/purge.purge_courier``): the individuals' participants, in every channel, are deleted
    (their join and leave times, audio, note). ``last_modified_by`` naming a purged user on someone else's participant
    is left (no index by it; docs/courier.md "Video (issue 20)")."""
    from parley.dal import purges

    keys = [k for individual in sorted(individual_ids) for k in store.participant_keys_of_individual(tenant_id, individual)]
    return {"video_participants": purges.delete_keys(keys)}
