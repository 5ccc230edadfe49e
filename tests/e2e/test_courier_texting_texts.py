"""Courier texts, consents and receive logs over HTTP on the local stack (issue 17, helper E): the issue's demo —
a text-account bought into (fake) Twilio through the texting API, a text with expected responses sent through the send
queue and the dispatcher from the account's number; the recipient's simulated "yes" (``POST
/_local/simulate/text-reply``, signed like Twilio) reaches TextInboundFunction, and the callback-url (a local receiver)
gets ONE signed POST with callback-json. Also: Twilio's status callback (signed over the text's URL, forward only,
forged → 403), lists and filters, the consent flow, the receive log, and another tenant's ids as 404s, each in the
seed's shapes and checked against the stored state."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
import requests
from texting import Receiver
from twilio.request_validator import RequestValidator

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
TARGET = "+15555550177"
TEXT_KEYS = {"callback-status-url", "callback-url", "created-at", "created-by", "error", "from", "last-modified-at", "message", "status",
             "target", "twilio-sid", "account-id", "number-id", "organization-id", "callback-json", "callback-one-off",
             "expected-responses"}  # fmt: skip
CONSENT_KEYS = {"args", "created-at", "last-modified-at", "organization-id", "state", "target-id", "type", "user-id"}


def _h(key, user="user-1"):
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/vnd.api+json", "X-User-ID": user}


@dataclass
class World:
    tenant_id: str
    key: str
    stranger_key: str
    account_id: str
    phone: str  # the account's number (bought through the API)
    organization_id: str


def _sent(local, to, body=None):
    """The SMS the stack's fake Twilio accepted for ``to`` (and ``body``)."""
    reqs = requests.get(local.api + "/_local/twilio", timeout=10).json()["requests"]
    return [r for r in reqs if r.get("auth_ok") and r["path"].endswith("/Messages.json") and r["form"].get("To") == to
            and (body is None or r["form"].get("Body") == body)]  # fmt: skip


@pytest.fixture
def world(local, emulator_env, tmp_path):
    tenant, stranger = local.new_tenant("texting"), local.new_tenant("texting-stranger")
    tid, org = tenant["tenantId"], str(uuid.uuid4())
    assert (
        import_directory(
            local, tmp_path, tid, [{"type": "organizations", "id": org, "last-sync-time": T1, "attributes": {"name": "north"}}]
        )["invalid"]
        == 0
    )
    assert requests.post(local.api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10).status_code == 201
    doc = {"data": {"type": "text-accounts", "attributes": {"organization-id": org}}}
    account = requests.post(local.api + "/v1/text-accounts/", json=doc, headers=_h(tenant["apiKey"]), timeout=30)
    assert account.status_code == 201, account.text
    account_id = account.json()["data"]["id"]
    number = requests.post(f"{local.api}/v1/text-accounts/{account_id}/claim-number/", json={"notes": "front desk"},
                           headers=_h(tenant["apiKey"]), timeout=30)  # fmt: skip
    assert number.status_code == 201, number.text
    receiver = Receiver().start()
    yield World(tid, tenant["apiKey"], stranger["apiKey"], account_id, number.json()["data"]["attributes"]["phone-number"], org), receiver
    receiver.stop()


