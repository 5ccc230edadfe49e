"""Courier channel messages and the inbox (seed 003, issue 18 area B) over HTTP on the local stack: every route of
messaging-messages (list, create, get, PATCH, ack, add-reaction, delete-reaction, get-receipts) and the inbox
GET /v1/communication-messages/, in the seed's shapes (JSON:API envelopes, attributes, page meta; get-receipts plain
JSON), exact unread counts moving with posts and acks, the stored state, and isolation: a non-member and another
tenant get 404 on every id route."""

from __future__ import annotations

import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
MESSAGE_ATTRS = {
    "ack", "attachments", "channel-id", "destination", "draft", "first-name", "individual-id", "last-modified-time", "last-name",
    "message", "phrases", "posted-time", "preferred-name", "reactions", "read-receipts", "removed", "sentiment", "source",
    "user-id", "user-name", "user-type",
}  # fmt: skip


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "ua", "ub", "uc", "ia", "ib", "ic", "ia2")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for u, i, name in (("ua", "ia", "Ann"), ("ub", "ib", "Bob"), ("uc", "ic", "Cy")):
        lines.append(
            {"type": "users", "id": ids[u], "last-sync-time": T1, "attributes": {"username": name.lower(), "primary-individual-id": ids[i]}}
        )
        lines.append({"type": "individuals", "id": ids[i], "last-sync-time": T1, "attributes": {"first-name": name, "owner-id": ids[u]}})
    lines.append(
        {"type": "individuals", "id": ids["ia2"], "last-sync-time": T1, "attributes": {"first-name": "Kid", "owner-id": ids["ua"]}}
    )
    return ids, lines


