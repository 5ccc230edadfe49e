"""Body-write intents: no message body is left in S3 without its message (docs/data-model.md "Large bodies").

A body too large for its item is written to S3 *before* the item (``messages.create_ops``), so a table write that
fails — or a writer that dies between the two — would leave the object behind, unreferenced. So the writer first
puts an intent item (``PK = BODYPUT#<shard>``, ``SK = <written at>#<tenant>#<message id>``, ``body_ref``), and the
transaction that stores the message deletes it. An intent still there after ``SWEEP_AFTER_SECONDS`` is a body whose
message may never have been stored: the sweeper (``domain/sweeper.py``) deletes the body if no message item exists,
then the intent. Intents also carry a ``ttl`` (7 days), so a sweeper that stopped working leaves no items behind.

Sharded as the pending index (``dal/shards.py``): one partition per shard, read by time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from parley import clock
from parley.dal import keys, shards, table

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
    pk, sk = shard_pk(shards.shard_of(message_id)), shards.sort_key(at, tenant_id, message_id)
    table.put_item({"PK": pk, "SK": sk, "type": "body_intent", "tenant_id": tenant_id, "message_id": message_id, "body_ref": body_ref,
                    "ttl": int(at.timestamp()) + TTL_SECONDS})  # fmt: skip
    return Intent(pk, sk, tenant_id, message_id, body_ref)


def done_op(intent: Intent) -> dict[str, Any]:
    """The write that deletes the intent, for the transaction that stores its message."""
    return {"Delete": {"Key": table.key(intent.pk, intent.sk)}}


def older_than(cutoff: datetime, *, limit: int) -> Iterator[Intent]:
    """Up to ``limit`` intents per shard written before ``cutoff``, oldest first."""
    for item in shards.before(shard_pk, cutoff, limit=limit):
        yield Intent(item["PK"], item["SK"], item["tenant_id"], item["message_id"], item["body_ref"])


def stored(intents: list[Intent]) -> set[str]:
    """The message ids of these intents whose message item exists (one BatchGetItem per 100, keys only)."""
    wanted = {(keys.message_pk(i.tenant_id, i.message_id), keys.MESSAGE_SK): i.message_id for i in intents}
    found = table.batch_get(wanted, consistent=True)
    return {wanted[k] for k in found}


def drop(intent: Intent) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(intent.pk, intent.sk))
