"""CRM threads, entity timelines, comments and deletion over HTTP against the local stack:
GET /{id}/thread, GET /by-entity, POST /{id}/comment, DELETE /{id}, DELETE /delete-list, with a reply posted
to the candidate reply webhook joining the record's conversation (by the reply+<conversationId>@ token)."""

from __future__ import annotations

import json
import uuid
from email.message import EmailMessage

import pytest
import requests
from crm_shapes import ENTITY_KEYS, INBOUND_KEYS, RECORD_KEYS

BASE = "/api/v1/communications"
REPLY = "/communications/email/v1/reply"
REPLY_DOMAIN = "reply.parley.example"


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def assert_crm_error(res, status: int) -> None:
    assert res.status_code == status, res.text
    assert set(res.json()) == {"title", "detail", "time"}


@pytest.fixture
def crm_tenant(local, emulator_env):
    """A fresh tenant whose replies thread by token (the reply domain is set before its key is first used)."""
    tenant = local.new_tenant(f"crm-threads-{uuid.uuid4().hex[:6]}")
    out = requests.post(
        f"{local.api}/_local/tenant-settings", json={"tenantId": tenant["tenantId"], "settings": {"reply_domain": REPLY_DOMAIN}}, timeout=10
    )
    assert out.status_code == 200, out.text
    return tenant


def send_record(local, tenant, *, to: str, entity: tuple[str, str], subject: str = "Your offer") -> dict:
    """A record sent through POST /send: its {id, conversationId}."""
    payload = {
        "subject": subject,
        "body": "<p>Dear customer, our <b>offer</b>.</p>",
        "recipients": [to],
        "relatedEntityType": entity[0],
        "relatedEntityId": entity[1],
        "type": "OFFERTE",
    }
    res = requests.post(local.api + BASE + "/send", json=payload, headers=auth(tenant["apiKey"], **{"X-User-ID": "user-7"}), timeout=30)
    assert res.status_code == 200, res.text
    rec = res.json()
    return {"id": rec["id"], "conversationId": rec["conversationId"] or rec["id"]}


def wait_sent(local, tenant_id: str, message_id: str, timeout: float = 30) -> None:
    """Wait until the local dispatcher has sent the message (its stored status is SENT)."""
    from parley.dal import messages

    sent = local.wait_for(lambda: getattr(messages.get(tenant_id, message_id), "status", None) == "SENT", timeout=timeout)
    assert sent, f"{message_id} was not sent"


def post_reply(local, key: str, *, to: str, text: str) -> str:
    sender = "Ada Lovelace <ada@example.com>"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = sender, to, "Re: Your offer", f"<{uuid.uuid4()}@mail.example.com>"
    msg.set_content(text)
    fields = {
        "email": msg.as_bytes(),
        "to": to,
        "from": sender,
        "envelope": json.dumps({"to": [to.split("<")[-1].rstrip(">")], "from": "ada@example.com"}),
        "subject": "Re: Your offer",
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
    }
    res = requests.post(local.api + REPLY, files=[(k, (None, v)) for k, v in fields.items()], headers=auth(key), timeout=30)
    assert res.status_code == 200, res.text
    sid = res.json()["data"]["MessageSid"]
    # answered at once; InboundMailFunction stores it from the inbound queue
    assert local.wait_for(lambda: thread(local, key, sid).status_code == 200, timeout=15), "the reply was not stored"
    return sid


def thread(local, key, message_id):
    return requests.get(f"{local.api}{BASE}/{message_id}/thread", headers=auth(key), timeout=30)


def by_entity(local, key, params):
    return requests.get(f"{local.api}{BASE}/by-entity", params=params, headers=auth(key), timeout=30)


def stored_items(tenant_id, message_id):
    from parley.dal import keys, table

    return table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=keys.message_pk(tenant_id, message_id)))


