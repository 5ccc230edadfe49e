"""The courier email API (seed 003) over HTTP on the local stack: user-emails created with `auto-send` arrive in the
local outbox through the send queue and the dispatcher; a draft is sent by `{id}/send/` (twice: one email); list and
get answer the seed's shapes (attributes, types, envelope, page meta) under both credentials (the API key with
X-User-ID, a user bearer token); another user's individual is a 403 and another tenant's email a 404, each a JSON:API
error object; and the stored state."""

from __future__ import annotations

import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
KEYS = {
    "created-at", "created-by", "individual-id", "last-modified-at", "message", "message-html", "result",
    "sender-organization-id", "status", "subject", "task-id", "to", "user-id",
}  # fmt: skip


def _world():
    ids = {t: str(uuid.uuid4()) for t in ("org", "user", "user2", "individual", "individual2")}
    org = {"name": "northside", "display-name": "Northside Clinic"}
    lines = [
        {"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": org},
        {"type": "users", "id": ids["user"], "attributes": {"username": "pat", "primary-individual-id": ids["individual"],
                                                            "last-sync-time": T1}},
        {"type": "users", "id": ids["user2"], "attributes": {"username": "sam", "primary-individual-id": ids["individual2"],
                                                             "last-sync-time": T1}},
        {"type": "individuals", "id": ids["individual"], "last-sync-time": T1,
         "attributes": {"first-name": "Pat", "owner-id": ids["user"]}},
        {"type": "individuals", "id": ids["individual2"], "last-sync-time": T1,
         "attributes": {"first-name": "Sam", "owner-id": ids["user2"]}},
    ]  # fmt: skip
    return ids, lines


def _headers(credential, user=None):
    return {"Authorization": f"Bearer {credential}", "Content-Type": "application/vnd.api+json", **({"X-User-ID": user} if user else {})}


def _create(local, credential, attributes, user=None):
    doc = {"data": {"type": "user-emails", "attributes": attributes}}
    return requests.post(local.api + "/v1/user-emails/", json=doc, headers=_headers(credential, user), timeout=30)


def _outbox_to(local, to):
    return [m for m in local.outbox()["email"] if to in (m["destinations"] or {}).get("ToAddresses", [])]


