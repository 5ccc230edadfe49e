"""Courier voice lines on moto with the fake Twilio (issue 20, area A): voice-settings (a Twilio queue made, the
number's voice webhooks pointed at Parley), the TwiML answered to Twilio's signed voice webhook (parsed: it names the
queue or the forward number), the VoiceCallbackFunction's routes (queue entries forward-only; status, recording and
survey callbacks handed to areas B and C), run-task refresh_queue_entries (reconciled with Twilio's queue members),
voice-tasks, and what a forged request or another tenant gets (403 and nothing written; 404)."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from texting import make_account
from twilio.request_validator import RequestValidator

from helpers import api_event, load_event

ORG = "7b000000-0000-4000-8000-000000000001"
FORWARD = "+15555550177"
CALLER = "+15555550123"
FN = {
    "list_voice_settings": "ListVoiceSettingsFunction",
    "create_voice_setting": "CreateVoiceSettingFunction",
    "get_voice_setting": "GetVoiceSettingFunction",
    "update_voice_setting": "UpdateVoiceSettingFunction",
    "run_voice_setting_task": "RunVoiceSettingTaskFunction",
    "get_voice_task": "GetVoiceTaskFunction",
    "list_voice_queue_entries": "ListVoiceQueueEntriesFunction",
    "get_voice_queue_entry": "GetVoiceQueueEntryFunction",
    "voice_ivr_twiml": "VoiceIvrTwimlFunction",
    "voice_ivr_twiml_get": "VoiceIvrTwimlGetFunction",
}
CALLBACK = "CourierVoiceVideoApi.VoiceCallbackFunction"


@pytest.fixture
def acct(tenant, twilio):
    t, _ = tenant
    _directory(t.id)
    account = make_account(t.id, twilio, organization_id=ORG)
    _twilio_number(twilio, account)
    return account


def _directory(tenant_id):
    from parley.domain import directory as d

    line = json.dumps({"type": "organizations", "id": ORG, "attributes": {"name": "northside"}, "last-sync-time": "2026-11-01T09:00:00Z"})
    assert d.import_lines(tenant_id, [line]).invalid == []


def _twilio_number(twilio, account, phone=None):
    """The fake Twilio's own record of the account's number (make_account stores only Parley's side)."""
    from parley.dal import text_numbers as d

    stored = d.get_number(account.tenant_id, account.number_id) if phone is None else None
    phone = phone or account.phone
    pn = stored["twilio_id"] if stored else "PN" + uuid.uuid4().hex
    twilio.numbers[pn] = {"sid": pn, "account_sid": account.sid, "phone_number": phone, "sms_url": "", "status_callback": ""}
    return pn


def _second_number(twilio, account, phone="+15555550111"):
    from parley import clock
    from parley.dal import text_numbers as d

    pn, number_id, now = _twilio_number(twilio, account, phone), str(uuid.uuid4()), clock.iso(clock.now())
    d.create_number(d.number_item(account.tenant_id, number_id, {"account_id": account.account_id, "organization_id": ORG,
                                                                 "phone_number": phone, "twilio_id": pn, "created_at": now,
                                                                 "last_modified_at": now}))  # fmt: skip
    return pn


def call(handler, fn, tenant_id, *, body_=..., query=None, id_=None):
    ev = api_event(f"courier_voice_video/{fn}", tenant_id=tenant_id, body=body_, query=query,
                   headers={"X-User-ID": "user-1", "Content-Type": "application/vnd.api+json"})  # fmt: skip
    if id_ is not None:
        ev["pathParameters"] = {"id": id_}
        ev["path"] = ev["path"].replace("11111111-1111-1111-1111-111111111111", id_)
    out = handler(f"CourierVoiceVideoApi.{FN[fn]}")(ev)
    return out["statusCode"], (json.loads(out["body"]) if out.get("body") else None)


def doc(id_=None, **attributes):
    return {"data": {"type": "voice-settings", "attributes": attributes, **({"id": id_} if id_ else {})}}


def create(handler, acct, **attrs):
    status, out = call(handler, "create_voice_setting", acct.tenant_id,
                       body_=doc(**{"account-id": acct.account_id, "phone-number": acct.phone, **attrs}))  # fmt: skip
    assert status == 201, out
    return out["data"]


def stored_setting(tenant_id, setting_id):
    from parley.dal import voice_lines

    return voice_lines.get_setting(tenant_id, setting_id)


def twiml_event(url, params, *, token, method="POST", signature=None):
    """A REST API event of Twilio's voice webhook at ``url`` (the number's VoiceUrl), signed with ``token``."""
    parts = urlsplit(url)
    setting_id = parts.path.rstrip("/").split("/")[-2]
    name = "voice_ivr_twiml" if method == "POST" else "voice_ivr_twiml_get"
    ev = json.loads(json.dumps(load_event(f"courier_voice_video/{name}")))
    ev["path"] = parts.path[parts.path.index("/v1/voice-ivrs/") :]
    ev["pathParameters"] = {"id": setting_id}
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    if method == "POST":
        ev["body"], ev["isBase64Encoded"] = urlencode(params), False
        signed = RequestValidator(token).compute_signature(url, params)
    else:
        query.update(params)
        ev["body"] = None
        signed = RequestValidator(token).compute_signature(f"{url}&{urlencode(params)}", {})
    ev["queryStringParameters"], ev["multiValueQueryStringParameters"] = query, {k: [v] for k, v in query.items()}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature if signature is not None else signed}
    ev["headers"] = {**{k: v for k, v in ev["headers"].items() if k.lower() != "content-type"}, **headers}
    ev["multiValueHeaders"] = {k: [v] for k, v in ev["headers"].items()}
    return ev


