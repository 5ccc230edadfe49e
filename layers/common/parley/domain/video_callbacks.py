"""Twilio Video's status callbacks (``VideoCallbackFunction``, a Function URL; docs/courier.md "Video (issue 20)" →
"Participants, compositions and Twilio Video's callbacks").

- ``POST <url>/room``: the room's events (the StatusCallback given when the room is created, ``room_callback_url``):
  ``participant-connected`` / ``participant-disconnected`` → video-participants, ``room-ended`` → the channel
  ``terminated``, everyone left, and for a ``recorded`` channel a composition; other events are acknowledged only.
- ``POST <url>/composition``: a composition's events → video-compositions.

The room (``RoomSid``) names the tenant and the channel (``video_channels.by_room``: the room's global route); the
request must carry ``X-Twilio-Signature`` made with the auth token of the channel's account over the exact URL and the
form. Whatever is wrong (no signature, an unknown room, a wrong signature) is the same 403 and nothing is written.
"""

from __future__ import annotations

import os
import re
from typing import Any

from aws_lambda_powertools import Logger

from parley.domain import sms_webhooks
from parley.errors import BadRequest, NotFound

logger = Logger(child=True)

ROOM_EVENTS = ("participant-connected", "participant-disconnected", "room-ended")
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")


def room_callback_url() -> str | None:
    """The StatusCallback to give Twilio when a channel's room is created (``VIDEO_CALLBACK_URL`` + ``room``)."""
    base = os.environ.get("VIDEO_CALLBACK_URL") or ""
    return base.rstrip("/") + "/room" if base else None


def verify(event: dict[str, Any]) -> tuple[str, dict[str, Any], sms_webhooks.Form]:
    """``(tenant id, channel, form)`` of a request signed by the room's account; else 403 (400: not a form)."""
    from parley.domain import text_numbers, video_channels

    form = sms_webhooks.parse_form(event)
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    signature = headers.get("x-twilio-signature", "").strip()
    room_sid = form.one("RoomSid").strip()
    if not signature or not _SID.fullmatch(room_sid) or not room_sid.startswith("RM"):
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    channel = video_channels.by_room(None, room_sid)
    if channel is None or not channel.get("account_id"):
        logger.warning("video callback for a room that is not ours", extra={"room_sid": room_sid})
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    tenant_id = channel["tenant_id"]
    try:
        account_sid, token = text_numbers.account_auth(tenant_id, channel["account_id"])
    except (LookupError, NotFound):
        account_sid, token = "", ""
    url = sms_webhooks.public_url(event)
    if not token or not sms_webhooks.signature_valid(token, url, form, signature, headers.get("x-twilio-webhooks-signature-settings")):
        logger.warning("video callback with an invalid signature", extra={"tenant_id": tenant_id, "url": url})
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    if form.one("AccountSid") and form.one("AccountSid") != account_sid:
        raise sms_webhooks.Forbidden(sms_webhooks.FORBIDDEN_MESSAGE)
    return tenant_id, channel, form


def _params(form: sms_webhooks.Form) -> dict[str, str]:
    return {k: form.one(k) for k in form}


def room(event: dict[str, Any]) -> str:
    """A room callback, verified then applied. The outcome."""
    from parley.domain import video_participants

    tenant_id, channel, form = verify(event)
    params = _params(form)
    kind = params.get("StatusCallbackEvent", "").strip()
    if kind not in ROOM_EVENTS:
        return f"ignored:{kind[:40] or 'no-event'}"
    seq = _seq(params)
    if kind == "room-ended":
        return _room_ended(tenant_id, channel, params, seq, event)
    outcome = video_participants.apply_event(tenant_id, channel, kind, params, seq)
    if kind == "participant-connected" and channel.get("channel_state") == "scheduled":
        from parley.dal import video_channels as channels

        channels.update(
            tenant_id, channel["id"], {"channel_state": "open"}, condition="#state = :scheduled", values={":scheduled": "scheduled"}
        )
    return outcome


def _seq(params: dict[str, str]) -> int:
    value = params.get("SequenceNumber", "").strip()
    if not value.isdigit() or len(value) > 12:
        raise BadRequest("SequenceNumber must be a non-negative integer")
    return int(value)


def _room_ended(tenant_id: str, channel: dict[str, Any], params: dict[str, str], seq: int, event: dict[str, Any]) -> str:
    from parley import clock
    from parley.dal import video_channels as channels
    from parley.domain import video_compositions, video_participants

    video_participants.room_ended(tenant_id, channel["id"], params, seq)
    ended = channels.update(tenant_id, channel["id"], {"channel_state": "terminated", "terminated_at": clock.iso(clock.now())},
                            condition="#state <> :terminated", values={":terminated": "terminated"})  # fmt: skip
    outcome = "room-ended:" + ("terminated" if ended else "already-terminated")
    if channel.get("recorded"):
        url = sms_webhooks.public_url(event)
        base = url.split("?", 1)[0].rstrip("/").removesuffix("/room")
        outcome += "," + video_compositions.create_for_room(tenant_id, channel, params["RoomSid"], callback_url=f"{base}/composition")
    return outcome


def composition(event: dict[str, Any]) -> str:
    """A composition callback, verified then applied. The outcome."""
    from parley.domain import video_compositions

    tenant_id, channel, form = verify(event)
    params = _params(form)
    kind = params.get("StatusCallbackEvent", "").strip()
    if kind not in video_compositions.EVENTS:
        return f"ignored:{kind[:40] or 'no-event'}"
    return video_compositions.apply_event(tenant_id, channel, kind, params)
