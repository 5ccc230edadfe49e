"""video-participants, video-compositions and Twilio Video's callbacks over HTTP on the local stack (issue 20 area E):
a video channel on a text-account bought into the stack's fake Twilio (the channel and its room written with area D's
data-access functions), Twilio's room callbacks posted, signed, to VideoCallbackFunction's Function URL: two
participants join and leave; the participants' list, get and PATCH in the seed's shape and checked against the stored
state; the recorded room's end makes a composition at the fake Twilio, which posts its signed progress back until it
is available; its get answers a short-lived link that downloads the file; forged callbacks → 403 and nothing stored;
another tenant's ids are 404."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
PART_KEYS = {"account-type", "audio-state", "connected-at", "disconnected", "disconnected-at", "encounter-id", "individual-id",
             "last-modified-at", "last-modified-by", "note", "status", "twilio-channel-id", "video-channel-id"}  # fmt: skip
COMP_KEYS = {"created-at", "duration", "last-modified-at", "media-url", "media-url-expires-at", "processing-pct", "processing-status",
             "size", "status", "video-channel-id"}  # fmt: skip


def _h(key, user="user-1"):
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/vnd.api+json", "X-User-ID": user}


@pytest.fixture
def world(local, emulator_env, tmp_path):
    from parley.domain import text_numbers

    tenant, stranger = local.new_tenant("video"), local.new_tenant("video-stranger")
    tid, org = tenant["tenantId"], str(uuid.uuid4())
    lines = [{"type": "organizations", "id": org, "last-sync-time": T1, "attributes": {"name": "clinic"}}]
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    assert requests.post(local.api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10).status_code == 201
    doc = {"data": {"type": "text-accounts", "attributes": {"organization-id": org}}}
    account = requests.post(local.api + "/v1/text-accounts/", json=doc, headers=_h(tenant["apiKey"]), timeout=30)
    assert account.status_code == 201, account.text
    account_id = account.json()["data"]["id"]
    sid, token = text_numbers.account_auth(tid, account_id)
    return {"tenant": tid, "key": tenant["apiKey"], "stranger": stranger["apiKey"], "org": org, "account_id": account_id, "sid": sid,
            "token": token}  # fmt: skip


def _channel(w, *, recorded=True):
    from parley import clock
    from parley.dal import video_channels as d

    channel_id, room_sid, now = str(uuid.uuid4()), "RM" + uuid.uuid4().hex, clock.iso(clock.now())
    participants = [
        {"individual_id": who, "account_type": kind, "audio_state": "unmuted", "disconnected": False}
        for who, kind in (("ind-provider", "provider"), ("ind-patient", "patient"))
    ]
    item = d.item(w["tenant"], channel_id, {"organization_id": w["org"], "created_at": now, "last_modified_at": now, "type": "direct",
                                            "recorded": recorded, "participants": participants, "channel_state": "open",
                                            "room_sid": room_sid, "room_name": channel_id, "account_id": w["account_id"]})  # fmt: skip
    d.create(item)
    assert d.put_room(w["tenant"], channel_id, room_sid)
    return item


def _post(local, w, path, params, *, token=None, signature=None):
    url = f"{local.api}/_url/VideoCallbackFunction{path}"
    sig = signature if signature is not None else RequestValidator(token or w["token"]).compute_signature(url, params)
    return requests.post(url, data=urlencode(params), timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": sig})  # fmt: skip


def _room(w, ch, event, seq, identity=None, **extra):
    params = {"AccountSid": w["sid"], "RoomSid": ch["room_sid"], "RoomName": ch["room_name"], "StatusCallbackEvent": event,
              "SequenceNumber": str(seq), "Timestamp": f"2026-12-07T15:{seq:02d}:00Z"}  # fmt: skip
    if identity:
        params.update(ParticipantIdentity=identity, ParticipantSid="PA" + uuid.uuid5(uuid.NAMESPACE_OID, identity).hex)
    return {**params, **extra}


def test_a_recorded_visit_over_http_participants_and_its_composition(local, world):
    from parley.dal import video as store

    w = world
    ch = _channel(w)
    for seq, (event, who) in enumerate([("participant-connected", "ind-provider"), ("participant-connected", "ind-patient"),
                                        ("participant-disconnected", "ind-patient")], start=1):  # fmt: skip
        out = _post(local, w, "/room", _room(w, ch, event, seq, who))
        assert out.status_code == 204, out.text

    listed = requests.get(f"{local.api}/v1/video-participants/", params={"video-channel-id": ch["id"]}, headers=_h(w["key"]), timeout=30)
    assert listed.status_code == 200, listed.text
    assert listed.headers["Content-Type"].startswith("application/vnd.api+json")
    doc = listed.json()
    assert doc["meta"]["page[total]"] == 2 and {p["type"] for p in doc["data"]} == {"video-participants"}
    by = {p["attributes"]["individual-id"]: p for p in doc["data"]}
    assert set(by["ind-provider"]["attributes"]) == PART_KEYS
    assert (
        by["ind-provider"]["attributes"]["status"] == "connected"
        and by["ind-provider"]["attributes"]["connected-at"] == "2026-12-07T15:01:00.000Z"
    )
    assert (
        by["ind-patient"]["attributes"]["status"] == "disconnected"
        and by["ind-patient"]["attributes"]["disconnected-at"] == "2026-12-07T15:03:00.000Z"
    )
    assert by["ind-patient"]["attributes"]["account-type"] == "patient"
    one = requests.get(f"{local.api}/v1/video-participants", params={"video-channel-id": ch["id"], "individual-id": "ind-provider"},
                       headers=_h(w["key"]), timeout=30).json()  # fmt: skip
    assert [p["id"] for p in one["data"]] == [by["ind-provider"]["id"]]

    pid = by["ind-provider"]["id"]
    got = requests.get(f"{local.api}/v1/video-participants/{pid}/", headers=_h(w["key"]), timeout=30)
    assert got.status_code == 200 and got.json()["data"]["id"] == pid and set(got.json()["data"]["attributes"]) == PART_KEYS
    patch = {"data": {"type": "video-participants", "id": pid, "attributes": {"audio-state": "muted", "note": "echo on the line"}}}
    changed = requests.patch(f"{local.api}/v1/video-participants/{pid}/", json=patch, headers=_h(w["key"]), timeout=30)
    assert changed.status_code == 200, changed.text
    assert (
        changed.json()["data"]["attributes"]["audio-state"] == "muted"
        and changed.json()["data"]["attributes"]["note"] == "echo on the line"
    )
    stored = store.get_participant(w["tenant"], pid, consistent=True)
    assert stored["audio_state"] == "muted" and stored["note"] == "echo on the line" and stored["last_modified_by"] == "user-1"
    bad = requests.patch(f"{local.api}/v1/video-participants/{pid}/", headers=_h(w["key"]), timeout=30,
                         json={"data": {"type": "video-participants", "id": pid, "attributes": {"audio-state": "shouting"}}})  # fmt: skip
    assert bad.status_code in (400, 422) and bad.json()["errors"][0]["status"] == bad.status_code

    # the room ends: everyone left, and the fake Twilio composes the recording, posting its signed progress back
    assert _post(local, w, "/room", _room(w, ch, "room-ended", 9, RoomDuration="480")).status_code == 204
    assert store.get_participant(w["tenant"], pid, consistent=True)["status"] == "disconnected"

    def composed():
        data = requests.get(f"{local.api}/v1/video-compositions/", params={"video-channel-id": ch["id"]}, headers=_h(w["key"]),
                            timeout=30).json()["data"]  # fmt: skip
        return data if data and data[0]["attributes"]["status"] == "completed" else None

    comps = local.wait_for(composed, timeout=30)
    assert comps, "the composition did not complete"
    (comp,) = comps
    assert set(comp["attributes"]) == COMP_KEYS and comp["attributes"]["processing-pct"] == 100
    assert comp["attributes"]["duration"] == 42 and comp["attributes"]["size"] > 0 and comp["attributes"]["video-channel-id"] == ch["id"]
    got = requests.get(f"{local.api}/v1/video-compositions/{comp['id']}/", headers=_h(w["key"]), timeout=30)
    assert got.status_code == 200, got.text
    attrs = got.json()["data"]["attributes"]
    media = requests.get(attrs["media-url"], timeout=30)
    assert media.status_code == 200 and len(media.content) == attrs["size"] and media.content[4:8] == b"ftyp"
    twilio = requests.get(local.api + "/_local/twilio", timeout=10).json()
    (made,) = [c for c in twilio["compositions"] if c["room_sid"] == ch["room_sid"]]
    assert store.get_composition(w["tenant"], comp["id"], consistent=True)["composition_sid"] == made["sid"]

    # another tenant sees none of it
    for path in (f"/v1/video-participants/{pid}/", f"/v1/video-compositions/{comp['id']}/"):
        assert requests.get(local.api + path, headers=_h(w["stranger"]), timeout=30).status_code == 404
    assert requests.get(f"{local.api}/v1/video-compositions/", params={"video-channel-id": ch["id"]}, headers=_h(w["stranger"]),
                        timeout=30).status_code == 404  # fmt: skip


def test_forged_video_callbacks_are_403_and_change_nothing(local, world):
    from parley.dal import video as store

    w = world
    ch = _channel(w)
    joined = _room(w, ch, "participant-connected", 1, "ind-provider")
    assert _post(local, w, "/room", joined, token="0" * 32).status_code == 403
    assert _post(local, w, "/room", joined, signature="").status_code == 403
    assert _post(local, w, "/room", {**joined, "RoomSid": "RM" + "0" * 32}).status_code == 403
    assert _post(local, w, "/room", _room(w, ch, "room-ended", 2), token="0" * 32).status_code == 403
    assert store.all_participants(w["tenant"], ch["id"]) == []
    listed = requests.get(f"{local.api}/v1/video-compositions/", params={"video-channel-id": ch["id"]}, headers=_h(w["key"]), timeout=30)
    assert listed.status_code == 200 and listed.json()["data"] == []
    missing = requests.get(f"{local.api}/v1/video-participants/", headers=_h(w["key"]), timeout=30)
    assert missing.status_code == 400 and missing.json()["errors"][0]["source"]["parameter"] == "video-channel-id"
