"""messaging-responders (seed 003): an individual-group's auto-replies (docs/courier.md "Messaging automation and scale"
→ "Responders"). The request models check the shape only (a malformed member is a 400 with its pointer); the domain
(``parley.domain.responders``) checks the meaning (time zone, days, times, type and args: 422 with the pointer)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.jsonapi import Attributes

TYPE = "messaging-responders"

Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
Text = Annotated[str, StringConstraints(max_length=255)]
Short = Annotated[str, StringConstraints(max_length=64)]
Instant = Annotated[str, StringConstraints(max_length=40)]


class Rule(Attributes):
    """One weekly window: ``day`` (everyday, weekdays, weekends, monday … sunday), ``start-time`` and ``end-time``
    (``HH:MM[:SS]``, an optional trailing ``Z`` as the seed's samples write it), wall-clock times in the responder's
    ``timezone``; an end before the start runs overnight into the next day, an end equal to the start is 24 hours."""

    day: Short
    start_time: Short
    end_time: Short


class CalendarArgs(Attributes):
    rules: Annotated[list[Rule], Field(max_length=50)] | None = None
    timezone: Short | None = None  # IANA (America/New_York); default UTC


class ResponderCreate(Attributes):
    """``organization-id``, ``individual-group-id`` and ``args.message`` are required (422 naming them)."""

    args: dict[str, Any] | None = None
    calendar_args: CalendarArgs | None = None
    end_at: Instant | None = None
    individual_group_id: Id | None = None
    name: Text | None = None
    organization_id: Id | None = None
    start_at: Instant | None = None
    type: Short | None = None


class ResponderPatch(Attributes):
    """Only the members sent change; ``start-at`` / ``end-at`` null (or ``{}``, as the seed's PATCH sample sends them)
    clear the bound."""

    args: dict[str, Any] | None = None
    calendar_args: CalendarArgs | None = None
    end_at: Instant | dict[str, Any] | None = None
    individual_group_id: Id | None = None
    name: Text | None = None
    start_at: Instant | dict[str, Any] | None = None
    type: Short | None = None


class RuleOut(Attributes):
    day: str
    end_time: str
    start_time: str


class CalendarArgsOut(Attributes):
    rules: list[RuleOut]
    timezone: str


class ResponderAttributes(Attributes):
    """A responder as answered: the seed's attributes (``created-by`` / ``last-modified-by``: the acting users)."""

    args: dict[str, Any]
    calendar_args: CalendarArgsOut
    created_at: str
    created_by: str | None = None
    enabled: bool
    end_at: str | None = None
    individual_group_id: str
    last_modified_at: str
    last_modified_by: str | None = None
    name: str | None = None
    organization_id: str
    start_at: str | None = None
    type: str


class EmptyBody(Model):
    """enable / disable: the seed sends ``{}`` (no fields); a member is refused (400 with its pointer)."""

    model_config = ConfigDict(extra="forbid")
