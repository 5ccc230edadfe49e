"""Courier voice queue agents, conferences (+ get-credentials) and dial logs on moto + the fake Twilio (issue 20, area
B): what Twilio was asked (an API key through Keys.json once per account, a call into the conference with the
account's credentials, our status webhook), what is stored (table items, the key in the account's secret), the
access tokens (real JWTs the twilio package's decoder accepts with the key's secret), apply_status (forward-only,
idempotent; the conference's state and the agent's current call follow), refusals (4xx in the JSON:API error shape)
and tenant isolation (a foreign id is a 404).

The voice-settings are area A's: until its ``parley.domain.voice_lines.require_setting`` is merged, these tests
give ``voice_calls._setting`` the settings they make (the fields area B reads: organization_id, account_id)."""

from __future__ import annotations

import json
import urllib.parse

import pytest

from helpers import api_event

ORG, ORG2 = "org-voice", "org-novoice"
USERS = {"user-a": "ind-a", "user-b": "ind-b"}
PATIENT = "ind-p"
T1 = "2026-11-01T09:00:00Z"


def fn_name(fn: str) -> str:
    return f"CourierVoiceVideoApi.{''.join(p.capitalize() for p in fn.split('_'))}Function"


def call(handler, fn, tenant_id, *, user="user-a", path, path_params=None, query=None, payload=...):
    ev = api_event(f"courier_voice_video/{fn}", tenant_id=tenant_id, query=query, body=payload, headers={"X-User-ID": user})
    ev["path"] = path
    ev["pathParameters"] = path_params
    if query is not None:
        ev["multiValueQueryStringParameters"] = {k: (v if isinstance(v, list) else [v]) for k, v in query.items()}
        ev["queryStringParameters"] = {k: (v[-1] if isinstance(v, list) else v) for k, v in query.items()}
    out = handler(fn_name(fn))(ev)
    return out["statusCode"], (json.loads(out["body"]) if out.get("body") else None)


def doc(type_, **attributes):
    return {"data": {"type": type_, "attributes": attributes}}


@pytest.fixture
def settings(monkeypatch):
    """Area A's voice-settings, as area B reads them (until A's require_setting is merged)."""
    from parley.domain import voice_calls
    from parley.errors import NotFound

    made: dict[tuple[str, str], dict] = {}

    def require(tenant_id, setting_id, *, parameter=None, pointer=None):
        found = made.get((tenant_id, setting_id))
        if found is None:
            raise NotFound(f"no voice-setting {setting_id!r}", parameter=parameter, pointer=pointer, code="not-found")
        return found

    monkeypatch.setattr(voice_calls, "_setting", require)
    return made


def _world(twilio, tenant_id):
    from parley.dal.secrets import put_tenant_secret
    from parley.domain import directory, text_accounts
    from parley.domain.auth import configure_tenant
    from parley.models.courier_text_numbers import ClaimNumber, TextAccountCreate

    lines = [{"type": "organizations", "id": o, "attributes": {"name": o}} for o in (ORG, ORG2)]
    for user, ind in USERS.items():
        lines.append({"type": "users", "id": user, "attributes": {"username": user, "primary-individual-id": ind}})
        lines.append({"type": "individuals", "id": ind, "attributes": {"owner-id": user, "first-name": "Al", "last-name": "Lee"}})
    lines.append({"type": "individuals", "id": PATIENT, "attributes": {"first-name": "Pat", "last-name": "Ent"}})
    assert directory.import_lines(tenant_id, [json.dumps({**line, "last-sync-time": T1}) for line in lines]).invalid == []
    sid, token = twilio.add_account()
    name = f"parley/{tenant_id}/twilio-main"
    put_tenant_secret(name, {"twilio_account_sid": sid, "twilio_auth_token": token})
    configure_tenant(tenant_id, secret_name=name)
    account_id, _ = text_accounts.create(tenant_id, TextAccountCreate(organization_id=ORG))
    _, number = text_accounts.claim_number(tenant_id, account_id, ClaimNumber(notes="voice line"))
    return account_id, number.phone_number


@pytest.fixture
def world(tenant, twilio, settings):
    t, _ = tenant
    account_id, phone = _world(twilio, t.id)
    settings[(t.id, "set-1")] = {"id": "set-1", "organization_id": ORG, "account_id": account_id}
    return t.id, account_id, phone


