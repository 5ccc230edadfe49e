"""The SMS bridge of a courier channel over HTTP on the local stack (issue 18, area E): a care team of three — Alice
with the app (an iOS device), Bob with only a phone, Carla with a phone and Spanish — in a channel of an organization
that bought a text number through the texting API. ``POST /v1/messaging-channels/{id}/sms/`` answers the channel with
``with-sms`` and its ``text-number`` and greets Bob and Carla once each in their language from the number (the fake
Twilio); Alice's post goes to both as one SMS each and to nobody else; Bob's reply (``POST
/_local/simulate/text-reply``, signed like Twilio) comes back into the channel as a message with ``source`` sms, is
relayed to Carla (not Bob), and pushed once to Alice's device (she is offline); Carla's STOP ends her bridge. Bad
input is a 4xx in the courier's error shape; a stranger's call is a 404."""

from __future__ import annotations

import json
import time
import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
APN_DATA = {"signing-key": "-----BEGIN PRIVATE KEY-----\nsms\n-----END PRIVATE KEY-----", "signing-key-id": "KEYSMS", "team-id": "TEAMSMS"}


def _h(key, user=None, media="application/vnd.api+json"):
    return {"Authorization": f"Bearer {key}", "Content-Type": media, **({"X-User-ID": user} if user else {})}


def _sent(local, to, body=None):
    """The SMS the stack's fake Twilio accepted for ``to`` (and ``body``)."""
    reqs = requests.get(local.api + "/_local/twilio", timeout=10).json()["requests"]
    return [r for r in reqs if r.get("auth_ok") and r["path"].endswith("/Messages.json") and r["form"].get("To") == to
            and (body is None or r["form"].get("Body") == body)]  # fmt: skip


