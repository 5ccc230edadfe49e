"""POST /communications/email/v1/events (SendGrid Event Webhook) on in-process moto: stored state, not just statuses."""

from __future__ import annotations

import base64
import json
import time

import pytest

from helpers import api_event, body, through_queue

EVENTS = "CandidateApi.ReceiveEventsFunction"
ACTIVITY = "CandidateApi.EmailActivityFunction"
TS = 1717667043


def sent_message(tenant, *, to="ada@example.com", provider="sendgrid", provider_id="14c5d75ce93dfd64b469"):
    """A message of ``tenant`` that the dispatcher has handed to ``provider`` (SENT, with its provider-id lookup)."""
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
    assert messages.mark_sent(claimed, provider=provider, provider_message_id=provider_id, sent_at=clock.now(), event=ev)
    return msg.id


def post(handler, tenant_id, payload, headers=None):
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    return through_queue(handler, EVENTS)(
        api_event("candidate/receive_events", tenant_id=tenant_id, body=raw, headers=headers or _unsigned())
    )


def _unsigned():
    return {"X-Twilio-Email-Event-Webhook-Signature": None, "X-Twilio-Email-Event-Webhook-Timestamp": None}


def activity(tenant_id, message_id):
    from parley.dal import messages

    msg, events = messages.get_with_events(tenant_id, message_id)
    return msg, [e for e in events if e.event != "sent"]


def suppression(tenant_id, address):
    from parley.dal import suppressions

    return suppressions.get(tenant_id, address)


def seed_variants(message_id, sg_id):
    """One event of each seed 000 EmailEvent variant, spelled as the seed spells it."""
    return [
        {
            "email": "ada@example.com",
            "timestamp": TS,
            "event": "delivered",
            "ip": "168.1.1.1",
            "response": "250 OK",
            "sg_event_id": "ev-delivered",
            "sg_message_id": f"{sg_id}.filter0001.16648.5515E0B88.0",
            "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "tls": 1,
            "category": ["cat1"],
        },
        {
            "email": "ada@example.com",
            "timestamp": TS + 1,
            "event": "open",
            "ip": "192.168.0.1",
            "sg_content_type": "html",
            "sg_event_id": "ev-open",
            "sg_machine_open": False,
            "sg_message_id": f"{sg_id}.filter0001",
            "useragent": "Mozilla/5.0",
            "category": ["cat1"],
        },
        {
            "email": "ada@example.com",
            "timestamp": TS + 2,
            "event": "click",
            "ip": "192.168.0.2",
            "url": "https://jobs.example.com/apply/1",
            "url_offset": {"index": 0, "type": "html"},
            "useragent": "Mozilla/5.0",
            "sg_event_id": "ev-click",
            "sg_message_id": f"{sg_id}.filter0001",
            "category": ["cat1"],
        },
        {"email": "ada@example.com", "event": "apply_click", "category": [message_id]},
        {"email": "ada@example.com", "event": "applicant", "category": [message_id]},
        {"email": "ada@example.com", "event": "unsubscribe", "category": [message_id]},
        {
            "email": "ada@example.com",
            "timestamp": TS + 5,
            "event": "bounce",
            "bounceClassification": "Invalid Address",
            "reason": "550 5.1.1 The email account that you tried to reach does not exist",
            "sgEventId": "ev-bounce",
            "sgMessageId": f"{sg_id}.filter0002",
            "smtpId": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
            "tls": 1,
            "type": "bounce",
            "category": ["cat1"],
        },
    ]


def test_every_seed_variant_is_recorded_on_the_message(handler, tenant):
    t, _ = tenant
    mid = sent_message(t)
    out = post(handler, t.id, seed_variants(mid, "14c5d75ce93dfd64b469"))
    assert out["statusCode"] == 200, out
    assert body(out) == {"status": 200}

    msg, events = activity(t.id, mid)
    names = sorted(e.event for e in events)
    assert names == sorted(["delivered", "open", "click", "apply_click", "applicant", "unsubscribe", "bounce"])
    by = {e.event: e for e in events}
    assert by["delivered"].created_ms == TS * 1000
    assert by["delivered"].ip == "168.1.1.1" and by["delivered"].response == "250 OK"
    assert by["delivered"].event_id == "ev-delivered"
    assert by["click"].response == "https://jobs.example.com/apply/1"
    assert by["bounce"].response.startswith("550 5.1.1")
    assert by["bounce"].event_id == "ev-bounce"
    assert all(e.email == "ada@example.com" for e in events)
    # events without a timestamp get the receive time
    assert abs(by["apply_click"].created_ms - time.time() * 1000) < 60_000
    assert msg.delivery_status == "BOUNCED"

    entry = suppression(t.id, "ADA@example.com")
    assert entry is not None
    assert entry.reason == "unsubscribe"  # the unsubscribe came first in the batch; the first reason is kept
    assert entry.provider == "sendgrid" and entry.message_id == mid


