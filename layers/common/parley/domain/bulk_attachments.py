"""The attachments of a draft bulk message (messaging-bulk-attachments, seed 003; docs/courier.md "Messaging automation
and scale (issue 19)" → "Bulk attachments").

The upload is messaging-attachments' two phases (``parley.domain.uploads``, shared): ``create`` answers a pre-signed
S3 POST for a draft bulk message the caller may see (``parley.domain.bulk_messages.require_bulk``); ``process_upload``
checks the stored bytes, copies them to ``bulk-attachments/<t>/<id>`` and marks the bulk attachment ready.

For the bulk posting job (area 1): ``ready`` (the bulk's ready attachments) and ``copy_to_message`` (each of them made
a messaging-attachment of one posted message, idempotently).
"""

from __future__ import annotations

import uuid
from typing import Any

from parley import clock
from parley.dal import bulk_attachments as store
from parley.dal import uploads as objects
from parley.domain.uploads import check_pending, media_type, open_upload
from parley.errors import Conflict, NotFound
from parley.models.bulk_attachments import BulkAttachmentAttributes, BulkAttachmentCreateAttributes
from parley.models.channel_attachments import UploadTicket

MAX_BYTES = 25 * 1024 * 1024  # as messaging-attachments: each becomes one
NAMESPACE = uuid.UUID("5b0f3c2e-9a51-4c8e-8f43-7d1e2b6a9c10")  # the ids of the messaging-attachments copied from a bulk


def copy_id(bulk_attachment_id: str, message_id: str) -> str:
    """The id of the messaging-attachment made of ``bulk_attachment_id`` for ``message_id``: deterministic, so a
    redelivered or re-run post finds it there."""
    return str(uuid.uuid5(NAMESPACE, f"{bulk_attachment_id}:{message_id}"))


def ready(tenant_id: str, bulk_id: str) -> list[dict[str, Any]]:
    """The bulk message's ready attachments (stored items: ``id``, ``filename``, ``content_type``, ``size``,
    ``object_key``, ``etag``, …), in creation order. Pending uploads are not included. A Query on the bulk's index."""
    return [i for i in store.all_of_bulk(tenant_id, bulk_id) if i.get("ready")]


def copy_to_message(tenant_id: str, bulk_id: str, message_id: str, channel_id: str) -> list[str]:
    """Make each ready attachment of the bulk a messaging-attachment of ``message_id`` (in ``channel_id``): the item of
    ``parley.dal.channel_attachments`` (so ``GET /v1/messaging-attachments/?message-id=…`` lists it) with the id
    ``copy_id(bulk attachment, message)`` and its own server-side copy of the checked object (an image's thumbnail is
    then made by ThumbnailsFunction as for any messaging-attachment). Idempotent: what exists already is kept, an
    interrupted copy is finished. The messaging-attachment ids, in the bulk's order. Raises only on a transient error
    (the caller's batch is retried)."""
    from parley.dal import channel_attachments as message_store
    from parley.domain.uploads import IMAGES

    sources = ready(tenant_id, bulk_id)
    if not sources:
        return []
    from parley.dal import channel_messages

    message = channel_messages.get_message(tenant_id, message_id, consistent=True)
    if message is None:
        raise NotFound(f"no message {message_id}", code="not-found")
    ids = []
    for source in sources:
        attachment_id = copy_id(source["id"], message_id)
        ids.append(attachment_id)
        item = message_store.get(tenant_id, attachment_id, consistent=True)
        if item is not None and item.get("ready"):
            continue
        if item is None:  # pending first: ThumbnailsFunction retries a copy whose item is not ready yet
            store.create_message_copy(
                {
                    "tenant_id": tenant_id,
                    "id": attachment_id,
                    "message_id": message_id,
                    "channel_id": channel_id,
                    "filename": source["filename"],
                    "content_type": source["content_type"],
                    "created_at": clock.iso(clock.now()),
                    "created_by_individual": message["individual_id"],  # the bulk's sender: may remove it
                    "bulk_id": bulk_id,
                    "bulk_attachment_id": source["id"],
                    "ready": False,
                    "removed": False,
                    "thumbnail": "none",
                }
            )
        key = message_store.object_key(tenant_id, attachment_id)
        etag = objects.copy(source["object_key"], key, etag=source["etag"], content_type=source["content_type"])
        thumbnail = "pending" if source["content_type"] in IMAGES else "none"
        message_store.mark_ready(tenant_id, attachment_id, size=int(source["size"]), key=key, etag=etag, thumbnail=thumbnail)
    return ids


