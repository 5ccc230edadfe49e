"""Threading lookups: which message an RFC 5322 Message-ID names, and the latest message of a conversation.

Items (docs/data-model.md, "Inbound email"):
- ``PK = TENANT#<t>#IMID#<message-id without <>>``, ``SK = MSGREF``, ``message_id``: written for every
  stored inbound email (conditionally: it is also what makes a retried webhook store one message). An
  email without a Message-ID uses ``sha256:<hex of its raw content>`` instead of the id.
- conversations are GSI3 (``TENANT#<t>#CONV#<conversationId>``), written with every message.
"""

from __future__ import annotations

import hashlib
from typing import Any

from botocore.exceptions import ClientError

from parley import clock
from parley.dal import keys, messages, table
from parley.models.domain import Message

REF_SK = "MSGREF"
_MAX_KEY_ID = 400  # longer ids (RFC 5322 allows 998 characters) are hashed to keep the key small


def normalise_message_id(value: str) -> str:
    """``" <abc@host> "`` → ``abc@host`` (case kept: the local part of a Message-ID is case-sensitive)."""
    return value.strip().removeprefix("<").removesuffix(">").strip()


def _ref_pk(tenant_id: str, ref: str) -> str:
    ref = normalise_message_id(ref)
    if len(ref) > _MAX_KEY_ID:
        ref = "sha256:" + hashlib.sha256(ref.encode()).hexdigest()
    return f"TENANT#{tenant_id}#IMID#{ref}"


def ref_key(tenant_id: str, ref: str) -> tuple[str, str]:
    """The key of the item that makes ``ref`` (a Message-ID) name a message."""
    return _ref_pk(tenant_id, ref), REF_SK


def claim_ref(tenant_id: str, ref: str, message_id: str) -> str:
    """Make ``ref`` (a Message-ID or a content fingerprint) name ``message_id``, unless it names a message
    already: returns the message id it names now (``message_id`` when this call claimed it)."""
    item = {
        "PK": _ref_pk(tenant_id, ref),
        "SK": REF_SK,
        "type": "imid_ref",
        "message_id": message_id,
        "created_at": clock.iso(clock.now()),
    }
    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
        return message_id
    except ClientError as err:
        if not table.is_condition_failure(err):
            raise
    existing = table.get(item["PK"], REF_SK)
    if existing is None:  # deleted in between (never done today): claim again
        return claim_ref(tenant_id, ref, message_id)
    return existing["message_id"]


def find_by_message_id(tenant_id: str, ref: str) -> str | None:
    """The id of the inbound message stored under this Message-ID (None if unknown)."""
    if not normalise_message_id(ref):
        return None
    item = table.get(_ref_pk(tenant_id, ref), REF_SK)
    return item["message_id"] if item else None


def create_if_absent(msg: Message) -> bool:
    """Store a new message; False if one with its id exists already."""
    try:
        messages.create(msg)
        return True
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise


def _as_message(item: dict[str, Any]) -> Message:
    return Message.model_validate({k: v for k, v in item.items() if k != "body"})


def conversation_parent(tenant_id: str, conversation_id: str, *, page: int = 25) -> Message | None:
    """The message a reply in this conversation answers: its latest outbound message, else its latest
    message; None when the tenant has no such conversation. One GSI3 Query, newest first (more pages only
    while no outbound message turns up). The body is not loaded."""
    latest: Message | None = None
    start = None
    while True:
        items, start = table.query(
            index="GSI3",
            key_condition="GSI3PK = :pk",
            expr_values=table.values(pk=keys.conversation_pk(tenant_id, conversation_id)),
            forward=False,
            limit=page,
            start_key=start,
        )
        for item in items:
            if item.get("type") != "message":
                continue
            msg = _as_message(item)
            if msg.tenant_id != tenant_id:  # cannot happen (the tenant is in the key); never thread across tenants
                continue
            if msg.direction == "outbound":
                return msg
            latest = latest or msg
        if not start:
            return latest
