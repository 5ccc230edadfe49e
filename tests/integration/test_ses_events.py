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


# ───────────── an unknown delivery outcome, confirmed by the provider's events (issue 11) ─────────────
def _unconfirmed_ses_send(handler, tenant, send_queue, sent_emails, monkeypatch):
    """A real dispatch through SES whose worker died after SES accepted the message (neither SENT nor its
    receipt job written), then a redelivery once the claim is stale: the message is UNCONFIRMED, with no
    provider id and no lookup item. Returns (message id, the SES MessageId moto gave it)."""
    from datetime import timedelta

    from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

    from parley import clock
    from parley.dal import messages, queue
    from parley.dal.aws import client
    from parley.domain import emails
    from parley.domain.context import Caller
    from parley.models.domain import MessageStatus, SendJob

    msg = emails.new_outbound_email(Caller.of(tenant), source_api="candidate", recipient="ada@example.com", subject="Offer", body="Hi")
    messages.create(msg)
    arn, url = send_queue
    dispatcher = handler("root.DispatcherFunction")
    job = SendJob(tenant_id=tenant.id, message_id=msg.id).model_dump_json()

    def died(*args, **kwargs):
        raise RuntimeError("worker died")

    def deliver(n):
        client("sqs").send_message(QueueUrl=url, MessageBody=job)
        (m,) = client("sqs").receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
        client("sqs").delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        try:
            return dispatcher({"Records": [_sqs_record(m, arn)]})
        except BatchProcessingError:  # the only record failed: the invocation failed
            return {"batchItemFailures": [{"itemIdentifier": m["MessageId"]}]}

    with monkeypatch.context() as patch:
        patch.setattr(messages, "mark_sent", died)
        patch.setattr(queue, "enqueue", died)
        assert len(deliver(1)["batchItemFailures"]) == 1
    (ses_message,) = sent_emails()
    with monkeypatch.context() as patch:
        real_now = clock.now
        patch.setattr(clock, "now", lambda: real_now() + timedelta(seconds=181))
        assert deliver(2) == {"batchItemFailures": []}
    stored = messages.get(tenant.id, msg.id)
    assert (stored.status, stored.provider_message_id) == (MessageStatus.UNCONFIRMED, None)
    assert len(sent_emails()) == 1
    return msg.id, ses_message.id


def test_an_ses_bounce_confirms_an_unknown_outcome_instead_of_being_unmatched(handler, tenant, send_queue, sent_emails, monkeypatch):
    """SES accepted it but the record could not say so (UNCONFIRMED). Its Bounce event (tags carry our id)
    makes it SENT with the SES MessageId and lookup item, then BOUNCED; the address is suppressed with the
    message named; a later event carrying only the SES MessageId finds it too."""
    from datetime import timedelta

    from parley import clock
    from parley.dal import messages, suppressions
    from parley.models.domain import MessageStatus

    t, _ = tenant
    mid, ses_id = _unconfirmed_ses_send(handler, t, send_queue, sent_emails, monkeypatch)
    later = clock.iso(clock.now() + timedelta(seconds=300))  # after the redelivery's shifted clock
    bounce = ses_event(
        "Bounce", tenant_id=t.id, message_id=mid, ses_id=ses_id,
        bounce={"bounceType": "Permanent", "bounceSubType": "General", "timestamp": later,
                "bouncedRecipients": [{"emailAddress": "ada@example.com", "diagnosticCode": "550 5.1.1 user unknown"}]},
    )  # fmt: skip
    assert run(handler, sns_record(bounce, "b1")) == {"batchItemFailures": []}

    msg, events = messages.get_with_events(t.id, mid)
    assert (msg.status, msg.provider_message_id, msg.delivery_status, msg.error) == (MessageStatus.SENT, ses_id, "BOUNCED", None)
    assert msg.sent_at is not None
    assert [e.event for e in events] == ["unconfirmed", "sent", "bounce"]
    assert f"accepted by ses: {ses_id}" in events[1].response
    assert messages.find_by_provider_id(t.id, "ses", ses_id) == mid
    assert suppressions.get(t.id, "ada@example.com").message_id == mid

    complaint = {"timestamp": later, "complainedRecipients": [{"emailAddress": "ada@example.com"}]}
    untagged = ses_event("Complaint", tenant_id=t.id, ses_id=ses_id, complaint=complaint)
    assert run(handler, sns_record(untagged, "c1")) == {"batchItemFailures": []}
    assert messages.get(t.id, mid).delivery_status == "COMPLAINED"
    assert len(sent_emails()) == 1


def test_an_ses_delivery_event_confirms_a_message_whose_sent_write_is_still_pending(handler, tenant):
    """The dispatcher holds the claim (SENDING) and is still repeating its SENT write when the Delivery
    event arrives: the event confirms it SENT + DELIVERED; the dispatcher's repeat then writes nothing."""
    from parley import clock
    from parley.dal import messages
    from parley.domain import emails
    from parley.domain.context import Caller
    from parley.domain.ids import new_id
    from parley.models.domain import ActivityEvent, MessageStatus

    t, _ = tenant
    msg = emails.new_outbound_email(Caller.of(t), source_api="candidate", recipient="ada@example.com", subject="Offer", body="Hi")
    messages.create(msg)
    claimed = messages.claim(t.id, msg.id, clock.now())
    detail = {"timestamp": "2026-12-06T09:44:05.000Z", "recipients": ["ada@example.com"], "smtpResponse": "250 OK"}
    delivery = ses_event("Delivery", tenant_id=t.id, message_id=msg.id, ses_id="0100-pending-write", delivery=detail)
    assert run(handler, sns_record(delivery)) == {"batchItemFailures": []}
    stored = messages.get(t.id, msg.id)
    assert (stored.status, stored.provider_message_id, stored.delivery_status) == (MessageStatus.SENT, "0100-pending-write", "DELIVERED")

    ev = ActivityEvent(message_id=msg.id, event_id=new_id(), event="sent", email="ada@example.com", created_ms=clock.epoch_ms(clock.now()))
    assert not messages.mark_sent(claimed, provider="ses", provider_message_id="0100-pending-write", sent_at=clock.now(), event=ev,
                                  expect=messages.UNCONFIRMED_STATES)  # fmt: skip
    assert [e.event for e in messages.get_with_events(t.id, msg.id)[1]] == ["sent", "delivered"]
