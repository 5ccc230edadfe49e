"""user-email-attachments (seed 003, the courier email domain): the attachments of a user-email, uploaded in two
phases — ``POST /v1/user-email-attachments/`` answers a pre-signed S3 POST (a plain ``UploadTicket``, not a JSON:API
document: the seed shows it so), the client uploads straight to storage, ``process-upload`` checks the stored bytes
and marks the attachment ``ready-to-use`` (docs/courier.md "Email attachments")."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, ConfigDict, Field, StringConstraints

from parley.models.base import Model
from parley.models.jsonapi import Attributes, dasherize

TYPE = "user-email-attachments"

EmailId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:-]+$")]


def _filename(value: str) -> str:
    """A file name as the email's MIME part names it: no path, no control characters, not only dots."""
    if any(ch in value for ch in "/\\") or any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("must be a file name: no '/', '\\' or control characters")
    if not value.strip(" .") or value != value.strip():
        raise ValueError("must be a file name: no leading or trailing spaces, not only dots")
    return value


Filename = Annotated[str, StringConstraints(min_length=1, max_length=255), AfterValidator(_filename)]
ContentType = Annotated[str, StringConstraints(min_length=3, max_length=255)]


class AttachmentCreateAttributes(Attributes):
    """The create request's attributes: all three are required (the seed shows no required flags; an attachment
    without its email, name or declared type cannot be uploaded, checked or sent)."""

    content_type: ContentType
    email_id: EmailId
    filename: Filename


class AttachmentAttributes(Attributes):
    """An attachment as answered (the seed's six attributes). ``size`` is the checked size in bytes (null until
    ``process-upload``); ``download-link`` is null unless ``with-link=true`` asked for it on a ready attachment."""

    content_type: str
    created_at: str
    download_link: str | None = None
    filename: str
    ready_to_use: bool
    size: int | None = None


class ProcessUploadBody(Model):
    """``process-upload``'s body: the seed sends ``{}`` (no fields); a member is refused (400 with its pointer)."""

    model_config = ConfigDict(extra="forbid")


class UploadTicket(Model):
    """The create's 201 body (plain JSON, as the seed shows it): where and how to upload the file."""

    model_config = ConfigDict(alias_generator=dasherize, populate_by_name=True, serialize_by_alias=True)

    id: str = Field(description="The attachment's id (for process-upload and GET).")
    upload_url: str = Field(description="POST the file here as multipart/form-data: every upload-data field, then `file`.")
    upload_data: dict[str, str] = Field(description="The form fields of the pre-signed POST, sent as they are, before the file.")
    expiration_time: int = Field(description="When the upload-url stops accepting the upload: Unix epoch seconds (UTC).")
