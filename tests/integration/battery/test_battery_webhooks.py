"""Battery (issue 5): webhooks with absent, wrong or stale signatures and replayed events are rejected
and store nothing; the whole table is compared before and after (every item, every attribute).

- SendGrid Event Webhook, POST /communications/email/v1/events (ECDSA over timestamp + raw body,
  5-minute window) → 401.
- Twilio inbound SMS and status callbacks (Function URLs, X-Twilio-Signature HMAC over URL + form) →
  403. Twilio signs no timestamp, so a captured request stays valid: its replay must be harmless
  (inbound: one message per MessageSid; status: callbacks only move a message forward).
"""

from __future__ import annotations

import base64
import copy
import json
import time
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from helpers import api_event, body, load_event, through_queue

EVENTS = "CandidateApi.ReceiveEventsFunction"
INBOUND, STATUS = "CandidateApi.TwilioInboundFunction", "CandidateApi.TwilioStatusFunction"
TOKEN = "auth-token-of-acme"
HOST = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
PHONE, OUR_NUMBER = "+15555550123", "+15555550100"
SID = "SM" + "5" * 32
FORGED = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()  # a well-formed DER ECDSA signature (r=1, s=1)


# ───────────── SendGrid ─────────────
@pytest.fixture
def signing_key(tenant):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from parley.domain.auth import configure_tenant

    private = ec.generate_private_key(ec.SECP256R1())
    public_der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    configure_tenant(tenant[0].id, webhook_public_key=base64.b64encode(public_der).decode())
    return private


def _sign(private, raw: str, ts: int) -> dict[str, str]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    sig = private.sign(str(ts).encode() + raw.encode(), ec.ECDSA(hashes.SHA256()))
    return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode(), "X-Twilio-Email-Event-Webhook-Timestamp": str(ts)}


def _sent_email(tenant, kit):
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import ActivityEvent

    (mid,) = kit.seed_queued_emails(tenant, 1, recipient=lambda i: "ada@example.com")
    claimed = messages.claim(tenant.id, mid, clock.now())
    ev = ActivityEvent(message_id=mid, event_id="sent-1", event="sent", email="ada@example.com", created_ms=clock.epoch_ms(clock.now()))
    assert messages.mark_sent(claimed, provider="sendgrid", provider_message_id="sg-battery-1", sent_at=clock.now(), event=ev)
    return mid


def _events_batch(mid: str) -> str:
    now = int(time.time())
    return json.dumps([
        {"event": "delivered", "email": "ada@example.com", "timestamp": now, "sg_event_id": "ev-d", "parley_message_id": mid},
        {"event": "bounce", "email": "ada@example.com", "timestamp": now, "sg_event_id": "ev-b", "parley_message_id": mid,
         "type": "bounce", "reason": "550 no such user"},
    ])  # fmt: skip


def _post_events(handler, tenant_id, raw, headers):
    return through_queue(handler, EVENTS)(api_event("candidate/receive_events", tenant_id=tenant_id, body=raw, headers=headers))


@pytest.mark.parametrize("case", ["absent", "signature-only", "wrong-key", "forged", "tampered", "stale", "future"])
def test_sendgrid_events_with_an_absent_wrong_or_stale_signature_are_401_and_store_nothing(
    case, handler, tenant, signing_key, kit, snapshot
):
    from cryptography.hazmat.primitives.asymmetric import ec

    t, _ = tenant
    raw = _events_batch(_sent_email(t, kit))
    now = int(time.time())
    headers = {
        "absent": lambda: {"X-Twilio-Email-Event-Webhook-Signature": None, "X-Twilio-Email-Event-Webhook-Timestamp": None},
        "signature-only": lambda: {**_sign(signing_key, raw, now), "X-Twilio-Email-Event-Webhook-Timestamp": None},
        "wrong-key": lambda: _sign(ec.generate_private_key(ec.SECP256R1()), raw, now),
        "forged": lambda: {**_sign(signing_key, raw, now), "X-Twilio-Email-Event-Webhook-Signature": FORGED},
        "tampered": lambda: _sign(signing_key, raw.replace("550 no such user", "250 ok"), now),
        "stale": lambda: _sign(signing_key, raw, now - 360),  # clear of the 300 s window whatever the test takes
        "future": lambda: _sign(signing_key, raw, now + 360),
    }[case]()  # fmt: skip
    before = snapshot()
    out = _post_events(handler, t.id, raw, headers)
    assert out["statusCode"] == 401, out
    assert body(out)["status"] == 401
    assert snapshot() == before


def test_sendgrid_replayed_events_are_stored_once(handler, tenant, signing_key, kit, snapshot):
    """The same signed batch again (a replay inside the window), and the same events signed afresh: nothing new."""
    from parley.dal import messages, suppressions

    t, _ = tenant
    mid = _sent_email(t, kit)
    raw = _events_batch(mid)
    signed = _sign(signing_key, raw, int(time.time()))
    assert _post_events(handler, t.id, raw, signed)["statusCode"] == 200
    after_first = snapshot()
    assert sorted(e.event for e in messages.get_with_events(t.id, mid)[1]) == ["bounce", "delivered", "sent"]
    assert suppressions.get(t.id, "ada@example.com") is not None

    for headers in (signed, signed, _sign(signing_key, raw, int(time.time()) - 5)):
        assert _post_events(handler, t.id, raw, headers)["statusCode"] == 200
        assert snapshot() == after_first


