"""The courier voice media on moto with the fake Twilio (issue 20, area C): recordings fed by Twilio's recording and
transcription callbacks (``voice_recordings.apply_recording``: the audio copied from Twilio into S3 once, forward-only
state, a pre-signed link, download-count), surveys (an outbound call asked of Twilio from the account's number, the
TwiML Gather per question, each answer recorded once, completed / failed), text to speech through Polly (moto), bad
input as 4xx, and tenant isolation (404)."""

from __future__ import annotations

import json
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from texting import make_account

from helpers import api_event, body

ORG_ID = "7c1b2c3d-0000-4000-8000-000000000001"
USER_ID = "7c1b2c3d-0000-4000-8000-000000000002"
IND_ID = "7c1b2c3d-0000-4000-8000-000000000004"
OTHER_IND = "7c1b2c3d-0000-4000-8000-000000000006"
USER2_ID = "7c1b2c3d-0000-4000-8000-000000000003"
SETTING_ID = "7c1b2c3d-0000-4000-8000-0000000000aa"
T1 = "2026-11-01T09:00:00Z"
FN = {
    "list_voice_recordings": "CourierVoiceVideoApi.ListVoiceRecordingsFunction",
    "get_voice_recording": "CourierVoiceVideoApi.GetVoiceRecordingFunction",
    "list_voice_surveys": "CourierVoiceVideoApi.ListVoiceSurveysFunction",
    "create_voice_survey": "CourierVoiceVideoApi.CreateVoiceSurveyFunction",
    "get_voice_survey": "CourierVoiceVideoApi.GetVoiceSurveyFunction",
    "create_tts_synthesizer": "CourierVoiceVideoApi.CreateTtsSynthesizerFunction",
}


def directory(tenant_id):
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(
        tenant_id,
        [
            line("organizations", ORG_ID, {"name": "northside", "display-name": "Northside Clinic"}),
            line("users", USER_ID, {"username": "pat", "primary-individual-id": IND_ID}),
            line("users", USER2_ID, {"username": "sam", "primary-individual-id": OTHER_IND}),
            line("individuals", IND_ID, {"first-name": "Pat", "owner-id": USER_ID}),
            line("individuals", OTHER_IND, {"first-name": "Sam", "owner-id": USER2_ID}),
        ],
    )
    assert summary.invalid == []


@pytest.fixture
def acct(tenant, twilio):
    t, _ = tenant
    directory(t.id)
    a = make_account(t.id, twilio, organization_id=ORG_ID)
    # the number is the account's at Twilio too (an outbound call's From must be)
    twilio.numbers["PN" + uuid.uuid4().hex] = {"sid": "PN1", "account_sid": a.sid, "phone_number": a.phone}
    return a


def call(handler, fn, tenant_id, *, user=USER_ID, body_=..., query=None, id_=None):
    hdrs = {"X-User-ID": user, "Content-Type": "application/vnd.api+json", "Idempotency-Key": None}
    ev = api_event(f"courier_voice_video/{fn}", tenant_id=tenant_id, body=body_, query=query, headers=hdrs)
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = ev["resource"].replace("{id}", id_) + "/"
    out = handler(FN[fn])(ev)
    return out["statusCode"], body(out) if out.get("body") else None


# ── recordings ──


def recording_params(acct, sid, **extra):
    return {"AccountSid": acct.sid, "CallSid": "CA" + uuid.uuid4().hex, "RecordingSid": sid, "From": "+15555550199",
            "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/{acct.sid}/Recordings/{sid}", **extra}  # fmt: skip


