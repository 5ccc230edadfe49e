"""The pending index (GSI8): outbound messages that wait for the dispatcher, across every tenant.

A message stored QUEUED or SCHEDULED carries ``GSI8PK = PENDING#<shard>`` and ``GSI8SK = <due>#<tenant>#<id>``
(due: when it was queued, or when it is scheduled for). The dispatcher's claim removes both in the same
UpdateItem that moves the message to SENDING, and every terminal change (SENT, FAILED, CANCELLED) removes
them too, so the index holds exactly the messages nobody has picked up yet. The sweeper reads the part of
each shard that was due long ago: messages whose queue or schedule step was lost (a crash between storing
the message and enqueueing its job, a schedule that never fired).

Eight shards spread the index's writes (every send writes it); the sweeper reads all eight. Keys only are
projected, plus ``status``.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from parley import clock
from parley.dal import keys, table

INDEX = "GSI8"
SHARDS = 8
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
    shard = zlib.crc32(message_id.encode()) % SHARDS
    return {"GSI8PK": shard_pk(shard), "GSI8SK": f"{clock.iso(due)}#{tenant_id}#{message_id}"}


def due_before(cutoff: datetime, *, limit: int) -> Iterator[Pending]:
    """Up to ``limit`` waiting messages per shard that were due before ``cutoff``, oldest first (key reads)."""
    for shard in range(SHARDS):
        start = None
        read = 0
        while read < limit:
            items, start = table.query(
                index=INDEX,
                key_condition="GSI8PK = :pk AND GSI8SK < :cut",
                expr_values=table.values(pk=shard_pk(shard), cut=clock.iso(cutoff)),
                limit=min(100, limit - read),
                start_key=start,
            )
            for item in items:
                due, tenant_id, message_id = item["GSI8SK"].split("#")
                read += 1
                yield Pending(tenant_id=tenant_id, message_id=message_id, due=due, status=item.get("status", ""))
            if not start:
                break


def forget(tenant_id: str, message_id: str, status: str) -> bool:
    """Take a message off the index if it is still in ``status`` (a path that left QUEUED/SCHEDULED without
    removing its keys). False if it changed meanwhile."""
    return table.try_update(
        keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK, "REMOVE GSI8PK, GSI8SK", condition="#s = :s",
        names={"#s": "status"}, values=table.values(s=status),
    )  # fmt: skip