def test_activity_endpoint_shows_webhook_events(handler, tenant):
    t, _ = tenant
    mid = sent_message(t)
    assert post(handler, t.id, seed_variants(mid, "14c5d75ce93dfd64b469")[:3])["statusCode"] == 200
    out = handler(ACTIVITY)(api_event("candidate/email_activity", tenant_id=t.id, query={"emailActivityId": mid}))
    assert out["statusCode"] == 200, out
    data = body(out)["data"]
    assert [d["event"] for d in data if d["event"] != "sent"] == ["delivered", "open", "click"]
    delivered = next(d for d in data if d["event"] == "delivered")
    assert delivered == {
        "emailActivityId": mid,
        "event": "delivered",
        "email": "ada@example.com",
        "ip": "168.1.1.1",
        "createdDate": TS * 1000,
        "response": "250 OK",
    }


def test_single_object_body_and_camel_case_ids(handler, tenant):
    t, _ = tenant
    mid = sent_message(t, provider_id="abcDEF123")
    event = {"event": "delivered", "email": "ada@example.com", "timestamp": TS, "eventId": "ev-camel", "messageId": "abcDEF123.filter9"}
    assert body(post(handler, t.id, event)) == {"status": 200}
    msg, events = activity(t.id, mid)
    assert [(e.event, e.event_id) for e in events] == [("delivered", "ev-camel")]
    assert msg.delivery_status == "DELIVERED"


def test_correlation_by_custom_arg_then_category(handler, tenant):
    t, _ = tenant
    by_arg = sent_message(t, provider_id="p-one")
    by_cat = sent_message(t, provider_id="p-two")
    batch = [
        {"event": "open", "email": "ada@example.com", "timestamp": TS, "sg_event_id": "e1", "parley_message_id": by_arg},
        {"event": "open", "email": "ada@example.com", "timestamp": TS, "sg_event_id": "e2", "category": ["newsletter", by_cat]},
    ]
    assert post(handler, t.id, batch)["statusCode"] == 200
    assert [e.event_id for e in activity(t.id, by_arg)[1]] == ["e1"]
    assert [e.event_id for e in activity(t.id, by_cat)[1]] == ["e2"]


def test_events_never_reach_another_tenants_message(handler, tenant, other_tenant):
    t, _ = tenant
    o, _ = other_tenant
    theirs = sent_message(o, provider_id="shared-id")
    batch = [
        {"event": "open", "email": "x@example.com", "timestamp": TS, "sg_event_id": "f1", "parley_message_id": theirs},
        {"event": "open", "email": "x@example.com", "timestamp": TS, "sg_event_id": "f2", "sg_message_id": "shared-id.filter"},
        {"event": "open", "email": "x@example.com", "timestamp": TS, "sg_event_id": "f3", "category": [theirs]},
    ]
    assert post(handler, t.id, batch)["statusCode"] == 200
    msg, events = activity(o.id, theirs)
    assert events == []
    assert msg.delivery_status is None


def test_replayed_batch_stores_nothing_new(handler, tenant, table_items):
    t, _ = tenant
    mid = sent_message(t)
    batch = seed_variants(mid, "14c5d75ce93dfd64b469")
    # the events without ids (apply_click, applicant, unsubscribe) cannot be deduplicated: replay only the others
    replayable = [e for e in batch if "timestamp" in e]
    assert post(handler, t.id, replayable)["statusCode"] == 200
    before = sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items())
    assert post(handler, t.id, replayable)["statusCode"] == 200
    assert post(handler, t.id, replayable[1])["statusCode"] == 200
    after = sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items())
    assert after == before
    assert len(activity(t.id, mid)[1]) == len(replayable)


