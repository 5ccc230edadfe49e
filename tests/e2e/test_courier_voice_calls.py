"""The courier voice queue agents, conferences (+ get-credentials) and dial logs (issue 20, area B) over HTTP on the local
stack, against the fake Twilio inside it: every route answers the seed's shape (type, attributes, envelope, page
meta), the fake Twilio was asked what it should be (an API key through Keys.json once per account, a call into the
conference, our status webhook on the VoiceCallbackFunction's Function URL), tokens are real JWTs the twilio
package's decoder accepts with the key's secret (read from the account's API key secret), the stored state, and another
tenant's ids are 404s.

The dial logs are fed by Twilio's status callbacks, posted here to VoiceCallbackFunction's Function URL on the stack and
signed with the account's auth token as Twilio signs them (an unsigned one changes nothing). The queue agents sign into
a voice-setting created over HTTP."""

from __future__ import annotations

import json
import urllib.parse
import uuid

import jwt
import requests
from twilio.jwt import Jwt
from twilio.request_validator import RequestValidator

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
CONFERENCE_KEYS = {"created-at", "created-by", "individual-id", "last-modified-at", "organization-id", "state"}
DIAL_KEYS = {"call-duration", "conference-id", "created-at", "individual-id", "last-modified-at", "organization-id", "status"}
AGENT_KEYS = {"access-token", "call", "created-at", "individual-id", "last-modified-at", "phone-number", "setting", "use-pstn", "user"}


class Client:
    def __init__(self, local, key, user):
        self.base = local.api
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/vnd.api+json", "X-User-ID": user}

    def get(self, path, **query):
        return requests.get(self.base + path, params=query or None, headers=self.headers, timeout=30)

    def post(self, path, body):
        return requests.post(self.base + path, json=body, headers=self.headers, timeout=30)


def doc(type_, **attributes):
    return {"data": {"type": type_, "attributes": attributes}}


def ok(response, status=200):
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/vnd.api+json")
    return response.json()


def error(response, status):
    assert response.status_code == status, response.text
    (err,) = response.json()["errors"]
    assert err["status"] == status
    return err


def status_callback(url, params, token):
    """Twilio posting a call's status event to ``url`` (the StatusCallback it was given), signed with the account's
    auth token: 200 with empty TwiML."""
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}  # fmt: skip
    answer = requests.post(url, data=urllib.parse.urlencode(params), headers=headers, timeout=30)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/xml"), answer.text


def twilio(local):
    return requests.get(local.api + "/_local/twilio", timeout=10).json()


def decode(token, secret):
    """The twilio package's own decoder, with the secret of the key the token names."""
    decoded = Jwt.from_jwt(token, secret["key_secret"])
    assert decoded.headers["cty"] == "twilio-fpa;v=1"
    assert jwt.decode(token, secret["key_secret"], algorithms=["HS256"])["iss"] == secret["key_sid"]
    return decoded.payload


def _world(local, tmp_path, name):
    tenant = local.new_tenant(name)
    tid = tenant["tenantId"]
    org, user, ind, patient = (str(uuid.uuid4()) for _ in range(4))
    lines = [
        {"type": "organizations", "id": org, "last-sync-time": T1, "attributes": {"name": "northside"}},
        {"type": "users", "id": user, "last-sync-time": T1, "attributes": {"username": "doc", "primary-individual-id": ind}},
        {"type": "individuals", "id": ind, "last-sync-time": T1, "attributes": {"owner-id": user, "first-name": "Dee"}},
        {"type": "individuals", "id": patient, "last-sync-time": T1, "attributes": {"first-name": "Pat"}},
    ]
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    given = requests.post(local.api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10)
    assert given.status_code == 201, given.text
    api = Client(local, tenant["apiKey"], user)
    account = ok(api.post("/v1/text-accounts/", doc("text-accounts", **{"organization-id": org})), 201)["data"]
    number = ok(api.post(f"/v1/text-accounts/{account['id']}/claim-number/", {"notes": "voice"}), 201)["data"]
    return tenant, api, {"org": org, "user": user, "ind": ind, "patient": patient, "account": account["id"],
                         "sub": account["attributes"]["twilio-id"], "phone": number["attributes"]["phone-number"]}  # fmt: skip