def _decode(twilio, token):
    """The token decoded by the twilio package's own decoder with the secret of the key it names (``iss``)."""
    import jwt
    from twilio.jwt import Jwt

    key = twilio.keys[jwt.decode(token, options={"verify_signature": False})["iss"]]
    decoded = Jwt.from_jwt(token, key["secret"])
    assert decoded.headers["cty"] == "twilio-fpa;v=1"
    return decoded.payload, key


def _secret(tenant_id, account_id):
    from parley.dal.secrets import fresh_named_secret
    from parley.domain import text_numbers

    return fresh_named_secret(text_numbers.secret_name(tenant_id, account_id))


def _key(tenant_id, account_id):
    """The account's API key secret (``text_numbers.api_key``), {} before one is made."""
    from parley.dal.secrets import fresh_named_secret
    from parley.domain import text_numbers

    try:
        return fresh_named_secret(text_numbers.api_key_secret_name(tenant_id, account_id))
    except LookupError:
        return {}


def _create_conference(handler, tenant_id, **attrs):
    body = doc("voice-conferences", **{"organization-id": ORG, "individual-id": PATIENT, **attrs})
    return call(handler, "create_voice_conference", tenant_id, path="/v1/voice-conferences/", payload=body)


def test_conference_calls_the_individual_and_moves_forward_with_status_callbacks(handler, world, twilio, other_tenant):
    from parley.dal import voice_calls as store
    from parley.domain import voice_calls

    tid, account_id, phone = world
    status, out = _create_conference(handler, tid)
    assert status == 201, out
    conf = out["data"]
    assert conf["type"] == "voice-conferences"
    assert set(conf["attributes"]) == {"created-at", "created-by", "last-modified-at", "organization-id", "state", "individual-id"}
    assert conf["attributes"]["state"] == "created" and conf["attributes"]["organization-id"] == ORG
    assert conf["attributes"]["created-by"] == "user-a"
    # Twilio was asked to call the individual's browser into the conference, from the account's number
    (placed,) = twilio.calls("/Calls.json", "POST")
    secret = _secret(tid, account_id)
    assert placed.auth_ok and placed.account_sid == secret["account_sid"]
    assert placed.form["To"] == f"client:{PATIENT}" and placed.form["From"] == phone
    assert f">parley-{conf['id']}</Conference>" in placed.form["Twiml"]
    callback = urllib.parse.urlsplit(placed.form["StatusCallback"])
    assert callback.path.endswith("/VoiceCallbackFunction/status")  # the route's VOICE_CALLBACK_URL, from the template
    assert urllib.parse.parse_qs(callback.query) == {"tenant": [tid], "account": [account_id], "conference": [conf["id"]]}
    stored = store.get_conference(tid, conf["id"])
    assert stored["call_sid"] in twilio.voice_calls and stored["account_id"] == account_id and stored["state"] == "created"
    call_sid = stored["call_sid"]

    # a phone instead of the browser (ours: phone-number), normalised to E.164
    status, out = _create_conference(handler, tid, **{"phone-number": "(415) 555-0199"})
    assert status == 201, out
    assert twilio.calls("/Calls.json", "POST")[-1].form["To"] == "+14155550199"
    second = out["data"]["id"]

    def status_of(params):
        voice_calls.apply_status(tid, conf["id"], {"CallSid": call_sid, "To": f"client:{PATIENT}", **params})

    status_of({"CallStatus": "ringing"})
    (dial,) = store.dials_page(tid, ORG, conf["id"], None, offset=0, limit=10)[0]
    assert dial["status"] == "ringing" and dial["individual_id"] == PATIENT and dial["conference_id"] == conf["id"]
    assert dial["id"] == voice_calls.dial_id(tid, call_sid)
    status_of({"CallStatus": "in-progress"})
    assert store.get_conference(tid, conf["id"])["state"] == "running"
    status_of({"CallStatus": "ringing"})  # late / redelivered: forward only
    assert store.get_dial(tid, dial["id"])["status"] == "in-progress"
    status_of({"CallStatus": "completed", "CallDuration": "42"})
    status_of({"CallStatus": "completed", "CallDuration": "42"})  # redelivered: nothing changes
    finished = store.get_dial(tid, dial["id"])
    assert finished["status"] == "completed" and int(finished["call_duration"]) == 42
    assert store.get_conference(tid, conf["id"])["state"] == "completed"
    # a late in-progress never re-opens it
    status_of({"CallStatus": "in-progress"})
    assert store.get_conference(tid, conf["id"])["state"] == "completed" and store.get_dial(tid, dial["id"])["status"] == "completed"

    # the phone leg is never answered: the conference failed
    voice_calls.apply_status(tid, second, {"CallSid": "CA" + "9" * 32, "CallStatus": "no-answer", "To": "+14155550199"})
    assert store.get_conference(tid, second)["state"] == "failed"
    # ignored: unknown owner, no CallSid, unknown status, another tenant
    before = store.dials_page(tid, ORG, None, None, offset=0, limit=100)[1]
    voice_calls.apply_status(tid, "no-such-owner", {"CallSid": "CA" + "1" * 32, "CallStatus": "ringing"})
    voice_calls.apply_status(tid, conf["id"], {"CallStatus": "ringing"})
    voice_calls.apply_status(tid, conf["id"], {"CallSid": "CA" + "2" * 32, "CallStatus": "exploded"})
    voice_calls.apply_status(other_tenant[0].id, conf["id"], {"CallSid": "CA" + "3" * 32, "CallStatus": "ringing"})
    assert store.dials_page(tid, ORG, None, None, offset=0, limit=100)[1] == before == 2

    # ── the routes: conferences ──
    path = "/v1/voice-conferences/"
    status, out = call(handler, "list_voice_conferences", tid, path=path, query={"organization-id": ORG})
    assert status == 200 and [d["id"] for d in out["data"]] == [second, conf["id"]]  # newest first
    assert out["meta"]["page[total]"] == 2
    status, out = call(handler, "list_voice_conferences", tid, path=path, query={"organization-id": ORG, "filter[states]": ["completed"]})
    assert status == 200 and [d["id"] for d in out["data"]] == [conf["id"]]
    query = {"organization-id": ORG, "filter[states]": "failed,completed", "filter[individual-id]": PATIENT, "page[limit]": "1"}
    status, out = call(handler, "list_voice_conferences", tid, path=path, query=query)
    assert status == 200 and [d["id"] for d in out["data"]] == [second] and out["meta"]["page[total]"] == 2
    status, out = call(handler, "list_voice_conferences", tid, path=path, query={"organization-id": ORG, "filter[individual-id]": "ind-a"})
    assert status == 200 and out["data"] == []
    status, out = call(handler, "list_voice_conferences", tid, path=path, query={"organization-id": ORG, "filter[states]": "done"})
    assert status == 400 and out["errors"][0]["source"]["parameter"] == "filter[states]"
    status, out = call(handler, "list_voice_conferences", tid, path=path, query={})
    assert status in (400, 422) and "errors" in out
    status, out = call(handler, "list_voice_conferences", other_tenant[0].id, path=path, query={"organization-id": ORG})
    assert status == 200 and out["data"] == []

    one = f"/v1/voice-conferences/{conf['id']}/"
    status, out = call(handler, "get_voice_conference", tid, path=one, path_params={"id": conf["id"]})
    assert status == 200 and out["data"]["attributes"]["state"] == "completed"
    status, out = call(handler, "get_voice_conference", tid, path=one, path_params={"id": conf["id"]}, query={"individual-id": PATIENT})
    assert status == 200
    status, out = call(handler, "get_voice_conference", tid, path=one, path_params={"id": conf["id"]}, query={"individual-id": "ind-a"})
    assert status == 404
    status, out = call(handler, "get_voice_conference", other_tenant[0].id, path=one, path_params={"id": conf["id"]})
    assert status == 404 and out["errors"][0]["status"] == 404

    # ── the routes: dial logs ──
    logs = "/v1/voice-dial-logs/"
    status, out = call(handler, "list_voice_dial_logs", tid, path=logs, query={"organization-id": ORG})
    assert status == 200 and out["meta"]["page[total]"] == 2
    status, out = call(handler, "list_voice_dial_logs", tid, path=logs, query={"organization-id": ORG, "filter[conference-id]": conf["id"]})
    assert status == 200 and [d["id"] for d in out["data"]] == [dial["id"]]
    attrs = out["data"][0]["attributes"]
    assert out["data"][0]["type"] == "voice-dial-logs"
    assert attrs == {**attrs, "call-duration": 42, "conference-id": conf["id"], "individual-id": PATIENT, "organization-id": ORG,
                     "status": "completed"}  # fmt: skip
    assert set(attrs) == {"call-duration", "conference-id", "created-at", "individual-id", "last-modified-at", "organization-id", "status"}
    status, out = call(handler, "list_voice_dial_logs", tid, path=logs, query={"organization-id": ORG, "filter[individual-id]": "ind-a"})
    assert status == 200 and out["data"] == []
    status, out = call(handler, "list_voice_dial_logs", other_tenant[0].id, path=logs, query={"organization-id": ORG})
    assert status == 200 and out["data"] == []
    one = f"/v1/voice-dial-logs/{dial['id']}/"
    status, out = call(handler, "get_voice_dial_log", tid, path=one, path_params={"id": dial["id"]}, query={"individual-id": PATIENT})
    assert status == 200 and out["data"]["attributes"]["status"] == "completed"
    status, out = call(handler, "get_voice_dial_log", tid, path=one, path_params={"id": dial["id"]}, query={"individual-id": "ind-b"})
    assert status == 404
    status, out = call(handler, "get_voice_dial_log", other_tenant[0].id, path=one, path_params={"id": dial["id"]})
    assert status == 404


