"""The due index (GSI9) behind ``GET /scheduled`` on moto: its order is exactly (scheduledAt, created, id), a
read reads what it returns, and ``python -m parley.admin backfill-due-index`` puts records stored before it on it.

Records are stored with the domain code (``messages.create``); the items DynamoDB reads are counted from each
Query's ``ScannedCount`` (a botocore hook on the data layer's client).
"""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
DUE = ("GSI9PK", "GSI9SK")


def store(tenant_id: str, *, created: datetime, status: str = "SCHEDULED", due: datetime | None = None, **kw: Any) -> Any:
    """One outbound email record (SCHEDULED for ``due`` unless told otherwise)."""
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    msg = Message(
        tenant_id=tenant_id, id=kw.pop("id", None) or new_id(), channel="email", direction="outbound", status=MessageStatus(status),
        source_api="crm", sender="no-reply@parley.example", recipient="jan@example.com", recipients=["jan@example.com"],
        subject=kw.pop("subject", "Your quote"), body="<p>Hello Jan</p>", conversation_id=new_id(), provider="ses",
        created_at=created, scheduled_at=due, **kw,
    )  # fmt: skip
    messages.create(msg)
    return msg


def stored(tenant_id: str, message_id: str) -> dict[str, Any] | None:
    from parley.dal import keys, table

    return table.get(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK)


