"""Pure logic of email events: SendGrid parsing and signatures, SES parsing, the SendGrid payload."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from parley.domain.email_events import parse_sendgrid, parse_ses, verify_sendgrid_signature
from parley.errors import BadRequest, Unauthorized

NOW = 1_717_667_100


def test_both_spellings_of_ids_are_read():
    snake, camel, base = parse_sendgrid(
        json.dumps(
            [
                {"event": "delivered", "email": "a@x.com", "timestamp": 1, "sg_event_id": "e1", "sg_message_id": "abc.filter1.2"},
                {"event": "bounce", "email": "a@x.com", "timestamp": 2, "sgEventId": "e2", "sgMessageId": "def.f", "type": "bounce"},
                {"event": "open", "email": "a@x.com", "eventId": "e3", "messageId": "ghi", "category": "single"},
            ]
        ).encode(),
        received_ms=99,
    )
    assert (snake.dedupe_key, snake.provider_message_id, snake.created_ms) == ("e1", "abc", 1000)
    assert (camel.dedupe_key, camel.provider_message_id, camel.suppress_reason, camel.delivery_status) == ("e2", "def", "bounce", "BOUNCED")
    assert (base.dedupe_key, base.provider_message_id, base.created_ms, base.categories) == ("e3", "ghi", 99, ("single",))


def test_custom_args_top_level_or_nested():
    top, nested = parse_sendgrid(
        b'[{"event":"open","email":"a@x.com","parley_message_id":"m1"},{"event":"open","email":"a@x.com","custom_args":{"parley_message_id":"m2"}}]'
    )
    assert (top.parley_message_id, nested.parley_message_id) == ("m1", "m2")


def test_events_without_ids_are_deduplicated_by_content_only_when_timestamped():
    with_ts, same, without = parse_sendgrid(
        b'[{"event":"open","email":"a@x.com","timestamp":5},{"timestamp":5,"email":"a@x.com","event":"open"},{"event":"open","email":"a@x.com"}]'
    )
    assert with_ts.dedupe_key and with_ts.dedupe_key == same.dedupe_key
    assert without.dedupe_key is None


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"event": "bounce", "type": "blocked"}, None),
        ({"event": "bounce", "type": "bounce"}, "bounce"),
        ({"event": "dropped", "reason": "Bounced Address"}, "bounce"),
        ({"event": "dropped", "reason": "Unsubscribed Address"}, "unsubscribe"),
        ({"event": "dropped", "reason": "Spam Reporting Address"}, "spamreport"),
        ({"event": "dropped", "reason": "Invalid"}, None),
        ({"event": "spamreport"}, "spamreport"),
        ({"event": "unsubscribe"}, "unsubscribe"),
        ({"event": "group_unsubscribe"}, None),
        ({"event": "deferred"}, None),
    ],
)
def test_which_events_suppress(event, reason):
    (ev,) = parse_sendgrid(json.dumps({"email": "a@x.com", **event}).encode())
    assert ev.suppress_reason == reason


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"nope",
        b"[]",
        b"[1]",
        b'[{"event":"open"}]',
        b'[{"email":"a@x.com"}]',
        b'{"event":"","email":"a@x.com"}',
        b'{"event":"open","email":"a@x.com","timestamp":true}',
        b'{"event":"open","email":"a@x.com","timestamp":-5}',
    ],
)
def test_malformed_input_is_bad_request(raw):
    with pytest.raises(BadRequest):
        parse_sendgrid(raw)


# ───────────── signatures ─────────────
@pytest.fixture(scope="module")
def keypair():
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, base64.b64encode(der).decode()


def _sign(private, ts: str, body: bytes) -> str:
    return base64.b64encode(private.sign(ts.encode() + body, ec.ECDSA(hashes.SHA256()))).decode()


def test_valid_signature_passes(keypair):
    private, public = keypair
    body = b'[{"event":"open","email":"a@x.com"}]'
    verify_sendgrid_signature(public, _sign(private, str(NOW), body), str(NOW), body, now_s=NOW + 299)


def test_pem_key_is_accepted(keypair):
    private, _ = keypair
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    verify_sendgrid_signature(pem, _sign(private, str(NOW), b"x"), str(NOW), b"x", now_s=NOW)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s, t, b: (None, t, b), "missing event webhook signature"),
        (lambda s, t, b: (s, None, b), "missing event webhook signature"),
        (lambda s, t, b: (s, "soon", b), "invalid event webhook timestamp"),
        (lambda s, t, b: (s, t, b + b" "), "invalid event webhook signature"),
        (lambda s, t, b: (s, str(NOW - 400), b), "outside the 5 minute window"),
        (lambda s, t, b: (s, str(NOW + 400), b), "outside the 5 minute window"),
        (lambda s, t, b: ("AAAA", t, b), "invalid event webhook signature"),
        (lambda s, t, b: ("***", t, b), "invalid event webhook signature"),
    ],
)
def test_bad_signatures_are_unauthorized(keypair, mutate, message):
    private, public = keypair
    body = b'[{"event":"open","email":"a@x.com"}]'
    sig, ts, raw = mutate(_sign(private, str(NOW), body), str(NOW), body)
    with pytest.raises(Unauthorized, match=message):
        verify_sendgrid_signature(public, sig, ts, raw, now_s=NOW)


def test_a_stale_or_future_timestamp_is_refused_even_when_correctly_signed(keypair):
    private, public = keypair
    old = str(NOW - 301)
    with pytest.raises(Unauthorized, match="window"):
        verify_sendgrid_signature(public, _sign(private, old, b"x"), old, b"x", now_s=NOW)
    ahead = str(NOW + 301)
    with pytest.raises(Unauthorized, match="window"):
        verify_sendgrid_signature(public, _sign(private, ahead, b"x"), ahead, b"x", now_s=NOW)


def test_an_unusable_configured_key_is_unauthorized(keypair):
    private, _ = keypair
    with pytest.raises(Unauthorized, match="verification key is not valid"):
        verify_sendgrid_signature("bm90IGEga2V5", _sign(private, str(NOW), b"x"), str(NOW), b"x", now_s=NOW)


# ───────────── SES ─────────────
def _sns(ses: dict, sns_id="n1") -> str:
    return json.dumps({"Type": "Notification", "MessageId": sns_id, "Message": json.dumps(ses)})


MAIL = {
    "messageId": "ses-1",
    "timestamp": "2024-06-06T09:44:03.000Z",
    "destination": ["a@x.com"],
    "tags": {"parley_message_id": ["m1"], "parley_tenant_id": ["t1"]},
}


def test_ses_bounce_is_parsed_with_tags_and_suppression():
    ses = {
        "eventType": "Bounce",
        "mail": MAIL,
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "timestamp": "2024-06-06T09:44:04.500Z",
            "feedbackId": "fb",
            "bouncedRecipients": [{"emailAddress": "a@x.com", "diagnosticCode": "smtp; 550 no"}],
        },
    }
    tenant_id, ev = parse_ses(_sns(ses))
    assert tenant_id == "t1"
    assert (ev.event, ev.parley_message_id, ev.provider_message_id, ev.created_ms) == ("bounce", "m1", "ses-1", 1717667044500)
    assert ev.suppress_reason == "bounce" and ev.suppress_addresses == ("a@x.com",)
    assert ev.response == "Permanent/General: smtp; 550 no"


def test_ses_dedupe_key_is_the_event_identity_not_the_sns_id():
    ses = {"eventType": "Delivery", "mail": MAIL, "delivery": {"timestamp": "2024-06-06T09:44:05.000Z", "recipients": ["a@x.com"]}}
    _, first = parse_ses(_sns(ses, "n1"))
    _, again = parse_ses(_sns(ses, "n2"))
    _, other = parse_ses(_sns({**ses, "eventType": "Send"}, "n1"))
    assert first.dedupe_key == again.dedupe_key != other.dedupe_key


def test_ses_raw_delivery_and_control_messages():
    assert parse_ses(json.dumps({"Type": "SubscriptionConfirmation", "MessageId": "x", "Message": "hi"})) is None
    _, ev = parse_ses(
        json.dumps({"eventType": "Complaint", "mail": MAIL, "complaint": {"complainedRecipients": [{"emailAddress": "a@x.com"}]}})
    )
    assert (ev.event, ev.suppress_reason, ev.delivery_status) == ("spamreport", "complaint", "COMPLAINED")
    with pytest.raises(ValueError):
        parse_ses("{}")


# ───────────── SendGrid payload ─────────────
def test_sendgrid_payload_puts_text_first_and_omits_empty_parts():
    from parley.providers.base import OutboundEmail
    from parley.providers.sendgrid import SendGridEmailProvider

    email = OutboundEmail(
        message_id="m", tenant_id="t", sender="s@x.com", sender_name="", recipient="r@x.com", subject="S", html="<p>h</p>", text=None
    )
    payload = SendGridEmailProvider.payload(email)
    assert payload["content"] == [{"type": "text/html", "value": "<p>h</p>"}]
    assert payload["from"] == {"email": "s@x.com"}
    assert "reply_to" not in payload