# ───────────── Twilio ─────────────
def _configure_twilio(tenant_id: str) -> None:
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    put_tenant_secret(f"parley/{tenant_id}", {"twilio_account_sid": "AC0123", "twilio_auth_token": TOKEN})
    configure_tenant(tenant_id, secret_name=f"parley/{tenant_id}")


def _twilio(name: str, tenant_id: str, params: dict[str, str], *, token: str = TOKEN, signature: str | None = None) -> dict:
    event = copy.deepcopy(load_event(f"candidate/{name}"))
    event["rawQueryString"] = f"tenant={tenant_id}"
    event["queryStringParameters"] = {"tenant": tenant_id}
    event["body"] = base64.b64encode(urlencode(params).encode()).decode()
    event["isBase64Encoded"] = True
    url = f"https://{HOST}/?tenant={tenant_id}"
    event["headers"]["x-twilio-signature"] = RequestValidator(token).compute_signature(url, params) if signature is None else signature
    return event


def _inbound(sid: str = SID, text: str = "STOP") -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "AccountSid": "AC0123", "From": PHONE, "To": OUR_NUMBER, "Body": text,
            "NumMedia": "0", "SmsStatus": "received", "ApiVersion": "2010-04-01"}  # fmt: skip


def _status(sid: str, status: str) -> dict[str, str]:
    return {"MessageSid": sid, "SmsSid": sid, "MessageStatus": status, "SmsStatus": status, "AccountSid": "AC0123",
            "To": PHONE, "From": OUR_NUMBER, "ApiVersion": "2010-04-01"}  # fmt: skip


def _sent_sms(tenant_id: str, sid: str) -> str:
    from parley import clock
    from parley.dal import messages
    from parley.models.domain import ActivityEvent, Message, MessageStatus

    msg = Message(tenant_id=tenant_id, id="sms-battery-1", channel="sms", direction="outbound", status=MessageStatus.SENDING,
                  source_api="candidate", sender=OUR_NUMBER, recipient=PHONE, body="Hello", conversation_id="sms-battery-1",
                  provider="twilio", created_at=clock.now())  # fmt: skip
    messages.create(msg)
    ev = ActivityEvent(message_id=msg.id, event_id="evt-sent", event="sent", created_ms=clock.epoch_ms(clock.now()) - 1000)
    assert messages.mark_sent(msg, provider="twilio", provider_message_id=sid, sent_at=clock.now(), event=ev)
    return msg.id


@pytest.mark.parametrize("function", [INBOUND, STATUS])
@pytest.mark.parametrize("case", ["absent", "wrong-token", "forged", "tampered", "other-tenant-token"])
def test_twilio_webhooks_with_an_absent_or_wrong_signature_are_403_and_store_nothing(
    function, case, handler, tenant, other_tenant, snapshot
):
    t, _ = tenant
    o, _ = other_tenant
    _configure_twilio(t.id)
    _sent_sms(t.id, SID)
    name, params = ("twilio_inbound", _inbound()) if function == INBOUND else ("twilio_status", _status(SID, "delivered"))
    event = {
        "absent": lambda: _twilio(name, t.id, params, signature=""),
        "wrong-token": lambda: _twilio(name, t.id, params, token="not-the-auth-token"),
        "forged": lambda: _twilio(name, t.id, params, signature="ksKQrMkt8SCZ1pRzNunCoSdLxWE="),
        "tampered": lambda: {**_twilio(name, t.id, params),
                             "body": base64.b64encode(urlencode({**params, "Body": "START", "MessageStatus": "read"}).encode()).decode()},
        # signed correctly for tenant t, but addressed to tenant o (whose token differs)
        "other-tenant-token": lambda: {**_twilio(name, t.id, params), "rawQueryString": f"tenant={o.id}",
                                       "queryStringParameters": {"tenant": o.id}},
    }[case]()  # fmt: skip
    if case == "other-tenant-token":
        _configure_twilio_other(o.id)
    before = snapshot()
    out = handler(function)(event)
    assert out["statusCode"] == 403, out
    assert snapshot() == before


def _configure_twilio_other(tenant_id: str) -> None:
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    put_tenant_secret(f"parley/{tenant_id}", {"twilio_account_sid": "AC0999", "twilio_auth_token": "globex-token"})
    configure_tenant(tenant_id, secret_name=f"parley/{tenant_id}")


