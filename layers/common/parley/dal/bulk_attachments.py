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
from parley.dal.attachment_items import AttachmentStore

STORE = AttachmentStore(
    item_type="bulk_attachment",
    tag="BULKATT",
    parent_tag="BULK",
    parent_field="bulk_id",
    upload_folder="messaging-bulk-attachments",
    object_template="bulk-attachments/{tenant}/{id}",
)
ITEM_TYPE, SK = STORE.item_type, STORE.tag
pk, bulk_pk, upload_key, object_key = STORE.pk, STORE.parent_pk, STORE.upload_key, STORE.object_key
create, get, all_of_bulk, note_refusal = STORE.create, STORE.get, STORE.all_of, STORE.note_refusal


def page_of_bulk(tenant_id: str, bulk_id: str, *, include_pending: bool, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The bulk's attachments in creation order (ready ones only unless ``include_pending``): ``STORE.page``."""
    return STORE.page(tenant_id, bulk_id, include_pending=include_pending, offset=offset, limit=limit)


def mark_ready(tenant_id: str, attachment_id: str, *, bulk_id: str, size: int, key: str, etag: str) -> str:
    """Pending → ready, once, while its bulk message is still a draft (area 1's item, ``draft = true``, checked in the
    same transaction: posting flips it with a conditional write, so no file becomes ready once posting started).
    ``"ready"``; ``"done"`` when it was not pending (ready before); ``"posted"`` when the bulk is no longer a draft."""
    from botocore.exceptions import ClientError

    from parley.dal import bulk_messages

    ops = [
        {"Update": STORE.ready_update(tenant_id, attachment_id, size=size, key=key, etag=etag)},
        {
            "ConditionCheck": {
                "Key": table.key(bulk_messages.pk(tenant_id, bulk_id), bulk_messages.SK),
                "ConditionExpression": "draft = :t",
                "ExpressionAttributeValues": table.values(t=True),
            }
        },
    ]
    try:
        table.transact(ops)
    except ClientError as err:
        if not table.is_condition_failure(err):
            raise
        reasons = table.cancel_reasons(err)
        return "done" if reasons and reasons[0] == "ConditionalCheckFailed" else "posted"
    return "ready"


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
