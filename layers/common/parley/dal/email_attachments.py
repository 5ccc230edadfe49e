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

from parley.dal.attachment_items import AttachmentStore
from parley.dal.uploads import ObjectChanged, copy, delete, head, presigned_get, presigned_post, read  # the shared S3 side

__all__ = ["ObjectChanged", "copy", "delete", "head", "presigned_get", "presigned_post", "read"]

STORE = AttachmentStore(
    item_type="user_email_attachment",
    tag="UEATT",
    parent_tag="UEMAIL",
    parent_field="email_id",
    upload_folder="email-attachments",
    object_template="tenants/{tenant}/email-attachments/{id}",
)
ITEM_TYPE, SK = STORE.item_type, STORE.tag
pk, email_pk, upload_key, object_key = STORE.pk, STORE.parent_pk, STORE.upload_key, STORE.object_key
create, get, all_of_email, mark_ready, note_refusal = STORE.create, STORE.get, STORE.all_of, STORE.mark_ready, STORE.note_refusal


def page_of_email(tenant_id: str, email_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of the email's attachments (pending ones included) in creation order, and
    how many there are."""
    return STORE.page(tenant_id, email_id, include_pending=True, offset=offset, limit=limit)