def test_a_recording_callback_copies_the_audio_into_s3_once_and_a_get_answers_a_link_and_counts(handler, acct, twilio):
    from parley.domain import voice_recordings

    handler(FN["get_voice_recording"])  # the function's environment
    sid = twilio.add_recording(acct.sid, audio=b"ID3-the-voicemail")
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, recording_params(acct, sid, RecordingStatus="in-progress"))
    status, got = call(handler, "get_voice_recording", acct.tenant_id, id_=sid)
    assert status == 200 and got["data"]["attributes"]["state"] == "inprogress"
    assert got["data"]["attributes"]["url"] is None and got["data"]["attributes"]["download-count"] == 0
    assert twilio.calls(f"/Recordings/{sid}.mp3") == []

    done = recording_params(acct, sid, RecordingStatus="completed", RecordingDuration="12")
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, done)
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, done)  # Twilio's retry: nothing new
    fetched = twilio.calls(f"/Recordings/{sid}.mp3", "GET")
    assert len(fetched) == 1 and fetched[0].account_sid == acct.sid  # with the account's own credentials, once

    status, got = call(handler, "get_voice_recording", acct.tenant_id, id_=sid)
    a = got["data"]["attributes"]
    assert status == 200 and got["data"]["type"] == "voice-recordings" and got["data"]["id"] == sid
    assert (a["state"], a["duration"], a["setting-id"], a["phone-number"], a["download-count"]) == (
        "completed", 12, SETTING_ID, "+15555550199", 1,
    )  # fmt: skip
    assert "X-Amz-Expires=900" in a["url"] and a["url-expires-at"].endswith("Z")
    from parley.dal import voice_media

    stored = voice_media.get_recording(acct.tenant_id, sid, consistent=True)
    assert stored["download_count"] == 1 and stored["s3_key"] == f"voice-recordings/{acct.tenant_id}/{sid}.mp3"
    from parley.dal.aws import client
    from parley.settings import get_settings

    assert client("s3").get_object(Bucket=get_settings().body_bucket, Key=stored["s3_key"])["Body"].read() == b"ID3-the-voicemail"
    assert call(handler, "get_voice_recording", acct.tenant_id, id_=sid)[1]["data"]["attributes"]["download-count"] == 2


def test_a_transcription_fills_the_same_recording_before_or_after_and_completed_never_goes_back(handler, acct, twilio):
    from parley.dal import voice_media
    from parley.domain import voice_recordings

    handler(FN["get_voice_recording"])
    sid = twilio.add_recording(acct.sid)
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, recording_params(acct, sid, TranscriptionText="Please call me back",
                                                                                     TranscriptionStatus="completed"))  # fmt: skip
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, recording_params(acct, sid, RecordingStatus="completed"))
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, recording_params(acct, sid, RecordingStatus="in-progress"))
    stored = voice_media.get_recording(acct.tenant_id, sid, consistent=True)
    assert (stored["state"], stored["transcription"]) == ("completed", "Please call me back")


def test_recordings_of_unknown_accounts_are_ignored_and_a_twilio_failure_is_a_502_leaving_it_inprogress(handler, acct, twilio):
    from parley.dal import voice_media
    from parley.domain import voice_recordings

    handler(FN["get_voice_recording"])
    sid = twilio.add_recording(acct.sid)
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, recording_params(acct, sid, AccountSid="AC" + "0" * 32))
    assert voice_media.get_recording(acct.tenant_id, sid, consistent=True) is None
    twilio.fail_next(500)
    with pytest.raises(voice_recordings.BadGateway):
        voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, recording_params(acct, sid, RecordingStatus="completed"))
    assert voice_media.get_recording(acct.tenant_id, sid, consistent=True)["state"] == "inprogress"
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, recording_params(acct, sid, RecordingStatus="completed"))
    assert voice_media.get_recording(acct.tenant_id, sid, consistent=True)["state"] == "completed"