def url_event(url, params, *, token, signature=None):
    """A Function URL event of Twilio posting ``params`` to ``url`` (a VoiceCallbackFunction URL), signed."""
    import base64

    parts = urlsplit(url)
    prefix, _, sub = parts.path.partition("/VoiceCallbackFunction")
    ev = json.loads(json.dumps(load_event("candidate/twilio_inbound")))
    ev["rawPath"] = sub or "/"
    ev["rawQueryString"] = parts.query
    ev["queryStringParameters"] = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    signed = signature if signature is not None else RequestValidator(token).compute_signature(url, params)
    ev["headers"] = {"host": parts.netloc, "x-forwarded-proto": parts.scheme, "x-forwarded-prefix": prefix + "/VoiceCallbackFunction",
                     "content-type": "application/x-www-form-urlencoded",
                     "x-twilio-signature": signed}  # fmt: skip
    ev["requestContext"]["domainName"] = parts.netloc
    ev["requestContext"]["http"]["path"] = ev["rawPath"]
    ev["body"] = base64.b64encode(urlencode(params).encode()).decode()
    ev["isBase64Encoded"] = True
    return ev


def post_callback(handler, url, params, *, token, signature=None):
    out = handler(CALLBACK)(url_event(url, params, token=token, signature=signature))
    return out["statusCode"], out.get("body") or ""


def enqueue_xml(xml):
    root = ET.fromstring(xml)  # noqa: S314 (our own answer, parsed to check it)
    assert root.tag == "Response"
    return root


# ── voice-settings ──


