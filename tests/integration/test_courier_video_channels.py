"""Courier video visits on moto + the fake Twilio (issue 20, area D): create (stored channel and memberships, the
join window), get-credentials (409 before join-start; inside it a room made once at Twilio and a VideoGrant token the
twilio package's own decoder accepts), list with filter[states], PATCH, the host's participant-audio-states, the
reminder re-armed through EventBridge Scheduler (scheduled emails, the previous ones cancelled), terminate (the room
completed) and finalize-encounter v1/v2 (ONE signed POST per visit, a retry delivers nothing); isolation (404)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from texting import Receiver, make_account

from helpers import api_event

ORG = "7d000000-0000-4000-8000-000000000001"
USER = "7d000000-0000-4000-8000-000000000002"  # Dr Pat (the host)
USER2 = "7d000000-0000-4000-8000-000000000003"  # Sam (the patient)
USER3 = "7d000000-0000-4000-8000-000000000004"  # Lee (not in the visit)
DOC = "7d000000-0000-4000-8000-000000000011"
PATIENT = "7d000000-0000-4000-8000-000000000012"
OUTSIDER = "7d000000-0000-4000-8000-000000000013"
T1 = "2026-11-01T09:00:00Z"
FN = {
    "list": "ListVideoChannelsFunction",
    "create": "CreateVideoChannelFunction",
    "get": "GetVideoChannelFunction",
    "update": "UpdateVideoChannelFunction",
    "credentials": "GetVideoChannelCredentialsFunction",
    "audio": "SetVideoChannelAudioStatesFunction",
    "reminder": "VideoChannelReminderTimerFunction",
    "terminate": "TerminateVideoChannelFunction",
    "finalize": "FinalizeVideoChannelEncounterFunction",
    "finalize2": "FinalizeVideoChannelEncounterV2Function",
}
EVENT = {
    "list": "list_video_channels",
    "create": "create_video_channel",
    "get": "get_video_channel",
    "update": "update_video_channel",
    "credentials": "get_video_channel_credentials",
    "audio": "set_video_channel_audio_states",
    "reminder": "video_channel_reminder_timer",
    "terminate": "terminate_video_channel",
    "finalize": "finalize_video_channel_encounter",
    "finalize2": "finalize_video_channel_encounter_v2",
}
PATH = {
    "credentials": "get-credentials/",
    "audio": "participant-audio-states/",
    "reminder": "reminder-timer/",
    "terminate": "terminate/",
    "finalize": "finalize-encounter/",
    "finalize2": "finalize-encounter/",
}
ATTRS = {"appless", "appointment", "channel-state", "compositions", "created-at", "created-by", "duration", "encounter-id",
         "max-participants", "note", "observation-id", "organization-display-name", "organization-id", "participants", "recorded",
         "scheduler-id", "subject-id", "type", "messaging-channel-id", "with-email", "join-url", "room-name", "encounter-delivery",
         "last-modified-at"}  # fmt: skip


@pytest.fixture
def receiver(monkeypatch):
    r = Receiver().start()
    monkeypatch.setenv("TEXT_CALLBACK_ALLOW", f"127.0.0.1:{r.port}")
    yield r
    r.stop()


def _directory(tenant_id):
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(
        tenant_id,
        [
            line("organizations", ORG, {"name": "northside", "display-name": "Northside Clinic"}),
            line("users", USER, {"username": "pat", "primary-individual-id": DOC, "email": "pat@example.com"}),
            line("users", USER2, {"username": "sam", "primary-individual-id": PATIENT, "email": "sam@example.com"}),
            line("users", USER3, {"username": "lee", "primary-individual-id": OUTSIDER}),
            line("individuals", DOC, {"first-name": "Pat", "last-name": "Doe", "owner-id": USER}),
            line("individuals", PATIENT, {"first-name": "Sam", "owner-id": USER2}),
            line("individuals", OUTSIDER, {"first-name": "Lee", "owner-id": USER3}),
        ],
    )
    assert summary.invalid == []


def _encounter_url(tenant_id, url):
    from parley.dal.secrets import put_tenant_secret, tenant_secret
    from parley.domain.auth import configure_tenant

    name = f"parley/{tenant_id}/video-{len(url)}"
    put_tenant_secret(name, {**tenant_secret(tenant_id), "encounter_webhook_url": url})
    configure_tenant(tenant_id, secret_name=name)
    from parley.dal import tenants

    tenants.forget(tenant_id)  # this process's cached tenant item (its secret name)


@pytest.fixture
def clinic(tenant, twilio):
    t, _ = tenant
    _directory(t.id)
    account = make_account(t.id, twilio, organization_id=ORG)
    return t, account


def call(handler, name, tenant_id, *, user=USER, body_=..., query=None, id_=None):
    hdrs = {"X-User-ID": user, "Content-Type": "application/vnd.api+json"}
    ev = api_event(f"courier_voice_video/{EVENT[name]}", tenant_id=tenant_id, body=body_, query=query, headers=hdrs)
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        prefix = "/v2" if name == "finalize2" else "/v1"
        ev["path"] = f"{prefix}/video-channels/{id_}/" + PATH.get(name, "")
    out = handler(f"CourierVoiceVideoApi.{FN[name]}")(ev)
    return out["statusCode"], (json.loads(out["body"]) if out.get("body") else None)


def create(handler, tenant_id, *, start=None, **attributes):
    from parley import clock

    attrs = {"organization-id": ORG, "participants": [PATIENT], "subject-id": PATIENT, **attributes}
    if start is not None:
        attrs["appointment"] = {"start": clock.iso(start), "duration": 30}
    status, doc = call(handler, "create", tenant_id, body_={"data": {"type": "video-channels", "attributes": attrs}}, query=None)
    assert status == 201, doc
    return doc["data"]


def test_create_stores_the_visit_and_its_memberships_with_a_join_window(handler, clinic, table_items):
    from parley import clock
    from parley.dal import video_channels as store

    t, account = clinic
    start = clock.now() + timedelta(hours=2)
    data = create(handler, t.id, start=start, appless=True, recorded=True)
    attrs = data["attributes"]
    assert data["type"] == "video-channels" and set(attrs) == ATTRS
    assert attrs["channel-state"] == "scheduled" and attrs["organization-display-name"] == "Northside Clinic"
    assert attrs["appointment"]["duration"] == 30 and attrs["appointment"]["start"] == clock.iso(start)
    assert clock.parse_iso(attrs["appointment"]["join-start"]) == clock.parse_iso(clock.iso(start)) - timedelta(minutes=10)
    assert {p["individual-id"]: p["account-type"] for p in attrs["participants"]} == {DOC: "provider", PATIENT: "patient"}
    assert all(p["status"] == "invited" and p["audio-state"] == "unmuted" for p in attrs["participants"])
    assert attrs["room-name"] == data["id"] and attrs["created-by"] == DOC and attrs["recorded"] is True
    stored = store.get(t.id, data["id"])
    assert stored["account_id"] == account.account_id and stored["channel_state"] == "scheduled" and "room_sid" not in stored
    members = [i for i in table_items() if i["PK"] in (store.member_pk(t.id, DOC), store.member_pk(t.id, PATIENT))]
    assert len(members) == 2 and {m["channel_id"] for m in members} == {data["id"]}


def test_create_refuses_bad_input_with_4xx_and_stores_nothing(handler, clinic, table_items):
    t, _ = clinic
    before = len(table_items())

    def attempt(attrs, user=USER):
        return call(handler, "create", t.id, user=user, body_={"data": {"type": "video-channels", "attributes": attrs}})

    status, doc = attempt({"participants": [PATIENT]})
    assert status == 422 and doc["errors"][0]["source"]["pointer"] == "/data/attributes/organization-id"
    status, doc = attempt({"organization-id": ORG, "participants": ["nobody-1"]})
    assert status == 404 and doc["errors"][0]["source"]["pointer"] == "/data/attributes/participants/0"
    status, doc = attempt({"organization-id": "7d000000-0000-4000-8000-0000000000ff"})
    assert status == 404
    status, doc = attempt({"organization-id": ORG, "appointment": {"start": "2026-12-01T10:00:00", "duration": 30}})
    assert status in (400, 422)
    status, doc = attempt({"organization-id": ORG, "bogus": 1})
    assert status == 400
    assert len(table_items()) == before


def test_a_token_is_refused_before_join_start_and_issued_inside_the_window(handler, clinic, twilio, monkeypatch):
    from twilio.jwt import Jwt

    from parley import clock
    from parley.dal import video_channels as store
    from parley.domain import video_channels

    t, account = clinic
    data = create(handler, t.id, start=clock.now() + timedelta(hours=1))
    status, doc = call(handler, "credentials", t.id, id_=data["id"], query={"individual-id": DOC})
    assert status == 409 and doc["errors"][0]["code"] == "before-join-window"
    assert twilio.calls("/v1/Rooms", "POST") == []

    # the appointment moves to five minutes from now: inside the join window
    patch = {
        "data": {
            "type": "video-channels",
            "id": data["id"],
            "attributes": {"appointment-start": clock.iso(clock.now() + timedelta(minutes=5))},
        }
    }
    status, doc = call(handler, "update", t.id, id_=data["id"], body_=patch)
    assert status == 200 and doc["data"]["attributes"]["channel-state"] == "open"
    status, doc = call(handler, "credentials", t.id, id_=data["id"], query={"individual-id": DOC})
    assert status == 200, doc
    assert set(doc) == {"access-token", "name"} and doc["name"] == data["id"]
    (room_req,) = twilio.calls("/v1/Rooms", "POST")
    assert room_req.account_sid == account.sid and room_req.form["UniqueName"] == data["id"]
    callback = __import__("os").environ["VIDEO_CALLBACK_URL"]
    assert room_req.form["StatusCallback"] == callback.rstrip("/") + "/room"
    (key,) = twilio.keys.values()
    decoded = Jwt.from_jwt(doc["access-token"], key["secret"])  # the twilio package's decoder, signature checked
    assert decoded.payload["iss"] == key["sid"] and decoded.payload["sub"] == account.sid
    assert decoded.payload["grants"]["identity"] == DOC and decoded.payload["grants"]["video"] == {"room": data["id"]}
    from twilio.jwt import JwtDecodeError

    with pytest.raises(JwtDecodeError):
        Jwt.from_jwt(doc["access-token"], "not-the-secret")
    stored = store.get(t.id, data["id"])
    assert stored["room_sid"].startswith("RM") and video_channels.by_room(None, stored["room_sid"])["id"] == data["id"]
    assert video_channels.by_room("another-tenant", stored["room_sid"]) is None

    # the patient's token: the same room and key; no second room nor key
    status, doc = call(handler, "credentials", t.id, user=USER2, id_=data["id"], query={"individual-id": PATIENT})
    assert status == 200 and Jwt.from_jwt(doc["access-token"], key["secret"]).payload["grants"]["identity"] == PATIENT
    assert len(twilio.calls("/v1/Rooms", "POST")) == 1 and len(twilio.keys) == 1
    # someone not in the visit: 404, as an unknown id
    status, _ = call(handler, "credentials", t.id, user=USER3, id_=data["id"], query={"individual-id": OUTSIDER})
    assert status == 404
    # another user's individual: 403
    status, _ = call(handler, "credentials", t.id, user=USER3, id_=data["id"], query={"individual-id": DOC})
    assert status == 403


def test_list_get_and_filter_by_state(handler, clinic):
    from parley import clock

    t, _ = clinic
    later = create(handler, t.id, start=clock.now() + timedelta(days=1))
    now_ = create(handler, t.id)
    status, doc = call(handler, "list", t.id, query={"individual-id": DOC})
    assert status == 200 and [d["id"] for d in doc["data"]] == [now_["id"], later["id"]] and doc["meta"]["page[total]"] == 2
    status, doc = call(handler, "list", t.id, query={"individual-id": DOC, "filter[states]": "scheduled"})
    assert [d["id"] for d in doc["data"]] == [later["id"]] and doc["meta"]["page[total]"] == 1
    status, doc = call(handler, "list", t.id, query={"individual-id": DOC, "page[limit]": "1", "page[offset]": "1"})
    assert [d["id"] for d in doc["data"]] == [later["id"]] and doc["meta"]["page[total]"] == 2
    status, doc = call(handler, "list", t.id, user=USER2, query={"individual-id": PATIENT, "filter[states]": "open"})
    assert [d["id"] for d in doc["data"]] == [now_["id"]]
    status, doc = call(handler, "list", t.id, query={"individual-id": DOC, "filter[states]": "gone"})
    assert status == 400 and doc["errors"][0]["source"]["parameter"] == "filter[states]"
    status, doc = call(handler, "list", t.id, user=USER3, query={"individual-id": OUTSIDER})
    assert status == 200 and doc["data"] == []
    status, doc = call(handler, "get", t.id, id_=later["id"], query=None)
    assert status == 200 and doc["data"]["attributes"]["channel-state"] == "scheduled"
    status, _ = call(handler, "get", t.id, user=USER3, id_=later["id"], query=None)
    assert status == 404


def test_patch_changes_note_recorded_and_appointment(handler, clinic):
    from parley.dal import video_channels as store

    t, _ = clinic
    data = create(handler, t.id)
    patch = {"data": {"type": "video-channels", "id": data["id"],
                      "attributes": {"note": "follow-up", "recorded": True, "appointment-start": "2030-01-02T10:00:00+01:00",
                                     "appointment-duration": 45}}}  # fmt: skip
    status, doc = call(handler, "update", t.id, id_=data["id"], body_=patch)
    assert status == 200, doc
    attrs = doc["data"]["attributes"]
    assert attrs["note"] == "follow-up" and attrs["recorded"] is True and attrs["channel-state"] == "scheduled"
    assert attrs["appointment"]["start"] == "2030-01-02T09:00:00.000Z" and attrs["appointment"]["duration"] == 45
    assert attrs["appointment"]["join-start"] == "2030-01-02T08:50:00.000Z"
    stored = store.get(t.id, data["id"])
    assert stored["note"] == "follow-up" and stored["appointment"]["duration"] == 45
    wrong = {"data": {"type": "video-channels", "id": "other", "attributes": {"note": "x"}}}
    assert call(handler, "update", t.id, id_=data["id"], body_=wrong)[0] == 409


def test_only_the_host_changes_audio_states(handler, clinic):
    from parley.domain import video_participants

    t, _ = clinic
    data = create(handler, t.id)
    pid = video_participants.participant_id(data["id"], PATIENT)
    status, doc = call(handler, "audio", t.id, id_=data["id"], body_={"participants": [{"id": pid, "audio-state": "muted"}]})
    assert status == 201, doc
    by_ind = {p["individual-id"]: p for p in doc["data"]["attributes"]["participants"]}
    assert by_ind[PATIENT]["audio-state"] == "muted" and by_ind[PATIENT]["id"] == pid and by_ind[DOC]["audio-state"] == "unmuted"
    stored = {r["individual_id"]: r for r in video_participants.of_channel(t.id, data["id"])}
    assert stored[PATIENT]["audio_state"] == "muted" and stored[PATIENT]["last_modified_by"] == DOC
    status, doc = call(handler, "audio", t.id, id_=data["id"], body_={"participants": [{"id": PATIENT, "audio-state": "unmuted"}]})
    assert (
        status == 201
        and {r["individual_id"]: r for r in video_participants.of_channel(t.id, data["id"])}[PATIENT]["audio_state"] == "unmuted"
    )
    status, doc = call(handler, "audio", t.id, user=USER2, id_=data["id"], body_={"participants": [{"id": DOC, "audio-state": "muted"}]})
    assert status == 403
    status, doc = call(handler, "audio", t.id, id_=data["id"], body_={"participants": [{"id": OUTSIDER, "audio-state": "muted"}]})
    assert status == 422 and doc["errors"][0]["source"]["pointer"] == "/participants/0/id"
    status, _ = call(handler, "audio", t.id, id_=data["id"], body_={"participants": [{"id": PATIENT, "audio-state": "loud"}]})
    assert status == 400


def test_reminder_timer_schedules_emails_and_rearming_cancels_the_previous(handler, clinic, aws):
    from parley import clock
    from parley.dal import messages
    from parley.dal.aws import client
    from parley.settings import get_settings

    t, _ = clinic
    data = create(handler, t.id, start=clock.now() + timedelta(hours=3))
    status, doc = call(handler, "reminder", t.id, id_=data["id"], body_={})
    assert status == 201, doc
    first = doc["data"]["attributes"]["scheduler-id"]
    from parley.dal import video_channels as store

    stored = store.get(t.id, data["id"])
    ids = stored["reminder_message_ids"]
    assert len(ids) == 2  # Pat and Sam have addresses
    group = get_settings().schedule_group
    for m in ids:
        msg = messages.get(t.id, m)
        assert msg.status.value == "SCHEDULED" and msg.recipient in ("pat@example.com", "sam@example.com")
        schedule = client("scheduler").get_schedule(Name=f"send-{m}", GroupName=group)
        assert schedule["ScheduleExpression"].startswith("at(")
    status, doc = call(handler, "reminder", t.id, id_=data["id"], body_={})
    assert status == 201 and doc["data"]["attributes"]["scheduler-id"] != first
    for m in ids:
        assert messages.get(t.id, m).status.value == "CANCELLED"
    assert len(store.get(t.id, data["id"])["reminder_message_ids"]) == 2
    no_appointment = create(handler, t.id)
    status, doc = call(handler, "reminder", t.id, id_=no_appointment["id"], body_={})
    assert status == 409 and doc["errors"][0]["code"] == "no-appointment"


def test_terminate_completes_the_room_and_finalize_delivers_one_signed_encounter(handler, clinic, twilio, receiver):
    from parley.dal import text_callbacks as plumbing
    from parley.dal import video_channels as store
    from parley.domain import text_callbacks

    t, _ = clinic
    _encounter_url(t.id, receiver.url)
    data = create(handler, t.id)
    assert call(handler, "credentials", t.id, id_=data["id"], query={"individual-id": DOC})[0] == 200
    status, doc = call(handler, "finalize", t.id, id_=data["id"], body_={"service-type-id": "svc-1"})
    assert status == 409 and doc["errors"][0]["code"] == "visit-not-terminated" and receiver.requests == []

    status, doc = call(handler, "terminate", t.id, id_=data["id"], body_={})
    assert status == 201 and doc["data"]["attributes"]["channel-state"] == "terminated"
    room_sid = store.get(t.id, data["id"])["room_sid"]
    assert twilio.rooms[room_sid]["status"] == "completed"
    assert call(handler, "terminate", t.id, id_=data["id"], body_={})[0] == 201  # idempotent
    assert len(twilio.calls(f"/v1/Rooms/{room_sid}", "POST")) == 1
    status, doc = call(handler, "credentials", t.id, id_=data["id"], query={"individual-id": DOC})
    assert status == 409 and doc["errors"][0]["code"] == "visit-terminated"

    status, doc = call(
        handler, "finalize", t.id, id_=data["id"], body_={"service-type-id": "svc-1", "use-note-from-author-participant": True}
    )
    assert status == 201, doc
    attrs = doc["data"]["attributes"]
    assert attrs["encounter-delivery"] == "delivered" and attrs["encounter-id"]
    (req,) = receiver.requests
    payload = receiver.payloads()[0]
    assert payload["encounter-id"] == attrs["encounter-id"] and payload["video-channel-id"] == data["id"]
    assert payload["service-type-id"] == "svc-1" and payload["version"] == 1 and payload["subject-id"] == PATIENT
    assert req["headers"]["Parley-Delivery-Id"] == f"encounter-{data['id']}"
    assert text_callbacks.verify(plumbing.signing_secret(t.id), req["headers"]["Parley-Signature"], req["body"])
    # a retry (v1 or v2) delivers nothing again
    assert call(handler, "finalize", t.id, id_=data["id"], body_={})[0] == 201
    assert call(handler, "finalize2", t.id, id_=data["id"], body_={"service-type-id": "svc-2"})[0] == 201
    assert len(receiver.requests) == 1 and store.get(t.id, data["id"])["encounter_delivery"] == "delivered"


def test_finalize_v2_and_an_unreachable_platform(handler, clinic, receiver):
    from parley.dal import video_channels as store

    t, _ = clinic
    data = create(handler, t.id)
    assert call(handler, "terminate", t.id, id_=data["id"], body_={})[0] == 201  # no room was ever opened: nothing at Twilio
    status, doc = call(handler, "finalize2", t.id, id_=data["id"], body_={"service-type-id": "svc-9"})
    assert status == 422 and doc["errors"][0]["code"] == "no-encounter-webhook"
    _encounter_url(t.id, "http://127.0.0.1:9/")  # nobody listens (and not allowed): a failed delivery, 502
    status, doc = call(handler, "finalize2", t.id, id_=data["id"], body_={"service-type-id": "svc-9"})
    assert status == 502 and store.get(t.id, data["id"])["encounter_delivery"] == "failed"
    _encounter_url(t.id, receiver.url)
    status, doc = call(handler, "finalize2", t.id, id_=data["id"], body_={"service-type-id": "svc-9"})
    assert status == 201 and doc["data"]["attributes"]["encounter-delivery"] == "delivered"
    assert receiver.payloads()[0]["version"] == 2 and receiver.payloads()[0]["service-type-id"] == "svc-9"
    status, _ = call(handler, "finalize2", t.id, id_=data["id"], body_={"use-note-from-author-participant": True})
    assert status == 400  # not a v2 member


def test_another_tenants_visit_is_a_404_everywhere(handler, clinic, other_tenant):
    t, _ = clinic
    o, _ = other_tenant
    _directory(o.id)
    data = create(handler, t.id)
    for name, kw in (
        ("get", {"query": None}),
        ("credentials", {"query": {"individual-id": DOC}}),
        ("terminate", {"body_": {}}),
        ("finalize", {"body_": {}}),
        ("finalize2", {"body_": {}}),
        ("reminder", {"body_": {}}),
        ("audio", {"body_": {"participants": [{"id": PATIENT, "audio-state": "muted"}]}}),
        ("update", {"body_": {"data": {"type": "video-channels", "id": data["id"], "attributes": {"note": "x"}}}}),
    ):
        status, doc = call(handler, name, o.id, id_=data["id"], **kw)
        assert status == 404, (name, doc)
    status, doc = call(handler, "list", o.id, query={"individual-id": DOC})
    assert status == 200 and doc["data"] == []


def test_a_purged_individual_leaves_their_visits(handler, clinic, table_items):
    from parley.dal import video_channels as store
    from parley.domain import purge

    t, _ = clinic
    data = create(handler, t.id)
    done = purge.purge_courier(purge.Subject(tenant_id=t.id, individual_ids={PATIENT}))
    assert done["video_channels"] == 1
    stored = store.get(t.id, data["id"])
    assert [p["individual_id"] for p in stored["participants"]] == [DOC] and "subject_id" not in stored
    assert not [i for i in table_items() if i["PK"] == store.member_pk(t.id, PATIENT)]
    assert [i for i in table_items() if i["PK"] == store.member_pk(t.id, DOC)]
    assert PATIENT not in json.dumps(stored)
