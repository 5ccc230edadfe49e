"""GET /communications/email/v1/activity: tenant-scoped lookups and the events the dispatcher records."""

from helpers import api_event, body
from parley_local.workers import _sqs_record

SEND = "CandidateApi.SendEmailFunction"
ACTIVITY = "CandidateApi.EmailActivityFunction"
GOOD = {"subject": "Your interview on Tuesday", "emailContent": "<p>Hi Ada,</p><p>See you.</p>", "toEmail": "ada@example.com"}


def _activity(handler, tenant_id, activity_id, **kwargs):
    return handler(ACTIVITY)(api_event("candidate/email_activity", tenant_id=tenant_id, query={"emailActivityId": activity_id}, **kwargs))


def _send(handler, tenant_id):
    out = handler(SEND)(api_event("candidate/send_email", tenant_id=tenant_id, body=GOOD, headers={"Idempotency-Key": None}))
    assert out["statusCode"] == 200, out
    return body(out)["data"]["emailActivityId"]


def test_unknown_id_is_404(handler, tenant):
    t, _ = tenant
    out = _activity(handler, t.id, "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f")
    assert out["statusCode"] == 404
    err = body(out)
    assert set(err) == {"status", "message"}
    assert err["status"] == 404
    assert "3f1c2d4e-5b6a-4c7d-8e9f-0a1b2c3d4e5f" in err["message"]


def test_other_tenants_id_is_404(handler, tenant, other_tenant):
    t, _ = tenant
    o, _ = other_tenant
    activity_id = _send(handler, t.id)
    out = _activity(handler, o.id, activity_id)
    assert out["statusCode"] == 404
    assert body(out)["status"] == 404
    # and the owner still sees it
    assert _activity(handler, t.id, activity_id)["statusCode"] == 200


def test_queued_email_has_no_events_yet(handler, tenant):
    t, _ = tenant
    out = _activity(handler, t.id, _send(handler, t.id))
    assert out["statusCode"] == 200
    assert body(out) == {"status": 200, "data": []}


def test_missing_query_or_header_is_400(handler, tenant):
    t, _ = tenant
    out = handler(ACTIVITY)(api_event("candidate/email_activity", tenant_id=t.id, query=None))
    assert out["statusCode"] == 400
    assert body(out) == {"status": 400, "message": "emailActivityId: Field required"}
    out = _activity(handler, t.id, "x", headers={"x-ph-userid": None})
    assert out["statusCode"] == 400
    assert body(out) == {"status": 400, "message": "x-ph-userid: Field required"}


def test_after_dispatch_one_sent_event(handler, tenant, send_queue, drain, sent_emails):
    from parley import clock
    from parley.dal import messages

    t, _ = tenant
    activity_id = _send(handler, t.id)
    arn, url = send_queue
    before_ms = clock.epoch_ms(clock.now())
    result = handler("root.DispatcherFunction")({"Records": [_sqs_record(m, arn) for m in drain(url)]})
    after_ms = clock.epoch_ms(clock.now())
    assert result == {"batchItemFailures": []}

    (ses_msg,) = sent_emails()
    msg = messages.get(t.id, activity_id)
    assert msg.provider_message_id == ses_msg.id

    out = _activity(handler, t.id, activity_id)
    assert out["statusCode"] == 200
    payload = body(out)
    assert payload["status"] == 200
    (event,) = payload["data"]
    assert event["emailActivityId"] == activity_id
    assert event["event"] == "sent"
    assert event["email"] == GOOD["toEmail"]
    assert isinstance(event["createdDate"], int)
    assert before_ms <= event["createdDate"] <= after_ms  # epoch milliseconds, not seconds
    assert ses_msg.id in event["response"]
    assert set(event) == {"emailActivityId", "event", "email", "ip", "createdDate", "response"}
