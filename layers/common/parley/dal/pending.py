"""The pending index (GSI8): outbound messages that wait for the dispatcher, across every tenant.

A message stored QUEUED or SCHEDULED carries ``GSI8PK = PENDING#<shard>`` and ``GSI8SK = <due>#<tenant>#<id>``
(due: when it was queued, or when it is scheduled for). The dispatcher's claim removes both in the same
UpdateItem that moves the message to SENDING, and every terminal change (SENT, FAILED, CANCELLED) removes
them too, so the index holds exactly the messages nobody has picked up yet. The sweeper reads the part of
each shard that was due long ago: messages whose queue or schedule step was lost (a crash between storing
the message and enqueueing its job, a schedule that never fired).

Eight shards (``dal/shards.py``) spread the index's writes (every send writes it); the sweeper reads all eight. Keys only are
projected, plus ``status``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from parley.dal import keys, shards, table

INDEX = "GSI8"
ATTRIBUTES = ("GSI8PK", "GSI8SK")  # removed when the message is claimed or ends


@dataclass(frozen=True)
class Pending:
    tenant_id: str
    message_id: str
    due: str  # ISO-8601 UTC
    status: str


def shard_pk(shard: int) -> str:
    return f"PENDING#{shard}"


def keys_for(tenant_id: str, message_id: str, due: datetime) -> dict[str, str]:
    """The index attributes of a message that waits for the dispatcher from ``due`` on."""
    return {"GSI8PK": shard_pk(shards.shard_of(message_id)), "GSI8SK": shards.sort_key(due, tenant_id, message_id)}


def due_before(cutoff: datetime, *, limit: int) -> Iterator[Pending]:
    """Up to ``limit`` waiting messages per shard that were due before ``cutoff``, oldest first (key reads)."""
    for item in shards.before(shard_pk, cutoff, limit=limit, index=INDEX):
        due, tenant_id, message_id = item["GSI8SK"].split("#")
        yield Pending(tenant_id=tenant_id, message_id=message_id, due=due, status=item.get("status", ""))


def forget(tenant_id: str, message_id: str, status: str) -> bool:
    """Take a message off the index if it is still in ``status`` (a path that left QUEUED/SCHEDULED without
    removing its keys). False if it changed meanwhile."""
    return table.try_update(
        keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK, "REMOVE GSI8PK, GSI8SK", condition="#s = :s",
        names={"#s": "status"}, values=table.values(s=status),
    )  # fmt: skip
