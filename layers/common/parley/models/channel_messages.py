"""The courier channel messages and the inbox (seed 003 ``messaging-messages``, ``communication-messages``;
docs/courier.md "Messages and the inbox"). Attribute names are the seed's, dasherized by the alias generator."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes

MESSAGE_TYPE = "messaging-messages"
CHANNEL_TYPE = "messaging-channels"

MAX_MESSAGE = 10_000  # characters of one message's text
MAX_ATTACHMENTS = 20

ReactionType = Literal["dislike", "like", "lol", "love", "sad", "wow"]
REACTION_TYPES: tuple[str, ...] = ("dislike", "like", "lol", "love", "sad", "wow")
# What a client may name as the message's source (``sms`` is set only by the SMS bridge; docs/courier.md).
ClientSource = Literal["api", "app", "web", "auto-responder"]

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE)]


class MessageCreate(Attributes):
    """A new message: ``channel-id`` and ``message`` are required (422 naming the member)."""

    channel_id: Id | None = None
    individual_id: Id | None = None
    message: Text | None = None
    draft: bool = False
    # The seed samples ``auto-ack`` as "": read as a flag (true unless "false"/false): the author's marker moves to the post.
    auto_ack: bool | Literal["", "true", "false"] | None = None
    include_destinations: Annotated[list[Annotated[str, StringConstraints(max_length=128)]], Field(max_length=50)] | None = None
    source: ClientSource | None = None
    attachments: Annotated[list[Id], Field(max_length=MAX_ATTACHMENTS)] | None = None


class MessageUpdate(Attributes):
    """A change to a message (the author's): ``message`` (edit), ``draft: false`` (publish), ``removed: true`` (soft delete)."""

    individual_id: Id | None = None
    message: Text | None = None
    draft: bool | None = None
    removed: bool | None = None


class Attachment(Attributes):
    content_size: int | None = None
    content_type: str | None = None
    filename: str | None = None
    id: str
    removed: bool = False
    thumbnail: str | None = None


class Reaction(Attributes):
    first_name: str | None = None
    individual_id: str
    last_name: str | None = None
    reaction_type: ReactionType
    user_name: str | None = None


class Receipt(Attributes):
    ack_time: str | None = None
    ack_user_time: str | None = None
    individual_first_name: str | None = None
    individual_id: str
    individual_last_name: str | None = None


class MessageAttributes(Attributes):
    """One message as answered (every attribute of the seed's sample; ``null`` when unknown)."""

    ack: bool
    attachments: list[Attachment] = []
    channel_id: str
    destination: dict[str, Any] | None = None
    draft: bool
    first_name: str | None = None
    individual_id: str | None = None  # null: the message of a purged individual
    last_modified_time: str
    last_name: str | None = None
    message: str
    phrases: dict[str, Any] | None = None
    posted_time: str | None = None
    preferred_name: str | None = None
    reactions: list[Reaction] = []
    read_receipts: list[Receipt] | None = None
    removed: bool
    sentiment: str | None = None
    source: str
    user_id: str | None = None
    user_name: str | None = None
    user_type: str = "participant"


class Receipts(Attributes):
    """``get-receipts``: plain JSON (not JSON:API), as the seed shows."""

    read: list[Receipt]
    unread: list[Receipt]


class LastMessage(Attributes):
    id: str
    message: str
    posted_time: str | None = None
    removed: bool = False


class Bookmark(Attributes):
    id: str
    message_id: str | None = None


class AckBody(Attributes):
    allow_past: bool = False
    individual_id: Id | None = None


class ReactionBody(Attributes):
    individual_id: Id | None = None
    reaction_type: ReactionType


class InboxChannelAttributes(Attributes):
    """A channel as the inbox answers it: the seed's ``messaging-channels`` attributes that the channel item and the
    caller's member item hold (no per-channel reads beyond them: ``subscribers`` and ``individual-group`` are not
    expanded here — GET the channel for them), plus the caller's read marker."""

    archived: bool = False
    bookmark: Bookmark | None = None
    caller_has_new_message: bool
    caller_new_message_count: int
    caller_ack_message_id: str | None = None
    caller_ack_time: str | None = None
    created_at: str | None = None
    created_by: str | None = None
    event_settings: dict[str, Any] | None = None
    floating: bool = False
    individual_group_id: str | None = None
    label: str | None = None
    last_message: LastMessage | None = None
    last_modified_time: str | None = None
    last_timestamp: str | None = None
    name: str | None = None
    observation_id: str | None = None
    org_id: str | None = None
    pinned: bool = False
    subscription_type: str | None = None
    type: str | None = None
