"""Courier messaging responders (seed 003, issue 19 area 3) over HTTP on the local stack: every route of
messaging-responders (list, create, get, PATCH, enable, disable) in the seed's shapes (JSON:API envelopes, attributes,
page meta), the stored state, another tenant's 404 — and the acceptance: two groups whose responders are active message
each other in one conversation, each gets one auto-reply (source auto-responder) from the other group, posted by the
local stack's ChannelEventsFunction, and nothing more however long we wait (no loop)."""

from __future__ import annotations

import time
import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
ATTRS = {
    "args", "calendar-args", "created-at", "created-by", "enabled", "end-at", "individual-group-id", "last-modified-at",
    "last-modified-by", "name", "organization-id", "start-at", "type",
}  # fmt: skip


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "ga", "gb", "ua", "ub", "ia", "ib")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for u, i, name in (("ua", "ia", "Ann"), ("ub", "ib", "Bob")):
        lines.append(
            {"type": "users", "id": ids[u], "last-sync-time": T1, "attributes": {"username": name.lower(), "primary-individual-id": ids[i]}}
        )
        lines.append({"type": "individuals", "id": ids[i], "last-sync-time": T1, "attributes": {"first-name": name, "owner-id": ids[u]}})
    for g, i, name in (("ga", "ia", "Team A"), ("gb", "ib", "Team B")):
        attrs = {"name": name, "organization-id": ids["org"], "individuals": [{"id": ids[i]}], "last-sync-time": T1}
        lines.append({"type": "individual-groups", "id": ids[g], "last-sync-time": T1, "attributes": attrs})
    return ids, lines


