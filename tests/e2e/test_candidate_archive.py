"""Forward-profile (+ activity) and the transactional archive over HTTP against the local stack: the seed's
request examples, responses checked against the seed's schemas, bad input → 400 with nothing stored."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import requests

FORWARD = "/communications/email/v1/forward-profile"
ACTIVITY = "/communications/email/v1/forward-profile/activity"
TX_EMAIL = "/communications/email/v1/transactional/email"
TX_SMS = "/communications/sms/v1/transactional/sms"
PAGINATION_9 = {"first", "last", "hasPrevious", "hasNext", "totalElements", "totalPages", "size", "currentPage", "numberOfElements"}
PAGINATION_10 = PAGINATION_9 | {"hasErrors"}
ACTIVITY_ITEM = {"createdDate", "toName", "subject", "fromName", "toEmail", "fromEmail", "source", "emailActivityId"}
BOOLS = ("first", "last", "hasPrevious", "hasNext")
INTS = ("totalElements", "totalPages", "size", "currentPage", "numberOfElements")


def seed_headers(key: str, **extra: str) -> dict[str, str]:
    """The seed's curl: Content-type, Accept, Authorization, x-ph-userid."""
    return {
        "Content-type": "application/json",
        "Accept": "application/json",
        "Authorization": f"Bearer {key}",
        "x-ph-userid": "string",
        **extra,
    }


def check_pagination(p: dict, keys: set[str]) -> None:
    assert set(p) == keys
    assert all(isinstance(p[k], bool) for k in BOOLS) and all(type(p[k]) is int for k in INTS)
    if "hasErrors" in keys:
        assert p["hasErrors"] is False


def new_candidate(local, tenant_id: str, **profile) -> dict:
    email = profile.pop("email", f"cand-{uuid.uuid4().hex[:8]}@example.com")
    out = requests.post(local.api + "/_local/candidates", json={"tenantId": tenant_id, "email": email, **profile}, timeout=10)
    assert out.status_code == 200, out.text
    return out.json()


def activity(local, key, email, **params):
    return requests.get(local.api + ACTIVITY, params={"email": email, **params}, headers=seed_headers(key), timeout=30)


def mail_to(local, address):
    return [m for m in local.outbox()["email"] if address in (m["destinations"] or {}).get("ToAddresses", [])]


def test_forward_profile_seed_example_sends_the_profile_and_records_activity(local):
    tenant = local.new_tenant("forwarders")
    key = tenant["apiKey"]
    user = requests.post(
        local.api + "/_local/users",
        json={"tenantId": tenant["tenantId"], "userId": "string", "firstname": "Grace", "lastname": "Hopper"},
        timeout=10,
    )
    assert user.status_code == 200 and isinstance(user.json()["numericId"], int)
    cand = new_candidate(local, tenant["tenantId"], firstname="Ada", lastname="<b>Lovelace</b>", headline="Engineer", location="London")
    to = f"manager-{uuid.uuid4().hex[:6]}@example.com"

    out = requests.post(
        local.api + FORWARD,
        json={"subject": "string", "toEmail": to, "candidateEmail": cand["email"]},
        headers=seed_headers(key),
        timeout=30,
    )
    assert out.status_code == 200, out.text
    res = out.json()
    assert set(res) == {"data", "status"} and res["status"] == 200
    assert set(res["data"]) == {"emailActivityId", "message"} and all(isinstance(v, str) for v in res["data"].values())
    activity_id = res["data"]["emailActivityId"]

    (mail,) = local.wait_for(lambda: mail_to(local, to), timeout=5)
    assert mail["subject"] == "string"
    assert "&lt;b&gt;Lovelace&lt;/b&gt;" in mail["body"] and "Grace Hopper" in mail["body"] and "London" in mail["body"]

    act = activity(local, key, cand["email"], offset=0, limit=10, communicationId=activity_id)
    assert act.status_code == 200, act.text
    body = act.json()
    assert set(body) == {"pagination", "data", "status"} and body["status"] == 200
    check_pagination(body["pagination"], PAGINATION_9)
    (item,) = body["data"]
    assert set(item) == ACTIVITY_ITEM
    assert type(item["createdDate"]) is int and all(isinstance(item[k], str) for k in ACTIVITY_ITEM - {"createdDate"})
    assert (item["emailActivityId"], item["toEmail"], item["subject"], item["source"]) == (activity_id, to, "string", "forward-profile")
    # the seed's activity example has only email (required); offset/limit default to 0/10
    plain = activity(local, key, cand["email"]).json()
    assert plain["pagination"]["size"] == 10 and plain["pagination"]["currentPage"] == 0 and len(plain["data"]) == 1

    # the forward is about the candidate, not to them: not in the archive of candidates communicated with
    now = datetime.now(UTC)
    window = {"fromTime": (now - timedelta(minutes=10)).isoformat(), "toTime": (now + timedelta(minutes=10)).isoformat()}
    tx = requests.get(local.api + TX_EMAIL, params=window, headers={"Authorization": f"Bearer {key}"}, timeout=30).json()
    assert cand["id"] not in [d["candidateId"] for d in tx["data"]]