def test_messages_and_the_inbox_over_http(local, emulator_env, tmp_path):
    from parley.dal import channel_messages as mstore
    from parley.dal import channels as cstore
    from parley.domain import channels

    tenant, stranger = local.new_tenant("courier-messages"), local.new_tenant("courier-messages-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    chan, _ = channels.create_channel(
        tid,
        organization_id=ids["org"],
        creator_individual_id=ids["ia"],
        individual_ids=[ids["ib"], ids["ic"]],
        name="Care team",
        publish=False,
    )
    cid = chan["id"]
    api = local.api

    def h(user, credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": "application/vnd.api+json", "X-User-ID": ids[user]}

    def post(user, text, **extra):
        doc = {"data": {"type": "messaging-messages", "attributes": {"channel-id": cid, "message": text, **extra}}}
        got = requests.post(f"{api}/v1/messaging-messages/", json=doc, headers=h(user), timeout=30)
        assert got.status_code == 201, got.text
        assert got.headers["Content-Type"] == "application/vnd.api+json"
        return got.json()

    def inbox_of(headers):
        got = requests.get(f"{api}/v1/communication-messages/", headers=headers, timeout=30)
        assert got.status_code == 200, got.text
        return got.json()

    def inbox(user, **params):
        got = requests.get(f"{api}/v1/communication-messages/", params=params, headers=h(user), timeout=30)
        assert got.status_code == 200, got.text
        return got.json()

    # create: the seed's envelope and attributes; stored with the channel's seq
    first = post("ua", "Shift swap tomorrow?")
    assert set(first) == {"data", "meta"} and first["meta"] == {}
    m1 = first["data"]
    assert m1["type"] == "messaging-messages" and set(m1["attributes"]) == MESSAGE_ATTRS
    assert m1["attributes"]["first-name"] == "Ann" and m1["attributes"]["ack"] is True and m1["attributes"]["channel-id"] == cid
    stored = mstore.get_message(tid, m1["id"], consistent=True)
    assert stored["seq"] == 1 and stored["GSI3SK"] == "000000000001" and stored["user_id"] == ids["ua"]
    m2 = post("ub", "I can take it")["data"]
    assert cstore.get_channel(tid, cid, consistent=True)["seq"] == 2

    # the inbox: C has 2 unread; list answers messaging-channels with the seed's page meta
    doc = inbox("uc", **{"page[limit]": 10})
    assert doc["meta"] == {"page[total]": 1, "page[limit]": 10, "page[offset]": 0}
    (row,) = doc["data"]
    assert row["type"] == "messaging-channels" and row["id"] == cid
    assert row["attributes"]["caller-new-message-count"] == 2 and row["attributes"]["caller-has-new-message"] is True
    assert row["attributes"]["last-message"]["id"] == m2["id"] and row["attributes"]["name"] == "Care team"
    assert inbox("ua")["data"][0]["attributes"]["caller-new-message-count"] == 1
    assert inbox("uc", sort="-unread-count")["data"][0]["id"] == cid

    # list (newest first), with read receipts and the acknowledged filter
    got = requests.get(
        f"{api}/v1/messaging-messages", params={"channel-id": cid, "include-read-receipts": "true"}, headers=h("uc"), timeout=30
    )
    assert got.status_code == 200, got.text
    assert [d["id"] for d in got.json()["data"]] == [m2["id"], m1["id"]] and got.json()["meta"]["page[total]"] == 2
    assert {r["individual-id"] for r in got.json()["data"][1]["attributes"]["read-receipts"]} == {ids["ia"], ids["ib"]}

    # ack: C's marker moves, the count follows; get-receipts is plain JSON
    got = requests.post(f"{api}/v1/messaging-messages/{m2['id']}/ack/", json={}, headers=h("uc"), timeout=30)
    assert got.status_code == 201 and got.json()["data"]["attributes"]["ack"] is True
    assert inbox("uc")["data"][0]["attributes"]["caller-new-message-count"] == 0
    assert cstore.get_member(tid, cid, ids["ic"], consistent=True)["ack_seq"] == 2
    got = requests.get(f"{api}/v1/messaging-messages/{m1['id']}/get-receipts/", headers=h("ua"), timeout=30)
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("application/json")
    assert {r["individual-id"] for r in got.json()["read"]} == {ids["ia"], ids["ib"], ids["ic"]} and got.json()["unread"] == []
    got = requests.post(f"{api}/v1/messaging-messages/{m1['id']}/ack/", json={"allow-past": True}, headers=h("uc"), timeout=30)
    assert got.status_code == 201 and inbox("uc")["data"][0]["attributes"]["caller-new-message-count"] == 1
    got = requests.get(f"{api}/v1/messaging-messages/{m2['id']}/get-receipts/", headers=h("ua"), timeout=30)
    assert {r["individual-id"] for r in got.json()["unread"]} == {ids["ia"], ids["ic"]}  # A's marker is at its own m1

    # reactions: one per individual and type
    for _ in range(2):
        got = requests.post(
            f"{api}/v1/messaging-messages/{m1['id']}/add-reaction/", json={"reaction-type": "like"}, headers=h("ub"), timeout=30
        )
        assert got.status_code == 201, got.text
    assert [(r["individual-id"], r["reaction-type"]) for r in got.json()["data"]["attributes"]["reactions"]] == [(ids["ib"], "like")]
    got = requests.post(
        f"{api}/v1/messaging-messages/{m1['id']}/delete-reaction/", json={"reaction-type": "like"}, headers=h("ub"), timeout=30
    )
    assert got.status_code == 201 and got.json()["data"]["attributes"]["reactions"] == []
    assert mstore.get_message(tid, m1["id"], consistent=True)["reactions"] == {}

    # PATCH: the author edits and removes; another member is refused
    patch = {"data": {"type": "messaging-messages", "id": m1["id"], "attributes": {"message": "Swap on Friday?"}}}
    assert requests.patch(f"{api}/v1/messaging-messages/{m1['id']}/", json=patch, headers=h("ub"), timeout=30).status_code == 403
    got = requests.patch(f"{api}/v1/messaging-messages/{m1['id']}/", json=patch, headers=h("ua"), timeout=30)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["message"] == "Swap on Friday?"
    patch["data"]["attributes"] = {"removed": True}
    got = requests.patch(f"{api}/v1/messaging-messages/{m1['id']}/", json=patch, headers=h("ua"), timeout=30)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["removed"] is True
    assert mstore.get_message(tid, m1["id"], consistent=True)["removed"] is True
    got = requests.get(f"{api}/v1/messaging-messages/{m1['id']}/", headers=h("uc"), timeout=30)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["message"] == ""

    # a draft: its author's only, published by PATCH
    draft = post("ua", "draft", draft=True)["data"]
    assert draft["attributes"]["draft"] is True and draft["attributes"]["posted-time"] is None
    assert requests.get(f"{api}/v1/messaging-messages/{draft['id']}/", headers=h("ub"), timeout=30).status_code == 404
    # filter[draft]=true (ours): the caller's own drafts of the channel, no one else's; the posted list has none
    drafts = lambda user: requests.get(f"{api}/v1/messaging-messages/", params={"channel-id": cid, "filter[draft]": "true"},  # noqa: E731
                                       headers=h(user), timeout=30)  # fmt: skip
    mine = drafts("ua").json()
    assert [d["id"] for d in mine["data"]] == [draft["id"]] and mine["meta"]["page[total]"] == 1
    assert mine["data"][0]["attributes"]["draft"] is True and set(mine["data"][0]["attributes"]) == MESSAGE_ATTRS
    assert drafts("ub").json()["data"] == []
    posted_list = requests.get(f"{api}/v1/messaging-messages/", params={"channel-id": cid}, headers=h("ua"), timeout=30).json()
    assert draft["id"] not in {m["id"] for m in posted_list["data"]}
    bad = requests.get(f"{api}/v1/messaging-messages/", params={"channel-id": cid, "filter[draft]": "true", "acknowledged": "true"},
                       headers=h("ua"), timeout=30)  # fmt: skip
    assert bad.status_code == 400 and bad.json()["errors"][0]["source"] == {"parameter": "acknowledged"}
    patch = {"data": {"type": "messaging-messages", "id": draft["id"], "attributes": {"draft": False}}}
    got = requests.patch(f"{api}/v1/messaging-messages/{draft['id']}/", json=patch, headers=h("ua"), timeout=30)
    assert got.status_code == 200 and got.json()["data"]["attributes"]["draft"] is False
    assert drafts("ua").json()["data"] == []  # published: no longer a draft
    assert inbox("ub")["data"][0]["attributes"]["caller-new-message-count"] == 1

    # isolation: A's other individual (not a member) and another tenant get 404 on every id route
    q = {"individual-id": ids["ia2"]}
    for method, path, body in (
        ("get", f"/v1/messaging-messages/{m2['id']}/", None),
        ("get", f"/v1/messaging-messages/{m2['id']}/get-receipts/", None),
        ("post", f"/v1/messaging-messages/{m2['id']}/ack/", {"individual-id": ids["ia2"]}),
        ("post", f"/v1/messaging-messages/{m2['id']}/add-reaction/", {"individual-id": ids["ia2"], "reaction-type": "wow"}),
        ("post", f"/v1/messaging-messages/{m2['id']}/delete-reaction/", {"individual-id": ids["ia2"], "reaction-type": "wow"}),
    ):
        got = requests.request(method, api + path, params=q if body is None else None, json=body, headers=h("ua"), timeout=30)
        assert got.status_code == 404, (path, got.text)
        assert got.json()["errors"][0]["status"] == 404
    got = requests.get(f"{api}/v1/messaging-messages/", params={"channel-id": cid, **q}, headers=h("ua"), timeout=30)
    assert got.status_code == 404
    # another tenant with the same people (the same ids in its own directory) finds none of it
    assert import_directory(local, tmp_path, stranger["tenantId"], lines)["invalid"] == 0
    foreign = {"Authorization": f"Bearer {stranger['apiKey']}", "X-User-ID": ids["ua"]}
    for path in (f"/v1/messaging-messages/{m2['id']}/", f"/v1/messaging-messages/{m2['id']}/get-receipts/"):
        got = requests.get(api + path, headers=foreign, timeout=30)
        assert got.status_code == 404, got.text
    got = requests.get(f"{api}/v1/messaging-messages/", params={"channel-id": cid}, headers=foreign, timeout=30)
    assert got.status_code == 404, got.text
    assert inbox_of(foreign)["data"] == []
