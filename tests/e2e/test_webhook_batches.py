"""Issue 11: a SendGrid Event Webhook batch at SendGrid's batch size, signed as SendGrid signs it, over HTTP
against the local stack: answered 2xx within the provider's timeout (well under 2 s here), then every event
applied once, asynchronously (provider events queue → ProviderEventsFunction), and a replay changes nothing.
"""

from __future__ import annotations

import base64
import json
import time
import uuid

import requests

SEND = "/communications/email/v1/send"
EVENTS = "/communications/email/v1/events"
MESSAGES = 20
PER_MESSAGE = 250  # 20 x 250 = 5,000 events
NAMES = ["processed", "delivered", "open", "click"]
TS = int(time.time()) - 3600


def _hdrs(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "x-ph-userid": "recruiter-11", "Content-Type": "application/json"}


def _batch(mids: list[str], addresses: list[str], tag: str) -> list[dict]:
    """5,000 events as SendGrid posts them (its field names; our message id as a custom arg, which SendGrid
    puts at the top level): 250 per message, the last event of the first 5 messages a hard bounce (→ the
    suppression list)."""
    events = []
    for m, (mid, to) in enumerate(zip(mids, addresses, strict=True)):
        for n in range(PER_MESSAGE):
            name = NAMES[n % len(NAMES)]
            if m < 5 and n == PER_MESSAGE - 1:
                name = "bounce"
            event = {"email": to, "timestamp": TS + n, "event": name, "sg_event_id": f"{tag}{m:02d}{n:04d}", "parley_message_id": mid}
            if name == "bounce":
                event |= {"type": "bounce", "reason": "550 5.1.1 no such user"}
            events.append(event)
    return events


def _configure_key(local, tenant_id: str):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = requests.post(
        f"{local.api}/_local/tenant-settings",
        json={"tenantId": tenant_id, "settings": {"webhook_public_key": base64.b64encode(der).decode()}},
        timeout=10,
    )
    assert out.status_code == 200, out.text
    return private


def _sign(private, raw: bytes) -> dict[str, str]:
    """SendGrid's signed Event Webhook: ECDSA P-256/SHA-256 over timestamp + raw body."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    ts = str(int(time.time()))
    sig = private.sign(ts.encode() + raw, ec.ECDSA(hashes.SHA256()))
    return {"X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(sig).decode(), "X-Twilio-Email-Event-Webhook-Timestamp": ts}


def _stored(tenant_id: str, mids: list[str]) -> dict:
    """What the table holds for those messages: per message the provider events and the delivery state."""
    from parley.dal import messages

    out = {}
    for mid in mids:
        msg, events = messages.get_with_events(tenant_id, mid)
        provider = sorted((e.event_id, e.event, e.created_ms) for e in events if e.event != "sent")
        out[mid] = (msg.delivery_status, provider)
    return out


def test_a_signed_5000_event_batch_is_answered_fast_and_applied_once(emulator_env):
    from parley.dal import suppressions

    local = emulator_env
    tenant = local.new_tenant("webhook batch")
    tid, key = tenant["tenantId"], tenant["apiKey"]
    addresses = [f"c{uuid.uuid4().hex[:6]}{i:02d}@ex.com" for i in range(MESSAGES)]
    mids = []
    for to in addresses:
        mail = {"toEmail": to, "subject": "Interview", "emailContent": "Hello there"}
        out = requests.post(local.api + SEND, json=mail, headers=_hdrs(key), timeout=30)
        assert out.status_code == 200, out.text
        mids.append(out.json()["data"]["emailActivityId"])
    private = _configure_key(local, tid)

    raw = json.dumps(_batch(mids, addresses, "e11"), separators=(",", ":")).encode()
    assert 700_000 <= len(raw) <= 768 * 1024, len(raw)  # SendGrid's own batch size
    headers = {**_hdrs(key), **_sign(private, raw)}
    requests.post(local.api + EVENTS, data=b"[]", headers=_hdrs(key), timeout=30)  # a warm worker, as a steady webhook has
    started = time.monotonic()
    out = requests.post(local.api + EVENTS, data=raw, headers=headers, timeout=30)
    elapsed = time.monotonic() - started
    assert out.status_code == 200, out.text
    assert out.json() == {"status": 200}
    assert elapsed < 2.0, f"answered after {elapsed:.2f} s"

    def applied():
        state = _stored(tid, mids)
        return state if all(len(events) == PER_MESSAGE for _, events in state.values()) else None

    state = local.wait_for(applied, timeout=180, interval=1.0)
    assert state, {mid: len(events) for mid, (_, events) in _stored(tid, mids).items()}
    for m, mid in enumerate(mids):
        status, events = state[mid]
        assert status == ("BOUNCED" if m < 5 else "CLICKED")  # forward-only: the highest state each message reached
        assert len({e[0] for e in events}) == PER_MESSAGE  # each sg_event_id once
    for m, to in enumerate(addresses):
        entry = suppressions.get(tid, to)
        assert (entry.reason if entry else None) == ("bounce" if m < 5 else None)

    # SendGrid retries the batch (e.g. it did not see our answer): answered as fast, nothing changes
    headers = {**_hdrs(key), **_sign(private, raw)}
    started = time.monotonic()
    again = requests.post(local.api + EVENTS, data=raw, headers=headers, timeout=30)
    assert again.status_code == 200 and time.monotonic() - started < 2.0
    time.sleep(1)

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # the replay's chunks are consumed (each a duplicate) once the queue is empty
        if _queue_empty(local):
            break
        time.sleep(0.5)
    assert _queue_empty(local)
    assert _stored(tid, mids) == state


def _queue_empty(local) -> bool:
    from parley.dal.aws import client

    sqs = client("sqs")
    url = next(u for u in sqs.list_queues()["QueueUrls"] if u.endswith("-ProviderEventsQueue"))
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])[
        "Attributes"
    ]
    return attrs["ApproximateNumberOfMessages"] == "0" and attrs["ApproximateNumberOfMessagesNotVisible"] == "0"
