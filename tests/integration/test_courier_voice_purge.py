"""The data-subject purge of the courier voice items (``parley.domain.purge.purge_courier``) on moto with the fake
Twilio: person X and person Y each get a queue agent on a real voice line, conferences, dial logs (Twilio's status
callbacks), recordings with their audio in S3 (Twilio's recording callbacks) and answered surveys, all through the
routes and the callback entry points; X is purged; X's agents and recordings (item and audio) are gone, X's
conferences, dial logs and surveys stay anonymous (no individual, no number, no answers, no index key naming X), Y's
are untouched, and a second purge changes nothing."""

from __future__ import annotations

import json
import uuid

import pytest
from texting import make_account

from helpers import api_event

ORG = "7d000000-0000-4000-8000-000000000001"
USER_X, IND_X = "7d000000-0000-4000-8000-0000000000a1", "7d000000-0000-4000-8000-0000000000a2"
USER_Y, IND_Y = "7d000000-0000-4000-8000-0000000000b1", "7d000000-0000-4000-8000-0000000000b2"
X_PHONE = "+15555550101"  # X's own phone: the subject's address
X_PSTN = "+15555550102"  # the phone X answers the queue on (their PSTN agent): known to the voice items only
Y_PHONE, Y_PSTN = "+15555550201", "+15555550202"
T1 = "2026-11-01T09:00:00Z"
SPEC = {"questions": [{"prompt": "How do you feel, from 1 to 5?", "input": "dtmf", "num-digits": 1}]}


@pytest.fixture
def acct(tenant, twilio):
    from parley.dal import text_numbers
    from parley.domain import directory

    t, _ = tenant
    lines = [{"type": "organizations", "id": ORG, "attributes": {"name": "northside"}}]
    for user, ind in ((USER_X, IND_X), (USER_Y, IND_Y)):
        lines.append({"type": "users", "id": user, "attributes": {"username": user[-2:], "primary-individual-id": ind}})
        lines.append({"type": "individuals", "id": ind, "attributes": {"owner-id": user, "first-name": "Al"}})
    assert directory.import_lines(t.id, [json.dumps({**line, "last-sync-time": T1}) for line in lines]).invalid == []
    account = make_account(t.id, twilio, organization_id=ORG)
    pn = text_numbers.get_number(t.id, account.number_id)["twilio_id"]  # the number at Twilio too (a line, a call's From)
    twilio.numbers[pn] = {"sid": pn, "account_sid": account.sid, "phone_number": account.phone, "sms_url": "", "status_callback": ""}
    return account


def call(handler, fn, tenant_id, user, body):
    ev = api_event(f"courier_voice_video/{fn}", tenant_id=tenant_id, body=body,
                   headers={"X-User-ID": user, "Content-Type": "application/vnd.api+json", "Idempotency-Key": None})  # fmt: skip
    out = handler(f"CourierVoiceVideoApi.{''.join(p.capitalize() for p in fn.split('_'))}Function")(ev)
    got = json.loads(out["body"]) if out.get("body") else None
    assert out["statusCode"] == 201, got
    return got["data"]


def doc(type_, **attributes):
    return {"data": {"type": type_, "attributes": attributes}}


def deletes(twilio):
    """The recordings Twilio was asked to delete."""
    return [r for r in twilio.requests if r.method == "DELETE" and "/Recordings/" in r.path]


def raw(pk, sk):
    """The stored item, index keys included."""
    from parley.dal import table

    return table.get(pk, sk, consistent=True)


