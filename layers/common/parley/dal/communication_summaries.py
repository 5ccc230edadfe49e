"""Per-individual communication summaries in the single table (docs/data-model.md §6.29; docs/courier.md
"Communication summaries"). Tenant-scoped keys; every read is a GetItem or a Query, never a Scan.

One partition per individual, ``PK = TENANT#<t>#CSUM#<individual>``:

- ``SK = CHAN#<channel>#<joined_at>``, ``type = csum_channel``: ``messages`` (the messages the individual received in
  that channel during its membership that began at ``joined_at``: the ``epoch``), ``channel_kind`` (direct | group |
  floating);
- ``SK = CHAN#<channel>#<joined_at>#FROM#<author>``, ``type = csum_sender``: ``n`` (of those, the ones ``author``
  posted);
- ``SK = NOTIF``, ``type = csum_notifications``: ``notifications``, ``provider_messages``;
- ``SK = REBUILT``, ``type = csum_rebuilt``: ``at`` (the last rebuild from the stored records).

The per-event markers that make the channel hook's ADDs exact under redelivery: ``PK = TENANT#<t>#CSUMEVT#<event>``,
``SK = <individual>``, ``type = csum_marker``, with ``ttl`` (30 days: far beyond SQS's 14-day retention, so a
redelivered event always finds its marker). A marker is written in the same transaction as the ADDs it guards.
"""

from __future__ import annotations

import random
import time
from typing import Any

from parley.dal import table

CHANNEL_PREFIX = "CHAN#"
SENDER_MARK = "#FROM#"
NOTIF_SK = "NOTIF"
REBUILT_SK = "REBUILT"
MARKER_TTL_SECONDS = 30 * 24 * 3600
CONFLICT_ATTEMPTS = 6  # a transaction cancelled for a conflict (or throttled) is tried again: the marker keeps it once


def pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#CSUM#{individual_id}"


def marker_pk(tenant_id: str, event_id: str) -> str:
    return f"TENANT#{tenant_id}#CSUMEVT#{event_id}"


def channel_prefix(channel_id: str) -> str:
    return f"{CHANNEL_PREFIX}{channel_id}#"


def channel_sk(channel_id: str, epoch: str) -> str:
    """A membership's item: ``epoch`` is the member's ``joined_at``."""
    return f"{channel_prefix(channel_id)}{epoch}"


def sender_sk(channel_id: str, epoch: str, author_id: str) -> str:
    return f"{channel_sk(channel_id, epoch)}{SENDER_MARK}{author_id}"


# ── reads ──
def items(tenant_id: str, individual_id: str, *, consistent: bool = False) -> list[dict[str, Any]]:
    """Every summary item of the individual (one Query on its partition)."""
    params: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk",
        "ExpressionAttributeValues": table.values(pk=pk(tenant_id, individual_id)),
    }
    if consistent:
        params["ConsistentRead"] = True
    return table.query_raw(**params)


# ── the channel hook's writes ──
def _marker(tenant_id: str, event_id: str, individual_id: str) -> dict[str, Any]:
    ttl = int(time.time()) + MARKER_TTL_SECONDS
    return {"PK": marker_pk(tenant_id, event_id), "SK": individual_id, "type": "csum_marker", "tenant_id": tenant_id, "ttl": ttl}


def apply_message(
    tenant_id: str, event_id: str, individual_id: str, channel_id: str, epoch: str, channel_kind: str, author_id: str, delta: int
) -> bool:
    """Count one message (``delta`` +1 posted, -1 removed) for the recipient ``individual_id`` in its membership
    ``epoch``, once per (event, individual): the marker's conditional put and both ADDs in one transaction. False
    when the marker was there (a redelivered event: nothing written)."""
    key = pk(tenant_id, individual_id)
    ops = [
        {"Put": {"Item": table.marshal(_marker(tenant_id, event_id, individual_id)), "ConditionExpression": "attribute_not_exists(PK)"}},
        {
            "Update": {
                "Key": table.key(key, channel_sk(channel_id, epoch)),
                "UpdateExpression": "ADD messages :d SET #t = :type, channel_id = :c, channel_kind = :k, epoch = :e",
                "ExpressionAttributeNames": {"#t": "type"},
                "ExpressionAttributeValues": table.values(d=delta, type="csum_channel", c=channel_id, k=channel_kind, e=epoch),
            }
        },
        {
            "Update": {
                "Key": table.key(key, sender_sk(channel_id, epoch, author_id)),
                "UpdateExpression": "ADD n :d SET #t = :type, channel_id = :c, author_id = :a, epoch = :e",
                "ExpressionAttributeNames": {"#t": "type"},
                "ExpressionAttributeValues": table.values(d=delta, type="csum_sender", c=channel_id, a=author_id, e=epoch),
            }
        },
    ]
    for attempt in range(CONFLICT_ATTEMPTS):  # concurrent events for one member in one channel touch the same items
        try:
            return table.try_transact(ops, decisive=[0])
        except Exception as err:
            if attempt == CONFLICT_ATTEMPTS - 1 or not table.is_transient(err):
                raise
            time.sleep(min(0.01 * 2**attempt, 0.2) * (0.5 + random.random()))
    return False  # unreachable


