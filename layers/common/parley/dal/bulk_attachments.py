"""The attachments of a draft bulk message (messaging-bulk-attachments, seed 003): one table item each, the file in
the ``BodyBucket`` (docs/data-model.md §6.26).

- item ``PK = TENANT#<t>#BULKATT#<id>``, ``SK = BULKATT``: ``{type: "bulk_attachment", tenant_id, id, bulk_id,
  filename, content_type, created_at, created_by_individual, created_by?, ready, size?, object_key?, etag?,
  refused?, ttl?}``; listed by bulk message on GSI3 (``GSI3PK = TENANT#<t>#BULK#<bulk id>#ATT``,
  ``GSI3SK = <created_at>#<id>``: creation order).
- objects: the upload at ``uploads/tenants/<t>/messaging-bulk-attachments/<id>`` (the pre-signed POST allows that
  key only; the bucket expires ``uploads/`` after a day), the checked copy at ``bulk-attachments/<t>/<id>`` (a
  prefix without a thumbnail notification: each posted message gets its own copy under ``messaging-attachments/``).
The S3 calls themselves are the shared ones of ``parley.dal.uploads``.
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

ITEM_TYPE = "bulk_attachment"
SK = "BULKATT"


def pk(tenant_id: str, attachment_id: str) -> str:
    return f"TENANT#{tenant_id}#BULKATT#{attachment_id}"


def bulk_pk(tenant_id: str, bulk_id: str) -> str:
    return f"TENANT#{tenant_id}#BULK#{bulk_id}#ATT"


def upload_key(tenant_id: str, attachment_id: str) -> str:
    return f"uploads/tenants/{tenant_id}/messaging-bulk-attachments/{attachment_id}"


def object_key(tenant_id: str, attachment_id: str) -> str:
    return f"bulk-attachments/{tenant_id}/{attachment_id}"


def create(item: dict[str, Any]) -> None:
    """Store a new (pending) bulk attachment, conditional on its (new) key being free."""
    stored = {
        **item,
        "PK": pk(item["tenant_id"], item["id"]),
        "SK": SK,
        "type": ITEM_TYPE,
        "GSI3PK": bulk_pk(item["tenant_id"], item["bulk_id"]),
        "GSI3SK": f"{item['created_at']}#{item['id']}",
    }
    table.put_item(stored, condition="attribute_not_exists(PK)")


def get(tenant_id: str, attachment_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, attachment_id), SK, consistent=consistent)


def _of_bulk(tenant_id: str, bulk_id: str, include_pending: bool) -> dict[str, Any]:
    if include_pending:
        return {
            "IndexName": "GSI3",
            "KeyConditionExpression": "GSI3PK = :pk",
            "ExpressionAttributeValues": table.values(pk=bulk_pk(tenant_id, bulk_id)),
        }
    return {
        "IndexName": "GSI3",
        "KeyConditionExpression": "GSI3PK = :pk",
        "ExpressionAttributeValues": table.values(pk=bulk_pk(tenant_id, bulk_id), t=True),
        "FilterExpression": "ready = :t",
    }


def page_of_bulk(tenant_id: str, bulk_id: str, *, include_pending: bool, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of the bulk's attachments in creation order (ready ones only unless
    ``include_pending``), and how many there are. A bulk has few attachments: the filter reads them all at worst."""
    return table.offset_page(offset, limit, **_of_bulk(tenant_id, bulk_id, include_pending))


def all_of_bulk(tenant_id: str, bulk_id: str) -> list[dict[str, Any]]:
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=bulk_pk(tenant_id, bulk_id)), index="GSI3")


def mark_ready(tenant_id: str, attachment_id: str, *, size: int, key: str, etag: str) -> bool:
    """Pending → ready, once (False when it was not pending); the pending item's expiry and last refusal removed."""
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET ready = :t, #size = :size, object_key = :key, etag = :etag REMOVE #ttl, refused",
        condition="attribute_exists(PK) AND ready = :f",
        values=table.values(t=True, f=False, size=size, key=key, etag=etag),
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


def create_message_copy(item: dict[str, Any]) -> bool:
    """Store the (pending) messaging-attachment made of a bulk attachment for one message (``parley.dal.
    channel_attachments``' item); False when it exists already (a redelivered post)."""
    from botocore.exceptions import ClientError

    from parley.dal import channel_attachments

    try:
        channel_attachments.create(item)
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True
