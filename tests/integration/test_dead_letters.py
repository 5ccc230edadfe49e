"""Dead letters (issue 14): the consumers keep why a message failed its last receive, the dispatcher dead-letters
what it gives up on, and the operator's ``python -m parley.admin dlq`` lists, shows, redrives and discards safely.

The end-to-end story (a poisoned send through the real queue, redriven, sent exactly once) is in
tests/integration/battery/test_battery_dead_letters.py; these are its parts and its refusals."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from helpers import api_event, body, load_event

SEND = "CandidateApi.SendEmailFunction"
DISPATCHER = "root.DispatcherFunction"
PROVIDER_EVENTS = "root.ProviderEventsFunction"


def _url(aws: Any, suffix: str) -> str:
    return aws.queues[next(a for a in aws.queues if a.endswith(suffix))]


@pytest.fixture
def operator(aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``operator("dlq", …)`` → (exit code, printed JSON lines, stderr): the admin command against this stack."""
    from parley import admin
    from parley.settings import get_settings

    for env, suffix in (("SEND_DLQ_URL", "-SendDLQ"), ("PROVIDER_EVENTS_DLQ_URL", "-ProviderEventsDLQ"), ("TALLY_DLQ_URL", "-TallyDLQ")):
        monkeypatch.setenv(env, _url(aws, suffix))

    def run(*argv: str) -> tuple[int, list[dict[str, Any]], str]:
        get_settings.cache_clear()
        capsys.readouterr()
        code = admin.main(list(argv))
        out = capsys.readouterr()
        return code, [json.loads(line) for line in out.out.splitlines() if line.strip()], out.err

    return run


def _sqs() -> Any:
    from parley.dal.aws import client

    return client("sqs")


def _put(url: str, body_: str, **attributes: str) -> str:
    extra = {"MessageAttributes": {k: {"DataType": "String", "StringValue": v} for k, v in attributes.items()}} if attributes else {}
    return _sqs().send_message(QueueUrl=url, MessageBody=body_, **extra)["MessageId"]


def _visible(url: str) -> int:
    attrs = _sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"])


def _send(handler: Any, tenant_id: str, to: str = "ada@example.com") -> str:
    payload = {"subject": "Your interview", "emailContent": "Hi, see you on Tuesday.", "toEmail": to}
    out = handler(SEND)(api_event("candidate/send_email", tenant_id=tenant_id, body=payload, headers={"Idempotency-Key": None}))
    assert out["statusCode"] == 200, out
    return body(out)["data"]["emailActivityId"]


def _job_record(tenant_id: str, message_id: str, receive_count: int, sqs_id: str = "sqs-1") -> dict[str, Any]:
    from parley.models.domain import SendJob

    record = copy.deepcopy(load_event("core/dispatcher")["Records"][0])
    record.update(messageId=sqs_id, body=SendJob(tenant_id=tenant_id, message_id=message_id).model_dump_json())
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    return record


def _dead_lettered(handler: Any, tenant_id: str, monkeypatch: pytest.MonkeyPatch, to: str = "ada@example.com") -> str:
    """A message sent through the API whose last attempt failed (SES throttling): FAILED, dead-lettered."""
    from parley.domain import dispatch
    from parley.providers.base import ProviderError

    class Throttled:
        name = "ses"

        def send(self, email: Any) -> Any:
            raise ProviderError("ses Throttling: rate exceeded", retryable=True)

    message_id = _send(handler, tenant_id, to)
    dispatcher = handler(DISPATCHER)
    with monkeypatch.context() as m:
        m.setattr(dispatch, "email_provider", lambda name, tenant_id: Throttled())
        out = dispatcher({"Records": [_job_record(tenant_id, message_id, 5, f"sqs-{message_id}"), _job_record("x", "y", 1, "ok")]})
    assert out == {"batchItemFailures": [{"itemIdentifier": f"sqs-{message_id}"}]}
    return message_id


