"""The issue's video visit end to end on the local stack (issue 20, area D with area E's VideoCallbackFunction): a visit
created with an appointment; a token refused before the join window and issued inside it (the appointment moved);
two participants join and leave through Twilio Video's room callbacks (signed with the account's token and POSTed to
VideoCallbackFunction's Function URL, as Twilio would; a forged one changes nothing); terminate; finalize → ONE
encounter webhook delivered, signed, carrying each participant's join and leave."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import requests
from texting import Receiver
from twilio.jwt import Jwt
from video_visits import key_secret, make_clinic, room_callback


@pytest.fixture
def world(local, emulator_env, tmp_path):
    receiver = Receiver().start()
    yield make_clinic(local, tmp_path, receiver.url), receiver
    receiver.stop()


def test_a_video_visit_end_to_end(local, world):
    from parley import clock
    from parley.dal import text_callbacks as plumbing
    from parley.dal import video_channels as store
    from parley.domain import text_callbacks

    c, receiver = world
    api = local.api
    doc = {"data": {"type": "video-channels", "attributes": {"organization-id": c.organization_id, "participants": [c.patient],
                                                             "subject-id": c.patient,
                                                             "appointment": {"start": clock.iso(clock.now() + timedelta(hours=1)),
                                                                             "duration": 30}}}}  # fmt: skip
    out = requests.post(f"{api}/v1/video-channels/", json=doc, headers=c.headers(), timeout=30)
    assert out.status_code == 201, out.text
    vid = out.json()["data"]["id"]

    # before join-start: refused
    creds = requests.get(f"{api}/v1/video-channels/{vid}/get-credentials/", params={"individual-id": c.patient},
                         headers=c.headers(c.patient_user), timeout=30)  # fmt: skip
    assert creds.status_code == 409 and creds.json()["errors"][0]["code"] == "before-join-window"

    # the host moves the appointment to now: inside the window, both get tokens for the one room
    patch = {"data": {"type": "video-channels", "id": vid, "attributes": {"appointment-start": clock.iso(clock.now())}}}
    assert requests.patch(f"{api}/v1/video-channels/{vid}/", json=patch, headers=c.headers(), timeout=10).status_code == 200
    tokens = {}
    for user, individual in ((c.host_user, c.host), (c.patient_user, c.patient)):
        out = requests.get(f"{api}/v1/video-channels/{vid}/get-credentials/", params={"individual-id": individual},
                           headers=c.headers(user), timeout=30)  # fmt: skip
        assert out.status_code == 200, out.text
        tokens[individual] = out.json()
    _, secret = key_secret(c)
    for individual, creds in tokens.items():
        assert creds["name"] == vid and Jwt.from_jwt(creds["access-token"], secret).payload["grants"]["identity"] == individual
    room_sid = store.get(c.tenant_id, vid)["room_sid"]

    # the two join and leave, as Twilio reports it; a forged callback changes nothing
    forged = room_callback(local, c, room_sid, vid, "participant-connected", 1, identity=c.host, forged=True)
    assert forged.status_code == 403
    participants = requests.get(f"{api}/v1/video-channels/{vid}/", headers=c.headers(), timeout=10).json()["data"]["attributes"][
        "participants"
    ]
    assert {p["status"] for p in participants} == {"invited"}
    for seq, (event, who) in enumerate((("participant-connected", c.host), ("participant-connected", c.patient)), start=1):
        assert room_callback(local, c, room_sid, vid, event, seq, identity=who).status_code in (200, 204)
    got = requests.get(f"{api}/v1/video-channels/{vid}/", headers=c.headers(), timeout=10).json()["data"]["attributes"]
    assert {p["individual-id"]: p["status"] for p in got["participants"]} == {c.host: "connected", c.patient: "connected"}
    time.sleep(1.0)
    for seq, who in ((3, c.patient), (4, c.host)):
        assert room_callback(local, c, room_sid, vid, "participant-disconnected", seq, identity=who).status_code in (200, 204)
    got = requests.get(f"{api}/v1/video-channels/{vid}/", headers=c.headers(), timeout=10).json()["data"]["attributes"]
    assert {p["individual-id"]: (p["status"], p["disconnected"]) for p in got["participants"]} == {
        c.host: ("disconnected", True), c.patient: ("disconnected", True)}  # fmt: skip

    # terminate (the room completed at Twilio; its room-ended callback follows), then finalize
    out = requests.post(f"{api}/v1/video-channels/{vid}/terminate/", json={}, headers=c.headers(), timeout=30)
    assert out.status_code == 201 and out.json()["data"]["attributes"]["channel-state"] == "terminated"
    assert room_callback(local, c, room_sid, vid, "room-ended", 5).status_code in (200, 204)
    twilio = requests.get(f"{api}/_local/twilio", timeout=10).json()
    assert [r["status"] for r in twilio["rooms"] if r["sid"] == room_sid] == ["completed"]
    for _ in range(2):  # a retried finalize delivers nothing more
        out = requests.post(f"{api}/v1/video-channels/{vid}/finalize-encounter/", json={"service-type-id": "svc-7"}, headers=c.headers(),
                            timeout=30)  # fmt: skip
        assert out.status_code == 201, out.text
    assert out.json()["data"]["attributes"]["encounter-delivery"] == "delivered"
    (req,) = receiver.requests
    assert text_callbacks.verify(plumbing.signing_secret(c.tenant_id), req["headers"]["Parley-Signature"], req["body"])
    payload = receiver.payloads()[0]
    assert payload["video-channel-id"] == vid and payload["service-type-id"] == "svc-7"
    assert payload["encounter-id"] == out.json()["data"]["attributes"]["encounter-id"]
    joined = {p["individual-id"]: p for p in payload["participants"]}
    for who in (c.host, c.patient):
        assert joined[who]["connected-at"] and joined[who]["disconnected-at"] and joined[who]["status"] == "disconnected"
        assert joined[who]["connected-at"] <= joined[who]["disconnected-at"]