def test_conference_credentials_are_twilio_voice_tokens_signed_with_one_api_key_per_account(handler, world, twilio, other_tenant):
    from parley.dal import voice_calls as store
    from parley.domain import voice_calls

    tid, account_id, _ = world
    status, out = _create_conference(handler, tid)
    conf_id = out["data"]["id"]
    creds = f"/v1/voice-conferences/{conf_id}/get-credentials/"
    assert not twilio.keys and _key(tid, account_id) == {}
    status, out = call(
        handler, "get_voice_conference_credentials", tid, path=creds, path_params={"id": conf_id}, query={"individual-id": PATIENT}
    )
    assert status == 200, out
    assert set(out) == {"access-token"}
    payload, key = _decode(twilio, out["access-token"])
    secret, kept = _secret(tid, account_id), _key(tid, account_id)
    assert kept["key_sid"] == key["sid"] == payload["iss"] and kept["key_secret"] == key["secret"]
    assert not {"key_sid", "key_secret", "api_key_sid"} & set(secret)  # the account's credentials secret is not written
    assert payload["sub"] == secret["account_sid"] == key["account_sid"]
    assert payload["grants"] == {"identity": PATIENT, "voice": {"incoming": {"allow": True}}}
    assert 3500 <= payload["exp"] - payload["nbf"] <= 3700
    (made,) = twilio.calls("/Keys.json", "POST")
    assert made.auth_ok and made.account_sid == secret["account_sid"]
    # a wrong secret is refused by the decoder
    from twilio.jwt import JwtDecodeError

    with pytest.raises(JwtDecodeError):
        __import__("twilio.jwt", fromlist=["Jwt"]).Jwt.from_jwt(out["access-token"], "not-the-secret-" + "x" * 20)
    # a second token (another individual) uses the same key: Keys.json is asked once per account
    status, out = call(
        handler, "get_voice_conference_credentials", tid, path=creds, path_params={"id": conf_id}, query={"individual-id": "ind-a"}
    )
    assert status == 200
    payload, _ = _decode(twilio, out["access-token"])
    assert payload["grants"]["identity"] == "ind-a"
    assert len(twilio.calls("/Keys.json", "POST")) == 1

    # refusals
    status, out = call(handler, "get_voice_conference_credentials", tid, path=creds, path_params={"id": conf_id}, query={})
    assert status in (400, 422) and "errors" in out
    status, out = call(
        handler, "get_voice_conference_credentials", tid, path=creds, path_params={"id": conf_id}, query={"individual-id": "nobody"}
    )
    assert status == 404 and out["errors"][0]["source"]["parameter"] == "individual-id"
    status, out = call(handler, "get_voice_conference_credentials", other_tenant[0].id, path=creds, path_params={"id": conf_id},
                       query={"individual-id": PATIENT})  # fmt: skip
    assert status == 404
    call_sid = store.get_conference(tid, conf_id)["call_sid"]
    voice_calls.apply_status(tid, conf_id, {"CallSid": call_sid, "CallStatus": "busy"})
    status, out = call(
        handler, "get_voice_conference_credentials", tid, path=creds, path_params={"id": conf_id}, query={"individual-id": PATIENT}
    )
    assert status == 409 and out["errors"][0]["code"] == "conference-over"


