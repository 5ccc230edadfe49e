"""The dispatcher works per SQS batch: shared claims, re-checks and outcome writes, exact per-record results."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from helpers import api_event, body

DISPATCHER, SMS_SEND = "root.DispatcherFunction", "CandidateApi.SendSmsFunction"
PHONE = "+15555550142"


def _record(tenant_id, message_id, sqs_id, receive_count=1):
    return {
        "messageId": sqs_id,
        "receiptHandle": f"rh-{sqs_id}",
        "body": json.dumps({"tenant_id": tenant_id, "message_id": message_id}),
        "attributes": {"ApproximateReceiveCount": str(receive_count)},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:send",
        "awsRegion": "us-east-1",
    }


def _queued_email(t, recipient, **extra):
    from parley.dal import messages
    from parley.domain.context import Caller
    from parley.domain.emails import new_outbound_email

    caller = Caller(tenant_id=t.id, sender_email=t.sender_email, sender_name=t.sender_name)
    msg = new_outbound_email(caller, source_api="crm", recipient=recipient, subject="Offer", body="<p>Hi</p>")
    msg = msg.model_copy(update={"recipients": [recipient], "category": "OFFERTE", **extra})
    messages.create(msg)
    return msg.id


class _Provider:
    """Accepts every email except those to a ``throttled`` address (a retryable error)."""

    name = "ses"

    def __init__(self):
        self.calls = []

    def send(self, email):
        from parley.providers.base import ProviderError, Receipt

        self.calls.append(email.recipient)
        if email.recipient.startswith("throttled"):
            raise ProviderError("ses Throttling: rate exceeded", retryable=True)
        return Receipt(provider="ses", provider_message_id=f"ses-{len(self.calls)}")


@pytest.fixture
def provider(monkeypatch):
    from parley.domain import dispatch

    fake = _Provider()
    monkeypatch.setattr(dispatch, "email_provider", lambda name, tenant_id: fake)
    return fake


def _day(tenant_id):
    from parley import clock
    from parley.dal import counters

    today = clock.iso(clock.now())[:10]
    (item,) = counters.days(tenant_id, today, today) or [{}]
    return {k: v for k, v in item.items() if k in ("sent", "failed", "t:OFFERTE:sent", "t:OFFERTE:failed")}


def test_a_mixed_batch_gets_the_exact_outcome_per_record(handler, tenant, other_tenant, provider):
    from parley import clock
    from parley.dal import dead_letters, messages, suppressions
    from parley.domain import dispatch, optins
    from parley.models.domain import MessageStatus
    from parley.models.email_events import Suppression

    t, o = tenant[0], other_tenant[0]
    fresh = _queued_email(t, "ada@example.com")
    already_sent = _queued_email(t, "bob@example.com")
    suppressed = _queued_email(t, "cy@example.com", cc=["dee@example.com"])
    throttled = _queued_email(t, "throttled1@example.com")
    exhausted = _queued_email(t, "throttled2@example.com")
    elsewhere = _queued_email(o, "eve@example.com")
    optins.update(t.id, phone=PHONE, email=None, opt_in=True, reason="form")
    sms_event = api_event(
        "candidate/send_sms", tenant_id=t.id, body={"message": "See you", "phoneNumber": PHONE}, headers={"x-ph-userid": "r"}
    )
    sms = body(handler(SMS_SEND)(sms_event))["data"]["messageSID"]
    optins.update(t.id, phone=PHONE, email=None, opt_in=False, reason="keyword STOP")
    dispatcher = handler(DISPATCHER)
    assert dispatcher({"Records": [_record(t.id, already_sent, "r0")]}) == {"batchItemFailures": []}
    suppressions.add(Suppression(tenant_id=t.id, address="DEE@example.com", reason="bounce", created_at=clock.now()))
    provider.calls.clear()

    batch = [
        _record(t.id, fresh, "r1"),
        _record(t.id, already_sent, "r2", receive_count=2),
        _record(t.id, suppressed, "r3"),
        _record(t.id, sms, "r4"),
        _record(t.id, throttled, "r5"),
        _record(t.id, exhausted, "r6", receive_count=5),
        _record(o.id, elsewhere, "r7"),
        _record(o.id, fresh, "r8"),  # another tenant's id: not found, nothing sent
    ]
    out = dispatcher({"Records": batch})
    assert out == {"batchItemFailures": [{"itemIdentifier": "r5"}, {"itemIdentifier": "r6"}]}
    assert sorted(provider.calls) == ["ada@example.com", "eve@example.com", "throttled1@example.com", "throttled2@example.com"]

    def state(tid, mid):
        msg, events = messages.get_with_events(tid, mid)
        return msg.status, [e.event for e in events], msg.error

    assert state(t.id, fresh)[:2] == (MessageStatus.SENT, ["sent"])
    assert state(t.id, already_sent)[:2] == (MessageStatus.SENT, ["sent"])
    status, events, error = state(t.id, suppressed)
    assert (status, events) == (
        MessageStatus.FAILED,
        ["failed"],
    ) and error == "not sent: dee@example.com is on the suppression list (bounce)"
    status, events, error = state(t.id, sms)
    assert status == MessageStatus.FAILED and "no longer opted in" in error
    status, events, error = state(t.id, throttled)
    assert (status, events, error) == (MessageStatus.QUEUED, [], "ses Throttling: rate exceeded")
    assert messages.get(t.id, throttled).claimed_at is None
    assert state(t.id, exhausted) == (MessageStatus.FAILED, ["failed"], dispatch.dead_letter_error("ses Throttling: rate exceeded", 5))
    # why: kept for the record whose receive was its last (r6), not for the one that comes back (r5)
    (reason,) = dead_letters.reasons("send", ["r5", "r6"]).values()
    assert (reason["sqs_message_id"], reason["message_id"], reason["receive_count"]) == ("r6", exhausted, 5)
    assert reason["reason"] == "ProviderError: ses Throttling: rate exceeded"
    assert state(o.id, elsewhere)[:2] == (MessageStatus.SENT, ["sent"])
    # the day counters, bumped once the outcomes are recorded: records only (not the SMS), once each
    assert _day(t.id) == {"sent": 2, "failed": 2, "t:OFFERTE:sent": 2, "t:OFFERTE:failed": 2}
    assert _day(o.id) == {"sent": 1, "t:OFFERTE:sent": 1}

    # the retried record is sent by its redelivery; the others do nothing more
    again = dispatcher({"Records": [_record(t.id, m, f"x{i}", 2) for i, m in enumerate([fresh, suppressed, exhausted, sms])]})
    assert again == {"batchItemFailures": []}
    assert len(provider.calls) == 4
    assert _day(t.id) == {"sent": 2, "failed": 2, "t:OFFERTE:sent": 2, "t:OFFERTE:failed": 2}


def test_a_job_twice_in_one_batch_after_a_retryable_error_is_tried_again_in_the_next_round(handler, tenant, provider):
    """As if the duplicates came one after the other: the first requeues it, the second sends nothing new
    to a throttled address either, and reports both for a retry."""
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    t = tenant[0]
    mid = _queued_email(t, "throttled@example.com")
    ok = _queued_email(t, "ok@example.com")
    out = handler(DISPATCHER)({"Records": [_record(t.id, mid, "a"), _record(t.id, ok, "b"), _record(t.id, mid, "c")]})
    assert out == {"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}]}
    assert Counter(provider.calls) == Counter({"throttled@example.com": 2, "ok@example.com": 1})
    msg = messages.get(t.id, mid)
    assert (msg.status, msg.attempts) == (MessageStatus.QUEUED, 2)


def test_a_cancelled_combined_write_falls_back_to_one_write_per_message(handler, tenant, provider, monkeypatch):
    """A message moved behind the dispatcher's back while it was being sent cancels the batch's outcome
    transaction: every other message's outcome is still recorded, and counted once."""
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    t = tenant[0]
    ids = [_queued_email(t, f"c{i}@example.com") for i in range(4)]
    real_send = provider.send

    def send(email):
        if email.recipient == "c2@example.com":
            messages.transition(t.id, ids[2], to=MessageStatus.FAILED, expect=(MessageStatus.SENDING,), extra={"error": "elsewhere"})
        return real_send(email)

    monkeypatch.setattr(provider, "send", send)
    assert handler(DISPATCHER)({"Records": [_record(t.id, m, f"r{i}") for i, m in enumerate(ids)]}) == {"batchItemFailures": []}
    statuses = [messages.get(t.id, m).status for m in ids]
    assert statuses == [MessageStatus.SENT, MessageStatus.SENT, MessageStatus.FAILED, MessageStatus.SENT]
    assert _day(t.id) == {"sent": 3, "t:OFFERTE:sent": 3}