def read_cost(fn: Any) -> tuple[Any, int, list[dict[str, Any]]]:
    """``fn()``, the items its Queries read (ScannedCount summed), and every DynamoDB call's operation and index."""
    from parley.dal.aws import client

    calls: list[dict[str, Any]] = []

    def before(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls.append({"op": model.name, "index": params.get("IndexName"), "limit": params.get("Limit")})

    def after(parsed: dict[str, Any], model: Any, **_: Any) -> None:
        calls[-1]["read"] = int(parsed.get("ScannedCount", 0))

    events = client("dynamodb").meta.events
    events.register("before-parameter-build.dynamodb.*", before)
    events.register("after-call.dynamodb.*", after)
    try:
        result = fn()
    finally:
        events.unregister("before-parameter-build.dynamodb.*", before)
        events.unregister("after-call.dynamodb.*", after)
    return result, sum(c.get("read", 0) for c in calls), calls


def _legacy(tenant_id: str, message_id: str) -> None:
    """Make a stored record look as if it had been written before GSI9 existed."""
    from parley.dal import keys, table

    table.ddb().update_item(
        TableName=table.table_name(), Key=table.key(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK),
        UpdateExpression="REMOVE GSI9PK, GSI9SK",
    )  # fmt: skip


# ───────────── order ─────────────


def test_order_is_due_then_created_then_id_whatever_the_creation_order(app_env, tenant, other_tenant):
    """40 records with colliding due times and creation times (ids break the ties) come back exactly as the
    in-memory sort of the records by (scheduled_at, created_at, id) orders them; other records stay out."""
    from parley.domain import crm_send

    t, _ = tenant
    o, _ = other_tenant
    rng = random.Random(13)
    dues = [T0 + timedelta(hours=rng.randrange(48), milliseconds=rng.choice((0, 1, 999))) for _ in range(12)]
    created = [T0 - timedelta(days=3) + timedelta(minutes=rng.randrange(20)) for _ in range(8)]
    mine = [store(t.id, created=rng.choice(created), due=rng.choice(dues), id=f"{rng.randrange(16**6):06x}-{n:02d}") for n in range(40)]
    store(t.id, created=created[0], status="QUEUED")
    store(t.id, created=created[0], status="SENT")
    theirs = store(o.id, created=created[0], due=T0 - timedelta(days=1))  # earlier than all of them, another tenant's

    expected = sorted(mine, key=lambda m: (m.scheduled_at, m.created_at, m.id))
    assert len({m.scheduled_at for m in mine}) < 40 and len({m.created_at for m in mine}) < 40  # ties to break
    assert [r.id for r in crm_send.scheduled(t.id)] == [m.id for m in expected]
    assert [r.id for r in crm_send.scheduled(o.id)] == [theirs.id]
    item = stored(t.id, expected[0].id)
    assert item["GSI9PK"] == f"TENANT#{t.id}#DUE"
    assert item["GSI9SK"] == f"{item['scheduled_at']}#{item['created_at']}#{expected[0].id}"


def test_only_scheduled_records_carry_the_due_attributes(app_env, tenant):
    """Queued, sent, SMS and inbound messages never get on the index (it holds SCHEDULED records only)."""
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    t, _ = tenant
    queued = store(t.id, created=T0, status="QUEUED")
    sent = store(t.id, created=T0, status="SENT")
    sms = Message(
        tenant_id=t.id, id=new_id(), channel="sms", direction="outbound", status=MessageStatus.SCHEDULED, source_api="candidate",
        sender="+15550001", recipient="+15550002", body="hi", conversation_id="c-sms", provider="sns", created_at=T0,
        scheduled_at=T0 + timedelta(hours=1),
    )  # fmt: skip
    messages.create(sms)
    scheduled = store(t.id, created=T0, due=T0 + timedelta(hours=2))
    for msg in (queued, sent, sms):
        assert not set(DUE) & set(stored(t.id, msg.id)), msg.status
    assert set(DUE) <= set(stored(t.id, scheduled.id))


# ───────────── read cost ─────────────


def test_reads_are_the_records_returned(app_env, tenant, other_tenant, monkeypatch):
    """Many records the list does not return (queued, sent, cancelled, another tenant's, the latest due beyond
    the cap) are never read: the items read are the records returned, from the due index only."""
    from parley.dal import messages
    from parley.domain import crm_send
    from parley.models.domain import MessageStatus

    t, _ = tenant
    o, _ = other_tenant
    monkeypatch.setattr(crm_send, "MAX_SCHEDULED", 12)
    monkeypatch.setattr(crm_send, "FIRST_SCHEDULED_PAGE", 5)
    # created newest-due first, so creation order (what GSI7 sorts by) is the reverse of due order
    waiting = [store(t.id, created=T0 + timedelta(minutes=n), due=T0 + timedelta(days=1, hours=-n)) for n in range(30)]
    for n in range(20):
        store(t.id, created=T0 + timedelta(seconds=n), status="SENT")
        store(o.id, created=T0 + timedelta(seconds=n), due=T0 + timedelta(hours=1))
    for msg in waiting[-5:]:  # the five earliest due: cancelled, so off the index
        assert messages.transition(t.id, msg.id, to=MessageStatus.CANCELLED, expect=(MessageStatus.SCHEDULED,))

    listed, read, calls = read_cost(lambda: crm_send.scheduled(t.id))
    expected = sorted(waiting[:-5], key=lambda m: m.scheduled_at)[:12]
    assert [r.id for r in listed] == [m.id for m in expected]
    assert read == len(listed) == 12
    assert {(c["op"], c["index"]) for c in calls} == {("Query", "GSI9")}
    assert [c["limit"] for c in calls] == [5, 7]  # the first page, then what is still wanted


def test_an_answer_the_budget_cuts_short_reads_at_most_one_record_more(app_env, tenant, monkeypatch):
    """With records of one size and a budget of 7.5 of them, 7 are answered and at most 8 read: after the first
    page the next Query asks for what the rest of the budget holds at the size of the records read so far."""
    from parley.domain import crm_send

    t, _ = tenant
    for n in range(30):
        store(t.id, created=T0, due=T0 + timedelta(hours=1, minutes=n))
    monkeypatch.setattr(crm_send, "FIRST_SCHEDULED_PAGE", 3)
    one = len(crm_send.scheduled(t.id)[0].model_dump_json()) + 1
    monkeypatch.setattr(crm_send, "RESPONSE_BUDGET", int(one * 7.5))

    listed, read, calls = read_cost(lambda: crm_send.scheduled(t.id))
    assert len(listed) == 7
    assert len(listed) <= read <= len(listed) + 1
    assert len(calls) <= 3


def test_a_scheduled_list_of_an_empty_tenant_reads_nothing(app_env, tenant):
    from parley.domain import crm_send

    t, _ = tenant
    store(t.id, created=T0, status="SENT")
    listed, read, calls = read_cost(lambda: crm_send.scheduled(t.id))
    assert (listed, read, len(calls)) == ([], 0, 1)


# ───────────── backfill-due-index ─────────────


def _run(capsys: Any, *argv: str) -> tuple[int, Any]:
    from parley import admin

    code = admin.main(list(argv))
    return code, json.loads(capsys.readouterr().out or "null")


def test_backfill_puts_records_stored_before_the_index_on_it_and_a_second_run_changes_nothing(app_env, capsys, tenant, other_tenant):
    from parley.domain import crm_send

    t, _ = tenant
    o, _ = other_tenant
    late = store(t.id, created=T0, due=T0 + timedelta(hours=5))
    early = store(t.id, created=T0 + timedelta(minutes=1), due=T0 + timedelta(hours=1))
    fresh = store(t.id, created=T0 + timedelta(minutes=2), due=T0 + timedelta(hours=3))  # written with the index
    theirs = store(o.id, created=T0, due=T0 + timedelta(hours=2))
    sent = store(t.id, created=T0, status="SENT")
    for msg in (late, early):
        _legacy(t.id, msg.id)
    _legacy(o.id, theirs.id)
    assert [r.id for r in crm_send.scheduled(t.id)] == [fresh.id]  # what the list misses until the backfill

    code, dry = _run(capsys, "backfill-due-index", "--tenant-id", t.id, "--dry-run")
    assert code == 0
    assert dry == {"dry_run": True, "tenants": 1, "scheduled": 3, "indexed": 2, "already_indexed": 1, "changed_meanwhile": 0}
    assert [r.id for r in crm_send.scheduled(t.id)] == [fresh.id]  # a dry run writes nothing

    code, report = _run(capsys, "backfill-due-index", "--tenant-id", t.id)
    assert code == 0 and report["indexed"] == 2 and report["already_indexed"] == 1
    assert [r.id for r in crm_send.scheduled(t.id)] == [early.id, fresh.id, late.id]
    item = stored(t.id, early.id)
    assert (item["GSI9PK"], item["GSI9SK"]) == (f"TENANT#{t.id}#DUE", f"{item['scheduled_at']}#{item['created_at']}#{early.id}")
    assert not set(DUE) & set(stored(t.id, sent.id))
    assert crm_send.scheduled(o.id) == []  # --tenant-id: that tenant only

    code, every = _run(capsys, "backfill-due-index")  # every tenant (found by the tenant items)
    assert code == 0
    assert every == {"dry_run": False, "tenants": 2, "scheduled": 4, "indexed": 1, "already_indexed": 3, "changed_meanwhile": 0}
    assert [r.id for r in crm_send.scheduled(o.id)] == [theirs.id]
    code, again = _run(capsys, "backfill-due-index")
    assert (code, again["indexed"], again["already_indexed"]) == (0, 0, 4)


def test_backfill_leaves_a_record_that_stopped_being_scheduled_off_the_index(app_env, tenant):
    """The write is conditional on SCHEDULED: a record read as SCHEDULED and cancelled (or claimed) before the
    write is not put on the index."""
    from parley import clock
    from parley.dal import due_backfill, messages
    from parley.models.domain import MessageStatus

    t, _ = tenant
    cancelled = store(t.id, created=T0, due=T0 + timedelta(hours=1))
    claimed = store(t.id, created=T0, due=T0 + timedelta(hours=2))
    waiting = store(t.id, created=T0, due=T0 + timedelta(hours=3))
    for msg in (cancelled, claimed, waiting):
        _legacy(t.id, msg.id)
    read = {i["id"]: i for i in due_backfill.scheduled_items(t.id)}
    assert set(read) == {cancelled.id, claimed.id, waiting.id}

    assert messages.transition(t.id, cancelled.id, to=MessageStatus.CANCELLED, expect=(MessageStatus.SCHEDULED,))
    assert messages.claim(t.id, claimed.id, clock.now()) is not None
    assert due_backfill.index_one(read[cancelled.id]) is False
    assert due_backfill.index_one(read[claimed.id]) is False
    assert due_backfill.index_one(read[waiting.id]) is True
    assert not set(DUE) & set(stored(t.id, cancelled.id))
    assert not set(DUE) & set(stored(t.id, claimed.id))
    assert stored(t.id, waiting.id)["GSI9PK"] == f"TENANT#{t.id}#DUE"


def test_backfill_of_an_unknown_tenant_fails(aws, capsys):
    from parley import admin

    assert admin.main(["backfill-due-index", "--tenant-id", "no-such-tenant"]) == 1
    out = capsys.readouterr()
    assert out.out == "" and "no tenant no-such-tenant" in out.err


def test_the_backfill_reads_only_scheduled_records(app_env, tenant):
    from parley.dal import due_backfill

    t, _ = tenant
    for status in ("QUEUED", "SENDING", "SENT", "FAILED", "CANCELLED", "UNCONFIRMED"):
        store(t.id, created=T0, status=status)
    waiting = store(t.id, created=T0, due=T0 + timedelta(hours=1))
    assert [i["id"] for i in due_backfill.scheduled_items(t.id)] == [waiting.id]