def _wait(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


def test_text_reply_demo_and_status_callback_over_http(local, world):
    from parley.dal import text_callbacks as plumbing
    from parley.dal import texts
    from parley.domain import text_callbacks, text_numbers

    a, receiver = world
    key = a.key
    account_sid, token = text_numbers.account_auth(a.tenant_id, a.account_id)
    attrs = {"account-id": a.account_id, "target": "(555) 555-0177", "message": "Take the 10:00 shift? YES/NO",
             "expected-responses": ["YES", "NO"], "callback-url": receiver.url, "callback-json": {"shift": 10},
             "callback-one-off": True}  # fmt: skip
    out = requests.post(f"{local.api}/v1/texts/", json={"data": {"type": "texts", "attributes": attrs}}, headers=_h(key), timeout=30)
    assert out.status_code == 201, out.text
    assert out.headers["Content-Type"].startswith("application/vnd.api+json")
    text = out.json()["data"]
    assert text["type"] == "texts" and set(text["attributes"]) == TEXT_KEYS
    assert text["attributes"]["target"] == TARGET and text["attributes"]["from"] == a.phone and text["attributes"]["status"] == "accepted"
    stored = texts.get_text(a.tenant_id, text["id"], consistent=True)
    assert stored["target"] == TARGET and stored["message_id"]

    sent = _wait(lambda: _sent(local, TARGET))
    assert len(sent) == 1 and sent[0]["account_sid"] == account_sid and sent[0]["form"]["From"] == a.phone

    def answered():
        data = requests.get(f"{local.api}/v1/texts/{text['id']}/", headers=_h(key), timeout=10).json()["data"]
        return data if data["attributes"]["twilio-sid"] else None

    got = _wait(answered)
    assert got["attributes"]["status"] == "queued" and got["attributes"]["twilio-sid"].startswith("SM")

    listed = requests.get(f"{local.api}/v1/texts/", params={"account-id": a.account_id, "filter[target]": TARGET}, headers=_h(key),
                          timeout=10).json()  # fmt: skip
    assert [t["id"] for t in listed["data"]] == [text["id"]] and listed["meta"]["page[total]"] == 1

    # the recipient answers "yes": one signed callback with callback-json
    sim = requests.post(f"{local.api}/_local/simulate/text-reply", json={"tenantId": a.tenant_id, "textId": text["id"], "text": " yes "},
                        timeout=30).json()  # fmt: skip
    assert sim["ok"] and sim["status"] == 200, sim
    assert _wait(lambda: receiver.requests)
    time.sleep(1.0)
    (req,) = receiver.requests
    payload = receiver.payloads()[0]
    assert payload["callback-json"] == {"shift": 10} and payload["text-id"] == text["id"] and payload["matched-response"] == "YES"
    assert text_callbacks.verify(plumbing.signing_secret(a.tenant_id), req["headers"]["Parley-Signature"], req["body"])

    log = requests.get(f"{local.api}/v1/text-receive-logs/{sim['messageSid']}/", headers=_h(key), timeout=10)
    assert log.status_code == 200 and log.json()["data"]["type"] == "text-receive-logs"
    assert log.json()["data"]["attributes"] | {"created-at": None} == {"created-at": None, "message": " yes ", "sender": TARGET,
                                                                      "sid": sim["messageSid"], "to": a.phone}  # fmt: skip

    # Twilio's status callback, at the URL the text gave it, signed with the account's token
    url = stored["status_callback_url"]
    params = {"MessageSid": got["attributes"]["twilio-sid"], "MessageStatus": "delivered", "AccountSid": account_sid, "To": TARGET}
    signature = RequestValidator(token).compute_signature(url, params)
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    forged = requests.post(url, data=urlencode(params), headers={**form, "X-Twilio-Signature": "forged"}, timeout=10)
    assert forged.status_code == 403 and forged.json()["errors"][0]["status"] == 403
    ok = requests.post(url, data=urlencode(params), headers={**form, "X-Twilio-Signature": signature}, timeout=10)
    assert ok.status_code == 204, ok.text
    stale = {**params, "MessageStatus": "sent"}
    signed_stale = {**form, "X-Twilio-Signature": RequestValidator(token).compute_signature(url, stale)}
    assert requests.post(url, data=urlencode(stale), headers=signed_stale, timeout=10).status_code == 204
    final = requests.get(f"{local.api}/v1/texts/{text['id']}/", headers=_h(key), timeout=10).json()["data"]["attributes"]
    assert final["status"] == "delivered"

    # another tenant sees none of it
    other = a.stranger_key
    for path in (f"/v1/texts/{text['id']}/", f"/v1/text-receive-logs/{sim['messageSid']}/"):
        r = requests.get(local.api + path, headers=_h(other), timeout=10)
        assert r.status_code == 404 and r.json()["errors"][0]["status"] == 404
    assert requests.get(f"{local.api}/v1/texts/", params={"account-id": a.account_id}, headers=_h(other), timeout=10).json()["data"] == []


def test_user_consent_flow_over_http(local, world):
    from parley.dal import optins

    a, _ = world
    key = a.key
    phone = "+15555550178"
    args = {"account-id": a.account_id, "messages": {"initial": "Reply YES for shift alerts", "accept": "You're in.",
                                                      "invalid-response": "Please answer YES or NO."}}  # fmt: skip
    doc = {"data": {"type": "user-consents", "attributes": {"type": "sms", "user-id": "user-7", "organization-id": a.organization_id,
                                                             "target-id": phone, "args": args}}}  # fmt: skip
    out = requests.post(f"{local.api}/v1/user-consents/", json=doc, headers=_h(key), timeout=30)
    assert out.status_code == 201, out.text
    consent = out.json()["data"]
    assert consent["type"] == "user-consents" and set(consent["attributes"]) == CONSENT_KEYS
    assert consent["attributes"]["state"] == "pending" and consent["attributes"]["target-id"] == phone
    assert _wait(lambda: _sent(local, phone, "Reply YES for shift alerts"))

    def state():
        r = requests.get(f"{local.api}/v1/user-consents/{consent['id']}/", headers=_h(key), timeout=10)
        assert r.status_code == 200
        return r.json()["data"]["attributes"]["state"]

    requests.post(f"{local.api}/_local/simulate/text-reply", json={"to": a.phone, "from": phone, "text": "hmm"}, timeout=30)
    assert state() == "invalid-response"
    requests.post(f"{local.api}/_local/simulate/text-reply", json={"to": a.phone, "from": phone, "text": "YES"}, timeout=30)
    assert state() == "accepted"
    assert optins.get_state(a.tenant_id, phone)["opted_in"] is True
    assert _wait(lambda: _sent(local, phone, "You're in."))

    listed = requests.get(f"{local.api}/v1/user-consents/", params={"filter[user-id]": "user-7"}, headers=_h(key), timeout=10).json()
    assert [c["id"] for c in listed["data"]] == [consent["id"]] and listed["meta"]["page[total]"] == 1
    r = requests.get(f"{local.api}/v1/user-consents/{consent['id']}/", headers=_h(a.stranger_key), timeout=10)
    assert r.status_code == 404
    bad = {"data": {"type": "user-consents", "attributes": {"target-id": "not a phone", "args": args}}}
    r = requests.post(f"{local.api}/v1/user-consents/", json=bad, headers=_h(key), timeout=10)
    assert r.status_code == 400 and r.json()["errors"][0]["source"]["pointer"] == "/data/attributes/target-id"