def test_the_recordings_list_is_the_organizations_filtered_and_paged(handler, acct, twilio, frozen):
    from parley.domain import voice_recordings

    handler(FN["list_voice_recordings"])
    sids = [twilio.add_recording(acct.sid) for _ in range(3)]
    for n, sid in enumerate(sids):
        frozen(datetime(2026, 11, 1, 9, 0, n, tzinfo=UTC))  # one second apart: the order is the time's
        status = "completed" if n < 2 else "in-progress"
        voice_recordings.apply_recording(
            acct.tenant_id, SETTING_ID if n else "other-setting", recording_params(acct, sid, RecordingStatus=status)
        )
    status, got = call(handler, "list_voice_recordings", acct.tenant_id, query={"organization-id": ORG_ID})
    assert status == 200 and [r["id"] for r in got["data"]] == sids[::-1] and got["meta"]["page[total]"] == 3
    assert all(r["attributes"]["url"] is None for r in got["data"])
    _, got = call(handler, "list_voice_recordings", acct.tenant_id, query={"organization-id": ORG_ID, "filter[states]": "completed"})
    assert [r["id"] for r in got["data"]] == sids[:2][::-1]
    _, got = call(handler, "list_voice_recordings", acct.tenant_id, query={"organization-id": ORG_ID, "filter[setting-id]": SETTING_ID,
                                                                          "page[limit]": "1", "page[offset]": "1"})  # fmt: skip
    assert [r["id"] for r in got["data"]] == [sids[1]] and got["meta"]["page[total]"] == 2
    status, got = call(handler, "list_voice_recordings", acct.tenant_id, query={"organization-id": ORG_ID, "filter[states]": "done"})
    assert status == 400 and got["errors"][0]["source"]["parameter"] == "filter[states]"
    status, _ = call(handler, "list_voice_recordings", acct.tenant_id, query={"organization-id": "no-such-org"})
    assert status == 404


def test_another_tenants_recording_is_a_404(handler, acct, twilio, other_tenant):
    from parley.domain import voice_recordings

    handler(FN["get_voice_recording"])
    sid = twilio.add_recording(acct.sid)
    voice_recordings.apply_recording(acct.tenant_id, SETTING_ID, recording_params(acct, sid, RecordingStatus="completed"))
    o, _ = other_tenant
    status, got = call(handler, "get_voice_recording", o.id, id_=sid)
    assert status == 404 and got["errors"][0]["status"] == 404
    status, _ = call(handler, "get_voice_recording", acct.tenant_id, id_=sid, query={"individual-id": OTHER_IND})
    assert status == 404


# ── surveys ──


def twiml_of(text):
    """Our own TwiML, parsed (the test checks it is valid XML)."""
    return ET.fromstring(text)  # noqa: S314 (our own document, not untrusted input)


SPEC = {
    "questions": [
        {"prompt": "How do you feel today, from 1 to 5?", "input": "dtmf", "num-digits": 1},
        {"prompt": "Anything else to tell us?", "input": "speech"},
    ],
    "greeting": "Hello from Northside Clinic.",
}


def survey_doc(acct, **attrs):
    spec = {**SPEC, "account-id": acct.account_id, "phone-number": "+15555550142", **attrs.pop("spec", {})}
    return {"data": {"type": "voice-surveys", "attributes": {"organization-id": ORG_ID, "spec": spec, **attrs}}}


def create_survey(handler, acct, **attrs):
    status, got = call(handler, "create_voice_survey", acct.tenant_id, body_=survey_doc(acct, **attrs))
    assert status == 201, got
    return got["data"]


