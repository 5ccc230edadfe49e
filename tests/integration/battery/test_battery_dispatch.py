"""Battery (issue 5), the send pipeline: redelivery, partial batch failure, provider faults, a crash
between the provider's acceptance and the state write.

The real dispatcher handler (``root.DispatcherFunction``) runs on SQS batches, against moto: SES sends
are counted twice, at the SDK boundary by Parley message id (``ses_wire``) and in moto's SES backend
(``sent_emails``). Faults are injected at that boundary as botocore errors, so the SES adapter's own
error classification (retryable / ambiguous) is what the dispatcher acts on.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta

DISPATCHER = "root.DispatcherFunction"
MESSAGES = 1000


def dead_letter_error(cause, attempts):
    from parley.domain.dispatch import dead_letter_error

    return dead_letter_error(cause, attempts)


def _statuses(tenant_id, ids):
    from parley.dal import records

    return {m.id: m for m in records.get_many(tenant_id, ids)}


def _failed_events(tenant_id, message_id):
    from parley.dal import messages

    return [e for e in messages.get_with_events(tenant_id, message_id)[1] if e.event == "failed"]


# ───────────── redelivery ─────────────
def test_1000_messages_each_delivered_3_times_are_sent_exactly_1000_times(handler, tenant, send_queue, kit, ses_wire, sent_emails):
    """Every job arrives three times (receive counts 1, 2, 3: duplicates in one batch and in later
    invocations, in a shuffled order): 1,000 provider sends, one per message, every message SENT once."""
    from parley.models.domain import MessageStatus

    t, _ = tenant
    ids = kit.seed_queued_emails(t, MESSAGES)
    arn, _ = send_queue
    deliveries = [(mid, n) for mid in ids for n in (1, 2, 3)]
    random.Random(5).shuffle(deliveries)
    seen = Counter()
    dispatcher = handler(DISPATCHER)
    for start in range(0, len(deliveries), 10):
        batch = []
        for mid, _n in deliveries[start : start + 10]:
            seen[mid] += 1
            batch.append(kit.synthetic_record(kit.job_body(t.id, mid), f"sqs-{mid}", seen[mid], arn))
        assert dispatcher({"Records": batch}) == {"batchItemFailures": []}

    assert sum(seen.values()) == 3 * MESSAGES
    assert len(sent_emails()) == MESSAGES
    assert ses_wire.calls == Counter(dict.fromkeys(ids, 1))  # one SendEmail per message, none for a duplicate
    stored = _statuses(t.id, ids)
    assert len(stored) == MESSAGES
    assert {m.status for m in stored.values()} == {MessageStatus.SENT}
    assert {m.attempts for m in stored.values()} == {1}
    assert len({m.provider_message_id for m in stored.values()}) == MESSAGES


# ───────────── partial batch failure ─────────────
def test_one_poisoned_record_in_each_of_50_batches_of_10_is_the_only_failure_and_the_only_retry(
    handler, tenant, send_queue, dlq_url, drain, kit, ses_wire, sent_emails, event_source
):
    """50 batches of 10 real queue messages, one poisoned record in each at a different position:
    unreadable JSON, a job of the wrong shape, or a message whose every send is throttled. Only the
    poisoned record is reported and comes back; the other 9 of each batch are sent once and acknowledged.
    The poison is retried until the redrive policy (maxReceiveCount 5) moves it to the DLQ."""
    from parley.dal.aws import client
    from parley.models.domain import MessageStatus

    t, _ = tenant
    arn, url = send_queue
    good = kit.seed_queued_emails(t, 450)
    throttled = kit.seed_queued_emails(t, 17, recipient=lambda i: f"poison{i}@example.com")
    ses_wire.fault = lambda mid, attempt: "throttle" if mid in throttled else None
    poison_bodies = []
    for b in range(50):
        kind = b % 3
        if kind == 0:
            poison_bodies.append(kit.job_body(t.id, throttled[b // 3]))
        elif kind == 1:
            poison_bodies.append(f"poison {b}: this is not JSON {{")
        else:
            poison_bodies.append(json.dumps({"tenant": t.id, "poison": b}))
    kit.enqueue_bodies(url, [kit.job_body(t.id, mid) for mid in good] + poison_bodies)
    received = {m["Body"]: m for m in drain(url)}  # receive 1 of every message (now invisible)
    assert len(received) == 500
    poisons = [received[b] for b in poison_bodies]
    goods = [received[kit.job_body(t.id, mid)] for mid in good]

    from parley_local.workers import _sqs_record

    dispatcher, sqs = handler(DISPATCHER), client("sqs")
    for b in range(50):
        batch = goods[9 * b : 9 * b + 9]
        batch.insert(b % 10, poisons[b])
        inv = kit.invoke(dispatcher, sqs, url, [_sqs_record(m, arn) for m in batch])
        assert inv.failed == [poisons[b]["MessageId"]], f"batch {b}"

    assert ses_wire.accepted == Counter(dict.fromkeys(good, 1))
    assert len(sent_emails()) == 450

    later = event_source()  # the event source keeps polling: only the poisoned records come back
    redelivered = Counter(r["messageId"] for inv in later for r in inv.records)
    assert set(redelivered) == {p["MessageId"] for p in poisons}
    assert set(redelivered.values()) == {4}  # receives 2..5, then the redrive policy takes them
    assert all(inv.failed == [r["messageId"] for r in inv.records] for inv in later)

    dead = drain(dlq_url)
    assert sorted(m["Body"] for m in dead) == sorted(poison_bodies)
    assert ses_wire.accepted == Counter(dict.fromkeys(good, 1))  # nothing more was sent
    assert ses_wire.calls == Counter({**dict.fromkeys(good, 1), **dict.fromkeys(throttled[:17], 5)})
    stored = _statuses(t.id, good + throttled)
    assert {stored[mid].status for mid in good} == {MessageStatus.SENT}
    assert {stored[mid].attempts for mid in good} == {1}
    for mid in throttled:
        assert stored[mid].status == MessageStatus.FAILED
        assert stored[mid].attempts == 5
        assert stored[mid].error == dead_letter_error("ses Throttling: Maximum sending rate exceeded.", 5)
        assert stored[mid].dead_letter_at is not None  # its job in the DLQ: an operator may retry it
        assert len(_failed_events(t.id, mid)) == 1


# ───────────── provider faults ─────────────
FAULTY = 300


def test_with_30_percent_of_provider_calls_failing_every_message_ends_sent_or_failed_none_lost_none_twice(
    tenant, send_queue, dlq_url, drain, kit, ses_wire, sent_emails, event_source
):
    """300 messages through the real queue while 30% of SES calls fail: throttling (400), 5xx (503),
    read timeouts before SES took the message and after it did. 1 message in 50 meets a persistent
    outage (every call throttled) so that the retry policy's end is reached, not just hoped for.

    Every message ends SENT (accepted once), FAILED with the error of its last provider call, or
    UNCONFIRMED: retryable errors are retried up to the 5th receive, then the record is FAILED and its job
    is in the DLQ; a timeout is never retried (SES may have accepted it: at most once, docs/architecture.md
    §6) and never FAILED (UNCONFIRMED: a FAILED record invites a resend). None lost (nothing left
    QUEUED/SENDING, queue empty), none sent twice, none that SES accepted FAILED."""
    from parley.models.domain import MessageStatus

    t, _ = tenant
    _, url = send_queue
    ids = kit.seed_queued_emails(t, FAULTY)
    outage = set(ids[::50])
    random_fault = kit.random_faults(0.30, seed=2026, ids=ids)
    ses_wire.fault = lambda mid, attempt: "throttle" if mid in outage else random_fault(mid, attempt)
    kit.enqueue_bodies(url, [kit.job_body(t.id, mid) for mid in ids])

    event_source()

    total_calls = sum(ses_wire.calls.values())
    random_calls = total_calls - sum(ses_wire.calls[mid] for mid in outage)
    random_faults = sum(ses_wire.faults.values()) - 5 * len(outage)
    assert 0.25 <= random_faults / random_calls <= 0.35  # the injected rate, as observed
    assert set(ses_wire.faults) == {"throttle", "5xx", "timeout", "timeout-after"}

    assert max(ses_wire.accepted.values()) == 1  # none sent twice
    assert len(sent_emails()) == sum(ses_wire.accepted.values())
    stored = _statuses(t.id, ids)
    assert len(stored) == FAULTY
    assert {m.status for m in stored.values()} <= {MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.UNCONFIRMED}  # none lost
    assert not [mid for mid, m in stored.items() if ses_wire.accepted[mid] and m.status == MessageStatus.FAILED]
    assert drain(url) == []

    exhausted = set()
    for mid, msg in stored.items():
        calls = ses_wire.calls[mid]
        assert 1 <= calls <= 5
        if msg.status == MessageStatus.SENT:
            assert ses_wire.accepted[mid] == 1 and msg.provider_message_id and msg.error is None
            assert msg.attempts == calls
            continue
        assert msg.error, mid
        if msg.status == MessageStatus.UNCONFIRMED:
            assert msg.error.startswith("ses read timeout")
            assert msg.attempts == calls  # the timeout was its last call: never retried
            assert not _failed_events(t.id, mid)
        else:
            assert len(_failed_events(t.id, mid)) == 1
            causes = ("ses Throttling: Maximum sending rate exceeded.", "ses ServiceUnavailable: Service unavailable")
            assert msg.error in [dead_letter_error(c, 5) for c in causes]
            assert calls == 5 and ses_wire.accepted[mid] == 0
            exhausted.add(mid)
    assert outage <= exhausted
    assert {m.status for mid, m in stored.items() if mid not in outage} >= {MessageStatus.SENT, MessageStatus.FAILED}
    dead = drain(dlq_url)
    assert sorted(json.loads(m["Body"])["message_id"] for m in dead) == sorted(exhausted)


# ───────────── a crash between the provider's acceptance and the state write ─────────────
def test_crash_after_the_provider_accepted_then_redelivery_sends_nothing_new(
    handler, tenant, send_queue, dlq_url, drain, kit, ses_wire, sent_emails, monkeypatch
):
    """SES accepted the message, then the worker died: neither SENT nor the receipt job was written (the
    invocation failed). The redelivered job must not call SES again: while the claim is fresh it is retried
    later; once the claim is stale (after the 180 s visibility timeout) the message becomes UNCONFIRMED
    "delivery outcome unknown" — never FAILED — and the job is acknowledged. One provider send in total."""
    from parley import clock
    from parley.dal import messages, queue
    from parley.dal.aws import client
    from parley.models.domain import MessageStatus
    from parley_local.workers import _sqs_record

    t, _ = tenant
    arn, url = send_queue
    (mid,) = kit.seed_queued_emails(t, 1)
    kit.enqueue_bodies(url, [kit.job_body(t.id, mid)])
    dispatcher, sqs = handler(DISPATCHER), client("sqs")

    real_mark_sent, real_enqueue = messages.mark_sent, queue.enqueue

    def crash(*args, **kwargs):
        raise RuntimeError("the worker died after SES accepted the message")

    def receive():
        (m,) = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        return [_sqs_record(m, arn)]

    monkeypatch.setattr(messages, "mark_sent", crash)
    monkeypatch.setattr(queue, "enqueue", crash)
    first = kit.invoke(dispatcher, sqs, url, receive())
    monkeypatch.setattr(messages, "mark_sent", real_mark_sent)
    monkeypatch.setattr(queue, "enqueue", real_enqueue)
    assert first.failed == [first.records[0]["messageId"]]
    assert ses_wire.accepted == Counter({mid: 1}) and len(sent_emails()) == 1
    assert messages.get(t.id, mid).status == MessageStatus.SENDING

    soon = kit.invoke(dispatcher, sqs, url, receive())  # redelivered while the claim is fresh
    assert ses_wire.calls == Counter({mid: 1}), "the redelivered job called SES again"
    assert soon.failed == [soon.records[0]["messageId"]]
    assert soon.records[0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert messages.get(t.id, mid).status == MessageStatus.SENDING

    real_now = clock.now
    monkeypatch.setattr(clock, "now", lambda: real_now() + timedelta(seconds=181))
    late = kit.invoke(dispatcher, sqs, url, receive())  # after the visibility timeout
    assert late.failed == []

    assert ses_wire.calls == Counter({mid: 1}) and len(sent_emails()) == 1  # the retries sent nothing new
    msg = messages.get(t.id, mid)
    assert msg.status == MessageStatus.UNCONFIRMED
    assert msg.error.startswith("delivery outcome unknown")
    assert msg.attempts == 1
    assert _failed_events(t.id, mid) == []
    (event,) = messages.get_with_events(t.id, mid)[1]
    assert (event.event, event.response) == ("unconfirmed", msg.error)
    assert drain(url) == [] and drain(dlq_url) == []
