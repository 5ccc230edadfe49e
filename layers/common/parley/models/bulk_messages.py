"""messaging-bulk-messages (seed 003, reading-003.yaml ``messaging_bulk_messages_attrs``; docs/courier.md "Bulk
messages"): one message posted into one direct channel per recipient. The seed's attributes, dasherized; ``status``,
``auto-create-channel``, ``auto-ack`` and ``progress`` are ours (a client follows the asynchronous posting with them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StringConstraints

from parley.models.courier_directory import Id
from parley.models.jsonapi import Attributes

TYPE = "messaging-bulk-messages"
MAX_IDS = 1_000  # individual-ids / individual-group-ids in one request
MAX_MESSAGE = 10_000  # as a channel message
MAX_LOCALES = 20

Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_MESSAGE)]
# A locale key of message-js: the seed's ``en_US``/``es_US`` shape (language, optionally _REGION)
Locale = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(_[A-Z]{2})?$")]
MessageJs = Annotated[dict[Locale, Text], Field(max_length=MAX_LOCALES)]
IdList = Annotated[list[Id], Field(max_length=MAX_IDS)]
Status = Literal["draft", "queued", "posting", "posted", "partially-failed"]


class BulkMessageCreate(Attributes):
    """A new bulk message. ``message`` is required (422); at least one recipient (``individual-ids`` or
    ``individual-group-ids``); at most one of ``sender-individual-id`` / ``sender-individual-group-id``.
    ``organization-id`` is ours (optional): the seed's create names none, so it is taken from the sender group's or the
    first recipient group's organization when omitted (422 when none can be found)."""

    auto_ack: bool | Literal["", "true", "false"] | None = None
    auto_create_channel: StrictBool = False
    draft: StrictBool = True
    individual_group_ids: IdList | None = None
    individual_ids: IdList | None = None
    message: Text | None = None
    message_js: MessageJs | None = None
    organization_id: Id | None = None
    sender_individual_group_id: Id | None = None
    sender_individual_id: Id | None = None


class BulkMessageUpdate(Attributes):
    """PATCH: ``message`` / ``message-js`` edit a draft; ``draft: false`` posts it (``draft: true`` on a posted one, or any
    edit of it, is a 409)."""

    draft: StrictBool | None = None
    message: Text | None = None
    message_js: MessageJs | None = None


class Progress(Attributes):
    """Ours: the posting's counters (each recipient counted once: posted, skipped or failed)."""

    total: int = 0
    posted: int = 0
    skipped: int = 0
    failed: int = 0
    pending: int = 0


class BulkMessageAttributes(Attributes):
    created_at: str
    created_by: str | None = None
    draft: bool
    individual_group_ids: list[str] = Field(default_factory=list)
    individual_ids: list[str] = Field(default_factory=list)
    message: str
    message_js: dict[str, str] | None = None
    organization_id: str | None = None
    posted_time: str | None = None
    sender_individual_group_id: str | None = None
    sender_individual_id: str | None = None
    # ours
    auto_ack: bool = True
    auto_create_channel: bool = False
    status: Status = "draft"
    progress: Progress = Field(default_factory=Progress)
