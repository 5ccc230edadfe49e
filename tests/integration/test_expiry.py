"""Retention in the table (docs/data-model.md "Expiry"): the item types that should expire carry ``ttl`` (epoch
seconds, the attribute the table's TTL reads: tests/infra/test_operations.py) within their horizon; the others
(messages, their events, tenants, keys, opt-ins, suppressions, tallies, …) carry none."""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from helpers import api_event, body, load_event

DAY = 86400
# what expires, recognised in a table scan, and how long it lives
EXPIRING = {
    "idempotency record": DAY,  # IDEMPOTENCY_TTL_SECONDS
    "email_event": 30 * DAY,  # provider event dedupe keys (providers retry for a few days)
    "inbound_receipt": 90 * DAY,
    "tally SEEN marker": 2 * DAY,  # outlives the stream's 24 h
    "dead_letter": 15 * DAY,  # a day more than the DLQs keep a message
    "body_intent": 7 * DAY,
    "send_window": 2 * DAY,  # the per-tenant limits' day window: until the end of the next UTC day
    "pace": 7 * DAY,  # the dispatcher's send slots of a tenant (refreshed with each reservation)
    "sniffer": 14 * DAY,  # a courier sniffer: valid-until (≤ 7 days) + the 7 days its logs are kept
    "sniffer_log": 7 * DAY,  # what a sniffer recorded
    "user_email_attachment": 15 * 60 + DAY,  # pending only: its upload ticket (15 min) and a day (a ready one keeps none)
    "ws_connection": 2 * 3600 + 300,  # a live-update WebSocket connection: API Gateway ends it within 2 h
    "ws_connection_pointer": 2 * 3600 + 300,
}


def _kind(item: dict[str, Any]) -> str:
    if item["PK"].endswith("#IDEMPOTENCY"):
        return "idempotency record"
    if item["PK"].startswith("TALLY#SEEN#"):
        return "tally SEEN marker"
    return str(item.get("type") or item["PK"].split("#")[0])


def test_every_item_type_that_should_expire_has_a_ttl_and_no_other_does(handler, tenant, table_items, monkeypatch):
    from parley import clock
    from parley.dal import bodies, body_intents, email_events, inbound_mail, limits

    t, _ = tenant
    # a send with an Idempotency-Key (its record; the stream consumer's tally markers)
    out = handler("CandidateApi.SendEmailFunction")(
        api_event("candidate/send_email", tenant_id=t.id, headers={"Idempotency-Key": "expiry-1"}, body={
            "subject": "Your interview", "emailContent": "Hi, see you on Tuesday.", "toEmail": "ada@example.com"})
    )  # fmt: skip
    assert out["statusCode"] == 200, out
    message_id = body(out)["data"]["emailActivityId"]
    # a provider event's dedupe key, a received mail not stored as a message, a body write intent
    email_events.record(t.id, provider="ses", event_key="evt-1", summary={"event": "delivered"}, activity=None)
    inbound_mail.record_receipt(t.id, "<m-1@example.com>", "unmatched")
    body_intents.record(t.id, "m-x", bodies.key_for(t.id, "m-x"))
    # a courier email attachment whose upload was never processed (pending), of a draft user-email
    from parley.domain import directory as courier_directory

    lines = [
        {"type": "organizations", "id": "o-1", "attributes": {}},
        {"type": "individuals", "id": "i-1", "attributes": {"owner-id": "u-1"}},
        {"type": "users", "id": "u-1", "attributes": {"primary-individual-id": "i-1"}},
    ]
    courier_directory.import_lines(t.id, [json.dumps({**line, "last-sync-time": "2026-11-01T09:00:00Z"}) for line in lines])
    draft = {
        "data": {
            "type": "user-emails",
            "attributes": {"to": "pat@example.com", "subject": "Hi", "message": "Hello", "sender-organization-id": "o-1"},
        }
    }
    out = handler("CourierEmailApi.CreateUserEmailFunction")(
        api_event("courier_email/create_user_email", tenant_id=t.id, body=draft, headers={"X-User-ID": "u-1", "Idempotency-Key": None})
    )
    assert out["statusCode"] == 201, out
    attachment = {
        "type": "user-email-attachments",
        "attributes": {"content-type": "text/plain", "email-id": body(out)["data"]["id"], "filename": "a.txt"},
    }
    out = handler("CourierEmailApi.CreateUserEmailAttachmentFunction")(
        api_event("courier_email/create_user_email_attachment", tenant_id=t.id, body={"data": attachment})
    )
    assert out["statusCode"] == 201, out
    # the dispatcher's send slots of the tenant (the send above opened its send window)
    limits.reserve(t.id, 1, interval_us=100_000, now_us=int(clock.now().timestamp() * 1_000_000))
    # a consumer's last receive failing: why, kept
    record = copy.deepcopy(load_event("core/provider_events")["Records"][0]) | {"body": "{}"}
    record["attributes"]["ApproximateReceiveCount"] = "5"
    with pytest.raises(BatchProcessingError):
        handler("root.ProviderEventsFunction")({"Records": [record]})
    # a courier sniffer of a directory user, and one request of that user it recorded
    from parley.domain import sniffers
    from parley.domain.context import Caller
    from parley.models.sniffers import NewSnifferAttributes

    until = clock.iso(clock.now() + timedelta(days=7))
    sniffers.create(t.id, NewSnifferAttributes(user_id="u-1", valid_until=until))
    from parley.dal import tenants

    context = Caller.of(tenants.get(t.id)).authorizer_context()
    event = {"requestContext": {"authorizer": context}, "headers": {"X-User-ID": "u-1"}, "path": "/v1/users/u-1", "httpMethod": "GET"}
    sniffers.record(event, sniffers.before(event), {"statusCode": 200, "body": "{}"})

    # a live-update WebSocket connection (its two items)
    from parley.domain import live

    live.open_connection(live.Listener(tenant_id=t.id, individual_id="i-1", user_id="u-1"), "conn-1=")

    now = int(clock.now().timestamp())
    items = table_items()
    kinds = {_kind(i) for i in items}
    assert set(EXPIRING) <= kinds, f"not exercised: {set(EXPIRING) - kinds}"
    assert {"message", "tenant", "api_key"} <= kinds
    for item in items:
        kind = _kind(item)
        if kind in EXPIRING:
            assert isinstance(item.get("ttl"), int), item
            assert 0 < item["ttl"] - now <= EXPIRING[kind], (kind, item["ttl"] - now)
        else:
            assert "ttl" not in item, f"{kind} {item['PK']} expires: add it to docs/data-model.md and to EXPIRING"
    assert any(i.get("id") == message_id for i in items)