def world(handler, acct, twilio):
    """X's and Y's voice items, made through the routes and Twilio's callbacks."""
    from parley.domain import voice_calls, voice_recordings, voice_surveys

    t = acct.tenant_id
    line = call(handler, "create_voice_setting", t, USER_X, doc("voice-settings", **{"account-id": acct.account_id,
                                                                                    "phone-number": acct.phone}))  # fmt: skip
    agent = {
        who: call(handler, "create_voice_queue_agent", t, user,
                  doc("voice-queue-agents", **{"setting-id": line["id"], "use-pstn": True, "phone-number": pstn}))["id"]
        for who, user, pstn in (("x", USER_X, X_PSTN), ("y", USER_Y, Y_PSTN))
    }  # fmt: skip

    def conference(individual, phone=None):
        attrs = {"organization-id": ORG, "individual-id": individual, **({"phone-number": phone} if phone else {})}
        return call(handler, "create_voice_conference", t, USER_X, doc("voice-conferences", **attrs))["id"]

    conf = {"x_browser": conference(IND_X), "x_phone": conference(IND_X, X_PHONE), "y_to_x": conference(IND_Y, X_PHONE),
            "y": conference(IND_Y, Y_PHONE)}  # fmt: skip
    twilio_failed = conference(IND_Y, X_PHONE)
    from parley.dal import voice_calls as calls_store

    calls_store.update_conference(t, twilio_failed, {"error": f"The number {X_PHONE} is unverified"})
    conf["y_failed"] = twilio_failed

    legs = {  # name: (owner, From, To)
        "conf_x": (conf["x_browser"], acct.phone, f"client:{IND_X}"),
        "conf_y": (conf["y"], acct.phone, Y_PHONE),
        "y_calls_x_agent": (line["id"], Y_PHONE, X_PSTN),  # X's agent answers Y: X's individual, Y's number stays
        "x_calls_y_agent": (line["id"], X_PHONE, Y_PSTN),  # Y's agent answers X: Y's, X's number goes
        "x_pstn_calls_y_agent": (line["id"], X_PSTN, Y_PSTN),  # X's agent phone (known to the voice items only) goes
    }
    dial = {}
    for name, (owner, from_, to) in legs.items():
        sid = "CA" + uuid.uuid4().hex
        for status in ("ringing", "completed"):
            voice_calls.apply_status(t, owner, {"CallSid": sid, "CallStatus": status, "From": from_, "To": to, "CallDuration": "7"})
        dial[name] = voice_calls.dial_id(t, sid)

    rec = {}
    for name, extra in (("x_caller", {"From": X_PHONE}), ("x_individual", {"From": acct.phone, "IndividualId": IND_X}),
                        ("x_pstn", {"From": X_PSTN}), ("y", {"From": Y_PHONE, "IndividualId": IND_Y})):  # fmt: skip
        sid = twilio.add_recording(acct.sid, audio=f"audio of {name}".encode())
        params = {"AccountSid": acct.sid, "CallSid": "CA" + uuid.uuid4().hex, "RecordingSid": sid, "RecordingStatus": "completed",
                  "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{acct.sid}/Recordings/{sid}", **extra}  # fmt: skip
        voice_recordings.apply_recording(t, line["id"], params)
        rec[name] = sid

    def survey(user, phone, *, answer=True):
        spec = {**SPEC, "account-id": acct.account_id, "phone-number": phone}
        made = call(handler, "create_voice_survey", t, user, doc("voice-surveys", **{"organization-id": ORG, "spec": spec}))
        if answer:
            voice_surveys.apply_answer(t, made["id"], {"question": "0", "Digits": "4", "CallSid": made["attributes"]["call-sid"]})
        return made["id"]

    surveys = {"x": survey(USER_X, X_PHONE), "x_running": survey(USER_X, X_PSTN, answer=False),
               "y_to_x": survey(USER_Y, X_PHONE), "y": survey(USER_Y, Y_PHONE)}  # fmt: skip
    return line, agent, conf, dial, rec, surveys