def test_create_makes_a_queue_and_points_the_numbers_voice_webhooks_at_parley(handler, acct, twilio, table_items):
    data = create(handler, acct, **{"forward-number": None, "recording-enabled": True, "recording-message": "This call is recorded.",
                                    "wait-message": "Please hold."})  # fmt: skip
    attrs = data["attributes"]
    assert data["type"] == "voice-settings"
    assert attrs == {
        "account-id": acct.account_id, "created-at": attrs["created-at"], "forward-number": None, "last-modified-at": attrs["created-at"],
        "organization-id": ORG, "phone-number": acct.phone, "recording-enabled": True, "recording-message": "This call is recorded.",
        "wait-message": "Please hold.",
    }  # fmt: skip
    (queue,) = twilio.queues.values()
    assert queue["account_sid"] == acct.sid and queue["friendly_name"] == f"parley-voice-{data['id']}"
    stored = stored_setting(acct.tenant_id, data["id"])
    assert stored["queue_sid"] == queue["sid"] and stored["GSI6PK"] == f"TENANT#{acct.tenant_id}#VOICESET#ORG#{ORG}"
    number = twilio.number_by_phone(acct.phone)
    assert number["voice_url"] == stored["voice_url"] and number["voice_method"] == "POST"
    assert stored["voice_url"].endswith(f"/v1/voice-ivrs/{data['id']}/twiml/?tenant={acct.tenant_id}")
    assert "/_url/VoiceCallbackFunction/status?" in number["status_callback"] and number["status_callback"] == stored["status_url"]
    assert f"account={acct.account_id}" in stored["status_url"] and f"setting={data['id']}" in stored["status_url"]
    (upd,) = twilio.calls(f"/IncomingPhoneNumbers/{number['sid']}.json", "POST")
    assert upd.auth_ok and upd.account_sid == acct.sid  # asked with the account's own credentials


def test_create_refuses_unknown_account_foreign_number_and_bad_phone(handler, acct, twilio, table_items):
    status, out = call(handler, "create_voice_setting", acct.tenant_id, body_=doc(**{"account-id": "nope", "phone-number": acct.phone}))
    assert status == 404 and out["errors"][0]["source"]["pointer"] == "/data/attributes/account-id"
    status, out = call(
        handler, "create_voice_setting", acct.tenant_id, body_=doc(**{"account-id": acct.account_id, "phone-number": "+15555550999"})
    )
    assert status == 422 and out["errors"][0]["source"]["pointer"] == "/data/attributes/phone-number"
    status, out = call(
        handler, "create_voice_setting", acct.tenant_id, body_=doc(**{"account-id": acct.account_id, "phone-number": "nope"})
    )
    assert status == 400 and out["errors"][0]["source"]["pointer"] == "/data/attributes/phone-number"
    status, out = call(handler, "create_voice_setting", acct.tenant_id, body_=doc(**{"account-id": acct.account_id}))
    assert status == 400
    assert not twilio.queues and not [i for i in table_items() if i.get("type") == "voice_setting"]


def test_one_line_per_number(handler, acct, twilio):
    first = create(handler, acct)
    status, out = call(
        handler, "create_voice_setting", acct.tenant_id, body_=doc(**{"account-id": acct.account_id, "phone-number": acct.phone})
    )
    assert status == 409 and out["errors"][0]["source"]["pointer"] == "/data/attributes/phone-number"
    assert len(twilio.queues) == 1  # the refused line made no queue
    _second_number(twilio, acct)
    second = create(handler, acct, **{"phone-number": "+15555550111"})
    status, out = call(
        handler, "update_voice_setting", acct.tenant_id, id_=second["id"], body_=doc(second["id"], **{"phone-number": acct.phone})
    )
    assert status == 409, out
    assert stored_setting(acct.tenant_id, second["id"])["phone_number"] == "+15555550111"
    assert stored_setting(acct.tenant_id, first["id"])["phone_number"] == acct.phone


def test_create_when_twilio_fails_is_a_502_and_stores_nothing(handler, acct, twilio, table_items):
    twilio.fail_next(500)
    status, out = call(
        handler, "create_voice_setting", acct.tenant_id, body_=doc(**{"account-id": acct.account_id, "phone-number": acct.phone})
    )
    assert status == 502, out
    assert not [i for i in table_items() if i.get("type") == "voice_setting"]