def test_twilio_replayed_inbound_sms_is_stored_once(handler, tenant, snapshot, table_items):
    t, _ = tenant
    _configure_twilio(t.id)
    event = _twilio("twilio_inbound", t.id, _inbound(text="STOP"))
    assert through_queue(handler, INBOUND)(copy.deepcopy(event))["statusCode"] == 200
    after_first = snapshot()
    kinds = [i.get("type") for i in table_items()]
    assert kinds.count("message") == 1 and kinds.count("optin_history") == 1
    for _ in range(3):
        assert through_queue(handler, INBOUND)(copy.deepcopy(event))["statusCode"] == 200
        assert snapshot() == after_first


def test_twilio_replayed_or_stale_status_callbacks_change_nothing(handler, tenant, snapshot):
    from parley.dal import messages

    t, _ = tenant
    _configure_twilio(t.id)
    mid = _sent_sms(t.id, SID)
    delivered = _twilio("twilio_status", t.id, _status(SID, "delivered"))
    assert through_queue(handler, STATUS)(copy.deepcopy(delivered))["statusCode"] == 204
    after_first = snapshot()
    for event in (
        delivered,
        delivered,
        _twilio("twilio_status", t.id, _status(SID, "sent")),
        _twilio("twilio_status", t.id, _status(SID, "queued")),
    ):
        assert through_queue(handler, STATUS)(copy.deepcopy(event))["statusCode"] == 204
        assert snapshot() == after_first
    msg, events = messages.get_with_events(t.id, mid)
    assert msg.delivery_status == "DELIVERED"
    assert [e.event for e in events] == ["sent", "delivered"]


# ───────────── Twilio Video (issue 20): room and composition callbacks at VideoCallbackFunction ─────────────
@pytest.fixture
def video_world(tenant, other_tenant, monkeypatch):
    """A recorded video channel of tenant t on its text-account, and a text-account of tenant o (another token)."""
    from fakes.twilio_api import FakeTwilio
    from texting import make_account
    from video_callbacks import make_channel

    from parley.settings import get_settings

    fake = FakeTwilio().start()
    monkeypatch.setenv("TWILIO_API_URL", fake.url)
    get_settings.cache_clear()
    acct = make_account(tenant[0].id, fake)
    other = make_account(other_tenant[0].id, fake, phone="+15555550199")
    yield acct, other, make_channel(tenant[0].id, acct, recorded=True), fake
    fake.stop()
    get_settings.cache_clear()


@pytest.mark.parametrize("path", ["/room", "/composition"])
@pytest.mark.parametrize("case", ["absent", "wrong-token", "forged", "tampered", "other-tenant-token", "unknown-room", "other-url"])
def test_twilio_video_callbacks_with_an_absent_or_wrong_signature_are_403_and_change_nothing(path, case, handler, video_world, snapshot):
    from video_callbacks import CALLBACK, HOST, callback_event, composition_params, room_params

    acct, other, ch, fake = video_world
    params = (room_params(ch, acct, "room-ended") if path == "/room"
              else composition_params(ch, acct, "composition-available", "CJ" + "2" * 32, Size="10", Duration="5"))  # fmt: skip
    event = {
        "absent": lambda: callback_event(path, params, token=acct.token, signature=""),
        "wrong-token": lambda: callback_event(path, params, token="not-the-auth-token"),
        "forged": lambda: callback_event(path, params, token=acct.token, signature="ksKQrMkt8SCZ1pRzNunCoSdLxWE="),
        "tampered": lambda: {**callback_event(path, params, token=acct.token),
                             "body": base64.b64encode(urlencode({**params, "SequenceNumber": "999"}).encode()).decode()},
        "other-tenant-token": lambda: callback_event(path, params, token=other.token),  # another tenant's account signed it
        "unknown-room": lambda: callback_event(path, {**params, "RoomSid": "RM" + "9" * 32}, token=acct.token),
        "other-url": lambda: callback_event(path, params, token=acct.token,
                                            signature=RequestValidator(acct.token).compute_signature(f"https://{HOST}/other", params)),
    }[case]()  # fmt: skip
    before = snapshot()
    out = handler(CALLBACK)(event)
    assert out["statusCode"] == 403, out
    assert snapshot() == before and fake.calls("/v1/Compositions") == []


def test_twilio_video_replayed_or_stale_room_callbacks_change_nothing(handler, video_world, snapshot):
    from video_callbacks import CALLBACK, callback_event, room_params

    acct, _, ch, _ = video_world
    left = callback_event("/room", room_params(ch, acct, "participant-disconnected", identity="ind-a", seq=7), token=acct.token)
    assert handler(CALLBACK)(callback_event("/room", room_params(ch, acct, "participant-connected", identity="ind-a", seq=5),
                                            token=acct.token))["statusCode"] == 204  # fmt: skip
    assert handler(CALLBACK)(copy.deepcopy(left))["statusCode"] == 204
    after = snapshot()
    for event in (
        left,
        left,
        callback_event("/room", room_params(ch, acct, "participant-connected", identity="ind-a", seq=6), token=acct.token),
    ):
        assert handler(CALLBACK)(copy.deepcopy(event))["statusCode"] == 204
        assert snapshot() == after
