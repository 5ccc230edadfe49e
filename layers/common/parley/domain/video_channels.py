"""The courier's video channels (seed 003 §6, docs/courier.md "## Video (issue 20)" → "### Video visits"): a
telehealth visit in a Twilio Video room, with an optional appointment and its join window.

Interface for the room callbacks (area E, VideoCallbackFunction) and the participants' routes:

- ``require_channel(tenant_id, channel_id, *, parameter=None, pointer=None)``: the stored channel or 404;
- ``by_room(tenant_id, room_sid)``: the channel a Twilio room belongs to, or ``None``.

The stored channel is a dict with the keys of ``parley/dal/video_channels.py`` (``id``, ``tenant_id``,
``organization_id``, ``channel_state`` scheduled|open|terminated, ``room_sid``, ``room_name``, ``account_id``,
``recorded``, ``participants`` [{``individual_id``, ``account_type``, ``audio_state``, ``disconnected``, ``note``}],
``appointment`` {``id``, ``start``, ``duration``, ``join_start``}, ``created_at``, ``last_modified_at`` …).
"""

from __future__ import annotations

from typing import Any

from parley.dal import video_channels as store
from parley.errors import NotFound


def require_channel(tenant_id: str, channel_id: str, *, parameter: str | None = None, pointer: str | None = None) -> dict[str, Any]:
    """The tenant's stored channel ``channel_id`` (the dal's keys). Another tenant's id, or an unknown one → 404
    ``not-found`` naming ``parameter`` (a query parameter) or ``pointer`` (a body member) as its source when given."""
    found = store.get(tenant_id, channel_id, consistent=True) if channel_id else None
    if found is None:
        raise NotFound(f"no video-channel {channel_id!r}", parameter=parameter, pointer=pointer, code="not-found")
    return found


def by_room(tenant_id: str | None, room_sid: str) -> dict[str, Any] | None:
    """The stored channel whose Twilio Video room is ``room_sid`` (``RoomSid`` of a room callback), or ``None``
    (unknown room). ``tenant_id`` ``None``: the tenant is learnt from the room's global route (a callback URL carries
    no tenant); given, a room of another tenant's answers ``None``."""
    route = store.room(room_sid) if room_sid else None
    if route is None or (tenant_id is not None and route["tenant_id"] != tenant_id):
        return None
    return store.get(route["tenant_id"], route["channel_id"], consistent=True)
