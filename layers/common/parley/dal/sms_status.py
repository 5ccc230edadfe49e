"""Twilio webhook writes: inbound SMS stored once per MessageSid, delivery state that only moves forward.

Items (docs/data-model.md, "Twilio webhooks"):
- the provider-id lookup ``PK = TENANT#<t>#PMSG#twilio#<MessageSid>``, ``SK = MSGREF`` (the same item
  ``messages.mark_sent`` writes for outbound sends) is written with an inbound message, conditionally, in
  the transaction that stores the message: a retried webhook stores nothing;
- a message's ``delivery_status`` / ``delivery_rank`` are set by a conditional update (``delivery_rank``
  must grow), with the activity event in the same transaction.
"""

from __future__ import annotations

from typing import Any

from parley import clock
from parley.dal import keys, messages, optins, table
from parley.models.domain import ActivityEvent, Message


def _ref(tenant_id: str, provider: str, provider_message_id: str, message_id: str) -> dict[str, Any]:
    return {
        "PK": keys.provider_message_pk(tenant_id, provider, provider_message_id),
        "SK": keys.PROVIDER_MESSAGE_SK,
        "type": "provider_ref",
        "message_id": message_id,
    }


def store_inbound(msg: Message, *, optin: tuple[bool, dict[str, Any]] | None = None) -> bool:
    """Store an inbound message, its provider-id lookup and (for a STOP/START keyword) the sender's consent
    change, in one transaction. False, with nothing written, when that provider id was stored already."""
    assert msg.provider_message_id, "an inbound provider message needs its provider id"
    ref = _ref(msg.tenant_id, msg.provider, msg.provider_message_id, msg.id)
    ops: list[dict[str, Any]] = [
        {"Put": {"Item": table.marshal(ref), "ConditionExpression": "attribute_not_exists(PK)"}},
        *messages.create_ops(msg),  # the message and, filed under its candidate, the transactional contact
    ]
    if optin is not None:
        opted_in, entry = optin
        ops += optins.record_ops(msg.tenant_id, msg.sender, opted_in=opted_in, entry=entry)
    return table.try_transact(ops)


def latest_conversation(tenant_id: str, address: str, channel: str = "sms") -> str | None:
    """The conversation of the newest message of ``channel`` exchanged with ``address`` (one-item Query on GSI2)."""
    items, _ = table.query(
        index="GSI2",
        key_condition="GSI2PK = :pk AND begins_with(GSI2SK, :p)",
        expr_values=table.values(pk=keys.address_pk(tenant_id, address), p=f"{channel.upper()}#"),
        limit=1,
        forward=False,
    )
    return items[0].get("conversation_id") if items else None


def advance(
    tenant_id: str,
    message_id: str,
    *,
    delivery_status: str,
    rank: int,
    event: ActivityEvent,
    error_code: str | None = None,
) -> bool:
    """Set the message's delivery state if ``rank`` is above the one it has, with its event, atomically.

    False when the message is gone or already at this rank or beyond (a late or repeated callback).
    """
    sets = {"delivery_status": delivery_status, "delivery_rank": rank, "delivery_updated_at": clock.iso(clock.now())}
    if error_code:
        sets["delivery_error"] = error_code
    names = {f"#a{i}": k for i, k in enumerate(sets)}
    vals = {f"v{i}": v for i, v in enumerate(sets.values())}
    update = {
        "Update": {
            "Key": table.key(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK),
            "UpdateExpression": "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets))),
            "ConditionExpression": "attribute_exists(PK) AND (attribute_not_exists(#rank) OR #rank < :rank)",
            "ExpressionAttributeNames": {**names, "#rank": "delivery_rank"},
            "ExpressionAttributeValues": table.values(**vals, rank=rank),
        }
    }
    put = messages.event_op(tenant_id, event)
    put["Put"]["ConditionExpression"] = "attribute_not_exists(SK)"
    return table.try_transact([update, put])