def test_reply_joins_the_thread_and_the_entity_timeline_then_comments_and_deletes(local, crm_tenant, emulator_env):
    key, tenant_id = crm_tenant["apiKey"], crm_tenant["tenantId"]
    to = f"cust-{uuid.uuid4().hex[:8]}@example.com"
    entity = ("deal", f"D-{uuid.uuid4().hex[:6]}")
    rec = send_record(local, crm_tenant, to=to, entity=entity)

    def sent_record():
        res = thread(local, key, rec["id"])
        assert res.status_code == 200, res.text
        out = res.json()["outbound"]
        return out if out and out[0]["status"] == "SENT" else None

    assert local.wait_for(sent_record, timeout=10), "the record was not sent"
    (mail,) = [m for m in local.outbox()["email"] if to in ((m["destinations"] or {}).get("ToAddresses") or [])]
    token = f"reply+{rec['conversationId']}@{REPLY_DOMAIN}"
    reply_id = post_reply(local, key, to=f"Sales <{token}>", text="Yes, we accept.")

    from parley.dal import keys, table

    item = table.get(keys.message_pk(tenant_id, reply_id), keys.MESSAGE_SK)
    assert item["parent_id"] == rec["id"] and item["GSI6PK"] == keys.entity_pk(tenant_id, *entity)

    # ── thread: the seed's shapes, the reply linked to the record and its entity ──
    res = thread(local, key, rec["id"])
    assert res.status_code == 200, res.text
    body = res.json()
    assert set(body) == {"inbound", "outbound"}
    (outbound,) = body["outbound"]
    (inbound,) = body["inbound"]
    assert set(outbound) == RECORD_KEYS and set(inbound) == INBOUND_KEYS
    assert outbound["id"] == rec["id"] and outbound["status"] == "SENT" and outbound["recipients"] == [to]
    assert outbound["relatedEntityType"] == entity[0] and outbound["relatedEntityId"] == entity[1]
    assert outbound["replyTo"] == token and mail["subject"] == "Your offer"
    assert inbound["id"] == reply_id and inbound["parentCommunicationId"] == rec["id"]
    assert inbound["conversationId"] == outbound["conversationId"]
    assert (inbound["relatedEntityType"], inbound["relatedEntityId"]) == entity
    assert inbound["fromEmail"] == "ada@example.com" and inbound["recipients"] == [token]
    assert inbound["bodyText"].strip() == "Yes, we accept." and inbound["status"] == "NEW"
    assert thread(local, key, reply_id).json() == body  # the same conversation read from the reply

    # ── by-entity: both directions, newest first ──
    res = by_entity(local, key, {"entityType": entity[0], "entityId": entity[1]})
    assert res.status_code == 200, res.text
    rows = res.json()
    assert [(r["id"], r["direction"]) for r in rows] == [(reply_id, "INBOUND"), (rec["id"], "OUTBOUND")]
    assert all(set(r) == ENTITY_KEYS for r in rows)
    assert rows[1]["status"] == "SENT" and rows[1]["bodyHtml"] == "<p>Dear customer, our <b>offer</b>.</p>"
    assert by_entity(local, key, {"entityType": entity[0], "entityId": "nobody"}).json() == []
    assert_crm_error(by_entity(local, key, {"entityType": entity[0]}), 400)
    assert_crm_error(by_entity(local, key, {"entityType": "", "entityId": entity[1]}), 400)

    # ── comment: the seed's curl (-d 'string' as application/json), and a multi-line text/plain one ──
    res = requests.post(f"{local.api}{BASE}/{rec['id']}/comment", data="string",
                        headers=auth(key, **{"Content-Type": "application/json", "X-User-ID": "user-9"}), timeout=30)  # fmt: skip
    assert res.status_code == 200, res.text
    assert res.json() == {}
    res = requests.post(f"{local.api}{BASE}/{reply_id}/comment", data="Phoned back.\nAll good ✓".encode(),
                        headers=auth(key, **{"Content-Type": "text/plain; charset=utf-8"}), timeout=30)  # fmt: skip
    assert res.status_code == 200, res.text
    assert_crm_error(requests.post(f"{local.api}{BASE}/{rec['id']}/comment", data="  ", headers=auth(key), timeout=30), 400)
    body = thread(local, key, rec["id"]).json()
    (c1,) = [e for e in body["outbound"][0]["events"] if e["type"] == "COMMENT"]
    assert (c1["authorId"], c1["description"]) == ("user-9", "string") and c1["id"] and c1["date"].endswith("Z")
    assert body["outbound"][0]["updatedBy"] == "user-9"
    (c2,) = [e for e in body["inbound"][0]["events"] if e["type"] == "COMMENT"]
    assert (c2["authorId"], c2["description"]) == (None, "Phoned back.\nAll good ✓")

    # ── delete: the record goes (its thread, find/{id}), the reply stays in the entity timeline ──
    res = requests.delete(f"{local.api}{BASE}/{rec['id']}", headers=auth(key), timeout=30)
    assert res.status_code == 200, res.text
    assert res.content == b""
    assert_crm_error(thread(local, key, rec["id"]), 404)
    assert_crm_error(requests.get(f"{local.api}{BASE}/find/{rec['id']}", headers=auth(key), timeout=30), 404)
    assert_crm_error(requests.delete(f"{local.api}{BASE}/{rec['id']}", headers=auth(key), timeout=30), 404)
    assert [r["id"] for r in by_entity(local, key, {"entityType": entity[0], "entityId": entity[1]}).json()] == [reply_id]
    assert_crm_error(requests.delete(f"{local.api}{BASE}/{reply_id}", headers=auth(key), timeout=30), 404)  # not a record


