"""messaging-bulk-messages (seed 003, issue 19 area 1) over HTTP on the local stack: every route in the seed's shape
(plus our `status`, `progress`, `auto-ack`, `auto-create-channel`) — create a draft, list it (drafts only, and with
`include-posted`), get it, PATCH its text and then `draft: false`; the posting runs through AutomationQueue and
AutomationFunction (the stack's own poller), its progress read over GET until it is posted; the messages it made read
back over HTTP (messaging-messages) in each recipient's locale, and their stored state; a posted one refuses changes
(409); another tenant's id is a 404 on every id route."""

from __future__ import annotations

import time
import uuid

import requests

from helpers import import_directory

MEDIA = "application/vnd.api+json"
T1 = "2026-11-01T09:00:00Z"
TYPE = "messaging-bulk-messages"
SEED_ATTRS = {
    "created-at", "created-by", "draft", "individual-group-ids", "individual-ids", "message", "message-js", "organization-id",
    "posted-time", "sender-individual-group-id", "sender-individual-id",
}  # fmt: skip
OURS = {"status", "progress", "auto-ack", "auto-create-channel"}


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "group", "ua", "ub", "uc", "ia", "ib", "ic")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for u, i, locale in (("ua", "ia", "en_US"), ("ub", "ib", "es_US"), ("uc", "ic", None)):
        attrs = {"username": u, "primary-individual-id": ids[i], **({"locale": locale} if locale else {})}
        lines.append({"type": "users", "id": ids[u], "last-sync-time": T1, "attributes": attrs})
        lines.append({"type": "individuals", "id": ids[i], "last-sync-time": T1, "attributes": {"owner-id": ids[u], "first-name": u}})
    group = {"name": "care", "organization-id": ids["org"], "individuals": [{"id": ids["ib"]}, {"id": ids["ic"]}]}
    lines.append({"type": "individual-groups", "id": ids["group"], "last-sync-time": T1, "attributes": group})
    return ids, lines


def test_bulk_messages_over_http(local, emulator_env, tmp_path):
    from parley.dal import bulk_messages as store
    from parley.dal import channels as cstore
    from parley.domain import bulk_messages

    tenant, stranger = local.new_tenant("courier-bulk"), local.new_tenant("courier-bulk-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    assert import_directory(local, tmp_path, stranger["tenantId"], lines)["invalid"] == 0  # the same ids in another tenant
    api = local.api

    def h(user, credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": MEDIA, "X-User-ID": ids[user]}

    # create: a draft for ib (named) and the group (ib again, ic)
    doc = {"data": {"type": TYPE, "attributes": {"auto-ack": "", "auto-create-channel": True, "draft": True, "individual-ids": [ids["ib"]],
                                                 "individual-group-ids": [ids["group"]], "message": "draft"}}, "meta": {}}  # fmt: skip
    created = requests.post(f"{api}/v1/messaging-bulk-messages/", json=doc, headers=h("ua"), timeout=30)
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"] == MEDIA
    data = created.json()["data"]
    bid, attrs = data["id"], data["attributes"]
    assert data["type"] == TYPE and set(attrs) == SEED_ATTRS | OURS
    assert (attrs["draft"], attrs["status"], attrs["created-by"], attrs["organization-id"], attrs["posted-time"]) == (
        True, "draft", ids["ia"], ids["org"], None)  # fmt: skip
    assert store.get(tid, bid, consistent=True)["GSI6PK"] == f"TENANT#{tid}#BULKS#DRAFT"

    def get(user="ua", credential=key, bulk_id=bid):
        return requests.get(f"{api}/v1/messaging-bulk-messages/{bulk_id}/", headers=h(user, credential), timeout=30)

    def listing(params=None, credential=key):
        got = requests.get(f"{api}/v1/messaging-bulk-messages/", params=params or {}, headers=h("ua", credential), timeout=30)
        assert got.status_code == 200, got.text
        return got.json()

    def patch(attributes, user="ua", credential=key, bulk_id=bid):
        body = {"data": {"type": TYPE, "id": bulk_id, "attributes": attributes}, "meta": {}}
        return requests.patch(f"{api}/v1/messaging-bulk-messages/{bulk_id}/", json=body, headers=h(user, credential), timeout=30)

    assert get().status_code == 200 and get().json()["data"]["attributes"]["message"] == "draft"
    listed = listing()
    assert [d["id"] for d in listed["data"]] == [bid] and listed["meta"]["page[total]"] == 1

    js = {"en_US": "Closed Friday", "es_US": "Cerrado el viernes"}
    edited = patch({"message": "Closed Friday", "message-js": js})
    assert edited.status_code == 200 and edited.json()["data"]["attributes"]["message-js"] == js
    assert store.get(tid, bid, consistent=True)["message"] == "Closed Friday"

    # another tenant's caller: 404 on every id route, nothing in its list
    foreign = stranger["apiKey"]
    assert get(credential=foreign).status_code == 404
    assert patch({"draft": False}, credential=foreign).status_code == 404
    assert listing({"include-posted": "true"}, credential=foreign)["data"] == []
    assert store.get(tid, bid, consistent=True)["draft"] is True

    # post it: asynchronous, followed over GET
    posted = patch({"draft": False})
    assert posted.status_code == 200 and posted.json()["data"]["attributes"]["status"] == "queued"
    deadline, seen = time.monotonic() + 90, []
    while time.monotonic() < deadline:
        a = get().json()["data"]["attributes"]
        seen.append(a["progress"]["posted"])
        if a["status"] == "posted":
            break
        time.sleep(0.5)
    assert a["status"] == "posted", a
    assert a["progress"] == {"total": 2, "posted": 2, "skipped": 0, "failed": 0, "pending": 0} and a["posted-time"]
    assert seen == sorted(seen)

    # the messages, read back over HTTP by each recipient, in its locale
    for user, ind, text in (("ub", "ib", "Cerrado el viernes"), ("uc", "ic", "Closed Friday")):
        pointer = cstore.get_direct(tid, ids["org"], [ids["ia"], ids[ind]])
        assert pointer is not None
        got = requests.get(f"{api}/v1/messaging-messages/", params={"channel-id": pointer["channel_id"]}, headers=h(user), timeout=30)
        assert got.status_code == 200, got.text
        msgs = got.json()["data"]
        assert len(msgs) == 1 and msgs[0]["id"] == bulk_messages.message_id(bid, ids[ind])
        assert (msgs[0]["attributes"]["message"], msgs[0]["attributes"]["source"]) == (text, "bulk")
    assert {r["state"] for r in store.recipients(tid, bid)} == {"posted"}

    # the list hides it now, include-posted shows it; a posted one refuses changes
    assert listing()["data"] == []
    assert [d["id"] for d in listing({"include-posted": "true"})["data"]] == [bid]
    refused = patch({"message": "too late"})
    assert refused.status_code == 409 and refused.json()["errors"][0]["code"] == "already-posted"
    bad = requests.post(f"{api}/v1/messaging-bulk-messages/", json={"data": {"type": TYPE, "attributes": {"message": "x"}}},
                        headers=h("ua"), timeout=30)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"]["pointer"] == "/data/attributes/individual-ids"