# ───────────── the consumers: why ─────────────
@pytest.mark.parametrize(("receive_count", "kept"), [(4, False), (5, True)])
def test_a_consumer_keeps_why_a_message_failed_only_on_its_last_receive(handler, aws, table_items, receive_count, kept):
    from parley import clock
    from parley.dal import dead_letters

    record = copy.deepcopy(load_event("core/provider_events")["Records"][0])
    record.update(messageId="poison-1", body=json.dumps({"v": 2, "kind": "sendgrid"}))
    record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
    with pytest.raises(BatchProcessingError):  # every record failed: the invocation fails
        handler(PROVIDER_EVENTS)({"Records": [record, copy.deepcopy(record) | {"messageId": "poison-2"}]})
    found = dead_letters.reasons("provider-events", ["poison-1", "poison-2"])
    if not kept:
        assert found == {}
        return
    assert set(found) == {"poison-1", "poison-2"}
    item = found["poison-1"]
    assert item["reason"] == "ValueError: not a provider events message"
    assert (item["error_type"], item["receive_count"], item["type"]) == ("ValueError", 5, "dead_letter")
    # it expires a day after the DLQ would have dropped the message
    now = int(clock.now().timestamp())
    assert 15 * 86400 - 60 < item["ttl"] - now <= 15 * 86400


def test_a_provider_that_cannot_be_set_up_gives_the_claim_back_then_dead_letters_the_message(handler, tenant, monkeypatch):
    """Nothing was handed to a provider: QUEUED again (not left SENDING, which would end UNCONFIRMED, "may have
    been sent"), and FAILED dead-lettered on the last attempt; each counts as a failed provider call of the tenant."""
    from parley.dal import messages
    from parley.domain import dispatch
    from parley.domain.dispatch import dispatch_sqs
    from parley.models.domain import MessageStatus

    t, _ = tenant
    message_id = _send(handler, t.id)
    handler(DISPATCHER)

    def broken(name: str, tenant_id: str) -> Any:
        raise RuntimeError("the tenant's credentials secret is unreadable")

    monkeypatch.setattr(dispatch, "email_provider", broken)
    batch = dispatch_sqs([_job_record(t.id, message_id, 1)])
    assert [type(e).__name__ for _, e in batch.failed] == ["RetryLater"]
    assert batch.provider_calls == [(t.id, True)]
    msg = messages.get(t.id, message_id)
    assert (msg.status, msg.claimed_at, msg.dead_letter_at) == (MessageStatus.QUEUED, None, None)
    assert msg.error == "could not be prepared for ses: the tenant's credentials secret is unreadable"

    batch = dispatch_sqs([_job_record(t.id, message_id, 5)])
    assert len(batch.failed) == 1
    msg, events = messages.get_with_events(t.id, message_id)
    assert msg.status == MessageStatus.FAILED and msg.dead_letter_at is not None
    assert msg.error == dispatch.dead_letter_error("could not be prepared for ses: the tenant's credentials secret is unreadable", 5)
    assert [(e.event, e.response) for e in events] == [("failed", msg.error)]


