"""announcers (seed 003): event-triggered announcements (docs/courier.md "Announcers and the courier events bus")."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.jsonapi import Attributes, dasherize

TYPE = "announcers"
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=255)]


class AnnouncerCreateAttributes(Attributes):
    """All five required (the seed's sample); ``event`` one of the events Parley emits, ``type`` ``message`` (the one
    type: 422 otherwise), ``args`` the type's (``MessageArgs``)."""

    args: dict[str, Any] = Field(default_factory=dict)
    event: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    name: Name
    organization_id: Id
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class AnnouncerPatchAttributes(Attributes):
    """Only the members sent change (none may be null)."""

    args: dict[str, Any] | None = None
    event: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    name: Name | None = None
    type: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class MessageArgs(Model):
    """``type: message``: post ``message`` as ``sender-individual-id`` into ``channel-ids``, or the channels bound to
    ``individual-group-id``, or (neither given) the channels bound to the event's individual-group. ``{first-name}``
    and ``{last-name}`` in the text become the event's individual's (the directory's)."""

    model_config = ConfigDict(defer_build=True, extra="forbid", alias_generator=dasherize, populate_by_name=True)

    message: Annotated[str, StringConstraints(min_length=1, max_length=10_000)]
    sender_individual_id: Id
    channel_ids: Annotated[list[Id], Field(min_length=1, max_length=100)] | None = None
    individual_group_id: Id | None = None


class AnnouncerAttributes(Attributes):
    """An announcer as answered: the seed's nine attributes (``created-by``/``last-modified-by``: the acting user)."""

    args: dict[str, Any]
    created_at: str
    created_by: str | None = None
    event: str
    last_modified_at: str
    last_modified_by: str | None = None
    name: str
    organization_id: str
    type: str
