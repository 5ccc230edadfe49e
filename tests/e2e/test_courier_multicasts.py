"""Multicasts over HTTP on the local stack (seed 003, issue 16): every route — multicasts list/create/get,
user-multicasts list/create, users/{id}/multicast, individuals/{id}/multicast, users/{id}/validate-multicast-params —
with the seed's shapes (JSON:API for multicasts, flat bodies and answers for the others), the stored state, the fan-out
run by the local stack's SQS poller of MulticastQueue (MulticastFunction), JSON:API errors, and tenant isolation.

The fan-out's batches call parley.domain.notifications.notify (helper B's). In a checkout without it the batch step
fails (and is retried, then dead-lettered), so the multicast stays `running` with its audience counted and no recipient
stored; with it, the multicast is `done` and every recipient is stored. The test asserts whichever this checkout is.
"""

from __future__ import annotations

import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
ATTRS = {
    "created-at", "created-by", "data", "first-name", "last-name", "user-name", "individual-group", "individual-group-id",
    "individual-id", "individual-ids", "status", "template-args", "template-id", "kind", "filter-type", "filter-value",
    "organization-id", "progress",
}  # fmt: skip


def _world():
    ids = {t: str(uuid.uuid4()) for t in ("org", "user", "user2", "ind", "ind2", "orphan", "group")}
    lines = [
        {"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}},
        {"type": "users", "id": ids["user"], "attributes": {"username": "pat", "primary-individual-id": ids["ind"], "last-sync-time": T1}},
        {"type": "users", "id": ids["user2"], "attributes": {"username": "sam", "last-sync-time": T1}},
        {"type": "individuals", "id": ids["ind"], "last-sync-time": T1, "attributes": {"first-name": "Pat", "owner-id": ids["user"]}},
        {"type": "individuals", "id": ids["ind2"], "last-sync-time": T1, "attributes": {"first-name": "Sam <3", "owner-id": ids["user2"]}},
        {"type": "individuals", "id": ids["orphan"], "last-sync-time": T1, "attributes": {"first-name": "Nobody"}},
        {"type": "individual-groups", "id": ids["group"], "attributes": {"name": "Care team", "organization-id": ids["org"],
         "individuals": [{"id": ids["ind"]}, {"id": ids["ind2"]}], "leaders": [{"id": ids["user"]}], "last-sync-time": T1}},
    ]  # fmt: skip
    return ids, lines


def _h(key, user=None, media="application/json"):
    return {"Authorization": f"Bearer {key}", "Content-Type": media, **({"X-User-ID": user} if user else {})}


def test_multicasts_over_http(local, emulator_env, tmp_path):
    from parley.dal import multicasts as store

    tenant, stranger = local.new_tenant("multicasts"), local.new_tenant("multicasts-stranger")
    key, tid, skey = tenant["apiKey"], tenant["tenantId"], stranger["apiKey"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    made = requests.post(local.api + "/api/v1/communications/templates", headers=_h(key), timeout=30, json={
        "name": "Flu", "subject": "Flu shots, {{recipient.name}}", "bodyHtml": "<p>{{clinic}} for {{recipient.first_name}}</p>",
        "bodyText": "{{clinic}} for {{recipient.first_name}}", "type": "REMINDER"})  # fmt: skip
    assert made.status_code == 201, made.text
    tpl = made.json()["id"]
    api = local.api

    # POST /v1/multicasts/ (JSON:API): the organization's care teams
    doc = {"data": {"type": "multicasts", "attributes": {"template-id": tpl, "data": {"clinic": "North & Co"},
                                                         "filter-type": "all-participants", "organization-id": ids["org"]}}}  # fmt: skip
    out = requests.post(api + "/v1/multicasts/", json=doc, headers=_h(key, media="application/vnd.api+json"), timeout=30)
    assert out.status_code == 201, out.text
    assert out.headers["Content-Type"] == "application/vnd.api+json"
    body = out.json()
    assert set(body) == {"data", "meta"} and body["data"]["type"] == "multicasts" and set(body["data"]["attributes"]) == ATTRS
    mid = body["data"]["id"]
    assert body["data"]["attributes"]["status"] == "queued" and body["data"]["attributes"]["organization-id"] == ids["org"]
    assert store.get(tid, mid)["PK"] == f"TENANT#{tid}#MULTICAST#{mid}"

    # the local stack's poller runs the fan-out: the audience is paged and counted
    def progressed():
        got = requests.get(f"{api}/v1/multicasts/{mid}/", headers=_h(key), timeout=30).json()["data"]["attributes"]
        return got if got["status"] == "done" and got["progress"]["audience"] == 2 else None

    final = local.wait_for(progressed, timeout=20, interval=0.3)
    assert final, requests.get(f"{api}/v1/multicasts/{mid}", headers=_h(key), timeout=30).text
    rows = store.all_recipient_keys(tid, mid)
    assert final["progress"]["notified"] == 2 and {r["individual_id"] for r in rows} == {ids["ind"], ids["ind2"]}
    # each recipient's user has the notification, rendered for them (the notifications routes read it)
    mine = next(r for r in rows if r["individual_id"] == ids["ind2"])
    got = requests.get(f"{api}/v1/user-notifications/{mine['notification_id']}/", headers=_h(key, ids["user2"]), timeout=30)
    assert got.status_code == 200, got.text
    data = got.json()["data"]["attributes"]["data"]
    assert data["apn"]["title"] == "Flu shots, Sam <3" and data["apn"]["body"] == "North & Co for Sam <3"
    assert data["apn"]["data"] == {"multicast-id": mid, "template-id": tpl} and data["sms"]["bodies"] == ["North & Co for Sam <3"]

    # GET with the include flags: the individual-group expanded
    full = requests.get(f"{api}/v1/multicasts/{mid}", params={"include-individual-group": "true", "include-individual-ids": "true"},
                        headers=_h(key), timeout=30).json()["data"]["attributes"]  # fmt: skip
    assert full["individual-group"] is None  # an organization's audience names no group itself

    # POST /v1/user-multicasts/ (flat): to a group and an individual → {task-id, message-data}
    flat = requests.post(api + "/v1/user-multicasts/", headers=_h(key), timeout=30,
                         json={"template-id": tpl, "template-data": {"clinic": "N"}, "individual-ids": [ids["orphan"]],
                               "individual-group-ids": [ids["group"]]})  # fmt: skip
    assert flat.status_code == 201, flat.text
    assert flat.headers["Content-Type"] == "application/json" and set(flat.json()) == {"task-id", "message-data"}
    assert flat.json()["message-data"]["subject"] == "Flu shots, {{recipient.name}}"
    task = flat.json()["task-id"]
    got = requests.get(f"{api}/v1/multicasts/{task}/", params={"include-individual-group": "true", "include-individual-ids": "true"},
                       headers=_h(key), timeout=30).json()["data"]["attributes"]  # fmt: skip
    assert got["kind"] == "user-multicasts" and got["individual-ids"] == [ids["orphan"]] and got["individual-group-id"] == ids["group"]
    assert got["individual-group"]["individual-ids"] == [ids["ind"], ids["ind2"]] and got["individual-group"]["name"] == "Care team"

    # POST /v1/users/{id}/multicast/ and /v1/individuals/{id}/multicast/: one recipient each, rendered for them
    to_user = requests.post(f"{api}/v1/users/{ids['user']}/multicast/", headers=_h(key), timeout=30,
                            json={"template-id": tpl, "data": {"clinic": "N"}, "individual-id": ids["ind"]})  # fmt: skip
    assert to_user.status_code == 201, to_user.text
    assert to_user.json()["message-data"]["subject"] == "Flu shots, Pat"
    to_ind = requests.post(f"{api}/v1/individuals/{ids['ind2']}/multicast", headers=_h(key), timeout=30,
                           json={"template-id": tpl, "template-data": {"clinic": "N"}})  # fmt: skip
    assert to_ind.status_code == 201, to_ind.text
    assert to_ind.json()["message-data"]["html"] == "<p>N for Sam &lt;3</p>"  # escaped in HTML
    assert store.get(tid, to_ind.json()["task-id"])["kind"] == "individual"

    # POST /v1/users/{id}/validate-multicast-params/: a dry run naming every missing variable
    check = {"template-id": tpl, "data": {}, "individual-id": ids["ind"], "organization-id": ids["org"]}
    dry = requests.post(f"{api}/v1/users/{ids['user']}/validate-multicast-params/", json=check, headers=_h(key), timeout=30)
    assert dry.status_code == 201 and dry.json() == {"success": False, "info": "missing template variable: clinic"}
    fine = requests.post(f"{api}/v1/users/{ids['user']}/validate-multicast-params", json={**check, "data": {"clinic": "N"}},
                         headers=_h(key), timeout=30)  # fmt: skip
    assert fine.status_code == 201 and fine.json()["success"] is True

    # GET /v1/multicasts/: newest first, filters, page meta
    listed = requests.get(api + "/v1/multicasts/", params={"template-id": tpl, "page[limit]": 2}, headers=_h(key), timeout=30)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert page["meta"] == {"page[total]": 4, "page[limit]": 2, "page[offset]": 0}
    assert [d["id"] for d in page["data"]] == [to_ind.json()["task-id"], to_user.json()["task-id"]]
    by_group = requests.get(api + "/v1/multicasts", params={"individual-group-id": ids["group"]}, headers=_h(key), timeout=30).json()
    assert [d["id"] for d in by_group["data"]] == [task]

    # GET /v1/user-multicasts/: what an individual received (the acting user's individual)
    def received():
        got = requests.get(api + "/v1/user-multicasts/", params={"individual-id": ids["ind"]}, headers=_h(key, ids["user"]), timeout=30)
        assert got.status_code == 200, got.text
        return got.json() if got.json()["meta"]["page[total]"] >= 3 else None

    mine = local.wait_for(received, timeout=20, interval=0.3)
    assert mine and set(mine["meta"]) == {"page[total]", "page[limit]", "page[offset]"}
    assert {d["id"] for d in mine["data"]} == {mid, task, to_user.json()["task-id"]}
    assert all(d["type"] == "user-multicasts" and d["attributes"]["template-id"] == tpl for d in mine["data"])
    theirs = requests.get(api + "/v1/user-multicasts/", params={"individual-id": ids["ind2"]}, headers=_h(key, ids["user"]), timeout=30)
    assert theirs.status_code == 403 and theirs.json()["errors"][0]["code"] == "not-owner"

    # errors: JSON:API error objects naming the member
    bad = requests.post(api + "/v1/user-multicasts/", json={"template-id": tpl, "template-data": {}, "individual-ids": [ids["ind"]]},
                        headers=_h(key), timeout=30)  # fmt: skip
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["detail"] == "missing template variable: clinic"
    assert bad.json()["errors"][0]["source"] == {"pointer": "/template-data"}

    # another tenant: every id is a 404, and its list is empty
    assert requests.get(f"{api}/v1/multicasts/{mid}/", headers=_h(skey), timeout=30).status_code == 404
    assert requests.get(api + "/v1/multicasts/", headers=_h(skey), timeout=30).json()["data"] == []
    foreign = requests.post(f"{api}/v1/individuals/{ids['ind']}/multicast/", json={"template-id": tpl, "template-data": {"clinic": "x"}},
                            headers=_h(skey), timeout=30)  # fmt: skip
    assert foreign.status_code == 404 and foreign.json()["errors"][0]["status"] == 404
