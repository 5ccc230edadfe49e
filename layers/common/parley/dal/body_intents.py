"""Body-write intents: no message body is left in S3 without its message (docs/data-model.md "Large bodies").

A body too large for its item is written to S3 *before* the item (``messages.create_ops``), so a table write that
fails — or a writer that dies between the two — would leave the object behind, unreferenced. So the writer first
puts an intent item (``PK = BODYPUT#<shard>``, ``SK = <written at>#<tenant>#<message id>``, ``body_ref``), and the
transaction that stores the message deletes it. An intent still there after ``SWEEP_AFTER_SECONDS`` is a body whose
message may never have been stored: the sweeper (``domain/sweeper.py``) deletes the body if no message item exists,
then the intent. Intents also carry a ``ttl`` (7 days), so a sweeper that stopped working leaves no items behind.

Eight shards, as the pending index: one partition per shard, read by time.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley import clock
from parley.dal import keys, table

SHARDS = 8
TTL_SECONDS = 7 * 86400


@dataclass(frozen=True)
class Intent:
    pk: str
    sk: str
    tenant_id: str
    message_id: str
    body_ref: str


def shard_pk(shard: int) -> str:
    return f"BODYPUT#{shard}"


def record(tenant_id: str, message_id: str, body_ref: str, at: datetime | None = None) -> Intent:
    """Write the intent (before the body): what ``done_op`` later deletes in the message's own transaction."""
    at = at or clock.now()
    pk = shard_pk(zlib.crc32(message_id.encode()) % SHARDS)
    sk = f"{clock.iso(at)}#{tenant_id}#{message_id}"
    table.put_item({"PK": pk, "SK": sk, "type": "body_intent", "tenant_id": tenant_id, "message_id": message_id, "body_ref": body_ref,
                    "ttl": int(at.timestamp()) + TTL_SECONDS})  # fmt: skip
    return Intent(pk, sk, tenant_id, message_id, body_ref)


def done_op(intent: Intent) -> dict[str, Any]:
    """The write that deletes the intent, for the transaction that stores its message."""
    return {"Delete": {"Key": table.key(intent.pk, intent.sk)}}


def older_than(cutoff: datetime, *, limit: int) -> Iterator[Intent]:
    """Up to ``limit`` intents per shard written before ``cutoff``, oldest first."""
    for shard in range(SHARDS):
        start = None
        read = 0
        while read < limit:
            items, start = table.query(
                key_condition="PK = :pk AND SK < :cut",
                expr_values=table.values(pk=shard_pk(shard), cut=clock.iso(cutoff)),
                limit=min(100, limit - read),
                start_key=start,
            )
            for item in items:
                read += 1
                yield Intent(item["PK"], item["SK"], item["tenant_id"], item["message_id"], item["body_ref"])
            if not start:
                break


def stored(intents: list[Intent]) -> set[str]:
    """The message ids of these intents whose message item exists (one BatchGetItem per 100, keys only)."""
    wanted = {(keys.message_pk(i.tenant_id, i.message_id), keys.MESSAGE_SK): i.message_id for i in intents}
    found = table.batch_get(wanted, consistent=True)
    return {wanted[k] for k in found}


def drop(intent: Intent) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(intent.pk, intent.sk))
