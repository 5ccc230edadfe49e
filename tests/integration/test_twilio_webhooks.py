"""Twilio webhooks at Function URLs, on in-process moto: signed inbound SMS and status callbacks, stored state."""

from __future__ import annotations

import base64
import copy
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from helpers import api_event, body, load_event, through_queue

INBOUND, STATUS = "CandidateApi.TwilioInboundFunction", "CandidateApi.TwilioStatusFunction"
OPTIN_GET, OPTIN_HISTORY = "CandidateApi.SmsOptinGetFunction", "CandidateApi.SmsOptinHistoryFunction"
HOST = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
TOKEN = "auth-token-of-acme"
PHONE, OUR_NUMBER = "+15555550123", "+15555550100"
TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def configure(tenant_id: str, token: str | None = TOKEN) -> None:
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    secret = {"twilio_account_sid": "AC0123"} | ({"twilio_auth_token": token} if token else {})
    put_tenant_secret(f"parley/{tenant_id}", secret)
    configure_tenant(tenant_id, secret_name=f"parley/{tenant_id}")


def signed(name: str, tenant_id: str | None, params: dict[str, str], *, token: str = TOKEN, signature: str | None = None,
           query: str | None = None, headers: dict[str, str] | None = None) -> dict:  # fmt: skip
    """A Function URL event for ``params``, signed the way Twilio signs: the public URL with its query, and the form."""
    event = copy.deepcopy(load_event(f"candidate/{name}"))
    q = query if query is not None else (f"tenant={tenant_id}" if tenant_id else "")
    event["rawQueryString"] = q
    event["queryStringParameters"] = {"tenant": tenant_id} if tenant_id else None
    event["body"] = base64.b64encode(urlencode(params).encode()).decode()
    event["isBase64Encoded"] = True
    url = f"https://{HOST}/" + (f"?{q}" if q else "")
    event["headers"]["x-twilio-signature"] = signature if signature is not None else RequestValidator(token).compute_signature(url, params)
    event["headers"].update(headers or {})
    return event


def inbound_params(sid: str = "SM00000000000000000000000000000001", body_text: str = "Hi, is the role still open?", **extra: str):
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC0123", "From": PHONE, "To": OUR_NUMBER, "Body": body_text,
            "NumMedia": "0", "NumSegments": "1", "SmsStatus": "received", "ApiVersion": "2010-04-01", **extra}  # fmt: skip


def stored(table_items, kind: str) -> list[dict]:
    return [i for i in table_items() if i.get("type") == kind]


def sms_history(tenant_id: str, **kw):
    from parley import clock
    from parley.dal import messages

    now = clock.now()
    return messages.history(
        tenant_id, channel="sms", start=now - timedelta(hours=1), end=now + timedelta(minutes=1), offset=0, limit=50, **kw
    )


def test_inbound_sms_is_stored_and_answered_with_empty_twiml(handler, tenant, other_tenant, table_items):
    t, _ = tenant
    configure(t.id)
    out = through_queue(handler, INBOUND)(signed("twilio_inbound", t.id, inbound_params()))
    assert out["statusCode"] == 200, out
    assert out["body"] == TWIML and out["headers"]["Content-Type"] == "text/xml"

    page, total = sms_history(t.id)
    assert total == 1
    (msg,) = page
    assert (msg.channel, msg.direction, msg.status.value) == ("sms", "inbound", "RECEIVED")
    assert (msg.sender, msg.recipient, msg.body) == (PHONE, OUR_NUMBER, "Hi, is the role still open?")
    assert (msg.provider, msg.provider_message_id) == ("twilio", "SM00000000000000000000000000000001")
    assert msg.conversation_id == msg.id  # nothing exchanged with this number before: a new conversation

    from parley.dal import messages
    from parley.domain import candidates

    assert msg.candidate_id == candidates.find(t.id, phone=PHONE).id
    assert messages.find_by_provider_id(t.id, "twilio", "SM00000000000000000000000000000001") == msg.id
    assert sms_history(t.id, address=PHONE)[1] == 1  # also on the address index (history by phone number)
    o, _ = other_tenant
    assert sms_history(o.id)[1] == 0
    assert stored(table_items, "optin") == []  # an ordinary message changes no consent

    # the candidate is in the SMS transactional archive too (the contact item is written with the message)
    from parley.domain import transactional

    day = msg.created_at.strftime("%Y-%m-%d")
    found, _ = transactional.contacted(t.id, "sms", from_time=f"{day}T00:00:00Z", to_time=f"{day}T23:59:59.999Z", limit=10, offset=0)
    assert [c.candidate_id for c in found] == [msg.candidate_id]


