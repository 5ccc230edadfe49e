"""Items read by the offset-paged lists: every matching item is evaluated once, whatever the page.

DynamoDB's ``ScannedCount`` of every Query (``Select=COUNT`` included: those items are read and billed
though none travels) is summed through a botocore hook on the client the data layer uses.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def scanned(fn: Any) -> tuple[Any, int, list[dict[str, Any]]]:
    """``fn()``, the ScannedCount summed over the Queries it made, and those Queries' parameters."""
    from parley.dal.aws import client

    log: list[dict[str, Any]] = []

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        log.append({"op": model.name, "params": dict(params)})

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        log[-1]["out"] = parsed

    events = client("dynamodb").meta.events
    events.register("before-parameter-build.dynamodb.*", before)
    events.register("after-call.dynamodb.*", after)
    try:
        result = fn()
    finally:
        events.unregister("before-parameter-build.dynamodb.*", before)
        events.unregister("after-call.dynamodb.*", after)
    assert all(c["op"] == "Query" for c in log), [c["op"] for c in log]
    return result, sum(int(c["out"]["ScannedCount"]) for c in log), log


@pytest.fixture
def address_history(app_env, tenant) -> tuple[str, list[str]]:
    """25 emails with one address (and 3 with another) over 25 minutes: (tenant id, ids oldest first)."""
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    t, _ = tenant
    ids = []
    for n in range(28):
        to = "many@example.com" if n < 25 else "other@example.com"
        msg = Message(
            tenant_id=t.id,
            id=new_id(),
            channel="email",
            direction="outbound",
            status=MessageStatus.SENT,
            source_api="candidate",
            sender="no-reply@parley.example",
            recipient=to,
            subject=f"m{n}",
            body="<p>x</p>",
            provider="ses",
            conversation_id=f"c{n}",
            created_at=T0 + timedelta(minutes=n),
        )
        messages.create(msg)
        if n < 25:
            ids.append(msg.id)
    return t.id, ids


@pytest.mark.parametrize("offset", [0, 5, 20, 24])
def test_history_page_reads_each_item_of_the_range_once(address_history, offset):
    from parley.dal import messages

    tenant_id, ids = address_history

    def page() -> Any:
        return messages.history(
            tenant_id, channel="email", start=T0, end=T0 + timedelta(hours=1), offset=offset, limit=5, address="many@example.com"
        )

    (found, total), read, log = scanned(page)
    assert [m.id for m in found] == ids[offset : offset + 5]
    assert total == 25
    assert read == 25  # was 25 (COUNT of the range) + offset (COUNT to the page) + the page
    assert len(log) <= (2 if offset == 0 else 3)


def test_history_page_past_the_end_and_a_narrow_window(address_history):
    from parley.dal import messages

    tenant_id, ids = address_history
    (found, total), read, _ = scanned(
        lambda: messages.history(
            tenant_id, channel="email", start=T0, end=T0 + timedelta(hours=1), offset=40, limit=5, address="many@example.com"
        )
    )
    assert (found, total, read) == ([], 25, 25)
    # a window of minutes 3..12 holds 10 of them
    (found, total), read, _ = scanned(
        lambda: messages.history(
            tenant_id,
            channel="email",
            start=T0 + timedelta(minutes=3),
            end=T0 + timedelta(minutes=12),
            offset=8,
            limit=5,
            address="many@example.com",
        )
    )
    assert [m.id for m in found] == ids[11:13] and total == 10 and read == 10


def test_offset_page_with_a_filter_counts_matches_exactly(address_history):
    """A FilterExpression: the page and the total are the matches; every item of the key range is
    evaluated once."""
    from parley.dal import keys, table

    tenant_id, ids = address_history
    params = {
        "IndexName": "GSI2",
        "KeyConditionExpression": "GSI2PK = :pk",
        "FilterExpression": "subject IN (:a, :b, :c, :d, :e)",
        "ExpressionAttributeValues": table.values(
            pk=keys.address_pk(tenant_id, "many@example.com"), a="m1", b="m4", c="m9", d="m16", e="m24"
        ),
    }
    for offset, want in ((0, [1, 4]), (2, [9, 16]), (4, [24]), (5, [])):
        (items, total), read, _ = scanned(lambda offset=offset: table.offset_page(offset, 2, **params))
        assert [i["id"] for i in items] == [ids[n] for n in want]
        assert total == 5 and read == 25
