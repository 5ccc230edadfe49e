"""Courier voice lines (issue 20, area A) over HTTP on the local stack, against the fake Twilio inside it: every route
(voice-settings list/create/get/PATCH/run-task, voice-tasks, voice-ivrs twiml POST and GET, voice-queue-entries
list/get) answers the seed's shape; the fake Twilio holds the line's queue and the number's voice webhooks; Twilio's
voice webhook and queue callbacks (the VoiceCallbackFunction URL), signed with the account's token as Twilio signs
them, answer TwiML naming the queue / the wait message and feed the entries; forged ones are 403 and change nothing;
another tenant's ids are 404s."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from urllib.parse import urlencode

import requests
from twilio.request_validator import RequestValidator

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
SETTING_KEYS = {"account-id", "created-at", "forward-number", "last-modified-at", "organization-id", "phone-number",
                "recording-enabled", "recording-message", "wait-message"}  # fmt: skip
ENTRY_KEYS = {"created-at", "last-modified-at", "phone-number", "position", "queue-time", "state"}
TASK_KEYS = {"created-at", "created-by", "error-message", "kwargs", "method", "result", "setting", "state"}
CALLER = "+15555550123"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Client:
    def __init__(self, local, key):
        self.base = local.api
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/vnd.api+json", "X-User-ID": "user-1"}

    def get(self, path, **query):
        return requests.get(self.base + path, params=query or None, headers=self.headers, timeout=30)

    def post(self, path, body):
        return requests.post(self.base + path, json=body, headers=self.headers, timeout=30)

    def patch(self, path, body):
        return requests.patch(self.base + path, json=body, headers=self.headers, timeout=30)


def doc(id_=None, **attributes):
    return {"data": {"type": "voice-settings", "attributes": attributes, **({"id": id_} if id_ else {})}}


def ok(response, status=200):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/vnd.api+json")
    return response.json()


def error(response, status):
    assert response.status_code == status, response.text
    (err,) = response.json()["errors"]
    assert err["status"] == status
    return err


def twiml(response):
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.text)  # noqa: S314 (our own answer, parsed to check it)
    assert root.tag == "Response"
    return root


def signed_post(url, params, token, signature=None):
    sig = signature if signature is not None else RequestValidator(token).compute_signature(url, params)
    return requests.post(url, data=urlencode(params), headers={**FORM, "X-Twilio-Signature": sig}, timeout=30)


def test_voice_lines_over_http(local, emulator_env, tmp_path):
    from parley.dal import secrets
    from parley.dal import voice_lines as store

    tenant, stranger = local.new_tenant("voice-lines"), local.new_tenant("voice-lines-stranger")
    tid = tenant["tenantId"]
    org = str(uuid.uuid4())
    line = {"type": "organizations", "id": org, "last-sync-time": T1, "attributes": {"name": "northside"}}
    assert import_directory(local, tmp_path, tid, [line])["invalid"] == 0
    assert requests.post(local.api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10).status_code == 201
    api, other = Client(local, tenant["apiKey"]), Client(local, stranger["apiKey"])
    account = ok(api.post("/v1/text-accounts/", {"data": {"type": "text-accounts", "attributes": {"organization-id": org}}}), 201)["data"]
    phone = ok(api.post(f"/v1/text-accounts/{account['id']}/claim-number/", {"notes": "front desk"}), 201)["data"]["attributes"][
        "phone-number"
    ]
    creds = secrets.named_secret(f"parley/texting/{tid}/{account['id']}")
    token = creds["auth_token"]

    # ── voice-settings: create, get, list, PATCH ──
    attrs = {"account-id": account["id"], "phone-number": phone, "wait-message": "Please hold.", "recording-enabled": True,
             "recording-message": "Recorded."}  # fmt: skip
    created = ok(api.post("/v1/voice-settings/", doc(**attrs)), 201)["data"]
    assert created["type"] == "voice-settings" and set(created["attributes"]) == SETTING_KEYS
    assert created["attributes"]["organization-id"] == org and created["attributes"]["phone-number"] == phone
    sid = created["id"]
    stored = store.get_setting(tid, sid)
    fake = requests.get(local.api + "/_local/twilio", timeout=10).json()
    (number,) = [n for n in fake["numbers"] if n["phone_number"] == phone]
    assert number["voice_url"] == stored["voice_url"] and "/_url/VoiceCallbackFunction/status?" in number["status_callback"]
    (queue,) = [q for q in fake["queues"] if q["sid"] == stored["queue_sid"]]
    assert queue["account_sid"] == creds["account_sid"]
    assert ok(api.get(f"/v1/voice-settings/{sid}/"))["data"] == created
    listed = ok(api.get("/v1/voice-settings/", **{"organization-id": org}))
    assert [d["id"] for d in listed["data"]] == [sid] and listed["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
    error(api.get("/v1/voice-settings/"), 400)  # organization-id is required
    err = error(api.post("/v1/voice-settings/", doc(**{"account-id": account["id"], "phone-number": "+15555550999"})), 422)
    assert err["source"]["pointer"] == "/data/attributes/phone-number"

    # ── voice-ivrs/{id}/twiml: Twilio's voice webhook at the URL the number was given ──
    call_sid = "CA" + uuid.uuid4().hex
    params = {"CallSid": call_sid, "AccountSid": creds["account_sid"], "From": CALLER, "To": phone, "CallStatus": "ringing"}
    root = twiml(signed_post(stored["voice_url"], params, token))
    assert root.find("Say").text == "Recorded."
    assert root.find("Enqueue").text == queue["friendly_name"]
    wait_url = root.find("Enqueue").get("waitUrl")
    assert wait_url.startswith(f"{local.api}/_url/VoiceCallbackFunction/queue?")
    forged = signed_post(stored["voice_url"], params, token, signature="forged")
    assert forged.status_code == 403 and forged.json()["errors"][0]["status"] == 403
    get_url = f"{stored['voice_url']}&{urlencode(params)}"
    got = requests.get(get_url, headers={"X-Twilio-Signature": RequestValidator(token).compute_signature(get_url, {})}, timeout=30)
    assert twiml(got).find("Enqueue").text == queue["friendly_name"]

    # PATCH: a forward number → the webhook dials it
    patched = ok(api.patch(f"/v1/voice-settings/{sid}/", doc(sid, **{"forward-number": "+15555550177", "wait-message": None})))["data"]
    assert patched["attributes"]["forward-number"] == "+15555550177" and patched["attributes"]["wait-message"] is None
    root = twiml(signed_post(stored["voice_url"], params, token))
    assert root.find("Dial").find("Number").text == "+15555550177" and root.find("Dial").get("record") == "record-from-answer-dual"
    ok(api.patch(f"/v1/voice-settings/{sid}/", doc(sid, **{"forward-number": None, "wait-message": "Please hold."})))

    # ── the queue callbacks (VoiceCallbackFunction) → voice-queue-entries ──
    before = len(ok(api.get("/v1/voice-queue-entries/", **{"setting-id": sid}))["data"])
    assert (
        signed_post(wait_url, {"CallSid": call_sid, "AccountSid": creds["account_sid"], "QueuePosition": "1"}, token, "forged").status_code
        == 403
    )
    assert len(ok(api.get("/v1/voice-queue-entries/", **{"setting-id": sid}))["data"]) == before == 0
    waiting = {"CallSid": call_sid, "AccountSid": creds["account_sid"], "From": CALLER, "QueuePosition": "1", "QueueTime": "7"}
    assert twiml(signed_post(wait_url, waiting, token)).find("Say").text == "Please hold."
    entries = ok(api.get("/v1/voice-queue-entries/", **{"setting-id": sid}))
    (entry,) = entries["data"]
    assert entry["type"] == "voice-queue-entries" and set(entry["attributes"]) == ENTRY_KEYS and entries["meta"]["page[total]"] == 1
    assert entry["attributes"] | {"created-at": None, "last-modified-at": None} == {
        "created-at": None, "last-modified-at": None, "phone-number": CALLER, "position": 1, "queue-time": 7,
        "state": "waiting"}  # fmt: skip
    twiml(signed_post(wait_url, {**waiting, "QueueResult": "bridged", "QueueTime": "9"}, token))
    one = ok(api.get(f"/v1/voice-queue-entries/{entry['id']}/"))["data"]
    assert one["attributes"]["state"] == "bridged" and one["attributes"]["queue-time"] == 9
    assert store.get_entry(tid, entry["id"])["call_sid"] == call_sid

    # ── run-task refresh_queue_entries → voice-tasks ──
    member = requests.post(local.api + "/_local/twilio/queue-member", json={"queueSid": stored["queue_sid"], "waitTime": 30}, timeout=10)
    assert member.status_code == 201, member.text
    task = ok(api.post(f"/v1/voice-settings/{sid}/run-task/", {"method": "refresh_queue_entries", "kwargs": {}}), 201)["data"]
    assert task["type"] == "voice-tasks" and set(task["attributes"]) == TASK_KEYS
    assert task["attributes"]["state"] == "completed" and task["attributes"]["result"] == {"members": 1, "updated": 1, "left": 0}
    assert task["attributes"]["setting"] == {"id": sid} and task["attributes"]["method"] == "refresh_queue_entries"
    assert ok(api.get(f"/v1/voice-tasks/{task['id']}/"))["data"] == task
    states = sorted(e["attributes"]["state"] for e in ok(api.get("/v1/voice-queue-entries/", **{"setting-id": sid}))["data"])
    assert states == ["bridged", "waiting"]
    error(api.post(f"/v1/voice-settings/{sid}/run-task/", {"method": "nope"}), 400)

    # ── another tenant sees none of it ──
    for path in (f"/v1/voice-settings/{sid}/", f"/v1/voice-tasks/{task['id']}/", f"/v1/voice-queue-entries/{entry['id']}/"):
        error(other.get(path), 404)
    error(other.get("/v1/voice-queue-entries/", **{"setting-id": sid}), 404)
    error(other.patch(f"/v1/voice-settings/{sid}/", doc(sid, **{"wait-message": "x"})), 404)
    error(other.post(f"/v1/voice-settings/{sid}/run-task/", {"method": "refresh_queue_entries"}), 404)