# ── access ──
def _require_bulk(tenant_id: str, bulk_id: str, *, draft: bool, parameter: str | None = None, pointer: str | None = None) -> dict[str, Any]:
    """The tenant's bulk message (404 otherwise: ``bulk_messages.require_bulk``); ``draft``: it must still be a draft
    (409 once posted: its messages are made of the attachments it had then)."""
    from parley.domain import bulk_messages  # area 1's interface

    bulk = bulk_messages.require_bulk(tenant_id, bulk_id, parameter=parameter, pointer=pointer)
    if draft and not bulk.get("draft", False):
        raise Conflict(
            "the bulk message is posted: its attachments can no longer change", code="bulk-posted", parameter=parameter, pointer=pointer
        )
    return bulk


def _not_found(attachment_id: str) -> NotFound:
    return NotFound(f"no messaging-bulk-attachment {attachment_id}", code="not-found")


def _item(tenant_id: str, attachment_id: str, *, consistent: bool = False) -> dict[str, Any]:
    item = store.get(tenant_id, attachment_id, consistent=consistent)
    if item is None:
        raise _not_found(attachment_id)
    return item


def _attributes(item: dict[str, Any]) -> BulkAttachmentAttributes:
    ready = bool(item.get("ready"))
    return BulkAttachmentAttributes(
        bulk_message_id=item["bulk_id"],
        content_size=int(item["size"]) if ready and item.get("size") is not None else None,
        content_type=item["content_type"],
        created_at=item["created_at"],
        filename=item["filename"],
        ready_to_use=ready,
    )


# ── the routes ──
def create(tenant_id: str, attrs: BulkAttachmentCreateAttributes, *, user_id: str | None = None) -> UploadTicket:
    """A pending bulk attachment of a draft bulk message and a pre-signed S3 POST for its file (15 minutes)."""
    from parley.domain.channel_attachments import TYPES

    kind = media_type(attrs.content_type, allowed=TYPES)
    _require_bulk(tenant_id, attrs.bulk_message_id, draft=True, pointer="/data/attributes/bulk-message-id")
    fields = {"bulk_id": attrs.bulk_message_id}
    attachment_id, post, expires = open_upload(
        store, tenant_id, fields, kind=kind, filename=attrs.filename, max_bytes=MAX_BYTES, user_id=user_id
    )
    return UploadTicket(id=attachment_id, upload_url=post["url"], upload_data=post["fields"], expiration_time=expires)


def get(tenant_id: str, attachment_id: str) -> tuple[str, BulkAttachmentAttributes]:
    return attachment_id, _attributes(_item(tenant_id, attachment_id))


def page(
    tenant_id: str, bulk_id: str, *, include_pending: bool, offset: int, limit: int
) -> tuple[list[tuple[str, BulkAttachmentAttributes]], int]:
    """The bulk's attachments in creation order: ready ones, pending uploads too with ``include_pending``."""
    _require_bulk(tenant_id, bulk_id, draft=False, parameter="bulk-message-id")
    items, total = store.page_of_bulk(tenant_id, bulk_id, include_pending=include_pending, offset=offset, limit=limit)
    return [(i["id"], _attributes(i)) for i in items], total


def process_upload(tenant_id: str, attachment_id: str) -> tuple[str, BulkAttachmentAttributes]:
    """Check the uploaded file (``parley.domain.uploads.check_upload``: real size and type) and mark the bulk
    attachment ready; its bulk must still be a draft (409). Idempotent: a ready one is answered as it is."""
    item = _item(tenant_id, attachment_id, consistent=True)
    if item.get("ready"):
        return attachment_id, _attributes(item)
    _require_bulk(tenant_id, item["bulk_id"], draft=True)
    checked = check_pending(store, tenant_id, attachment_id, item["content_type"], max_bytes=MAX_BYTES)
    if isinstance(checked, dict):  # a concurrent process-upload finished it
        return attachment_id, _attributes(checked)
    source, key = store.upload_key(tenant_id, attachment_id), store.object_key(tenant_id, attachment_id)
    outcome = store.mark_ready(tenant_id, attachment_id, bulk_id=item["bulk_id"], size=checked.size, key=key, etag=checked.etag)
    if outcome == "posted":  # posting started while the file was checked: it is not one of the bulk's files
        objects.delete(key)
        raise Conflict("the bulk message is posted: its attachments can no longer change", code="bulk-posted")
    objects.delete(source)
    return attachment_id, _attributes(store.get(tenant_id, attachment_id, consistent=True) or item)
