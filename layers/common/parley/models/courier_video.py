"""The courier video visits (seed 003 §6, docs/courier.md "## Video (issue 20)" → "### Video visits"):
``video-channels``. Attribute names are the seed's, dasherized by the alias generator.

- ``VideoChannelCreate`` / ``VideoChannelUpdate``: the attributes of ``POST`` and ``PATCH /v1/video-channels/``;
- ``FinalizeEncounter`` (v1) / ``FinalizeEncounterV2``, ``AudioStates``, ``Empty``: the plain bodies of the actions;
- ``VideoChannelAttributes``: the answered resource; ``Credentials``: get-credentials' plain answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes, dasherize
from parley.models.numbers import Int32

TYPE = "video-channels"
MAX_PARTICIPANTS = 50  # Twilio's group room maximum
MAX_DURATION = 24 * 60  # minutes
MAX_NOTE = 4000

State = Literal["scheduled", "open", "terminated"]
AudioState = Literal["muted", "unmuted"]
Duration = Annotated[Int32, Field(ge=1, le=MAX_DURATION, description="Minutes.")]
Note = Annotated[str, Field(max_length=MAX_NOTE)]


class AppointmentInput(Attributes):
    """The visit's appointment: ``start`` (an ISO-8601 time with a zone or offset), ``duration`` in minutes (default
    30), ``id`` (the platform's appointment id, kept)."""

    id: Id | None = None
    start: datetime
    duration: Duration = 30


class VideoChannelCreate(Attributes):
    """A new visit. ``organization-id`` is required; ``participants`` are individual ids of the tenant (the acting
    individual is always one); ``appointment`` optional (without it the room is open at once)."""

    organization_id: Id | None = None
    participants: Annotated[list[Id], Field(max_length=MAX_PARTICIPANTS - 1)] = Field(default_factory=list)
    appointment: AppointmentInput | None = None
    appless: bool = False
    recorded: bool = False
    with_email: bool = False
    messaging_channel_id: Id | None = None
    subject_id: Id | None = None
    type: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z][a-z0-9-]*$")] = "direct"


class VideoChannelUpdate(Attributes):
    """The seed's four changeable attributes; ``null`` clears ``note`` (only)."""

    appointment_start: datetime | None = None
    appointment_duration: Duration | None = None
    note: Note | None = None
    recorded: bool | None = None


class _Flat(Model):
    model_config = ConfigDict(alias_generator=dasherize, populate_by_name=True, extra="forbid", serialize_by_alias=True)


class FinalizeEncounter(_Flat):
    service_type_id: Id | None = None
    use_note_from_author_participant: bool = False


class FinalizeEncounterV2(_Flat):
    service_type_id: Id | None = None


class AudioStateChange(_Flat):
    id: Id = Field(description="The participant's individual id.")
    audio_state: AudioState


class AudioStates(_Flat):
    individual_id: Id | None = None
    participants: Annotated[list[AudioStateChange], Field(min_length=1, max_length=MAX_PARTICIPANTS)]


class Empty(_Flat):
    """``{}`` (``individual-id``, the acting individual, allowed)."""

    individual_id: Id | None = None


class Appointment(Attributes):
    id: str | None = None
    start: str
    duration: int
    join_start: str


class ParticipantUser(Attributes):
    id: str
    email_verified: bool | None = None
    phone_verified: bool | None = None
    state: str | None = None
    registration_invite: str | None = None
    communication_preferences: dict[str, Any] | None = None


class Participant(Attributes):
    id: str
    individual_id: str
    account_type: str
    audio_state: str
    disconnected: bool
    encounter_id: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    note: str | None = None
    photo: str | None = None
    status: str
    user: ParticipantUser | None = None


class Composition(Attributes):
    id: str
    created_at: str | None = None
    last_modified_at: str | None = None
    duration: int | None = None
    size: int | None = None
    processing_pct: int | None = None
    processing_status: str | None = None
    status: str | None = None


class VideoChannelAttributes(Attributes):
    """One visit as answered (every attribute of the seed's sample; ``null`` when unset). Ours beyond the seed:
    ``join-url`` (the appless browser link), ``room-name``, ``encounter-delivery`` (the finalized encounter's
    delivery state)."""

    appless: bool
    appointment: Appointment | None = None
    channel_state: State
    compositions: list[Composition] = Field(default_factory=list)
    created_at: str
    created_by: str | None = None
    duration: int | None = None
    encounter_id: str | None = None
    max_participants: int
    note: str | None = None
    observation_id: str | None = None
    organization_display_name: str | None = None
    organization_id: str
    participants: list[Participant]
    recorded: bool
    scheduler_id: str | None = None
    subject_id: str | None = None
    type: str
    messaging_channel_id: str | None = None
    with_email: bool = False
    join_url: str | None = None
    room_name: str
    encounter_delivery: str | None = None
    last_modified_at: str


class Credentials(Model):
    """get-credentials' plain answer: ``access-token`` (a Twilio Video access token, JWT) and ``name`` (the room)."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    access_token: str = Field(alias="access-token")
    name: str