def _wait(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    return predicate()


def test_the_sms_bridge_greets_relays_threads_replies_back_pushes_offline_members_and_stops(local, emulator_env, tmp_path):
    from parley.dal import channels as channel_store

    api = local.api
    tenant, stranger = local.new_tenant("sms-bridge"), local.new_tenant("sms-bridge-stranger")
    tid, key = tenant["tenantId"], tenant["apiKey"]
    n = f"{uuid.uuid4().int % 10000:04d}"
    ids = {k: str(uuid.uuid4()) for k in ("org", "alice", "bob", "carla", "ind_alice", "ind_bob", "ind_carla")}
    phones = {"alice": f"+1555557{n}", "bob": f"+1555558{n}", "carla": f"+1555559{n}"}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for name, locale in (("alice", "en_US"), ("bob", "en_US"), ("carla", "es_US")):
        lines.append({"type": "users", "id": ids[name], "attributes": {"username": name, "first-name": name.title(), "phone": phones[name],
                      "locale": locale, "primary-individual-id": ids[f"ind_{name}"], "last-sync-time": T1}})  # fmt: skip
        lines.append({"type": "individuals", "id": ids[f"ind_{name}"], "last-sync-time": T1,
                      "attributes": {"first-name": name.title(), "owner-id": ids[name]}})  # fmt: skip
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0

    # the organization's text number, bought through the texting API from the fake Twilio
    assert requests.post(api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10).status_code == 201
    acct_doc = {"data": {"type": "text-accounts", "attributes": {"organization-id": ids["org"]}}}
    account = requests.post(api + "/v1/text-accounts/", json=acct_doc, headers=_h(key, ids["alice"]), timeout=30)
    assert account.status_code == 201, account.text
    number = requests.post(f"{api}/v1/text-accounts/{account.json()['data']['id']}/claim-number/", json={"notes": "care team"},
                           headers=_h(key, ids["alice"]), timeout=30)  # fmt: skip
    assert number.status_code == 201, number.text
    our_number, number_id = number.json()["data"]["attributes"]["phone-number"], number.json()["data"]["id"]

    # Alice has the app: an APNs credential and her iPhone
    cred = {"data": {"type": "app-credentials", "attributes": {"app-name": "care", "type": "apn", "store-id": "com.example.care",
                                                                "data": APN_DATA}}}  # fmt: skip
    assert requests.post(api + "/v1/app-credentials/", json=cred, headers=_h(key), timeout=30).status_code == 201
    dev = {"data": {"type": "user-devices", "attributes": {"type": "apn", "token": "d" * 64, "app-name": "care"}}}
    made = requests.post(api + "/v1/user-devices/", json=dev, headers=_h(key, ids["alice"]), timeout=30)
    assert made.status_code == 201, made.text
    device_id = made.json()["data"]["id"]

    # Alice's channel with Bob and Carla
    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "name": "Care team", "floating": True,
                                                                   "individual-ids": [ids["ind_bob"], ids["ind_carla"]]}}}  # fmt: skip
    made = requests.post(api + "/v1/messaging-channels/", json=doc, headers=_h(key, ids["alice"]), timeout=30)
    assert made.status_code == 201, made.text
    chan = made.json()["data"]["id"]

    # bad input: a 4xx in the courier's shape, nothing switched
    sms_url = f"{api}/v1/messaging-channels/{chan}/sms/"
    for bad, status in (({}, 400), ({"active": "yes"}, 400), ({"active": True, "initial-message": "x" * 1025}, 400),
                        ({"active": True, "initial-message-js": {"english": "hi"}}, 400),
                        ({"active": True, "text-number-id": "not-ours"}, 422)):  # fmt: skip
        out = requests.post(sms_url, json=bad, headers=_h(key, ids["alice"], "application/json"), timeout=30)
        assert out.status_code == status, (bad, out.status_code, out.text)
        assert out.json()["errors"][0]["status"] == status
    assert "sms" not in channel_store.get_channel(tid, chan, consistent=True)
    # a stranger (another tenant whose directory has the same people): 404, the same as an unknown channel
    assert import_directory(local, tmp_path, stranger["tenantId"], lines)["invalid"] == 0
    out = requests.post(sms_url, json={"active": True}, headers=_h(stranger["apiKey"], ids["alice"], "application/json"), timeout=30)
    assert out.status_code == 404

    body = {"active": True, "initial-message": "You are in the care team chat. Reply here; STOP to leave.",
            "initial-message-js": {"es_US": "Está en el chat del equipo. Responda aquí; STOP para salir."}}  # fmt: skip
    out = requests.post(sms_url, json=body, headers=_h(key, ids["alice"], "application/json"), timeout=30)
    assert out.status_code == 201, out.text
    assert out.headers["Content-Type"].startswith("application/vnd.api+json")
    data = out.json()["data"]
    assert data["type"] == "messaging-channels" and data["id"] == chan
    assert data["attributes"]["with-sms"] is True and data["attributes"]["text-number"] == {"id": number_id}
    assert _wait(lambda: _sent(local, phones["bob"], body["initial-message"]))
    assert _wait(lambda: _sent(local, phones["carla"], body["initial-message-js"]["es_US"]))
    assert _sent(local, phones["alice"]) == []  # she has the app
    stored = channel_store.get_member(tid, chan, ids["ind_bob"], consistent=True)
    assert stored["sms"] is True and stored["sms_phone"] == phones["bob"]

    # Alice posts: one SMS each to Bob and Carla, from the channel's number
    post = {"data": {"type": "messaging-messages", "attributes": {"channel-id": chan, "message": "Visit moved to 3 pm"}}}
    out = requests.post(api + "/v1/messaging-messages/", json=post, headers=_h(key, ids["alice"]), timeout=30)
    assert out.status_code == 201, out.text
    relayed = "Alice: Visit moved to 3 pm"
    assert _wait(lambda: _sent(local, phones["bob"], relayed) and _sent(local, phones["carla"], relayed))
    assert _sent(local, phones["bob"], relayed)[0]["form"]["From"] == our_number

    # Bob answers by SMS: it threads back into the channel as his message with source sms
    sim = requests.post(
        f"{api}/_local/simulate/text-reply", json={"to": our_number, "from": phones["bob"], "text": "On my way"}, timeout=30
    )
    assert sim.status_code in (200, 201), sim.text

    def bobs_reply():
        got = requests.get(api + "/v1/messaging-messages/", params={"channel-id": chan}, headers=_h(key, ids["alice"]), timeout=30)
        assert got.status_code == 200, got.text
        return [m for m in got.json()["data"] if m["attributes"].get("message") == "On my way"]

    (reply,) = _wait(bobs_reply)
    assert reply["attributes"]["source"] == "sms" and reply["attributes"]["individual-id"] == ids["ind_bob"]
    assert _wait(lambda: _sent(local, phones["carla"], "Bob: On my way"))
    assert _sent(local, phones["bob"], "Bob: On my way") == []  # not back to its author

    # Alice is offline with the app: one push for Bob's message, on the channel's collapse id
    def pushes():
        return [p for p in local.outbox()["push"] if p["deviceId"] == device_id]

    (push,) = _wait(pushes)
    aps = push["message"]["APNS"]["aps"]
    assert aps["alert"] == {"title": "Care team", "body": "Bob: On my way"} and aps["badge"] >= 1

    # Carla's STOP ends her bridge: the next post reaches Bob only
    requests.post(f"{api}/_local/simulate/text-reply", json={"to": our_number, "from": phones["carla"], "text": "STOP"}, timeout=30)
    assert _wait(lambda: channel_store.get_member(tid, chan, ids["ind_carla"], consistent=True).get("sms") is False)
    post["data"]["attributes"]["message"] = "See you all"
    assert requests.post(api + "/v1/messaging-messages/", json=post, headers=_h(key, ids["alice"]), timeout=30).status_code == 201
    assert _wait(lambda: _sent(local, phones["bob"], "Alice: See you all"))
    time.sleep(2)
    assert _sent(local, phones["carla"], "Alice: See you all") == []
    assert len(_sent(local, phones["bob"], relayed)) == 1  # and nothing was ever sent twice

    # off: the answer says so, the bridges end
    out = requests.post(sms_url, json={"active": False}, headers=_h(key, ids["alice"], "application/json"), timeout=30)
    assert out.status_code == 201 and out.json()["data"]["attributes"]["with-sms"] is False
    assert channel_store.get_member(tid, chan, ids["ind_bob"], consistent=True)["sms"] is False


