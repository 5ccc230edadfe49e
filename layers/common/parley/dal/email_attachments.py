"""The attachments of courier user-emails (seed 003): one table item each, the file in the ``BodyBucket``
(docs/data-model.md §6.10, docs/courier.md "Email attachments").

- item ``PK = TENANT#<t>#UEATT#<id>``, ``SK = UEATT``: ``{type: "user_email_attachment", tenant_id, id, email_id,
  filename, content_type, created_at, ready, size?, object_key?, etag?, refused?, ttl?}``; listed by email on GSI3
  (``GSI3PK = TENANT#<t>#UEMAIL#<email id>#ATT``, ``GSI3SK = <created_at>#<id>``: creation order). ``SK`` is neither
  ``MSG`` nor ``HIST#…``/``FWD#…``, so the table stream's filter for ``TallyFunction`` leaves it out.
- objects: the client's upload at ``uploads/tenants/<t>/email-attachments/<id>`` (the pre-signed POST allows that key
  only; the bucket expires ``uploads/`` after a day), the checked copy at ``tenants/<t>/email-attachments/<id>``
  (written only by process-upload, so what was checked cannot be replaced afterwards).
"""

from __future__ import annotations

from typing import Any

from parley.dal import table
from parley.dal.uploads import ObjectChanged, copy, delete, head, presigned_get, presigned_post, read  # the shared S3 side

__all__ = ["ObjectChanged", "copy", "delete", "head", "presigned_get", "presigned_post", "read"]

ITEM_TYPE = "user_email_attachment"
SK = "UEATT"


def pk(tenant_id: str, attachment_id: str) -> str:
    return f"TENANT#{tenant_id}#UEATT#{attachment_id}"


def email_pk(tenant_id: str, email_id: str) -> str:
    return f"TENANT#{tenant_id}#UEMAIL#{email_id}#ATT"


def upload_key(tenant_id: str, attachment_id: str) -> str:
    return f"uploads/tenants/{tenant_id}/email-attachments/{attachment_id}"


def object_key(tenant_id: str, attachment_id: str) -> str:
    return f"tenants/{tenant_id}/email-attachments/{attachment_id}"


# ── items ──
def create(item: dict[str, Any]) -> None:
    """Store a new (pending) attachment; its id is new, so the write is conditional on the key being free."""
    stored = {
        **item,
        "PK": pk(item["tenant_id"], item["id"]),
        "SK": SK,
        "type": ITEM_TYPE,
        "GSI3PK": email_pk(item["tenant_id"], item["email_id"]),
        "GSI3SK": f"{item['created_at']}#{item['id']}",
    }
    table.put_item(stored, condition="attribute_not_exists(PK)")


def get(tenant_id: str, attachment_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, attachment_id), SK, consistent=consistent)


def page_of_email(tenant_id: str, email_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of the email's attachments in creation order, and how many there are."""
    return table.offset_page(
        offset,
        limit,
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :pk",
        ExpressionAttributeValues=table.values(pk=email_pk(tenant_id, email_id)),
    )


def all_of_email(tenant_id: str, email_id: str) -> list[dict[str, Any]]:
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=email_pk(tenant_id, email_id)), index="GSI3")


def mark_ready(tenant_id: str, attachment_id: str, *, size: int, key: str, etag: str) -> bool:
    """Pending → ready, once (False when it was not pending: already ready, or gone). The expiry of a pending item
    and the last refusal are removed."""
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET ready = :t, #size = :size, object_key = :key, etag = :etag REMOVE #ttl, refused",
        condition="attribute_exists(PK) AND ready = :f",
        values=table.values(t=True, f=False, size=size, key=key, etag=etag),
        names={"#size": "size", "#ttl": "ttl"},
    )


def note_refusal(tenant_id: str, attachment_id: str, reason: str) -> bool:
    """Record why the last upload was refused (the item stays pending: the client may upload again)."""
    return table.try_update(
        pk(tenant_id, attachment_id),
        SK,
        "SET refused = :r",
        condition="attribute_exists(PK) AND ready = :f",
        values=table.values(r=reason, f=False),
    )
