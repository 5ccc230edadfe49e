"""Provider webhooks, verified then applied asynchronously: the provider events queue.

A webhook handler verifies the request (SendGrid's ECDSA signature, Twilio's X-Twilio-Signature),
validates it, queues it here and answers at once, well inside the provider's timeout whatever the
batch size. ``ProviderEventsFunction`` applies each queued message (``apply``).

Messages (JSON, one SQS message each, at most 256 KiB):
- ``{"v": 1, "kind": "sendgrid", "tenant_id": …, "events": [EmailEvent, …]}``: a chunk of a SendGrid
  Event Webhook batch, already parsed and normalised (a 768 KB batch does not fit one SQS message, so
  it is split into chunks of at most ``CHUNK_EVENTS`` events and ``CHUNK_BYTES`` bytes);
- ``{"v": 1, "kind": "twilio_inbound" | "twilio_status", "tenant_id": …, "form": {name: [values]}}``.

Applying is idempotent, so an SQS redelivery or a provider's retry of a whole webhook changes
nothing: SendGrid events are deduplicated per event id (``email_events.apply_many``), an inbound SMS
is stored once per MessageSid, a status callback only moves a message's delivery state forward.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from parley.dal import provider_events as queue
from parley.domain import email_events, sms_webhooks
from parley.errors import BadRequest
from parley.models.email_events import EmailEvent

VERSION = 1
CHUNK_EVENTS = 500
CHUNK_BYTES = 200_000  # under SQS's 256 KiB with room for the envelope
SENDGRID, TWILIO_INBOUND, TWILIO_STATUS = "sendgrid", "twilio_inbound", "twilio_status"
_TUPLES = ("categories", "suppress_addresses")


def _encode(ev: EmailEvent) -> str:
    return json.dumps({k: v for k, v in asdict(ev).items() if v not in (None, "", ())}, separators=(",", ":"))


def _decode(item: dict[str, Any]) -> EmailEvent:
    return EmailEvent(**{k: tuple(v) if k in _TUPLES else v for k, v in item.items()})


def _envelope(kind: str, tenant_id: str, **payload: Any) -> str:
    return json.dumps({"v": VERSION, "kind": kind, "tenant_id": tenant_id, **payload}, separators=(",", ":"))


def sendgrid_chunks(tenant_id: str, events: list[EmailEvent]) -> list[str]:
    """The queue messages for a verified SendGrid batch: chunks of at most CHUNK_EVENTS events / CHUNK_BYTES."""
    head = _envelope(SENDGRID, tenant_id, events=[]).removesuffix("[]}")  # '{"v":1,…,"events":'
    chunks: list[str] = []
    current: list[str] = []
    size = len(head) + 3
    for n, ev in enumerate(events):
        encoded = _encode(ev)
        if len(encoded.encode("utf-8")) + len(head) + 3 > CHUNK_BYTES:
            raise BadRequest(f"events[{n}]: the event is too large")
        grow = len(encoded.encode("utf-8")) + 1
        if current and (len(current) >= CHUNK_EVENTS or size + grow > CHUNK_BYTES):
            chunks.append(head + "[" + ",".join(current) + "]}")
            current, size = [], len(head) + 3
        current.append(encoded)
        size += grow
    if current:
        chunks.append(head + "[" + ",".join(current) + "]}")
    return chunks


def queue_sendgrid(tenant_id: str, events: list[EmailEvent]) -> int:
    """Queue a verified, validated SendGrid batch; returns the number of queue messages (chunks)."""
    chunks = sendgrid_chunks(tenant_id, events)
    queue.send(chunks)
    return len(chunks)


def queue_twilio(kind: str, tenant_id: str, form: dict[str, list[str]]) -> None:
    """Queue a verified Twilio webhook (its form, every value a list, as received)."""
    if kind not in (TWILIO_INBOUND, TWILIO_STATUS):
        raise ValueError(f"unknown Twilio webhook kind {kind!r}")
    queue.send([_envelope(kind, tenant_id, form=dict(form))])


def apply(body: str) -> dict[str, Any]:
    """Apply one queue message; returns what happened (for the log). Raises on a malformed message (a batch
    item failure: retried, then the DLQ) and on storage errors (retried; applying again is idempotent)."""
    message = json.loads(body)
    if not isinstance(message, dict) or message.get("v") != VERSION or not message.get("tenant_id"):
        raise ValueError("not a provider events message")
    kind, tenant_id = message.get("kind"), str(message["tenant_id"])
    if kind == SENDGRID:
        events = [_decode(item) for item in message["events"]]
        counts = {"recorded": 0, "duplicate": 0, "unmatched": 0}
        for result in email_events.apply_many(tenant_id, events):
            counts[result] += 1
        return {"kind": kind, "tenant_id": tenant_id, **counts}
    if kind in (TWILIO_INBOUND, TWILIO_STATUS):
        form = sms_webhooks.Form({str(k): [str(v) for v in vs] for k, vs in message["form"].items()})
        if kind == TWILIO_INBOUND:
            inbound = sms_webhooks.receive_sms(tenant_id, form)
            return {"kind": kind, "tenant_id": tenant_id, "message_id": inbound.message_id, "new": inbound.created}
        outcome = sms_webhooks.apply_status(tenant_id, form)
        return {"kind": kind, "tenant_id": tenant_id, "result": outcome.result, "message_id": outcome.message_id}
    raise ValueError(f"unknown provider events kind {kind!r}")