def test_a_persons_purge_erases_their_voice_items_and_leaves_the_others(handler, acct, twilio, table_items):
    from parley.dal import voice_calls as calls_store
    from parley.dal import voice_media
    from parley.dal.aws import client
    from parley.domain import purge
    from parley.settings import get_settings

    t = acct.tenant_id
    _, agent, conf, dial, rec, surveys = world(handler, acct, twilio)
    s3, bucket = client("s3"), get_settings().body_bucket
    # the world is what the test says: the indexes the purge reads name X
    assert raw(calls_store.dial_pk(t, dial["y_calls_x_agent"]), "VDIAL")["GSI4PK"] == f"TENANT#{t}#VDIAL#IND#{IND_X}"
    assert raw(calls_store.dial_pk(t, dial["x_calls_y_agent"]), "VDIAL")["GSI5PK"] == f"TENANT#{t}#VDIAL#NUM#{X_PHONE}"
    assert calls_store.get_dial(t, dial["y_calls_x_agent"])["individual_id"] == IND_X
    assert calls_store.get_dial(t, dial["x_calls_y_agent"])["individual_id"] == IND_Y
    assert voice_media.get_recording(t, rec["x_caller"])["state"] == "completed"
    assert voice_media.get_survey(t, surveys["x"])["answers"]["0"]["digits"] == "4"
    before = {name: raw(f"TENANT#{t}#VDIAL#{d}", "VDIAL") for name, d in dial.items()}

    done = purge.purge_courier(purge.Subject(t, addresses={X_PHONE}, individual_ids={IND_X}))
    assert (done["voice_agents"], done["voice_conferences"], done["voice_dial_logs"]) == (1, 4, 4)
    assert (done["voice_recordings"], done["voice_recording_objects"], done["voice_surveys"]) == (3, 3, 3)
    assert (done["voice_recordings_deleted_at_twilio"], done["voice_recordings_left_at_twilio"]) == (3, 0)

    # agents: X's deleted, Y's there
    assert calls_store.get_agent(t, agent["x"], consistent=True) is None
    assert calls_store.get_agent(t, agent["y"], consistent=True)["phone_number"] == Y_PSTN

    # conferences: kept, without X (individual, `to`, the index keys naming them; the number in Twilio's error)
    for name in ("x_browser", "x_phone"):
        stored = raw(f"TENANT#{t}#VCONF#{conf[name]}", "VCONF")
        assert stored["state"] and stored["organization_id"] == ORG and stored["call_sid"]
        assert not {"individual_id", "to", "GSI6PK", "GSI6SK", "GSI5PK", "GSI5SK"} & set(stored), stored
    y_to_x = raw(f"TENANT#{t}#VCONF#{conf['y_to_x']}", "VCONF")
    assert y_to_x["individual_id"] == IND_Y and "to" not in y_to_x and "GSI5PK" not in y_to_x and IND_Y in y_to_x["GSI6PK"]
    failed = raw(f"TENANT#{t}#VCONF#{conf['y_failed']}", "VCONF")
    assert failed["error"] == "The number [purged] is unverified" and "to" not in failed
    y_conf = raw(f"TENANT#{t}#VCONF#{conf['y']}", "VCONF")
    assert (y_conf["individual_id"], y_conf["to"], y_conf["GSI5PK"]) == (IND_Y, Y_PHONE, f"TENANT#{t}#VCONF#TO#{Y_PHONE}")
    # an anonymous conference still answers (individual-id null)
    ev = api_event("courier_voice_video/get_voice_conference", tenant_id=t, headers={"X-User-ID": USER_Y})
    ev["pathParameters"], ev["path"] = {"id": conf["x_browser"]}, f"/v1/voice-conferences/{conf['x_browser']}/"
    out = handler("CourierVoiceVideoApi.GetVoiceConferenceFunction")(ev)
    assert out["statusCode"] == 200 and json.loads(out["body"])["data"]["attributes"]["individual-id"] is None

    # dial logs: kept (status, duration, organization), without X's individual and numbers; the rest as it was
    def dial_of(name):
        return raw(f"TENANT#{t}#VDIAL#{dial[name]}", "VDIAL")

    gone = {
        "conf_x": {"individual_id", "GSI4PK", "GSI4SK", "to_number", "GSI7PK", "GSI7SK"},
        "y_calls_x_agent": {"individual_id", "GSI4PK", "GSI4SK", "to_number", "GSI7PK", "GSI7SK"},
        "x_calls_y_agent": {"from_number", "GSI5PK", "GSI5SK"},
        "x_pstn_calls_y_agent": {"from_number", "GSI5PK", "GSI5SK"},
        "conf_y": set(),
    }
    for name, fields in gone.items():
        now, was = dial_of(name), before[name]
        assert now["status"] == "completed" and int(now["call_duration"]) == 7 and now["organization_id"] == ORG
        assert set(was) - set(now) == fields, name
        assert {k: v for k, v in was.items() if k not in fields} == now, name
    assert dial_of("y_calls_x_agent")["from_number"] == Y_PHONE and dial_of("x_calls_y_agent")["individual_id"] == IND_Y
    assert dial_of("conf_x")["from_number"] == acct.phone

    # recordings: X's erased with their audio, here and at Twilio (asked with the account's own credentials); Y's there
    deleted = deletes(twilio)
    assert sorted(c.path.rsplit("/", 1)[1] for c in deleted) == sorted(f"{rec[n]}.json" for n in ("x_caller", "x_individual", "x_pstn"))
    assert all(c.auth_ok and c.account_sid == acct.sid for c in deleted)
    assert set(twilio.recordings) == {rec["y"]}
    for name in ("x_caller", "x_individual", "x_pstn"):
        assert voice_media.get_recording(t, rec[name], consistent=True) is None
        assert s3.list_objects_v2(Bucket=bucket, Prefix=voice_media.recording_key(t, rec[name])).get("KeyCount") == 0
    y_rec = voice_media.get_recording(t, rec["y"], consistent=True)
    assert (y_rec["phone_number"], y_rec["individual_id"]) == (Y_PHONE, IND_Y)
    assert s3.get_object(Bucket=bucket, Key=y_rec["s3_key"])["Body"].read() == b"audio of y"

    # surveys: kept with their state and questions, without the number, the answers and X's individual
    x_survey = raw(f"TENANT#{t}#VSURVEY#{surveys['x']}", "VSURVEY")
    assert x_survey["state"] == "completed" and x_survey["answers"] == {} and x_survey["spec"]["questions"] == SPEC["questions"]
    assert "phone-number" not in x_survey["spec"] and x_survey["spec"]["from-number"] == acct.phone
    assert not {"individual_id", "GSI4PK", "GSI5PK"} & set(x_survey)
    running = raw(f"TENANT#{t}#VSURVEY#{surveys['x_running']}", "VSURVEY")  # its call's later answers are not taken
    assert (running["state"], running["error_message"]) == ("failed", "the person's data was purged") and "individual_id" not in running
    from parley.domain import voice_surveys

    assert "<Hangup" in voice_surveys.apply_answer(t, surveys["x_running"], {"question": "0", "Digits": "9"})
    assert raw(f"TENANT#{t}#VSURVEY#{surveys['x_running']}", "VSURVEY")["answers"] == {}
    y_to_x = raw(f"TENANT#{t}#VSURVEY#{surveys['y_to_x']}", "VSURVEY")
    assert y_to_x["individual_id"] == IND_Y and y_to_x["answers"] == {} and "phone-number" not in y_to_x["spec"]
    assert y_to_x["GSI4PK"] == f"TENANT#{t}#VSURVEY#IND#{IND_Y}" and "GSI5PK" not in y_to_x
    y_survey = raw(f"TENANT#{t}#VSURVEY#{surveys['y']}", "VSURVEY")
    assert y_survey["individual_id"] == IND_Y and y_survey["spec"]["phone-number"] == Y_PHONE and y_survey["answers"]["0"]["digits"] == "4"

    # nothing of X is left in any voice item (the whole table, read here to check)
    voice = [i for i in table_items() if str(i.get("type", "")).startswith("voice_")]
    for item in voice:
        text = json.dumps(item, default=str)
        assert X_PHONE not in text and X_PSTN not in text and IND_X not in text, item

    # a second purge changes nothing
    snapshot = sorted(json.dumps(i, sort_keys=True, default=str) for i in voice)
    again = purge.purge_courier(purge.Subject(t, addresses={X_PHONE}, individual_ids={IND_X}))
    assert {k: again[k] for k in done if k.startswith("voice_")} == {k: 0 for k in done if k.startswith("voice_")}
    after = [i for i in table_items() if str(i.get("type", "")).startswith("voice_")]
    assert sorted(json.dumps(i, sort_keys=True, default=str) for i in after) == snapshot
    assert len(deletes(twilio)) == 3  # nothing asked of Twilio again


