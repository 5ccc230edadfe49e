"""messaging-bulk-attachments (seed 003, the courier messaging domain): files attached to a draft bulk message, uploaded
in two phases as messaging-attachments are, and copied to each message the bulk posts (docs/courier.md "Messaging
automation and scale (issue 19)" → "Bulk attachments")."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict

from parley.models.base import Model
from parley.models.channel_attachments import Id
from parley.models.courier_email_attachments import ContentType, Filename
from parley.models.jsonapi import Attributes

TYPE = "messaging-bulk-attachments"


class BulkAttachmentCreateAttributes(Attributes):
    """The create request's attributes, all three required (the seed's flags are not visible)."""

    bulk_message_id: Id
    content_type: ContentType
    filename: Filename


class BulkAttachmentAttributes(Attributes):
    """A bulk attachment as answered: the seed's six attributes, and ``ready-to-use`` (ours, as messaging-attachments:
    a pending upload is listed with ``filter[include-pending]``). ``content-size`` is null until process-upload;
    ``thumbnail`` is always null (a thumbnail is made for each posted message's copy, not for the bulk's file)."""

    bulk_message_id: str
    content_size: int | None = None
    content_type: str
    created_at: str
    filename: str
    ready_to_use: bool
    thumbnail: str | None = None
    thumbnail_status: Literal["none"] = "none"


class ProcessBulkUploadBody(Model):
    """``process-upload``'s body: ``{}`` (the seed); any member is refused (400 naming it)."""

    model_config = ConfigDict(extra="forbid")
