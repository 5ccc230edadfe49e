"""The tallies (docs/data-model.md §6.7) against the lists they count: exact after a randomized workload of
creates, status moves and deletes; every page and total equal to reading the list; each stream record counted
once however often and however concurrently it is delivered; a consumer that fails part-way resumes exactly."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

T0 = datetime(2025, 12, 31, 23, 58, 30, tzinfo=UTC)  # the workload crosses a minute, an hour, a day and a year


def _message(tenant_id: str, n: int, created: datetime, to: str, candidate: str | None) -> Any:
    from parley.models.domain import Message, MessageStatus

    return Message(
        tenant_id=tenant_id,
        id=f"m{n:04d}",
        channel="email" if n % 4 else "sms",
        direction="outbound" if n % 5 else "inbound",
        status=MessageStatus.QUEUED if n % 5 else MessageStatus.RECEIVED,
        source_api="candidate",
        sender="no-reply@parley.example" if n % 5 else to,
        recipient=to if n % 5 else "no-reply@parley.example",
        subject=f"s{n}",
        body="<p>x</p>",
        candidate_id=candidate,
        created_at=created,
        conversation_id=f"m{n:04d}",
        provider="ses" if n % 4 else "sns",
    )


def _lists(tenant_id: str, addresses: list[str], candidates: list[str]) -> list[Any]:
    from parley.dal import keys, records, tallies

    out = [tallies.TimeList("GSI1", keys.timeline_pk(tenant_id, ch)) for ch in ("email", "sms")]
    out += [tallies.TimeList("GSI2", keys.address_pk(tenant_id, a), f"{ch}#") for a in addresses for ch in ("EMAIL", "SMS")]
    out += [tallies.TimeList("GSI4", keys.candidate_pk(tenant_id, c), f"{ch}#") for c in candidates for ch in ("EMAIL", "SMS")]
    out.append(records.tallied(records.records_partition(tenant_id)))
    out += [records.tallied(records.status_partition(tenant_id, s)) for s in ("QUEUED", "SENDING", "SENT", "FAILED", "CANCELLED")]
    return out


def _read_all(lst: Any, lo: str, hi: str, *, forward: bool) -> list[str]:
    from parley.dal import table

    items, _ = table.query_page(limit=1_000_000, **lst.query(lo, hi, forward=forward))
    return [i["SK"] + "|" + i.get("id", "") for i in items]


@pytest.fixture
def workload(aws, tenant) -> tuple[str, list[Any]]:
    """200 messages over 4 minutes around a new year (several per minute, some at the same ms), then random
    status moves (QUEUED → SENDING → SENT/FAILED, SCHEDULED-like cancels) and deletes."""
    from parley.dal import messages, records
    from parley.models.domain import MessageStatus

    t, _ = tenant
    rng = random.Random(13)
    addresses = [f"a{i}@example.com" for i in range(4)]
    candidates = ["c1", "c2"]
    created = []
    for n in range(200):
        at = T0 + timedelta(milliseconds=rng.randrange(0, 240_000, 250))
        msg = _message(t.id, n, at, rng.choice(addresses), rng.choice([*candidates, None]))
        messages.create(msg)
        created.append(msg)
    for msg in created:
        roll = rng.random()
        if msg.status != MessageStatus.QUEUED:
            continue
        if roll < 0.6:
            claimed = messages.claim(t.id, msg.id, datetime.now(UTC))
            assert claimed is not None
            if roll < 0.45:
                assert messages.transition(t.id, msg.id, to=MessageStatus.SENT, expect=(MessageStatus.SENDING,))
            elif roll < 0.55:
                assert messages.transition(t.id, msg.id, to=MessageStatus.FAILED, expect=(MessageStatus.SENDING,))
        elif roll < 0.7:
            assert messages.transition(t.id, msg.id, to=MessageStatus.CANCELLED, expect=(MessageStatus.QUEUED,))
    for msg in rng.sample([m for m in created if messages.is_record(m)], 20):
        assert records.delete_record(messages.get(t.id, msg.id))
    return t.id, _lists(t.id, addresses, candidates)


def test_after_a_random_workload_every_tally_equals_a_full_count(workload):
    from parley.dal import tallies

    _, lists = workload
    totals = [(lst.tally_pk, tallies.tallied_total(lst), tallies.count_list(lst)) for lst in lists]
    assert [(pk, got) for pk, got, _ in totals] == [(pk, want) for pk, _, want in totals]
    assert sum(want for *_, want in totals) > 400  # the lists were not empty


def test_every_window_page_equals_reading_the_list(workload):
    from parley import clock
    from parley.dal import tallies

    _, lists = workload
    rng = random.Random(7)
    checked = 0
    for lst in lists:
        for _ in range(3):
            a, b = sorted(rng.randrange(-10_000, 250_000) for _ in range(2))
            lo, hi = clock.iso(T0 + timedelta(milliseconds=a)), clock.iso(T0 + timedelta(milliseconds=b))
            if rng.random() < 0.3:  # minute-aligned bounds (no partial minute to count)
                lo, hi = lo[:16] + ":00.000Z", hi[:16] + ":59.999Z"
            forward = rng.random() < 0.5
            every = _read_all(lst, lo, hi, forward=forward)
            for offset in (0, rng.randrange(0, max(1, len(every) + 3)), max(0, len(every) - 2)):
                limit = rng.choice([1, 3, 10])
                items, total = tallies.page(lst, offset=offset, limit=limit, forward=forward, lo=lo, hi=hi)
                assert total == len(every), (lst, lo, hi)
                assert [i["SK"] + "|" + i.get("id", "") for i in items] == every[offset : offset + limit], (lst, lo, hi, offset)
                checked += 1
    assert checked >= 150


def test_each_stream_record_counts_once_however_often_it_is_delivered(aws):
    """Overlapping, repeated and concurrent deliveries of the same records (Lambda retries a batch; a batch
    reported failed part-way comes again): every change is applied exactly once."""
    from parley.dal import tallies

    rng = random.Random(3)
    changes = []
    for n in range(400):
        at = T0 + timedelta(seconds=rng.randrange(0, 7200))
        item = {"PK": f"X#{n}", "SK": "MSG", "GSI1PK": "TENANT#z#EMAIL", "GSI1SK": at.strftime("%Y-%m-%dT%H:%M:%S.000Z") + f"#{n}"}
        if n % 7 == 0:
            changes.append(tallies.Change(seq=f"{n:021d}", changes=tallies.deltas(item, None)))  # a remove
        else:
            changes.append(tallies.Change(seq=f"{n:021d}", changes=tallies.deltas(None, item)))
    want = sum(-1 if n % 7 == 0 else 1 for n in range(400))

    def deliver(seed: int) -> None:
        r = random.Random(seed)
        for _ in range(6):
            a = r.randrange(0, 400)
            tallies.apply(changes[a : a + r.randrange(1, 120)])

    threads = [threading.Thread(target=deliver, args=(s,)) for s in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    tallies.apply(changes)  # and once more in full: whatever landed before is left out
    assert tallies.tallied_total(tallies.TimeList("GSI1", "TENANT#z#EMAIL")) == want


def test_the_consumer_reports_where_it_stopped_and_resumes_exactly(aws, monkeypatch):
    """A transaction that keeps failing (throttled) part-way through a batch: the handler reports the first change
    not applied; Lambda's redelivery from there lands the rest, and nothing twice."""
    from botocore.exceptions import ClientError

    from helpers import Context, function_handler
    from parley.dal import table, tallies

    fn = aws.function("TallyFunction")
    handler = function_handler(fn)
    records = []
    for n in range(300):
        image = {"PK": {"S": f"X#{n}"}, "SK": {"S": "MSG"}, "GSI1PK": {"S": f"TENANT#y#{n % 150}"}}
        image["GSI1SK"] = {"S": f"2026-01-01T00:{n % 60:02d}:00.000Z#{n}"}
        records.append({"eventName": "INSERT", "dynamodb": {"SequenceNumber": f"{n:021d}", "NewImage": image}})
    real = table.ddb
    calls = {"n": 0}

    class Flaky:
        def __getattr__(self, name: str) -> Any:
            return getattr(real(), name)

        def transact_write_items(self, **kwargs: Any) -> Any:
            calls["n"] += 1
            if calls["n"] >= 2:  # the first chunk lands, every later one is throttled
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "TransactWriteItems")
            return real().transact_write_items(**kwargs)

    monkeypatch.setattr(tallies, "_sleep", lambda s: None)
    monkeypatch.setattr(table, "ddb", lambda: Flaky())
    out = handler({"Records": records}, Context())
    (failure,) = out["batchItemFailures"]
    stopped = int(failure["itemIdentifier"])
    assert 0 < stopped < 300
    monkeypatch.setattr(table, "ddb", real)
    # redelivered from the reported record, and (as Lambda may) the whole batch again
    assert handler({"Records": records[stopped:]}, Context()) == {"batchItemFailures": []}
    assert handler({"Records": records}, Context()) == {"batchItemFailures": []}
    totals = [tallies.tallied_total(tallies.TimeList("GSI1", f"TENANT#y#{k}")) for k in range(150)]
    assert totals == [2] * 150
