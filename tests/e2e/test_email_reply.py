"""POST /communications/email/v1/reply over HTTP against the local stack (SendGrid Inbound Parse shape)."""

from __future__ import annotations

import base64
import re
import time
import uuid
from email.message import EmailMessage

import requests

REPLY = "/communications/email/v1/reply"
SEND = "/communications/email/v1/send"
HISTORY = "/communications/email/v1/history"
ACTIVITY = "/communications/email/v1/activity"
REPLY_DOMAIN = "reply.parley.example"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def basic(key: str, user: str = "sendgrid") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{key}".encode()).decode()}


def raw_email(*, frm: str, to: str, subject: str, text: str, message_id: str | None = None, in_reply_to: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = frm
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or f"<{uuid.uuid4()}@mail.example.com>"
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content(text)
    return msg.as_bytes()


def seed_fields(*, to: str, frm: str, envelope_to: str, envelope_from: str, subject: str, email: bytes) -> list[tuple[str, tuple]]:
    """The seed's ReplyEmailRequest fields (its examples), as multipart/form-data parts."""
    import json

    fields = {
        "email": email,
        "to": to,
        "cc": "user <sample1@example.com>",
        "from": frm,
        "sender_ip": "192.168.1.1",
        "envelope": json.dumps({"to": [envelope_to], "from": envelope_from}),
        "subject": subject,
        "spf": "pass",
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
    }
    return [(k, (None, v)) for k, v in fields.items()]


def post_reply(local, headers, files):
    return requests.post(local.api + REPLY, files=files, headers=headers, timeout=30)


def message_sid(res) -> str:
    assert res.status_code == 200, res.text
    body = res.json()
    assert set(body) == {"status", "data"} and body["status"] == 200
    assert set(body["data"]) == {"MessageSid"}  # additionalProperties: false
    assert UUID.match(body["data"]["MessageSid"])
    return body["data"]["MessageSid"]


def history(local, key, email):
    params = {"fromTime": "2000-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": 50, "offset": 0, "email": email}
    res = requests.get(local.api + HISTORY, params=params, headers=bearer(key), timeout=30)
    assert res.status_code == 200, res.text
    return res.json()["data"]


def test_seed_request_example_is_stored_and_shows_in_history_as_inbound(local):
    sender = f"sender-{uuid.uuid4().hex[:8]}@example.com"
    email = raw_email(frm=f"senderName <{sender}>", to="User Name <reply@sub.domain.com>", subject="Hello", text="Sample reply")
    files = seed_fields(
        to="User Name <reply@sub.domain.com>",
        frm=f"senderName <{sender}>",
        envelope_to="reply@sub.domain.com",
        envelope_from="sender@domain.com",
        subject="Hello",
        email=email,
    )
    sid = message_sid(post_reply(local, bearer(local.demo_key), files))
    rows = local.wait_for(lambda: history(local, local.demo_key, sender), timeout=15)  # stored from the inbound queue
    assert len(rows) == 1
    row = rows[0]
    assert row["messageType"] == "inbound"
    assert (row["sender"], row["recipient"], row["subject"]) == (sender, "reply@sub.domain.com", "Hello")
    assert row["emailBody"].strip() == "Sample reply"
    assert row["candidateId"]
    # SendGrid retries: the same post again is the same message
    assert message_sid(post_reply(local, bearer(local.demo_key), files)) == sid
    assert len(history(local, local.demo_key, sender)) == 1


def test_reply_to_a_sent_email_threads_by_in_reply_to_and_by_reply_token(local, emulator_env):
    from parley.dal import messages

    tenant = local.new_tenant("reply-e2e")
    # configure the reply domain before the key is first used (the authorizer caches the tenant's settings)
    out = requests.post(
        f"{local.api}/_local/tenant-settings", json={"tenantId": tenant["tenantId"], "settings": {"reply_domain": REPLY_DOMAIN}}, timeout=10
    )
    assert out.status_code == 200, out.text
    key = tenant["apiKey"]
    cand = f"cand-{uuid.uuid4().hex[:8]}@example.com"
    sent = requests.post(
        local.api + SEND,
        json={"toEmail": cand, "subject": "Interview on Tuesday", "emailContent": "See you at 10:00."},
        headers={**bearer(key), "x-ph-userid": "recruiter-9"},
        timeout=30,
    )
    assert sent.status_code == 200, sent.text
    activity_id = sent.json()["data"]["emailActivityId"]

    def ses_id():
        got = [m for m in local.outbox()["email"] if cand in ((m["destinations"] or {}).get("ToAddresses") or [])]
        return got[0]["id"] if got else None

    ses_message_id = local.wait_for(ses_id, timeout=10)
    assert ses_message_id

    def sent_event():
        params = {"emailActivityId": activity_id}
        r = requests.get(local.api + ACTIVITY, params=params, headers={**bearer(key), "x-ph-userid": "recruiter-9"}, timeout=30)
        assert r.status_code == 200, r.text
        return [e for e in r.json().get("data", []) if e["event"] == "sent"]

    assert local.wait_for(sent_event, timeout=10)
    outbound = messages.get(tenant["tenantId"], activity_id)
    assert outbound.reply_to == f"reply+{outbound.conversation_id}@{REPLY_DOMAIN}"

    # 1. In-Reply-To = SES's Message-ID, sent to an address without a token
    in_reply_to = f"<{ses_message_id}@email.amazonses.com>"
    email1 = raw_email(
        frm=f"Cand <{cand}>", to="jobs@acme.example", subject="Re: Interview on Tuesday", text="Yes.", in_reply_to=in_reply_to
    )
    files1 = seed_fields(
        to="jobs@acme.example", frm=f"Cand <{cand}>", envelope_to="jobs@acme.example", envelope_from=cand,
        subject="Re: Interview on Tuesday", email=email1,
    )  # fmt: skip
    sid1 = message_sid(post_reply(local, basic(key), files1))

    # 2. by the Reply-To token alone
    token_addr = outbound.reply_to
    email2 = raw_email(frm=f"Cand <{cand}>", to=token_addr, subject="Re: Interview on Tuesday", text="See you then.")
    files2 = seed_fields(
        to=f"Acme <{token_addr}>", frm=f"Cand <{cand}>", envelope_to=token_addr, envelope_from=cand,
        subject="Re: Interview on Tuesday", email=email2,
    )  # fmt: skip
    sid2 = message_sid(post_reply(local, bearer(key), files2))

    for sid in (sid1, sid2):
        stored = local.wait_for(lambda sid=sid: messages.get(tenant["tenantId"], sid), timeout=15)
        assert stored.direction == "inbound" and stored.kind == "reply" and stored.provider == "sendgrid-inbound"
        assert stored.conversation_id == outbound.conversation_id
        assert stored.candidate_id == outbound.candidate_id
        assert stored.recruiter_id == "recruiter-9"
    assert messages.get(tenant["tenantId"], sid1).in_reply_to == in_reply_to

    rows = history(local, key, cand)
    assert [r["messageType"] for r in rows] == ["outbound", "inbound", "inbound"]
    assert {r["candidateId"] for r in rows} == {outbound.candidate_id}
    assert [r["recipient"] for r in rows[1:]] == ["jobs@acme.example", token_addr]
    assert all(r["recruiterId"] == "recruiter-9" for r in rows)


def test_bad_input_is_400_and_stores_nothing(local):
    sender = f"bad-{uuid.uuid4().hex[:8]}@example.com"
    email = raw_email(frm=sender, to="reply@sub.domain.com", subject="Hi", text="x")
    good = seed_fields(
        to="reply@sub.domain.com", frm=sender, envelope_to="reply@sub.domain.com", envelope_from=sender, subject="Hi", email=email
    )
    without_envelope = [f for f in good if f[0] != "envelope"]
    bad_envelope = [(k, (None, "{not json")) if k == "envelope" else (k, v) for k, v in good]
    cases = [
        (post_reply(local, bearer(local.demo_key), without_envelope), "missing required field(s): envelope"),
        (post_reply(local, bearer(local.demo_key), bad_envelope), "envelope is not valid JSON"),
        (
            requests.post(local.api + REPLY, data="to=x", headers={**bearer(local.demo_key), "Content-Type": "text/plain"}, timeout=30),
            "Content-Type must be multipart/form-data",
        ),
        (
            requests.post(
                local.api + REPLY,
                data=b"--nope\r\n",
                headers={**bearer(local.demo_key), "Content-Type": "multipart/form-data; boundary=other"},
                timeout=30,
            ),
            "multipart/form-data",
        ),
    ]
    for res, message in cases:
        assert res.status_code == 400, res.text
        body = res.json()
        assert set(body) == {"status", "message"} and body["status"] == 400
        assert message in body["message"]
    assert history(local, local.demo_key, sender) == []


def test_basic_auth_key_works_and_a_bad_key_is_401(local):
    sender = f"auth-{uuid.uuid4().hex[:8]}@example.com"
    email = raw_email(frm=sender, to="reply@sub.domain.com", subject="Hi", text="x")
    files = seed_fields(
        to="reply@sub.domain.com", frm=sender, envelope_to="reply@sub.domain.com", envelope_from=sender, subject="Hi", email=email
    )
    message_sid(post_reply(local, basic(local.demo_key), files))
    assert local.wait_for(lambda: history(local, local.demo_key, sender), timeout=15)
    for headers in (basic("prl_wrong"), basic(local.demo_key + "x"), bearer("prl_wrong"), {}):
        res = post_reply(local, headers, files)
        assert res.status_code == 401, res.text
        assert res.json() == {"status": 401, "message": "missing or invalid API key"}
    assert len(history(local, local.demo_key, sender)) == 1


# ── SES receiving and the asynchronous webhook (issue 11) ──


def _send_and_wait(local, key, to, subject="Interview on Thursday", user="recruiter-4"):
    from parley.dal import messages

    sent = requests.post(
        local.api + SEND, json={"toEmail": to, "subject": subject, "emailContent": "Does Thursday suit you?"},
        headers={**bearer(key), "x-ph-userid": user}, timeout=30,
    )  # fmt: skip
    assert sent.status_code == 200, sent.text
    return sent.json()["data"]["emailActivityId"], messages


def test_a_reply_received_by_ses_threads_into_history_ats_messages_and_the_crm_thread(local, emulator_env):
    """Send through the candidate API, then the candidate answers: SES receives it (simulated by the local
    tool, which writes it where the receipt rule writes mail) and InboundMailFunction threads it."""
    from parley.dal import messages

    domain = f"r{uuid.uuid4().hex[:8]}.parley.example"
    tenant = local.new_tenant("ses-reply-e2e")
    tid, key = tenant["tenantId"], tenant["apiKey"]
    out = requests.post(f"{local.api}/_local/tenant-settings", json={"tenantId": tid, "settings": {"reply_domain": domain}}, timeout=10)
    assert out.status_code == 200, out.text
    cand = f"ses-{uuid.uuid4().hex[:8]}@example.com"
    activity_id, _ = _send_and_wait(local, key, cand)
    outbound = local.wait_for(lambda: (m := messages.get(tid, activity_id)) and m.status == "SENT" and m, timeout=15)
    assert outbound, "the email was not sent"
    assert outbound.reply_to == f"reply+{outbound.conversation_id}@{domain}"

    # 1. the tool: SES receives the reply for reply+<token>@<domain>
    res = requests.post(
        f"{local.api}/_local/inbound-email",
        json={"tenantId": tid, "to": outbound.reply_to, "from": f"Cand <{cand}>", "subject": "Re: Interview on Thursday",
              "text": "Thursday suits me."},
        timeout=10,
    )  # fmt: skip
    assert res.status_code == 202, res.text
    landed = res.json()
    assert landed["key"].startswith("ses/")

    def rows(n):
        got = history(local, key, cand)
        return got if len(got) == n else None

    got = local.wait_for(lambda: rows(2), timeout=20)
    assert got, "the reply did not reach the history"
    assert [r["messageType"] for r in got] == ["outbound", "inbound"]
    assert got[1]["emailBody"].strip() == "Thursday suits me." and got[1]["recipient"] == outbound.reply_to
    assert {r["candidateId"] for r in got} == {outbound.candidate_id}

    # 2. a raw mail dropped straight into the inbound bucket (no token; In-Reply-To = SES's Message-ID)
    from parley.dal.aws import client
    from parley_local.inbound import as_received

    ses_mid = f"<{outbound.provider_message_id}@email.amazonses.com>"
    raw = raw_email(frm=f"Cand <{cand}>", to=f"jobs@{domain}", subject="Re: Interview on Thursday", text="PS: 10:00?", in_reply_to=ses_mid)
    client("s3").put_object(Bucket=landed["bucket"], Key=f"ses/{uuid.uuid4().hex}", Body=as_received(raw, to_address=f"jobs@{domain}"))
    got = local.wait_for(lambda: rows(3), timeout=20)
    assert got and [r["messageType"] for r in got] == ["outbound", "inbound", "inbound"]

    # CRM: the conversation's thread, read from the email sent
    thread = requests.get(f"{local.api}/api/v1/communications/{activity_id}/thread", headers=bearer(key), timeout=30)
    assert thread.status_code == 200, thread.text
    body = thread.json()
    assert [o["id"] for o in body["outbound"]] == [activity_id]
    assert len(body["inbound"]) == 2 and all(i["parentCommunicationId"] == activity_id for i in body["inbound"])
    replies = [messages.get(tid, i["id"]) for i in body["inbound"]]
    assert all(m.provider == "ses-inbound" and m.conversation_id == outbound.conversation_id for m in replies)

    # ATS: the applicant's messages hold the email and both replies
    ats = requests.get(
        f"{local.api}/company/{tid}/applicant/{outbound.candidate_id}/messages", params={"fields": "mail,replied"},
        headers=bearer(key), timeout=30,
    )  # fmt: skip
    assert ats.status_code == 200, ats.text
    assert {m["id"] for m in ats.json()} == {activity_id, *(m.id for m in replies)}


def test_inbound_parse_with_a_5mb_attachment_answers_within_2s_and_lands_once(local, emulator_env):
    from email.message import EmailMessage

    from parley.dal import messages

    tenant = local.new_tenant("parse-large-e2e")
    tid, key = tenant["tenantId"], tenant["apiKey"]
    sender = f"big-{uuid.uuid4().hex[:8]}@example.com"
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "jobs@acme.example", "My CV"
    msg["Message-ID"] = f"<{uuid.uuid4()}@mail.example.com>"
    msg.set_content("Please find my CV attached.")
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * (5 * 1024 * 1024 // 256)
    msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="cv.pdf")
    files = seed_fields(
        to="jobs@acme.example", frm=sender, envelope_to="jobs@acme.example", envelope_from=sender, subject="My CV", email=msg.as_bytes()
    )
    started = time.monotonic()
    res = post_reply(local, basic(key), files)
    elapsed = time.monotonic() - started
    sid = message_sid(res)
    assert elapsed < 2.0, f"answered in {elapsed:.2f} s"

    stored = local.wait_for(lambda: messages.get(tid, sid), timeout=30)
    assert stored, "the reply was not stored"
    assert stored.attachments == [{"filename": "cv.pdf", "contentType": "application/pdf", "size": len(pdf)}]
    assert stored.raw_ref and stored.raw_ref.endswith(f"parse/{tid}/{sid}")
    # SendGrid retries (its timeout passed on its side): the same MessageSid, still one message
    assert message_sid(post_reply(local, basic(key), files)) == sid
    time.sleep(1.0)
    assert len(history(local, key, sender)) == 1
