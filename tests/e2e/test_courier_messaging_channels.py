"""The courier messaging channels (seed 003, docs/courier.md "Channels") over HTTP on the local stack: every route of
area A (list, create, get, PATCH in both forms, archive, unarchive, subscribe, unsubscribe, preferences, get-profile)
answers the seed's shapes (the envelope, type, every attribute of ``messaging_channels_attrs``, 201 for actions), a
direct channel is found again for the same people, a group-bound channel follows `import-directory`, non-members and
another tenant get a JSON:API 404, and the stored state is checked in the emulator's table."""

from __future__ import annotations

import uuid

import requests

from helpers import import_directory as _import

T1, T2 = "2026-11-01T09:00:00Z", "2026-11-02T09:00:00Z"
CHANNEL_KEYS = {
    "archived", "bookmark", "caller-has-new-message", "caller-new-message-count", "can-enable-sms", "created-at", "created-by",
    "event-settings", "floating", "group-provider-ack", "individual-group", "individual-group-id", "label", "last-message",
    "last-modified-time", "name", "observation-id", "org-id", "owner-first-name", "owner-id", "owner-last-name", "subscribers",
    "subscription-type", "text-number", "with-sms", "notify",
}  # fmt: skip
SUBSCRIBER_KEYS = {
    "admin", "auto-sign-up", "birth-date", "communication-preferences", "email", "email-verified", "first-name", "id", "last-name",
    "phone-number", "phone-number-unsubscribed", "phone-number-verified", "pinned",
}  # fmt: skip


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "group", "pat", "sam", "lee", "u-pat", "u-sam", "u-lee")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for name in ("pat", "sam", "lee"):
        lines.append({"type": "users", "id": ids[f"u-{name}"], "attributes": {"username": name, "primary-individual-id": ids[name],
                      "email": f"{name}@example.com", "last-sync-time": T1}})  # fmt: skip
        person = {"first-name": name.title(), "owner-id": ids[f"u-{name}"], "photo": f"https://img.example.com/{name}.png"}
        lines.append({"type": "individuals", "id": ids[name], "last-sync-time": T1, "attributes": person})
    return ids, lines


def _group(ids, members, at):
    attrs = {"name": "Care team", "organization-id": ids["org"], "individuals": [{"id": ids[m]} for m in members], "last-sync-time": at}
    return {"type": "individual-groups", "id": ids["group"], "attributes": attrs}