def test_a_retried_message_sid_is_stored_once(handler, tenant, table_items):
    t, _ = tenant
    configure(t.id)
    event = signed("twilio_inbound", t.id, inbound_params(body_text="STOP"))
    first, second = through_queue(handler, INBOUND)(event), through_queue(handler, INBOUND)(copy.deepcopy(event))
    assert first["statusCode"] == second["statusCode"] == 200
    assert len(stored(table_items, "message")) == 1
    assert len(stored(table_items, "provider_ref")) == 1
    assert len(stored(table_items, "optin_history")) == 1  # the keyword too is applied once


def test_inbound_joins_the_latest_conversation_with_that_number(handler, tenant):
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import Message, MessageStatus

    t, _ = tenant
    configure(t.id)
    outbound = Message(tenant_id=t.id, id="out-1", channel="sms", direction="outbound", status=MessageStatus.SENT, source_api="candidate",
                       sender=OUR_NUMBER, recipient=PHONE, body="Interview tomorrow?", conversation_id="conv-42", provider="twilio",
                       created_at=clock.now() - timedelta(minutes=5))  # fmt: skip
    messages.create(outbound)
    through_queue(handler, INBOUND)(signed("twilio_inbound", t.id, inbound_params(body_text="Yes, 10am works")))
    inbound = [m for m in sms_history(t.id)[0] if m.direction == "inbound"]
    assert [m.conversation_id for m in inbound] == ["conv-42"]


@pytest.mark.parametrize(
    ("text", "state", "reason"),
    [("STOP", "OPTED_OUT", "keyword STOP"), ("  unsubscribe \n", "OPTED_OUT", "keyword UNSUBSCRIBE"), ("Quit", "OPTED_OUT", "keyword QUIT"),
     ("start", "OPTED_IN", "keyword START"), ("YES", "OPTED_IN", "keyword YES"), ("unstop", "OPTED_IN", "keyword UNSTOP")],
)  # fmt: skip
def test_keywords_change_consent_with_the_message_as_communication(handler, tenant, text, state, reason):
    t, _ = tenant
    configure(t.id)
    assert through_queue(handler, INBOUND)(signed("twilio_inbound", t.id, inbound_params(body_text=text)))["statusCode"] == 200
    (msg,) = sms_history(t.id)[0]
    assert msg.body == text  # the keyword message itself is kept as received
    got = body(handler(OPTIN_GET)(api_event("candidate/sms_optin_get", tenant_id=t.id, query={"phoneNumber": PHONE})))
    assert got["status"] == state
    q = {"phoneNumber": PHONE, "communicationId": msg.id}
    page = body(handler(OPTIN_HISTORY)(api_event("candidate/sms_optin_history", tenant_id=t.id, query=q)))["details"]
    assert [(c["actionType"], c["reason"], c["phoneNumber"]) for c in page["content"]] == [
        ("OPT_IN" if state == "OPTED_IN" else "OPT_OUT", reason, PHONE)
    ]
    other = {"phoneNumber": PHONE, "communicationId": "not-this-one"}
    assert (
        body(handler(OPTIN_HISTORY)(api_event("candidate/sms_optin_history", tenant_id=t.id, query=other)))["details"]["totalElements"] == 0
    )


def test_stop_then_start_history_and_non_keywords(handler, tenant, table_items):
    t, _ = tenant
    configure(t.id)
    for i, text in enumerate(["STOP", "please stop texting me", "stop.", "START"]):
        through_queue(handler, INBOUND)(signed("twilio_inbound", t.id, inbound_params(sid=f"SM{i:032d}", body_text=text)))
    history = sorted(stored(table_items, "optin_history"), key=lambda h: h["SK"])
    assert [h["reason"] for h in history] == ["keyword STOP", "keyword START"]
    assert stored(table_items, "optin")[0]["opted_in"] is True
    assert len(stored(table_items, "message")) == 4


def _nothing_stored(table_items) -> None:
    kinds = {i.get("type") for i in table_items()}
    assert not kinds & {"message", "provider_ref", "optin", "optin_history", "activity"}, kinds