def test_duplicate_within_one_batch_is_recorded_once(handler, tenant):
    t, _ = tenant
    mid = sent_message(t)
    ev = {"event": "open", "email": "ada@example.com", "timestamp": TS, "sg_event_id": "dup", "parley_message_id": mid}
    assert post(handler, t.id, [ev, ev])["statusCode"] == 200
    assert [e.event_id for e in activity(t.id, mid)[1]] == ["dup"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("{not json", "request body is not valid JSON"),
        ("[]", "request body must hold at least one event"),
        ('[{"event": "open", "email": "a@example.com"}, "text"]', "events[1]: each event must be a JSON object"),
        ('[{"event": "open", "email": "a@example.com", "timestamp": 1}, {"event": "open"}]', "events[1]: email is required"),
        ('{"email": "a@example.com"}', "event: event is required"),
        ('[{"event": "open", "email": "a@example.com", "timestamp": "yesterday"}]', "events[0]: timestamp must be a Unix time in seconds"),
        (
            '[{"event": "open", "email": "a@example.com", "sg_event_id": "' + "x" * 101 + '"}]',
            "events[0]: eventId must be at most 100 characters",
        ),
        ("42", "event: each event must be a JSON object"),
    ],
)
def test_malformed_batches_are_400_and_store_nothing(handler, tenant, table_items, raw, message):
    t, _ = tenant
    mid = sent_message(t)
    before = len(table_items())
    raw = raw.replace("a@example.com", "ada@example.com")
    if raw.startswith("[{") and "parley_message_id" not in raw:
        raw = raw.replace('"event": "open",', f'"event": "open", "parley_message_id": "{mid}",', 1)
    out = post(handler, t.id, raw)
    assert out["statusCode"] == 400, out
    assert body(out) == {"status": 400, "message": message}
    assert len(table_items()) == before
    assert activity(t.id, mid)[1] == []


def test_unmatched_events_are_acknowledged_and_still_suppress(handler, tenant, table_items):
    t, _ = tenant
    batch = [
        {"event": "spamreport", "email": "Angry@Example.com", "timestamp": TS, "sg_event_id": "s1"},
        {"event": "delivered", "email": "nobody@example.com", "timestamp": TS, "sg_event_id": "s2", "sg_message_id": "unknown.x"},
    ]
    out = post(handler, t.id, batch)
    assert body(out) == {"status": 200}
    entry = suppression(t.id, "angry@example.com")
    assert entry.reason == "spamreport" and entry.message_id is None
    assert suppression(t.id, "nobody@example.com") is None
    kinds = {i["type"] for i in table_items() if i["PK"].startswith(f"TENANT#{t.id}#EMAILEVT#")}
    assert kinds == {"email_event"}


@pytest.mark.parametrize(
    ("event", "suppressed", "status"),
    [
        ({"event": "bounce", "type": "blocked", "reason": "550 blocked by policy"}, None, "BLOCKED"),
        ({"event": "bounce", "type": "bounce", "reason": "550 no such user"}, "bounce", "BOUNCED"),
        ({"event": "bounce", "reason": "550 no such user"}, "bounce", "BOUNCED"),
        ({"event": "dropped", "reason": "Bounced Address"}, "bounce", "DROPPED"),
        ({"event": "dropped", "reason": "Spam Reporting Address"}, "spamreport", "DROPPED"),
        ({"event": "dropped", "reason": "Invalid SMTPAPI header"}, None, "DROPPED"),
        ({"event": "deferred", "response": "450 try later", "attempt": 2}, None, "DEFERRED"),
        ({"event": "unsubscribe"}, "unsubscribe", None),
        ({"event": "group_unsubscribe", "asm_group_id": 7}, None, None),
        ({"event": "processed"}, None, "PROCESSED"),
    ],
)
def test_suppression_and_delivery_status_rules(handler, tenant, event, suppressed, status):
    t, _ = tenant
    mid = sent_message(t)
    item = {"email": "ada@example.com", "timestamp": TS, "sg_event_id": "rule-1", "parley_message_id": mid, **event}
    assert post(handler, t.id, [item])["statusCode"] == 200
    entry = suppression(t.id, "ada@example.com")
    assert (entry.reason if entry else None) == suppressed
    msg, events = activity(t.id, mid)
    assert [e.event for e in events] == [event["event"]]
    assert msg.delivery_status == status


def test_delivery_status_never_moves_backwards(handler, tenant):
    t, _ = tenant
    mid = sent_message(t)
    click = {"event": "click", "email": "ada@example.com", "timestamp": TS + 10, "sg_event_id": "c", "parley_message_id": mid}
    late = {"event": "delivered", "email": "ada@example.com", "timestamp": TS, "sg_event_id": "d", "parley_message_id": mid}
    assert post(handler, t.id, [click, late])["statusCode"] == 200
    msg, events = activity(t.id, mid)
    assert msg.delivery_status == "CLICKED"
    assert [e.event for e in events] == ["delivered", "click"]  # oldest first by event time


