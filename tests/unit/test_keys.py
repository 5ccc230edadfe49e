"""Key builders whose string order must be an order of values (docs/data-model.md §5)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from parley import clock
from parley.dal import keys


def test_due_sort_key_order_is_due_then_created_then_id():
    """DynamoDB orders GSI9SK by its UTF-8 bytes; that must be the order of (due, created, id) for any times
    (ties to the millisecond included) and ids of any length."""
    rng = random.Random(9)
    t0 = datetime(2026, 12, 6, 23, 59, 59, 998000, tzinfo=UTC)
    times = [t0 + timedelta(milliseconds=rng.randrange(5)) + timedelta(days=rng.choice((0, 1, 400))) for _ in range(6)]
    ids = ["a", "ab", "b", "a-1", "A", "0", "z" * 40, "7d0c6a4e-2f1b-4c9a-9e55-0b8f3f6c1a20"]
    rows = [(rng.choice(times), rng.choice(times), rng.choice(ids)) for _ in range(300)]

    def by_key(row: tuple[datetime, datetime, str]) -> bytes:
        due, created, message_id = row
        return keys.due_sk(clock.iso(due), clock.iso(created), message_id).encode()

    assert sorted(rows, key=by_key) == sorted(rows)


def test_due_partition_is_the_tenants():
    assert keys.due_pk("t-1") == "TENANT#t-1#DUE" != keys.due_pk("t-2")
