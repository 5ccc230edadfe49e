"""The local stack's SES mailbox simulator on in-process moto: an email the dispatcher sends to
``bounce@simulator.amazonses.com`` gets SES's Send and Bounce events on the SES events topic, and the SES
events consumer turns them into activity and a suppression, so the next send to the address is refused —
the path the smoke test (``python -m parley.smoke``) checks on a deployed stack."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from helpers import api_event, body
from parley_local import ses_simulator
from parley_local.workers import _sqs_record

BOUNCE = "bounce@simulator.amazonses.com"
SUCCESS = "success+it@simulator.amazonses.com"


@pytest.fixture(autouse=True)
def simulator() -> None:
    ses_simulator.install()


def _queue(aws: Any, suffix: str) -> tuple[str, str]:
    arn = next(a for a in aws.queues if a.endswith(suffix))
    return arn, aws.queues[arn]


def _send_and_dispatch(handler: Any, aws: Any, tenant_id: str, to: str) -> str:
    out = handler("CandidateApi.SendEmailFunction")(
        api_event("candidate/send_email", tenant_id=tenant_id, headers={"Idempotency-Key": None},
                  body={"toEmail": to, "subject": "Simulated", "emailContent": "<p>Hi</p>"})
    )  # fmt: skip
    assert out["statusCode"] == 200, out
    from parley.dal.aws import client

    arn, url = _queue(aws, "-SendQueue")
    msgs = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    assert handler("root.DispatcherFunction")({"Records": [_sqs_record(m, arn) for m in msgs]}) == {"batchItemFailures": []}
    return body(out)["data"]["emailActivityId"]


def _ses_events(aws: Any, want: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The SES events queue's messages (SNS envelopes), once ``want`` have arrived."""
    from parley.dal.aws import client

    _, url = _queue(aws, "-SesEventsQueue")
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < want and time.monotonic() < deadline:
        got += client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", [])
        time.sleep(0.1)
    return got


def _activity(handler: Any, tenant_id: str, message_id: str) -> list[str]:
    out = handler("CandidateApi.EmailActivityFunction")(
        api_event("candidate/email_activity", tenant_id=tenant_id, query={"emailActivityId": message_id})
    )
    return [e["event"] for e in body(out)["data"]]


def test_a_bounce_reaches_activity_and_the_suppression_list(handler, aws, tenant):
    t, _ = tenant
    message_id = _send_and_dispatch(handler, aws, t.id, BOUNCE)
    messages = _ses_events(aws, 2)
    kinds = sorted(json.loads(json.loads(m["Body"])["Message"])["eventType"] for m in messages)
    assert kinds == ["Bounce", "Send"]
    envelope = json.loads(messages[0]["Body"])
    assert envelope["Type"] == "Notification" and envelope["TopicArn"].endswith("SesEventsTopic")

    arn, _ = _queue(aws, "-SesEventsQueue")
    out = handler("root.SesEventsFunction")({"Records": [_sqs_record(m, arn) for m in messages]})
    assert out == {"batchItemFailures": []}
    assert set(_activity(handler, t.id, message_id)) == {"sent", "processed", "bounce"}

    from parley.dal import suppressions

    assert BOUNCE in suppressions.get_many(t.id, [BOUNCE])
    again = handler("CandidateApi.SendEmailFunction")(
        api_event("candidate/send_email", tenant_id=t.id, headers={"Idempotency-Key": None},
                  body={"toEmail": BOUNCE, "subject": "Again", "emailContent": "<p>Hi</p>"})
    )  # fmt: skip
    assert again["statusCode"] == 400
    assert "suppression list" in body(again)["message"]


def test_a_delivery_and_only_the_types_the_destination_matches(handler, aws, tenant):
    from moto.ses.models import ses_backends

    t, _ = tenant
    (destination,) = ses_backends["123456789012"]["us-east-1"].config_set_event_destination.values()
    destination["MatchingEventTypes"] = ["delivery"]  # as if the template matched deliveries only
    message_id = _send_and_dispatch(handler, aws, t.id, SUCCESS)
    messages = _ses_events(aws, 1)
    time.sleep(ses_simulator.OUTCOME_DELAY_S)
    messages += _ses_events(aws, 0)
    assert [json.loads(json.loads(m["Body"])["Message"])["eventType"] for m in messages] == ["Delivery"]
    arn, _ = _queue(aws, "-SesEventsQueue")
    assert handler("root.SesEventsFunction")({"Records": [_sqs_record(m, arn) for m in messages]}) == {"batchItemFailures": []}
    assert _activity(handler, t.id, message_id) == ["sent", "delivered"]


def test_mail_to_anyone_else_gets_no_event(handler, aws, tenant):
    t, _ = tenant
    _send_and_dispatch(handler, aws, t.id, "ada@example.com")
    time.sleep(ses_simulator.OUTCOME_DELAY_S + 0.3)
    assert _ses_events(aws, 0) == []
