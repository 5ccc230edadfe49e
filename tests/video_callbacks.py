"""Shared test support of Twilio Video's callbacks (issue 20 area E): a stored video channel with its room (area D's
items, written with D's own data-access functions) on a text-account of the fake Twilio, and signed room and
composition callbacks for VideoCallbackFunction, as Twilio posts them."""

from __future__ import annotations

import base64
import copy
import itertools
import uuid
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from helpers import load_event

HOST = "video0123456789abcdefghijklmnopq.lambda-url.us-east-1.on.aws"
CALLBACK = "CourierVoiceVideoApi.VideoCallbackFunction"
_seq = itertools.count(1)


def make_channel(tenant_id: str, account: Any, *, recorded: bool = True, individuals: tuple[str, ...] = ("ind-a", "ind-b"),
                 state: str = "open") -> dict[str, Any]:  # fmt: skip
    """A video channel whose room ``RM…`` exists, on ``account`` (tests/texting.py ``make_account``)."""
    from parley import clock
    from parley.dal import video_channels as d

    channel_id, room_sid, now = str(uuid.uuid4()), "RM" + uuid.uuid4().hex, clock.iso(clock.now())
    participants = [{"individual_id": i, "account_type": "provider" if n == 0 else "patient", "audio_state": "unmuted",
                     "disconnected": False} for n, i in enumerate(individuals)]  # fmt: skip
    item = d.item(tenant_id, channel_id, {"organization_id": account.organization_id, "created_at": now, "last_modified_at": now,
                                          "type": "direct", "recorded": recorded, "participants": participants, "channel_state": state,
                                          "room_sid": room_sid, "room_name": channel_id, "account_id": account.account_id})  # fmt: skip
    d.create(item)
    assert d.put_room(tenant_id, channel_id, room_sid)
    return item


def room_params(channel: dict[str, Any], account: Any, event: str, *, identity: str | None = None, seq: int | None = None,
                **extra: str) -> dict[str, str]:  # fmt: skip
    params = {"AccountSid": account.sid, "RoomSid": channel["room_sid"], "RoomName": channel["room_name"], "RoomType": "group",
              "RoomStatus": "completed" if event == "room-ended" else "in-progress", "StatusCallbackEvent": event,
              "Timestamp": "2026-12-07T15:00:00.000Z", "SequenceNumber": str(next(_seq) if seq is None else seq)}  # fmt: skip
    if identity is not None:
        params.update(ParticipantIdentity=identity, ParticipantSid="PA" + uuid.uuid5(uuid.NAMESPACE_OID, identity).hex,
                      ParticipantStatus="connected" if event == "participant-connected" else "disconnected")  # fmt: skip
    params.update(extra)
    return params


def composition_params(channel: dict[str, Any], account: Any, event: str, composition_sid: str, **extra: str) -> dict[str, str]:
    params = {"AccountSid": account.sid, "RoomSid": channel["room_sid"], "CompositionSid": composition_sid, "StatusCallbackEvent": event,
              "Timestamp": "2026-12-07T15:10:00.000Z"}  # fmt: skip
    params.update(extra)
    return params


def callback_event(path: str, params: dict[str, str], *, token: str, signature: str | None = None, host: str = HOST) -> dict[str, Any]:
    """A Function URL event of Twilio posting ``params`` to VideoCallbackFunction ``path`` (``/room``, ``/composition``),
    signed with ``token`` over the exact URL (or carrying ``signature``)."""
    event = copy.deepcopy(load_event("candidate/twilio_inbound"))
    event["rawPath"] = path
    event["requestContext"]["http"]["path"] = path
    event["rawQueryString"] = ""
    event["queryStringParameters"] = None
    event["headers"]["host"] = host
    event["requestContext"]["domainName"] = host
    event["body"] = base64.b64encode(urlencode(params).encode()).decode()
    event["isBase64Encoded"] = True
    event["headers"]["x-twilio-signature"] = (
        signature if signature is not None else RequestValidator(token).compute_signature(f"https://{host}{path}", params)
    )
    return event
