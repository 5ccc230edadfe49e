"""Battery (issue 14): a poisoned send lands in the DLQ, shows in ``dlq list`` with its reason and in its message's
activity, is redriven once the cause is fixed, and goes out exactly once — however often its job is redriven.

The real send path (the candidate API's send handler), the real dispatcher on the real (moto) send queue with its
redrive policy (maxReceiveCount 5), SES observed and failed at the SDK boundary (``ses_wire``), and the operator's
own command (``python -m parley.admin dlq``, called in process).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from helpers import api_event, body

SEND = "CandidateApi.SendEmailFunction"
ACTIVITY = "CandidateApi.EmailActivityFunction"


@pytest.fixture
def operator(aws: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Any:
    """``operator("dlq", "list", …)`` → (exit code, the JSON lines it printed): the admin command against this stack
    (its table, and the DLQ URLs the stack's outputs give)."""
    from parley import admin
    from parley.settings import get_settings

    for env, suffix in (("SEND_DLQ_URL", "-SendDLQ"), ("PROVIDER_EVENTS_DLQ_URL", "-ProviderEventsDLQ"), ("TALLY_DLQ_URL", "-TallyDLQ")):
        monkeypatch.setenv(env, aws.queues[next(a for a in aws.queues if a.endswith(suffix))])

    def run(*argv: str) -> tuple[int, list[dict[str, Any]]]:
        get_settings.cache_clear()
        capsys.readouterr()
        code = admin.main(list(argv))
        return code, [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]

    return run


def _send(handler: Any, tenant_id: str, to: str) -> str:
    payload = {"subject": "Your interview", "emailContent": "Hi, see you on Tuesday.", "toEmail": to}
    out = handler(SEND)(api_event("candidate/send_email", tenant_id=tenant_id, body=payload, headers={"Idempotency-Key": None}))
    assert out["statusCode"] == 200, out
    return body(out)["data"]["emailActivityId"]


def _activity(handler: Any, tenant_id: str, message_id: str) -> list[tuple[str, str]]:
    event = api_event("candidate/email_activity", tenant_id=tenant_id, query={"emailActivityId": message_id})
    out = handler(ACTIVITY)(event)
    assert out["statusCode"] == 200, out
    return [(e["event"], e["response"]) for e in body(out)["data"]]


def test_a_poisoned_send_is_dead_lettered_listed_with_its_reason_redriven_once_fixed_and_sent_exactly_once(
    handler, tenant, other_tenant, send_queue, dlq_url, drain, event_source, ses_wire, sent_emails, operator
):
    from parley.dal import dead_letters, messages
    from parley.models.domain import MessageStatus

    t, o = tenant[0], other_tenant[0]
    poisoned = _send(handler, t.id, "ada@example.com")
    healthy = _send(handler, o.id, "bob@example.com")
    broken = {"on": True}  # SES refuses every send of this one message (503), until the cause is fixed
    ses_wire.fault = lambda mid, attempt: "5xx" if mid == poisoned and broken["on"] else None

    # the event source: the poisoned job comes back until its 5th receive, then SQS moves it to the DLQ
    event_source()
    assert ses_wire.calls == Counter({poisoned: 5, healthy: 1})
    assert ses_wire.accepted == Counter({healthy: 1})
    assert drain(send_queue[1]) == []
    msg = messages.get(t.id, poisoned)
    assert msg.status == MessageStatus.FAILED and msg.dead_letter_at is not None
    # its activity says so: not silently pending
    ((event, response),) = _activity(handler, t.id, poisoned)
    assert event == "failed"
    assert response == ("ses ServiceUnavailable: Service unavailable (not sent after 5 attempts; held in the dead-letter queue until "
                        "an operator retries or discards it)")  # fmt: skip

    # dlq list: the job, why it failed, and its message's state
    code, (listed,) = operator("dlq", "list", "--queue", "send")
    assert code == 0
    assert listed["queue"] == "send"
    assert listed["reason"] == ("ProviderError: ses ServiceUnavailable: Service unavailable (caused by ClientError: An error occurred "
                                "(ServiceUnavailable) when calling the SendEmail operation: Service unavailable)")  # fmt: skip
    assert listed["receives"] == 5
    assert listed["job"] == {"tenantId": t.id, "messageId": poisoned, "receipt": False}
    assert listed["message"]["status"] == "FAILED" and listed["message"]["deadLettered"] is True
    dead_id = listed["id"]
    code, (shown,) = operator("dlq", "show", dead_id)
    assert code == 0 and json.loads(shown["body"]) == {"tenant_id": t.id, "message_id": poisoned}
    assert shown["reason"] == listed["reason"]

    # the cause is fixed; the operator redrives it: back on the send queue, off the DLQ, its message QUEUED
    broken["on"] = False
    code, (done,) = operator("dlq", "redrive", "--queue", "send", dead_id)
    assert code == 0
    assert (done["id"], done["result"]) == (dead_id, "redriven")
    assert done["newId"] and done["newId"] != dead_id
    assert operator("dlq", "list", "--queue", "send") == (0, [])
    assert dead_letters.reasons("send", [dead_id]) == {}
    redriven_msg = messages.get(t.id, poisoned)
    assert (redriven_msg.status, redriven_msg.error, redriven_msg.dead_letter_at) == (MessageStatus.QUEUED, None, None)

    event_source()
    # sent exactly once: one accepted SES call in all, one email, SENT with SES's id
    assert ses_wire.calls == Counter({poisoned: 6, healthy: 1})
    assert ses_wire.accepted == Counter({poisoned: 1, healthy: 1})
    assert len(sent_emails()) == 2
    sent = messages.get(t.id, poisoned)
    assert sent.status == MessageStatus.SENT and sent.provider_message_id == ses_wire.answers[poisoned]
    assert [e for e, _ in _activity(handler, t.id, poisoned)] == ["failed", "requeued", "sent"]

    # redriving again (a copy of the job left behind, an operator repeating the command) sends nothing more
    from parley.models.domain import SendJob

    send_url = send_queue[1]
    from parley.dal.aws import client

    for _ in range(2):
        client("sqs").send_message(QueueUrl=send_url, MessageBody=SendJob(tenant_id=t.id, message_id=poisoned).model_dump_json())
    event_source()
    assert ses_wire.accepted == Counter({poisoned: 1, healthy: 1})
    assert ses_wire.calls[poisoned] == 6
    assert len(sent_emails()) == 2
    assert drain(dlq_url) == []