def test_messaging_channels_over_http(local, emulator_env, tmp_path):
    from parley.domain import channels

    tenant, stranger = local.new_tenant("courier-channels"), local.new_tenant("courier-channels-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert _import(local, tmp_path, tid, [*lines, _group(ids, ["sam"], T1)])["invalid"] == 0
    base = f"{local.api}/v1/messaging-channels"

    def h(who="pat", credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": "application/vnd.api+json", "X-User-ID": ids[f"u-{who}"]}

    def shape(resp, status):
        assert resp.status_code == status, resp.text
        assert resp.headers["Content-Type"] == "application/vnd.api+json"
        doc = resp.json()
        assert set(doc) == {"data", "meta"} and set(doc["data"]) == {"id", "type", "attributes"}
        assert doc["data"]["type"] == "messaging-channels" and set(doc["data"]["attributes"]) == CHANNEL_KEYS
        for sub in doc["data"]["attributes"]["subscribers"]:
            assert set(sub) == SUBSCRIBER_KEYS
        return doc["data"]

    # create: a direct channel of Pat and Sam (201), then Sam asking for the same pair gets it back (200)
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-ids": [ids["sam"]],
                                                                 "name": "Pat & Sam", "event-settings": {"enabled": True}}}}  # fmt: skip
    direct = shape(requests.post(base + "/", json=doc, headers=h(), timeout=30), 201)
    a = direct["attributes"]
    assert (a["org-id"], a["name"], a["owner-id"], a["owner-first-name"], a["event-settings"]) == (
        ids["org"], "Pat & Sam", ids["pat"], "Pat", {"enabled": True})  # fmt: skip
    assert (a["caller-has-new-message"], a["caller-new-message-count"], a["last-message"], a["bookmark"], a["archived"]) == (
        False,
        0,
        None,
        None,
        False,
    )
    assert {s["id"]: s["admin"] for s in a["subscribers"]} == {ids["pat"]: True, ids["sam"]: False}
    again = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-ids": [ids["pat"]]}}}
    assert shape(requests.post(base, json=again, headers=h("sam"), timeout=30), 200)["id"] == direct["id"]
    assert set(channels.member_ids(tid, direct["id"])) == {ids["pat"], ids["sam"]}

    # a group-bound channel follows import-directory
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "individual-group-id": ids["group"]}}}
    group = shape(requests.post(base, json=doc, headers=h(), timeout=30), 201)
    assert group["attributes"]["name"] == "Care team" and set(channels.member_ids(tid, group["id"])) == {ids["pat"], ids["sam"]}
    assert _import(local, tmp_path, tid, [_group(ids, ["lee"], T2)])["written"] == 1
    assert set(channels.member_ids(tid, group["id"])) == {ids["pat"], ids["lee"]}

    # list: Pat's channels, filters, the page meta
    listed = requests.get(base + "/", headers=h(), timeout=30)
    assert listed.status_code == 200 and {c["id"] for c in listed.json()["data"]} == {direct["id"], group["id"]}
    assert listed.json()["meta"] == {"page[total]": 2, "page[limit]": 50, "page[offset]": 0}
    only = requests.get(base, params={"filter[individual-group-id]": ids["group"]}, headers=h(), timeout=30).json()
    assert [c["id"] for c in only["data"]] == [group["id"]]
    assert [c["id"] for c in requests.get(base, headers=h("sam"), timeout=30).json()["data"]] == [direct["id"]]

    # get, with the deprecated include-individual-group
    got = shape(requests.get(f"{base}/{group['id']}/", params={"include-individual-group": "true"}, headers=h("lee"), timeout=30), 200)
    assert got["attributes"]["individual-group"]["individual-ids"] == [ids["lee"]]

    # PATCH: the seed's operations, then a partial object
    ops = {
        "data": {"type": "messaging-channels", "id": direct["id"], "attributes": [{"op": "replace", "path": "label", "value": "urgent"}]}
    }
    assert shape(requests.patch(f"{base}/{direct['id']}/", json=ops, headers=h("sam"), timeout=30), 200)["attributes"]["label"] == "urgent"
    partial = {"data": {"type": "messaging-channels", "id": direct["id"], "attributes": {"name": "Renamed"}}}
    assert shape(requests.patch(f"{base}/{direct['id']}", json=partial, headers=h(), timeout=30), 200)["attributes"]["name"] == "Renamed"
    bad = {"data": {"type": "messaging-channels", "attributes": [{"op": "replace", "path": "individual-group-id", "value": "x"}]}}
    refused = requests.patch(f"{base}/{direct['id']}/", json=bad, headers=h(), timeout=30)
    assert refused.status_code == 422 and refused.json()["errors"][0]["source"]["pointer"] == "/data/attributes/0/path"
    stored = channels.get_channel_item(tid, direct["id"])
    assert (stored["name"], stored["label"]) == ("Renamed", "urgent")

    # archive / unarchive
    assert shape(requests.post(f"{base}/{direct['id']}/archive/", json={}, headers=h(), timeout=30), 201)["attributes"]["archived"] is True
    assert channels.get_channel_item(tid, direct["id"])["archived"] is True
    assert (
        shape(requests.post(f"{base}/{direct['id']}/unarchive/", json={}, headers=h(), timeout=30), 201)["attributes"]["archived"] is False
    )
    assert channels.get_channel_item(tid, direct["id"])["archived"] is False

    # subscribe / unsubscribe
    joined = shape(requests.post(f"{base}/{direct['id']}/subscribe/", json={"individual-ids": [ids["lee"]]}, headers=h(), timeout=30), 201)
    assert ids["lee"] in {s["id"] for s in joined["attributes"]["subscribers"]}
    assert set(channels.member_ids(tid, direct["id"])) == {ids["pat"], ids["sam"], ids["lee"]}
    left = shape(requests.post(f"{base}/{direct['id']}/unsubscribe/", json={"individual-ids": [ids["lee"]]}, headers=h(), timeout=30), 201)
    assert ids["lee"] not in {s["id"] for s in left["attributes"]["subscribers"]}
    assert set(channels.member_ids(tid, direct["id"])) == {ids["pat"], ids["sam"]}
    # the channel's event-settings are on: the join and the leave each posted a system message, in order
    said = requests.get(f"{local.api}/v1/messaging-messages/", params={"channel-id": direct["id"]}, headers=h("sam"), timeout=30)
    assert said.status_code == 200, said.text
    rows = [(m["attributes"]["message"], m["attributes"]["source"], m["attributes"]["user-type"], m["attributes"]["individual-id"])
            for m in reversed(said.json()["data"])]  # fmt: skip
    assert rows == [("Lee joined", "system", "system", ids["lee"]), ("Lee left", "system", "system", ids["lee"])]
    sam = {m["individual_id"]: m for m in channels.member_items(tid, direct["id"])}[ids["sam"]]
    assert sam["unread"] == 2  # unread for Sam (Lee's own "joined" was Lee's to read)
    leave_id = said.json()["data"][0]["id"]
    patch = {"data": {"type": "messaging-messages", "id": leave_id, "attributes": {"removed": True}}}
    assert requests.patch(f"{local.api}/v1/messaging-messages/{leave_id}/", json=patch, headers=h("pat"), timeout=30).status_code == 403

    # preferences: Sam's own notify
    prefs = {"individual-id": ids["sam"], "values": [{"name": "notify", "value": "false"}]}
    assert (
        shape(requests.post(f"{base}/{direct['id']}/preferences/", json=prefs, headers=h("sam"), timeout=30), 201)["attributes"]["notify"]
        is False
    )
    members = {m["individual_id"]: m for m in channels.member_items(tid, direct["id"])}
    assert members[ids["sam"]]["notify"] is False and members[ids["pat"]]["notify"] is True

    # get-profile: a member's photo, to members only
    profile = requests.get(f"{base}/{direct['id']}/get-profile/", params={"individual-id": ids["pat"], "profile-individual-id": ids["sam"]},
                           headers=h(), timeout=30)  # fmt: skip
    assert profile.status_code == 200 and profile.json()["data"] == {
        "id": ids["sam"], "type": "individual-profiles", "attributes": {"photo": "https://img.example.com/sam.png"}}  # fmt: skip

    # a non-member (Lee, who left) and another tenant: the same JSON:API 404 on every id route
    routes = [("GET", ""), ("PATCH", ""), ("POST", "archive/"), ("POST", "unarchive/"), ("POST", "subscribe/"), ("POST", "unsubscribe/"),
              ("POST", "preferences/"), ("GET", "get-profile/")]  # fmt: skip
    bodies = {
        "": {"data": {"type": "messaging-channels", "attributes": {"name": "Taken"}}},
        "subscribe/": {"individual-ids": [ids["lee"]]},
        "unsubscribe/": {"individual-ids": [ids["pat"]]},
        "preferences/": {"values": [{"name": "notify", "value": "false"}]},
    }
    for method, suffix in routes:
        for headers in (h("lee"), h("pat", stranger["apiKey"])):
            params = {"profile-individual-id": ids["sam"]} if suffix == "get-profile/" else None
            body = bodies.get(suffix, {}) if method != "GET" else None
            resp = requests.request(method, f"{base}/{direct['id']}/{suffix}", json=body, params=params, headers=headers, timeout=30)
            if headers["Authorization"].endswith(stranger["apiKey"]):  # the stranger's directory has no such user: 422/403 first
                assert resp.status_code in (403, 404, 422), resp.text
                continue
            assert resp.status_code == 404, (method, suffix, resp.text)
            assert resp.json()["errors"][0]["status"] == 404 and resp.json()["errors"][0]["code"] == "not-found"
    stored = channels.get_channel_item(tid, direct["id"])
    assert stored["name"] == "Renamed" and set(channels.member_ids(tid, direct["id"])) == {ids["pat"], ids["sam"]}
