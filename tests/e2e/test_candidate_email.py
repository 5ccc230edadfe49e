"""POST /communications/email/v1/send and GET /communications/email/v1/activity over HTTP."""

from __future__ import annotations

import uuid

import requests

SEND = "/communications/email/v1/send"
ACTIVITY = "/communications/email/v1/activity"


def headers(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "x-ph-userid": "recruiter-7", "Content-Type": "application/json", **extra}


def send(local, key, payload, **extra):
    return requests.post(local.api + SEND, json=payload, headers=headers(key, **extra), timeout=30)


def emails_to(local, address):
    return [m for m in local.outbox()["email"] if address in (m["destinations"] or {}).get("ToAddresses", [])]


def test_send_goes_out_within_5s_and_activity_shows_sent(local):
    to = f"cand-{uuid.uuid4().hex[:8]}@example.com"
    out = send(local, local.demo_key, {"toEmail": to, "subject": "Interview invite", "emailContent": "<p>Hi <b>Ada</b></p>"})
    assert out.status_code == 200, out.text
    body = out.json()
    assert body["status"] == 200
    assert set(body["data"]) == {"emailActivityId", "message"}
    activity_id = body["data"]["emailActivityId"]

    sent = local.wait_for(lambda: emails_to(local, to), timeout=5)
    assert len(sent) == 1
    assert sent[0]["subject"] == "Interview invite"
    assert "<b>Ada</b>" in sent[0]["body"]
    assert sent[0]["source"].endswith("<no-reply@parley.example>")

    def activity():
        r = requests.get(local.api + ACTIVITY, params={"emailActivityId": activity_id}, headers=headers(local.demo_key), timeout=30)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    events = local.wait_for(activity, timeout=5)
    assert [e["event"] for e in events] == ["sent"]
    (event,) = events
    assert set(event) == {"emailActivityId", "event", "email", "ip", "createdDate", "response"}
    assert event["emailActivityId"] == activity_id
    assert event["email"] == to
    assert isinstance(event["createdDate"], int) and event["createdDate"] > 1_700_000_000_000


def test_idempotency_key_retry_returns_same_id_and_sends_once(local):
    to = f"idem-{uuid.uuid4().hex[:8]}@example.com"
    key = f"retry-{uuid.uuid4()}"
    payload = {"toEmail": to, "subject": "Only once please", "emailContent": "plain text body"}
    first = send(local, local.demo_key, payload, **{"Idempotency-Key": key})
    second = send(local, local.demo_key, payload, **{"Idempotency-Key": key})
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert local.wait_for(lambda: emails_to(local, to), timeout=5)
    # give a would-be duplicate every chance to show up before counting
    local.wait_for(lambda: len(emails_to(local, to)) > 1, timeout=2)
    assert len(emails_to(local, to)) == 1

    changed = send(local, local.demo_key, {**payload, "subject": "A different one"}, **{"Idempotency-Key": key})
    assert changed.status_code == 422
    assert changed.json()["status"] == 422


def test_missing_or_invalid_key_is_401_in_candidate_shape(local):
    payload = {"toEmail": "a@example.com", "subject": "Hello", "emailContent": "body"}
    no_key = requests.post(local.api + SEND, json=payload, headers={"x-ph-userid": "r"}, timeout=30)
    bad_key = requests.post(local.api + SEND, json=payload, headers={"Authorization": "Bearer prl_nope", "x-ph-userid": "r"}, timeout=30)
    wrong_scheme = requests.post(
        local.api + SEND, json=payload, headers={"Authorization": f"Token {local.demo_key}", "x-ph-userid": "r"}, timeout=30
    )
    bare_bad = requests.post(local.api + SEND, json=payload, headers={"Authorization": "prl_nope", "x-ph-userid": "r"}, timeout=30)
    for r in (no_key, bad_key, wrong_scheme, bare_bad):
        assert r.status_code == 401
        assert r.json() == {"status": 401, "message": "missing or invalid API key"}
    # The seed shows `Authorization: string`: the bare key is the key (decision C8), as Bearer is.
    bare = requests.get(local.api + "/communications/sms/v1/optIn", params={"phoneNumber": "+15005550006"},
                        headers={"Authorization": local.demo_key, "x-ph-userid": "r"}, timeout=30)  # fmt: skip
    assert bare.status_code == 200, bare.text


def test_invalid_body_is_400_naming_the_field_and_sends_nothing(local):
    to = f"invalid-{uuid.uuid4().hex[:8]}@example.com"
    short_subject = send(local, local.demo_key, {"toEmail": to, "subject": "Hi", "emailContent": "body"})
    assert short_subject.status_code == 400
    assert short_subject.json()["status"] == 400
    assert "subject" in short_subject.json()["message"]

    bad_email = send(local, local.demo_key, {"toEmail": "not-an-email", "subject": "Hello", "emailContent": "body"})
    assert bad_email.status_code == 400
    assert "toEmail" in bad_email.json()["message"]

    injected = send(local, local.demo_key, {"toEmail": to, "subject": "Hello\r\nBcc: x@evil.example", "emailContent": "body"})
    assert injected.status_code == 400
    assert "subject" in injected.json()["message"]

    malformed = requests.post(local.api + SEND, data="{not json", headers=headers(local.demo_key), timeout=30)
    assert malformed.status_code == 400
    assert malformed.json()["status"] == 400

    local.wait_for(lambda: emails_to(local, to), timeout=1.5)
    assert emails_to(local, to) == []


def test_another_tenants_activity_id_is_not_found(local):
    other = local.new_tenant("Other Co")
    out = send(local, local.demo_key, {"toEmail": "x@example.com", "subject": "Private", "emailContent": "secret"})
    activity_id = out.json()["data"]["emailActivityId"]
    foreign = requests.get(local.api + ACTIVITY, params={"emailActivityId": activity_id}, headers=headers(other["apiKey"]), timeout=30)
    assert foreign.status_code == 404
    assert foreign.json()["status"] == 404
    own = requests.get(local.api + ACTIVITY, params={"emailActivityId": activity_id}, headers=headers(local.demo_key), timeout=30)
    assert own.status_code == 200


def test_sent_email_shows_in_history_with_the_recruiter(local):
    to = f"hist-{uuid.uuid4().hex[:8]}@example.com"
    out = send(local, local.demo_key, {"toEmail": to, "subject": "For the archive", "emailContent": "archived body"})
    assert out.status_code == 200
    params = {"email": to, "fromTime": "2020-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": 5, "offset": 0}
    auth = {"Authorization": f"Bearer {local.demo_key}"}  # history needs no x-ph-userid (seed)
    res = requests.get(local.api + "/communications/email/v1/history", params=params, headers=auth, timeout=30)
    assert res.status_code == 200, res.text
    page = res.json()
    assert page["status"] == 200
    assert page["pagination"]["totalElements"] == 1
    (item,) = page["data"]
    assert item["recipient"] == to
    assert item["subject"] == "For the archive"
    assert item["emailBody"] == "archived body"
    assert item["messageType"] == "outbound"
    assert item["recruiterId"] == "recruiter-7"

    other = local.new_tenant("Nosy Co")
    foreign = requests.get(
        local.api + "/communications/email/v1/history", params=params, headers={"Authorization": f"Bearer {other['apiKey']}"}, timeout=30
    )
    assert foreign.status_code == 200
    assert foreign.json()["data"] == []
