"""The attachments of courier user-emails (seed 003): a two-phase upload straight to storage, a check of the stored
bytes, and what the send path needs (docs/courier.md "Email attachments").

1. ``create``: the email must be the tenant's; a pending attachment is stored and a pre-signed S3 POST answered
   (``upload-url``, ``upload-data``, ``expiration-time`` in epoch seconds), good for ``UPLOAD_SECONDS``
   (``parley.domain.uploads``), for exactly one key, the declared Content-Type and 1..``MAX_BYTES`` bytes.
2. the client POSTs the file to S3 itself.
3. ``process_upload``: the stored object's real size and its real type (by its bytes: ``sniff``) are checked against
   the limit and the declared type; a refused file is deleted (422, the attachment stays pending: the client may upload
   again while the ticket lasts); an accepted one is copied to its final key (that version only: ``CopySourceIfMatch``)
   and the attachment marked ready. A ready attachment is answered as it is: process-upload is idempotent.

For the send path: ``ready_attachments`` (the ready files of an email, bytes included) and ``build_mime`` (a raw
multipart/mixed message for SES ``SendRawEmail`` / SES v2 ``Content.Raw``).
"""

from __future__ import annotations

from typing import Any

from parley.dal import email_attachments as store
from parley.dal import user_emails
from parley.domain.uploads import ALLOWED, DOCX, MAGIC, SNIFF_BYTES, TEXT, XLSX, ZIPPED, check_pending, media_type, open_upload, sniff
from parley.errors import NotFound
from parley.models.courier_email_attachments import AttachmentAttributes, AttachmentCreateAttributes, UploadTicket
from parley.providers.mime import Attachment, build_mime

# The type checks are parley.domain.uploads' (shared with messaging-attachments), named here as before.
__all__ = ["ALLOWED", "DOCX", "MAGIC", "SNIFF_BYTES", "TEXT", "XLSX", "ZIPPED", "Attachment", "ReadyAttachment", "build_mime",
           "create", "get", "media_type", "page", "process_upload", "ready_attachments", "sniff"]  # fmt: skip

MAX_BYTES = 10 * 1024 * 1024  # per attachment (SES v2 takes raw messages up to 40 MB, base64 included)
LINK_SECONDS = 5 * 60  # how long a download-link works
# UPLOAD_SECONDS (the pre-signed POST's life) and PENDING_DAYS (a pending item's and its upload's) are parley.domain.uploads'


# ── the email an attachment belongs to ──
def email_of(tenant_id: str, email_id: str) -> dict[str, Any] | None:
    """The tenant's user-email ``email_id`` (``dal/user_emails``), or None. Another tenant's email is not found (the
    tenant is in the key). Once sent, its send pipeline message has the same id (``domain/user_emails``), which is how
    the dispatcher finds its attachments."""
    return user_emails.get(tenant_id, email_id)


def _require_email(tenant_id: str, email_id: str, *, pointer: str | None = None, parameter: str | None = None) -> None:
    if email_of(tenant_id, email_id) is None:
        raise NotFound(f"no user-email {email_id}", pointer=pointer, parameter=parameter, code="not-found")


# ── the routes ──
def _attributes(item: dict[str, Any], *, link: bool = False) -> AttachmentAttributes:
    ready = bool(item.get("ready"))
    download = None
    if link and ready:
        download = store.presigned_get(
            item["object_key"], filename=item["filename"], content_type=item["content_type"], expires_in=LINK_SECONDS
        )
    return AttachmentAttributes(
        content_type=item["content_type"],
        created_at=item["created_at"],
        download_link=download,
        filename=item["filename"],
        ready_to_use=ready,
        size=int(item["size"]) if ready and item.get("size") is not None else None,
    )


def create(tenant_id: str, attrs: AttachmentCreateAttributes, *, user_id: str | None = None) -> UploadTicket:
    kind = media_type(attrs.content_type)
    _require_email(tenant_id, attrs.email_id, pointer="/data/attributes/email-id")
    fields = {"email_id": attrs.email_id}
    attachment_id, post, expires = open_upload(
        store, tenant_id, fields, kind=kind, filename=attrs.filename, max_bytes=MAX_BYTES, user_id=user_id
    )
    return UploadTicket(id=attachment_id, upload_url=post["url"], upload_data=post["fields"], expiration_time=expires)


def _not_found(attachment_id: str) -> NotFound:
    return NotFound(f"no user-email-attachment {attachment_id}", code="not-found")


def _item(tenant_id: str, attachment_id: str, *, consistent: bool = False) -> dict[str, Any]:
    item = store.get(tenant_id, attachment_id, consistent=consistent)
    if item is None:
        raise _not_found(attachment_id)
    return item


def get(tenant_id: str, attachment_id: str, *, with_link: bool = False) -> tuple[str, AttachmentAttributes]:
    return attachment_id, _attributes(_item(tenant_id, attachment_id), link=with_link)


def page(tenant_id: str, email_id: str, *, offset: int, limit: int) -> tuple[list[tuple[str, AttachmentAttributes]], int]:
    """The email's attachments (pending ones included: ``ready-to-use`` tells them apart), in creation order."""
    _require_email(tenant_id, email_id, parameter="email-id")
    items, total = store.page_of_email(tenant_id, email_id, offset=offset, limit=limit)
    return [(i["id"], _attributes(i)) for i in items], total


def process_upload(tenant_id: str, attachment_id: str) -> tuple[str, AttachmentAttributes]:
    item = _item(tenant_id, attachment_id, consistent=True)
    if item.get("ready"):
        return attachment_id, _attributes(item)  # done before: the same answer, nothing read or written
    checked = check_pending(store, tenant_id, attachment_id, item["content_type"], max_bytes=MAX_BYTES, gone=_not_found)
    if isinstance(checked, dict):  # a concurrent process-upload finished it (and removed the upload)
        return attachment_id, _attributes(checked)
    if store.mark_ready(tenant_id, attachment_id, size=checked.size, key=store.object_key(tenant_id, attachment_id), etag=checked.etag):
        store.delete(store.upload_key(tenant_id, attachment_id))
    return attachment_id, _attributes(_item(tenant_id, attachment_id, consistent=True))


# ── the send path ──
ReadyAttachment = Attachment  # (filename, content_type, data)


def ready_attachments(tenant_id: str, email_id: str) -> list[Attachment]:
    """The email's ready attachments with their bytes, in creation order (pending ones are left out: never sent).
    ``ObjectChanged`` if a checked file is gone (nothing but process-upload writes those keys)."""
    out = []
    for item in store.all_of_email(tenant_id, email_id):
        if item.get("ready"):
            data = store.read(item["object_key"], etag=item["etag"])
            out.append(Attachment(filename=item["filename"], content_type=item["content_type"], data=data))
    return out
