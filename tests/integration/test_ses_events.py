"""SES configuration-set events → SNS → SQS → SesEventsFunction, on in-process moto."""

from __future__ import annotations

import copy
import json

from helpers import load_event
from parley_local.workers import _sqs_record

SES_EVENTS = "root.SesEventsFunction"


def sent_via_ses(tenant, to="ada@example.com", ses_id="0100-ses-message-1"):
    """A message of ``tenant`` the dispatcher handed to SES (SENT, with its SES MessageId lookup)."""
    from parley import clock
    from parley.dal import messages
    from parley.domain import emails
    from parley.domain.context import Caller
    from parley.domain.ids import new_id
    from parley.models.domain import ActivityEvent

    msg = emails.new_outbound_email(Caller.of(tenant), source_api="candidate", recipient=to, subject="Interview", body="Hi")
    messages.create(msg)
    claimed = messages.claim(tenant.id, msg.id, clock.now())
    ev = ActivityEvent(message_id=msg.id, event_id=new_id(), event="sent", email=to, created_ms=clock.epoch_ms(clock.now()))
    assert messages.mark_sent(claimed, provider="ses", provider_message_id=ses_id, sent_at=clock.now(), event=ev)
    return msg.id


def ses_event(etype, *, tenant_id, message_id=None, ses_id="0100-ses-message-1", to="ada@example.com", **detail):
    tags = {"parley_tenant_id": [tenant_id], "ses:configuration-set": ["parley-email"]}
    if message_id:
        tags["parley_message_id"] = [message_id]
    event = {
        "eventType": etype,
        "mail": {
            "timestamp": "2024-06-06T09:44:03.000Z",
            "source": "no-reply@parley.example",
            "messageId": ses_id,
            "destination": [to],
            "tags": tags,
        },
    }
    event.update(detail)
    return event


def sns_record(ses, sns_id="sns-1", n=0):
    base = copy.deepcopy(load_event("core/ses_events")["Records"][0])
    envelope = json.loads(base["body"])
    envelope.update(MessageId=sns_id, Message=json.dumps(ses))
    base["body"] = json.dumps(envelope)
    base["messageId"] = f"sqs-{sns_id}-{n}"
    return base


def run(handler, *records):
    return handler(SES_EVENTS)({"Records": list(records)})


def state(tenant_id, message_id):
    from parley.dal import messages

    msg, events = messages.get_with_events(tenant_id, message_id)
    return msg, [e for e in events if e.event != "sent"]


def test_delivery_open_click_are_recorded(handler, tenant):
    t, _ = tenant
    mid = sent_via_ses(t)
    records = [
        sns_record(
            ses_event(
                "Delivery",
                tenant_id=t.id,
                message_id=mid,
                delivery={"timestamp": "2024-06-06T09:44:05.123Z", "recipients": ["ada@example.com"], "smtpResponse": "250 2.0.0 OK"},
            ),
            "s1",
        ),
        sns_record(
            ses_event(
                "Open",
                tenant_id=t.id,
                message_id=mid,
                open={"timestamp": "2024-06-06T10:00:00.000Z", "ipAddress": "198.51.100.7", "userAgent": "Mozilla"},
            ),
            "s2",
        ),
        sns_record(
            ses_event(
                "Click",
                tenant_id=t.id,
                message_id=mid,
                click={"timestamp": "2024-06-06T10:01:00.000Z", "ipAddress": "198.51.100.7", "link": "https://jobs.example.com/1"},
            ),
            "s3",
        ),
    ]
    assert run(handler, *records) == {"batchItemFailures": []}
    msg, events = state(t.id, mid)
    assert [(e.event, e.created_ms, e.ip, e.response) for e in events] == [
        ("delivered", 1717667045123, "", "250 2.0.0 OK"),
        ("open", 1717668000000, "198.51.100.7", ""),
        ("click", 1717668060000, "198.51.100.7", "https://jobs.example.com/1"),
    ]
    assert all(e.email == "ada@example.com" for e in events)
    assert msg.delivery_status == "CLICKED"


def test_correlates_by_ses_message_id_when_the_message_tag_is_missing(handler, tenant):
    t, _ = tenant
    mid = sent_via_ses(t, ses_id="0100-only-provider-id")
    ev = ses_event(
        "Delivery",
        tenant_id=t.id,
        ses_id="0100-only-provider-id",
        delivery={"timestamp": "2024-06-06T09:44:05.000Z", "recipients": ["ada@example.com"], "smtpResponse": "250 OK"},
    )
    assert run(handler, sns_record(ev)) == {"batchItemFailures": []}
    assert state(t.id, mid)[0].delivery_status == "DELIVERED"


