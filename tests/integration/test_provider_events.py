"""Issue 11: provider webhooks verify, queue and answer; ProviderEventsFunction applies them (on in-process moto).

- the enqueue side: a signed 5,000-event SendGrid batch (~770 KB) is queued in chunks that each fit SQS's
  256 KiB limit, with nothing applied yet; a bad batch is refused with nothing queued;
- the consumer: every event applied once (activity, delivery state, suppression list), an SQS redelivery
  or a replayed batch changes nothing, a poisoned record is the only batch item failure, duplicates
  within a chunk and across chunks are recorded once; batched writes (calls counted);
- Twilio: the inbound SMS and status callbacks are queued, then applied (STOP opts the number out).
"""

from __future__ import annotations

import base64
import copy
import json
import time
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from helpers import api_event, body, deliver_provider_events, load_event
from parley_local.workers import _sqs_record

EVENTS = "CandidateApi.ReceiveEventsFunction"
CONSUMER = "root.ProviderEventsFunction"
INBOUND, STATUS = "CandidateApi.TwilioInboundFunction", "CandidateApi.TwilioStatusFunction"
TS = int(time.time()) - 3600
NAMES = ["processed", "delivered", "open", "click"]
FORGED = base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode()  # a well-formed DER signature (r=1, s=1)


def sent_message(tenant, to: str, provider_id: str) -> str:
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
    assert messages.mark_sent(claimed, provider="sendgrid", provider_message_id=provider_id, sent_at=clock.now(), event=ev)
    return msg.id


@pytest.fixture
def signing_key(tenant):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from parley.domain.auth import configure_tenant

    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    configure_tenant(tenant[0].id, webhook_public_key=base64.b64encode(der).decode())
    return private


def sign(private, raw: str) -> dict[str, str]:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    ts = str(int(time.time()))
    sig = private.sign(ts.encode() + raw.encode(), ec.ECDSA(hashes.SHA256()))
    return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode(), "X-Twilio-Email-Event-Webhook-Timestamp": ts}


def big_batch(mids: list[str], addresses: list[str], per_message: int) -> list[dict]:
    """SendGrid-shaped events: ``per_message`` per message (by sg_message_id for even messages, by our
    custom arg for odd ones), the last one of message 0 a hard bounce."""
    events = []
    for m, (mid, to) in enumerate(zip(mids, addresses, strict=True)):
        for n in range(per_message):
            name = "bounce" if (m == 0 and n == per_message - 1) else NAMES[n % 4]
            ev = {"email": to, "timestamp": TS + n, "event": name, "sg_event_id": f"ev-{m:02d}-{n:04d}", "category": ["interview"]}
            if m % 2:
                ev["parley_message_id"] = mid
            else:
                ev["sg_message_id"] = f"sg{m:02d}.filterdrecv-p3mdw1-756b745b58-kmzbl-18-5F5FC1BC-{n}.0"
            if name == "bounce":
                ev |= {"type": "bounce", "reason": "550 5.1.1 no such user"}
            events.append(ev)
    return events


def queued(aws, drain) -> list[dict]:
    arn = next(a for a in aws.queues if a.endswith("-ProviderEventsQueue"))
    return [_sqs_record(m, arn) for m in drain(aws.queues[arn])]


def provider_events(tenant_id: str, mids: list[str]) -> dict[str, tuple]:
    from parley.dal import messages

    out = {}
    for mid in mids:
        msg, events = messages.get_with_events(tenant_id, mid)
        out[mid] = (msg.delivery_status, sorted((e.event_id, e.event, e.created_ms) for e in events if e.event != "sent"))
    return out


@pytest.fixture
def world(tenant):
    t, _ = tenant
    addresses = [f"cand{i}@example.com" for i in range(20)]
    mids = [sent_message(t, to, f"sg{i:02d}") for i, to in enumerate(addresses)]
    return t, mids, addresses


def test_a_5000_event_batch_is_queued_in_chunks_under_the_sqs_limit_and_nothing_is_applied_yet(
    handler, world, signing_key, aws, drain, table_items
):
    t, mids, addresses = world
    raw = json.dumps(big_batch(mids, addresses, 250))
    assert len(raw) > 700_000
    before = len(table_items())
    started = time.monotonic()
    out = handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw, headers=sign(signing_key, raw)))
    elapsed = time.monotonic() - started
    assert out["statusCode"] == 200, out
    assert body(out) == {"status": 200}
    assert elapsed < 2.0, elapsed
    assert len(table_items()) == before  # verified and queued, not applied in the request

    records = queued(aws, drain)
    assert 2 <= len(records) <= 20
    assert all(len(r["body"].encode()) <= 256 * 1024 for r in records)
    chunks = [json.loads(r["body"]) for r in records]
    assert {(c["v"], c["kind"], c["tenant_id"]) for c in chunks} == {(1, "sendgrid", t.id)}
    keys = [e["dedupe_key"] for c in chunks for e in c["events"]]
    assert len(keys) == 5000 and len(set(keys)) == 5000


