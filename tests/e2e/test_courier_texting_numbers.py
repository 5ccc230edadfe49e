"""The courier texting API's accounts, numbers, lookups, number maps and number logs (seed 003, issue 17 part D) over
HTTP on the local stack, against the fake Twilio that runs inside it: every route answers the seed's shape (type,
attributes, envelope, page meta), the fake Twilio was asked what it should be (a subaccount of the tenant's main
account, a number bought into the subaccount with its webhooks on the texting inbound Function URL, a Lookup v2),
the stored state (table items, the account's secret), E.164 refusals (400 naming the field), and another tenant's
ids are 404s."""

from __future__ import annotations

import json
import uuid

import requests

from helpers import import_directory

T1 = "2026-11-01T09:00:00Z"
NUMBER_KEYS = {
    "account-id", "alert", "capability-mms", "capability-sms", "capability-voice", "created-at", "events", "forward-to", "lata",
    "latitude", "logging", "longitude", "notes", "phone-number", "postal-code", "rate-center", "region", "twilio-id",
}  # fmt: skip


class Client:
    def __init__(self, local, key):
        self.base, self.headers = local.api, {"Authorization": f"Bearer {key}", "Content-Type": "application/vnd.api+json"}

    def get(self, path, **query):
        return requests.get(self.base + path, params=query or None, headers=self.headers, timeout=30)

    def post(self, path, body):
        return requests.post(self.base + path, json=body, headers=self.headers, timeout=30)

    def patch(self, path, body):
        return requests.patch(self.base + path, json=body, headers=self.headers, timeout=30)


def doc(type_, id_=None, **attributes):
    return {"data": {"type": type_, "attributes": attributes, **({"id": id_} if id_ else {})}}


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