def test_the_issues_scenario_a_care_team_of_three_with_one_sms_bridged_member(local, emulator_env, tmp_path):
    """Issue 18's acceptance: Alice (the app, listening on the WebSocket API), Carla (the app on an iPhone and an Android
    phone, offline) and Bob (a phone only, SMS-bridged). Alice's message appears in Carla's and Bob's inbox with one
    unread each, goes out as one SMS (Bob) and one push per offline device (Carla's two), arrives on Alice's WebSocket
    client; Bob's SMS reply threads back into the channel; Carla's ack moves her count to 0 and the receipts."""
    import asyncio

    import aiohttp

    api = local.api
    tenant = local.new_tenant("care-team")
    tid, key = tenant["tenantId"], tenant["apiKey"]
    n = f"{uuid.uuid4().int % 10000:04d}"
    ids = {k: str(uuid.uuid4()) for k in ("org", "alice", "bob", "carla", "ind_alice", "ind_bob", "ind_carla")}
    phones = {"alice": f"+1555554{n}", "bob": f"+1555555{n}", "carla": f"+1555553{n}"}
    lines = [{"type": "organizations", "id": ids["org"], "last-sync-time": T1, "attributes": {"name": "northside"}}]
    for name in ("alice", "bob", "carla"):
        lines.append({"type": "users", "id": ids[name], "attributes": {"username": name, "first-name": name.title(), "phone": phones[name],
                      "primary-individual-id": ids[f"ind_{name}"], "last-sync-time": T1}})  # fmt: skip
        lines.append({"type": "individuals", "id": ids[f"ind_{name}"], "last-sync-time": T1,
                      "attributes": {"first-name": name.title(), "owner-id": ids[name]}})  # fmt: skip
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    assert requests.post(api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10).status_code == 201
    acct_doc = {"data": {"type": "text-accounts", "attributes": {"organization-id": ids["org"]}}}
    account = requests.post(api + "/v1/text-accounts/", json=acct_doc, headers=_h(key, ids["alice"]), timeout=30)
    assert account.status_code == 201, account.text
    claim_url = f"{api}/v1/text-accounts/{account.json()['data']['id']}/claim-number/"
    number = requests.post(claim_url, json={"notes": "care team"}, headers=_h(key, ids["alice"]), timeout=30)
    assert number.status_code == 201, number.text
    our_number = number.json()["data"]["attributes"]["phone-number"]

    for kind, data in (("apn", APN_DATA), ("fcm", {"server-key": "AAAA-care-team"})):
        store_id = {"store-id": "com.example.care"} if kind == "apn" else {}
        cred = {"data": {"type": "app-credentials", "attributes": {"app-name": "care", "type": kind, "data": data, **store_id}}}
        assert requests.post(api + "/v1/app-credentials/", json=cred, headers=_h(key), timeout=30).status_code == 201
    devices = {}
    for who, kind, token in (("alice", "apn", "e" * 64), ("carla", "apn", "f" * 64), ("carla", "fcm", f"fcm-carla-{n}:APA91b")):
        doc = {"data": {"type": "user-devices", "attributes": {"type": kind, "token": token, "app-name": "care"}}}
        made = requests.post(api + "/v1/user-devices/", json=doc, headers=_h(key, ids[who]), timeout=30)
        assert made.status_code == 201, made.text
        devices[(who, kind)] = made.json()["data"]["id"]

    doc = {"data": {"type": "messaging-channels", "attributes": {"organization-id": ids["org"], "name": "Care team", "floating": True,
                                                                   "individual-ids": [ids["ind_bob"], ids["ind_carla"]]}}}  # fmt: skip
    made = requests.post(api + "/v1/messaging-channels/", json=doc, headers=_h(key, ids["alice"]), timeout=30)
    assert made.status_code == 201, made.text
    chan = made.json()["data"]["id"]
    out = requests.post(f"{api}/v1/messaging-channels/{chan}/sms/", json={"active": True, "initial-message": "Welcome"},
                        headers=_h(key, ids["alice"], "application/json"), timeout=30)  # fmt: skip
    assert out.status_code == 201, out.text
    assert _wait(lambda: _sent(local, phones["bob"], "Welcome")) and _sent(local, phones["carla"]) == []  # Carla has the app

    def inbox(who):
        got = requests.get(api + "/v1/communication-messages/", headers=_h(key, ids[who]), timeout=30)
        assert got.status_code == 200, got.text
        (row,) = [c for c in got.json()["data"] if c["id"] == chan]
        return row["attributes"]["caller-new-message-count"], row["attributes"]["caller-has-new-message"]

    post = {"data": {"type": "messaging-messages", "attributes": {"channel-id": chan, "message": "Dinner at 6?"}}}

    async def alice_posts_while_listening():
        async with aiohttp.ClientSession() as session:
            url = local.websockets["CourierMessagingApi"]["url"]
            ws = await session.ws_connect(
                url, params={"token": key, "individual-id": ids["ind_alice"]}, headers={"X-User-ID": ids["alice"]}
            )
            posted = await asyncio.to_thread(requests.post, api + "/v1/messaging-messages/", json=post, headers=_h(key, ids["alice"]),
                                             timeout=30)  # fmt: skip
            assert posted.status_code == 201, posted.text
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                frame = json.loads((await ws.receive(timeout=30)).data)
                if frame.get("type") == "message-posted":
                    await ws.close()
                    return posted.json()["data"], frame
            raise AssertionError("no message-posted frame")

    message, frame = asyncio.run(alice_posts_while_listening())
    assert frame["channel-id"] == chan and frame["message-id"] == message["id"]
    assert inbox("carla") == (1, True) and inbox("bob") == (1, True) and inbox("alice") == (0, False)
    assert _wait(lambda: _sent(local, phones["bob"], "Alice: Dinner at 6?"))

    def pushes(device_id):
        return [p for p in local.outbox()["push"] if p["deviceId"] == device_id]

    assert _wait(lambda: pushes(devices[("carla", "apn")]) and pushes(devices[("carla", "fcm")]))
    time.sleep(2)
    assert len(pushes(devices[("carla", "apn")])) == 1 and len(pushes(devices[("carla", "fcm")])) == 1
    assert pushes(devices[("alice", "apn")]) == []  # the author
    assert len(_sent(local, phones["bob"], "Alice: Dinner at 6?")) == 1 and _sent(local, phones["alice"]) == []

    # Bob's SMS reply threads back into the channel
    requests.post(f"{api}/_local/simulate/text-reply", json={"to": our_number, "from": phones["bob"], "text": "Yes!"}, timeout=30)

    def reply():
        got = requests.get(api + "/v1/messaging-messages/", params={"channel-id": chan}, headers=_h(key, ids["carla"]), timeout=30)
        return [m for m in got.json()["data"] if m["attributes"].get("message") == "Yes!"]

    (answer,) = _wait(reply)
    assert answer["attributes"]["source"] == "sms" and answer["attributes"]["individual-id"] == ids["ind_bob"]
    assert _wait(lambda: inbox("carla") == (2, True))

    # Carla reads up to Bob's reply: her count is 0 and the receipts move (Bob's reply moved his own marker: he read it too)
    def receipts():
        got = requests.get(f"{api}/v1/messaging-messages/{message['id']}/get-receipts/", headers=_h(key, ids["alice"]), timeout=30)
        assert got.status_code == 200, got.text
        return {r["individual-id"] for r in got.json()["read"]}, {r["individual-id"] for r in got.json()["unread"]}

    read, unread = receipts()
    assert ids["ind_carla"] in unread and ids["ind_bob"] in read and ids["ind_alice"] in read
    out = requests.post(f"{api}/v1/messaging-messages/{answer['id']}/ack/", json={}, headers=_h(key, ids["carla"], "application/json"),
                        timeout=30)  # fmt: skip
    assert out.status_code == 201, out.text
    assert inbox("carla") == (0, False)
    read, unread = receipts()
    assert ids["ind_carla"] in read and unread == set()