def test_responders_over_http_and_two_groups_answer_each_other_once(local, emulator_env, tmp_path):
    from parley.dal import responders as store

    tenant, stranger = local.new_tenant("courier-responders"), local.new_tenant("courier-responders-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    api = local.api

    def h(user="ua", credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": "application/vnd.api+json", "X-User-ID": ids[user]}

    def create(group, message, **extra):
        attrs = {"organization-id": ids["org"], "individual-group-id": ids[group], "name": f"{group} away", "type": "message",
                 "args": {"message": message}, "calendar-args": {"timezone": "America/New_York", "rules": []}, **extra}  # fmt: skip
        got = requests.post(f"{api}/v1/messaging-responders/", json={"data": {"type": "messaging-responders", "attributes": attrs}},
                            headers=h(), timeout=30)  # fmt: skip
        assert got.status_code == 201, got.text
        assert got.headers["Content-Type"] == "application/vnd.api+json"
        return got.json()

    # create: the seed's envelope and attributes, stored
    doc = create("ga", "A is away", **{"start-at": "2026-01-01T00:00:00Z"})
    assert set(doc) == {"data", "meta"} and doc["meta"] == {}
    ra = doc["data"]
    assert ra["type"] == "messaging-responders" and set(ra["attributes"]) == ATTRS
    assert ra["attributes"]["enabled"] is True and ra["attributes"]["start-at"] == "2026-01-01T00:00:00.000Z"
    assert (
        ra["attributes"]["calendar-args"] == {"timezone": "America/New_York", "rules": []} and ra["attributes"]["created-by"] == ids["ua"]
    )
    item = store.get(tid, ra["id"], consistent=True)
    assert item["individual_group_id"] == ids["ga"] and item["GSI6PK"].endswith(f"#RESPONDERS#ON#ORG#{ids['org']}")
    rb = create("gb", "B is away")["data"]

    # get, list (filters, sort, page meta)
    got = requests.get(f"{api}/v1/messaging-responders/{ra['id']}/", headers=h(), timeout=30)
    assert got.status_code == 200 and got.json()["data"] == ra
    got = requests.get(
        f"{api}/v1/messaging-responders/", params={"organization-id": ids["org"], "sort": "-created-at"}, headers=h(), timeout=30
    )
    assert got.status_code == 200, got.text
    assert [d["id"] for d in got.json()["data"]] == [rb["id"], ra["id"]]
    assert got.json()["meta"] == {"page[total]": 2, "page[limit]": 100, "page[offset]": 0}
    window = {"organization-id": ids["org"], "filter[cmp-start-at]": ">=2025-12-31T00:00:00Z"}
    got = requests.get(f"{api}/v1/messaging-responders/", params=window,
                       headers=h(), timeout=30)  # fmt: skip
    assert [d["id"] for d in got.json()["data"]] == [ra["id"]]

    # PATCH (null clears start-at), disable, enable
    patch = {"data": {"type": "messaging-responders", "id": ra["id"], "attributes": {"name": "A out", "start-at": None}}}
    got = requests.patch(f"{api}/v1/messaging-responders/{ra['id']}/", json=patch, headers=h("ub"), timeout=30)
    assert got.status_code == 200, got.text
    a = got.json()["data"]["attributes"]
    assert (a["name"], a["start-at"], a["last-modified-by"]) == ("A out", None, ids["ub"])
    assert "start_at" not in store.get(tid, ra["id"], consistent=True)
    got = requests.post(f"{api}/v1/messaging-responders/{ra['id']}/disable/", json={}, headers=h(), timeout=30)
    assert got.status_code == 201 and got.json()["data"]["attributes"]["enabled"] is False
    assert "GSI6PK" not in store.get(tid, ra["id"], consistent=True)
    got = requests.post(f"{api}/v1/messaging-responders/{ra['id']}/enable/", json={}, headers=h(), timeout=30)
    assert got.status_code == 201 and got.json()["data"]["attributes"]["enabled"] is True
    assert store.get(tid, ra["id"], consistent=True)["enabled"] is True

    # bad input: a clear 4xx with its pointer
    bad_attrs = {"organization-id": ids["org"], "individual-group-id": ids["ga"], "args": {"message": "x"},
                 "calendar-args": {"timezone": "Nowhere/City"}}  # fmt: skip
    bad = {"data": {"type": "messaging-responders", "attributes": bad_attrs}}
    got = requests.post(f"{api}/v1/messaging-responders/", json=bad, headers=h(), timeout=30)
    assert got.status_code == 422 and got.json()["errors"][0]["source"]["pointer"] == "/data/attributes/calendar-args/timezone"

    # another tenant: 404 on every id route, and for the organization
    other = {"Authorization": f"Bearer {stranger['apiKey']}", "Content-Type": "application/vnd.api+json", "X-User-ID": ids["ua"]}
    rename = {"data": {"type": "messaging-responders", "id": ra["id"], "attributes": {"name": "x"}}}
    for method, suffix, body in (("get", "", None), ("post", "enable/", {}), ("post", "disable/", {}), ("patch", "", rename)):
        got = requests.request(method, f"{api}/v1/messaging-responders/{ra['id']}/{suffix}", json=body, headers=other, timeout=30)
        assert got.status_code == 404, (method, suffix, got.text)
    got = requests.get(f"{api}/v1/messaging-responders/", params={"organization-id": ids["org"]}, headers=other, timeout=30)
    assert got.status_code == 404

    # the acceptance: Ann (group A) and Bob (group B) in one conversation, both groups' responders active
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-ids": [ids["ib"]]}}}
    got = requests.post(f"{api}/v1/messaging-channels/", json=doc, headers=h("ua"), timeout=30)
    assert got.status_code == 201, got.text
    cid = got.json()["data"]["id"]

    def say(user, text):
        doc = {"data": {"type": "messaging-messages", "attributes": {"channel-id": cid, "message": text}}}
        got = requests.post(f"{api}/v1/messaging-messages/", json=doc, headers=h(user), timeout=30)
        assert got.status_code == 201, got.text

    def conversation():
        got = requests.get(f"{api}/v1/messaging-messages", params={"channel-id": cid, "page[limit]": 50}, headers=h("ua"), timeout=30)
        assert got.status_code == 200, got.text
        return [
            (d["attributes"]["individual-id"], d["attributes"]["message"], d["attributes"]["source"]) for d in reversed(got.json()["data"])
        ]

    def wait_for(count):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = conversation()
            if len(now) >= count:
                return now
            time.sleep(0.5)
        raise AssertionError(f"expected {count} messages, got {conversation()}")

    say("ua", "hello B")
    wait_for(2)
    say("ub", "hello A")
    wait_for(4)
    say("ua", "still there?")
    time.sleep(5)  # time enough for a loop to show
    got = conversation()
    assert got == [
        (ids["ia"], "hello B", "api"),
        (ids["ib"], "B is away", "auto-responder"),
        (ids["ib"], "hello A", "api"),
        (ids["ia"], "A is away", "auto-responder"),
        (ids["ia"], "still there?", "api"),
    ], got
    assert [m["message_id"] is not None for m in store.markers(tid, ra["id"]) + store.markers(tid, rb["id"])] == [True, True]
