"""video-participants and video-compositions (seed 003, Twilio Video telehealth visits; docs/courier.md "Video
(issue 20)" → "Participants, compositions and Twilio Video's callbacks")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import StringConstraints

from parley.models.jsonapi import Attributes

PARTICIPANTS = "video-participants"
COMPOSITIONS = "video-compositions"

AUDIO_STATES = ("muted", "unmuted")
AudioState = Literal["muted", "unmuted"]
Note = Annotated[str, StringConstraints(max_length=4000)]


class ParticipantPatchAttributes(Attributes):
    """PATCH: ``audio-state``, ``disconnected``, ``note`` (the seed); an absent attribute is kept."""

    audio_state: AudioState | None = None
    disconnected: bool | None = None
    note: Note | None = None


class ParticipantAttributes(Attributes):
    """A participant as answered (the seed's twelve attributes; ``disconnected-at`` is ours: when it left)."""

    account_type: str | None = None
    audio_state: str
    connected_at: str | None = None
    disconnected: bool
    disconnected_at: str | None = None
    encounter_id: str | None = None
    individual_id: str
    last_modified_at: str
    last_modified_by: str | None = None
    note: str | None = None
    status: str
    twilio_channel_id: str | None = None
    video_channel_id: str


class CompositionAttributes(Attributes):
    """A composition as answered (the seed's eight attributes; ``media-url`` and ``media-url-expires-at`` are ours: the
    composed file, a short-lived link once it is available)."""

    created_at: str
    duration: int | None = None
    last_modified_at: str
    media_url: str | None = None
    media_url_expires_at: str | None = None
    processing_pct: int
    processing_status: str
    size: int | None = None
    status: str
    video_channel_id: str
