"""The dispatcher re-checks consent and deliverability at send time: a STOP or a hard bounce that arrives
while a message waits (quiet hours, a schedule, a queue backlog) keeps it from going out."""

from __future__ import annotations

from helpers import api_event, body

SMS_SEND, EMAIL_SEND, DISPATCHER = "CandidateApi.SendSmsFunction", "CandidateApi.SendEmailFunction", "root.DispatcherFunction"
ACCOUNT, REGION = "123456789012", "us-east-1"
PHONE = "+15555550142"


def _records(send_queue, drain):
    from parley_local.workers import _sqs_record

    arn, url = send_queue
    return [_sqs_record(m, arn) for m in drain(url)]


def _sms_sent():
    from moto.sns.models import sns_backends

    return list(sns_backends[ACCOUNT][REGION].sms_messages.values())


def _emails_sent():
    from moto.ses.models import ses_backends

    return list(ses_backends[ACCOUNT][REGION].sent_messages)


def test_an_sms_whose_number_opted_out_while_it_waited_is_not_sent(handler, tenant, send_queue, drain):
    from parley.dal import messages
    from parley.domain import optins
    from parley.models.domain import MessageStatus

    t, _ = tenant
    optins.update(t.id, phone=PHONE, email=None, opt_in=True, reason="form")
    event = api_event(
        "candidate/send_sms", tenant_id=t.id, body={"message": "See you at 10", "phoneNumber": PHONE}, headers={"x-ph-userid": "r-1"}
    )
    sid = body(handler(SMS_SEND)(event))["data"]["messageSID"]
    optins.update(t.id, phone=PHONE, email=None, opt_in=False, reason="keyword STOP")

    assert handler(DISPATCHER)({"Records": _records(send_queue, drain)}) == {"batchItemFailures": []}
    assert _sms_sent() == []
    msg, events = messages.get_with_events(t.id, sid)
    assert msg.status == MessageStatus.FAILED and "no longer opted in" in msg.error
    assert [e.event for e in events] == ["failed"]


def test_an_email_to_an_address_suppressed_while_it_waited_is_not_sent(handler, tenant, send_queue, drain):
    from parley import clock
    from parley.dal import messages, suppressions
    from parley.models.domain import MessageStatus
    from parley.models.email_events import Suppression

    t, _ = tenant
    event = api_event(
        "candidate/send_email",
        tenant_id=t.id,
        body={"subject": "Interview", "emailContent": "Hello Ada", "toEmail": "ada@example.com"},
        headers={"x-ph-userid": "r-1"},
    )
    mid = body(handler(EMAIL_SEND)(event))["data"]["emailActivityId"]
    suppressions.add(Suppression(tenant_id=t.id, address="ada@example.com", reason="bounce", created_at=clock.now()))

    assert handler(DISPATCHER)({"Records": _records(send_queue, drain)}) == {"batchItemFailures": []}
    assert _emails_sent() == []
    msg = messages.get(t.id, mid)
    assert msg.status == MessageStatus.FAILED and "suppression list (bounce)" in msg.error


def test_an_allowed_email_still_goes_out(handler, tenant, send_queue, drain):
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    t, _ = tenant
    event = api_event(
        "candidate/send_email",
        tenant_id=t.id,
        body={"subject": "Interview", "emailContent": "Hello Ada", "toEmail": "ada@example.com"},
        headers={"x-ph-userid": "r-1"},
    )
    mid = body(handler(EMAIL_SEND)(event))["data"]["emailActivityId"]
    assert handler(DISPATCHER)({"Records": _records(send_queue, drain)}) == {"batchItemFailures": []}
    assert len(_emails_sent()) == 1
    assert messages.get(t.id, mid).status == MessageStatus.SENT


def test_a_disabled_tenants_queued_sends_do_not_go_out(handler, tenant, send_queue, drain):
    """``parley.admin disable-tenant`` refuses the tenant's keys at once; what it queued or scheduled before is
    refused at send time (the same BatchGetItem as the consent re-check). Enabled again, it sends."""
    from parley import clock
    from parley.dal import messages, tenants
    from parley.models.domain import MessageStatus

    t, _ = tenant

    def send(subject):
        event = api_event(
            "candidate/send_email",
            tenant_id=t.id,
            body={"subject": subject, "emailContent": "Hello Ada", "toEmail": "ada@example.com"},
            headers={"x-ph-userid": "r-1", "Idempotency-Key": f"send-{subject}"},
        )
        out = body(handler(EMAIL_SEND)(event))
        assert "data" in out, out
        return out["data"]["emailActivityId"]

    first = send("Interview")
    assert tenants.set_disabled(t.id, clock.iso(clock.now()))
    assert handler(DISPATCHER)({"Records": _records(send_queue, drain)}) == {"batchItemFailures": []}
    assert _emails_sent() == []
    msg = messages.get(t.id, first)
    assert msg.status == MessageStatus.FAILED and msg.error == "not sent: the tenant is disabled"

    assert tenants.set_disabled(t.id, None)
    second = send("Again")
    assert handler(DISPATCHER)({"Records": _records(send_queue, drain)}) == {"batchItemFailures": []}
    assert messages.get(t.id, second).status == MessageStatus.SENT
    assert len(_emails_sent()) == 1