def drop_channel(tenant_id: str, individual_id: str, channel_id: str, *, keep_epoch: str | None) -> int:
    """Delete the individual's items of one channel but those of the membership ``keep_epoch`` (its current one;
    None: it is no member). Returns how many were deleted."""
    found = table.query_raw(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :c)",
        ExpressionAttributeValues=table.values(pk=pk(tenant_id, individual_id), c=channel_prefix(channel_id)),
        ProjectionExpression="PK, SK, epoch",
    )
    gone = [i for i in found if keep_epoch is None or i.get("epoch") != keep_epoch]
    for item in gone:
        table.ddb().delete_item(TableName=table.table_name(), Key=table.key(item["PK"], item["SK"]))
    return len(gone)


# ── the notification write path's ops (parley.dal.notifications) ──
def notification_op(tenant_id: str, individual_id: str) -> dict[str, Any]:
    """An Update op for the notification's own create transaction: the individual's ``notifications`` + 1."""
    return {
        "Update": {
            "Key": table.key(pk(tenant_id, individual_id), NOTIF_SK),
            "UpdateExpression": "ADD notifications :one SET #t = :type",
            "ExpressionAttributeNames": {"#t": "type"},
            "ExpressionAttributeValues": table.values(one=1, type="csum_notifications"),
        }
    }


def provider_messages_op(tenant_id: str, individual_id: str, n: int) -> dict[str, Any]:
    """An Update op for the write that records a notification's deliveries: ``provider_messages`` + n."""
    return {
        "Update": {
            "Key": table.key(pk(tenant_id, individual_id), NOTIF_SK),
            "UpdateExpression": "ADD provider_messages :n SET #t = :type",
            "ExpressionAttributeNames": {"#t": "type"},
            "ExpressionAttributeValues": table.values(n=n, type="csum_notifications"),
        }
    }


# ── the rebuild ──
def replace(tenant_id: str, individual_id: str, new_items: list[dict[str, Any]], *, parts: set[str]) -> None:
    """Replace the individual's items of ``parts`` (``channels``: the CHAN# items; ``notifications``: NOTIF) by
    ``new_items`` (dicts without keys: ``SK`` and attributes), then stamp ``REBUILT``."""
    key = pk(tenant_id, individual_id)
    old = items(tenant_id, individual_id, consistent=True)
    keep_sks = {i["SK"] for i in new_items}
    for item in old:
        sk = item["SK"]
        mine = ("channels" in parts and sk.startswith(CHANNEL_PREFIX)) or ("notifications" in parts and sk == NOTIF_SK)
        if mine and sk not in keep_sks:
            table.ddb().delete_item(TableName=table.table_name(), Key=table.key(key, sk))
    table.batch_put([{"PK": key, "tenant_id": tenant_id, **i} for i in new_items])


def stamp_rebuilt(tenant_id: str, individual_id: str, at: str, columns: list[str]) -> None:
    table.put_item({"PK": pk(tenant_id, individual_id), "SK": REBUILT_SK, "type": "csum_rebuilt", "tenant_id": tenant_id, "at": at,
                    "columns": columns})  # fmt: skip


def delete_all(tenant_id: str, individual_id: str) -> int:
    """Every summary item of the individual (the purge). Returns how many were deleted."""
    found = items(tenant_id, individual_id)
    for item in found:
        table.ddb().delete_item(TableName=table.table_name(), Key=table.key(item["PK"], item["SK"]))
    return len(found)


# ── the stored records the rebuild reads ──
def channel_messages(tenant_id: str, channel_id: str) -> list[dict[str, Any]]:
    """A channel's posted messages (GSI3 of its messages, the seq keys: drafts sort after them under ``DRAFT#``),
    only the attributes the summary needs."""
    from parley.dal.channel_messages import DRAFT_PREFIX, channel_messages_pk

    return table.query_raw(
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :pk AND GSI3SK < :d",
        ExpressionAttributeValues=table.values(pk=channel_messages_pk(tenant_id, channel_id), d=DRAFT_PREFIX),
        ProjectionExpression="individual_id, posted_time, removed, draft",
    )


def notifications_of(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """The individual's user-notifications (GSI6 of the notifications), with their deliveries."""
    from parley.dal.notifications import INDIVIDUAL_INDEX, individual_pk

    return table.query_raw(
        IndexName=INDIVIDUAL_INDEX,
        KeyConditionExpression="GSI6PK = :pk",
        ExpressionAttributeValues=table.values(pk=individual_pk(tenant_id, individual_id)),
        ProjectionExpression="id, deliveries",
    )
