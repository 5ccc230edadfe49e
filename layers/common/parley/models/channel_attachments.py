"""messaging-attachments (seed 003, the courier messaging domain): files attached to a channel message, uploaded in two
phases as user-email-attachments (docs/courier.md "Attachments and bookmarks")."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.courier_email_attachments import ContentType, Filename
from parley.models.jsonapi import Attributes, dasherize

TYPE = "messaging-attachments"

Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


class AttachmentCreateAttributes(Attributes):
    """The create request's attributes, all three required (the seed's flags are not visible)."""

    content_type: ContentType
    filename: Filename
    message_id: Id


class AttachmentPatchAttributes(Attributes):
    """PATCH: only ``removed`` is writable (the seed)."""

    removed: bool


class AttachmentAttributes(Attributes):
    """An attachment as answered: the seed's seven attributes, and ``ready-to-use`` / ``thumbnail-status`` (beyond the
    seed: a pending upload is listed with ``filter[include-pending]``, and a client may poll for a thumbnail).
    ``content-size`` is null until process-upload; ``thumbnail`` is a pre-signed GET valid 5 minutes, or null."""

    content_size: int | None = None
    content_type: str
    created_at: str
    filename: str
    message_id: str
    ready_to_use: bool
    removed: bool
    thumbnail: str | None = None
    thumbnail_status: Literal["none", "pending", "ready", "failed"] = "none"


class ProcessUploadBody(Model):
    """``process-upload``'s plain body: ``individual-id`` (optional), nothing else (400 naming it)."""

    model_config = ConfigDict(extra="forbid", alias_generator=dasherize, populate_by_name=True)

    individual_id: Id | None = None


class UploadTicket(Model):
    """Where and how to upload the file (inside the 201 body's ``data``, with no type and no attributes: the seed)."""

    model_config = ConfigDict(alias_generator=dasherize, populate_by_name=True, serialize_by_alias=True)

    id: str = Field(description="The attachment's id (for process-upload, GET and PATCH).")
    upload_url: str = Field(description="POST the file here as multipart/form-data: every upload-data field, then `file`.")
    upload_data: dict[str, str] = Field(description="The form fields of the pre-signed POST, sent as they are, before the file.")
    expiration_time: int = Field(description="When the upload-url stops accepting the upload: Unix epoch seconds (UTC).")


class UploadTicketDocument(Model):
    """The create's 201 body: ``{"data": {id, upload-url, upload-data, expiration-time}}``."""

    data: UploadTicket