def test_bad_batches_queue_nothing(handler, world, signing_key, aws, drain):
    t, mids, addresses = world
    raw = json.dumps(big_batch(mids[:1], addresses[:1], 3))
    forged = {
        **sign(signing_key, raw),
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(b"\x30\x06\x02\x01\x01\x02\x01\x01").decode(),
    }
    assert handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw, headers=forged))["statusCode"] == 401
    bad = raw.replace('"event": "processed"', '"event": ""', 1)
    out = handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=bad, headers=sign(signing_key, bad)))
    assert out["statusCode"] == 400 and body(out) == {"status": 400, "message": "events[0]: event is required"}
    huge = json.dumps([{"event": "click", "email": "a@example.com", "timestamp": TS, "url": "https://x.example/" + "a" * 250_000}])
    out = handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=huge, headers=sign(signing_key, huge)))
    assert out["statusCode"] == 400 and body(out) == {"status": 400, "message": "events[0]: the event is too large"}
    assert queued(aws, drain) == []


def test_the_consumer_applies_every_event_once_and_a_redelivery_or_replay_changes_nothing(
    handler, world, signing_key, aws, drain, table_items
):
    from parley.dal import suppressions

    t, mids, addresses = world
    raw = json.dumps(big_batch(mids, addresses, 100))  # 2,000 events
    assert (
        handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw, headers=sign(signing_key, raw)))["statusCode"]
        == 200
    )
    records = queued(aws, drain)
    consumer = handler(CONSUMER)
    assert consumer({"Records": records}) == {"batchItemFailures": []}

    state = provider_events(t.id, mids)
    for m, mid in enumerate(mids):
        status, events = state[mid]
        assert len(events) == 100, (m, len(events))
        assert status == ("BOUNCED" if m == 0 else "CLICKED")
    assert suppressions.get(t.id, addresses[0]).reason == "bounce"
    assert all(suppressions.get(t.id, a) is None for a in addresses[1:])
    snapshot = sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items())

    # SQS redelivers the same messages (a consumer timed out after writing): nothing changes
    for r in records:
        r["attributes"]["ApproximateReceiveCount"] = "2"
    assert consumer({"Records": records}) == {"batchItemFailures": []}
    assert sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items()) == snapshot

    # SendGrid retries the whole batch (signed afresh): queued again, applied as duplicates
    assert (
        handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw, headers=sign(signing_key, raw)))["statusCode"]
        == 200
    )
    assert deliver_provider_events(handler) == []
    assert sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items()) == snapshot


def test_a_crash_between_the_activity_and_the_dedupe_writes_is_repaired_by_the_redelivery(
    handler, world, signing_key, aws, drain, table_items, monkeypatch
):
    """Activities are written before dedupe items: a consumer that dies after the first leaves nothing marked
    seen, the redelivery applies the chunk again, and the activity items (keyed by event) are not doubled."""
    from parley.dal import email_events as dal_events

    t, mids, addresses = world
    raw = json.dumps(big_batch(mids[:2], addresses[:2], 30))
    assert (
        handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw, headers=sign(signing_key, raw)))["statusCode"]
        == 200
    )
    records = queued(aws, drain)
    consumer = handler(CONSUMER)
    real = dal_events.table.batch_put
    calls = []

    def dies_on_the_dedupe_items(items):
        items = list(items)
        calls.append(items)
        if items and items[0].get("type") == "email_event":
            raise RuntimeError("the consumer died here")
        return real(items)

    monkeypatch.setattr(dal_events.table, "batch_put", dies_on_the_dedupe_items)
    with pytest.raises(Exception, match="All records failed"):  # every record failed: the invocation fails, SQS retries all
        consumer({"Records": records})
    monkeypatch.setattr(dal_events.table, "batch_put", real)
    assert not [i for i in table_items() if i.get("type") == "email_event"]
    assert consumer({"Records": records}) == {"batchItemFailures": []}
    state = provider_events(t.id, mids[:2])
    assert [len(events) for _, events in state.values()] == [30, 30]
    assert len([i for i in table_items() if i.get("type") == "email_event"]) == 60


