"""The suppression list: an address a provider reported as undeliverable or unwilling gets no more mail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import api_event, body, through_queue

SEND = "CandidateApi.SendEmailFunction"
EVENTS = "CandidateApi.ReceiveEventsFunction"


def _bounce(handler, tenant_id, address):
    event = {
        "event": "bounce",
        "type": "bounce",
        "email": address,
        "timestamp": 1717667043,
        "sg_event_id": f"b-{address}",
        "reason": "550 5.1.1 user unknown",
    }
    out = through_queue(handler, EVENTS)(api_event("candidate/receive_events", tenant_id=tenant_id, body=[event]))
    assert out["statusCode"] == 200, out


def _send(handler, tenant_id, to):
    payload = {"subject": "Your interview", "emailContent": "Hi there", "toEmail": to}
    return handler(SEND)(api_event("candidate/send_email", tenant_id=tenant_id, body=payload, headers={"Idempotency-Key": None}))


def test_send_to_a_hard_bounced_address_is_refused_and_nothing_is_queued(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    _bounce(handler, t.id, "Gone@Example.com")
    out = _send(handler, t.id, "gone@example.com")
    assert out["statusCode"] == 400, out
    err = body(out)
    assert err["status"] == 400
    assert "gone@example.com" in err["message"] and "suppression list" in err["message"] and "bounce" in err["message"]
    assert drain(send_queue[1]) == []
    assert timeline(t.id) == []


def test_suppression_is_per_tenant_and_other_addresses_still_send(handler, tenant, other_tenant, send_queue, drain):
    t, _ = tenant
    o, _ = other_tenant
    _bounce(handler, t.id, "gone@example.com")
    assert _send(handler, o.id, "gone@example.com")["statusCode"] == 200
    assert _send(handler, t.id, "fine@example.com")["statusCode"] == 200
    assert len(drain(send_queue[1])) == 2


def test_idempotent_retry_of_a_refused_send_is_refused_again(handler, tenant, send_queue, drain):
    t, _ = tenant
    _bounce(handler, t.id, "gone@example.com")
    payload = {"subject": "Your interview", "emailContent": "Hi there", "toEmail": "gone@example.com"}
    for _ in range(2):
        out = handler(SEND)(api_event("candidate/send_email", tenant_id=t.id, body=payload, headers={"Idempotency-Key": "same-key"}))
        assert out["statusCode"] == 400
    assert drain(send_queue[1]) == []


def test_scheduled_sends_are_refused_too(app_env, tenant):
    from parley import clock
    from parley.dal import messages, suppressions
    from parley.domain import emails
    from parley.domain.context import Caller
    from parley.errors import Suppressed
    from parley.models.email_events import Suppression

    t, _ = tenant
    suppressions.add(Suppression(tenant_id=t.id, address="later@example.com", reason="spamreport", provider="ses", created_at=clock.now()))
    msg = emails.new_outbound_email(Caller.of(t), source_api="candidate", recipient="Later@example.com", subject="s", body="b")
    with pytest.raises(Suppressed, match=r"later@example\.com"):
        emails.schedule(msg, clock.now() + timedelta(hours=1))
    with pytest.raises(Suppressed):
        emails.submit(msg)
    assert messages.get(t.id, msg.id) is None


def test_first_reason_is_kept_and_the_list_can_be_read(app_env, tenant):
    from parley import clock
    from parley.dal import suppressions
    from parley.domain.email_events import suppression_list
    from parley.models.email_events import Suppression

    t, _ = tenant
    assert suppressions.add(Suppression(tenant_id=t.id, address="A@example.com", reason="bounce", created_at=clock.now()))
    assert not suppressions.add(Suppression(tenant_id=t.id, address="a@example.com", reason="spamreport", created_at=clock.now()))
    assert [(s.address, s.reason) for s in suppression_list(t.id)] == [("a@example.com", "bounce")]
    suppressions.remove(t.id, "a@EXAMPLE.com")
    assert suppression_list(t.id) == []
