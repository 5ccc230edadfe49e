"""SMS send, history and activity over HTTP against the local stack (SNS on the emulator records every SMS).

Responses are validated against the schemas in the seed's own "Schemas" section (seed 000).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
import requests

SEED = Path("/work/shared/seeds/000_1013e5676b0eb6c2.txt")
SEND, HISTORY, ACTIVITY, OPTIN = (f"/communications/sms/v1/{p}" for p in ("send", "history", "activity", "optIn"))
WIDE = {"fromTime": "2020-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": 20, "offset": 0}


@cache
def seed_schemas() -> dict[str, dict]:
    """SendSMSRequest, SendSMS, SMSHistory, SMSActivity and BadRequest, as the seed's Schemas section has them."""
    text = SEED.read_text()
    blocks = [json.loads(m.group(1)) for m in re.finditer(r"copied!(\{.*?\n\})Properties", text[text.index("\nSchemas\n") :], re.S)]

    def one(pred):
        (found,) = [b for b in blocks if pred(b)]
        return found

    def data_desc(b):
        return b.get("properties", {}).get("data", {}).get("description", "")

    return {
        "SendSMSRequest": one(lambda b: set(b.get("properties", {})) == {"message", "phoneNumber"}),
        "SendSMS": one(lambda b: data_desc(b) == "Data of the SendSMS."),
        "SMSHistory": one(lambda b: b.get("description", "").startswith("Paginated SMS communication history")),
        "SMSActivity": one(lambda b: data_desc(b) == "Data of the SMS Activity."),
        "BadRequest": one(lambda b: b.get("description", "").startswith("Bad request error")),
    }


def conforms(instance, name):
    import jsonschema

    jsonschema.validate(instance, seed_schemas()[name], format_checker=jsonschema.FormatChecker())
    return instance


def new_phone() -> str:
    return f"+1555{random.randrange(10**6, 10**7)}"


def auth(key, user: str | None = "recruiter-7"):
    """The seed's example headers: Content-type, Accept, Authorization (and x-ph-userid where it lists it)."""
    h = {"Content-type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {key}"}
    return {**h, "x-ph-userid": user} if user else h


def opt_in(local, key, phone):
    r = requests.put(local.api + OPTIN, json={"phoneNumber": phone, "optIn": True}, headers=auth(key), timeout=30)
    assert r.status_code == 200, r.text


def sms_to(local, phone):
    return [m for m in local.outbox()["sms"] if m["to"] == phone]


def send(local, key, payload, **extra):
    return requests.post(local.api + SEND, json=payload, headers={**auth(key), **extra}, timeout=30)


def get_activity(local, key, activity_id, phone, user="recruiter-7"):
    return requests.get(local.api + ACTIVITY, params={"activityId": activity_id, "phoneNumber": phone}, headers=auth(key, user), timeout=30)


def get_history(local, key, **params):
    return requests.get(local.api + HISTORY, params={**WIDE, **params}, headers=auth(key, None), timeout=30)


def test_the_seed_request_schema_is_the_one_validated():
    req = seed_schemas()["SendSMSRequest"]
    assert req["required"] == ["message", "phoneNumber"]
    assert (req["properties"]["message"]["minLength"], req["properties"]["message"]["maxLength"]) == (2, 78)
    assert (req["properties"]["phoneNumber"]["minLength"], req["properties"]["phoneNumber"]["maxLength"]) == (5, 16)