def test_texting_accounts_numbers_lookups_maps_and_logs_over_http(local, emulator_env, tmp_path):
    from parley.dal import secrets
    from parley.dal import text_numbers as store
    from parley.domain import text_numbers

    tenant, stranger = local.new_tenant("texting-numbers"), local.new_tenant("texting-numbers-stranger")
    tid = tenant["tenantId"]
    org, org2, user = (str(uuid.uuid4()) for _ in range(3))
    lines = [
        {"type": "organizations", "id": org, "last-sync-time": T1, "attributes": {"name": "northside"}},
        {"type": "organizations", "id": org2, "last-sync-time": T1, "attributes": {"name": "southside"}},
        {"type": "users", "id": user, "last-sync-time": T1, "attributes": {"username": "pat"}},
    ]
    assert import_directory(local, tmp_path, tid, lines)["invalid"] == 0
    given = requests.post(local.api + "/_local/twilio/account", json={"tenantId": tid}, timeout=10)
    assert given.status_code == 201, given.text
    main_sid = given.json()["accountSid"]
    api, other = Client(local, tenant["apiKey"]), Client(local, stranger["apiKey"])

    # ── text-accounts ──
    created = ok(api.post("/v1/text-accounts/", doc("text-accounts", **{"organization-id": org})), 201)["data"]
    assert created["type"] == "text-accounts"
    assert set(created["attributes"]) == {"allow-custom-number", "created-at", "organization-id", "phone-number", "twilio-id"}
    account_id, sub_sid = created["id"], created["attributes"]["twilio-id"]
    (sub,) = [a for a in twilio(local)["subaccounts"] if a["sid"] == sub_sid]
    assert sub["owner_account_sid"] == main_sid and "auth_token" not in sub
    secret = secrets.named_secret(f"parley/texting/{tid}/{account_id}")
    assert secret["account_sid"] == sub_sid and secret["auth_token"]
    assert store.get_account(tid, account_id)["organization_id"] == org
    second = ok(api.post("/v1/text-accounts", doc("text-accounts", **{"organization-id": org2, "allow-custom-number": True})), 201)["data"]
    listed = ok(api.get("/v1/text-accounts/"))
    assert [d["id"] for d in listed["data"]] == [second["id"], account_id]
    assert listed["meta"] == {"page[total]": 2, "page[limit]": 100, "page[offset]": 0}
    assert [d["id"] for d in ok(api.get("/v1/text-accounts/", **{"organization-id": org2}))["data"]] == [second["id"]]
    assert ok(api.get(f"/v1/text-accounts/{account_id}/"))["data"] == created
    error(api.post("/v1/text-accounts/", doc("text-accounts", **{"organization-id": "no-such-org"})), 422)

    # ── claim-number, text-account-numbers ──
    claimed = ok(api.post(f"/v1/text-accounts/{account_id}/claim-number/", {"notes": "front desk"}), 201)["data"]
    assert claimed["type"] == "text-account-numbers" and set(claimed["attributes"]) == NUMBER_KEYS
    phone = claimed["attributes"]["phone-number"]
    assert phone.startswith("+1") and claimed["attributes"]["notes"] == "front desk" and claimed["attributes"]["account-id"] == account_id
    (bought,) = [n for n in twilio(local)["numbers"] if n["phone_number"] == phone]
    inbound = f"{local.api}/_url/TextInboundFunction/"
    assert bought["account_sid"] == sub_sid and bought["sms_url"] == inbound and bought["status_callback"] == inbound
    assert bought["sid"] == claimed["attributes"]["twilio-id"]
    (buy,) = [
        r
        for r in twilio(local)["requests"]
        if r["method"] == "POST" and r["path"].endswith("/IncomingPhoneNumbers.json") and r["account_sid"] == sub_sid
    ]
    assert buy["account_sid"] == sub_sid and buy["form"]["PhoneNumber"] == phone
    assert ok(api.get(f"/v1/text-accounts/{account_id}/"))["data"]["attributes"]["phone-number"] == phone  # default sender
    error(api.post(f"/v1/text-accounts/{account_id}/claim-number/", {}), 400)  # notes are required

    body = doc("text-account-numbers", **{"account-id": account_id, "area-code": "212", "forward-to": "(555) 555-0123", "logging": True})
    number = ok(api.post("/v1/text-account-numbers/", body), 201)["data"]
    assert number["attributes"]["phone-number"].startswith("+1212") and number["attributes"]["forward-to"] == "+15555550123"
    err = error(api.post("/v1/text-account-numbers/", doc("text-account-numbers", **{"account-id": account_id, "forward-to": "x1"})), 400)
    assert err["source"]["pointer"] == "/data/attributes/forward-to"
    listed = ok(api.get("/v1/text-account-numbers/", **{"account-id": account_id}))
    assert [d["id"] for d in listed["data"]] == [number["id"], claimed["id"]] and listed["meta"]["page[total]"] == 2
    national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    assert [d["id"] for d in ok(api.get("/v1/text-account-numbers/", **{"filter[phone-number]": national}))["data"]] == [claimed["id"]]
    err = error(api.get("/v1/text-account-numbers/", **{"filter[phone-number]": "abc"}), 400)
    assert err["source"]["parameter"] == "filter[phone-number]"
    assert ok(api.get(f"/v1/text-account-numbers/{claimed['id']}/"))["data"] == claimed
    rule = {"unknown-number": {"action": "reply", "message": "Who is this?"}}
    patched = ok(
        api.patch(f"/v1/text-account-numbers/{claimed['id']}/", doc("text-account-numbers", claimed["id"], logging=True, events=rule))
    )
    assert patched["data"]["attributes"]["events"] == rule and patched["data"]["attributes"]["logging"] is True
    assert store.get_number(tid, claimed["id"])["events"] == rule
    assert text_numbers.number_for(phone).settings["events"] == rule
    new_default = number["attributes"]["phone-number"]
    patched = ok(api.patch(f"/v1/text-accounts/{account_id}/", doc("text-accounts", account_id, **{"phone-number": new_default})))
    assert patched["data"]["attributes"]["phone-number"] == new_default

    # ── text-number-logs, reset-logs ──
    text_numbers.record_number_log(tid, claimed["id"], {"from": "+15555550100", "body": "hello"})
    logs = ok(api.get("/v1/text-number-logs/", **{"number-id": claimed["id"]}))
    assert logs["meta"]["page[total]"] == 1 and logs["data"][0]["type"] == "text-number-logs"
    assert (
        set(logs["data"][0]["attributes"]) == {"created-at", "log"} and json.loads(logs["data"][0]["attributes"]["log"])["body"] == "hello"
    )
    reset = ok(api.post(f"/v1/text-account-numbers/{claimed['id']}/reset-logs/", {}), 201)
    assert reset["data"]["id"] == claimed["id"]
    assert ok(api.get("/v1/text-number-logs/", **{"number-id": claimed["id"]}))["data"] == []

    # ── text-number-info ──
    info = ok(api.post("/v1/text-number-info/", doc("text-number-info", number="555-555-0100")), 201)["data"]
    assert info["type"] == "text-number-info" and info["attributes"]["number"] == "+15555550100"
    assert info["attributes"]["status"] == "resolved" and info["attributes"]["type"] == "mobile"
    again = ok(api.post("/v1/text-number-info/", doc("text-number-info", number="+15555550100", reresolve=True)), 201)["data"]
    assert again["id"] == info["id"]
    lookups = [r for r in twilio(local)["requests"] if "/v2/PhoneNumbers/" in r["path"] and r["account_sid"] == main_sid]
    assert len(lookups) == 2
    assert [d["id"] for d in ok(api.get("/v1/text-number-info/", number="+15555550100"))["data"]] == [info["id"]]
    assert ok(api.get(f"/v1/text-number-info/{info['id']}/"))["data"]["id"] == info["id"]
    assert error(api.get("/v1/text-number-info/", number="nope"), 400)["source"]["parameter"] == "number"

    # ── text-user-number-maps ──
    map_body = doc("text-user-number-maps", **{"number-id": claimed["id"], "organization-id": org, "user-id": user})
    mapped = ok(api.post("/v1/text-user-number-maps/", map_body), 201)["data"]
    assert mapped["type"] == "text-user-number-maps"
    assert set(mapped["attributes"]) == {"created-at", "number-id", "organization-id", "user-id"}
    assert ok(api.get(f"/v1/text-user-number-maps/{mapped['id']}/"))["data"] == mapped
    assert [d["id"] for d in ok(api.get("/v1/text-user-number-maps/", **{"filter[user-id]": user}))["data"]] == [mapped["id"]]
    assert text_numbers.sender_for(tid, account_id, user, "+15555550100").id == claimed["id"]  # the user's map wins the default

    # ── another tenant ──
    for path in (f"/v1/text-accounts/{account_id}/", f"/v1/text-account-numbers/{claimed['id']}/", f"/v1/text-number-info/{info['id']}/",
                 f"/v1/text-user-number-maps/{mapped['id']}/"):  # fmt: skip
        assert error(other.get(path), 404)["code"] == "not-found"
    error(other.patch(f"/v1/text-account-numbers/{claimed['id']}/", doc("text-account-numbers", claimed["id"], logging=False)), 404)
    error(other.post(f"/v1/text-account-numbers/{claimed['id']}/reset-logs/", {}), 404)
    error(other.post(f"/v1/text-accounts/{account_id}/claim-number/", {"notes": "mine now"}), 404)
    error(other.get("/v1/text-number-logs/", **{"number-id": claimed["id"]}), 404)
    assert ok(other.get("/v1/text-account-numbers/", **{"filter[phone-number]": phone}))["data"] == []
    assert ok(other.get("/v1/text-accounts/"))["data"] == []
    assert store.get_number(tid, claimed["id"])["logging"] is True  # the stranger's PATCH changed nothing


def test_the_local_twilio_tools(local):
    """``POST /_local/twilio/account`` gives a tenant (the demo tenant by default) a main account the fake knows, and
    refuses what it cannot do; ``GET /_local/twilio`` never shows an auth token."""
    tool = local.api + "/_local/twilio/account"
    demo = requests.post(tool, timeout=10)
    assert demo.status_code == 201, demo.text
    assert demo.json()["accountSid"] in twilio(local)["accounts"]
    assert requests.post(tool, json={"tenantId": "no-such-tenant"}, timeout=10).status_code == 404
    assert requests.post(tool, json={"tenantId": 5}, timeout=10).status_code == 400
    assert requests.post(tool, data="{oops", timeout=10).status_code == 400
    assert requests.get(tool, timeout=10).status_code == 405
    assert requests.post(local.api + "/_local/twilio", json={}, timeout=10).status_code == 405
    assert "auth_token" not in json.dumps(twilio(local))
