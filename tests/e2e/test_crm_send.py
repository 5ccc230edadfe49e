"""The CRM send side over HTTP against the local stack: POST /send, /send-template/{templateId}, /schedule,
GET /scheduled, POST /{id}/cancel, POST /{id}/resend: the seed's record shape, what is stored (read through
``emulator_env``), what the stack's dispatcher sends (the outbox), and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests
from crm_shapes import RECORD_KEYS

BASE = "/api/v1/communications"


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "X-User-ID": "user-7", **extra}


def post(local, key: str, path: str, payload=None, **headers: str) -> requests.Response:
    return requests.post(local.api + BASE + path, json=payload, headers=auth(key, **headers), timeout=30)


def get(local, key: str, path: str) -> requests.Response:
    return requests.get(local.api + BASE + path, headers=auth(key), timeout=30)


def addr(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def emails_to(local, address: str) -> list[dict]:
    return [m for m in local.outbox()["email"] if address in ((m["destinations"] or {}).get("ToAddresses") or [])]


def assert_error(res: requests.Response, status: int) -> dict:
    assert res.status_code == status, res.text
    err = res.json()
    assert set(err) == {"title", "detail", "time"}
    return err


def wait_status(local, key: str, message_id: str, status: str, timeout: float = 10) -> dict:
    def current():
        res = get(local, key, f"/find/{message_id}")
        assert res.status_code == 200, res.text
        rec = res.json()
        return rec if rec["status"] == status else None

    rec = local.wait_for(current, timeout=timeout, interval=0.2)
    assert rec, f"{message_id} did not become {status}"
    return rec


@pytest.fixture
def crm(local, emulator_env):
    return local.new_tenant(f"crm-send-{uuid.uuid4().hex[:6]}")


def test_send_is_accepted_pending_stored_and_sent_by_the_stack(local, crm):
    from parley.dal import messages

    key = crm["apiKey"]
    to, cc, bcc = addr("to"), addr("cc"), addr("bcc")
    payload = {
        "subject": "Your quote",
        "body": '<p>Hello, see <a href="https://example.com/quote/42">your quote</a>.</p>',
        "recipients": [to],
        "cc": [cc],
        "bcc": [bcc],
        "type": "OFFERTE",
        "relatedEntityType": "deal",
        "relatedEntityId": "42",
        "trackingEnabled": True,
        "linkTrackingEnabled": True,
    }
    res = post(local, key, "/send", payload)
    assert res.status_code == 200, res.text
    rec = res.json()
    assert set(rec) == RECORD_KEYS
    assert rec["status"] == "PENDING"
    assert (rec["recipients"], rec["cc"], rec["bcc"]) == ([to], [cc], [bcc])
    assert rec["originalBody"] == payload["body"]
    assert rec["createdBy"] == "user-7" and rec["tenantId"] == crm["tenantId"]
    token_url = rec["clickedLinks"][0]["url"]
    assert token_url.startswith(local.api + BASE + "/link/") and token_url.endswith("/0")
    assert token_url in rec["body"]

    stored = messages.get(crm["tenantId"], rec["id"])
    assert stored.source_api == "crm" and stored.category == "OFFERTE" and stored.original_body == payload["body"]
    assert stored.track_token and stored.track_token in token_url

    (sent,) = local.wait_for(lambda: emails_to(local, to), timeout=10)
    assert sent["destinations"]["CcAddresses"] == [cc] and sent["destinations"]["BccAddresses"] == [bcc]
    assert token_url in sent["body"] and "https://example.com/quote/42" not in sent["body"]

    final = wait_status(local, key, rec["id"], "SENT")
    assert final["messageId"] == sent["id"] and final["sentAt"] is not None
    assert [e["type"] for e in final["events"]] == ["CREATE", "STATUS_CHANGE"]
    assert messages.get(crm["tenantId"], rec["id"]).status.value == "SENT"


def test_send_template_renders_the_tenants_template(local, crm):
    from parley.dal import messages

    key = crm["apiKey"]
    template = {
        "name": "Quote",
        "subject": "Quote for {{firstName}}",
        "bodyHtml": "<p>Dear {{firstName}}: {{amount}}</p>",
        "type": "OFFERTE",
    }
    res = post(local, key, "/templates", template)
    assert res.status_code in (200, 201), res.text
    template_id = res.json()["id"]
    to = addr("tpl")

    res = post(local, key, f"/send-template/{template_id}", {"recipients": [to], "variables": {"firstName": "Jan", "amount": "€ 1.200"}})
    assert res.status_code == 200, res.text
    rec = res.json()
    assert set(rec) == RECORD_KEYS
    assert (rec["subject"], rec["body"]) == ("Quote for Jan", "<p>Dear Jan: € 1.200</p>")
    assert (rec["templateId"], rec["templateName"], rec["type"], rec["status"]) == (template_id, "Quote", "OFFERTE", "PENDING")
    stored = messages.get(crm["tenantId"], rec["id"])
    assert (stored.template_id, stored.template_name, stored.variables) == (template_id, "Quote", {"firstName": "Jan", "amount": "€ 1.200"})
    (sent,) = local.wait_for(lambda: emails_to(local, to), timeout=10)
    assert sent["subject"] == "Quote for Jan"

    missing = assert_error(post(local, key, f"/send-template/{template_id}", {"recipients": [to], "variables": {"firstName": "Jan"}}), 400)
    assert "amount" in missing["detail"]
    assert_error(post(local, key, "/send-template/no-such-template", {"recipients": [to]}), 404)
    other = local.new_tenant("other")
    foreign = post(
        local, other["apiKey"], f"/send-template/{template_id}", {"recipients": [to], "variables": {"firstName": "J", "amount": 1}}
    )
    assert_error(foreign, 404)


def test_schedule_lists_cancels_and_isolates_tenants(local, crm):
    from parley.dal import messages

    key = crm["apiKey"]
    at = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    payload = {"subject": "Reminder", "body": "Your appointment.", "recipients": [addr("sch")], "scheduledAt": at.isoformat(),
               "timeZone": "Europe/Amsterdam"}  # fmt: skip
    res = post(local, key, "/schedule", payload)
    assert res.status_code == 200, res.text
    rec = res.json()
    assert set(rec) == RECORD_KEYS
    assert rec["status"] == "SCHEDULED" and rec["scheduledAt"] == at.strftime("%Y-%m-%dT%H:%M:%S.000Z") and rec["sentAt"] is None
    stored = messages.get(crm["tenantId"], rec["id"])
    assert stored.status.value == "SCHEDULED" and stored.scheduled_tz == "Europe/Amsterdam" and stored.scheduled_at == at

    listed = get(local, key, "/scheduled")
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()] == [rec["id"]]
    assert set(listed.json()[0]) == RECORD_KEYS

    other = local.new_tenant("other")
    assert get(local, other["apiKey"], "/scheduled").json() == []
    assert_error(post(local, other["apiKey"], f"/{rec['id']}/cancel"), 404)
    assert messages.get(crm["tenantId"], rec["id"]).status.value == "SCHEDULED"

    res = post(local, key, f"/{rec['id']}/cancel")
    assert res.status_code == 200, res.text
    cancelled = res.json()
    assert set(cancelled) == RECORD_KEYS
    assert cancelled["status"] == "CANCELLED" and cancelled["updatedBy"] == "user-7"
    assert [e["type"] for e in cancelled["events"]] == ["CREATE", "STATUS_CHANGE"]
    assert messages.get(crm["tenantId"], rec["id"]).status.value == "CANCELLED"
    assert get(local, key, "/scheduled").json() == []
    again = assert_error(post(local, key, f"/{rec['id']}/cancel"), 400)
    assert again["detail"] == f"communication {rec['id']} is CANCELLED; only a scheduled email can be cancelled"

    past = assert_error(post(local, key, "/schedule", {**payload, "scheduledAt": "2020-01-01T00:00:00Z"}), 400)
    assert "future" in past["detail"]
    assert_error(post(local, key, "/schedule", {**payload, "timeZone": "Nowhere/Special"}), 400)
    assert get(local, key, "/scheduled").json() == []


def test_resend_makes_a_new_record_in_the_conversation_and_sends_again(local, crm):
    from parley.dal import messages

    key = crm["apiKey"]
    to = addr("resend")
    rec = post(local, key, "/send", {"subject": "Offer", "body": "Our offer.", "recipients": [to], "type": "OFFERTE"}).json()
    wait_status(local, key, rec["id"], "SENT")
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    scheduled = post(local, key, "/schedule", {"subject": "Later", "body": "b", "recipients": [addr("later")], "scheduledAt": later}).json()
    refused = assert_error(post(local, key, f"/{scheduled['id']}/resend"), 400)
    assert refused["detail"] == f"communication {scheduled['id']} is SCHEDULED; only a SENT or FAILED email can be resent"

    other = local.new_tenant("other")
    assert_error(post(local, other["apiKey"], f"/{rec['id']}/resend"), 404)
    assert_error(post(local, key, "/no-such-id/resend"), 404)

    res = post(local, key, f"/{rec['id']}/resend")
    assert res.status_code == 200, res.text
    new = res.json()
    assert set(new) == RECORD_KEYS
    assert new["id"] != rec["id"] and new["conversationId"] == rec["conversationId"] and new["status"] == "PENDING"
    assert (new["subject"], new["body"], new["recipients"], new["type"]) == ("Offer", "Our offer.", [to], "OFFERTE")
    assert messages.get(crm["tenantId"], new["id"]).parent_id == rec["id"]

    assert len(local.wait_for(lambda: len(emails_to(local, to)) == 2 and emails_to(local, to), timeout=10)) == 2
    wait_status(local, key, new["id"], "SENT")
    original = get(local, key, f"/find/{rec['id']}").json()
    assert [e["type"] for e in original["events"]] == ["CREATE", "STATUS_CHANGE", "RESEND"]
    assert original["events"][-1]["description"] == f"Resent as {new['id']}"


def test_refusals_store_and_send_nothing(local, crm):
    from parley import clock
    from parley.dal import records, suppressions
    from parley.models.email_events import Suppression

    key = crm["apiKey"]
    gone = addr("gone")
    suppressions.add(Suppression(tenant_id=crm["tenantId"], address=gone, reason="bounce", created_at=clock.now()))
    ok = addr("ok")
    refused = assert_error(post(local, key, "/send", {"subject": "Hi", "body": "b", "recipients": [ok], "bcc": [gone]}), 400)
    assert gone in refused["detail"]
    injected = assert_error(post(local, key, "/send", {"subject": "Hi\r\nBcc: x@evil.example", "body": "b", "recipients": [ok]}), 400)
    assert "subject" in injected["detail"]
    too_many = {"subject": "Hi", "body": "b", "recipients": [addr(f"r{i}") for i in range(26)], "cc": [addr(f"c{i}") for i in range(25)]}
    assert "at most 50" in assert_error(post(local, key, "/send", too_many), 400)["detail"]
    assert_error(post(local, key, "/send", {"subject": "Hi", "body": "b", "recipients": ["nope"]}), 400)
    assert_error(post(local, key, "/send", {"subject": "Hi", "body": "b", "recipients": [ok]}, **{"X-Tenant-ID": "someone-else"}), 403)
    local.wait_for(lambda: emails_to(local, ok), timeout=1.5)
    assert emails_to(local, ok) == []
    for status in ("QUEUED", "SENDING", "SENT", "FAILED", "SCHEDULED"):
        assert records.by_status(crm["tenantId"], status) == []


def test_idempotency_key_sends_once(local, crm):
    key = crm["apiKey"]
    to = addr("idem")
    payload = {"subject": "Once", "body": "only once", "recipients": [to]}
    idem = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    first, second = post(local, key, "/send", payload, **idem), post(local, key, "/send", payload, **idem)
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    assert local.wait_for(lambda: emails_to(local, to), timeout=10)
    local.wait_for(lambda: len(emails_to(local, to)) > 1, timeout=2)
    assert len(emails_to(local, to)) == 1
    assert_error(post(local, key, "/send", {**payload, "subject": "Changed"}, **idem), 422)
