"""Alexa (seed 003's ask-*): skill subscriptions, proactive events and reminders (docs/courier.md "Alexa (issue 20)")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes
from parley.models.numbers import Int32

SUBSCRIPTION_TYPE = "ask-subscriptions"
REMINDER_TYPE = "ask-reminders"

Text = Annotated[str, StringConstraints(min_length=1, max_length=255)]
Content = Annotated[str, StringConstraints(min_length=1, max_length=4000)]  # Alexa speaks it: keep it short
RRule = Annotated[str, StringConstraints(min_length=1, max_length=1000)]
LocalTime = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$")]
TzInfo = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class SubscriptionAttributes(Attributes):
    """An Alexa user's subscription to a skill's proactive events (the seed's eight attributes)."""

    alexa_app_id: str
    alexa_user_id: str
    created_at: str
    last_modified_at: str
    organization_id: str
    registered_events: list[str]
    skill_id: str
    user_id: str | None = None


class ProactiveEvent(Model):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9.]+$")]
    payload: dict[str, Any] = Field(default_factory=dict)


class SendBody(Model):
    """``send``'s plain body: ``event {name, payload}`` (required), ``expire`` seconds (default 3600; Amazon's bounds
    5 minutes to 24 hours) and ``localized`` (the event's localizedAttributes, at least one for Amazon)."""

    model_config = ConfigDict(extra="forbid")

    event: ProactiveEvent
    expire: Annotated[Int32, Field(ge=300, le=86_400)] = 3600
    localized: list[dict[str, Any]] = Field(default_factory=list, max_length=50)


class EmptyAnswer(Model):
    """The seed's ``{}``."""

    model_config = ConfigDict(extra="forbid")


class ReminderCreateAttributes(Attributes):
    """A new reminder: ``individual-id``, ``reminder-content``, ``reminder-time-local`` and ``tz-info`` are required
    (checked by the domain, 422 naming the member); ``name`` and ``reminder-rrule`` are optional."""

    individual_id: Id | None = None
    name: Text | None = None
    reminder_content: Content | None = None
    reminder_rrule: RRule | None = None
    reminder_time_local: LocalTime | None = None
    tz_info: TzInfo | None = None


class ReminderPatchAttributes(Attributes):
    name: Text | None = None
    reminder_content: Content | None = None
    reminder_rrule: RRule | None = None
    reminder_time_local: LocalTime | None = None
    tz_info: TzInfo | None = None


class ReminderAttributes(Attributes):
    """A reminder as answered (the seed's eleven attributes)."""

    account_id: str | None = None
    alexa_reminder_id: str | None = None
    created_at: str
    created_by: str | None = None
    individual_id: str
    name: str | None = None
    reminder_content: str
    reminder_rrule: str | None = None
    reminder_time_local: str
    synced_to_alexa: bool
    tz_info: str
