"""The send-queue consumer: exactly one provider send per message, whatever SQS redelivers."""

import copy
import json

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from helpers import api_event, body, load_event
from parley_local.workers import _sqs_record

SEND = "CandidateApi.SendEmailFunction"
DISPATCHER = "root.DispatcherFunction"


def _send(handler, tenant_id, to="ada@example.com"):
    payload = {"subject": "Your interview", "emailContent": "Hi, see you on Tuesday.", "toEmail": to}
    out = handler(SEND)(api_event("candidate/send_email", tenant_id=tenant_id, body=payload, headers={"Idempotency-Key": None}))
    assert out["statusCode"] == 200, out
    return body(out)["data"]["emailActivityId"]


def _state(tenant_id, message_id):
    from parley.dal import messages

    msg, events = messages.get_with_events(tenant_id, message_id)
    return msg, [e.event for e in events]


@pytest.fixture
def one_queued(handler, tenant, send_queue, drain):
    """A sent-through-the-API message and its SQS message, as the event source would deliver it."""
    t, _ = tenant
    message_id = _send(handler, t.id)
    arn, url = send_queue
    (sqs_msg,) = drain(url)
    return t.id, message_id, _sqs_record(sqs_msg, arn)


def test_redelivery_in_separate_invocations_sends_once(handler, one_queued, sent_emails):
    from parley.models.domain import MessageStatus

    tenant_id, message_id, record = one_queued
    dispatcher = handler(DISPATCHER)
    for n in (1, 2, 3):
        rec = copy.deepcopy(record)
        rec["attributes"]["ApproximateReceiveCount"] = str(n)
        assert dispatcher({"Records": [rec]}) == {"batchItemFailures": []}
    assert len(sent_emails()) == 1
    msg, events = _state(tenant_id, message_id)
    assert msg.status == MessageStatus.SENT
    assert msg.attempts == 1
    assert msg.provider_message_id == sent_emails()[0].id
    assert msg.sent_at is not None
    assert msg.claimed_at is not None
    assert events == ["sent"]


def test_redelivery_within_one_batch_sends_once(handler, one_queued, sent_emails):
    from parley.models.domain import MessageStatus

    tenant_id, message_id, record = one_queued
    out = handler(DISPATCHER)({"Records": [copy.deepcopy(record) for _ in range(3)]})
    assert out == {"batchItemFailures": []}
    (sent,) = sent_emails()
    assert sent.destinations["ToAddresses"] == ["ada@example.com"]
    assert sent.source == "Example Talent Team <no-reply@parley.example>"
    assert sent.subject == "Your interview"
    msg, events = _state(tenant_id, message_id)
    assert msg.status == MessageStatus.SENT
    assert events == ["sent"]


def test_poison_record_is_the_only_batch_failure(handler, tenant, send_queue, drain, sent_emails):
    from parley.models.domain import MessageStatus

    t, _ = tenant
    ids = [_send(handler, t.id, to=f"c{i}@example.com") for i in range(3)]
    arn, url = send_queue
    records = [_sqs_record(m, arn) for m in drain(url)]
    poison = copy.deepcopy(records[0])
    poison["messageId"] = "poison-0001"
    poison["body"] = "this is not json"
    wrong_shape = copy.deepcopy(records[0])
    wrong_shape["messageId"] = "poison-0002"
    wrong_shape["body"] = json.dumps({"tenant": t.id})
    batch = [records[0], poison, records[1], wrong_shape, records[2]]

    out = handler(DISPATCHER)({"Records": batch})
    assert out == {"batchItemFailures": [{"itemIdentifier": "poison-0001"}, {"itemIdentifier": "poison-0002"}]}
    assert sorted(m.destinations["ToAddresses"][0] for m in sent_emails()) == [f"c{i}@example.com" for i in range(3)]
    for message_id in ids:
        msg, events = _state(t.id, message_id)
        assert msg.status == MessageStatus.SENT
        assert events == ["sent"]


