"""Communication summaries (seed 003, issue 19 area 5) over HTTP on the local stack: messages posted over the
messaging API reach the summaries through ChannelEventsFunction's hook; GET /v1/communication-summaries/ answers the
seed's plain shape; POST /v1/individuals/{id}/recalculate-communication-summary/ rebuilds from the stored records and
answers the individual; POST /v1/aggregation-requests/ answers a bare record and AutomationFunction's summary-rebuild
job rebuilds what it named; another tenant gets 404 on every route."""

from __future__ import annotations

import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"


def _world():
    ids = {k: str(uuid.uuid4()) for k in ("org", "ua", "ub", "uc", "ia", "ib", "ic")}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for u, i, name in (("ua", "ia", "Ann"), ("ub", "ib", "Bob"), ("uc", "ic", "Cy")):
        lines.append(
            {"type": "users", "id": ids[u], "last-sync-time": T1, "attributes": {"username": name.lower(), "primary-individual-id": ids[i]}}
        )
        lines.append({"type": "individuals", "id": ids[i], "last-sync-time": T1, "attributes": {"first-name": name, "owner-id": ids[u]}})
    return ids, lines


def test_summaries_over_http(local, emulator_env, tmp_path):
    from parley.dal import communication_summaries as store
    from parley.dal import table
    from parley.domain import channels

    tenant, stranger = local.new_tenant("courier-summaries"), local.new_tenant("courier-summaries-stranger")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    ids, lines = _world()
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    org, a, b, c = ids["org"], ids["ia"], ids["ib"], ids["ic"]
    group, _ = channels.create_channel(
        tid, organization_id=org, creator_individual_id=a, individual_ids=[b, c], floating=True, name="Care team", publish=False
    )
    direct, _ = channels.create_channel(
        tid, organization_id=ids["org"], creator_individual_id=ids["ia"], individual_ids=[ids["ib"]], publish=False
    )
    api = local.api

    def h(user, credential=key):
        return {"Authorization": f"Bearer {credential}", "Content-Type": "application/vnd.api+json", "X-User-ID": ids[user]}

    def post(user, cid, text):
        doc = {"data": {"type": "messaging-messages", "attributes": {"channel-id": cid, "message": text}}}
        got = requests.post(f"{api}/v1/messaging-messages/", json=doc, headers=h(user), timeout=30)
        assert got.status_code == 201, got.text
        return got.json()["data"]

    def summary(user, **params):
        got = requests.get(f"{api}/v1/communication-summaries/", params=params, headers=h(user), timeout=30)
        assert got.status_code == 200, got.text
        assert got.headers["Content-Type"].startswith("application/json")
        return got.json()["summary"]

    # maintained: three messages posted over HTTP; ChannelEventsFunction's hook counts them for the other members
    post("ua", group["id"], "Shift swap tomorrow?")
    post("ub", group["id"], "I can take it")
    removed = post("ua", direct["id"], "private note")
    want_b = {"messages": 2, "notifications": 0, "provider-messages": 0, "video-channels": 0,
              "message-types": [{"message-type": "group-messages", "count": 0}, {"message-type": "direct-messages", "count": 1},
                                {"message-type": "floating-messages", "count": 1}],
              "message-senders": [{"individual-id": ids["ia"], "count": 2}]}  # fmt: skip
    got = local.wait_for(lambda: summary("ua", **{"individual-id": ids["ib"], "include-senders": "true"}) == want_b, timeout=20)
    assert got, summary("ua", **{"individual-id": ids["ib"], "include-senders": "true"})
    # the seed's keys; without include-senders no mapping; without individual-id the user's primary individual
    mine = summary("ub")
    assert set(mine) == {"messages", "notifications", "provider-messages", "video-channels", "message-types"} and mine["messages"] == 2
    assert local.wait_for(lambda: summary("uc")["messages"] == 2, timeout=20)
    # a removal takes it back
    patch = {"data": {"type": "messaging-messages", "id": removed["id"], "attributes": {"removed": True}}}
    assert requests.patch(f"{api}/v1/messaging-messages/{removed['id']}/", json=patch, headers=h("ua"), timeout=30).status_code == 200
    assert local.wait_for(lambda: summary("ub")["messages"] == 1, timeout=20), summary("ub")
    items = store.items(tid, ids["ib"], consistent=True)
    assert sum(i.get("messages", 0) for i in items if i["type"] == "csum_channel") == 1

    # recalculate: a wrong stored counter is replaced by what the stored records say; answers the individual (201)
    table.put_item({"PK": store.pk(tid, ids["ib"]), "SK": "CHAN#nowhere#2026-01-01T00:00:00.000Z", "type": "csum_channel",
                    "channel_id": "nowhere", "channel_kind": "group", "messages": 99, "epoch": "2026-01-01T00:00:00.000Z"})  # fmt: skip
    assert summary("ub")["messages"] == 100
    got = requests.post(f"{api}/v1/individuals/{ids['ib']}/recalculate-communication-summary/", json={}, headers=h("ua"), timeout=30)
    assert got.status_code == 201, got.text
    doc = got.json()
    assert doc["data"]["type"] == "individuals" and doc["data"]["id"] == ids["ib"] and doc["data"]["attributes"]["first-name"] == "Bob"
    assert summary("ub")["messages"] == 1
    stored = {i["SK"]: i for i in store.items(tid, ids["ib"], consistent=True)}
    assert "CHAN#nowhere#2026-01-01T00:00:00.000Z" not in stored and stored["REBUILT"]["at"].endswith("Z")

    # aggregation-requests: a bare record; the summary-rebuild job (AutomationFunction) rebuilds C's message columns
    table.put_item({"PK": store.pk(tid, ids["ic"]), "SK": "CHAN#nowhere#2026-01-01T00:00:00.000Z", "type": "csum_channel",
                    "channel_id": "nowhere", "channel_kind": "group", "messages": 7, "epoch": "2026-01-01T00:00:00.000Z"})  # fmt: skip
    assert summary("uc")["messages"] == 9
    agg = {"data": {"type": "aggregation-requests", "attributes": {"entries": [{"column": "messages", "individual-id": ids["ic"]}]}}}
    got = requests.post(f"{api}/v1/aggregation-requests/", json=agg, headers=h("ua"), timeout=30)
    assert got.status_code == 201, got.text
    assert got.json()["data"]["type"] == "aggregation-requests" and got.json()["data"]["attributes"] == {} and got.json()["meta"] == {}
    assert local.wait_for(lambda: summary("uc")["messages"] == 2, timeout=30), summary("uc")
    assert store.items(tid, ids["ic"], consistent=True) and any(i["SK"] == "REBUILT" for i in store.items(tid, ids["ic"], consistent=True))
    bad = {"data": {"type": "aggregation-requests", "attributes": {"entries": [{"column": "likes", "individual-id": ids["ic"]}]}}}
    got = requests.post(f"{api}/v1/aggregation-requests/", json=bad, headers=h("ua"), timeout=30)
    assert got.status_code == 422 and got.json()["errors"][0]["source"]["pointer"] == "/data/attributes/entries/0/column"

    # another tenant: 404 on every route (its own user header, our individual ids)
    other = {"Authorization": f"Bearer {stranger['apiKey']}", "Content-Type": "application/vnd.api+json", "X-User-ID": ids["ua"]}
    got = requests.get(f"{api}/v1/communication-summaries/", params={"individual-id": ids["ib"]}, headers=other, timeout=30)
    assert got.status_code == 404, got.text
    got = requests.post(f"{api}/v1/individuals/{ids['ib']}/recalculate-communication-summary/", json={}, headers=other, timeout=30)
    assert got.status_code == 404, got.text
    got = requests.post(f"{api}/v1/aggregation-requests/", json=agg, headers=other, timeout=30)
    assert got.status_code == 404, got.text