def test_user_emails_over_http(local, emulator_env, tmp_path):
    from parley.dal import messages, user_emails

    tenant, stranger = local.new_tenant("courier-email"), local.new_tenant("courier-email-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    to = f"courier-{uuid.uuid4().hex[:8]}@example.com"
    base = {"to": to, "subject": "Your appointment", "message": "See you on Tuesday.", "sender-organization-id": ids["org"]}

    # auto-send with the API key and X-User-ID: queued at once, then in the local outbox from the organization
    sent = _create(local, key, {**base, "auto-send": True, "message-html": "<p>See you on <b>Tuesday</b>.</p>"}, user=ids["user"])
    assert sent.status_code == 201, sent.text
    assert sent.headers["Content-Type"] == "application/vnd.api+json"
    doc = sent.json()
    assert set(doc) == {"data", "meta"} and doc["meta"] == {}
    data = doc["data"]
    assert set(data) == {"id", "type", "attributes"} and data["type"] == "user-emails"
    attrs = data["attributes"]
    assert set(attrs) == KEYS
    assert attrs["to"] == [to] and attrs["status"] == "queued" and attrs["task-id"]
    assert attrs["individual-id"] == ids["individual"] and attrs["user-id"] == attrs["created-by"] == ids["user"]
    (mail,) = local.wait_for(lambda: _outbox_to(local, to), timeout=10)
    assert "Northside Clinic" in str(mail) and "Your appointment" in str(mail)

    def status_of(email_id, wanted):
        def read():
            got = requests.get(f"{local.api}/v1/user-emails/{email_id}/", headers=_headers(key, ids["user"]), timeout=30)
            return got.json()["data"]["attributes"] if got.json()["data"]["attributes"]["status"] in wanted else None

        return local.wait_for(read, timeout=10)

    done = status_of(data["id"], {"sent", "delivered"})
    assert done and done["result"].startswith("ses: "), done
    stored = user_emails.get(tid, data["id"])
    assert stored["PK"] == f"TENANT#{tid}#UEMAIL#{data['id']}" and stored["state"] == "queued" and stored["message_id"] == attrs["task-id"]
    msg = messages.get(tid, attrs["task-id"])
    assert msg.source_api == "courier" and msg.recipient == to and msg.sender_name == "Northside Clinic"

    # a draft with a user bearer token (its subject is the user), sent by {id}/send/ twice: one email
    minted = requests.post(f"{local.api}/_local/user-token", json={"sub": ids["user"], "tenantId": tid}, timeout=30)
    assert minted.status_code == 201, minted.text
    token = minted.json()["token"]
    to2 = f"courier-draft-{uuid.uuid4().hex[:8]}@example.com"
    draft = _create(local, token, {**base, "to": to2})
    assert draft.status_code == 201, draft.text
    draft_id = draft.json()["data"]["id"]
    assert draft.json()["data"]["attributes"]["status"] == "draft" and draft.json()["data"]["attributes"]["task-id"] is None
    assert user_emails.get(tid, draft_id)["state"] == "draft"
    first = requests.post(f"{local.api}/v1/user-emails/{draft_id}/send/", json={}, headers=_headers(token), timeout=30)
    assert first.status_code == 201, first.text
    assert first.json()["data"]["attributes"]["status"] == "queued"
    again = requests.post(f"{local.api}/v1/user-emails/{draft_id}/send", json={}, headers=_headers(token), timeout=30)
    assert again.status_code == 201 and again.json()["data"]["attributes"]["task-id"] == first.json()["data"]["attributes"]["task-id"]
    assert local.wait_for(lambda: _outbox_to(local, to2), timeout=10)
    assert status_of(draft_id, {"sent", "delivered"})
    assert len(_outbox_to(local, to2)) == 1

    # the list: newest first, the seed's envelope and page meta, with and without the trailing slash
    listed = requests.get(
        f"{local.api}/v1/user-emails/", params={"individual-id": ids["individual"], "page[limit]": 1}, headers=_headers(token), timeout=30
    )
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["meta"] == {"page[total]": 2, "page[limit]": 1, "page[offset]": 0}
    assert [d["id"] for d in page["data"]] == [draft_id] and set(page["data"][0]["attributes"]) == KEYS
    rest = requests.get(
        f"{local.api}/v1/user-emails", params={"individual-id": ids["individual"], "page[offset]": 1}, headers=_headers(token), timeout=30
    ).json()
    assert [d["id"] for d in rest["data"]] == [data["id"]] and rest["meta"]["page[total]"] == 2

    # another user's individual: 403; no acting user with the API key: 400; both JSON:API error objects
    theirs = _create(local, token, {**base, "individual-id": ids["individual2"]})
    assert theirs.status_code == 403 and theirs.json()["errors"][0]["source"] == {"pointer": "/data/attributes/individual-id"}
    theirs_list = requests.get(
        f"{local.api}/v1/user-emails/", params={"individual-id": ids["individual2"]}, headers=_headers(token), timeout=30
    )
    assert theirs_list.status_code == 403 and theirs_list.json()["errors"][0]["code"] == "not-owner"
    nobody = _create(local, key, base)
    assert nobody.status_code == 400 and nobody.json()["errors"][0]["source"] == {"parameter": "X-User-ID"}
    bad_org = _create(local, token, {**base, "sender-organization-id": str(uuid.uuid4())})
    assert bad_org.status_code == 422 and bad_org.json()["errors"][0]["source"] == {"pointer": "/data/attributes/sender-organization-id"}

    # another tenant: 404 for the email, even with the same user id, and nothing sent
    skey = stranger["apiKey"]
    for method, path in (("get", f"/v1/user-emails/{draft_id}/"), ("post", f"/v1/user-emails/{draft_id}/send/")):
        out = requests.request(
            method, local.api + path, json={} if method == "post" else None, headers=_headers(skey, ids["user"]), timeout=30
        )
        assert out.status_code == 404, (path, out.text)
        assert out.json()["errors"][0]["status"] == 404 and out.headers["Content-Type"] == "application/vnd.api+json"