def test_list_get_patch_and_isolation(handler, acct, twilio, other_tenant):
    data = create(handler, acct, **{"forward-number": "(555) 555-0177", "wait-message": "Hold on"})
    assert data["attributes"]["forward-number"] == FORWARD  # E.164 in the tenant's country
    status, out = call(handler, "list_voice_settings", acct.tenant_id, query={"organization-id": ORG})
    assert status == 200 and [d["id"] for d in out["data"]] == [data["id"]] and out["meta"]["page[total]"] == 1
    status, out = call(handler, "list_voice_settings", acct.tenant_id, query={"organization-id": "unknown-org"})
    assert status == 404
    status, out = call(handler, "get_voice_setting", acct.tenant_id, id_=data["id"])
    assert status == 200 and out["data"]["attributes"] == data["attributes"]
    other, _ = other_tenant
    assert call(handler, "get_voice_setting", other.id, id_=data["id"])[0] == 404
    assert call(handler, "update_voice_setting", other.id, id_=data["id"], body_=doc(data["id"], **{"wait-message": "x"}))[0] == 404

    status, out = call(handler, "update_voice_setting", acct.tenant_id, id_=data["id"],
                       body_=doc(data["id"], **{"forward-number": None, "recording-enabled": True, "wait-message": None}))  # fmt: skip
    assert status == 200, out
    attrs = out["data"]["attributes"]
    assert attrs["forward-number"] is None and attrs["recording-enabled"] is True and attrs["wait-message"] is None
    stored = stored_setting(acct.tenant_id, data["id"])
    assert "forward_number" not in stored and "wait_message" not in stored


def test_patch_to_another_number_moves_the_voice_webhooks(handler, acct, twilio):
    data = create(handler, acct)
    new_pn = _second_number(twilio, acct)
    status, out = call(
        handler, "update_voice_setting", acct.tenant_id, id_=data["id"], body_=doc(data["id"], **{"phone-number": "+15555550111"})
    )
    assert status == 200, out
    assert out["data"]["attributes"]["phone-number"] == "+15555550111"
    stored = stored_setting(acct.tenant_id, data["id"])
    assert twilio.numbers[new_pn]["voice_url"] == stored["voice_url"]
    assert twilio.number_by_phone(acct.phone)["voice_url"] == ""  # the old number no longer answers for the line
    status, out = call(
        handler, "update_voice_setting", acct.tenant_id, id_=data["id"], body_=doc(data["id"], **{"phone-number": "+15555550999"})
    )
    assert status == 422


# ── voice-ivrs/{id}/twiml ──


def test_twiml_enqueues_into_the_lines_queue_with_its_wait_url(handler, acct, twilio):
    data = create(handler, acct, **{"wait-message": "Please hold."})
    stored = stored_setting(acct.tenant_id, data["id"])
    params = {"CallSid": "CA" + "1" * 32, "AccountSid": acct.sid, "From": CALLER, "To": acct.phone, "CallStatus": "ringing"}
    out = handler(f"CourierVoiceVideoApi.{FN['voice_ivr_twiml']}")(twiml_event(stored["voice_url"], params, token=acct.token))
    assert out["statusCode"] == 200, out
    ctype = (out.get("headers") or {}).get("Content-Type") or (out.get("multiValueHeaders") or {})["Content-Type"][0]
    assert ctype.startswith("text/xml")
    root = enqueue_xml(out["body"])
    (enqueue,) = root.findall("Enqueue")
    assert enqueue.text == stored["queue_name"] == twilio.queues[stored["queue_sid"]]["friendly_name"]
    assert "/_url/VoiceCallbackFunction/queue?" in enqueue.get("waitUrl") and enqueue.get("action") == enqueue.get("waitUrl")
    assert root.find("Say") is None  # recording off: no notice


def test_twiml_dials_the_forward_number_recorded_when_recording_is_on(handler, acct, twilio):
    data = create(handler, acct, **{"forward-number": FORWARD, "recording-enabled": True, "recording-message": "Recorded."})
    stored = stored_setting(acct.tenant_id, data["id"])
    params = {"CallSid": "CA" + "2" * 32, "AccountSid": acct.sid, "From": CALLER, "To": acct.phone}
    out = handler(f"CourierVoiceVideoApi.{FN['voice_ivr_twiml_get']}")(
        twiml_event(stored["voice_url"], params, token=acct.token, method="GET")
    )
    assert out["statusCode"] == 200, out
    root = enqueue_xml(out["body"])
    assert root.find("Say").text == "Recorded."
    dial = root.find("Dial")
    assert dial.get("record") == "record-from-answer-dual" and "/recording?" in dial.get("recordingStatusCallback")
    assert dial.get("callerId") == acct.phone and dial.find("Number").text == FORWARD
    assert "/status?" in dial.find("Number").get("statusCallback")


