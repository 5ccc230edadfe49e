"""The table side shared by the three attachment stores (``parley.dal.email_attachments``,
``parley.dal.channel_attachments``, ``parley.dal.bulk_attachments``; docs/data-model.md §6.13, §6.22, §6.26): one
item per attachment, ``PK = TENANT#<t>#<TAG>#<id>``, ``SK = <TAG>``, listed under its parent (an email, a message, a
bulk message) on GSI3 (``GSI3PK = TENANT#<t>#<PARENT TAG>#<parent id>#ATT``, ``GSI3SK = <created_at>#<id>``: creation
order); the client's upload at ``uploads/tenants/<t>/<upload folder>/<id>``, the checked copy at ``object_template``.
Each store is an ``AttachmentStore``; the module that owns it names its functions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parley.dal import table

READY_SET = "SET ready = :t, #size = :size, object_key = :key, etag = :etag"
READY_REMOVE = " REMOVE #ttl, refused"
READY_NAMES = {"#size": "size", "#ttl": "ttl"}
PENDING = "attribute_exists(PK) AND ready = :f"


@dataclass(frozen=True)
class AttachmentStore:
    item_type: str  # the item's ``type``
    tag: str  # the item's key tag (``SK``)
    parent_tag: str  # the parent's tag in GSI3PK
    parent_field: str  # the item's attribute naming its parent
    upload_folder: str  # under ``uploads/tenants/<t>/``
    object_template: str  # the checked copy's key: ``{tenant}``, ``{id}``

    def pk(self, tenant_id: str, attachment_id: str) -> str:
        return f"TENANT#{tenant_id}#{self.tag}#{attachment_id}"

    def parent_pk(self, tenant_id: str, parent_id: str) -> str:
        return f"TENANT#{tenant_id}#{self.parent_tag}#{parent_id}#ATT"

    def upload_key(self, tenant_id: str, attachment_id: str) -> str:
        return f"uploads/tenants/{tenant_id}/{self.upload_folder}/{attachment_id}"

    def object_key(self, tenant_id: str, attachment_id: str) -> str:
        return self.object_template.format(tenant=tenant_id, id=attachment_id)

    def create(self, item: dict[str, Any]) -> None:
        """Store a new (pending) attachment; its id is new, so the write is conditional on the key being free."""
        stored = {
            **item,
            "PK": self.pk(item["tenant_id"], item["id"]),
            "SK": self.tag,
            "type": self.item_type,
            "GSI3PK": self.parent_pk(item["tenant_id"], item[self.parent_field]),
            "GSI3SK": f"{item['created_at']}#{item['id']}",
        }
        table.put_item(stored, condition="attribute_not_exists(PK)")

    def get(self, tenant_id: str, attachment_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        return table.get(self.pk(tenant_id, attachment_id), self.tag, consistent=consistent)

    def page(
        self, tenant_id: str, parent_id: str, *, include_pending: bool = True, offset: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Items ``offset``..``offset+limit`` of the parent's attachments in creation order (ready ones only unless
        ``include_pending``), and how many there are. A parent has few attachments: the filter reads them all at worst."""
        params: dict[str, Any] = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk"}
        if include_pending:
            params["ExpressionAttributeValues"] = table.values(pk=self.parent_pk(tenant_id, parent_id))
        else:
            params["ExpressionAttributeValues"] = table.values(pk=self.parent_pk(tenant_id, parent_id), t=True)
            params["FilterExpression"] = "ready = :t"
        return table.offset_page(offset, limit, **params)

    def all_of(self, tenant_id: str, parent_id: str) -> list[dict[str, Any]]:
        return table.query_all(
            key_condition="GSI3PK = :pk", expr_values=table.values(pk=self.parent_pk(tenant_id, parent_id)), index="GSI3"
        )

    def _ready(self, size: int, key: str, etag: str, also: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The update expression and values that make a pending attachment ready: size, checked key and ETag (and
        the attributes ``also``), the pending item's expiry and the last refusal removed."""
        extra = "".join(f", {name} = :also_{name}" for name in also)
        vals = table.values(t=True, f=False, size=size, key=key, etag=etag, **{f"also_{name}": value for name, value in also.items()})
        return READY_SET + extra + READY_REMOVE, vals

    def ready_update(self, tenant_id: str, attachment_id: str, *, size: int, key: str, etag: str, **also: Any) -> dict[str, Any]:
        """``mark_ready`` as the ``Update`` of a transaction."""
        update, vals = self._ready(size, key, etag, also)
        return {
            "Key": table.key(self.pk(tenant_id, attachment_id), self.tag),
            "UpdateExpression": update,
            "ConditionExpression": PENDING,
            "ExpressionAttributeNames": dict(READY_NAMES),
            "ExpressionAttributeValues": vals,
        }

    def mark_ready(self, tenant_id: str, attachment_id: str, *, size: int, key: str, etag: str, **also: Any) -> bool:
        """Pending → ready, once (False when it was not pending: already ready, or gone)."""
        update, vals = self._ready(size, key, etag, also)
        return table.try_update(
            self.pk(tenant_id, attachment_id), self.tag, update, condition=PENDING, values=vals, names=dict(READY_NAMES)
        )

    def note_refusal(self, tenant_id: str, attachment_id: str, reason: str) -> bool:
        """Record why the last upload was refused (the item stays pending: the client may upload again)."""
        return table.try_update(
            self.pk(tenant_id, attachment_id),
            self.tag,
            "SET refused = :r",
            condition=PENDING,
            values=table.values(r=reason, f=False),
        )
