"""Provider events queue: how a SendGrid batch is cut into queue messages, and how those are packed into
SendMessageBatch calls, against SQS's limits (256 KiB per message and per call, 10 entries per call)."""

from __future__ import annotations

import json

import pytest

from parley.dal import provider_events as dal
from parley.domain import provider_events
from parley.errors import BadRequest
from parley.models.email_events import EmailEvent


def event(n: int, response: str = "") -> EmailEvent:
    return EmailEvent(
        provider="sendgrid",
        event="open",
        email=f"c{n}@example.com",
        created_ms=1_700_000_000_000 + n,
        dedupe_key=f"ev-{n}",
        response=response,
        parley_message_id="m-1",
        categories=("a", "b"),
        suppress_addresses=(),
    )


def test_chunks_respect_the_event_count_and_byte_limits_and_round_trip():
    events = [event(n) for n in range(1234)]
    chunks = provider_events.sendgrid_chunks("t-1", events)
    assert [len(json.loads(c)["events"]) for c in chunks] == [500, 500, 234]
    assert all(len(c.encode()) <= provider_events.CHUNK_BYTES for c in chunks)
    decoded = [provider_events._decode(e) for c in chunks for e in json.loads(c)["events"]]
    assert decoded == events  # tuples, defaults and all

    big = [event(n, response="x" * 10_000) for n in range(50)]
    chunks = provider_events.sendgrid_chunks("t-1", big)
    assert len(chunks) == 3 and all(len(c.encode()) <= provider_events.CHUNK_BYTES for c in chunks)
    assert sum(len(json.loads(c)["events"]) for c in chunks) == 50


def test_non_ascii_is_escaped_and_counted_as_sent():
    events = [event(n, response="é" * 20_000) for n in range(3)]  # 6 bytes per char once escaped
    chunks = provider_events.sendgrid_chunks("t-1", events)
    assert all(c.isascii() and len(c.encode()) <= provider_events.CHUNK_BYTES for c in chunks)
    assert [provider_events._decode(e).response for c in chunks for e in json.loads(c)["events"]] == ["é" * 20_000] * 3


def test_an_event_too_large_for_a_message_is_refused():
    with pytest.raises(BadRequest, match=r"events\[1\]: the event is too large"):
        provider_events.sendgrid_chunks("t-1", [event(0), event(1, response="x" * 250_000)])


def test_send_message_batch_packing():
    bodies = ["a" * 100_000, "b" * 100_000, "c" * 100_000, *(["d"] * 25)]
    batches = dal._batches(bodies)
    assert [len(b) for b in batches] == [2, 10, 10, 6]  # a+b | c + 9 d | 10 d | 6 d
    assert all(sum(len(x) for x in b) <= dal.MAX_BATCH_BYTES and len(b) <= 10 for b in batches)
    assert [x for b in batches for x in b] == bodies
    with pytest.raises(ValueError, match="exceeds"):
        dal._batches(["x" * (256 * 1024 + 1)])