def test_twiml_with_a_bad_signature_is_403_and_writes_nothing(handler, acct, twilio, table_items):
    data = create(handler, acct)
    stored = stored_setting(acct.tenant_id, data["id"])
    before = len(table_items())
    params = {"CallSid": "CA" + "3" * 32, "AccountSid": acct.sid, "From": CALLER}
    fn = handler(f"CourierVoiceVideoApi.{FN['voice_ivr_twiml']}")
    assert fn(twiml_event(stored["voice_url"], params, token="wrong-token"))["statusCode"] == 403
    assert fn(twiml_event(stored["voice_url"], params, token=acct.token, signature=""))["statusCode"] == 403
    other_url = stored["voice_url"].replace(data["id"], str(uuid.uuid4()))  # an unknown line
    assert fn(twiml_event(other_url, params, token=acct.token))["statusCode"] == 403
    assert len(table_items()) == before


# ── VoiceCallbackFunction ──


def queue_url(acct, setting_id):
    from parley.dal import voice_lines

    return voice_lines.get_setting(acct.tenant_id, setting_id)["status_url"].replace("/status?", "/queue?")


def test_queue_callbacks_feed_entries_forward_only(handler, acct, twilio, other_tenant):
    data = create(handler, acct, **{"wait-message": "Please hold.", "recording-enabled": True})
    url, sid = queue_url(acct, data["id"]), "CA" + "4" * 32
    base = {"CallSid": sid, "AccountSid": acct.sid, "From": CALLER, "QueueSid": "QU1"}
    status, xml = post_callback(handler, url, {**base, "QueuePosition": "2", "QueueTime": "5"}, token=acct.token)
    assert status == 200, xml
    root = enqueue_xml(xml)
    assert root.find("Say").text == "Please hold."
    status, out = call(handler, "list_voice_queue_entries", acct.tenant_id, query={"setting-id": data["id"]})
    (entry,) = out["data"]
    assert entry["attributes"] | {"created-at": None, "last-modified-at": None} == {
        "created-at": None, "last-modified-at": None, "phone-number": CALLER, "position": 2, "queue-time": 5,
        "state": "waiting"}  # fmt: skip
    post_callback(handler, url, {**base, "QueuePosition": "1", "QueueTime": "20"}, token=acct.token)
    post_callback(handler, url, {**base, "QueuePosition": "2", "QueueTime": "10"}, token=acct.token)  # a late, older report
    status, out = call(handler, "get_voice_queue_entry", acct.tenant_id, id_=entry["id"])
    assert out["data"]["attributes"]["position"] == 1 and out["data"]["attributes"]["queue-time"] == 20
    status, xml = post_callback(handler, url, {**base, "QueueResult": "bridged", "QueueTime": "30"}, token=acct.token)
    assert enqueue_xml(xml).find("Hangup") is not None
    post_callback(handler, url, {**base, "QueuePosition": "1", "QueueTime": "40"}, token=acct.token)  # after bridged: stale
    status, out = call(handler, "get_voice_queue_entry", acct.tenant_id, id_=entry["id"])
    assert out["data"]["attributes"]["state"] == "bridged" and out["data"]["attributes"]["position"] is None
    assert out["data"]["attributes"]["queue-time"] == 30
    other, _ = other_tenant
    assert call(handler, "get_voice_queue_entry", other.id, id_=entry["id"])[0] == 404
    assert call(handler, "list_voice_queue_entries", other.id, query={"setting-id": data["id"]})[0] == 404