def test_stored_state_after_comment_and_delete(local, crm_tenant, emulator_env):
    from parley.dal import counters, messages

    key, tenant_id = crm_tenant["apiKey"], crm_tenant["tenantId"]
    rec = send_record(local, crm_tenant, to=f"st-{uuid.uuid4().hex[:8]}@example.com", entity=("contact", "c-1"))
    wait_sent(local, tenant_id, rec["id"])
    res = requests.post(f"{local.api}{BASE}/{rec['id']}/comment", json={"comment": "Follow up on Friday"},
                        headers=auth(key, **{"X-User-ID": "user-3"}), timeout=30)  # fmt: skip
    assert res.status_code == 200, res.text
    stored = messages.get(tenant_id, rec["id"])
    assert [(e.type, e.author_id, e.description) for e in stored.timeline if e.type == "COMMENT"] == [
        ("COMMENT", "user-3", "Follow up on Friday")
    ]
    assert stored.updated_by == "user-3"
    items = stored_items(tenant_id, rec["id"])
    assert {i["SK"][:4] for i in items} == {"MSG", "EVT#"}  # the record and its "sent" event
    before = counters.records(tenant_id)

    assert requests.delete(f"{local.api}{BASE}/{rec['id']}", headers=auth(key), timeout=30).status_code == 200
    assert stored_items(tenant_id, rec["id"]) == []
    assert counters.records(tenant_id) == before - 1


def test_delete_list_ignores_unknown_and_foreign_ids(local, crm_tenant, emulator_env):
    from parley.dal import messages

    key, tenant_id = crm_tenant["apiKey"], crm_tenant["tenantId"]
    other = local.new_tenant("crm-threads-other")
    a = send_record(local, crm_tenant, to="a@example.com", entity=("contact", "c-2"))
    b = send_record(local, crm_tenant, to="b@example.com", entity=("contact", "c-2"))
    c = send_record(local, crm_tenant, to="c@example.com", entity=("contact", "c-2"))
    foreign = send_record(local, other, to="f@example.com", entity=("contact", "c-2"))
    # a record being sent right now is not deleted (409): let the local dispatcher finish first
    for tenant, rec in ((tenant_id, a), (tenant_id, b), (other["tenantId"], foreign)):
        wait_sent(local, tenant, rec["id"])

    res = requests.delete(f"{local.api}{BASE}/delete-list", params=[("ids", a["id"]), ("ids", f"nope,{b['id']},{foreign['id']}")],
                          headers=auth(key), timeout=30)  # fmt: skip
    assert res.status_code == 200, res.text
    assert res.content == b""
    assert messages.get(tenant_id, a["id"]) is None and messages.get(tenant_id, b["id"]) is None
    assert messages.get(tenant_id, c["id"]) is not None
    assert messages.get(other["tenantId"], foreign["id"]) is not None
    assert stored_items(tenant_id, a["id"]) == [] and stored_items(tenant_id, b["id"]) == []
    assert_crm_error(requests.delete(f"{local.api}{BASE}/delete-list", headers=auth(key), timeout=30), 400)


def test_another_tenants_ids_are_404_everywhere(local, crm_tenant, emulator_env):
    from parley.dal import messages

    key, tenant_id = crm_tenant["apiKey"], crm_tenant["tenantId"]
    rec = send_record(local, crm_tenant, to=f"iso-{uuid.uuid4().hex[:8]}@example.com", entity=("contact", "iso"))
    other_key = local.new_tenant("crm-threads-intruder")["apiKey"]
    url = f"{local.api}{BASE}/{rec['id']}"
    assert_crm_error(requests.get(url + "/thread", headers=auth(other_key), timeout=30), 404)
    assert_crm_error(requests.post(url + "/comment", data="hi", headers=auth(other_key), timeout=30), 404)
    assert_crm_error(requests.delete(url, headers=auth(other_key), timeout=30), 404)
    assert by_entity(local, other_key, {"entityType": "contact", "entityId": "iso"}).json() == []
    # X-Tenant-ID naming another tenant than the key's is refused
    assert_crm_error(requests.get(url + "/thread", headers=auth(key, **{"X-Tenant-ID": "someone-else"}), timeout=30), 403)
    stored = messages.get(tenant_id, rec["id"])
    assert stored is not None and not [e for e in stored.timeline if e.type == "COMMENT"]