def test_sample_dispatcher_event_for_a_missing_message_is_skipped(handler, aws, sent_emails):
    """events/core/dispatcher.json names a message that does not exist: acknowledged, nothing sent."""
    out = handler(DISPATCHER)(load_event("core/dispatcher"))
    assert out == {"batchItemFailures": []}
    assert sent_emails() == []


def test_job_of_one_tenant_cannot_send_another_tenants_message(handler, one_queued, other_tenant, sent_emails):
    from parley.models.domain import MessageStatus

    tenant_id, message_id, record = one_queued
    forged = copy.deepcopy(record)
    forged["body"] = json.dumps({"tenant_id": other_tenant[0].id, "message_id": message_id})
    assert handler(DISPATCHER)({"Records": [forged]}) == {"batchItemFailures": []}
    assert sent_emails() == []
    msg, events = _state(tenant_id, message_id)
    assert msg.status == MessageStatus.QUEUED
    assert events == []


def test_cancelled_message_is_skipped(handler, one_queued, sent_emails):
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    tenant_id, message_id, record = one_queued
    assert messages.transition(tenant_id, message_id, to=MessageStatus.CANCELLED, expect=(MessageStatus.QUEUED,))
    assert handler(DISPATCHER)({"Records": [record]}) == {"batchItemFailures": []}
    assert sent_emails() == []
    msg, events = _state(tenant_id, message_id)
    assert msg.status == MessageStatus.CANCELLED
    assert msg.attempts == 0
    assert events == []


def test_fresh_claim_by_another_worker_is_a_batch_failure(handler, one_queued, send_queue, drain, sent_emails):
    """A concurrent duplicate (message SENDING, claim fresh) comes back later instead of sending."""
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    tenant_id, message_id, record = one_queued
    other_id = _send(handler, tenant_id, to="bob@example.com")
    arn, url = send_queue
    (other,) = [_sqs_record(m, arn) for m in drain(url)]
    assert messages.claim(tenant_id, message_id, clock.now()) is not None

    out = handler(DISPATCHER)({"Records": [record, other]})
    assert out == {"batchItemFailures": [{"itemIdentifier": record["messageId"]}]}
    assert [m.destinations["ToAddresses"] for m in sent_emails()] == [["bob@example.com"]]
    msg, events = _state(tenant_id, message_id)
    assert msg.status == MessageStatus.SENDING
    assert msg.attempts == 1
    assert events == []
    assert _state(tenant_id, other_id)[0].status == MessageStatus.SENT

    # a batch whose every record fails is reported as a failed invocation (the whole batch returns)
    with pytest.raises(BatchProcessingError):
        handler(DISPATCHER)({"Records": [record]})
    assert len(sent_emails()) == 1


def test_provider_rejection_through_ses_is_a_permanent_failure(handler, aws, send_queue, drain, sent_emails):
    """An unverified sender: SES (moto) answers MessageRejected, which is not retryable."""
    from parley.domain.auth import create_tenant
    from parley.models.domain import MessageStatus

    t, _ = create_tenant("Unverified", "hr@unverified.example")
    out = handler(SEND)(
        api_event(
            "candidate/send_email",
            tenant_id=t.id,
            sender_email="hr@unverified.example",
            body={"subject": "Hello", "emailContent": "Hi there", "toEmail": "ada@example.com"},
            headers={"Idempotency-Key": None},
        )
    )
    message_id = body(out)["data"]["emailActivityId"]
    arn, url = send_queue
    assert handler(DISPATCHER)({"Records": [_sqs_record(m, arn) for m in drain(url)]}) == {"batchItemFailures": []}
    assert sent_emails() == []
    msg, events = _state(t.id, message_id)
    assert msg.status == MessageStatus.FAILED
    assert msg.error.startswith("ses MessageRejected")
    assert events == ["failed"]