def test_a_caller_nobody_answered_leaves_a_voicemail_when_recording_is_on(handler, acct, twilio):
    data = create(handler, acct, **{"recording-enabled": True})
    url = queue_url(acct, data["id"])
    status, xml = post_callback(
        handler, url, {"CallSid": "CA" + "5" * 32, "AccountSid": acct.sid, "QueueResult": "leave"}, token=acct.token
    )
    record = enqueue_xml(xml).find("Record")
    assert status == 200 and record.get("transcribe") == "true" and "/recording?" in record.get("transcribeCallback")


def test_forged_or_foreign_callbacks_change_nothing(handler, acct, twilio, table_items):
    data = create(handler, acct)
    url = queue_url(acct, data["id"])
    params = {"CallSid": "CA" + "6" * 32, "AccountSid": acct.sid, "QueuePosition": "1", "QueueTime": "1"}
    before = len(table_items())
    assert post_callback(handler, url, params, token="forged")[0] == 403
    assert post_callback(handler, url.replace(f"tenant={acct.tenant_id}", "tenant=someone-else"), params, token=acct.token)[0] == 403
    assert post_callback(handler, url.replace(f"setting={data['id']}", "setting=unknown"), params, token=acct.token)[0] == 403
    assert post_callback(handler, url, {**params, "AccountSid": "AC" + "0" * 32}, token=acct.token)[0] == 403
    assert post_callback(handler, url.replace("/queue?", "/nowhere?"), params, token=acct.token)[0] == 404
    assert len(table_items()) == before


def test_status_recording_and_survey_callbacks_reach_areas_b_and_c(handler, acct, twilio, monkeypatch):
    from parley.domain import voice_calls, voice_recordings, voice_surveys

    seen = []
    monkeypatch.setattr(voice_calls, "apply_status", lambda t, owner, p: seen.append(("status", t, owner, p["CallStatus"])))
    monkeypatch.setattr(voice_recordings, "apply_recording", lambda t, s, p: seen.append(("recording", t, s, p["RecordingSid"])))
    monkeypatch.setattr(voice_surveys, "twiml", lambda t, s, p: seen.append(("survey", t, s)) or "<Response><Gather/></Response>")
    monkeypatch.setattr(voice_surveys, "call_ended", lambda t, s, p: seen.append(("ended", t, s, p["CallStatus"])), raising=False)
    monkeypatch.setattr(
        voice_surveys, "apply_answer", lambda t, s, p: seen.append(("answer", t, s, p["question"], p["Digits"])) or "<Response/>"
    )
    data = create(handler, acct)
    status_url = stored_setting(acct.tenant_id, data["id"])["status_url"]
    base = {"CallSid": "CA" + "7" * 32, "AccountSid": acct.sid}
    assert post_callback(handler, status_url, {**base, "CallStatus": "ringing"}, token=acct.token)[0] == 200
    assert (
        post_callback(handler, status_url.replace("/status?", "/recording?"), {**base, "RecordingSid": "RE1"}, token=acct.token)[0] == 200
    )
    from parley.domain import voice_lines

    monkeypatch.setenv("VOICE_CALLBACK_URL", status_url.split("/status?")[0])
    survey = voice_lines.callback_url("survey", acct.tenant_id, acct.account_id, sub="survey-9")
    status, xml = post_callback(handler, survey, base, token=acct.token)
    assert status == 200 and "<Gather" in xml
    assert post_callback(handler, survey + "&question=0", {**base, "Digits": "4"}, token=acct.token)[0] == 200
    ended = voice_lines.callback_url("survey", acct.tenant_id, acct.account_id, sub="survey-9/status")
    assert post_callback(handler, ended, {**base, "CallStatus": "completed"}, token=acct.token)[0] == 200
    assert seen == [("status", acct.tenant_id, data["id"], "ringing"), ("recording", acct.tenant_id, data["id"], "RE1"),
                    ("survey", acct.tenant_id, "survey-9"), ("answer", acct.tenant_id, "survey-9", "0", "4"),
                    ("ended", acct.tenant_id, "survey-9", "completed")]  # fmt: skip
    seen.clear()
    assert post_callback(handler, status_url, {**base, "CallStatus": "ringing"}, token="forged")[0] == 403
    assert seen == []


# ── run-task and voice-tasks ──