def test_a_batch_of_ten_costs_seven_dynamodb_calls_and_one_send_each(handler, tenant, sent_emails):
    from parley.dal.aws import client
    from parley.models.domain import MessageStatus

    t = tenant[0]
    ids = [_queued_email(t, f"lead{i}@example.com", cc=[f"cc{i}@example.com"]) for i in range(10)]
    dispatcher = handler(DISPATCHER)
    calls: Counter[str] = Counter()

    def count(model, **_):
        calls[f"{model.service_model.service_name}.{model.name}"] += 1

    hooked = [client("dynamodb"), client("sesv2", retry=False)]
    for c in hooked:
        c.meta.events.register("before-call.*.*", count)
    try:
        assert dispatcher({"Records": [_record(t.id, m, f"r{i}") for i, m in enumerate(ids)]}) == {"batchItemFailures": []}
    finally:
        for c in hooked:
            c.meta.events.unregister("before-call.*.*", count)
    # the tenant's provider rate (1 GetItem, cached by the process for 300 s) and its ten send slots (1 UpdateItem:
    # the pace, §6.4), claim (1 transaction), claimed items + every address's suppression entry (2 BatchGetItem),
    # outcomes (1 transaction), then the batch's day counter (1 UpdateItem, kept out of the transaction)
    expected = {"dynamodb.GetItem": 1, "dynamodb.TransactWriteItems": 2, "dynamodb.BatchGetItem": 2, "dynamodb.UpdateItem": 2,
                "sesv2.SendEmail": 10}  # fmt: skip
    assert calls == Counter(expected)
    assert len(sent_emails()) == 10
    from parley.dal import records

    assert {m.status for m in records.get_many(t.id, ids)} == {MessageStatus.SENT}
    assert _day(t.id) == {"sent": 10, "t:OFFERTE:sent": 10}
