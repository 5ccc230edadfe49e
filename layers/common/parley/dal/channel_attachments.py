"""The attachments of channel messages (messaging-attachments, seed 003): one table item each, the file and its
thumbnail in the ``BodyBucket`` (docs/data-model.md §6.20, docs/courier.md "Attachments and bookmarks").

- item ``PK = TENANT#<t>#CHATT#<id>``, ``SK = CHATT``: ``{type: "channel_attachment", tenant_id, id, message_id,
  channel_id, filename, content_type, created_at, created_by?, ready, removed, size?, object_key?, etag?, refused?,
  thumbnail: "none"|"pending"|"ready"|"failed", thumbnail_key?, ttl?}``; listed by message on GSI3
  (``GSI3PK = TENANT#<t>#CHMSG#<message id>#ATT``, ``GSI3SK = <created_at>#<id>``: creation order). A message with
  attachments says so (``has_attachments``, set before its first attachment item is written, or by the post that
  attaches them): a message without it is answered without reading its attachments.
- objects: the upload at ``uploads/tenants/<t>/messaging-attachments/<id>`` (the pre-signed POST allows that key only;
  the bucket expires ``uploads/`` after a day), the checked copy at ``messaging-attachments/<t>/<id>`` (the bucket's
  ObjectCreated notification for that prefix queues its thumbnail job: ThumbnailsQueue), the thumbnail
  (ThumbnailsFunction) at ``messaging-thumbnails/<t>/<id>.jpg``.
The S3 calls themselves are the shared ones of ``parley.dal.uploads``.
"""

from __future__ import annotations

from typing import Any

from parley.dal import table
from parley.dal.attachment_items import AttachmentStore

OBJECT_PREFIX = "messaging-attachments/"  # the BodyBucket notification's prefix (template.yaml)
STORE = AttachmentStore(
    item_type="channel_attachment",
    tag="CHATT",
    parent_tag="CHMSG",
    parent_field="message_id",
    upload_folder="messaging-attachments",
    object_template=OBJECT_PREFIX + "{tenant}/{id}",
)
ITEM_TYPE, SK = STORE.item_type, STORE.tag
pk, message_pk, upload_key, object_key = STORE.pk, STORE.parent_pk, STORE.upload_key, STORE.object_key
get, all_of_message, note_refusal = STORE.get, STORE.all_of, STORE.note_refusal


def create(item: dict[str, Any]) -> None:
    """Store a new (pending) attachment of ``item['message_id']``, after marking the message ``has_attachments`` (so
    that an answered message without the mark needs no attachments Query: ``channel_messages.attributes``)."""
    from parley.dal import channel_messages

    table.try_update(channel_messages.message_pk(item["tenant_id"], item["message_id"]), channel_messages.MESSAGE_SK,
                     "SET has_attachments = :t", condition="attribute_exists(PK)", values=table.values(t=True))  # fmt: skip
    STORE.create(item)


def parse_object_key(key: str) -> tuple[str, str] | None:
    """``(tenant, attachment id)`` of a checked copy's key, or None for any other key."""
    if not key.startswith(OBJECT_PREFIX):
        return None
    parts = key[len(OBJECT_PREFIX) :].split("/")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def thumbnail_key(tenant_id: str, attachment_id: str) -> str:
    return f"messaging-thumbnails/{tenant_id}/{attachment_id}.jpg"


def page_of_message(tenant_id: str, message_id: str, *, include_pending: bool, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The message's attachments in creation order (ready ones only unless ``include_pending``): ``STORE.page``."""
    return STORE.page(tenant_id, message_id, include_pending=include_pending, offset=offset, limit=limit)


def mark_ready(tenant_id: str, attachment_id: str, *, size: int, key: str, etag: str, thumbnail: str) -> bool:
    """Pending → ready, once (False when it was not pending). ``thumbnail``: "pending" for an image (its job is
    queued), "none" otherwise. The pending item's expiry and the last refusal are removed."""
    return STORE.mark_ready(tenant_id, attachment_id, size=size, key=key, etag=etag, thumbnail=thumbnail)


def set_thumbnail(tenant_id: str, attachment_id: str, *, state: str, key: str | None = None) -> bool:
    """The thumbnail's outcome ("ready" with its key, or "failed"), on a ready attachment only."""
    expr, vals = "SET thumbnail = :s", {"s": state, "t": True}
    if key is not None:
        expr += ", thumbnail_key = :k"
        vals["k"] = key
    return table.try_update(
        pk(tenant_id, attachment_id), SK, expr, condition="attribute_exists(PK) AND ready = :t", values=table.values(**vals)
    )


def mark_removed(tenant_id: str, attachment_id: str, *, at: str) -> bool:
    """Soft delete, once (False when it was removed already)."""
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET removed = :t, removed_at = :at",
        condition="attribute_exists(PK) AND removed <> :t",
        values=table.values(t=True, at=at),
    )


def move_to_message(tenant_id: str, attachment_id: str, message_id: str, *, channel_id: str) -> bool:
    """Attach a ready, not removed attachment of the channel to ``message_id`` (its GSI3 list moves with it)."""
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET message_id = :m, GSI3PK = :gpk",
        condition="attribute_exists(PK) AND ready = :t AND removed <> :t AND channel_id = :c",
        values=table.values(m=message_id, gpk=message_pk(tenant_id, message_id), t=True, c=channel_id),
    )