def test_conference_refusals_and_twilio_failures(handler, world, twilio):
    from parley.dal import voice_calls as store

    tid, _, _ = world
    path = "/v1/voice-conferences/"
    status, out = call(handler, "create_voice_conference", tid, path=path, payload=doc("voice-conferences", **{"organization-id": ORG}))
    assert status == 422 and out["errors"][0]["source"]["pointer"] == "/data/attributes/individual-id"
    status, out = _create_conference(handler, tid, **{"individual-id": "nobody"})
    assert status == 404 and out["errors"][0]["source"]["pointer"] == "/data/attributes/individual-id"
    status, out = _create_conference(handler, tid, **{"organization-id": "no-org"})
    assert status == 404 and out["errors"][0]["source"]["pointer"] == "/data/attributes/organization-id"
    status, out = _create_conference(handler, tid, **{"organization-id": ORG2})  # no text-account there
    assert status == 422 and out["errors"][0]["code"] == "no-text-account"
    status, out = _create_conference(handler, tid, **{"phone-number": "12"})
    assert status == 400 and out["errors"][0]["source"]["pointer"] == "/data/attributes/phone-number"
    status, out = _create_conference(handler, tid, **{"color": "red"})
    assert status == 400
    assert twilio.calls("/Calls.json", "POST") == [] and store.conferences_page(tid, ORG, None, None, offset=0, limit=10)[1] == 0
    # Twilio refuses the call: the conference is kept, failed, and the answer says why
    twilio.fail_next(400, 21211, "Invalid 'To' Phone Number")
    status, out = _create_conference(handler, tid)
    assert status == 422 and out["errors"][0]["code"] == "twilio-refused"
    (failed,) = store.conferences_page(tid, ORG, None, None, offset=0, limit=10)[0]
    assert failed["state"] == "failed" and "Invalid" in failed["error"]
    twilio.fail_next(500, 20500, "down")
    status, out = _create_conference(handler, tid)
    assert status == 502


