"""Sharded time-ordered partitions across tenants: the pending index (``dal/pending.py``) and body-write intents
(``dal/body_intents.py``).

Each spreads its writes over ``SHARDS`` partitions (the shard is a hash of the message id) whose sort key starts
with a time: ``<ISO time>#<tenant>#<message id>``. A reader (the sweeper) reads the part of every shard that is
older than a cutoff, oldest first.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from parley import clock
from parley.dal import table

SHARDS = 8


def shard_of(message_id: str) -> int:
    return zlib.crc32(message_id.encode()) % SHARDS


def sort_key(at: datetime, tenant_id: str, message_id: str) -> str:
    return f"{clock.iso(at)}#{tenant_id}#{message_id}"


def before(shard_pk: Callable[[int], str], cutoff: datetime, *, limit: int, index: str | None = None) -> Iterator[dict[str, Any]]:
    """Up to ``limit`` items per shard (partition key ``shard_pk(shard)``) whose sort key is before ``cutoff``, oldest
    first, shard after shard; from the table's ``PK``/``SK``, or ``index``'s ``<index>PK``/``<index>SK``."""
    pk, sk = (f"{index}PK", f"{index}SK") if index else ("PK", "SK")
    for shard in range(SHARDS):
        start = None
        read = 0
        while read < limit:
            items, start = table.query(
                index=index,
                key_condition=f"{pk} = :pk AND {sk} < :cut",
                expr_values=table.values(pk=shard_pk(shard), cut=clock.iso(cutoff)),
                limit=min(100, limit - read),
                start_key=start,
            )
            for item in items:
                read += 1
                yield item
            if not start:
                break
