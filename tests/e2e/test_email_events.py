"""POST /communications/email/v1/events over HTTP against the local stack, and SES events through SNS → SQS."""

from __future__ import annotations

import base64
import json
import time
import uuid

import boto3
import pytest
import requests

SEND = "/communications/email/v1/send"
EVENTS = "/communications/email/v1/events"
ACTIVITY = "/communications/email/v1/activity"
TS = 1717667043


def hdrs(key, **extra):
    return {"Authorization": f"Bearer {key}", "x-ph-userid": "recruiter-7", "Content-Type": "application/json", **extra}


def send(local, key, to):
    out = requests.post(
        local.api + SEND, json={"toEmail": to, "subject": "Interview", "emailContent": "Hello there"}, headers=hdrs(key), timeout=30
    )
    return out


def activity(local, key, mid):
    r = requests.get(local.api + ACTIVITY, params={"emailActivityId": mid}, headers=hdrs(key), timeout=30)
    assert r.status_code == 200, r.text
    return r.json()["data"]


def at_least(rows, n):
    """``rows`` once there are ``n`` of them (webhook events are applied asynchronously), else None."""
    return rows if len(rows) >= n else None


def post_events(local, key, payload, **extra):
    raw = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return requests.post(local.api + EVENTS, data=raw, headers=hdrs(key, **extra), timeout=30)


@pytest.fixture
def sent(local):
    """A fresh tenant with one email sent (SENT through SES in the emulator): (tenant, key, message id, address)."""
    tenant = local.new_tenant("events")
    to = f"cand-{uuid.uuid4().hex[:8]}@example.com"
    out = send(local, tenant["apiKey"], to)
    assert out.status_code == 200, out.text
    mid = out.json()["data"]["emailActivityId"]
    assert local.wait_for(lambda: [e for e in activity(local, tenant["apiKey"], mid) if e["event"] == "sent"], timeout=10)
    return tenant, tenant["apiKey"], mid, to


def variants(mid, to, tag):
    """Each seed 000 EmailEvent variant, as the seed spells its fields."""
    return {
        "DeliveredEvent": {
            "event": "delivered",
            "email": to,
            "timestamp": TS,
            "ip": "168.1.1.1",
            "response": "250 OK",
            "sg_event_id": f"{tag}-d",
            "sg_message_id": "unknown.filter0001",
            "smtp-id": "<x@ismtpd>",
            "tls": 1,
            "category": [mid],
        },
        "OpenEvent": {
            "event": "open",
            "email": to,
            "timestamp": TS + 1,
            "ip": "192.168.0.1",
            "sg_content_type": "html",
            "sg_event_id": f"{tag}-o",
            "sg_machine_open": False,
            "sg_message_id": "unknown.filter0001",
            "useragent": "Mozilla/5.0",
            "category": [mid],
        },
        "ClickEvent": {
            "event": "click",
            "email": to,
            "timestamp": TS + 2,
            "ip": "192.168.0.2",
            "url": "https://jobs.example.com/a",
            "url_offset": {"index": 0, "type": "html"},
            "useragent": "Mozilla/5.0",
            "sg_event_id": f"{tag}-c",
            "sg_message_id": "unknown.filter0001",
            "category": [mid],
        },
        "ApplyClickEvent": {"event": "apply_click", "email": to, "category": [mid]},
        "ApplicantEvent": {"event": "applicant", "email": to, "category": [mid]},
        "UnsubscribeEvent": {"event": "unsubscribe", "email": to, "category": [mid]},
        "BounceEvent": {
            "event": "bounce",
            "email": to,
            "timestamp": TS + 6,
            "bounceClassification": "Invalid Address",
            "reason": "550 5.1.1 no such user",
            "sgEventId": f"{tag}-b",
            "sgMessageId": "unknown.filter0002",
            "smtpId": "<x@ismtpd>",
            "tls": 1,
            "type": "bounce",
            "category": [mid],
        },
    }


def assert_seed_response(out):
    assert out.status_code == 200, out.text
    assert out.json() == {"status": 200}  # WebhookEmailEventsResponse: {status: integer}


def test_every_seed_variant_one_by_one_lands_in_activity(local, sent):
    _, key, mid, to = sent
    for event in variants(mid, to, "one").values():
        assert_seed_response(post_events(local, key, event))
    # applied asynchronously (provider events queue), within seconds
    events = local.wait_for(lambda: at_least(activity(local, key, mid), 8), timeout=20)
    assert events, activity(local, key, mid)
    names = [e["event"] for e in events if e["event"] != "sent"]
    assert sorted(names) == sorted(["delivered", "open", "click", "apply_click", "applicant", "unsubscribe", "bounce"])
    for e in events:
        assert set(e) == {"emailActivityId", "event", "email", "ip", "createdDate", "response"}
        assert e["emailActivityId"] == mid and e["email"] == to and isinstance(e["createdDate"], int)
    by = {e["event"]: e for e in events}
    assert by["delivered"]["createdDate"] == TS * 1000 and by["delivered"]["ip"] == "168.1.1.1" and by["delivered"]["response"] == "250 OK"
    assert by["click"]["response"] == "https://jobs.example.com/a"
    assert by["bounce"]["response"] == "550 5.1.1 no such user"