# ───────────── signed webhook ─────────────
@pytest.fixture
def signing_key(tenant):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from parley.domain.auth import configure_tenant

    t, _ = tenant
    private = ec.generate_private_key(ec.SECP256R1())
    public_der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    configure_tenant(t.id, webhook_public_key=base64.b64encode(public_der).decode())
    return private


def sign(private, raw: str, ts: int | None = None):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    ts_text = str(int(time.time()) if ts is None else ts)
    signature = private.sign(ts_text.encode() + raw.encode(), ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": ts_text,
    }


def test_signed_batch_is_accepted(handler, tenant, signing_key):
    t, _ = tenant
    mid = sent_message(t)
    raw = json.dumps([{"event": "delivered", "email": "ada@example.com", "timestamp": TS, "sg_event_id": "sig1", "parley_message_id": mid}])
    out = post(handler, t.id, raw, headers=sign(signing_key, raw))
    assert out["statusCode"] == 200, out
    assert [e.event_id for e in activity(t.id, mid)[1]] == ["sig1"]


def test_signature_covers_the_exact_raw_bytes_even_base64_encoded(handler, tenant, signing_key):
    t, _ = tenant
    mid = sent_message(t)
    raw = '[ {"event":"open",  "email":"ada@example.com","timestamp":1717667043,"sg_event_id":"b64","parley_message_id":"MID"} ]'
    raw = raw.replace("MID", mid)
    encoded = base64.b64encode(raw.encode()).decode()
    event = api_event("candidate/receive_events", tenant_id=t.id, body=encoded, headers=sign(signing_key, raw))
    event["isBase64Encoded"] = True
    out = through_queue(handler, EVENTS)(event)
    assert out["statusCode"] == 200, out
    assert [e.event_id for e in activity(t.id, mid)[1]] == ["b64"]


FORGED = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()  # a well-formed DER signature (r=1, s=1)


@pytest.mark.parametrize("case", ["forged", "absent", "stale", "future", "tampered", "other-key", "garbage"])
def test_bad_signatures_are_401_and_store_nothing(handler, tenant, signing_key, table_items, case):
    from cryptography.hazmat.primitives.asymmetric import ec

    t, _ = tenant
    mid = sent_message(t)
    raw = json.dumps([{"event": "bounce", "email": "ada@example.com", "timestamp": TS, "sg_event_id": "x1", "parley_message_id": mid}])
    headers = {
        "forged": lambda: {
            **sign(signing_key, raw),
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode(),
        },
        "absent": _unsigned,
        "stale": lambda: sign(signing_key, raw, ts=int(time.time()) - 360),  # the exact boundary: tests/unit (fixed clock)
        "future": lambda: sign(signing_key, raw, ts=int(time.time()) + 360),
        "tampered": lambda: sign(signing_key, raw.replace("bounce", "open")),
        "other-key": lambda: sign(ec.generate_private_key(ec.SECP256R1()), raw),
        "garbage": lambda: {**sign(signing_key, raw), "X-Twilio-Email-Event-Webhook-Signature": "%%%not base64"},
    }[case]()
    before = len(table_items())
    out = post(handler, t.id, raw, headers=headers)
    assert out["statusCode"] == 401, out
    assert set(body(out)) == {"status", "message"} and body(out)["status"] == 401
    assert len(table_items()) == before
    assert suppression(t.id, "ada@example.com") is None


def test_signature_checked_before_the_body_is_parsed(handler, tenant, signing_key):
    t, _ = tenant
    out = post(handler, t.id, "{not json", headers=_unsigned())
    assert out["statusCode"] == 401


def test_without_a_tenant_key_unsigned_batches_are_accepted(handler, tenant):
    t, _ = tenant
    mid = sent_message(t)
    assert post(handler, t.id, [{"event": "open", "email": "ada@example.com", "parley_message_id": mid}])["statusCode"] == 200
    assert [e.event for e in activity(t.id, mid)[1]] == ["open"]


