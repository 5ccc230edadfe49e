"""Courier texting accounts, numbers, lookups, number maps and number logs on moto + the fake Twilio (issue 17, part D):
the Twilio requests made (subaccount with the tenant's main account, number purchase with the subaccount's
credentials and our webhooks, Lookup v2), what is stored (table items, the account's secret), E.164 everywhere (400
naming the field), the interface for texts/inbound (number_for, account_auth, record_number_log, sender_for),
Twilio failures (502/422, nothing stored) and tenant isolation (a foreign id is a 404)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from helpers import api_event

ORG = "7a000000-0000-4000-8000-000000000001"
ORG2 = "7a000000-0000-4000-8000-000000000002"
USER = "7a000000-0000-4000-8000-000000000003"
USER2 = "7a000000-0000-4000-8000-000000000004"
T1 = "2026-11-01T09:00:00Z"
PATHS = {
    "list_text_accounts": "/v1/text-accounts/",
    "create_text_account": "/v1/text-accounts/",
    "get_text_account": "/v1/text-accounts/{id}/",
    "update_text_account": "/v1/text-accounts/{id}/",
    "claim_text_account_number": "/v1/text-accounts/{id}/claim-number/",
    "list_text_account_numbers": "/v1/text-account-numbers/",
    "create_text_account_number": "/v1/text-account-numbers/",
    "get_text_account_number": "/v1/text-account-numbers/{id}/",
    "update_text_account_number": "/v1/text-account-numbers/{id}/",
    "reset_text_account_number_logs": "/v1/text-account-numbers/{id}/reset-logs/",
    "list_text_number_info": "/v1/text-number-info/",
    "create_text_number_info": "/v1/text-number-info/",
    "get_text_number_info": "/v1/text-number-info/{id}/",
    "list_text_user_number_maps": "/v1/text-user-number-maps/",
    "create_text_user_number_map": "/v1/text-user-number-maps/",
    "get_text_user_number_map": "/v1/text-user-number-maps/{id}/",
    "list_text_number_logs": "/v1/text-number-logs/",
}
FN = {
    "list_text_accounts": "ListTextAccountsFunction",
    "create_text_account": "CreateTextAccountFunction",
    "get_text_account": "GetTextAccountFunction",
    "update_text_account": "UpdateTextAccountFunction",
    "claim_text_account_number": "ClaimTextAccountNumberFunction",
    "list_text_account_numbers": "ListTextAccountNumbersFunction",
    "create_text_account_number": "CreateTextAccountNumberFunction",
    "get_text_account_number": "GetTextAccountNumberFunction",
    "update_text_account_number": "UpdateTextAccountNumberFunction",
    "reset_text_account_number_logs": "ResetTextAccountNumberLogsFunction",
    "list_text_number_info": "ListTextNumberInfoFunction",
    "create_text_number_info": "CreateTextNumberInfoFunction",
    "get_text_number_info": "GetTextNumberInfoFunction",
    "list_text_user_number_maps": "ListTextUserNumberMapsFunction",
    "create_text_user_number_map": "CreateTextUserNumberMapFunction",
    "get_text_user_number_map": "GetTextUserNumberMapFunction",
    "list_text_number_logs": "ListTextNumberLogsFunction",
}


def _directory(tenant_id):
    from parley.domain import directory as d

    def line(type_, id_, attributes):
        return json.dumps({"type": type_, "id": id_, "attributes": attributes, "last-sync-time": T1})

    summary = d.import_lines(
        tenant_id,
        [
            line("organizations", ORG, {"name": "northside"}),
            line("organizations", ORG2, {"name": "southside"}),
            line("users", USER, {"username": "pat"}),
            line("users", USER2, {"username": "sam"}),
        ],
    )
    assert summary.invalid == []


def _main_account(twilio, tenant_id):
    from parley.dal.secrets import put_tenant_secret
    from parley.domain.auth import configure_tenant

    sid, token = twilio.add_account()
    name = f"parley/{tenant_id}/twilio-main"
    put_tenant_secret(name, {"twilio_account_sid": sid, "twilio_auth_token": token})
    configure_tenant(tenant_id, secret_name=name)
    return sid, token


@pytest.fixture
def acme(tenant, twilio):
    t, _ = tenant
    _directory(t.id)
    _main_account(twilio, t.id)
    return t


def call(handler, fn, tenant_id, *, body_=..., query=None, id_=None, raw=None, key=None):
    headers = {"Content-Type": "application/vnd.api+json", "Idempotency-Key": key}
    ev = api_event(f"courier_texting/{fn}", tenant_id=tenant_id, body=body_ if raw is None else raw, query=query, headers=headers)
    path = PATHS[fn].replace("{id}", id_ or "")
    ev["path"] = path
    ev["pathParameters"] = {"id": id_} if id_ is not None else None
    out = handler(f"CourierTextingApi.{FN[fn]}")(ev)
    return out["statusCode"], (json.loads(out["body"]) if out.get("body") else None)


def doc(type_, id_=None, **attributes):
    data = {"type": type_, "attributes": attributes}
    if id_:
        data["id"] = id_
    return {"data": data}


def new_account(handler, tenant_id, org=ORG, **extra):
    status, out = call(handler, "create_text_account", tenant_id, body_=doc("text-accounts", **{"organization-id": org, **extra}))
    assert status == 201, out
    return out["data"]


def claim(handler, tenant_id, account_id, **extra):
    status, out = call(handler, "claim_text_account_number", tenant_id, id_=account_id, body_={"notes": "front desk", **extra})
    assert status == 201, out
    return out["data"]


def basic_user(recorded):
    return base64.b64decode(recorded.headers["Authorization"].split(" ", 1)[1]).decode().split(":", 1)


def map_doc(number_id, org=ORG, user=USER):
    return doc("text-user-number-maps", **{"number-id": number_id, "organization-id": org, "user-id": user})


def error(out):
    (err,) = out["errors"]
    return err


# ── text-accounts ──


def test_create_makes_a_twilio_subaccount_keeps_its_token_in_secrets_manager_only(handler, acme, twilio, table_items):
    from parley.dal import secrets
    from parley.dal import text_numbers as store

    data = new_account(handler, acme.id, **{"allow-custom-number": True})
    attrs = data["attributes"]
    assert data["type"] == "text-accounts"
    assert set(attrs) == {"allow-custom-number", "created-at", "organization-id", "phone-number", "twilio-id"}
    assert attrs["organization-id"] == ORG and attrs["allow-custom-number"] is True and attrs["phone-number"] is None
    (req,) = twilio.calls("/Accounts.json", "POST")
    main_sid = next(iter(twilio.accounts))
    assert basic_user(req)[0] == main_sid and req.auth_ok  # asked with the tenant's main account
    (sub,) = twilio.subaccounts.values()
    assert sub["owner_account_sid"] == main_sid and attrs["twilio-id"] == sub["sid"]
    stored = store.get_account(acme.id, data["id"])
    assert stored["twilio_id"] == sub["sid"] and stored["GSI6PK"] == f"TENANT#{acme.id}#TEXTACCT#ORG#{ORG}"
    secret = secrets.named_secret(f"parley/texting/{acme.id}/{data['id']}")
    assert secret == {"account_sid": sub["sid"], "auth_token": sub["auth_token"]}
    assert not [i for i in table_items() if sub["auth_token"] in json.dumps(i, default=str)]  # the token never in the table
    assert sub["auth_token"] not in json.dumps(data)


def test_create_refusals_store_nothing(handler, tenant, twilio, table_items):
    t, _ = tenant
    _directory(t.id)
    status, out = call(handler, "create_text_account", t.id, body_=doc("text-accounts", **{"organization-id": ORG}))
    assert status == 422 and error(out)["code"] == "no-twilio-account"  # the tenant has no Twilio account
    _main_account(twilio, t.id)
    status, out = call(handler, "create_text_account", t.id, body_=doc("text-accounts", **{"organization-id": "nope"}))
    assert status == 422 and error(out)["source"]["pointer"] == "/data/attributes/organization-id"
    status, out = call(handler, "create_text_account", t.id, body_=doc("text-accounts"))
    assert status == 422 and error(out)["source"]["pointer"] == "/data/attributes/organization-id"
    twilio.fail_next(500, 20500, "boom")
    status, out = call(handler, "create_text_account", t.id, body_=doc("text-accounts", **{"organization-id": ORG}))
    assert status == 502 and "boom" in error(out)["detail"]
    assert not [i for i in table_items() if i.get("type") == "text_account"]
    assert twilio.subaccounts == {}


def test_list_by_organization_get_and_patch(handler, acme, twilio):
    a1 = new_account(handler, acme.id)
    a2 = new_account(handler, acme.id, org=ORG2)
    status, out = call(handler, "list_text_accounts", acme.id)
    assert status == 200 and [d["id"] for d in out["data"]] == [a2["id"], a1["id"]] and out["meta"]["page[total]"] == 2
    status, out = call(handler, "list_text_accounts", acme.id, query={"organization-id": ORG2})
    assert [d["id"] for d in out["data"]] == [a2["id"]] and out["meta"]["page[total]"] == 1
    status, out = call(handler, "get_text_account", acme.id, id_=a1["id"])
    assert status == 200 and out["data"]["attributes"] == a1["attributes"]

    number = claim(handler, acme.id, a1["id"])
    second = claim(handler, acme.id, a1["id"])
    status, out = call(handler, "get_text_account", acme.id, id_=a1["id"])
    assert out["data"]["attributes"]["phone-number"] == number["attributes"]["phone-number"]  # the first number: default sender
    national = second["attributes"]["phone-number"].removeprefix("+1")
    patch = doc(
        "text-accounts", a1["id"], **{"phone-number": f"({national[:3]}) {national[3:6]}-{national[6:]}", "allow-custom-number": True}
    )
    status, out = call(handler, "update_text_account", acme.id, id_=a1["id"], body_=patch)
    assert status == 200, out
    assert out["data"]["attributes"]["phone-number"] == second["attributes"]["phone-number"]  # national → E.164
    assert out["data"]["attributes"]["allow-custom-number"] is True
    bad = doc("text-accounts", a1["id"], **{"phone-number": "call me"})
    status, out = call(handler, "update_text_account", acme.id, id_=a1["id"], body_=bad)
    assert status == 400 and error(out)["source"]["pointer"] == "/data/attributes/phone-number" and "phone-number" in error(out)["detail"]
    other = doc("text-accounts", a1["id"], **{"phone-number": "+15555550100"})
    status, out = call(handler, "update_text_account", acme.id, id_=a1["id"], body_=other)
    assert status == 422 and error(out)["code"] == "not-an-account-number"
    status, out = call(
        handler, "update_text_account", acme.id, id_=a1["id"], body_=doc("text-accounts", a1["id"], **{"phone-number": None})
    )
    assert status == 200 and out["data"]["attributes"]["phone-number"] is None


# ── numbers ──


def test_claim_buys_with_the_subaccount_and_points_the_webhooks_at_us(aws, handler, acme, twilio, table_items):
    from parley.dal import text_numbers as store

    # the template gives the buying functions the inbound Function URL (TEXT_INBOUND_URL: !GetAtt TextInboundFunctionUrl…)
    inbound = aws.function("CourierTextingApi.ClaimTextAccountNumberFunction").env["TEXT_INBOUND_URL"]
    assert inbound.endswith("/_url/TextInboundFunction/")

    account = new_account(handler, acme.id)
    data = claim(handler, acme.id, account["id"], **{"area-code": "212"})
    attrs = data["attributes"]
    assert data["type"] == "text-account-numbers"
    assert set(attrs) == {
        "account-id", "alert", "capability-mms", "capability-sms", "capability-voice", "created-at", "events", "forward-to",
        "lata", "latitude", "logging", "longitude", "notes", "phone-number", "postal-code", "rate-center", "region", "twilio-id",
    }  # fmt: skip
    assert attrs["phone-number"].startswith("+1212555") and attrs["notes"] == "front desk" and attrs["capability-sms"] is True
    (search,) = twilio.calls("/AvailablePhoneNumbers/US/Local.json", "GET")
    assert search.query["AreaCode"] == "212" and search.query["SmsEnabled"] == "true"
    (buy,) = twilio.calls("/IncomingPhoneNumbers.json", "POST")
    sub_sid = account["attributes"]["twilio-id"]
    assert basic_user(buy)[0] == sub_sid and buy.account_sid == sub_sid  # bought into the subaccount, with its own token
    assert buy.form["SmsUrl"] == inbound and buy.form["StatusCallback"] == inbound and buy.form["SmsMethod"] == "POST"
    pn = twilio.number_by_phone(attrs["phone-number"])
    assert pn["account_sid"] == sub_sid and pn["sms_url"] == inbound and attrs["twilio-id"] == pn["sid"]
    stored = store.get_number(acme.id, data["id"])
    assert stored["phone_number"] == attrs["phone-number"] and stored["organization_id"] == ORG
    route = store.route(attrs["phone-number"])
    assert route == {**route, "tenant_id": acme.id, "number_id": data["id"], "account_id": account["id"]}


def test_create_number_refusals(aws, handler, acme, twilio, monkeypatch, table_items):
    account = new_account(handler, acme.id)
    twilio.sold_out.add("907")
    status, out = call(handler, "create_text_account_number", acme.id,
                       body_=doc("text-account-numbers", **{"account-id": account["id"], "area-code": "907"}))  # fmt: skip
    assert status == 422 and error(out)["code"] == "no-number-available" and error(out)["source"]["pointer"] == "/data/attributes/area-code"
    status, out = call(handler, "create_text_account_number", acme.id,
                       body_=doc("text-account-numbers", **{"account-id": account["id"], "area-code": "12"}))  # fmt: skip
    assert status == 400 and error(out)["source"]["pointer"] == "/data/attributes/area-code"
    status, out = call(handler, "create_text_account_number", acme.id,
                       body_=doc("text-account-numbers", **{"account-id": account["id"], "forward-to": "12ab"}))  # fmt: skip
    assert status == 400 and error(out)["source"]["pointer"] == "/data/attributes/forward-to"
    status, out = call(handler, "create_text_account_number", acme.id, body_=doc("text-account-numbers", **{"account-id": "nope"}))
    assert status == 422 and error(out)["code"] == "unknown-account"
    # a function deployed without the inbound URL (it is declared on every buying function) buys nothing
    monkeypatch.delitem(aws.function("CourierTextingApi.CreateTextAccountNumberFunction").env, "TEXT_INBOUND_URL")
    monkeypatch.delenv("TEXT_INBOUND_URL", raising=False)
    status, out = call(handler, "create_text_account_number", acme.id, body_=doc("text-account-numbers", **{"account-id": account["id"]}))
    assert status == 503 and error(out)["code"] == "inbound-url-missing"
    assert twilio.calls("/IncomingPhoneNumbers.json", "POST") == [] and twilio.numbers == {}
    assert not [i for i in table_items() if i.get("type") in ("text_number", "text_number_route")]


def test_create_list_filter_and_patch_settings(handler, acme, twilio):
    account = new_account(handler, acme.id)
    other = new_account(handler, acme.id, org=ORG2)
    status, out = call(handler, "create_text_account_number", acme.id, body_=doc(
        "text-account-numbers", **{"account-id": account["id"], "area-code": "415", "forward-to": "(555) 555-0123", "logging": True,
                                   "alert": True, "notes": "support"}))  # fmt: skip
    assert status == 201, out
    n1 = out["data"]
    assert n1["attributes"]["forward-to"] == "+15555550123" and n1["attributes"]["logging"] is True and n1["attributes"]["alert"] is True
    n2 = claim(handler, acme.id, other["id"])
    status, out = call(handler, "list_text_account_numbers", acme.id)
    assert [d["id"] for d in out["data"]] == [n2["id"], n1["id"]] and out["meta"]["page[total]"] == 2
    status, out = call(handler, "list_text_account_numbers", acme.id, query={"account-id": account["id"]})
    assert [d["id"] for d in out["data"]] == [n1["id"]]
    phone = n1["attributes"]["phone-number"]
    national = f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}"
    for query in ({"filter[phone-number]": national}, {"phone-number": phone}):
        status, out = call(handler, "list_text_account_numbers", acme.id, query=query)
        assert status == 200 and [d["id"] for d in out["data"]] == [n1["id"]] and out["meta"]["page[total]"] == 1
    status, out = call(handler, "list_text_account_numbers", acme.id, query={"filter[phone-number]": phone, "account-id": other["id"]})
    assert out["data"] == [] and out["meta"]["page[total]"] == 0
    status, out = call(handler, "list_text_account_numbers", acme.id, query={"filter[phone-number]": "not a number"})
    assert status == 400 and error(out)["source"]["parameter"] == "filter[phone-number]"

    rule = {"unknown-number": {"action": "forward", "to": "555-555-0177"}}
    patch = doc("text-account-numbers", n1["id"], **{"events": rule, "forward-to": None, "logging": False, "notes": "moved"})
    status, out = call(handler, "update_text_account_number", acme.id, id_=n1["id"], body_=patch)
    assert status == 200, out
    attrs = out["data"]["attributes"]
    assert attrs["events"] == {"unknown-number": {"action": "forward", "to": "+15555550177"}}
    assert attrs["forward-to"] is None and attrs["logging"] is False and attrs["notes"] == "moved" and attrs["alert"] is True
    from parley.dal import text_numbers as store

    stored = store.get_number(acme.id, n1["id"])
    assert "forward_to" not in stored and stored["events"] == {"unknown-number": {"action": "forward", "to": "+15555550177"}}
    bad = doc("text-account-numbers", n1["id"], **{"events": {"unknown-number": {"action": "reply"}}})
    status, out = call(handler, "update_text_account_number", acme.id, id_=n1["id"], body_=bad)
    assert status == 422 and error(out)["source"]["pointer"] == "/data/attributes/events/unknown-number/message"
    bad = doc("text-account-numbers", n1["id"], **{"events": {"unknown-number": {"action": "explode"}}})
    status, out = call(handler, "update_text_account_number", acme.id, id_=n1["id"], body_=bad)
    assert status == 400
    bad = doc("text-account-numbers", n1["id"], **{"forward-to": "+1 (555"})
    status, out = call(handler, "update_text_account_number", acme.id, id_=n1["id"], body_=bad)
    assert status == 400 and error(out)["source"]["pointer"] == "/data/attributes/forward-to"
    assert store.get_number(acme.id, n1["id"])["events"] == attrs["events"]  # the refused patches changed nothing


# ── the interface, logs ──


def test_interface_number_for_account_auth_logs_and_sender(handler, acme, twilio):
    from parley.domain import text_numbers

    account = new_account(handler, acme.id)
    first = claim(handler, acme.id, account["id"])
    second = claim(handler, acme.id, account["id"])
    found = text_numbers.number_for(first["attributes"]["phone-number"])
    assert (found.tenant_id, found.account_id, found.id, found.organization_id) == (acme.id, account["id"], first["id"], ORG)
    assert found.settings["logging"] is False and text_numbers.number_for("+15555550999") is None
    sub = twilio.subaccounts[account["attributes"]["twilio-id"]]
    assert text_numbers.account_auth(acme.id, account["id"]) == (sub["sid"], sub["auth_token"])

    text_numbers.record_number_log(acme.id, first["id"], {"from": "+15555550100", "body": "hi"})  # logging off: nothing
    status, out = call(handler, "list_text_number_logs", acme.id, query={"number-id": first["id"]})
    assert status == 200 and out["data"] == [] and out["meta"]["page[total]"] == 0
    patch = doc("text-account-numbers", first["id"], logging=True)
    assert call(handler, "update_text_account_number", acme.id, id_=first["id"], body_=patch)[0] == 200
    text_numbers.record_number_log(acme.id, first["id"], {"from": "+15555550100", "body": "hi"})
    text_numbers.record_number_log(acme.id, first["id"], {"from": "+15555550100", "body": "again"})
    status, out = call(handler, "list_text_number_logs", acme.id, query={"number-id": first["id"]})
    assert out["meta"]["page[total]"] == 2 and out["data"][0]["type"] == "text-number-logs"
    assert json.loads(out["data"][0]["attributes"]["log"])["body"] == "again"  # newest first
    status, out = call(handler, "reset_text_account_number_logs", acme.id, id_=first["id"], body_={})
    assert status == 201 and out["data"]["id"] == first["id"]
    status, out = call(handler, "list_text_number_logs", acme.id, query={"number-id": first["id"]})
    assert out["data"] == [] and out["meta"]["page[total]"] == 0
    status, out = call(handler, "reset_text_account_number_logs", acme.id, id_=first["id"], body_={"x": 1})
    assert status == 400

    # sender: the account's default (its first number) → a user's map wins
    assert text_numbers.sender_for(acme.id, account["id"], USER, "+15555550100").id == first["id"]
    status, out = call(handler, "create_text_user_number_map", acme.id, body_=map_doc(second["id"]))
    assert status == 201, out
    assert text_numbers.sender_for(acme.id, account["id"], USER, "+15555550100").id == second["id"]
    assert text_numbers.sender_for(acme.id, account["id"], USER2, "+15555550100").id == first["id"]
    empty = new_account(handler, acme.id)
    with pytest.raises(Exception) as refused:
        text_numbers.sender_for(acme.id, empty["id"], None, "+15555550100")
    assert getattr(refused.value, "status", None) == 422


# ── lookups ──


def test_number_info_is_cached_reresolved_and_expires(handler, acme, twilio, frozen):
    from datetime import UTC, datetime

    from parley.dal import text_numbers as store

    now = frozen(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    status, out = call(handler, "create_text_number_info", acme.id, body_=doc("text-number-info", number="(555) 555-0100"))
    assert status == 201, out
    data = out["data"]
    attrs = data["attributes"]
    assert data["type"] == "text-number-info"
    assert set(attrs) == {"carrier-name", "created-at", "error", "last-modified-at", "mobile-country-code", "mobile-network-code", "number",
                          "status", "type"}  # fmt: skip
    assert attrs["number"] == "+15555550100" and attrs["status"] == "resolved" and attrs["type"] == "mobile"
    assert attrs["carrier-name"] == "Fake Mobile Co" and attrs["mobile-country-code"] == "310" and attrs["error"] is None
    (req,) = twilio.calls("/v2/PhoneNumbers/+15555550100", "GET")
    assert req.query == {"Fields": "line_type_intelligence"} and basic_user(req)[0] == next(iter(twilio.accounts))
    stored = store.info_for(acme.id, "+15555550100")
    assert stored["expires_at"] == "2026-12-31T12:00:00.000Z"

    status, out = call(handler, "create_text_number_info", acme.id, body_=doc("text-number-info", number="+15555550100"))
    assert status == 201 and out["data"]["id"] == data["id"] and len(twilio.calls("/v2/PhoneNumbers/+15555550100")) == 1  # cached
    twilio.line_types["+15555550100"] = {"type": "landline", "carrier_name": "Ported Co", "mobile_country_code": None,
                                         "mobile_network_code": None, "error_code": None}  # fmt: skip
    frozen(now + timedelta(hours=1))
    status, out = call(handler, "create_text_number_info", acme.id, body_=doc("text-number-info", number="+15555550100", reresolve=True))
    assert out["data"]["id"] == data["id"] and out["data"]["attributes"]["type"] == "landline"  # reresolve: same record, new answer
    assert (
        out["data"]["attributes"]["created-at"] == attrs["created-at"]
        and out["data"]["attributes"]["last-modified-at"] > attrs["created-at"]
    )
    assert len(twilio.calls("/v2/PhoneNumbers/+15555550100")) == 2
    frozen(now + timedelta(days=31))  # expired: resolved again
    twilio.line_types["+15555550100"]["type"] = "voip"
    status, out = call(handler, "create_text_number_info", acme.id, body_=doc("text-number-info", number="+15555550100"))
    assert out["data"]["attributes"]["type"] == "voip" and len(twilio.calls("/v2/PhoneNumbers/+15555550100")) == 3

    status, out = call(handler, "list_text_number_info", acme.id, query={"number": "555-555-0100"})
    assert [d["id"] for d in out["data"]] == [data["id"]] and out["meta"]["page[total]"] == 1
    status, out = call(handler, "list_text_number_info", acme.id, query={"number": "+15555550177"})
    assert out["data"] == [] and out["meta"]["page[total]"] == 0
    status, out = call(handler, "list_text_number_info", acme.id, query={"number": "hello"})
    assert status == 400 and error(out)["source"]["parameter"] == "number"
    status, out = call(handler, "create_text_number_info", acme.id, body_=doc("text-number-info", number="12"))
    assert status == 400 and error(out)["source"]["pointer"] == "/data/attributes/number" and "number" in error(out)["detail"]
    status, out = call(handler, "get_text_number_info", acme.id, id_=data["id"])
    assert status == 200 and out["data"]["attributes"]["type"] == "voip"
    twilio.fail_next(503, 20503, "down")
    status, out = call(handler, "create_text_number_info", acme.id, body_=doc("text-number-info", number="+15555550100", reresolve=True))
    assert status == 502 and store.info_for(acme.id, "+15555550100")["line_type"] == "voip"  # a failure changes nothing


# ── maps ──


def test_number_maps_rules_and_filters(handler, acme, twilio):
    a1 = new_account(handler, acme.id)
    a2 = new_account(handler, acme.id, org=ORG2)
    n1, n2 = claim(handler, acme.id, a1["id"]), claim(handler, acme.id, a2["id"])

    def create_map(number, org, user):
        return call(handler, "create_text_user_number_map", acme.id,
                    body_=doc("text-user-number-maps", **{"number-id": number, "organization-id": org, "user-id": user}))  # fmt: skip

    status, m1 = create_map(n1["id"], ORG, USER)
    assert status == 201 and m1["data"]["attributes"] == {
        **m1["data"]["attributes"],
        "number-id": n1["id"],
        "organization-id": ORG,
        "user-id": USER,
    }
    assert create_map(n1["id"], ORG, USER)[0] == 409  # one map per user and organization
    status, out = create_map(n2["id"], ORG, USER2)
    assert status == 422 and error(out)["code"] == "number-of-another-organization"
    status, out = create_map(n1["id"], ORG, "ghost")
    assert status == 422 and error(out)["source"]["pointer"] == "/data/attributes/user-id"
    status, m2 = create_map(n2["id"], ORG2, USER)
    status, m3 = create_map(n1["id"], ORG, USER2)

    def listed(**filters):
        query = {f"filter[{k}]": v for k, v in filters.items()}
        status, out = call(handler, "list_text_user_number_maps", acme.id, query=query or None)
        assert status == 200, out
        return {d["id"] for d in out["data"]}, out["meta"]["page[total]"]

    ids = {m["data"]["id"] for m in (m1, m2, m3)}
    assert listed() == (ids, 3)
    assert listed(**{"user-id": USER}) == ({m1["data"]["id"], m2["data"]["id"]}, 2)
    assert listed(**{"number-id": n1["id"]}) == ({m1["data"]["id"], m3["data"]["id"]}, 2)
    assert listed(**{"organization-id": ORG}) == ({m1["data"]["id"], m3["data"]["id"]}, 2)
    assert listed(**{"user-id": USER, "organization-id": ORG2}) == ({m2["data"]["id"]}, 1)
    status, out = call(handler, "get_text_user_number_map", acme.id, id_=m1["data"]["id"])
    assert status == 200 and out["data"] == m1["data"]


# ── isolation, purge ──


def test_another_tenants_ids_are_404_and_its_lists_are_empty(handler, acme, other_tenant, twilio):
    from parley.domain import number_info, text_numbers

    account = new_account(handler, acme.id)
    number = claim(handler, acme.id, account["id"])
    status, info = call(handler, "create_text_number_info", acme.id, body_=doc("text-number-info", number="+15555550100"))
    status, mapped = call(handler, "create_text_user_number_map", acme.id, body_=map_doc(number["id"]))
    assert status == 201
    other, _ = other_tenant
    _directory(other.id)
    _main_account(twilio, other.id)
    for fn, id_ in (("get_text_account", account["id"]), ("get_text_account_number", number["id"]),
                    ("get_text_number_info", info["data"]["id"]), ("get_text_user_number_map", mapped["data"]["id"])):  # fmt: skip
        assert call(handler, fn, other.id, id_=id_)[0] == 404
    assert (
        call(
            handler,
            "update_text_account",
            other.id,
            id_=account["id"],
            body_=doc("text-accounts", account["id"], **{"allow-custom-number": True}),
        )[0]
        == 404
    )
    assert (
        call(
            handler, "update_text_account_number", other.id, id_=number["id"], body_=doc("text-account-numbers", number["id"], logging=True)
        )[0]
        == 404
    )
    assert call(handler, "reset_text_account_number_logs", other.id, id_=number["id"], body_={})[0] == 404
    status, out = call(handler, "claim_text_account_number", other.id, id_=account["id"], body_={"notes": "x"})
    assert status == 404 and len(twilio.numbers) == 1
    status, out = call(handler, "create_text_account_number", other.id, body_=doc("text-account-numbers", **{"account-id": account["id"]}))
    assert status == 422 and len(twilio.numbers) == 1
    assert call(handler, "list_text_number_logs", other.id, query={"number-id": number["id"]})[0] == 404
    for fn, query in (("list_text_accounts", None), ("list_text_account_numbers", None),
                      ("list_text_account_numbers", {"filter[phone-number]": number["attributes"]["phone-number"]}),
                      ("list_text_number_info", {"number": "+15555550100"}), ("list_text_user_number_maps", None)):  # fmt: skip
        status, out = call(handler, fn, other.id, query=query)
        assert status == 200 and out["data"] == [] and out["meta"]["page[total]"] == 0, fn
    status, out = call(handler, "create_text_user_number_map", other.id, body_=map_doc(number["id"]))
    assert status == 422 and error(out)["code"] == "unknown-number"
    # purge: the person's maps and lookups go, the organization's account and number stay
    assert (
        call(
            handler, "update_text_account_number", acme.id, id_=number["id"], body_=doc("text-account-numbers", number["id"], logging=True)
        )[0]
        == 200
    )
    text_numbers.record_number_log(acme.id, number["id"], {"from": "+15555550100", "body": "yes"})
    text_numbers.record_number_log(acme.id, number["id"], {"from": "+15555550199", "body": "someone else"})
    erased = text_numbers.purge_person(acme.id, user_ids=[USER], phones=["+15555550100"])
    assert erased == {"text_number_maps": 1, "text_number_info": 1, "text_number_logs": 1}
    status, out = call(handler, "list_text_number_logs", acme.id, query={"number-id": number["id"]})
    assert [json.loads(d["attributes"]["log"])["from"] for d in out["data"]] == ["+15555550199"]
    assert call(handler, "get_text_user_number_map", acme.id, id_=mapped["data"]["id"])[0] == 404
    assert call(handler, "get_text_number_info", acme.id, id_=info["data"]["id"])[0] == 404
    assert number_info.page(acme.id, "US", "+15555550100", offset=0, limit=10) == ([], 0)
    assert call(handler, "get_text_account_number", acme.id, id_=number["id"])[0] == 200


def test_a_purge_of_a_courier_user_erases_their_texting_data(handler, acme, twilio):
    from parley.domain import purge, text_numbers

    account = new_account(handler, acme.id)
    number = claim(handler, acme.id, account["id"])
    assert call(handler, "create_text_user_number_map", acme.id, body_=map_doc(number["id"]))[0] == 201
    assert call(handler, "create_text_number_info", acme.id, body_=doc("text-number-info", number="+15555550100"))[0] == 201
    patch = doc("text-account-numbers", number["id"], logging=True)
    assert call(handler, "update_text_account_number", acme.id, id_=number["id"], body_=patch)[0] == 200
    text_numbers.record_number_log(acme.id, number["id"], {"from": "+15555550100", "body": "STOP"})
    done = purge.purge_courier(purge.Subject(acme.id, addresses={"+15555550100", "pat@example.com"}, user_ids={USER}))
    assert (done["text_number_maps"], done["text_number_info"], done["text_number_logs"]) == (1, 1, 1)
    for fn, query in (("list_text_user_number_maps", {"filter[user-id]": USER}), ("list_text_number_info", {"number": "+15555550100"}),
                      ("list_text_number_logs", {"number-id": number["id"]})):  # fmt: skip
        assert call(handler, fn, acme.id, query=query)[1]["data"] == [], fn


def test_an_idempotency_key_makes_one_subaccount_and_one_purchase(handler, acme, twilio):
    body = doc("text-accounts", **{"organization-id": ORG})
    first = call(handler, "create_text_account", acme.id, body_=body, key="acct-1")
    again = call(handler, "create_text_account", acme.id, body_=body, key="acct-1")
    assert first[0] == again[0] == 201 and first[1] == again[1] and len(twilio.subaccounts) == 1
    other = doc("text-accounts", **{"organization-id": ORG2})
    assert call(handler, "create_text_account", acme.id, body_=other, key="acct-1")[0] == 422  # the key, another request
    account_id = first[1]["data"]["id"]
    claim1 = call(handler, "claim_text_account_number", acme.id, id_=account_id, body_={"notes": "x"}, key="claim-1")
    claim2 = call(handler, "claim_text_account_number", acme.id, id_=account_id, body_={"notes": "x"}, key="claim-1")
    assert claim1[0] == claim2[0] == 201 and claim1[1] == claim2[1]
    create = doc("text-account-numbers", **{"account-id": account_id})
    n1 = call(handler, "create_text_account_number", acme.id, body_=create, key="num-1")
    n2 = call(handler, "create_text_account_number", acme.id, body_=create, key="num-1")
    assert n1[0] == n2[0] == 201 and n1[1] == n2[1]
    assert len(twilio.calls("/IncomingPhoneNumbers.json", "POST")) == 2 and len(twilio.numbers) == 2  # one purchase per key


def test_what_the_table_cannot_record_is_given_back_to_twilio(handler, acme, twilio, monkeypatch, table_items):
    from parley.dal import text_numbers as store
    from parley.domain import text_accounts, text_numbers
    from parley.models.courier_text_numbers import TextAccountCreate

    account = new_account(handler, acme.id)
    stored = store.get_account(acme.id, account["id"])

    def broken(*args, **kwargs):
        raise RuntimeError("the table is down")

    monkeypatch.setattr(store, "create_number", broken)
    with pytest.raises(RuntimeError):
        text_numbers.buy(acme.id, stored, area_code="303", notes="x")
    (bought,) = twilio.calls("/IncomingPhoneNumbers.json", "POST")
    (released,) = twilio.calls(".json", "DELETE")
    assert released.path.split("?")[0].endswith(".json") and "/IncomingPhoneNumbers/PN" in released.path
    assert bought.form["PhoneNumber"].startswith("+1303")
    assert released.account_sid == account["attributes"]["twilio-id"] and twilio.numbers == {}  # released: no orphan
    assert not [i for i in table_items() if i.get("type") in ("text_number", "text_number_route")]

    monkeypatch.setattr(store, "put_account", broken)
    with pytest.raises(RuntimeError):
        text_accounts.create(acme.id, TextAccountCreate(organization_id=ORG))
    closed = [a for a in twilio.subaccounts.values() if a["sid"] != account["attributes"]["twilio-id"]]
    assert [a["status"] for a in closed] == ["closed"]  # the subaccount nobody records is closed again
