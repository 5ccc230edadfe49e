"""What follows a write to a courier channel (docs/courier.md "Messaging"): one ``ChannelEvent`` per change, published by
the API functions after their write commits (``parley.domain.channel_events.publish``) and applied by
ChannelEventsFunction (``parley.domain.channel_events.handle``): the members' inbox state, the live updates on the
WebSocket API, the SMS bridge and the pushes to offline members."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from parley.models.base import Model

Kind = Literal[
    "message-posted",  # a message became visible (posted, or a draft published)
    "message-edited",
    "message-removed",
    "reaction-added",
    "reaction-removed",
    "ack",  # an individual's read marker moved
    "members-added",
    "members-removed",
    "channel-updated",  # name, label, settings, archived/unarchived, the SMS bridge switched
    # internal (not sent to clients): a large channel's item changed a field its members' channel copies hold
    # (``channel_inbox.channel_changed``); data ``{"cv": <the channel's version>}``
    "channel-changed",
]


class ChannelEvent(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant_id: str
    channel_id: str
    kind: Kind
    id: str  # unique per event (uuid4): a consumer that applies it twice can tell (SQS delivers at least once)
    at: str  # ISO-8601 UTC, when the write committed
    actor_individual_id: str | None = None  # who did it (None: the system, e.g. a directory change)
    message_id: str | None = None
    # what a consumer needs without reading the table again (the message's seq and text, the reaction's type,
    # the marker's message, the members' ids, …); each kind's keys are documented where it is published
    data: dict[str, Any] = Field(default_factory=dict)
    # a large channel's event is split into member batches (one job each): which members this job covers
    member_ids: list[str] | None = None
