"""Items read by the offset-paged lists: the page, whatever its depth, plus a few tally items (docs/data-model.md
§6.7); with a filter no tally serves, every matching item is evaluated once.

DynamoDB's ``ScannedCount`` of every Query (``Select=COUNT`` included: those items are read and billed
though none travels) and the items of every GetItem/BatchGetItem are summed through a botocore hook on the
client the data layer uses.
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
    assert all(c["op"] in ("Query", "GetItem", "BatchGetItem") for c in log), [c["op"] for c in log]
    read = 0
    for c in log:
        if c["op"] == "Query":
            read += int(c["out"]["ScannedCount"])
        elif c["op"] == "GetItem":
            read += 1 if "Item" in c["out"] else 0
        else:
            read += sum(len(v) for v in c["out"].get("Responses", {}).values())
    return result, read, log


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
def test_a_history_page_reads_the_page_and_three_tally_items_whatever_its_depth(address_history, offset):
    from parley.dal import messages

    tenant_id, ids = address_history

    def page() -> Any:
        return messages.history(
            tenant_id, channel="email", start=T0, end=T0 + timedelta(hours=1), offset=offset, limit=5, address="many@example.com"
        )

    (found, total), read, log = scanned(page)
    assert [m.id for m in found] == ids[offset : offset + 5]
    assert total == 25
    # the address's year, the window's first day and hour (one Query, one BatchGetItem), then the page's Query: the
    # page's minute holds one message, so nothing is skipped. Was 25 (each item of the range, counted or read).
    assert read == 3 + len(found)
    assert [c["op"] for c in log] == ["Query", "BatchGetItem", "Query"]


def test_history_page_past_the_end_and_a_narrow_window(address_history):
    from parley.dal import messages

    tenant_id, ids = address_history
    (found, total), read, _ = scanned(
        lambda: messages.history(
            tenant_id, channel="email", start=T0, end=T0 + timedelta(hours=1), offset=40, limit=5, address="many@example.com"
        )
    )
    assert (found, total, read) == ([], 25, 3)  # the tallies alone
    # a window of minutes 3..12 holds 10 of them; its end (09:12:00.000, inclusive) falls inside the minute of
    # message 12, which is counted (one item); then the page
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
    assert [m.id for m in found] == ids[11:13] and total == 10 and read == 3 + 1 + 2


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