def test_an_individuals_purge_finds_the_phones_only_its_voice_items_know(handler, acct, twilio):
    """An individual's purge names no phone: the numbers its PSTN agent, its conferences and its surveys used are
    erased from the other voice items too."""
    from parley.dal import voice_lines as lines_store
    from parley.dal import voice_media
    from parley.domain import purge, voice_lines

    t = acct.tenant_id
    line, _, _, dial, rec, _ = world(handler, acct, twilio)
    stored_line = lines_store.get_setting(t, line["id"])
    entries = {}
    for caller in (X_PSTN, Y_PHONE):  # queue callbacks of two callers
        sid = "CA" + uuid.uuid4().hex
        voice_lines.apply_queue(t, stored_line, {"CallSid": sid, "From": caller, "QueuePosition": "1", "QueueTime": "3"})
        entries[caller] = voice_lines.entry_id(t, sid)
    done = purge.purge_courier(purge.Subject(t, individual_ids={IND_X}))
    assert done["voice_agents"] == 1 and done["voice_queue_entries"] == 1
    assert "phone_number" not in lines_store.get_entry(t, entries[X_PSTN], consistent=True)
    assert lines_store.get_entry(t, entries[Y_PHONE], consistent=True)["phone_number"] == Y_PHONE
    from parley.dal import voice_calls as calls_store

    # X's agent phone (X_PSTN) and the phone X's conference and survey called (X_PHONE) are gone from Y's legs too
    assert "from_number" not in calls_store.get_dial(t, dial["x_pstn_calls_y_agent"])
    assert "from_number" not in calls_store.get_dial(t, dial["x_calls_y_agent"])
    assert calls_store.get_dial(t, dial["conf_y"])["to_number"] == Y_PHONE
    for name in ("x_caller", "x_individual", "x_pstn"):
        assert voice_media.get_recording(t, rec[name], consistent=True) is None
    assert voice_media.get_recording(t, rec["y"], consistent=True) is not None