def test_a_survey_calls_the_individual_from_the_account_number_and_records_each_answer_once(handler, acct, twilio):
    from parley.domain import voice_surveys

    survey = create_survey(handler, acct)
    a = survey["attributes"]
    assert (a["state"], a["individual-id"], a["created-by"], a["organization-id"]) == ("running", IND_ID, USER_ID, ORG_ID)
    (req,) = twilio.calls("/Calls.json", "POST")
    assert req.account_sid == acct.sid and req.form["From"] == acct.phone and req.form["To"] == "+15555550142"
    # VoiceCallbackFunction's URLs (the route's VOICE_CALLBACK_URL, as the template gives it), naming the tenant and the
    # account whose token signs Twilio's requests (voice_lines.callback_url)
    who = {"tenant": [acct.tenant_id], "account": [acct.account_id]}
    url, status_cb = urllib.parse.urlsplit(req.form["Url"]), urllib.parse.urlsplit(req.form["StatusCallback"])
    assert url.path.endswith(f"/VoiceCallbackFunction/survey/{survey['id']}") and urllib.parse.parse_qs(url.query) == who
    assert status_cb.path == f"{url.path}/status" and urllib.parse.parse_qs(status_cb.query) == who
    assert a["call-sid"] == next(iter(twilio.voice_calls))

    xml = twiml_of(voice_surveys.twiml(acct.tenant_id, survey["id"], {"CallSid": a["call-sid"]}))
    assert xml.find("Say").text == "Hello from Northside Clinic."
    gather = xml.find("Gather")
    action = urllib.parse.urlsplit(gather.get("action"))
    assert (action.scheme, action.netloc, action.path) == (url.scheme, url.netloc, url.path) and gather.get("numDigits") == "1"
    assert urllib.parse.parse_qs(action.query) == {**who, "question": ["0"]}
    assert gather.find("Say").text == SPEC["questions"][0]["prompt"]

    nxt = twiml_of(voice_surveys.apply_answer(acct.tenant_id, survey["id"], {"question": "0", "Digits": "4", "CallSid": "CA1"}))
    assert nxt.find("Gather").get("action").endswith("&question=1") and nxt.find("Gather").get("input") == "speech"
    again = twiml_of(voice_surveys.apply_answer(acct.tenant_id, survey["id"], {"question": "0", "Digits": "1"}))  # a replay
    assert again.find("Gather").get("action").endswith("&question=1")
    end = twiml_of(voice_surveys.apply_answer(acct.tenant_id, survey["id"], {"question": "1", "SpeechResult": "All good"}))
    assert end.find("Hangup") is not None

    status, got = call(handler, "get_voice_survey", acct.tenant_id, id_=survey["id"])
    a = got["data"]["attributes"]
    assert status == 200 and a["state"] == "completed"
    assert [(x["question"], x.get("digits"), x.get("speech")) for x in a["answers"]] == [(0, "4", None), (1, None, "All good")]
    # the survey is over: Twilio gets a hangup, nothing changes
    assert twiml_of(voice_surveys.twiml(acct.tenant_id, survey["id"], {})).find("Hangup") is not None


def test_a_silent_question_is_recorded_skipped_and_a_call_ending_early_fails_the_survey(handler, acct, twilio):
    from parley.domain import voice_surveys

    survey = create_survey(handler, acct)
    voice_surveys.apply_answer(acct.tenant_id, survey["id"], {"question": "0"})
    voice_surveys.call_ended(acct.tenant_id, survey["id"], {"CallStatus": "completed"})
    _, got = call(handler, "get_voice_survey", acct.tenant_id, id_=survey["id"])
    a = got["data"]["attributes"]
    assert a["state"] == "failed" and a["error-message"] == "the call ended after 1 of 2 answers"
    assert a["answers"][0]["skipped"] is True


def test_twilio_refusing_the_call_leaves_a_failed_survey_with_its_reason(handler, acct, twilio):
    twilio.fail_next(400, 21215, "Geo permission not enabled")
    survey = create_survey(handler, acct)
    assert survey["attributes"]["state"] == "failed" and "Geo permission" in survey["attributes"]["error-message"]