def test_a_poisoned_record_is_the_only_batch_failure(handler, world, signing_key, aws, drain):
    t, mids, addresses = world
    raw = json.dumps(big_batch(mids[:2], addresses[:2], 4))
    assert (
        handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw, headers=sign(signing_key, raw)))["statusCode"]
        == 200
    )
    (good,) = queued(aws, drain)  # one chunk
    poisons = []
    bad = [
        "{not json",
        json.dumps({"v": 99, "kind": "sendgrid", "tenant_id": t.id}),
        json.dumps({"v": 1, "kind": "fax", "tenant_id": t.id}),
    ]
    for n, text in enumerate(bad):
        poisons.append({**copy.deepcopy(good), "messageId": f"poison-{n}", "body": text})
    out = handler(CONSUMER)({"Records": [poisons[0], good, *poisons[1:]]})
    assert out == {"batchItemFailures": [{"itemIdentifier": f"poison-{n}"} for n in range(3)]}
    (status, events) = provider_events(t.id, mids[1:2])[mids[1]]
    assert len(events) == 4 and status == "CLICKED"


def test_duplicates_within_a_chunk_and_across_chunks_are_recorded_once(handler, world, aws, drain):
    from parley.domain import provider_events as pe

    t, mids, addresses = world
    mid = mids[1]
    ev = {"event": "open", "email": addresses[1], "timestamp": TS, "sg_event_id": "dup-1", "parley_message_id": mid}
    raw = json.dumps([ev, ev, {**ev, "sg_event_id": "dup-2"}])
    assert handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw))["statusCode"] == 200
    (record,) = queued(aws, drain)
    assert json.loads(record["body"])["events"][0]["dedupe_key"] == "dup-1"
    # the same events split over two chunks of one batch (as a larger batch would be), plus a redelivered copy
    chunks = pe.sendgrid_chunks(t.id, pe.email_events.parse_sendgrid(raw.encode()))
    two = [{**copy.deepcopy(record), "messageId": f"m{n}", "body": c} for n, c in enumerate(chunks + chunks)]
    assert handler(CONSUMER)({"Records": [record, *two]}) == {"batchItemFailures": []}
    (_, events) = provider_events(t.id, [mid])[mid]
    assert [e[0] for e in events] == ["dup-1", "dup-2"]


def test_events_without_ids_are_deduplicated_by_batch_position(handler, world, aws, drain):
    """The seed's events without sg_event_id or timestamp: a retried batch (same body) adds nothing; two such
    identical events in one batch stay two events."""
    t, mids, addresses = world
    mid = mids[1]
    ev = {"event": "apply_click", "email": addresses[1], "category": [mid]}
    raw = json.dumps([ev, ev])
    for _ in range(2):
        assert handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw))["statusCode"] == 200
        assert deliver_provider_events(handler) == []
    (_, events) = provider_events(t.id, [mid])[mid]
    assert [e[1] for e in events] == ["apply_click", "apply_click"]


def test_an_overlong_message_id_does_not_poison_its_chunk(handler, world, aws, drain, monkeypatch):
    """A 3,000-character sg_message_id would be an invalid DynamoDB key (a partition key is at most 2,048 bytes;
    DynamoDB refuses the whole BatchGetItem, moto does not check): looked up, it would fail the whole chunk
    (500 events) until the DLQ. It is no provider's id: it is not looked up, the event is recorded unmatched."""
    t, mids, addresses = world
    good = {"event": "open", "email": addresses[1], "timestamp": TS, "sg_event_id": "ok-1", "parley_message_id": mids[1]}
    odd = {"event": "open", "email": addresses[2], "timestamp": TS, "sg_event_id": "odd-1", "sg_message_id": "x" * 3000}
    assert handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=[good, odd]))["statusCode"] == 200
    records = queued(aws, drain)
    consumer = handler(CONSUMER)
    from parley.dal import table

    ddb = table.ddb()
    original = ddb._make_api_call
    keys: list[str] = []

    def watching(operation, params):
        if operation == "BatchGetItem":
            keys.extend(k["PK"]["S"] for req in params["RequestItems"].values() for k in req["Keys"])
        return original(operation, params)

    monkeypatch.setattr(ddb, "_make_api_call", watching)
    assert consumer({"Records": records}) == {"batchItemFailures": []}
    assert keys and max(len(k.encode()) for k in keys) <= 2048
    (_, events) = provider_events(t.id, [mids[1]])[mids[1]]
    assert [e[0] for e in events] == ["ok-1"]