def test_seed_examples_send_then_activity_then_history(local, emulator_env):
    from parley.domain import candidates

    phone = new_phone()
    opt_in(local, local.demo_key, phone)
    payload = conforms({"message": "Hi Ada, interview Tue 10:00?", "phoneNumber": phone}, "SendSMSRequest")

    # POST /communications/sms/v1/send
    out = send(local, local.demo_key, payload)
    assert out.status_code == 200, out.text
    sent = conforms(out.json(), "SendSMS")
    assert sent["status"] == "SUCCESS" and sent["data"]["message"] == payload["message"]
    sid = sent["data"]["messageSID"]

    delivered = local.wait_for(lambda: sms_to(local, phone), timeout=5)
    assert [m["message"] for m in delivered] == [payload["message"]]

    # GET /communications/sms/v1/activity
    def activity_sent():
        r = get_activity(local, local.demo_key, sid, phone)
        assert r.status_code == 200, r.text
        return r.json() if r.json()["status"] == "SENT" else None

    act = local.wait_for(activity_sent, timeout=5)
    assert act is not None, "activity never reached SENT"
    conforms(act, "SMSActivity")
    assert phone in act["data"]["message"] and "sns" in act["data"]["message"]

    # GET /communications/sms/v1/history (Authorization only, every parameter of the example)
    cand = candidates.find(emulator_env_tenant(local), phone=phone)
    assert cand is not None
    res = get_history(local, local.demo_key, phone=phone, candidateId=cand.id)
    assert res.status_code == 200, res.text
    page = conforms(res.json(), "SMSHistory")
    assert page["status"] == 200 and page["pagination"]["totalElements"] == 1
    (item,) = page["data"]
    assert (item["recipient"], item["messageBody"], item["messageType"]) == (phone, payload["message"], "outbound")
    assert item["recruiterId"] == "recruiter-7" and item["candidateId"] == cand.id
    assert datetime.fromisoformat(item["timeStamp"].replace("Z", "+00:00")) <= datetime.now(UTC)
    # the example without the optional filters returns it too
    all_page = conforms(get_history(local, local.demo_key, limit=1000).json(), "SMSHistory")
    assert sid and any(d["recipient"] == phone for d in all_page["data"])


def emulator_env_tenant(local) -> str:
    """The demo tenant's id, from the emulator (the API key resolves to it)."""
    from parley.domain.auth import authenticate

    caller = authenticate(f"Bearer {local.demo_key}")
    assert caller is not None
    return caller.tenant_id


def test_idempotent_retry_sends_one_sms(local):
    phone = new_phone()
    opt_in(local, local.demo_key, phone)
    key = f"sms-{uuid.uuid4()}"
    payload = {"message": "Only once please", "phoneNumber": phone}
    first = send(local, local.demo_key, payload, **{"Idempotency-Key": key})
    second = send(local, local.demo_key, payload, **{"Idempotency-Key": key})
    assert first.status_code == second.status_code == 200 and first.json() == second.json()
    assert local.wait_for(lambda: sms_to(local, phone), timeout=5)
    local.wait_for(lambda: len(sms_to(local, phone)) > 1, timeout=2)
    assert len(sms_to(local, phone)) == 1


def _quiet_zone_now() -> str:
    """A fixed-offset zone in which it is 03:00-03:59 right now (inside quiet hours)."""
    off = (3 - datetime.now(UTC).hour) % 24
    off = off - 24 if off > 14 else off
    return "Etc/GMT" if off == 0 else f"Etc/GMT{'-' if off > 0 else '+'}{abs(off)}"  # POSIX signs are inverted


def test_quiet_hours_hold_the_sms_and_the_activity_says_so(local):
    tenant = local.new_tenant("Quiet Co")
    zone = _quiet_zone_now()
    r = requests.post(local.api + "/_local/tenant-settings",
                      json={"tenantId": tenant["tenantId"], "settings": {"quiet_hours": True, "timezone": zone}}, timeout=10)  # fmt: skip
    assert r.status_code == 200, r.text
    phone = new_phone()
    opt_in(local, tenant["apiKey"], phone)
    out = send(local, tenant["apiKey"], {"message": "Late-night note", "phoneNumber": phone})
    assert out.status_code == 200, out.text
    conforms(out.json(), "SendSMS")
    assert out.json()["data"]["message"] == "Late-night note"
    act = get_activity(local, tenant["apiKey"], out.json()["data"]["messageSID"], phone)
    assert act.status_code == 200, act.text
    conforms(act.json(), "SMSActivity")
    assert act.json()["status"] == "SCHEDULED"
    assert "quiet hours" in act.json()["data"]["message"] and f"08:00 {zone}" in act.json()["data"]["message"]
    local.wait_for(lambda: sms_to(local, phone), timeout=2)
    assert sms_to(local, phone) == []


