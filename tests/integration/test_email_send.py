"""POST /communications/email/v1/send: response shape, stored message, queued job, validation."""

import json

import pytest

from helpers import api_event, body

SEND = "CandidateApi.SendEmailFunction"
GOOD = {"subject": "Your interview on Tuesday", "emailContent": "Hi Ada, see you on Tuesday.", "toEmail": "ada@example.com"}


def _event(tenant_id, **kwargs):
    kwargs.setdefault("headers", {})
    kwargs["headers"].setdefault("Idempotency-Key", None)
    return api_event("candidate/send_email", tenant_id=tenant_id, **kwargs)


def test_send_returns_seed_shape_stores_queued_message_and_queues_one_job(handler, tenant, send_queue, drain, timeline):
    from parley.dal import messages
    from parley.models.domain import MessageStatus, SendJob

    t, _ = tenant
    send = handler(SEND)
    out = send(
        _event(
            t.id, body=GOOD, headers={"x-ph-userid": "recruiter-7"}, sender_email="talent@parley.example"
        )  # the authorizer's context, not the tenant record, names the sender
    )

    assert out["statusCode"] == 200, out
    assert out["multiValueHeaders"]["Content-Type"] == ["application/json"]
    payload = body(out)
    assert set(payload) == {"status", "data"}
    assert payload["status"] == 200
    assert set(payload["data"]) == {"emailActivityId", "message"}
    assert payload["data"]["message"]
    activity_id = payload["data"]["emailActivityId"]

    msg = messages.get(t.id, activity_id)
    assert msg is not None
    assert msg.status == MessageStatus.QUEUED
    assert msg.recruiter_id == "recruiter-7"
    assert msg.recipient == GOOD["toEmail"]
    assert msg.subject == GOOD["subject"]
    assert msg.body == GOOD["emailContent"]
    assert msg.source_api == "candidate"
    assert msg.sender == "talent@parley.example"
    assert msg.sender_name == "Example Talent Team"
    assert (msg.channel, msg.direction, msg.provider, msg.attempts) == ("email", "outbound", "ses", 0)
    assert msg.conversation_id == msg.id
    assert [i["id"] for i in timeline(t.id)] == [activity_id]

    _, url = send_queue
    queued = drain(url)
    assert len(queued) == 1
    assert SendJob.model_validate_json(queued[0]["Body"]) == SendJob(tenant_id=t.id, message_id=activity_id)
    assert json.loads(queued[0]["Body"]) == {"tenant_id": t.id, "message_id": activity_id}


def test_html_content_is_stored_verbatim(handler, tenant):
    from parley.dal import messages

    t, _ = tenant
    html = "<p>Hi Ada,</p><p>See you on Tuesday at 10:00.</p>"
    out = handler(SEND)(_event(t.id, body={**GOOD, "emailContent": html}))
    assert out["statusCode"] == 200, out
    assert messages.get(t.id, body(out)["data"]["emailActivityId"]).body == html


def _without(event, header):
    for section in ("headers", "multiValueHeaders"):
        event[section].pop(header, None)
    return event