@pytest.mark.parametrize(("receive_count", "status", "events"), [("1", "QUEUED", []), ("5", "FAILED", ["failed"])])
def test_retryable_provider_error_is_a_batch_failure(receive_count, status, events, handler, one_queued, sent_emails, monkeypatch):
    """Below maxReceiveCount the message goes back to QUEUED; at it, FAILED and still reported (→ DLQ)."""
    from parley.domain import dispatch
    from parley.providers.base import ProviderError

    class Throttled:
        name = "ses"

        def send(self, email):
            raise ProviderError("ses Throttling: rate exceeded", retryable=True)

    monkeypatch.setattr(dispatch, "email_provider", lambda name, tenant_id: Throttled())
    tenant_id, message_id, record = one_queued
    record["attributes"]["ApproximateReceiveCount"] = receive_count
    with pytest.raises(BatchProcessingError):  # the only record failed: the whole invocation fails
        handler(DISPATCHER)({"Records": [record]})
    msg, recorded = _state(tenant_id, message_id)
    assert msg.status == status
    if status == "QUEUED":
        assert (msg.error, msg.dead_letter_at) == ("ses Throttling: rate exceeded", None)
    else:  # dead-lettered: an operator may still retry it
        assert msg.error == dispatch.dead_letter_error("ses Throttling: rate exceeded", 5)
        assert msg.dead_letter_at is not None
    assert recorded == events
    assert sent_emails() == []


def test_persistently_throttled_job_ends_failed_in_the_dlq(handler, tenant, send_queue, dlq_url, drain, sent_emails, monkeypatch):
    """The event source's loop with moto's real receive counts and redrive policy (maxReceiveCount 5)."""
    from parley.dal.aws import client
    from parley.domain import dispatch
    from parley.models.domain import MessageStatus
    from parley.providers.base import ProviderError

    calls = []

    class Throttled:
        name = "ses"

        def send(self, email):
            calls.append(email.message_id)
            raise ProviderError("ses Throttling: rate exceeded", retryable=True)

    monkeypatch.setattr(dispatch, "email_provider", lambda name, tenant_id: Throttled())
    t, _ = tenant
    message_id = _send(handler, t.id)
    arn, url = send_queue
    sqs = client("sqs")
    dispatcher = handler(DISPATCHER)
    counts = []
    for _ in range(10):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        if not got:
            break
        (m,) = got
        counts.append(m["Attributes"]["ApproximateReceiveCount"])
        with pytest.raises(BatchProcessingError):
            dispatcher({"Records": [_sqs_record(m, arn)]})
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)  # "after the timeout"

    assert counts == ["1", "2", "3", "4", "5"]
    assert calls == [message_id] * 5
    (dead,) = drain(dlq_url)
    assert json.loads(dead["Body"]) == {"tenant_id": t.id, "message_id": message_id}
    msg, events = _state(t.id, message_id)
    assert msg.status == MessageStatus.FAILED
    assert msg.attempts == 5
    assert events == ["failed"]
    assert sent_emails() == []


def test_the_domain_answers_sqs_with_batch_item_failures(one_queued, sent_emails):
    """dispatch_sqs decides the whole batch and builds the partial batch response itself (no BatchProcessor):
    a record whose body is not a job is the only failure; a batch of nothing but failures raises."""
    from parley.domain.dispatch import dispatch_sqs

    _, message_id, record = one_queued
    bad = copy.deepcopy(record) | {"messageId": "not-a-job", "body": "{"}
    batch = dispatch_sqs([bad, record, copy.deepcopy(bad)])
    assert batch.response() == {"batchItemFailures": [{"itemIdentifier": "not-a-job"}, {"itemIdentifier": "not-a-job"}]}
    assert [(o.message_id, o.result, n) for o, n in batch.done] == [(message_id, "sent", 1)]
    assert len(sent_emails()) == 1
    with pytest.raises(BatchProcessingError):
        dispatch_sqs([bad]).response()
    assert dispatch_sqs([]).response() == {"batchItemFailures": []}