@pytest.mark.parametrize(
    "case",
    [
        "forged",
        "absent",
        "wrong_token",
        "other_url",
        "tampered_body",
        "unknown_tenant",
        "no_tenant",
        "garbage_tenant",
        "no_secret",
        "no_token",
    ],
)
def test_unauthenticated_requests_are_403_with_nothing_stored(handler, tenant, other_tenant, table_items, case):
    t, _ = tenant
    o, _ = other_tenant
    configure(t.id)
    configure(o.id, token=None)
    params = inbound_params(body_text="STOP")
    event = {
        "forged": lambda: signed("twilio_inbound", t.id, params, signature="ksKQrMkt8SCZ1pRzNunCoSdLxWE="),
        "absent": lambda: signed("twilio_inbound", t.id, params, signature=""),
        "wrong_token": lambda: signed("twilio_inbound", t.id, params, token="someone-elses-token"),
        "other_url": lambda: signed("twilio_inbound", t.id, params, headers={"host": "evil.example"}),
        "tampered_body": lambda: {**signed("twilio_inbound", t.id, params),
                                  "body": base64.b64encode(urlencode({**params, "Body": "START"}).encode()).decode()},
        "unknown_tenant": lambda: signed("twilio_inbound", "no-such-tenant", params),
        "no_tenant": lambda: signed("twilio_inbound", None, params),
        "garbage_tenant": lambda: signed("twilio_inbound", None, params, query="tenant=" + "x" * 3000),
        "no_secret": lambda: signed("twilio_inbound", _bare_tenant(), params),
        "no_token": lambda: signed("twilio_inbound", o.id, params),
    }[case]()  # fmt: skip
    out = through_queue(handler, INBOUND)(event)
    assert out["statusCode"] == 403, out
    assert body(out) == {"status": 403, "message": "invalid Twilio signature"}  # the same answer whatever the reason
    _nothing_stored(table_items)
    out = through_queue(handler, STATUS)(
        {**event, "body": signed("twilio_status", t.id, {"MessageSid": "SM1", "MessageStatus": "sent"})["body"]}
    )
    assert out["statusCode"] == 403


def _bare_tenant() -> str:
    from parley.domain.auth import create_tenant

    return create_tenant("No Twilio", "no-reply@parley.example")[0].id


@pytest.mark.parametrize("case", ["bad_base64", "not_utf8", "json", "not_a_form", "no_sid", "no_from", "from_not_a_phone"])
def test_malformed_requests_are_400_with_nothing_stored(handler, tenant, table_items, case):
    t, _ = tenant
    configure(t.id)
    good = signed("twilio_inbound", t.id, inbound_params())
    event = {
        "bad_base64": lambda: {**good, "body": "%%%not base64%%%"},
        "not_utf8": lambda: {**good, "body": base64.b64encode(b"Body=%FF%FE&From=x").decode()},
        "json": lambda: {**good, "headers": {**good["headers"], "content-type": "application/json"}},
        "not_a_form": lambda: {**good, "body": base64.b64encode(b"just some text").decode()},
        "no_sid": lambda: signed("twilio_inbound", t.id, {k: v for k, v in inbound_params().items() if k not in ("MessageSid",)}),
        "no_from": lambda: signed("twilio_inbound", t.id, {k: v for k, v in inbound_params().items() if k != "From"}),
        "from_not_a_phone": lambda: signed("twilio_inbound", t.id, inbound_params(From="whatsapp:+15555550123")),
    }[case]()  # fmt: skip
    out = through_queue(handler, INBOUND)(event)
    assert out["statusCode"] == 400, out
    assert body(out)["status"] == 400 and body(out)["message"]
    _nothing_stored(table_items)


# ── status callbacks ──
def _sent_message(tenant_id: str, sid: str, message_id: str = "msg-1") -> str:
    """An outbound SMS the way the dispatcher leaves it: SENT, with its Twilio SID lookup."""
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import ActivityEvent, Message, MessageStatus

    msg = Message(tenant_id=tenant_id, id=message_id, channel="sms", direction="outbound", status=MessageStatus.SENDING,
                  source_api="candidate", sender=OUR_NUMBER, recipient=PHONE, body="Hello", conversation_id=message_id,
                  provider="twilio", created_at=clock.now())  # fmt: skip
    messages.create(msg)
    now = clock.now()
    ev = ActivityEvent(message_id=message_id, event_id="evt-sent", event="sent", created_ms=clock.epoch_ms(now) - 1000)
    assert messages.mark_sent(msg, provider="twilio", provider_message_id=sid, sent_at=now, event=ev)
    return message_id


def status_params(sid: str, status: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status, "AccountSid": "AC0123",
            "To": PHONE, "From": OUR_NUMBER, "ApiVersion": "2010-04-01", **extra}  # fmt: skip