def test_batch_array_replay_is_deduplicated_and_suppressed_address_refused(local, sent):
    _, key, mid, to = sent
    batch = [e for e in variants(mid, to, "batch").values() if "timestamp" in e]
    assert_seed_response(post_events(local, key, batch))
    first = local.wait_for(lambda: at_least(activity(local, key, mid), len(batch) + 1), timeout=20)
    assert first, activity(local, key, mid)
    assert_seed_response(post_events(local, key, batch))  # SendGrid retries a batch: nothing new
    time.sleep(2)  # give the retried batch every chance to be applied
    assert activity(local, key, mid) == first
    assert len([e for e in first if e["event"] != "sent"]) == len(batch)

    refused = send(local, key, to.upper())
    assert refused.status_code == 400
    err = refused.json()
    assert set(err) == {"status", "message"} and err["status"] == 400
    assert to in err["message"] and "suppression list" in err["message"]


def test_malformed_events_are_400_and_store_nothing(local, sent):
    _, key, mid, to = sent
    before = activity(local, key, mid)
    bad_item = json.dumps([{"event": "open", "email": to, "category": [mid]}, 5])
    for raw in ["{nope", bad_item, '[{"event": "open", "category": ["x"]}]']:
        out = post_events(local, key, raw)
        assert out.status_code == 400, out.text
        assert set(out.json()) == {"status", "message"} and out.json()["status"] == 400
    assert activity(local, key, mid) == before


def test_without_an_api_key_the_gateway_refuses(local):
    out = requests.post(local.api + EVENTS, json=[{"event": "open", "email": "a@example.com"}], timeout=30)
    assert out.status_code == 401
    assert out.json()["status"] == 401


def test_signed_forged_and_stale_batches(local, sent):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    tenant, key, mid, to = sent
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    cfg = requests.post(
        f"{local.api}/_local/tenant-settings",
        json={"tenantId": tenant["tenantId"], "settings": {"webhook_public_key": base64.b64encode(der).decode()}},
        timeout=10,
    )
    assert cfg.status_code == 200, cfg.text

    def signed(raw, ts=None, signer=private):
        ts = str(int(time.time()) if ts is None else ts)
        sig = base64.b64encode(signer.sign(ts.encode() + raw.encode(), ec.ECDSA(hashes.SHA256()))).decode()
        return {"X-Twilio-Email-Event-Webhook-Signature": sig, "X-Twilio-Email-Event-Webhook-Timestamp": ts}

    before = activity(local, key, mid)
    raw = json.dumps([{"event": "spamreport", "email": to, "timestamp": TS, "sg_event_id": f"sig-{mid}", "category": [mid]}])
    attempts = {
        "absent": {},
        "forged": signed(raw, signer=ec.generate_private_key(ec.SECP256R1())),
        "stale": signed(raw, ts=int(time.time()) - 600),
        "tampered": signed(raw.replace("spamreport", "open")),
    }
    for case, extra in attempts.items():
        out = post_events(local, key, raw, **extra)
        assert out.status_code == 401, (case, out.text)
        assert set(out.json()) == {"status", "message"} and out.json()["status"] == 401
    assert activity(local, key, mid) == before
    assert send(local, key, to).status_code == 200  # nothing was suppressed by the refused batches

    assert_seed_response(post_events(local, key, raw, **signed(raw)))
    assert local.wait_for(lambda: [e["event"] for e in activity(local, key, mid) if e["event"] != "sent"] == ["spamreport"], timeout=20)
    assert send(local, key, to).status_code == 400


def test_ses_events_flow_from_the_topic_to_activity(local, sent):
    tenant, key, mid, to = sent
    sns = boto3.client(
        "sns", endpoint_url=local.emulator, region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith("-SesEventsTopic"))
    mail = {
        "messageId": "ses-e2e",
        "timestamp": "2024-06-06T09:44:03.000Z",
        "destination": [to],
        "tags": {"parley_message_id": [mid], "parley_tenant_id": [tenant["tenantId"]]},
    }
    delivery = {
        "eventType": "Delivery",
        "mail": mail,
        "delivery": {"timestamp": "2024-06-06T09:44:05.000Z", "recipients": [to], "smtpResponse": "250 2.0.0 OK"},
    }
    bounce = {
        "eventType": "Bounce",
        "mail": mail,
        "bounce": {
            "bounceType": "Permanent",
            "bounceSubType": "General",
            "timestamp": "2024-06-06T09:50:00.000Z",
            "feedbackId": "fb-e2e",
            "bouncedRecipients": [{"emailAddress": to}],
        },
    }
    for ev in (delivery, bounce, delivery):  # the repeated delivery is deduplicated
        sns.publish(TopicArn=topic, Message=json.dumps(ev))

    def ses_rows():
        rows = [e for e in activity(local, key, mid) if e["event"] in ("delivered", "bounce")]
        return rows if len(rows) >= 2 else None

    rows = local.wait_for(ses_rows, timeout=10)
    assert rows, activity(local, key, mid)
    time.sleep(1)  # give the duplicate every chance to show up
    assert sorted(e["event"] for e in activity(local, key, mid) if e["event"] != "sent") == ["bounce", "delivered"]
    assert send(local, key, to).status_code == 400