def test_refresh_queue_entries_reconciles_with_twilios_queue(handler, acct, twilio, other_tenant):
    data = create(handler, acct)
    stored = stored_setting(acct.tenant_id, data["id"])
    gone = "CA" + "8" * 32
    post_callback(handler, queue_url(acct, data["id"]), {"CallSid": gone, "AccountSid": acct.sid, "QueuePosition": "1", "QueueTime": "3"},
                  token=acct.token)  # fmt: skip
    first = twilio.enqueue(stored["queue_sid"], wait_time=40)
    second = twilio.enqueue(stored["queue_sid"], wait_time=12)
    status, out = call(
        handler, "run_voice_setting_task", acct.tenant_id, id_=data["id"], body_={"method": "refresh_queue_entries", "kwargs": {}}
    )
    assert status == 201, out
    task = out["data"]
    assert task["type"] == "voice-tasks"
    assert task["attributes"] | {"created-at": None} == {
        "created-at": None, "created-by": "user-1", "error-message": None, "kwargs": {}, "method": "refresh_queue_entries",
        "result": {"members": 2, "updated": 2, "left": 1}, "setting": {"id": data["id"]}, "state": "completed"}  # fmt: skip
    status, out = call(handler, "list_voice_queue_entries", acct.tenant_id, query={"setting-id": data["id"]})
    by_state = sorted((e["attributes"]["state"], e["attributes"]["position"], e["attributes"]["queue-time"]) for e in out["data"])
    assert by_state == [("left", None, 3), ("waiting", 1, 40), ("waiting", 2, 12)]
    assert first != second
    status, out = call(handler, "get_voice_task", acct.tenant_id, id_=task["id"])
    assert status == 200 and out["data"]["attributes"] == task["attributes"]
    other, _ = other_tenant
    assert call(handler, "get_voice_task", other.id, id_=task["id"])[0] == 404
    assert call(handler, "run_voice_setting_task", other.id, id_=data["id"], body_={"method": "refresh_queue_entries"})[0] == 404


def test_a_task_twilio_fails_is_recorded_failed_and_bad_methods_are_refused(handler, acct, twilio):
    data = create(handler, acct)
    twilio.fail_next(500)
    status, out = call(handler, "run_voice_setting_task", acct.tenant_id, id_=data["id"], body_={"method": "refresh_queue_entries"})
    assert status == 201 and out["data"]["attributes"]["state"] == "failed" and "Twilio" in out["data"]["attributes"]["error-message"]
    assert call(handler, "get_voice_task", acct.tenant_id, id_=out["data"]["id"])[1]["data"]["attributes"]["state"] == "failed"
    assert call(handler, "run_voice_setting_task", acct.tenant_id, id_=data["id"], body_={"method": "drop_everything"})[0] == 400
    assert (
        call(
            handler, "run_voice_setting_task", acct.tenant_id, id_=data["id"], body_={"method": "refresh_queue_entries", "kwargs": {"x": 1}}
        )[0]
        == 400
    )


def test_the_purge_forgets_a_callers_number_in_queue_entries(handler, acct, twilio):
    from parley.domain import purge

    data = create(handler, acct)
    url = queue_url(acct, data["id"])
    for sid, caller in (("CA" + "a" * 32, CALLER), ("CA" + "b" * 32, "+15555550124")):
        post_callback(handler, url, {"CallSid": sid, "AccountSid": acct.sid, "From": caller, "QueuePosition": "1", "QueueTime": "2"},
                      token=acct.token)  # fmt: skip
    done = purge.purge_courier(purge.Subject(acct.tenant_id, addresses={CALLER}))
    assert done["voice_queue_entries"] == 1
    out = call(handler, "list_voice_queue_entries", acct.tenant_id, query={"setting-id": data["id"]})[1]
    assert sorted(str(e["attributes"]["phone-number"]) for e in out["data"]) == ["+15555550124", "None"]
    assert purge.purge_courier(purge.Subject(acct.tenant_id, addresses={CALLER}))["voice_queue_entries"] == 0
