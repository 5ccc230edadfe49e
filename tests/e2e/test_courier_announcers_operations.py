"""Announcers and messaging-operations (seed 003, docs/courier.md "Announcers and the courier events bus",
"Operations: move-group") over HTTP on the local stack: every route answers the seed's shape; `import-directory`
adding an individual to a group emits individual-shared on CourierEventsBus, the emulator's rule delivers it to
AutomationQueue and AutomationFunction posts the announcement once into the group's channel; a move-group operation
goes queued → completed and re-homes the channel (stored state checked in the emulator's table); another tenant gets
JSON:API 404s."""

from __future__ import annotations

import time
import uuid

import requests

from helpers import import_directory as _import

T1, T2 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z"
ANNOUNCER_KEYS = {"args", "created-at", "created-by", "event", "last-modified-at", "last-modified-by", "name", "organization-id", "type"}
OPERATION_KEYS = {"args", "created-at", "created-by", "last-modified-at", "logs", "organization-id", "status", "type"}


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "g1", "g2", "pat", "sam", "lee", "kim", "u-pat", "u-sam", "u-lee", "u-kim")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for name in ("pat", "sam", "lee", "kim"):
        lines.append({"type": "users", "id": ids[f"u-{name}"], "attributes": {"username": name, "primary-individual-id": ids[name],
                      "email": f"{name}@example.com", "last-sync-time": T1}})  # fmt: skip
        lines.append(
            {
                "type": "individuals",
                "id": ids[name],
                "last-sync-time": T1,
                "attributes": {"first-name": name.title(), "owner-id": ids[f"u-{name}"]},
            }
        )
    return ids, lines


def _group(ids, key, members, at):
    attrs = {"name": key.upper(), "organization-id": ids["org"], "individuals": [{"id": ids[m]} for m in members], "last-sync-time": at}
    return {"type": "individual-groups", "id": ids[key], "attributes": attrs}


def _messages(tid, channel_id):
    from parley.dal import channel_messages as store
    from parley.dal import table

    return table.query_all(
        key_condition="GSI3PK = :pk", expr_values=table.values(pk=store.channel_messages_pk(tid, channel_id)), index="GSI3"
    )


def _until(check, timeout=45.0):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            return got
        time.sleep(0.5)