def test_bad_survey_input_is_a_4xx_naming_the_member_and_stores_nothing(handler, acct, twilio, table_items):
    before = len(table_items())
    cases = [
        (survey_doc(acct, spec={"phone-number": "not a phone"}), 400, "/data/attributes/spec/phone-number"),
        (survey_doc(acct, spec={"questions": []}), 400, None),
        (survey_doc(acct, spec={"account-id": "no-such-account"}), 404, "/data/attributes/spec/account-id"),
        (survey_doc(acct, spec={"from-number": "+15555550777"}), 422, "/data/attributes/spec/from-number"),
        (survey_doc(acct, **{"organization-id": "no-such-org"}), 404, "/data/attributes/organization-id"),
        (survey_doc(acct, **{"individual-id": OTHER_IND}), 403, "/data/attributes/individual-id"),
    ]
    for doc, status, pointer in cases:
        got_status, got = call(handler, "create_voice_survey", acct.tenant_id, body_=doc)
        assert got_status == status, (doc, got)
        if pointer:
            assert got["errors"][0]["source"]["pointer"] == pointer
    assert len(table_items()) == before and twilio.calls("/Calls.json") == []


def test_surveys_list_by_organization_with_filters_and_another_tenants_survey_is_a_404(handler, acct, twilio, other_tenant, frozen):
    frozen(datetime(2026, 11, 1, 9, 0, 0, tzinfo=UTC))
    first = create_survey(handler, acct)
    frozen(datetime(2026, 11, 1, 9, 0, 1, tzinfo=UTC))
    twilio.fail_next(400, 21215, "no")
    second = create_survey(handler, acct)
    status, got = call(handler, "list_voice_surveys", acct.tenant_id, query={"organization-id": ORG_ID})
    assert status == 200 and [s["id"] for s in got["data"]] == [second["id"], first["id"]] and got["meta"]["page[total]"] == 2
    _, got = call(handler, "list_voice_surveys", acct.tenant_id, query={"organization-id": ORG_ID, "filter[states]": "running,created"})
    assert [s["id"] for s in got["data"]] == [first["id"]]
    _, got = call(handler, "list_voice_surveys", acct.tenant_id, query={"organization-id": ORG_ID, "filter[individual-id]": OTHER_IND})
    assert got["data"] == []
    o, _ = other_tenant
    assert call(handler, "get_voice_survey", o.id, id_=first["id"])[0] == 404
    assert call(handler, "get_voice_survey", acct.tenant_id, id_=first["id"], query={"individual-id": OTHER_IND})[0] == 404
    assert call(handler, "list_voice_surveys", o.id, query={"organization-id": ORG_ID})[0] == 404


# ── text to speech ──


def test_tts_synthesizes_with_polly_into_s3_once_and_answers_a_link(handler, tenant, table_items):
    t, _ = tenant
    doc = {"data": {"type": "tts-synthesizers", "attributes": {"locale": "en-US", "text": "Your visit starts in ten minutes."}}}
    status, got = call(handler, "create_tts_synthesizer", t.id, body_=doc)
    a = got["data"]["attributes"]
    assert status == 201 and got["data"]["type"] == "tts-synthesizers"
    assert (a["voice"], a["content-type"], a["cached"], a["characters"]) == ("Joanna", "audio/mpeg", False, 33)
    from parley.dal.aws import client
    from parley.settings import get_settings

    key = f"tts/{t.id}/{got['data']['id']}.mp3"
    obj = client("s3").get_object(Bucket=get_settings().body_bucket, Key=key)
    assert obj["ContentType"] == "audio/mpeg" and len(obj["Body"].read()) > 0
    assert "X-Amz-Expires=900" in a["url"] and key in urllib.parse.unquote(a["url"])
    status, again = call(handler, "create_tts_synthesizer", t.id, body_=doc)
    assert status == 201 and again["data"]["id"] == got["data"]["id"] and again["data"]["attributes"]["cached"] is True


def test_tts_bad_input_is_a_4xx(handler, tenant):
    t, _ = tenant
    for attrs, status in (({"locale": "xx-XX", "text": "hi"}, 422), ({"locale": "en-US", "text": ""}, 400), ({"locale": "en-US"}, 400),
                          ({"text": "x" * 3001}, 400)):  # fmt: skip
        got_status, got = call(handler, "create_tts_synthesizer", t.id, body_={"data": {"type": "tts-synthesizers", "attributes": attrs}})
        assert got_status == status, (attrs, got)
        assert got["errors"][0]["status"] == status
