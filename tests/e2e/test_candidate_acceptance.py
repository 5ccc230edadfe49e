"""Issue 3's cross-API acceptance over HTTP against the local stack.

- A reply posted to /reply for a sent email appears in that candidate's history and ATS messages,
  threaded to the original (same conversation; the original shows replied=true).
- A candidate's email (/email/v1/send) and SMS (/sms/v1/send) both show in the right history
  endpoints, filed under one candidate, with recruiterId from x-ph-userid.
"""

from __future__ import annotations

import json
import uuid
from email.message import EmailMessage

import requests

WINDOW = {"fromTime": "2000-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": 50, "offset": 0}


def auth(key: str, user: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **({"x-ph-userid": user} if user else {})}


def test_a_reply_shows_in_the_candidates_history_and_ats_messages_threaded_to_the_original(local, emulator_env):
    from parley.dal import messages

    tenant = local.new_tenant("acceptance-reply")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    cand = f"acc-{uuid.uuid4().hex[:8]}@example.com"
    sent = requests.post(
        local.api + "/communications/email/v1/send",
        json={"toEmail": cand, "subject": "Phone interview proposal", "emailContent": "Are you free on Tuesday?"},
        headers=auth(key, "recruiter-3"),
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    activity_id = sent.json()["data"]["emailActivityId"]

    def ses_id():
        got = [m for m in local.outbox()["email"] if cand in ((m["destinations"] or {}).get("ToAddresses") or [])]
        return got[0]["id"] if got else None

    ses_message_id = local.wait_for(ses_id, timeout=10)
    assert ses_message_id
    assert local.wait_for(lambda: messages.get(tid, activity_id).status == "SENT", timeout=10)
    original = messages.get(tid, activity_id)

    # the candidate answers from their mail client: In-Reply-To is the Message-ID SES gave the email
    mime = EmailMessage()
    mime["From"] = f"Ada <{cand}>"
    mime["To"] = "Acme Talent <no-reply@parley.example>"
    mime["Subject"] = "Re: Phone interview proposal"
    mime["Message-ID"] = f"<{uuid.uuid4()}@mail.example.com>"
    mime["In-Reply-To"] = f"<{ses_message_id}@email.amazonses.com>"
    mime.set_content("Yes, Tuesday works.")
    fields = {
        "email": mime.as_bytes(),
        "to": "Acme Talent <no-reply@parley.example>",
        "from": f"Ada <{cand}>",
        "envelope": json.dumps({"to": ["no-reply@parley.example"], "from": cand}),
        "subject": "Re: Phone interview proposal",
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
        "spf": "pass",
    }
    res = requests.post(
        local.api + "/communications/email/v1/reply", files=[(k, (None, v)) for k, v in fields.items()], headers=auth(key), timeout=30
    )
    assert res.status_code == 200, res.text
    sid = res.json()["data"]["MessageSid"]
    reply = local.wait_for(lambda: messages.get(tid, sid), timeout=15)  # stored by InboundMailFunction, from the queue
    assert reply.conversation_id == original.conversation_id and reply.candidate_id == original.candidate_id

    # candidate history (by candidateId): the original outbound and the inbound reply, oldest first
    hist = requests.get(
        local.api + "/communications/email/v1/history",
        params={**WINDOW, "candidateId": original.candidate_id},
        headers=auth(key),
        timeout=30,
    )
    assert hist.status_code == 200, hist.text
    rows = hist.json()["data"]
    assert [(r["messageType"], r["subject"]) for r in rows] == [
        ("outbound", "Phone interview proposal"),
        ("inbound", "Re: Phone interview proposal"),
    ]
    assert rows[0]["recruiterId"] == "recruiter-3" and rows[1]["recruiterId"] == "recruiter-3"  # the reply inherits the thread's recruiter
    assert {r["candidateId"] for r in rows} == {original.candidate_id}

    # ATS messages of that applicant: both, and the original is marked replied
    ats = requests.get(
        f"{local.api}/company/{tid}/applicant/{original.candidate_id}/messages",
        params={"fields": "replied,mail"},
        headers=auth(key),
        timeout=30,
    )
    assert ats.status_code == 200, ats.text
    by_id = {m["id"]: m for m in ats.json()}
    assert set(by_id) == {activity_id, sid}
    assert by_id[activity_id]["replied"] is True
    assert by_id[sid]["mail"]["subject"] == "Re: Phone interview proposal"
    assert "Tuesday works" in by_id[sid]["mail"]["text"]


def test_email_and_sms_of_one_candidate_show_in_their_histories_with_the_recruiter(local):
    tenant = local.new_tenant("acceptance-channels")
    key, tid = tenant["apiKey"], tenant["tenantId"]
    email, phone = f"both-{uuid.uuid4().hex[:8]}@example.com", "+1555555" + f"{uuid.uuid4().int % 10000:04d}"
    cand = requests.post(local.api + "/_local/candidates", json={"tenantId": tid, "email": email, "phone": phone}, timeout=10)
    assert cand.status_code in (200, 201), cand.text
    candidate_id = cand.json()["id"]
    opt = requests.put(
        local.api + "/communications/sms/v1/optIn", json={"phoneNumber": phone, "optIn": True}, headers=auth(key, "r-5"), timeout=30
    )
    assert opt.status_code == 200, opt.text

    e = requests.post(
        local.api + "/communications/email/v1/send",
        json={"toEmail": email, "subject": "Your application", "emailContent": "Thanks for applying."},
        headers=auth(key, "r-5"),
        timeout=30,
    )
    s = requests.post(
        local.api + "/communications/sms/v1/send",
        json={"message": "Thanks for applying!", "phoneNumber": phone},
        headers=auth(key, "r-6"),
        timeout=30,
    )
    assert e.status_code == 200 and s.status_code == 200, (e.text, s.text)

    email_rows = requests.get(
        local.api + "/communications/email/v1/history", params={**WINDOW, "candidateId": candidate_id}, headers=auth(key), timeout=30
    ).json()["data"]
    sms_rows = requests.get(
        local.api + "/communications/sms/v1/history", params={**WINDOW, "candidateId": candidate_id}, headers=auth(key), timeout=30
    ).json()["data"]
    assert [(r["recipient"], r["recruiterId"], r["candidateId"]) for r in email_rows] == [(email, "r-5", candidate_id)]
    assert [(r["recipient"], r["messageBody"], r["recruiterId"], r["candidateId"]) for r in sms_rows] == [
        (phone, "Thanks for applying!", "r-6", candidate_id)
    ]
    # each channel's history holds only its own channel
    assert (
        requests.get(local.api + "/communications/sms/v1/history", params={**WINDOW, "phone": phone}, headers=auth(key), timeout=30).json()[
            "pagination"
        ]["totalElements"]
        == 1
    )