def test_status_moves_forward_only_with_events(handler, tenant):
    from parley.dal import messages

    t, _ = tenant
    configure(t.id)
    sid = "SM" + "a" * 32
    mid = _sent_message(t.id, sid)
    call = through_queue(handler, STATUS)
    for status in ["queued", "sent", "delivered", "sent", "delivered", "sending", "read", "delivered"]:
        out = call(signed("twilio_status", t.id, status_params(sid, status)))
        assert out["statusCode"] == 204, out
        assert not out.get("body")
    msg, events = messages.get_with_events(t.id, mid)
    assert msg.delivery_status == "READ"
    assert msg.status.value == "SENT"  # the send's own state is the dispatcher's
    assert [e.event for e in events] == ["sent", "queued", "sent", "delivered", "read"]  # late/repeated callbacks added nothing
    assert all(e.response.startswith("twilio: ") for e in events[1:])


def test_failed_keeps_its_error_code_and_is_final(handler, tenant, table_items):
    from parley.dal import messages

    t, _ = tenant
    configure(t.id)
    sid = "SM" + "b" * 32
    mid = _sent_message(t.id, sid)
    through_queue(handler, STATUS)(signed("twilio_status", t.id, status_params(sid, "undelivered", ErrorCode="30003")))
    through_queue(handler, STATUS)(signed("twilio_status", t.id, status_params(sid, "delivered")))  # same rank: never replaces it
    through_queue(handler, STATUS)(signed("twilio_status", t.id, status_params(sid, "sent")))
    msg, events = messages.get_with_events(t.id, mid)
    assert msg.delivery_status == "UNDELIVERED"
    assert [(e.event, e.response) for e in events[1:]] == [("undelivered", "twilio: undelivered (ErrorCode 30003)")]
    item = next(i for i in stored(table_items, "message") if i["id"] == mid)
    assert item["delivery_error"] == "30003" and item["delivery_rank"] == 4


def test_the_order_is_enforced_by_the_database_not_by_a_read(aws, tenant):
    """Two callbacks racing: the writer that lost (a lower or equal rank) is refused by the conditional update."""
    from parley import clock
    from parley.dal import messages, sms_status
    from parley.models.domain import ActivityEvent

    t, _ = tenant
    mid = _sent_message(t.id, "SM" + "c" * 32)

    def ev(name: str) -> ActivityEvent:
        return ActivityEvent(message_id=mid, event_id=name, event=name, created_ms=clock.epoch_ms(clock.now()))

    assert sms_status.advance(t.id, mid, delivery_status="DELIVERED", rank=4, event=ev("delivered")) is True
    assert sms_status.advance(t.id, mid, delivery_status="SENT", rank=3, event=ev("sent2")) is False
    assert sms_status.advance(t.id, mid, delivery_status="FAILED", rank=4, event=ev("failed")) is False
    assert sms_status.advance(t.id, "no-such-message", delivery_status="SENT", rank=3, event=ev("x")) is False
    msg, events = messages.get_with_events(t.id, mid)
    assert msg.delivery_status == "DELIVERED" and [e.event for e in events] == ["sent", "delivered"]
    assert messages.get(t.id, "no-such-message") is None  # a refused update creates nothing


def test_unknown_sid_or_foreign_tenant_is_acknowledged_and_changes_nothing(handler, tenant, other_tenant, table_items):
    from parley.dal import messages

    t, _ = tenant
    o, _ = other_tenant
    configure(t.id)
    configure(o.id, token="globex-token")
    sid = "SM" + "d" * 32
    mid = _sent_message(t.id, sid)
    before = len(table_items())
    out = through_queue(handler, STATUS)(signed("twilio_status", t.id, status_params("SM" + "e" * 32, "delivered")))
    assert out["statusCode"] == 204
    # the other tenant's (valid) callback for a SID it does not own: not this tenant's message
    out = through_queue(handler, STATUS)(signed("twilio_status", o.id, status_params(sid, "delivered"), token="globex-token"))
    assert out["statusCode"] == 204
    assert len(table_items()) == before
    assert messages.get(t.id, mid).delivery_status is None


@pytest.mark.parametrize("params", [{"MessageStatus": "delivered"}, {"MessageSid": "SM1"}])
def test_status_callback_missing_fields_is_400(handler, tenant, params):
    t, _ = tenant
    configure(t.id)
    out = through_queue(handler, STATUS)(signed("twilio_status", t.id, params))
    assert out["statusCode"] == 400 and body(out)["status"] == 400


def test_untracked_status_is_acknowledged(handler, tenant):
    from parley.dal import messages

    t, _ = tenant
    configure(t.id)
    sid = "SM" + "f" * 32
    mid = _sent_message(t.id, sid)
    assert through_queue(handler, STATUS)(signed("twilio_status", t.id, status_params(sid, "receiving")))["statusCode"] == 204
    assert messages.get(t.id, mid).delivery_status is None
