"""The attachments of channel messages (messaging-attachments, seed 003): one table item each, the file and its
thumbnail in the ``BodyBucket`` (docs/data-model.md §6.20, docs/courier.md "Attachments and bookmarks").

- item ``PK = TENANT#<t>#CHATT#<id>``, ``SK = CHATT``: ``{type: "channel_attachment", tenant_id, id, message_id,
  channel_id, filename, content_type, created_at, created_by?, ready, removed, size?, object_key?, etag?, refused?,
  thumbnail: "none"|"pending"|"ready"|"failed", thumbnail_key?, ttl?}``; listed by message on GSI3
  (``GSI3PK = TENANT#<t>#CHMSG#<message id>#ATT``, ``GSI3SK = <created_at>#<id>``: creation order).
- objects: the upload at ``uploads/tenants/<t>/messaging-attachments/<id>`` (the pre-signed POST allows that key only;
  the bucket expires ``uploads/`` after a day), the checked copy at ``messaging-attachments/<t>/<id>`` (the bucket's
  ObjectCreated notification for that prefix queues its thumbnail job: ThumbnailsQueue), the thumbnail
  (ThumbnailsFunction) at ``messaging-thumbnails/<t>/<id>.jpg``.
The S3 calls themselves are the shared ones of ``parley.dal.uploads``.
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

ITEM_TYPE = "channel_attachment"
SK = "CHATT"


def pk(tenant_id: str, attachment_id: str) -> str:
    return f"TENANT#{tenant_id}#CHATT#{attachment_id}"


def message_pk(tenant_id: str, message_id: str) -> str:
    return f"TENANT#{tenant_id}#CHMSG#{message_id}#ATT"


def upload_key(tenant_id: str, attachment_id: str) -> str:
    return f"uploads/tenants/{tenant_id}/messaging-attachments/{attachment_id}"


OBJECT_PREFIX = "messaging-attachments/"  # the BodyBucket notification's prefix (template.yaml)


def object_key(tenant_id: str, attachment_id: str) -> str:
    return f"{OBJECT_PREFIX}{tenant_id}/{attachment_id}"


def parse_object_key(key: str) -> tuple[str, str] | None:
    """``(tenant, attachment id)`` of a checked copy's key, or None for any other key."""
    if not key.startswith(OBJECT_PREFIX):
        return None
    parts = key[len(OBJECT_PREFIX) :].split("/")
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def thumbnail_key(tenant_id: str, attachment_id: str) -> str:
    return f"messaging-thumbnails/{tenant_id}/{attachment_id}.jpg"


def create(item: dict[str, Any]) -> None:
    """Store a new (pending) attachment, conditional on its (new) key being free."""
    stored = {
        **item,
        "PK": pk(item["tenant_id"], item["id"]),
        "SK": SK,
        "type": ITEM_TYPE,
        "GSI3PK": message_pk(item["tenant_id"], item["message_id"]),
        "GSI3SK": f"{item['created_at']}#{item['id']}",
    }
    table.put_item(stored, condition="attribute_not_exists(PK)")


def get(tenant_id: str, attachment_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, attachment_id), SK, consistent=consistent)


def _of_message(tenant_id: str, message_id: str, include_pending: bool) -> dict[str, Any]:
    params: dict[str, Any] = {
        "IndexName": "GSI3",
        "KeyConditionExpression": "GSI3PK = :pk",
        "ExpressionAttributeValues": table.values(pk=message_pk(tenant_id, message_id), t=True),
        "FilterExpression": "ready = :t",
    }
    if include_pending:
        params.pop("FilterExpression")
        params["ExpressionAttributeValues"] = table.values(pk=message_pk(tenant_id, message_id))
    return params


def page_of_message(tenant_id: str, message_id: str, *, include_pending: bool, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of the message's attachments in creation order (ready ones only unless
    ``include_pending``), and how many there are. A message has few attachments: the filter reads them all at worst."""
    return table.offset_page(offset, limit, **_of_message(tenant_id, message_id, include_pending))


def all_of_message(tenant_id: str, message_id: str) -> list[dict[str, Any]]:
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=message_pk(tenant_id, message_id)), index="GSI3")


def mark_ready(tenant_id: str, attachment_id: str, *, size: int, key: str, etag: str, thumbnail: str) -> bool:
    """Pending → ready, once (False when it was not pending). ``thumbnail``: "pending" for an image (its job is
    queued), "none" otherwise. The pending item's expiry and the last refusal are removed."""
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET ready = :t, #size = :size, object_key = :key, etag = :etag, thumbnail = :th REMOVE #ttl, refused",
        condition="attribute_exists(PK) AND ready = :f",
        values=table.values(t=True, f=False, size=size, key=key, etag=etag, th=thumbnail),
        names={"#size": "size", "#ttl": "ttl"},
    )


def note_refusal(tenant_id: str, attachment_id: str, reason: str) -> bool:
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET refused = :r",
        condition="attribute_exists(PK) AND ready = :f",
        values=table.values(r=reason, f=False),
    )


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