def test_the_dispatcher_emits_each_tenants_provider_calls_as_failed_or_not(handler, tenant, other_tenant, monkeypatch, capsys):
    from parley.domain import dispatch
    from parley.providers.base import ProviderError, Receipt

    t, o = tenant[0], other_tenant[0]
    ok, refused = _send(handler, t.id, "ok@example.com"), _send(handler, t.id, "no@example.com")
    other = _send(handler, o.id, "other@example.com")

    class Provider:
        name = "ses"

        def send(self, email: Any) -> Receipt:
            if email.recipient == "no@example.com":
                raise ProviderError("ses MessageRejected: no", retryable=False)
            return Receipt(provider="ses", provider_message_id=f"ses-{email.message_id}")

    dispatcher = handler(DISPATCHER)
    monkeypatch.setattr(dispatch, "email_provider", lambda name, tenant_id: Provider())
    capsys.readouterr()
    records = [_job_record(t.id, ok, 1, "a"), _job_record(t.id, refused, 1, "b"), _job_record(o.id, other, 1, "c")]
    assert dispatcher({"Records": records}) == {"batchItemFailures": []}
    documents = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"ProviderCallFailed"' in line]
    by_tenant = {d["tenant"]: d for d in documents}
    assert set(by_tenant) == {t.id, o.id}
    assert sorted(by_tenant[t.id]["ProviderCallFailed"]) == [0.0, 1.0]
    assert by_tenant[o.id]["ProviderCallFailed"] == [0.0]
    (directive,) = by_tenant[t.id]["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Parley"
    assert directive["Dimensions"] == [["tenant", "service"]] and by_tenant[t.id]["service"] == "dispatcher"


# ───────────── the operator: list, show ─────────────
def test_list_shows_each_dead_letter_with_why_and_leaves_them_in_the_queue(aws, handler, tenant, monkeypatch, operator):
    t, _ = tenant
    dlq = _url(aws, "-SendDLQ")
    message_id = _dead_lettered(handler, t.id, monkeypatch)
    # a copy of its job: the reason the dispatcher kept is under the id its own record had, so this one has none
    job = _put(dlq, json.dumps({"tenant_id": t.id, "message_id": message_id}))
    scheduled = _put(dlq, json.dumps({"tenant_id": t.id, "message_id": "gone"}), ERROR_CODE="AWS.SQS.Throttled", ERROR_MESSAGE="slow down")
    garbage = _put(dlq, "not a job {")

    code, listed, err = operator("dlq", "list")
    assert code == 0
    assert "send: 3 waiting" in err
    by_id = {entry["id"]: entry for entry in listed}
    assert set(by_id) == {job, scheduled, garbage}
    assert by_id[job]["message"]["status"] == "FAILED" and by_id[job]["message"]["deadLettered"] is True
    assert by_id[job]["reason"].startswith("no reason recorded: the consumer did not finish its last attempt")
    assert by_id[scheduled]["reason"] == "EventBridge Scheduler could not deliver the schedule: AWS.SQS.Throttled slow down"
    assert by_id[scheduled]["message"] is None
    assert by_id[garbage]["notes"] == ["not a send job: the dispatcher can never take it"]
    assert by_id[garbage]["body"] == "not a job {"
    assert _visible(dlq) == 3  # read, then made visible again

    code, (shown,), _ = operator("dlq", "show", scheduled, "--queue", "send")
    assert code == 0
    assert shown["messageAttributes"] == {"ERROR_CODE": "AWS.SQS.Throttled", "ERROR_MESSAGE": "slow down"}
    assert shown["attributes"]["SentTimestamp"]
    code, found, err = operator("dlq", "show", "no-such-id")
    assert (code, found) == (1, [])
    assert "no-such-id: not in send, provider-events, tally" in err
    assert _visible(dlq) == 3


# ───────────── redrive: what goes back, and what is refused ─────────────
def test_redrive_refuses_what_must_not_be_sent_and_leaves_it_in_the_dlq(aws, handler, tenant, monkeypatch, operator, sent_emails,
                                                                        drain):  # fmt: skip
    from parley import clock
    from parley.dal import messages, records
    from parley.models.domain import TimelineEntry

    t, _ = tenant
    dlq, send_url = _url(aws, "-SendDLQ"), _url(aws, "-SendQueue")
    sent = _send(handler, t.id, "sent@example.com")
    drain(send_url)
    assert handler(DISPATCHER)({"Records": [_job_record(t.id, sent, 1)]}) == {"batchItemFailures": []}
    resent = _dead_lettered(handler, t.id, monkeypatch, "resent@example.com")
    records.append_timeline(t.id, resent, TimelineEntry(id="e1", type="RESEND", date=clock.now(), description="Resent as r-2"),
                            updated_by=None)  # fmt: skip
    drain(send_url)
    refused = {
        _put(dlq, "not a job {"): "not a send job: it can never succeed (discard it)",
        _put(dlq, json.dumps({"tenant_id": t.id, "message_id": "gone"})): "message gone no longer exists: nothing to send (discard it)",
        _put(dlq, json.dumps({"tenant_id": t.id, "message_id": sent})): f"message {sent} is SENT: nothing to redrive (discard it)",
        _put(dlq, json.dumps({"tenant_id": t.id, "message_id": resent})): (
            f"message {resent} was resent by a user meanwhile (Resent as r-2): redriving it would deliver it twice (discard it)"
        ),
    }
    code, done, _ = operator("dlq", "redrive", "--queue", "send", "--all")
    assert code == 1
    assert {d["id"]: (d["result"], d["detail"]) for d in done} == {i: ("refused", why) for i, why in refused.items()}
    assert _visible(dlq) == 4 and _visible(send_url) == 0
    assert messages.get(t.id, resent).dead_letter_at is not None  # untouched
    assert len(sent_emails()) == 1

    # discarded: gone from the DLQ; the dead-lettered message is FAILED for good
    code, done, _ = operator("dlq", "discard", "--queue", "send", "--all")
    assert code == 0
    assert sorted(d["result"] for d in done) == ["discarded"] * 4
    assert [d["detail"] for d in done if d["detail"]] == [f"message {resent} stays FAILED"]
    msg = messages.get(t.id, resent)
    assert (msg.status.value, msg.dead_letter_at) == ("FAILED", None)
    assert _visible(dlq) == 0


def test_redriving_a_dead_lettered_record_queues_it_and_takes_its_failed_count_back(aws, handler, tenant, monkeypatch, operator,
                                                                                     drain):  # fmt: skip
    from parley import clock
    from parley.dal import counters, messages, pending
    from parley.models.domain import MessageStatus, SendJob

    t, _ = tenant
    dlq, send_url = _url(aws, "-SendDLQ"), _url(aws, "-SendQueue")
    message_id = _dead_lettered(handler, t.id, monkeypatch)
    drain(send_url)
    today = clock.iso(clock.now())[:10]
    assert counters.days(t.id, today, today)[0]["failed"] == 1
    dead = _put(dlq, SendJob(tenant_id=t.id, message_id=message_id).model_dump_json())

    code, (done, missing), _ = operator("dlq", "redrive", "--queue", "send", dead, "missing-id")
    assert code == 1  # one was not found
    assert (done["id"], done["result"], done["detail"]) == (dead, "redriven", f"message {message_id} is QUEUED again")
    assert (missing["id"], missing["result"]) == ("missing-id", "not found")
    (back,) = drain(send_url)
    assert json.loads(back["Body"]) == {"tenant_id": t.id, "message_id": message_id}
    assert _visible(dlq) == 0
    msg, events = messages.get_with_events(t.id, message_id)
    assert (msg.status, msg.error, msg.dead_letter_at) == (MessageStatus.QUEUED, None, None)
    assert [(e.event, e.response) for e in events][-1] == ("requeued", "retried by an operator from the dead-letter queue")
    assert msg.timeline[-1].description == "Status changed to QUEUED: retried by an operator from the dead-letter queue"
    assert counters.days(t.id, today, today)[0]["failed"] == 0
    # back on the pending index: if this job were lost too, the sweeper would queue it again
    assert [p.message_id for p in pending.due_before(clock.now() + timedelta(seconds=1), limit=10)] == [message_id]


def test_another_queues_dead_letter_goes_back_to_its_own_queue(aws, operator):
    from parley import clock
    from parley.dal import dead_letters

    dlq, source = _url(aws, "-ProviderEventsDLQ"), _url(aws, "-ProviderEventsQueue")
    payload = json.dumps({"v": 1, "kind": "twilio_status", "tenant_id": "t-1", "form": {}})
    dead = _put(dlq, payload)
    dead_letters.put_reason("provider-events", dead, reason="ValueError: boom", error_type="ValueError", receive_count=5, at=clock.now())
    code, (listed,), _ = operator("dlq", "list", "--queue", "provider-events")
    assert (code, listed["reason"], listed["body"]) == (0, "ValueError: boom", payload)
    code, (done,), _ = operator("dlq", "redrive", "--queue", "provider-events", dead)
    assert (code, done["result"]) == (0, "redriven")
    (back,) = _sqs().receive_message(QueueUrl=source, MaxNumberOfMessages=10).get("Messages", [])
    assert back["Body"] == payload and back["MessageId"] == done["newId"]
    assert _visible(dlq) == 0
    assert dead_letters.reasons("provider-events", [dead]) == {}


def test_the_tally_dlq_is_listed_with_the_lambda_failure_but_never_redriven(aws, operator):
    dlq = _url(aws, "-TallyDLQ")
    record = {
        "requestContext": {"requestId": "r", "functionArn": "arn:aws:lambda:…:TallyFunction", "condition": "RetryAttemptsExhausted"},
        "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
        "DDBStreamBatchInfo": {"shardId": "shard-1", "startSequenceNumber": "1", "endSequenceNumber": "9", "batchSize": 9},
    }
    dead = _put(dlq, json.dumps(record))
    code, (listed,), _ = operator("dlq", "list", "--queue", "tally")
    assert (code, listed["id"], listed["reason"]) == (0, dead, "TallyFunction: RetryAttemptsExhausted (Unhandled)")
    code, done, err = operator("dlq", "redrive", "--queue", "tally", dead)
    assert (code, done) == (2, [])
    assert "it cannot be redriven" in err
    assert _visible(dlq) == 1
    assert operator("dlq", "discard", "--queue", "tally", dead)[0] == 0
    assert _visible(dlq) == 0


def test_the_commands_say_what_is_missing(operator, monkeypatch):
    assert operator("dlq", "redrive", "--queue", "send")[0] == 2  # neither ids nor --all
    monkeypatch.delenv("SEND_DLQ_URL")
    code, _, err = operator("dlq", "list", "--queue", "send")
    assert code == 2 and "SEND_DLQ_URL" in err
