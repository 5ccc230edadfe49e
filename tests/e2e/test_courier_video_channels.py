"""Courier video-channels over HTTP on the local stack (issue 20, area D): every route — list, create, get, PATCH,
get-credentials, participant-audio-states, reminder-timer, terminate, finalize-encounter v1 and v2 — in the seed's
shapes, checked against the stored state (the table, the fake Twilio's rooms and keys, EventBridge Scheduler), and
another tenant's visit as a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from texting import Receiver
from twilio.jwt import Jwt
from video_visits import key_secret, make_clinic

TYPE = "video-channels"


@pytest.fixture
def world(local, emulator_env, tmp_path):
    receiver = Receiver().start()
    yield make_clinic(local, tmp_path, receiver.url), receiver
    receiver.stop()


def _create(local, c, **attrs):
    doc = {"data": {"type": TYPE, "attributes": {"organization-id": c.organization_id, "participants": [c.patient], "subject-id": c.patient,
                                                 **attrs}}}  # fmt: skip
    out = requests.post(f"{local.api}/v1/video-channels/", json=doc, headers=c.headers(), timeout=30)
    assert out.status_code == 201, out.text
    assert out.headers["Content-Type"].startswith("application/vnd.api+json")
    return out.json()["data"]


def test_every_video_channel_route_over_http(local, world):
    from parley import clock
    from parley.dal import messages
    from parley.dal import video_channels as store
    from parley.dal.aws import client
    from parley.domain import video_participants

    c, receiver = world
    api = local.api
    start = clock.now() + timedelta(hours=2)
    data = _create(local, c, appointment={"start": clock.iso(start), "duration": 20}, appless=True, **{"with-email": True})
    vid = data["id"]
    attrs = data["attributes"]
    assert data["type"] == TYPE and attrs["channel-state"] == "scheduled" and attrs["appointment"]["duration"] == 20
    assert {p["individual-id"] for p in attrs["participants"]} == {c.host, c.patient}
    stored = store.get(c.tenant_id, vid)
    assert stored["account_id"] == c.account_id and stored["with_email"] is True
    (invitation,) = stored["invitation_message_ids"]  # the patient's: the host is not invited to their own visit
    assert messages.get(c.tenant_id, invitation).recipient == "sam@example.com"

    # list (filter[states]) and get
    out = requests.get(f"{api}/v1/video-channels/", params={"individual-id": c.host, "filter[states]": "scheduled"}, headers=c.headers(),
                       timeout=10)  # fmt: skip
    assert out.status_code == 200 and [d["id"] for d in out.json()["data"]] == [vid] and out.json()["meta"]["page[total]"] == 1
    out = requests.get(
        f"{api}/v1/video-channels/", params={"individual-id": c.host, "filter[states]": "open"}, headers=c.headers(), timeout=10
    )
    assert out.status_code == 200 and out.json()["data"] == []
    out = requests.get(f"{api}/v1/video-channels/{vid}/", headers=c.headers(c.patient_user), timeout=10)
    assert out.status_code == 200 and out.json()["data"]["attributes"]["created-by"] == c.host
    assert requests.get(f"{api}/v1/video-channels/{vid}/", headers=c.headers(c.outsider_user), timeout=10).status_code == 404

    # get-credentials: refused before join-start, nothing at Twilio
    out = requests.get(f"{api}/v1/video-channels/{vid}/get-credentials/", params={"individual-id": c.host}, headers=c.headers(), timeout=30)
    assert out.status_code == 409 and out.json()["errors"][0]["code"] == "before-join-window"

    # reminder-timer: a scheduled email per participant with an address, each an EventBridge Scheduler schedule
    out = requests.post(f"{api}/v1/video-channels/{vid}/reminder-timer/", json={}, headers=c.headers(), timeout=30)
    assert out.status_code == 201, out.text
    assert out.json()["data"]["attributes"]["scheduler-id"]
    reminders = store.get(c.tenant_id, vid)["reminder_message_ids"]
    assert len(reminders) == 2
    from parley.settings import get_settings

    group = get_settings().schedule_group
    for m in reminders:
        assert messages.get(c.tenant_id, m).status.value == "SCHEDULED"
        assert client("scheduler").get_schedule(Name=f"send-{m}", GroupName=group)["ScheduleExpression"].startswith("at(")

    # PATCH: the appointment moves into the join window, a note
    patch = {"data": {"type": TYPE, "id": vid, "attributes": {"appointment-start": clock.iso(clock.now() + timedelta(minutes=5)),
                                                              "note": "bring the x-ray"}}}  # fmt: skip
    out = requests.patch(f"{api}/v1/video-channels/{vid}/", json=patch, headers=c.headers(), timeout=10)
    assert out.status_code == 200 and out.json()["data"]["attributes"]["channel-state"] == "open"
    assert store.get(c.tenant_id, vid)["note"] == "bring the x-ray"

    # get-credentials inside the window: a token for the room the fake Twilio made
    out = requests.get(f"{api}/v1/video-channels/{vid}/get-credentials/", params={"individual-id": c.host}, headers=c.headers(), timeout=30)
    assert out.status_code == 200, out.text
    creds = out.json()
    assert set(creds) == {"access-token", "name"} and creds["name"] == vid
    key_sid, secret = key_secret(c)
    decoded = Jwt.from_jwt(creds["access-token"], secret)
    assert decoded.payload["iss"] == key_sid and decoded.payload["grants"] == {"identity": c.host, "video": {"room": vid}}
    twilio = requests.get(f"{api}/_local/twilio", timeout=10).json()
    room_sid = store.get(c.tenant_id, vid)["room_sid"]
    (room,) = [r for r in twilio["rooms"] if r["sid"] == room_sid]
    assert room["unique_name"] == vid and room["status"] == "in-progress" and room["status_callback"].endswith("/room")

    # participant-audio-states: the host mutes the patient
    pid = video_participants.participant_id(vid, c.patient)
    body = {"participants": [{"id": pid, "audio-state": "muted"}]}
    out = requests.post(f"{api}/v1/video-channels/{vid}/participant-audio-states/", json=body, headers=c.headers(), timeout=10)
    assert out.status_code == 201, out.text
    assert {p["id"]: p["audio-state"] for p in out.json()["data"]["attributes"]["participants"]}[pid] == "muted"
    out = requests.post(
        f"{api}/v1/video-channels/{vid}/participant-audio-states/", json=body, headers=c.headers(c.patient_user), timeout=10
    )
    assert out.status_code == 403

    # terminate: the room completed at Twilio
    out = requests.post(f"{api}/v1/video-channels/{vid}/terminate/", json={}, headers=c.headers(), timeout=30)
    assert out.status_code == 201 and out.json()["data"]["attributes"]["channel-state"] == "terminated"
    twilio = requests.get(f"{api}/_local/twilio", timeout=10).json()
    assert [r["status"] for r in twilio["rooms"] if r["sid"] == room_sid] == ["completed"]

    # finalize-encounter v1: one signed delivery; v2 on it again delivers nothing more
    out = requests.post(f"{api}/v1/video-channels/{vid}/finalize-encounter/", json={"service-type-id": "svc-1"}, headers=c.headers(),
                        timeout=30)  # fmt: skip
    assert out.status_code == 201, out.text
    assert out.json()["data"]["attributes"]["encounter-delivery"] == "delivered"
    out = requests.post(f"{api}/v2/video-channels/{vid}/finalize-encounter/", json={"service-type-id": "svc-1"}, headers=c.headers(),
                        timeout=30)  # fmt: skip
    assert out.status_code == 201
    assert len(receiver.requests) == 1 and receiver.payloads()[0]["video-channel-id"] == vid

    # v2 on a second visit
    other = _create(local, c)
    assert requests.post(f"{api}/v1/video-channels/{other['id']}/terminate/", json={}, headers=c.headers(), timeout=30).status_code == 201
    url = f"{api}/v2/video-channels/{other['id']}/finalize-encounter/"
    out = requests.post(url, json={"service-type-id": "svc-2"}, headers=c.headers(), timeout=30)
    assert out.status_code == 201, out.text
    assert len(receiver.requests) == 2 and receiver.payloads()[1]["version"] == 2
    assert store.get(c.tenant_id, other["id"])["encounter_delivery"] == "delivered"


def test_another_tenants_visit_is_a_404_over_http(local, world):
    c, _ = world
    vid = _create(local, c)["id"]
    stranger = c.headers(key=c.stranger_key)
    api = local.api
    assert requests.get(f"{api}/v1/video-channels/{vid}/", headers=stranger, timeout=10).status_code == 404
    assert requests.get(f"{api}/v1/video-channels/{vid}/get-credentials/", params={"individual-id": c.host}, headers=stranger,
                        timeout=10).status_code == 404  # fmt: skip
    for path in ("terminate/", "reminder-timer/", "finalize-encounter/"):
        assert requests.post(f"{api}/v1/video-channels/{vid}/{path}", json={}, headers=stranger, timeout=10).status_code == 404, path
    patch = {"data": {"type": TYPE, "id": vid, "attributes": {"note": "x"}}}
    assert requests.patch(f"{api}/v1/video-channels/{vid}/", json=patch, headers=stranger, timeout=10).status_code == 404
    listed = requests.get(f"{api}/v1/video-channels/", params={"individual-id": c.host}, headers=stranger, timeout=10)
    assert listed.status_code == 200 and listed.json()["data"] == []