def test_permanent_bounce_and_complaint_suppress_transient_does_not(handler, tenant):
    from parley.dal import suppressions

    t, _ = tenant
    hard = sent_via_ses(t, to="hard@example.com", ses_id="m-hard")
    soft = sent_via_ses(t, to="soft@example.com", ses_id="m-soft")
    angry = sent_via_ses(t, to="angry@example.com", ses_id="m-angry")

    def bounce(kind, to):
        return {
            "bounceType": kind,
            "bounceSubType": "General",
            "timestamp": "2024-06-06T09:45:00.000Z",
            "feedbackId": f"fb-{to}",
            "bouncedRecipients": [{"emailAddress": to, "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
        }

    records = [
        sns_record(
            ses_event(
                "Bounce",
                tenant_id=t.id,
                message_id=hard,
                ses_id="m-hard",
                to="hard@example.com",
                bounce=bounce("Permanent", "Hard@Example.com"),
            ),
            "b1",
        ),
        sns_record(
            ses_event(
                "Bounce",
                tenant_id=t.id,
                message_id=soft,
                ses_id="m-soft",
                to="soft@example.com",
                bounce=bounce("Transient", "soft@example.com"),
            ),
            "b2",
        ),
        sns_record(
            ses_event(
                "Complaint",
                tenant_id=t.id,
                message_id=angry,
                ses_id="m-angry",
                to="angry@example.com",
                complaint={
                    "timestamp": "2024-06-06T11:00:00.000Z",
                    "feedbackId": "fb-c",
                    "complaintFeedbackType": "abuse",
                    "complainedRecipients": [{"emailAddress": "angry@example.com"}],
                },
            ),
            "c1",
        ),
    ]
    assert run(handler, *records) == {"batchItemFailures": []}
    hard_entry = suppressions.get(t.id, "hard@example.com")
    assert hard_entry.reason == "bounce" and hard_entry.provider == "ses" and hard_entry.message_id == hard
    assert "550 5.1.1" in hard_entry.detail
    assert suppressions.get(t.id, "soft@example.com") is None
    assert suppressions.get(t.id, "angry@example.com").reason == "complaint"
    assert state(t.id, hard)[0].delivery_status == "BOUNCED"
    assert state(t.id, soft)[0].delivery_status == "BOUNCED"
    assert state(t.id, angry)[0].delivery_status == "COMPLAINED"
    assert [e.event for e in state(t.id, angry)[1]] == ["spamreport"]


def test_redelivered_and_republished_events_are_recorded_once(handler, tenant, table_items):
    t, _ = tenant
    mid = sent_via_ses(t)
    ev = ses_event(
        "Delivery",
        tenant_id=t.id,
        message_id=mid,
        delivery={"timestamp": "2024-06-06T09:44:05.000Z", "recipients": ["ada@example.com"], "smtpResponse": "250 OK"},
    )
    assert run(handler, sns_record(ev, "n1", 0), sns_record(ev, "n1", 1)) == {"batchItemFailures": []}
    before = len(table_items())
    # SQS redelivery (same SNS id) and an SNS re-publish (new SNS id, same SES event)
    assert run(handler, sns_record(ev, "n1", 2), sns_record(ev, "n2", 0)) == {"batchItemFailures": []}
    assert len(table_items()) == before
    assert [e.event for e in state(t.id, mid)[1]] == ["delivered"]


def test_poison_record_is_the_only_batch_failure(handler, tenant):
    t, _ = tenant
    mid = sent_via_ses(t)
    good = sns_record(ses_event("Open", tenant_id=t.id, message_id=mid, open={"timestamp": "2024-06-06T10:00:00.000Z"}), "g1")
    bad = copy.deepcopy(good)
    bad["messageId"], bad["body"] = "sqs-poison", "{not json"
    out = run(handler, bad, good)
    assert out == {"batchItemFailures": [{"itemIdentifier": "sqs-poison"}]}
    assert [e.event for e in state(t.id, mid)[1]] == ["open"]


def test_events_without_a_known_tenant_are_acknowledged_and_ignored(handler, tenant, other_tenant, table_items):
    t, _ = tenant
    o, _ = other_tenant
    mid = sent_via_ses(t)
    before = {(i["PK"], i["SK"]) for i in table_items()}
    no_tag = ses_event("Bounce", tenant_id="", bounce={"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "x@example.com"}]})
    no_tag["mail"]["tags"].pop("parley_tenant_id")
    unknown = ses_event("Delivery", tenant_id="no-such-tenant", message_id=mid)
    # the other tenant's tag with this tenant's message id: not correlated, nothing lands on t's message
    foreign = ses_event("Delivery", tenant_id=o.id, message_id=mid, ses_id="other-ses-id")
    control = {"Type": "SubscriptionConfirmation", "MessageId": "x", "Message": "confirm", "Token": "t"}
    records = [sns_record(no_tag, "u1"), sns_record(unknown, "u2"), sns_record(foreign, "u3")]
    records.append({**records[0], "messageId": "ctl", "body": json.dumps(control)})
    assert run(handler, *records) == {"batchItemFailures": []}
    assert state(t.id, mid)[1] == []
    new = {(i["PK"], i["SK"]) for i in table_items()} - before
    assert len(new) == 1 and next(iter(new))[0].startswith(f"TENANT#{o.id}#EMAILEVT#")  # only the foreign event's dedupe record


def test_template_wires_sns_to_the_queue_and_the_function(aws, handler, tenant, drain):
    """Publish an SES event to the declared topic: it reaches the declared queue as an SNS envelope the function understands."""
    from parley.dal.aws import client

    t, _ = tenant
    mid = sent_via_ses(t)
    topic = next(tp["TopicArn"] for tp in client("sns").list_topics()["Topics"] if tp["TopicArn"].endswith("-SesEventsTopic"))
    queue_arn = next(a for a in aws.queues if a.endswith("-SesEventsQueue"))
    ev = ses_event(
        "Delivery",
        tenant_id=t.id,
        message_id=mid,
        delivery={"timestamp": "2024-06-06T09:44:05.000Z", "recipients": ["ada@example.com"], "smtpResponse": "250 OK"},
    )
    client("sns").publish(TopicArn=topic, Message=json.dumps(ev))
    (msg,) = drain(aws.queues[queue_arn])
    assert json.loads(msg["Body"])["Type"] == "Notification"
    assert run(handler, _sqs_record(msg, queue_arn)) == {"batchItemFailures": []}
    assert state(t.id, mid)[0].delivery_status == "DELIVERED"
    assert aws.function("root.DispatcherFunction").env["SES_CONFIGURATION_SET"].endswith("-email")


def test_sample_event_is_processed(handler, tenant):
    out = run(handler, *load_event("core/ses_events")["Records"])
    assert out == {"batchItemFailures": []}  # tenant-example does not exist: acknowledged and ignored
