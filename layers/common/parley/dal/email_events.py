"""Provider email events: exactly-once recording (dedupe item + activity event) and delivery state.

Dedupe item: ``PK = TENANT#<t>#EMAILEVT#<provider>#<event key>``, ``SK = EVENT``, with a 30-day
``ttl`` (providers retry for at most a few days). It is written in the same transaction as the
message's activity event, conditionally, so a replayed event adds nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Any

from parley.dal import keys, messages, table
from parley.models.domain import ActivityEvent

DEDUPE_SK = "EVENT"
DEDUPE_TTL_SECONDS = 30 * 86400

# Message.delivery_status only moves forward: providers do not guarantee order (a late "delivered"
# must not overwrite "opened"). Failures and complaints outrank everything before them.
DELIVERY_RANK = {
    "PROCESSED": 10,
    "DEFERRED": 20,
    "DELIVERED": 30,
    "OPENED": 40,
    "CLICKED": 50,
    "BOUNCED": 60,
    "BLOCKED": 60,
    "DROPPED": 60,
    "COMPLAINED": 70,
}


def dedupe_pk(tenant_id: str, provider: str, event_key: str) -> str:
    return f"TENANT#{tenant_id}#EMAILEVT#{provider}#{event_key}"


def record(
    tenant_id: str,
    *,
    provider: str,
    event_key: str | None,
    summary: dict[str, Any],
    activity: ActivityEvent | None,
) -> bool:
    """Record one provider event once: returns False if ``event_key`` was recorded before (nothing written).

    ``activity`` (when the event matched a message) is appended to that message's item collection in
    the same transaction as the dedupe item. With no ``event_key`` the event cannot be deduplicated
    and only the activity is written.
    """
    ops: list[dict[str, Any]] = []
    if event_key:
        item = {
            "PK": dedupe_pk(tenant_id, provider, event_key),
            "SK": DEDUPE_SK,
            "type": "email_event",
            "provider": provider,
            "ttl": int(time.time()) + DEDUPE_TTL_SECONDS,
            **summary,
        }
        ops.append({"Put": {"Item": table.marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}})
    if activity is not None:
        ops.append(messages.event_op(tenant_id, activity))
    if not ops:
        return True
    return table.try_transact(ops)


def seen(tenant_id: str, provider: str, event_key: str) -> bool:
    return table.get(dedupe_pk(tenant_id, provider, event_key), DEDUPE_SK) is not None


# ───────────── batches (the provider events consumer, SES events) ─────────────
def seen_many(tenant_id: str, keys_: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which ``(provider, event key)`` pairs were recorded before: one BatchGetItem per 100."""
    wanted = {(dedupe_pk(tenant_id, p, k), DEDUPE_SK): (p, k) for p, k in keys_}
    found = table.batch_get(wanted, attributes=["provider"])
    return {wanted[pk_sk] for pk_sk in found}


def record_many(tenant_id: str, recorded: Sequence[tuple[str, str | None, dict[str, Any], ActivityEvent | None]]) -> None:
    """Record a batch of events ``(provider, event key, summary, activity)``: BatchWriteItem, no transaction.

    The activity events are written first and the dedupe items after them, so an interruption between
    the two leaves events that a retry applies again, never a dedupe item without its activity. Both
    writes are idempotent: an activity event's key is derived from the event (``EVT#<ms>#<event key>``),
    so a second application (an SQS redelivery, or a concurrent copy of the same batch) rewrites the
    same item instead of adding one.
    """
    table.batch_put(messages.event_item(tenant_id, activity) for _, _, _, activity in recorded if activity is not None)
    ttl = int(time.time()) + DEDUPE_TTL_SECONDS
    table.batch_put(
        {"PK": dedupe_pk(tenant_id, p, k), "SK": DEDUPE_SK, "type": "email_event", "provider": p, "ttl": ttl, **summary}
        for p, k, summary, _ in recorded
        if k
    )


def email_message_states(tenant_id: str, message_ids: Iterable[str]) -> dict[str, str]:
    """Which of ``message_ids`` are the tenant's email messages, with their status (one BatchGetItem per 100;
    id, channel and status only)."""
    found = table.batch_get(((keys.message_pk(tenant_id, m), keys.MESSAGE_SK) for m in message_ids), attributes=["id", "channel", "status"])
    return {item["id"]: item.get("status", "") for item in found.values() if item.get("channel") == "email" and item.get("id")}


def provider_refs(tenant_id: str, provider_ids: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """``(provider, provider message id)`` → the tenant's message id, for those that are known (the lookups
    ``messages.mark_sent`` writes), one BatchGetItem per 100."""
    wanted = {(keys.provider_message_pk(tenant_id, p, pid), keys.PROVIDER_MESSAGE_SK): (p, pid) for p, pid in provider_ids}
    found = table.batch_get(wanted, attributes=["message_id"])
    return {wanted[pk_sk]: item["message_id"] for pk_sk, item in found.items() if item.get("message_id")}


def set_delivery_status(tenant_id: str, message_id: str, status: str) -> bool:
    """Raise the message's delivery_status to ``status`` unless it already holds a later one."""
    rank = DELIVERY_RANK.get(status, 0)
    return table.try_update(
        keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK, "SET delivery_status = :s, delivery_rank = :r",
        condition="attribute_exists(PK) AND (attribute_not_exists(delivery_rank) OR delivery_rank <= :r)",
        values=table.values(s=status, r=rank),
    )  # fmt: skip
