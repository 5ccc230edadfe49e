"""Twilio Video rooms and API keys (docs/courier.md "## Video (issue 20)" → "### Video visits"), through the texting
issue's REST client (``parley.providers.twilio_rest``: plain HTTPS, HTTP Basic with the account's SID and auth token).

- ``create_room``: ``POST /v1/Rooms`` (``UniqueName``, ``Type=group``, ``RecordParticipantsOnConnect``,
  ``StatusCallback``) → the room resource (``sid`` RM…);
- ``complete_room``: ``POST /v1/Rooms/{sid}`` ``Status=completed``.

Video's base URL: ``twilio_rest.video_base()`` (``TWILIO_VIDEO_URL``; else the local fake's ``TWILIO_API_URL``; else
``https://video.twilio.com``).
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from parley.providers.twilio_rest import TwilioError, _call, video_base


def _video_base() -> str:
    return video_base()


def create_room(
    sid: str, token: str, unique_name: str, *, recorded: bool, status_callback: str | None, max_participants: int
) -> dict[str, Any]:
    """A new group room named ``unique_name`` (recorded on connect when ``recorded``), its events posted to
    ``status_callback``."""
    form = {
        "UniqueName": unique_name,
        "Type": "group",
        "RecordParticipantsOnConnect": "true" if recorded else "false",
        "MaxParticipants": str(max_participants),
        **({"StatusCallback": status_callback, "StatusCallbackMethod": "POST"} if status_callback else {}),
    }
    out = _call("POST", f"{_video_base()}/v1/Rooms", sid, token, form)
    if not out.get("sid"):
        raise TwilioError(0, "Twilio created a room but its answer has no sid")
    return out


def complete_room(sid: str, token: str, room_sid: str) -> dict[str, Any]:
    """End the room (``Status=completed``): every participant is disconnected."""
    return _call("POST", f"{_video_base()}/v1/Rooms/{urllib.parse.quote(room_sid, safe='')}", sid, token, {"Status": "completed"})