def test_voice_conferences_credentials_and_dial_logs_over_http(local, emulator_env, tmp_path):
    from parley.dal import secrets
    from parley.dal import voice_calls as store
    from parley.domain import voice_calls

    tenant, api, w = _world(local, tmp_path, "voice-calls")
    tid = tenant["tenantId"]
    stranger = local.new_tenant("voice-calls-stranger")
    other = Client(local, stranger["apiKey"], w["user"])

    # ── create ──
    created = ok(
        api.post("/v1/voice-conferences/", doc("voice-conferences", **{"organization-id": w["org"], "individual-id": w["patient"]})), 201
    )
    conf = created["data"]
    assert conf["type"] == "voice-conferences" and set(conf["attributes"]) == CONFERENCE_KEYS and created["meta"] == {}
    assert conf["attributes"]["state"] == "created" and conf["attributes"]["created-by"] == w["user"]
    (placed,) = [
        r for r in twilio(local)["requests"]
        if r["path"].endswith("/Calls.json") and f">parley-{conf['id']}</Conference>" in r["form"].get("Twiml", "")
    ]  # fmt: skip
    form = placed["form"]
    assert placed["account_sid"] == w["sub"] and placed["status"] == 201
    assert form["To"] == f"client:{w['patient']}" and form["From"] == w["phone"]
    callback = urllib.parse.urlsplit(form["StatusCallback"])
    assert f"{callback.scheme}://{callback.netloc}{callback.path}" == f"{local.api}/_url/VoiceCallbackFunction/status"
    assert urllib.parse.parse_qs(callback.query) == {"tenant": [tid], "account": [w["account"]], "conference": [conf["id"]]}
    stored = store.get_conference(tid, conf["id"])
    assert stored["account_id"] == w["account"]
    call_sid = stored["call_sid"]
    assert call_sid.startswith("CA") and len(call_sid) == 34
    err = error(api.post("/v1/voice-conferences/", doc("voice-conferences", **{"organization-id": w["org"]})), 422)
    assert err["source"]["pointer"] == "/data/attributes/individual-id"
    err = error(
        api.post("/v1/voice-conferences/", doc("voice-conferences", **{"organization-id": w["org"], "individual-id": "nobody"})), 404
    )
    assert err["source"]["pointer"] == "/data/attributes/individual-id"

    # ── get-credentials: one API key for the account, kept in its secret ──
    path = f"/v1/voice-conferences/{conf['id']}/get-credentials/"
    answer = requests.get(local.api + path, params={"individual-id": w["ind"]}, headers=api.headers, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("application/json") and set(answer.json()) == {"access-token"}
    secret = secrets.fresh_named_secret(f"parley/texting/{tid}/{w['account']}/api-key")
    payload = decode(answer.json()["access-token"], secret)
    assert payload["sub"] == w["sub"] and payload["grants"] == {"identity": w["ind"], "voice": {"incoming": {"allow": True}}}
    again = requests.get(local.api + path, params={"individual-id": w["patient"]}, headers=api.headers, timeout=30).json()
    assert decode(again["access-token"], secret)["grants"]["identity"] == w["patient"]
    keys = [k for k in twilio(local)["keys"] if k["sid"] == secret["key_sid"]]
    assert len(keys) == 1 and "secret" not in keys[0]
    made = [r for r in twilio(local)["requests"] if r["path"].endswith("/Keys.json") and r["account_sid"] == w["sub"]]
    assert len(made) == 1
    error(requests.get(local.api + path, params={"individual-id": "nobody"}, headers=api.headers, timeout=30), 404)
    assert requests.get(local.api + path, headers=api.headers, timeout=30).status_code in (400, 422)
    error(requests.get(local.api + path, params={"individual-id": w["ind"]}, headers=other.headers, timeout=30), 404)

    # ── the call's status callbacks: Twilio posts them to the StatusCallback it was given, signed ──
    token = secrets.named_secret(f"parley/texting/{tid}/{w['account']}")["auth_token"]
    leg = {"AccountSid": w["sub"], "CallSid": call_sid, "To": form["To"], "From": w["phone"]}
    unsigned = requests.post(form["StatusCallback"], data={**leg, "CallStatus": "completed"}, timeout=30)
    assert unsigned.status_code == 403 and store.get_conference(tid, conf["id"])["state"] == "created"
    for status in ("initiated", "ringing", "in-progress"):
        status_callback(form["StatusCallback"], {**leg, "CallStatus": status}, token)
    assert ok(api.get(f"/v1/voice-conferences/{conf['id']}/"))["data"]["attributes"]["state"] == "running"
    status_callback(form["StatusCallback"], {**leg, "CallStatus": "completed", "CallDuration": "75"}, token)
    status_callback(form["StatusCallback"], {**leg, "CallStatus": "ringing"}, token)  # late: forward only

    # ── get, list ──
    got = ok(api.get(f"/v1/voice-conferences/{conf['id']}/", **{"individual-id": w["patient"]}))
    assert got["data"]["attributes"]["state"] == "completed" and set(got["data"]["attributes"]) == CONFERENCE_KEYS
    error(api.get(f"/v1/voice-conferences/{conf['id']}/", **{"individual-id": w["ind"]}), 404)
    error(other.get(f"/v1/voice-conferences/{conf['id']}/"), 404)
    listed = ok(api.get("/v1/voice-conferences/", **{"organization-id": w["org"], "filter[states]": "completed"}))
    assert [d["id"] for d in listed["data"]] == [conf["id"]]
    assert listed["meta"] == {"page[total]": 1, "page[limit]": 100, "page[offset]": 0}
    assert ok(api.get("/v1/voice-conferences/", **{"organization-id": w["org"], "filter[states]": "running"}))["data"] == []
    filtered = ok(api.get("/v1/voice-conferences/", **{"organization-id": w["org"], "filter[individual-id]": w["patient"]}))
    assert [d["id"] for d in filtered["data"]] == [conf["id"]]
    err = error(api.get("/v1/voice-conferences/", **{"organization-id": w["org"], "filter[states]": "nope"}), 400)
    assert err["source"]["parameter"] == "filter[states]"
    assert ok(other.get("/v1/voice-conferences/", **{"organization-id": w["org"]}))["data"] == []
    error(api.get(f"/v1/voice-conferences/{conf['id']}/get-credentials/", **{"individual-id": w["ind"]}), 409)  # it is over

    # ── dial logs ──
    logs = ok(api.get("/v1/voice-dial-logs/", **{"organization-id": w["org"], "filter[conference-id]": conf["id"]}))
    (log,) = logs["data"]
    assert log["type"] == "voice-dial-logs" and set(log["attributes"]) == DIAL_KEYS
    assert log["attributes"] == {**log["attributes"], "status": "completed", "call-duration": 75, "conference-id": conf["id"],
                                 "individual-id": w["patient"], "organization-id": w["org"]}  # fmt: skip
    assert log["id"] == voice_calls.dial_id(tid, call_sid) and logs["meta"]["page[total]"] == 1
    assert store.get_dial(tid, log["id"])["call_sid"] == call_sid
    assert ok(api.get("/v1/voice-dial-logs/", **{"organization-id": w["org"], "filter[individual-id]": w["ind"]}))["data"] == []
    assert ok(api.get(f"/v1/voice-dial-logs/{log['id']}/", **{"individual-id": w["patient"]}))["data"] == log
    error(api.get(f"/v1/voice-dial-logs/{log['id']}/", **{"individual-id": w["ind"]}), 404)
    error(other.get(f"/v1/voice-dial-logs/{log['id']}/"), 404)
    assert ok(other.get("/v1/voice-dial-logs/", **{"organization-id": w["org"]}))["data"] == []


def test_voice_queue_agents_over_http(local, emulator_env, tmp_path):
    from parley.dal import secrets
    from parley.domain import voice_calls

    tenant, api, w = _world(local, tmp_path, "voice-agents")
    tid = tenant["tenantId"]
    other = Client(local, local.new_tenant("voice-agents-stranger")["apiKey"], w["user"])
    setting = ok(api.post("/v1/voice-settings/", doc("voice-settings", **{"account-id": w["account"], "phone-number": w["phone"]})), 201)[
        "data"
    ]

    body = doc("voice-queue-agents", **{"setting-id": setting["id"], "individual-id": w["ind"], "use-pstn": False})
    agent = ok(api.post("/v1/voice-queue-agents/", body), 201)["data"]
    assert agent["type"] == "voice-queue-agents" and set(agent["attributes"]) == AGENT_KEYS
    assert agent["attributes"]["setting"] == {"id": setting["id"]} and agent["attributes"]["user"] == {"id": w["user"]}
    secret = secrets.fresh_named_secret(f"parley/texting/{tid}/{w['account']}/api-key")
    payload = decode(agent["attributes"]["access-token"], secret)
    assert payload["grants"] == {"identity": w["ind"], "voice": {"incoming": {"allow": True}}} and payload["sub"] == w["sub"]

    body = doc("voice-queue-agents", **{"setting-id": setting["id"], "use-pstn": True, "phone-number": "nope"})
    assert error(api.post("/v1/voice-queue-agents/", body), 400)["source"]["pointer"] == "/data/attributes/phone-number"
    error(api.post("/v1/voice-queue-agents/", doc("voice-queue-agents", **{"setting-id": "no-such-setting"})), 404)

    listed = ok(api.get("/v1/voice-queue-agents/", **{"setting-id": setting["id"]}))
    assert [d["id"] for d in listed["data"]] == [agent["id"]] and listed["meta"]["page[total]"] == 1
    assert listed["data"][0]["attributes"]["access-token"] is None
    error(other.get("/v1/voice-queue-agents/", **{"setting-id": setting["id"]}), 404)

    sid = "CA" + uuid.uuid4().hex
    line_status = f"{local.api}/_url/VoiceCallbackFunction/status?" + urllib.parse.urlencode(
        {"tenant": tid, "account": w["account"], "setting": setting["id"]}
    )
    token = secrets.named_secret(f"parley/texting/{tid}/{w['account']}")["auth_token"]
    leg = {"AccountSid": w["sub"], "CallSid": sid, "CallStatus": "ringing", "To": f"client:{w['ind']}", "From": w["phone"]}
    status_callback(line_status, leg, token)  # the queue's call ringing the agent's browser
    got = ok(api.get(f"/v1/voice-queue-agents/{agent['id']}/"))["data"]
    assert got["attributes"]["call"] == {"id": voice_calls.dial_id(tid, sid)}
    log = ok(api.get(f"/v1/voice-dial-logs/{got['attributes']['call']['id']}/"))["data"]
    assert log["attributes"]["individual-id"] == w["ind"] and log["attributes"]["conference-id"] is None
    error(other.get(f"/v1/voice-queue-agents/{agent['id']}/"), 404)
    assert json.loads(json.dumps(got))["id"] == agent["id"]