def test_queue_agents_sign_in_in_the_browser_or_on_a_phone(handler, world, twilio, other_tenant):
    from parley.dal import voice_calls as store
    from parley.domain import voice_calls

    tid, account_id, _ = world
    path = "/v1/voice-queue-agents/"

    def sign_in(user="user-a", **attrs):
        body = doc("voice-queue-agents", **{"setting-id": "set-1", **attrs})
        return call(handler, "create_voice_queue_agent", tid, user=user, path=path, payload=body)

    status, out = sign_in()
    assert status == 201, out
    agent = out["data"]
    assert agent["type"] == "voice-queue-agents"
    attrs = agent["attributes"]
    assert set(attrs) >= {"access-token", "call", "created-at", "individual-id", "last-modified-at", "phone-number", "setting", "user"}
    assert attrs["individual-id"] == "ind-a" and attrs["setting"] == {"id": "set-1"} and attrs["user"] == {"id": "user-a"}
    assert attrs["call"] is None and attrs["use-pstn"] is False and attrs["phone-number"] is None
    payload, _ = _decode(twilio, attrs["access-token"])
    assert payload["grants"] == {"identity": "ind-a", "voice": {"incoming": {"allow": True}}}
    assert payload["sub"] == _secret(tid, account_id)["account_sid"]

    # a PSTN agent: phone-number required (422), valid (400), stored E.164, no token
    status, out = sign_in(user="user-b", **{"use-pstn": True})
    assert status == 422 and out["errors"][0]["source"]["pointer"] == "/data/attributes/phone-number"
    status, out = sign_in(user="user-b", **{"use-pstn": True, "phone-number": "555"})
    assert status == 400 and out["errors"][0]["source"]["pointer"] == "/data/attributes/phone-number"
    status, out = sign_in(user="user-b", **{"use-pstn": True, "phone-number": "415 555 0142"})
    assert status == 201, out
    pstn = out["data"]
    assert pstn["attributes"]["phone-number"] == "+14155550142" and pstn["attributes"]["access-token"] is None
    assert pstn["attributes"]["individual-id"] == "ind-b"
    # someone else's individual: 403; an unknown setting: 404; no setting: 422
    status, out = sign_in(user="user-b", **{"individual-id": "ind-a"})
    assert status == 403
    status, out = sign_in(**{"setting-id": "set-404"})
    assert status == 404 and out["errors"][0]["source"]["pointer"] == "/data/attributes/setting-id"
    status, out = call(handler, "create_voice_queue_agent", tid, path=path, payload=doc("voice-queue-agents"))
    assert status == 422
    # signing in again replaces the first (same id, same created-at)
    status, out = sign_in()
    assert status == 201 and out["data"]["id"] == agent["id"] and out["data"]["attributes"]["created-at"] == attrs["created-at"]
    assert len(twilio.keys) == 1

    status, out = call(handler, "list_voice_queue_agents", tid, path=path, query={"setting-id": "set-1"})
    assert status == 200 and {d["id"] for d in out["data"]} == {agent["id"], pstn["id"]} and out["meta"]["page[total]"] == 2
    assert all(d["attributes"]["access-token"] is None for d in out["data"])
    status, out = call(handler, "list_voice_queue_agents", tid, path=path, query={"setting-id": "set-404"})
    assert status == 404
    status, out = call(handler, "list_voice_queue_agents", other_tenant[0].id, path=path, query={"setting-id": "set-1"})
    assert status == 404

    # a call from the queue rings the browser agent: its current call, until it ends
    one = f"/v1/voice-queue-agents/{agent['id']}/"
    voice_calls.apply_status(
        tid, "set-1", {"CallSid": "CA" + "7" * 32, "CallStatus": "ringing", "To": "client:ind-a", "From": "+15005550006"}
    )
    dial_id = voice_calls.dial_id(tid, "CA" + "7" * 32)
    status, out = call(handler, "get_voice_queue_agent", tid, path=one, path_params={"id": agent["id"]})
    assert status == 200 and out["data"]["attributes"]["call"] == {"id": dial_id}
    log = store.get_dial(tid, dial_id)
    assert log["individual_id"] == "ind-a" and log["organization_id"] == ORG and log["setting_id"] == "set-1" and "conference_id" not in log
    voice_calls.apply_status(
        tid, "set-1", {"CallSid": "CA" + "7" * 32, "CallStatus": "completed", "To": "client:ind-a", "CallDuration": "9"}
    )
    status, out = call(handler, "get_voice_queue_agent", tid, path=one, path_params={"id": agent["id"]})
    assert out["data"]["attributes"]["call"] is None
    # a leg that ends while the agent is on a later call leaves that call
    voice_calls.apply_status(tid, "set-1", {"CallSid": "CA" + "5" * 32, "CallStatus": "ringing", "To": "client:ind-a"})
    voice_calls.apply_status(tid, "set-1", {"CallSid": "CA" + "6" * 32, "CallStatus": "in-progress", "To": "client:ind-a"})
    voice_calls.apply_status(tid, "set-1", {"CallSid": "CA" + "5" * 32, "CallStatus": "no-answer", "To": "client:ind-a"})
    assert store.get_agent(tid, agent["id"])["call_id"] == voice_calls.dial_id(tid, "CA" + "6" * 32)
    # the PSTN agent is matched by its phone
    voice_calls.apply_status(tid, "set-1", {"CallSid": "CA" + "8" * 32, "CallStatus": "in-progress", "To": "+14155550142"})
    assert store.get_agent(tid, pstn["id"])["call_id"] == voice_calls.dial_id(tid, "CA" + "8" * 32)
    status, out = call(handler, "get_voice_queue_agent", other_tenant[0].id, path=one, path_params={"id": agent["id"]})
    assert status == 404