# ───────────── an unknown delivery outcome, confirmed by the provider's events (issue 11) ─────────────
def _unknown_outcome(tenant, *, stale=True):
    """A message the dispatcher handed to SendGrid without recording the answer: claimed (SENDING), and with
    ``stale`` given up by the stale-claim rule (UNCONFIRMED, as dispatch does it)."""
    from parley import clock
    from parley.dal import messages
    from parley.domain import emails
    from parley.domain.context import Caller
    from parley.domain.dispatch import UNKNOWN_OUTCOME, _unconfirmed_write, _write_all
    from parley.models.domain import MessageStatus

    msg = emails.new_outbound_email(Caller.of(tenant), source_api="crm", recipient="ada@example.com", subject="Offer", body="Hi")
    messages.create(msg.model_copy(update={"provider": "sendgrid"}))
    claimed = messages.claim(tenant.id, msg.id, clock.now())
    if stale:
        results = {}
        w = _unconfirmed_write(claimed, UNKNOWN_OUTCOME, "unconfirmed")
        _write_all([w], results, {id(w): 0}, lambda: 30_000)
        assert results == {0: "unconfirmed"}
        assert messages.get(tenant.id, msg.id).status == MessageStatus.UNCONFIRMED
    return msg.id


def test_a_sendgrid_delivered_event_confirms_an_unknown_outcome(handler, tenant):
    """SendGrid's events carry our id (custom arg) and its X-Message-Id (sg_message_id): an UNCONFIRMED
    message becomes SENT with that id and its lookup item, then DELIVERED; the webhook counts it recorded,
    not unmatched; a later event with only sg_message_id finds it."""
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    t, _ = tenant
    mid = _unknown_outcome(t)
    now = int(time.time())
    delivered = {"event": "delivered", "email": "ada@example.com", "timestamp": now, "sg_event_id": "d1",
                 "sg_message_id": "sgid-42.filterdrecv-1", "parley_message_id": mid}  # fmt: skip
    out = post(handler, t.id, [delivered])
    assert out["statusCode"] == 200
    msg, events = messages.get_with_events(t.id, mid)
    assert (msg.status, msg.provider_message_id, msg.delivery_status, msg.error) == (MessageStatus.SENT, "sgid-42", "DELIVERED", None)
    assert sorted(e.event for e in events) == ["delivered", "sent", "unconfirmed"]  # in the order of their times
    assert messages.find_by_provider_id(t.id, "sendgrid", "sgid-42") == mid

    opened = {"event": "open", "email": "ada@example.com", "timestamp": now + 5, "sg_event_id": "o1", "sg_message_id": "sgid-42.x"}
    assert post(handler, t.id, [opened])["statusCode"] == 200
    assert messages.get(t.id, mid).delivery_status == "OPENED"


def test_a_sendgrid_bounce_confirms_a_message_still_sending_and_suppresses(handler, tenant):
    """The dispatcher's SENT write has not landed yet (SENDING) when the bounce arrives: SENT + BOUNCED,
    the address suppressed with the message named, never 'unmatched'."""
    from parley.dal import messages
    from parley.domain.email_events import apply_many, verified_sendgrid
    from parley.models.domain import MessageStatus

    t, _ = tenant
    mid = _unknown_outcome(t, stale=False)
    bounce = {"event": "bounce", "type": "bounce", "email": "ada@example.com", "timestamp": int(time.time()), "sg_event_id": "b1",
              "sg_message_id": "sgid-7.filter", "reason": "550 5.1.1 unknown user", "custom_args": {"parley_message_id": mid}}  # fmt: skip
    handler(EVENTS)  # the function's environment
    events = verified_sendgrid(t.id, json.dumps([bounce]).encode(), signature=None, timestamp=None)
    assert apply_many(t.id, events) == ["recorded"]
    msg = messages.get(t.id, mid)
    assert (msg.status, msg.provider_message_id, msg.delivery_status) == (MessageStatus.SENT, "sgid-7", "BOUNCED")
    assert suppression(t.id, "ada@example.com").message_id == mid


def test_an_event_of_another_provider_does_not_confirm_a_message(handler, tenant):
    """Only the provider the message was handed to can confirm it."""
    from parley.dal import messages
    from parley.domain import email_events
    from parley.models.domain import MessageStatus
    from parley.models.email_events import EmailEvent

    t, _ = tenant
    mid = _unknown_outcome(t)
    handler(EVENTS)
    ev = EmailEvent(provider="ses", event="delivered", email="ada@example.com", created_ms=int(time.time() * 1000), dedupe_key="x1",
                    parley_message_id=mid, provider_message_id="0100-ses", delivery_status="DELIVERED")  # fmt: skip
    assert email_events.apply(t.id, ev) == "recorded"
    assert messages.get(t.id, mid).status == MessageStatus.UNCONFIRMED