def test_the_consumer_batches_its_writes(handler, world, aws, drain, monkeypatch):
    """A chunk of 500 events about 5 messages: DynamoDB calls scale with the chunk / 25 (BatchWriteItem), not
    with the events (no transaction per event)."""
    t, mids, addresses = world
    raw = json.dumps(big_batch(mids[:5], addresses[:5], 100))
    assert handler(EVENTS)(api_event("candidate/receive_events", tenant_id=t.id, body=raw))["statusCode"] == 200
    (record,) = queued(aws, drain)
    consumer = handler(CONSUMER)

    from parley.dal import table

    ddb = table.ddb()
    calls: list[str] = []
    original = ddb._make_api_call

    def counting(operation, params):
        calls.append(operation)
        return original(operation, params)

    monkeypatch.setattr(ddb, "_make_api_call", counting)
    assert consumer({"Records": [record]}) == {"batchItemFailures": []}
    assert "TransactWriteItems" not in calls and "PutItem" in calls  # the one bounce's suppression entry
    assert calls.count("BatchWriteItem") == 40  # 500 activity events + 500 dedupe items, 25 per call
    assert calls.count("UpdateItem") == 5  # one delivery-state update per message
    assert len(calls) <= 60, sorted(set(calls))


# ───────────── Twilio ─────────────
TOKEN = "auth-token-of-acme"
HOST = "abcdefghijklmnopqrstuvwxyz012345.lambda-url.us-east-1.on.aws"
PHONE, OUR_NUMBER = "+15555550123", "+15555550100"


def _twilio(name: str, tenant_id: str, params: dict[str, str]) -> dict:
    event = copy.deepcopy(load_event(f"candidate/{name}"))
    event["rawQueryString"] = f"tenant={tenant_id}"
    event["queryStringParameters"] = {"tenant": tenant_id}
    event["body"] = base64.b64encode(urlencode(params).encode()).decode()
    event["isBase64Encoded"] = True
    event["headers"]["x-twilio-signature"] = RequestValidator(TOKEN).compute_signature(f"https://{HOST}/?tenant={tenant_id}", params)
    return event


def test_twilio_webhooks_are_queued_then_applied_stop_included(handler, tenant, aws, drain, table_items):
    from parley.dal import messages, optins
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    t, _ = tenant
    put_tenant_secret(f"parley/{t.id}", {"twilio_account_sid": "AC0123", "twilio_auth_token": TOKEN})
    configure_tenant(t.id, secret_name=f"parley/{t.id}")
    sid = "SM" + "9" * 32
    stop = {"MessageSid": sid, "From": PHONE, "To": OUR_NUMBER, "Body": "STOP", "AccountSid": "AC0123"}
    out = handler(INBOUND)(_twilio("twilio_inbound", t.id, stop))
    assert out["statusCode"] == 200 and out["body"] == '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
    assert out["headers"]["Content-Type"] == "text/xml"
    assert messages.find_by_provider_id(t.id, "twilio", sid) is None  # queued, not stored in the request
    status = {"MessageSid": sid, "MessageStatus": "delivered"}  # a callback for an SID we do not know: acknowledged
    assert handler(STATUS)(_twilio("twilio_status", t.id, status))["statusCode"] == 204
    bad = handler(STATUS)(_twilio("twilio_status", t.id, {"MessageSid": sid}))  # checked before it is queued
    assert bad["statusCode"] == 400 and body(bad) == {"status": 400, "message": "missing form parameters: MessageStatus"}

    records = queued(aws, drain)
    assert [json.loads(r["body"])["kind"] for r in records] == ["twilio_inbound", "twilio_status"]
    consumer = handler(CONSUMER)
    assert consumer({"Records": records}) == {"batchItemFailures": []}
    mid = messages.find_by_provider_id(t.id, "twilio", sid)
    assert mid and messages.get(t.id, mid).body == "STOP"
    assert optins.get_state(t.id, PHONE)["opted_in"] is False
    before = sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items())
    assert consumer({"Records": records}) == {"batchItemFailures": []}  # redelivered: stored once
    assert sorted(json.dumps(i, sort_keys=True, default=str) for i in table_items()) == before


def test_sample_event_is_processed(handler, tenant):
    out = handler(CONSUMER)(load_event("core/provider_events"))
    # tenant-example has no messages: the SendGrid chunk is recorded unmatched and the inbound SMS stored under it
    assert out == {"batchItemFailures": []}
