"""voice-queue-agents, voice-conferences and voice-dial-logs (seed 003, the courier voice domain; docs/courier.md
"Voice (issue 20)" → "Agents, conferences and dial logs")."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes

AGENTS = "voice-queue-agents"
CONFERENCES = "voice-conferences"
DIAL_LOGS = "voice-dial-logs"
CONFERENCE_STATES = ("created", "running", "completed", "failed")

Phone = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class Ref(Model):
    id: str


class AgentCreate(Attributes):
    """Sign an agent in: ``setting-id`` and ``individual-id`` (the acting user's; defaults to their primary
    individual); ``use-pstn`` with ``phone-number`` (E.164, required then) for an agent answering on a phone."""

    individual_id: Id | None = None
    phone_number: Phone | None = None
    setting_id: Id | None = None
    use_pstn: bool = False


class AgentAttributes(Attributes):
    """An agent as answered (the seed's attributes). ``access-token`` only in create's answer (a browser agent's Voice
    token); ``call`` the agent's current call (a voice-dial-log) while one is in progress."""

    access_token: str | None = None
    call: Ref | None = None
    created_at: str
    individual_id: str
    last_modified_at: str
    phone_number: str | None = None
    setting: Ref
    use_pstn: bool
    user: Ref | None = None


class ConferenceCreate(Attributes):
    """Start a conference with an individual: ``organization-id`` and ``individual-id`` (the seed); ``phone-number``
    (ours, optional): the individual is called on this phone, else in the browser (``client:<individual-id>``)."""

    individual_id: Id | None = None
    organization_id: Id | None = None
    phone_number: Phone | None = None


class ConferenceAttributes(Attributes):
    created_at: str
    created_by: str | None = None
    individual_id: str | None = None  # null once the individual is purged (the conference stays, anonymous)
    last_modified_at: str
    organization_id: str
    state: str


class Credentials(Model):
    """get-credentials' plain answer: ``{"access-token": …}``."""

    access_token: str = Field(alias="access-token")


class DialLogAttributes(Attributes):
    call_duration: int | None = None
    conference_id: str | None = None
    created_at: str
    individual_id: str | None = None
    last_modified_at: str
    organization_id: str
    status: str