def test_forward_bad_input_is_400_and_nothing_is_stored(local):
    tenant = local.new_tenant("forward-bad")
    key = tenant["apiKey"]
    cand = new_candidate(local, tenant["tenantId"])
    to = f"nobody-{uuid.uuid4().hex[:6]}@example.com"
    good = {"subject": "Have a look", "toEmail": to, "candidateEmail": cand["email"]}
    bad = [
        {k: v for k, v in good.items() if k != "subject"},
        {k: v for k, v in good.items() if k != "toEmail"},
        {k: v for k, v in good.items() if k != "candidateEmail"},
        {**good, "subject": "ab"},
        {**good, "subject": "x" * 79},
        {**good, "toEmail": "not an email"},
        {**good, "candidateEmail": "unknown-" + cand["email"]},
    ]
    for payload in bad:
        out = requests.post(local.api + FORWARD, json=payload, headers=seed_headers(key), timeout=30)
        assert out.status_code == 400, (payload, out.text)
        assert set(out.json()) == {"status", "message"} and out.json()["status"] == 400
    no_user = requests.post(local.api + FORWARD, json=good, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert no_user.status_code == 400
    assert activity(local, key, cand["email"]).json()["pagination"]["totalElements"] == 0
    local.wait_for(lambda: mail_to(local, to), timeout=1.5)
    assert mail_to(local, to) == []
    for params in ({"offset": -1}, {"limit": 0}, {"limit": "ten"}):
        out = activity(local, key, cand["email"], **params)
        assert out.status_code == 400 and out.json()["status"] == 400
    missing = requests.get(local.api + ACTIVITY, headers=seed_headers(key), timeout=30)
    assert missing.status_code == 400


def test_activity_of_another_tenants_candidate_is_invisible(local):
    a, b = local.new_tenant("a"), local.new_tenant("b")
    cand = new_candidate(local, a["tenantId"])
    ok = requests.post(
        local.api + FORWARD,
        json={"subject": "Look", "toEmail": "m@example.com", "candidateEmail": cand["email"]},
        headers=seed_headers(a["apiKey"]),
        timeout=30,
    )
    assert ok.status_code == 200
    assert activity(local, b["apiKey"], cand["email"]).json()["data"] == []
    out = requests.post(
        local.api + FORWARD,
        json={"subject": "Look", "toEmail": "m@example.com", "candidateEmail": cand["email"]},
        headers=seed_headers(b["apiKey"]),
        timeout=30,
    )
    assert out.status_code == 400


def test_transactional_email_seed_example_lists_each_candidate_once(local):
    tenant = local.new_tenant("archivist")
    key = tenant["apiKey"]
    to = f"arch-{uuid.uuid4().hex[:8]}@example.com"
    send = {"toEmail": to, "subject": "Interview", "emailContent": "Hello"}
    for _ in range(2):
        r = requests.post(local.api + "/communications/email/v1/send", json=send, headers=seed_headers(key), timeout=30)
        assert r.status_code == 200, r.text
    now = datetime.now(UTC)
    params = {
        "fromTime": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "toTime": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "pageLimit": 10,
        "offset": 0,
    }
    auth = {"Content-type": "application/json", "Accept": "application/json", "Authorization": f"Bearer {key}"}  # the seed's curl
    out = requests.get(local.api + TX_EMAIL, params=params, headers=auth, timeout=30)
    assert out.status_code == 200, out.text
    body = out.json()
    assert set(body) == {"pagination", "data", "status"} and body["status"] == 200
    check_pagination(body["pagination"], PAGINATION_10)
    (row,) = body["data"]
    assert set(row) == {"candidateId", "candidateEmail"} and row["candidateEmail"] == to
    # the same candidate id the history files the mail under
    hist = requests.get(local.api + "/communications/email/v1/history", params={**params, "limit": 10}, headers=auth, timeout=30).json()
    assert {d["candidateId"] for d in hist["data"]} == {row["candidateId"]}
    # without the optional paging parameters: defaults 10/0
    assert (
        requests.get(local.api + TX_EMAIL, params={k: params[k] for k in ("fromTime", "toTime")}, headers=auth, timeout=30).json()[
            "pagination"
        ]["size"]
        == 10
    )
    other = local.new_tenant("other")
    assert (
        requests.get(local.api + TX_EMAIL, params=params, headers={"Authorization": f"Bearer {other['apiKey']}"}, timeout=30).json()["data"]
        == []
    )


def test_transactional_sms_seed_example_shape(local, emulator_env):
    from parley.dal import messages
    from parley.domain.ids import new_id
    from parley.models.domain import Message, MessageStatus

    tenant = local.new_tenant("sms-archivist")
    cand = new_candidate(local, tenant["tenantId"], phone="+15555550123")
    now = datetime.now(UTC)
    messages.create(  # an inbound SMS filed under the candidate, as the inbound webhook stores one
        Message(
            tenant_id=tenant["tenantId"],
            id=new_id(),
            channel="sms",
            direction="inbound",
            status=MessageStatus.RECEIVED,
            source_api="candidate",
            sender="+15555550123",
            recipient="+15555550000",
            body="yes",
            candidate_id=cand["id"],
            conversation_id=new_id(),
            provider="sns",
            created_at=now,
        )
    )
    params = {
        "fromTime": str(int((now - timedelta(minutes=5)).timestamp() * 1000)),
        "toTime": str(int((now + timedelta(minutes=5)).timestamp() * 1000)),
    }
    out = requests.get(
        local.api + TX_SMS,
        params={**params, "pageLimit": 10, "offset": 0},
        headers={"Authorization": f"Bearer {tenant['apiKey']}"},
        timeout=30,
    )
    assert out.status_code == 200, out.text
    body = out.json()
    assert set(body) == {"pagination", "data", "status"} and body["status"] == 200
    check_pagination(body["pagination"], PAGINATION_10)
    assert body["data"] == [{"candidateId": cand["id"], "candidatePhone": "+15555550123"}]


def test_transactional_bad_windows_and_paging_are_400(local):
    auth = {"Authorization": f"Bearer {local.demo_key}"}
    ok = {"fromTime": "2026-11-01T00:00:00Z", "toTime": "2026-11-30T00:00:00Z"}
    bad = [
        {"toTime": ok["toTime"]},
        {"fromTime": ok["fromTime"]},
        {**ok, "fromTime": "not-a-time"},
        {"fromTime": ok["toTime"], "toTime": ok["fromTime"]},
        {**ok, "offset": -1},
        {**ok, "pageLimit": -1},
        {**ok, "pageLimit": 0},
        {**ok, "pageLimit": "x"},
        {"fromTime": "2000-01-01T00:00:00Z", "toTime": "2026-01-01T00:00:00Z"},
    ]
    for path in (TX_EMAIL, TX_SMS):
        for params in bad:
            out = requests.get(local.api + path, params=params, headers=auth, timeout=30)
            assert out.status_code == 400, (path, params, out.text)
            assert set(out.json()) == {"status", "message"} and out.json()["status"] == 400
        assert requests.get(local.api + path, params=ok, timeout=30).status_code == 401
