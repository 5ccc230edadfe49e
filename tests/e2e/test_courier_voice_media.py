"""The courier voice media (issue 20, area C) over HTTP on the local stack, against the fake Twilio inside it: every
route answers the seed's shape (type, attributes, envelope, page meta) — voice-recordings list and get (a recording
fed by Twilio's callback, its audio copied from the fake Twilio into S3, a pre-signed link that serves it,
download-count), voice-surveys list, create and get (the outbound call asked of the fake Twilio from the account's
number; the TwiML and the answers as Twilio would post them), tts-synthesizers (Polly on the emulator, the MP3
served by its link) — the stored state, and another tenant's ids are 404s.

Twilio's callbacks (the recording's, the survey call's TwiML fetch and each Gather's answer) are posted to
VoiceCallbackFunction's Function URL on the stack, signed with the account's auth token as Twilio signs them."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
RECORDING_KEYS = {"created-at", "download-count", "duration", "individual-id", "last-modified-at", "phone-number", "setting-id", "state",
                  "transcription", "call-sid", "content-type", "url", "url-expires-at"}  # fmt: skip
SURVEY_KEYS = {"created-at", "created-by", "individual-id", "organization-id", "state", "spec", "answers", "call-sid", "error-message",
               "last-modified-at"}  # fmt: skip


class Client:
    def __init__(self, local, key, user=None):
        self.base = local.api
        self.headers = {
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/vnd.api+json",
            **({"X-User-ID": user} if user else {}),
        }

    def get(self, path, **query):
        return requests.get(self.base + path, params=query or None, headers=self.headers, timeout=30)

    def post(self, path, body):
        return requests.post(self.base + path, json=body, headers=self.headers, timeout=30)


def ok(response, status=200):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/vnd.api+json")
    return response.json()


def error(response, status):
    assert response.status_code == status, response.text
    (err,) = response.json()["errors"]
    assert err["status"] == status
    return err


def twilio(local):
    return requests.get(local.api + "/_local/twilio", timeout=10).json()


def twiml_of(text):
    return ET.fromstring(text)  # noqa: S314 (our own document, not untrusted input)


def signed_post(url, params, token):
    """Twilio posting ``params`` to ``url``: form-encoded, ``X-Twilio-Signature`` with the account's auth token; the
    answer's TwiML."""
    signature = RequestValidator(token).compute_signature(url, params)
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    answer = requests.post(url, data=urlencode(params), headers=headers, timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml"), answer.text
    return twiml_of(answer.text)


def test_voice_recordings_surveys_and_speech_over_http(local, emulator_env, tmp_path):
    from parley.dal import secrets, voice_media

    tenant, stranger = local.new_tenant("voice-media"), local.new_tenant("voice-media-stranger")
    tid = tenant["tenantId"]
    org, user, ind = (str(uuid.uuid4()) for _ in range(3))
    lines = [
        {"type": "organizations", "id": org, "last-sync-time": T1, "attributes": {"name": "northside"}},
        {"type": "users", "id": user, "last-sync-time": T1, "attributes": {"username": "pat", "primary-individual-id": ind}},
        {"type": "individuals", "id": ind, "last-sync-time": T1, "attributes": {"first-name": "Pat", "owner-id": user}},
    ]
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    assert requests.post(local.api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10).status_code == 201
    api, other = Client(local, tenant["apiKey"], user), Client(local, stranger["apiKey"], user)
    account = ok(api.post("/v1/text-accounts/", {"data": {"type": "text-accounts", "attributes": {"organization-id": org}}}), 201)["data"]
    number = ok(api.post(f"/v1/text-accounts/{account['id']}/claim-number/", {"notes": "voice line"}), 201)["data"]
    sub_sid, phone = account["attributes"]["twilio-id"], number["attributes"]["phone-number"]
    token = secrets.named_secret(f"parley/texting/{tid}/{account['id']}")["auth_token"]
    callback = f"{local.api}/_url/VoiceCallbackFunction"

    # ── voice-recordings: a line's voicemail, Twilio's recording and transcription callbacks, then the API ──
    line = {
        "data": {"type": "voice-settings", "attributes": {"account-id": account["id"], "phone-number": phone, "recording-enabled": True}}
    }
    setting = ok(api.post("/v1/voice-settings/", line), 201)["data"]["id"]
    given = requests.post(local.api + "/_local/twilio/recording", json={"accountSid": sub_sid, "text": "ID3 voicemail"}, timeout=10)
    assert given.status_code == 201, given.text
    rec = given.json()["recordingSid"]
    recording_url = f"{callback}/recording?" + urlencode({"tenant": tid, "account": account["id"], "setting": setting})
    params = {"AccountSid": sub_sid, "CallSid": "CA" + uuid.uuid4().hex, "RecordingSid": rec, "RecordingStatus": "completed",
              "RecordingDuration": "7", "From": "+15555550199"}  # fmt: skip
    signed_post(recording_url, params, token)
    transcribed = {k: v for k, v in params.items() if k != "RecordingStatus"} | {"TranscriptionText": "Call me back"}
    signed_post(recording_url, transcribed, token)  # the transcription callback, after the recording's
    listed = ok(api.get("/v1/voice-recordings/", **{"organization-id": org}))
    assert [r["id"] for r in listed["data"]] == [rec] and listed["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
    assert listed["data"][0]["type"] == "voice-recordings" and set(listed["data"][0]["attributes"]) == RECORDING_KEYS
    assert ok(api.get("/v1/voice-recordings", **{"organization-id": org, "filter[states]": "inprogress"}))["data"] == []
    assert ok(api.get("/v1/voice-recordings", **{"organization-id": org, "filter[setting-id]": setting}))["meta"]["page[total]"] == 1
    got = ok(api.get(f"/v1/voice-recordings/{rec}/"))["data"]["attributes"]
    assert (got["state"], got["duration"], got["transcription"], got["download-count"], got["setting-id"]) == (
        "completed", 7, "Call me back", 1, setting,
    )  # fmt: skip
    audio = requests.get(got["url"], timeout=10)
    assert audio.status_code == 200 and audio.content == b"ID3 voicemail"
    assert voice_media.get_recording(tid, rec, consistent=True)["download_count"] == 1
    assert ok(api.get(f"/v1/voice-recordings/{rec}"))["data"]["attributes"]["download-count"] == 2
    error(other.get(f"/v1/voice-recordings/{rec}/"), 404)
    error(api.get("/v1/voice-recordings/", **{"organization-id": org, "filter[states]": "nope"}), 400)

    # ── voice-surveys ──
    questions = [{"prompt": "How do you feel, 1 to 5?", "num-digits": 1}, {"prompt": "Anything else?", "input": "speech"}]
    spec = {"account-id": account["id"], "phone-number": "+15555550142", "greeting": "Hello.", "questions": questions}
    body = {"data": {"type": "voice-surveys", "attributes": {"organization-id": org, "spec": spec}}}
    created = ok(api.post("/v1/voice-surveys/", body), 201)["data"]
    sid = created["id"]
    assert created["type"] == "voice-surveys" and set(created["attributes"]) == SURVEY_KEYS
    a = created["attributes"]
    assert (a["state"], a["individual-id"], a["created-by"], a["organization-id"]) == ("running", ind, user, org)
    # this tenant's account's calls (the stack's fake Twilio serves every test of the session)
    (asked,) = [r for r in twilio(local)["requests"]
                if r["method"] == "POST" and r["path"].endswith("/Calls.json") and r["account_sid"] == sub_sid]  # fmt: skip
    assert asked["form"]["From"] == phone and asked["form"]["To"] == "+15555550142"
    who = urlencode({"tenant": tid, "account": account["id"]})
    assert asked["form"]["Url"] == f"{callback}/survey/{sid}?{who}"
    assert asked["form"]["StatusCallback"] == f"{callback}/survey/{sid}/status?{who}"
    call = {"AccountSid": sub_sid, "CallSid": a["call-sid"]}
    first = signed_post(asked["form"]["Url"], call, token)  # the call is answered: Twilio fetches the TwiML
    assert first.find("Say").text == "Hello." and first.find("Gather").get("action") == f"{callback}/survey/{sid}?{who}&question=0"
    second = signed_post(first.find("Gather").get("action"), {**call, "Digits": "5"}, token)
    assert second.find("Gather").get("input") == "speech"
    assert signed_post(second.find("Gather").get("action"), {**call, "SpeechResult": "No"}, token).find("Hangup") is not None
    forged = requests.post(second.find("Gather").get("action"), data={**call, "SpeechResult": "Yes"}, timeout=30)  # unsigned
    assert forged.status_code == 403
    got = ok(api.get(f"/v1/voice-surveys/{sid}/"))["data"]["attributes"]
    assert got["state"] == "completed" and [(x["question"], x.get("digits"), x.get("speech")) for x in got["answers"]] == [
        (0, "5", None), (1, None, "No"),
    ]  # fmt: skip
    listed = ok(api.get("/v1/voice-surveys/", **{"organization-id": org, "filter[states]": "completed"}))
    assert [s["id"] for s in listed["data"]] == [sid] and listed["meta"]["page[total]"] == 1
    assert ok(api.get("/v1/voice-surveys", **{"organization-id": org, "filter[states]": "running"}))["data"] == []
    error(other.get(f"/v1/voice-surveys/{sid}/"), 404)
    bad = {"data": {"type": "voice-surveys", "attributes": {"organization-id": org, "spec": {**spec, "phone-number": "nope"}}}}
    assert error(api.post("/v1/voice-surveys/", bad), 400)["source"]["pointer"] == "/data/attributes/spec/phone-number"

    # ── tts-synthesizers ──
    speech = ok(
        api.post("/v1/tts-synthesizers/", {"data": {"type": "tts-synthesizers", "attributes": {"locale": "en-GB", "text": "Hi"}}}), 201
    )
    s = speech["data"]["attributes"]
    assert speech["data"]["type"] == "tts-synthesizers" and (s["voice"], s["content-type"], s["cached"]) == ("Amy", "audio/mpeg", False)
    served = requests.get(s["url"], timeout=10)
    assert served.status_code == 200 and served.headers["Content-Type"] == "audio/mpeg" and served.content
    error(api.post("/v1/tts-synthesizers/", {"data": {"type": "tts-synthesizers", "attributes": {"locale": "zz-ZZ", "text": "Hi"}}}), 422)
