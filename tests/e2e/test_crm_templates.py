"""CRM email templates over HTTP against the local stack: CRUD, tenant isolation, and sending one
(POST /api/v1/communications/send-template/{templateId}) with variables."""

from __future__ import annotations

import uuid

import requests

BASE = "/api/v1/communications"
TEMPLATES = f"{BASE}/templates"


def headers(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json", **extra}


def emails_to(local, address):
    return [m for m in local.outbox()["email"] if address in (m["destinations"] or {}).get("ToAddresses", [])]


def test_template_crud_over_http_with_stored_state_and_tenant_isolation(local, emulator_env):
    from parley.dal import keys, table
    from parley.dal import templates as store

    owner, stranger = local.new_tenant("templates-owner"), local.new_tenant("templates-stranger")
    key = owner["apiKey"]
    payload = {
        "name": "Quote",
        "subject": "Your quote {{quote.number}}",
        "bodyHtml": "<p>Dear {{ firstName }},</p>",
        "bodyText": "Dear {{firstName}}",
        "type": "OFFERTE",
    }

    made = requests.post(local.api + TEMPLATES, json=payload, headers=headers(key, **{"X-User-ID": "user-7"}), timeout=30)
    assert made.status_code == 201, made.text
    created = made.json()
    tid = created["id"]
    assert made.headers["Location"].endswith(f"{TEMPLATES}/{tid}")
    assert (created["tenantId"], created["name"], created["type"], created["createdBy"]) == (
        owner["tenantId"],
        "Quote",
        "OFFERTE",
        "user-7",
    )
    assert created["variables"] == ["firstName", "quote.number"]
    item = store.get(owner["tenantId"], tid)
    assert item is not None
    assert (item["body_html"], item["body_text"], item["category"], item["created_by"]) == (
        payload["bodyHtml"],
        payload["bodyText"],
        "OFFERTE",
        "user-7",
    )

    got = requests.get(f"{local.api}{TEMPLATES}/{tid}", headers=headers(key), timeout=30)
    assert got.status_code == 200, got.text
    assert got.json() == created

    listed = requests.get(local.api + TEMPLATES, headers=headers(key), timeout=30)
    assert listed.status_code == 200, listed.text
    assert [row["id"] for row in listed.json()] == [tid]
    assert "bodyHtml" not in listed.json()[0]

    change = {"name": "Quote v2", "subject": "Quote {{quote.number}} for {{firstName}}", "bodyText": "Hi {{firstName}}"}
    put = requests.put(f"{local.api}{TEMPLATES}/{tid}", json=change, headers=headers(key, **{"X-User-ID": "user-9"}), timeout=30)
    assert put.status_code == 200, put.text
    updated = put.json()
    assert (updated["name"], updated["bodyHtml"], updated["bodyText"], updated["type"], updated["updatedBy"]) == (
        "Quote v2",
        None,
        "Hi {{firstName}}",
        None,
        "user-9",
    )
    assert requests.get(f"{local.api}{TEMPLATES}/{tid}", headers=headers(key), timeout=30).json() == updated
    item = store.get(owner["tenantId"], tid)
    assert "body_html" not in item and item["updated_by"] == "user-9" and item["name"] == "Quote v2"

    # another tenant's key sees nothing and changes nothing
    other = headers(stranger["apiKey"])
    for method, kwargs in (("get", {}), ("put", {"json": payload}), ("delete", {})):
        r = requests.request(method, f"{local.api}{TEMPLATES}/{tid}", headers=other, timeout=30, **kwargs)
        assert r.status_code == 404, (method, r.text)
        assert set(r.json()) == {"title", "detail", "time"}
    assert requests.get(local.api + TEMPLATES, headers=other, timeout=30).json() == []
    assert store.get(owner["tenantId"], tid) == item

    # a malformed template is 400 in the CRM shape, and changes nothing
    bad = requests.put(f"{local.api}{TEMPLATES}/{tid}", json={**change, "bodyText": "Hi {{ 1st }}"}, headers=headers(key), timeout=30)
    assert bad.status_code == 400, bad.text
    assert "invalid placeholder '{{1st}}' in bodyText" in bad.json()["detail"]
    assert store.get(owner["tenantId"], tid) == item

    deleted = requests.delete(f"{local.api}{TEMPLATES}/{tid}", headers=headers(key), timeout=30)
    assert deleted.status_code == 200, deleted.text
    assert deleted.content == b""
    assert store.get(owner["tenantId"], tid) is None
    assert table.get(keys.template_pk(owner["tenantId"]), store.COUNT_SK)["n"] == 0
    assert requests.get(f"{local.api}{TEMPLATES}/{tid}", headers=headers(key), timeout=30).status_code == 404
    assert requests.get(local.api + TEMPLATES, headers=headers(key), timeout=30).json() == []


def test_send_template_renders_escaped_variables_and_names_missing_ones(local):
    tenant = local.new_tenant("templates-send")
    key = tenant["apiKey"]
    template = {
        "name": "Interview invite",
        "subject": "Interview with {{company}} on {{ slot.day }}",
        "bodyHtml": "<p>Dear {{firstName}},</p><p>See you on {{slot.day}}.</p>",
        "bodyText": "Dear {{firstName}}, see you on {{slot.day}}.",
        "type": "INVITE",
    }
    created = requests.post(local.api + TEMPLATES, json=template, headers=headers(key), timeout=30)
    assert created.status_code == 201, created.text
    tid = created.json()["id"]
    to = f"tpl-{uuid.uuid4().hex[:8]}@example.com"
    variables = {"firstName": "<script>alert(1)</script>", "company": "Acme & Co", "slot": {"day": "Tuesday"}}

    sent = requests.post(
        f"{local.api}{BASE}/send-template/{tid}", json={"recipients": [to], "variables": variables}, headers=headers(key), timeout=30
    )

    assert sent.status_code == 200, sent.text
    record = sent.json()
    assert (record["templateId"], record["templateName"], record["type"]) == (tid, "Interview invite", "INVITE")
    assert record["subject"] == "Interview with Acme & Co on Tuesday"
    assert "<p>Dear &lt;script&gt;alert(1)&lt;/script&gt;,</p><p>See you on Tuesday.</p>" in record["body"]
    assert "<script>" not in record["body"]
    assert record["recipients"] == [to]
    assert record["variables"] == variables

    out = local.wait_for(lambda: emails_to(local, to), timeout=5)
    assert len(out) == 1
    assert out[0]["subject"] == "Interview with Acme & Co on Tuesday"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out[0]["body"] and "<script>" not in out[0]["body"]

    missing = requests.post(
        f"{local.api}{BASE}/send-template/{tid}",
        json={"recipients": [f"missing-{to}"], "variables": {"firstName": "Ada"}},
        headers=headers(key),
        timeout=30,
    )
    assert missing.status_code == 400, missing.text
    assert missing.json()["detail"] == "missing template variables: company, slot.day"

    stranger = local.new_tenant("templates-send-stranger")
    foreign = requests.post(
        f"{local.api}{BASE}/send-template/{tid}",
        json={"recipients": [f"x-{to}"], "variables": variables},
        headers=headers(stranger["apiKey"]),
        timeout=30,
    )
    assert foreign.status_code == 404, foreign.text

    local.wait_for(lambda: emails_to(local, f"missing-{to}") or emails_to(local, f"x-{to}"), timeout=2)
    assert emails_to(local, f"missing-{to}") == [] and emails_to(local, f"x-{to}") == []
