"""Communication summaries (seed 003 ``communication-summaries``, ``aggregation-requests``; docs/courier.md
"Communication summaries"): the plain JSON answer of ``GET /v1/communication-summaries/`` and the body of
``POST /v1/aggregation-requests/``."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.jsonapi import Attributes, dasherize

Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]
MAX_ENTRIES = 100


class _Flat(Model):
    model_config = ConfigDict(alias_generator=dasherize, populate_by_name=True, extra="forbid", serialize_by_alias=True)


class MessageTypeCount(_Flat):
    message_type: str = Field(description="group-messages, direct-messages or (ours) floating-messages: the channel's kind.")
    count: int


class MessageSenderCount(_Flat):
    individual_id: str
    count: int


class Summary(_Flat):
    messages: int = Field(description="Messages received: posted by others in the individual's channels since joining, not removed.")
    notifications: int = Field(description="The individual's user-notifications.")
    provider_messages: int = Field(description="SMS and email messages queued through a provider for those notifications.")
    video_channels: int = Field(description="0: video channels come with issue 20.")
    message_types: list[MessageTypeCount]
    message_senders: list[MessageSenderCount] | None = Field(default=None, description="Only with include-senders: per author, most first.")


class SummaryAnswer(_Flat):
    """``{"summary": {...}}`` (plain JSON, as the seed shows)."""

    summary: Summary


class EmptyBody(_Flat):
    """``recalculate-communication-summary``: ``{}`` (the seed's empty body; any member is refused)."""


class AggregationEntry(Attributes):
    column: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    individual_id: Id


class AggregationRequest(Attributes):
    """The attributes of an ``aggregation-requests`` create: the (column, individual) pairs to rebuild."""

    entries: Annotated[list[AggregationEntry], Field(min_length=1, max_length=MAX_ENTRIES)]


class AggregationAttributes(Attributes):
    """The 201's attributes: none (the seed's bare record)."""