BAD = {
    "subject too short": ({**GOOD, "subject": "ab"}, "subject"),
    "subject with CRLF": ({**GOOD, "subject": "Hello\r\nBcc: x@y.com"}, "subject"),
    "subject too long": ({**GOOD, "subject": "s" * 79}, "subject"),
    "malformed toEmail": ({**GOOD, "toEmail": "bad"}, "toEmail"),
    "toEmail with header injection": ({**GOOD, "toEmail": "a@b.com\r\nBcc: x@y.com"}, "toEmail"),
    "emailContent too short": ({**GOOD, "emailContent": "hi"}, "emailContent"),
    "missing toEmail": ({"subject": GOOD["subject"], "emailContent": GOOD["emailContent"]}, "toEmail"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_invalid_field_is_400_naming_the_field_and_nothing_is_stored_or_queued(case, handler, tenant, send_queue, drain, timeline):
    payload, field = BAD[case]
    t, _ = tenant
    out = handler(SEND)(_event(t.id, body=payload))
    assert out["statusCode"] == 400, out
    err = body(out)
    assert set(err) == {"status", "message"}
    assert err["status"] == 400
    assert err["message"].startswith(f"{field}: "), err
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []


def test_missing_recruiter_header_is_400(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    out = handler(SEND)(_without(_event(t.id, body=GOOD), "x-ph-userid"))
    assert out["statusCode"] == 400
    assert body(out) == {"status": 400, "message": "x-ph-userid: Field required"}
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []


@pytest.mark.parametrize("recruiter", ["a\tb\x01", "r\x00", "two\nlines"])
def test_recruiter_header_with_control_characters_is_400_and_nothing_is_stored(handler, tenant, send_queue, drain, timeline, recruiter):
    # Issue 11: x-ph-userid "a\tb\x01" was stored as the message's recruiterId (decision S4).
    t, _ = tenant
    out = handler(SEND)(_event(t.id, body=GOOD, headers={"x-ph-userid": recruiter}))
    assert body(out) == {"status": 400, "message": "x-ph-userid must not contain control characters"}
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"subject": "Hello", ', "request body is not valid JSON"),
        ("not json at all", "request body is not valid JSON"),
        (json.dumps([1, 2]), "object"),
        (json.dumps("subject"), "object"),
        (json.dumps(42), "object"),
    ],
)
def test_malformed_body_is_400(raw, message, handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    out = handler(SEND)(_event(t.id, body=raw))
    assert out["statusCode"] == 400, out
    err = body(out)
    assert err["status"] == 400
    assert message in err["message"]
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []


def test_array_body_is_400(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    out = handler(SEND)(_event(t.id, body=[GOOD]))  # powertools alone would unwrap a one-element list
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []
    assert out["statusCode"] == 400, out
    assert body(out) == {"status": 400, "message": "request body must be a JSON object"}


@pytest.mark.parametrize("raw", [None, ""])
def test_missing_body_is_400(raw, handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    out = handler(SEND)(_event(t.id, body=raw))
    assert out["statusCode"] == 400, out
    assert body(out) == {"status": 400, "message": "request body is required"}
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []


def test_form_encoded_body_is_415(handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    form = "subject=Hello+there&emailContent=hey+there&toEmail=ada%40example.com"
    out = handler(SEND)(_event(t.id, body=form, headers={"Content-Type": "application/x-www-form-urlencoded"}))
    assert out["statusCode"] == 415
    assert body(out) == {"status": 415, "message": "Content-Type must be application/json"}
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []


@pytest.mark.parametrize(
    ("content_type", "raw"),
    [
        ("text/plain", json.dumps(GOOD)),
        ("text/plain; charset=utf-8", json.dumps(GOOD)),
        ("text/plain", "Hi Ada, see you on Tuesday."),
        ("application/xml", "<email><subject>Hello</subject></email>"),
        ("application/vnd.api+json", json.dumps(GOOD)),
    ],
)
def test_non_json_media_type_is_415(content_type, raw, handler, tenant, send_queue, drain, timeline):
    t, _ = tenant
    out = handler(SEND)(_event(t.id, body=raw, headers={"Content-Type": content_type}))
    assert timeline(t.id) == []
    assert drain(send_queue[1]) == []
    assert out["statusCode"] == 415, out
    assert body(out) == {"status": 415, "message": "Content-Type must be application/json"}


@pytest.mark.parametrize("content_type", ["application/json; charset=UTF-8", " application/json "])
def test_json_media_type_variants_are_accepted(content_type, handler, tenant, timeline):
    t, _ = tenant
    out = handler(SEND)(_event(t.id, body=GOOD, headers={"Content-Type": content_type}))
    assert out["statusCode"] == 200, out
    assert [i["id"] for i in timeline(t.id)] == [body(out)["data"]["emailActivityId"]]


@pytest.mark.parametrize("content_type", ["Application/JSON", "APPLICATION/JSON; charset=utf-8"])
def test_json_media_type_is_case_insensitive(content_type, handler, tenant, timeline):
    t, _ = tenant
    out = handler(SEND)(_event(t.id, body=GOOD, headers={"Content-Type": content_type}))
    assert out["statusCode"] == 200, out
    assert [i["id"] for i in timeline(t.id)] == [body(out)["data"]["emailActivityId"]]


@pytest.mark.parametrize("authorizer", [None, {}, {"principalId": "x"}, {"tenantId": ""}])
def test_missing_tenant_context_is_401_in_candidate_shape(authorizer, handler, tenant, send_queue, drain, table_items):
    event = _event(None, body=GOOD)
    if authorizer is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"] = authorizer
    before = table_items()
    out = handler(SEND)(event)
    assert out["statusCode"] == 401
    assert body(out) == {"status": 401, "message": "missing or invalid API key"}
    assert table_items() == before
    assert drain(send_queue[1]) == []


def test_sends_are_tenant_scoped_on_the_timeline(handler, tenant, other_tenant, timeline):
    t, _ = tenant
    o, _ = other_tenant
    out = handler(SEND)(_event(t.id, body=GOOD))
    assert out["statusCode"] == 200
    assert [i["id"] for i in timeline(t.id)] == [body(out)["data"]["emailActivityId"]]
    assert timeline(o.id) == []