def test_announcers_and_operations_over_http(local, emulator_env, tmp_path):
    from parley.domain import channels

    tenant, stranger = local.new_tenant("courier-announcers"), local.new_tenant("courier-announcers-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert (
        _import(local, tmp_path, tid, [*lines, _group(ids, "g1", ["sam", "lee"], T1), _group(ids, "g2", ["sam", "kim"], T1)])["invalid"]
        == 0
    )

    def h(who="pat", credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": "application/vnd.api+json", "X-User-ID": ids[f"u-{who}"]}

    def single(resp, status, type_, keys):
        assert resp.status_code == status, resp.text
        assert resp.headers["Content-Type"] == "application/vnd.api+json"
        doc = resp.json()
        assert set(doc) == {"data", "meta"} and set(doc["data"]) == {"id", "type", "attributes"}
        assert doc["data"]["type"] == type_ and set(doc["data"]["attributes"]) == keys
        return doc["data"]

    # a channel bound to g1 (Pat creates it: Pat stays a member)
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-group-id": ids["g1"]}}}
    made = requests.post(f"{local.api}/v1/messaging-channels/", json=doc, headers=h(), timeout=30)
    assert made.status_code == 201, made.text
    chan = made.json()["data"]["id"]

    # ── announcers: create, get, list, PATCH ──
    base = f"{local.api}/v1/announcers"
    args = {"message": "Welcome, {first-name}!", "sender-individual-id": ids["pat"]}
    doc = {"data": {"type": "announcers", "attributes": {"event": "individual-shared", "name": "Welcome", "organization-id": ids["org"],
                                                         "type": "message", "args": args}}}  # fmt: skip
    created = single(requests.post(base + "/", json=doc, headers=h(), timeout=30), 201, "announcers", ANNOUNCER_KEYS)
    a = created["attributes"]
    assert (a["event"], a["name"], a["type"], a["args"], a["created-by"]) == ("individual-shared", "Welcome", "message", args, ids["u-pat"])
    got = single(requests.get(f"{base}/{created['id']}/", headers=h(), timeout=30), 200, "announcers", ANNOUNCER_KEYS)
    assert got["attributes"] == a
    listed = requests.get(base + "/", params={"organization-id": ids["org"], "filter[name]": "WELCOME"}, headers=h(), timeout=30)
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["data"]] == [created["id"]]
    assert listed.json()["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
    patch = {"data": {"type": "announcers", "id": created["id"], "attributes": {"name": "Hello"}}}
    patched = single(
        requests.patch(f"{base}/{created['id']}/", json=patch, headers=h("sam"), timeout=30), 200, "announcers", ANNOUNCER_KEYS
    )
    assert (patched["attributes"]["name"], patched["attributes"]["last-modified-by"]) == ("Hello", ids["u-sam"])
    bad = requests.post(base + "/", json={"data": {"type": "announcers", "attributes": {**doc["data"]["attributes"], "event": "x"}}},
                        headers=h(), timeout=30)  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["source"]["pointer"] == "/data/attributes/event"
    theirs = {"Authorization": f"Bearer {stranger['apiKey']}", "X-User-ID": ids["u-pat"], "Content-Type": "application/vnd.api+json"}
    assert requests.get(f"{base}/{created['id']}/", headers=theirs, timeout=30).status_code == 404
    assert requests.patch(f"{base}/{created['id']}/", json=patch, headers=theirs, timeout=30).status_code == 404
    assert requests.get(base + "/", headers=theirs, timeout=30).json()["data"] == []

    # ── the bus: Kim joins g1 → individual-shared → AutomationQueue → AutomationFunction posts once ──
    assert _import(local, tmp_path, tid, [_group(ids, "g1", ["sam", "lee", "kim"], T2)])["written"] == 1
    posted = _until(lambda: [m for m in _messages(tid, chan) if m.get("source") == "announcer"])
    assert [(m["message"], m["individual_id"]) for m in posted] == [("Welcome, Kim!", ids["pat"])]
    time.sleep(2)  # nothing more arrives
    assert len([m for m in _messages(tid, chan) if m.get("source") == "announcer"]) == 1

    # ── operations: move-group g1 → g2 ──
    ops = f"{local.api}/v1/messaging-operations"
    move = {"from-individual-group-id": ids["g1"], "to-individual-group-id": ids["g2"]}
    doc = {"data": {"type": "messaging-operations", "attributes": {"organization-id": ids["org"], "type": "move-group", "args": move}}}
    op = single(requests.post(ops + "/", json=doc, headers=h(), timeout=30), 201, "messaging-operations", OPERATION_KEYS)
    assert op["attributes"]["status"] == "queued" and op["attributes"]["type"] == "move-group"

    def finished():
        got = requests.get(f"{ops}/{op['id']}/", params={"include-args": "true"}, headers=h(), timeout=30).json()["data"]
        return got if got["attributes"]["status"] in ("completed", "failed") else None

    done = _until(finished)
    assert done and done["attributes"]["status"] == "completed", done
    logs = done["attributes"]["logs"]
    assert (logs["channels-total"], logs["channels-moved"]) == (1, 1)
    assert done["attributes"]["args"] == {"from-individual-group-id": ids["g1"], "to-individual-group-id": ids["g2"]}
    stored = channels.get_channel_item(tid, chan)
    assert stored["individual_group_id"] == ids["g2"]
    assert set(channels.member_ids(tid, chan)) == {ids["pat"], ids["sam"], ids["kim"]}  # lee (g1 only) left
    assert len(_messages(tid, chan)) == 1  # the messages stay
    listed = requests.get(ops + "/", params={"organization-id": ids["org"], "filter[type]": "move-group"}, headers=h(), timeout=30)
    assert listed.status_code == 200 and [r["id"] for r in listed.json()["data"]] == [op["id"]]
    assert listed.json()["data"][0]["attributes"]["args"] is None
    assert requests.get(f"{ops}/{op['id']}/", headers=theirs, timeout=30).status_code == 404
    assert requests.get(ops + "/", params={"organization-id": ids["org"]}, headers=theirs, timeout=30).status_code == 404
    split = {"data": {"type": "messaging-operations", "attributes": {"organization-id": ids["org"], "type": "split", "args": {}}}}
    refused = requests.post(ops + "/", json=split, headers=h(), timeout=30)
    assert refused.status_code == 422 and refused.json()["errors"][0]["source"]["pointer"] == "/data/attributes/type"

    # ── channel-created: a new conversation gets the announcer's welcome, once ──
    doc = {"data": {"type": "announcers", "attributes": {"event": "channel-created", "name": "Hi", "organization-id": ids["org"],
                                                         "type": "message", "args": {"message": "Hello both",
                                                                                     "sender-individual-id": ids["pat"]}}}}  # fmt: skip
    single(requests.post(base + "/", json=doc, headers=h(), timeout=30), 201, "announcers", ANNOUNCER_KEYS)
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-ids": [ids["kim"]]}}}
    direct = requests.post(f"{local.api}/v1/messaging-channels/", json=doc, headers=h(), timeout=30)
    assert direct.status_code == 201, direct.text
    welcome = _until(lambda: _messages(tid, direct.json()["data"]["id"]))
    assert [(m["message"], m["source"]) for m in welcome] == [("Hello both", "announcer")]
