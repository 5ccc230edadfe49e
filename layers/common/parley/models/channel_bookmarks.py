"""messaging-bookmarks (seed 003): a message pinned in a channel (docs/courier.md "Attachments and bookmarks")."""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

from parley.models.base import Model
from parley.models.jsonapi import Attributes

TYPE = "messaging-bookmarks"

Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class Ref(Model):
    id: str


class BookmarkCreateAttributes(Attributes):
    """``channel-id`` and ``message-id`` required; ``allow-multi-message`` false by default (the seed's sample): the
    new bookmark replaces the channel's others, "a pinned message per channel"."""

    allow_multi_message: bool = False
    channel_id: Id
    message_id: Id


class BookmarkAttributes(Attributes):
    """A bookmark as answered (the seed's five attributes; ``created-by`` is the individual who pinned it)."""

    channel: Ref
    created_at: str
    created_by: Ref | None = None  # null: its creator was purged
    message: Ref
    organization_id: str | None = None