def test_a_recording_twilio_no_longer_has_or_refuses_to_delete_is_still_erased_here_and_an_outage_retries(handler, acct, twilio):
    from parley.dal import voice_media
    from parley.domain import purge, voice_recordings
    from parley.providers import twilio_rest

    t = acct.tenant_id
    line = call(handler, "create_voice_setting", t, USER_X, doc("voice-settings", **{"account-id": acct.account_id,
                                                                                    "phone-number": acct.phone}))  # fmt: skip
    made = []
    for _ in range(2):
        sid = twilio.add_recording(acct.sid, audio=b"x")
        voice_recordings.apply_recording(t, line["id"], {"AccountSid": acct.sid, "CallSid": "CA" + uuid.uuid4().hex, "RecordingSid": sid,
                                                         "RecordingStatus": "completed", "From": X_PHONE,
                                                         "RecordingUrl": f"https://api.twilio.com/x/{sid}"})  # fmt: skip
        made.append(sid)
    del twilio.recordings[made[0]]  # gone at Twilio already (404): erased here all the same
    twilio.fail_next(503)  # Twilio unavailable: the step fails and runs again, nothing lost
    with pytest.raises(twilio_rest.TwilioError):
        purge.purge_courier(purge.Subject(t, addresses={X_PHONE}))
    assert all(voice_media.get_recording(t, sid, consistent=True) for sid in made)
    done = purge.purge_courier(purge.Subject(t, addresses={X_PHONE}))
    assert (done["voice_recordings"], done["voice_recordings_deleted_at_twilio"], done["voice_recordings_left_at_twilio"]) == (2, 2, 0)
    assert not set(made) & set(twilio.recordings)
    assert all(voice_media.get_recording(t, sid, consistent=True) is None for sid in made)

    # the account's credentials refused (401): erased here, Twilio's copy counted as left (and logged)
    sid = twilio.add_recording(acct.sid, audio=b"y")
    voice_recordings.apply_recording(t, line["id"], {"AccountSid": acct.sid, "CallSid": "CA" + uuid.uuid4().hex, "RecordingSid": sid,
                                                     "RecordingStatus": "completed", "IndividualId": IND_X,
                                                     "RecordingUrl": f"https://api.twilio.com/x/{sid}"})  # fmt: skip
    twilio.fail_next(401)
    done = purge.purge_courier(purge.Subject(t, individual_ids={IND_X}))
    assert (done["voice_recordings"], done["voice_recordings_deleted_at_twilio"], done["voice_recordings_left_at_twilio"]) == (1, 0, 1)
    assert voice_media.get_recording(t, sid, consistent=True) is None and sid in twilio.recordings
