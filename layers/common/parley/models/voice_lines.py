"""Courier voice lines (seed 003, docs/courier.md "Voice (issue 20)" → "Voice lines"): ``voice-settings`` (an
organization's line and call queue on a text-account number), ``voice-tasks`` (a maintenance task of a line) and
``voice-queue-entries`` (the callers in a line's queue). Attribute names are the seed's, dasherized."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes

SETTINGS = "voice-settings"
TASKS = "voice-tasks"
ENTRIES = "voice-queue-entries"

Phone = Annotated[str, StringConstraints(min_length=1, max_length=64)]  # parsed to E.164 by the domain (400 naming it)
Speech = Annotated[str, StringConstraints(max_length=1000)]  # said to the caller (TwiML <Say>)


class VoiceSettingCreate(Attributes):
    """A new line: ``account-id`` (a text-account) and ``phone-number`` (one of its numbers) required."""

    account_id: Id | None = None
    phone_number: Phone | None = None
    forward_number: Phone | None = None
    recording_enabled: bool = False
    recording_message: Speech | None = None
    wait_message: Speech | None = None


class VoiceSettingUpdate(Attributes):
    """Any of the line's settings; ``null`` clears ``forward-number``, ``recording-message`` and ``wait-message``.
    The seed's PATCH sample types ``forward-number`` as an object (``{}``, a nullable union): a string or null here."""

    phone_number: Phone | None = None
    forward_number: Phone | None = None
    recording_enabled: bool | None = None
    recording_message: Speech | None = None
    wait_message: Speech | None = None


class VoiceSettingAttributes(Attributes):
    account_id: str
    created_at: str
    forward_number: str | None = None
    last_modified_at: str
    organization_id: str
    phone_number: str
    recording_enabled: bool
    recording_message: str | None = None
    wait_message: str | None = None


class RefreshKwargs(Model):
    """``refresh_queue_entries`` takes no argument: ``{}`` (or no ``kwargs``)."""

    model_config = ConfigDict(extra="forbid")


class RunTask(Model):
    """``POST /v1/voice-settings/{id}/run-task/``: a plain body ``{"method": "refresh_queue_entries", "kwargs": {}}``."""

    model_config = ConfigDict(extra="forbid")

    method: Literal["refresh_queue_entries"]
    kwargs: RefreshKwargs | None = None


class SettingRef(Model):
    id: str


class VoiceTaskAttributes(Attributes):
    created_at: str
    created_by: str | None = None
    error_message: str | None = None
    kwargs: dict[str, Any]
    method: str
    result: dict[str, Any] | None = None
    setting: SettingRef
    state: Literal["running", "completed", "failed"]


class QueueEntryAttributes(Attributes):
    created_at: str
    last_modified_at: str
    phone_number: str | None = None
    position: int | None = None
    queue_time: int
    state: str
