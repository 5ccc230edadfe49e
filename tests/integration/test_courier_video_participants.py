"""video-participants, video-compositions and Twilio Video's callbacks on moto with the fake Twilio (issue 20 area
E): signed room callbacks make participants join and leave (forward only, by SequenceNumber); PATCH audio-state,
disconnected, note; a recorded room's end makes one composition at Twilio, whose callbacks move it forward only and
whose get answers a short-lived link to the file; forged callbacks change nothing; another tenant's ids are 404."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from texting import make_account
from twilio.request_validator import RequestValidator
from video_callbacks import CALLBACK, callback_event, composition_params, make_channel, room_params

from helpers import api_event, body

FN = {
    "list_video_participants": "CourierVoiceVideoApi.ListVideoParticipantsFunction",
    "get_video_participant": "CourierVoiceVideoApi.GetVideoParticipantFunction",
    "update_video_participant": "CourierVoiceVideoApi.UpdateVideoParticipantFunction",
    "list_video_compositions": "CourierVoiceVideoApi.ListVideoCompositionsFunction",
    "get_video_composition": "CourierVoiceVideoApi.GetVideoCompositionFunction",
}


@pytest.fixture
def acct(tenant, twilio):
    t, _ = tenant
    return make_account(t.id, twilio)


def call(handler, fn, tenant_id, *, body_=..., query=None, id_=None, user="user-1"):
    ev = api_event(f"courier_voice_video/{fn}", tenant_id=tenant_id, body=body_, query=query,
                   headers={"X-User-ID": user, "Content-Type": "application/vnd.api+json"})  # fmt: skip
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = ev["path"].rsplit("/", 1)[0] + f"/{id_}"
    out = handler(FN[fn])(ev)
    return out["statusCode"], body(out) if out.get("body") else None


def post(handler, path, params, acct, **kw):
    return handler(CALLBACK)(callback_event(path, params, token=acct.token, **kw))["statusCode"]


def participants(handler, acct, channel, **query):
    status, out = call(handler, "list_video_participants", acct.tenant_id, query={"video-channel-id": channel["id"], **query})
    assert status == 200, out
    return {p["attributes"]["individual-id"]: p for p in out["data"]}, out["meta"]


def test_participants_join_and_leave_by_signed_room_callbacks_forward_only(handler, acct):
    from parley.dal import video as store
    from parley.dal import video_channels

    ch = make_channel(acct.tenant_id, acct, state="scheduled")
    assert post(handler, "/room", room_params(ch, acct, "participant-connected", identity="ind-a", seq=1), acct) == 204
    assert post(handler, "/room", room_params(ch, acct, "participant-connected", identity="ind-b", seq=2), acct) == 204
    assert video_channels.get(acct.tenant_id, ch["id"])["channel_state"] == "open"  # someone joined a scheduled visit
    found, meta = participants(handler, acct, ch)
    assert set(found) == {"ind-a", "ind-b"} and meta["page[total]"] == 2
    a = found["ind-a"]["attributes"]
    assert a["status"] == "connected" and a["disconnected"] is False and a["connected-at"] == "2026-12-07T15:00:00.000Z"
    assert a["account-type"] == "provider" and a["video-channel-id"] == ch["id"] and a["twilio-channel-id"] == ch["room_sid"]
    assert a["audio-state"] == "unmuted"

    left = room_params(ch, acct, "participant-disconnected", identity="ind-b", seq=5, Timestamp="2026-12-07T15:20:00Z")
    assert post(handler, "/room", left, acct) == 204
    # a late connected event (older sequence number) and the same event again change nothing
    assert post(handler, "/room", room_params(ch, acct, "participant-connected", identity="ind-b", seq=3), acct) == 204
    assert post(handler, "/room", left, acct) == 204
    status, one = call(handler, "get_video_participant", acct.tenant_id, id_=found["ind-b"]["id"])
    assert status == 200 and one["data"]["attributes"]["status"] == "disconnected" and one["data"]["attributes"]["disconnected"] is True
    assert one["data"]["attributes"]["disconnected-at"] == "2026-12-07T15:20:00.000Z"
    stored = store.get_participant(acct.tenant_id, found["ind-b"]["id"])
    assert stored["last_seq"] == 5 and stored["participant_sid"].startswith("PA")
    # a reconnect (newer) is the same participant, connected again
    assert post(handler, "/room", room_params(ch, acct, "participant-connected", identity="ind-b", seq=6), acct) == 204
    found, _ = participants(handler, acct, ch, **{"individual-id": "ind-b"})
    assert list(found) == ["ind-b"] and found["ind-b"]["attributes"]["status"] == "connected"


def test_patch_audio_state_note_and_disconnected(handler, acct):
    from parley.dal import video as store

    ch = make_channel(acct.tenant_id, acct)
    post(handler, "/room", room_params(ch, acct, "participant-connected", identity="ind-b"), acct)
    (pid,) = [p["id"] for p in participants(handler, acct, ch)[0].values()]

    def patch(attrs, id_=pid):
        return call(handler, "update_video_participant", acct.tenant_id, id_=pid,
                    body_={"data": {"type": "video-participants", "id": id_, "attributes": attrs}})  # fmt: skip

    status, out = patch({"audio-state": "muted", "note": "bad line"})
    assert status == 200 and out["data"]["attributes"]["audio-state"] == "muted" and out["data"]["attributes"]["note"] == "bad line"
    assert out["data"]["attributes"]["last-modified-by"] == "user-1"
    stored = store.get_participant(acct.tenant_id, pid)
    assert stored["audio_state"] == "muted" and stored["note"] == "bad line" and stored["status"] == "connected"
    status, out = patch({"disconnected": True, "note": None})
    assert status == 200 and out["data"]["attributes"]["status"] == "disconnected" and out["data"]["attributes"]["note"] is None
    assert "note" not in store.get_participant(acct.tenant_id, pid) and out["data"]["attributes"]["audio-state"] == "muted"
    status, out = patch({"disconnected": False})
    assert status == 409 and out["errors"][0]["code"] == "not-connected"
    assert patch({"audio-state": "loud"})[0] in (400, 422)
    assert patch({"note": "x"}, id_="another-id")[0] == 409
    assert call(handler, "update_video_participant", acct.tenant_id, id_="nope",
                body_={"data": {"type": "video-participants", "id": "nope", "attributes": {"note": "x"}}})[0] == 404  # fmt: skip
    assert store.get_participant(acct.tenant_id, pid)["disconnected"] is True


def test_list_needs_a_known_channel(handler, acct):
    status, out = call(handler, "list_video_participants", acct.tenant_id, query=None)
    assert status == 400 and out["errors"][0]["source"]["parameter"] == "video-channel-id"
    status, out = call(handler, "list_video_participants", acct.tenant_id, query={"video-channel-id": "unknown"})
    assert status == 404 and out["errors"][0]["source"]["parameter"] == "video-channel-id"
    status, out = call(handler, "list_video_compositions", acct.tenant_id, query={"video-channel-id": "unknown"})
    assert status == 404


def test_a_recorded_room_that_ends_is_composed_once_and_followed_forward_only(handler, acct, twilio):
    from parley.dal import video as store
    from parley.dal import video_channels

    ch = make_channel(acct.tenant_id, acct, recorded=True)
    post(handler, "/room", room_params(ch, acct, "participant-connected", identity="ind-a"), acct)
    ended = room_params(ch, acct, "room-ended", RoomDuration="600")
    assert post(handler, "/room", ended, acct) == 204
    assert post(handler, "/room", ended, acct) == 204  # Twilio's retry: no second composition
    assert video_channels.get(acct.tenant_id, ch["id"])["channel_state"] == "terminated"
    assert participants(handler, acct, ch)[0]["ind-a"]["attributes"]["status"] == "disconnected"  # everyone left with the room
    (req,) = twilio.calls("/v1/Compositions", "POST")
    assert req.auth_ok and req.account_sid == acct.sid and req.form["RoomSid"] == ch["room_sid"] and req.form["Format"] == "mp4"
    assert req.form["StatusCallback"].endswith("/composition")
    (cj,) = twilio.compositions

    status, out = call(handler, "list_video_compositions", acct.tenant_id, query={"video-channel-id": ch["id"]})
    assert status == 200 and out["meta"]["page[total]"] == 1
    (comp,) = out["data"]
    assert comp["attributes"]["status"] == "enqueued" and comp["attributes"]["processing-pct"] == 0
    assert comp["attributes"]["video-channel-id"] == ch["id"] and comp["attributes"]["media-url"] is None

    def event(kind, **extra):
        return post(handler, "/composition", composition_params(ch, acct, kind, cj, **extra), acct)

    assert event("composition-progress", PercentageDone="40") == 204
    assert event("composition-progress", PercentageDone="30") == 204  # late: changes nothing
    stored = store.get_composition(acct.tenant_id, comp["id"])
    assert stored["processing_pct"] == 40 and stored["status"] == "processing" and stored["composition_sid"] == cj
    media = b"\x00\x00\x00\x18ftypmp42" + b"v" * 100
    twilio.complete_composition(cj, media=media, duration=598)
    assert event("composition-available", Size=str(len(media)), Duration="598") == 204
    assert event("composition-failed") == 204  # after the final state: nothing
    status, out = call(handler, "get_video_composition", acct.tenant_id, id_=comp["id"])
    a = out["data"]["attributes"]
    assert status == 200 and a["status"] == "completed" and a["processing-status"] == "completed" and a["processing-pct"] == 100
    assert a["size"] == len(media) and a["duration"] == 598 and a["media-url-expires-at"]
    with urllib.request.urlopen(a["media-url"]) as got:
        assert got.read() == media
    forged = a["media-url"].replace("Signature=", "Signature=0")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(forged)
    assert err.value.code == 403


def test_an_unrecorded_room_that_ends_makes_no_composition(handler, acct, twilio):
    ch = make_channel(acct.tenant_id, acct, recorded=False)
    assert post(handler, "/room", room_params(ch, acct, "room-ended"), acct) == 204
    assert twilio.calls("/v1/Compositions") == []
    status, out = call(handler, "list_video_compositions", acct.tenant_id, query={"video-channel-id": ch["id"]})
    assert status == 200 and out["data"] == []


def test_twilio_refusing_the_composition_is_recorded_failed(handler, acct, twilio):
    ch = make_channel(acct.tenant_id, acct, recorded=True)
    twilio.fail_next(400, 53100, "no recordings")
    assert post(handler, "/room", room_params(ch, acct, "room-ended"), acct) == 204
    _status, out = call(handler, "list_video_compositions", acct.tenant_id, query={"video-channel-id": ch["id"]})
    assert [c["attributes"]["status"] for c in out["data"]] == ["failed"]


def test_forged_video_callbacks_change_nothing(handler, acct, other_tenant, twilio, table_items):
    ch = make_channel(acct.tenant_id, acct, recorded=True)
    before = table_items()
    joined = room_params(ch, acct, "participant-connected", identity="ind-a")
    ended = room_params(ch, acct, "room-ended")
    forged = [
        callback_event("/room", joined, token="0" * 32),  # another token
        callback_event("/room", joined, token=acct.token, signature=""),  # no signature
        callback_event("/room", {**joined, "RoomSid": "RM" + "0" * 32}, token=acct.token),  # a room that is not ours
        callback_event(
            "/room",
            ended,
            token=acct.token,
            signature=RequestValidator(acct.token).compute_signature("https://elsewhere.example/room", ended),
        ),  # signed for another URL
        callback_event("/composition", composition_params(ch, acct, "composition-available", "CJ" + "1" * 32), token="f" * 32),
    ]
    ev = callback_event("/room", joined, token=acct.token)
    ev["headers"]["x-twilio-signature"] = callback_event("/room", {**joined, "ParticipantIdentity": "ind-b"}, token=acct.token)["headers"][
        "x-twilio-signature"
    ]  # a signature of other parameters
    forged.append(ev)
    for event in forged:
        assert handler(CALLBACK)(event)["statusCode"] == 403
    assert table_items() == before and twilio.calls("/v1/Compositions") == []


def test_another_tenants_ids_are_404(handler, acct, other_tenant, twilio):
    ch = make_channel(acct.tenant_id, acct, recorded=True)
    post(handler, "/room", room_params(ch, acct, "participant-connected", identity="ind-a"), acct)
    post(handler, "/room", room_params(ch, acct, "room-ended"), acct)
    (pid,) = [p["id"] for p in participants(handler, acct, ch)[0].values()]
    _, comps = call(handler, "list_video_compositions", acct.tenant_id, query={"video-channel-id": ch["id"]})
    cid = comps["data"][0]["id"]
    other = other_tenant[0].id
    assert call(handler, "get_video_participant", other, id_=pid)[0] == 404
    assert call(handler, "update_video_participant", other, id_=pid,
                body_={"data": {"type": "video-participants", "id": pid, "attributes": {"note": "x"}}})[0] == 404  # fmt: skip
    assert call(handler, "get_video_composition", other, id_=cid)[0] == 404
    assert call(handler, "list_video_participants", other, query={"video-channel-id": ch["id"]})[0] == 404
    assert call(handler, "list_video_compositions", other, query={"video-channel-id": ch["id"]})[0] == 404


def test_a_persons_purge_deletes_their_participants(handler, acct):
    from parley.dal import video as store
    from parley.domain import purge

    first, second = make_channel(acct.tenant_id, acct), make_channel(acct.tenant_id, acct)
    for ch in (first, second):
        for who in ("ind-a", "ind-b"):
            post(handler, "/room", room_params(ch, acct, "participant-connected", identity=who), acct)
    done = purge.purge_courier(purge.Subject(acct.tenant_id, individual_ids={"ind-a"}))
    assert done["video_participants"] == 2
    for ch in (first, second):
        assert [i["individual_id"] for i in store.all_participants(acct.tenant_id, ch["id"])] == ["ind-b"]
