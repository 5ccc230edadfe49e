"""The ATS API (seed 002) over HTTP against the local stack: its own REST API behind the same authorizer."""

from __future__ import annotations

import uuid

import requests

FIELDS = "author,replied,mail,attachments,candidate"
BASE = {"id", "created_by", "created_at", "auto", "delivered", "deliver_at"}


def ats(local, key, company, applicant, fields=FIELDS):
    url = f"{local.api}/company/{company}/applicant/{applicant}/messages"
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}  # the seed's curl
    return requests.get(url, params={"fields": fields} if fields is not None else None, headers=headers, timeout=30)


def test_email_sent_through_the_candidate_api_is_in_the_applicants_messages(local):
    tenant = local.new_tenant("ats-company")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    requests.post(
        local.api + "/_local/users", json={"tenantId": tid, "userId": "recruiter-7", "firstname": "Grace", "lastname": "Hopper"}, timeout=10
    )
    to = f"ats-{uuid.uuid4().hex[:8]}@example.com"
    sent = requests.post(
        local.api + "/communications/email/v1/send",
        json={"toEmail": to, "subject": "Phone interview proposal", "emailContent": "<p>Hello Alexandre,</p><p>Are you available?</p>"},
        headers={"Authorization": f"Bearer {key}", "x-ph-userid": "recruiter-7"},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    activity_id = sent.json()["data"]["emailActivityId"]
    assert local.wait_for(lambda: [m for m in local.outbox()["email"] if to in (m["destinations"] or {}).get("ToAddresses", [])], timeout=5)

    hist = requests.get(
        local.api + "/communications/email/v1/history",
        params={"fromTime": "2000-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": 10, "offset": 0, "email": to},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    ).json()
    (row,) = hist["data"]
    applicant = row["candidateId"]

    def listed():
        out = ats(local, key, tid, applicant)
        assert out.status_code == 200, out.text
        msgs = out.json()
        return msgs if msgs and msgs[0]["delivered"] else None

    msgs = local.wait_for(listed, timeout=5)
    assert isinstance(msgs, list)
    (m,) = msgs
    # the seed's example, field by field
    assert set(m) == BASE | {"mail", "author", "candidate", "attachments", "replied"}
    assert isinstance(m["id"], str) and m["id"] == activity_id
    assert type(m["created_by"]) is int
    assert m["created_at"].endswith("Z") and m["deliver_at"].endswith("Z")
    assert m["auto"] is False and m["delivered"] is True
    assert set(m["mail"]) == {"subject", "text", "html", "status"}
    assert m["mail"]["subject"] == "Phone interview proposal"
    assert m["mail"]["html"] == "<p>Hello Alexandre,</p><p>Are you available?</p>"
    assert "Hello Alexandre," in m["mail"]["text"] and "<p>" not in m["mail"]["text"]
    assert m["author"] == {"firstname": "Grace", "lastname": "Hopper"}
    assert m["candidate"] == {"firstname": "", "lastname": "", "email": to}
    assert m["attachments"] == [] and m["replied"] is False

    (plain,) = ats(local, key, tid, applicant, fields=None).json()
    assert set(plain) == BASE and plain["created_by"] == m["created_by"]


def test_errors_in_the_ats_shape(local):
    a, b = local.new_tenant("ats-a"), local.new_tenant("ats-b")
    cand = requests.post(local.api + "/_local/candidates", json={"tenantId": a["tenantId"], "email": "x@example.com"}, timeout=10).json()
    ok = ats(local, a["apiKey"], a["tenantId"], cand["id"])
    assert ok.status_code == 200 and ok.json() == []
    cases = [
        (ats(local, a["apiKey"], a["tenantId"], cand["id"], fields="mail,salary"), 400),
        (ats(local, b["apiKey"], a["tenantId"], cand["id"]), 404),  # another tenant's company
        (ats(local, b["apiKey"], b["tenantId"], cand["id"]), 404),  # another tenant's applicant
        (ats(local, a["apiKey"], a["tenantId"], "no-such-applicant"), 404),
        (ats(local, "prl_nope", a["tenantId"], cand["id"]), 401),
    ]
    for out, status in cases:
        assert out.status_code == status, out.text
        assert set(out.json()) == {"status", "message"} and out.json()["status"] == status
    no_key = requests.get(f"{local.api}/company/{a['tenantId']}/applicant/{cand['id']}/messages", timeout=30)
    assert no_key.status_code == 401 and no_key.json() == {"status": 401, "message": "missing or invalid API key"}