def test_foreign_or_unknown_activity_is_404(local):
    phone = new_phone()
    opt_in(local, local.demo_key, phone)
    sid = send(local, local.demo_key, {"message": "Private", "phoneNumber": phone}).json()["data"]["messageSID"]
    other = local.new_tenant("Nosy Co")
    for key, activity_id, number in ((other["apiKey"], sid, phone), (local.demo_key, "nope", phone), (local.demo_key, sid, new_phone())):
        r = get_activity(local, key, activity_id, number)
        assert r.status_code == 404, r.text
        assert set(r.json()) == {"status", "message"} and r.json()["status"] == 404
    foreign = get_history(local, other["apiKey"], phone=phone)
    assert foreign.status_code == 200 and foreign.json()["data"] == []


BAD_SENDS = {
    "missing message": lambda p: {"phoneNumber": p},
    "missing phoneNumber": lambda p: {"message": "Hello there"},
    "message too short": lambda p: {"message": "x", "phoneNumber": p},
    "message too long": lambda p: {"message": "x" * 79, "phoneNumber": p},
    "phone too short": lambda p: {"message": "Hello", "phoneNumber": "+123"},
    "phone too long": lambda p: {"message": "Hello", "phoneNumber": p + "12345678"},
    "empty body": lambda p: {},
}


@pytest.mark.parametrize("case", list(BAD_SENDS))
def test_bad_send_is_400_and_sends_nothing(local, case):
    phone = new_phone()
    opt_in(local, local.demo_key, phone)
    r = send(local, local.demo_key, BAD_SENDS[case](phone))
    assert r.status_code == 400, r.text
    conforms(r.json(), "BadRequest")
    assert r.json()["status"] == 400
    assert get_history(local, local.demo_key, phone=phone).json()["pagination"]["totalElements"] == 0
    assert sms_to(local, phone) == []


def test_send_to_a_number_not_opted_in_is_400_and_stores_nothing(local):
    phone = new_phone()
    r = send(local, local.demo_key, {"message": "Hello there", "phoneNumber": phone})
    assert r.status_code == 400, r.text
    conforms(r.json(), "BadRequest")
    assert "not opted in" in r.json()["message"]
    no_user = requests.post(
        local.api + SEND, json={"message": "Hello", "phoneNumber": phone}, headers=auth(local.demo_key, None), timeout=30
    )
    assert no_user.status_code == 400 and "x-ph-userid" in no_user.json()["message"]
    local.wait_for(lambda: sms_to(local, phone), timeout=1.5)
    assert sms_to(local, phone) == []
    assert get_history(local, local.demo_key, phone=phone).json()["pagination"]["totalElements"] == 0


@pytest.mark.parametrize(
    "params",
    [
        {"fromTime": None},
        {"toTime": None},
        {"limit": None},
        {"offset": None},
        {"fromTime": "not-a-time"},
        {"fromTime": "2030-01-02T00:00:00Z", "toTime": "2030-01-01T00:00:00Z"},
        {"offset": -1},
        {"limit": 0},
        {"limit": 1001},
    ],
    ids=lambda p: ",".join(f"{k}={v}" for k, v in p.items()),
)
def test_bad_history_query_is_400(local, params):
    query = {k: v for k, v in {**WIDE, **params}.items() if v is not None}
    r = requests.get(local.api + HISTORY, params=query, headers=auth(local.demo_key, None), timeout=30)
    assert r.status_code == 400, r.text
    conforms(r.json(), "BadRequest")


def test_bad_activity_query_is_400(local):
    for params in ({"phoneNumber": new_phone()}, {"activityId": "x"}, {"activityId": "x", "phoneNumber": "abc"}):
        r = requests.get(local.api + ACTIVITY, params=params, headers=auth(local.demo_key), timeout=30)
        assert r.status_code == 400, r.text
        conforms(r.json(), "BadRequest")
    r = get_activity(local, local.demo_key, "x", new_phone(), user=None)
    assert r.status_code == 400 and "x-ph-userid" in r.json()["message"]
