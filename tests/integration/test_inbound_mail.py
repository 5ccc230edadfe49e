"""Inbound email on moto through InboundMailFunction: SES receiving (raw mail dropped into the inbound bucket →
S3 event notification → the inbound queue) and the asynchronous Inbound Parse webhook (raw post kept, pointer
queued). Threading, idempotency under redelivery and duplicate Message-IDs, SES verdicts, unknown
domains and tokens, tenant isolation, large attachments."""

from __future__ import annotations

import base64
import json
import uuid
from email.message import EmailMessage

import pytest

from helpers import api_event, body, deliver_inbound
from parley_local.workers import _sqs_record

SEND = "CandidateApi.SendEmailFunction"
REPLY = "CandidateApi.EmailReplyFunction"
HISTORY = "CandidateApi.EmailHistoryFunction"
DISPATCHER = "root.DispatcherFunction"
INBOUND = "root.InboundMailFunction"
REPLY_DOMAIN = "reply.acme.example"
BOUNDARY = "----sgBoundaryInbound42"


# ── helpers ──


def ctx_of(tenant) -> dict:
    from parley.domain.context import Caller

    return {**Caller.of(tenant).authorizer_context(), "principalId": tenant.id}


def reply_mime(*, to, frm="Ada Lovelace <ada@example.com>", subject="Re: Your interview", text="Tuesday works.", message_id=None,
               in_reply_to=None, attachment: bytes | None = None) -> bytes:  # fmt: skip
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = frm, to, subject
    msg["Message-ID"] = message_id or f"<{uuid.uuid4()}@mail.example.com>"
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content(text)
    if attachment is not None:
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename="cv.pdf")
    return msg.as_bytes()


def as_ses_stored(raw: bytes, *, rcpt: str, spam="PASS", virus="PASS") -> bytes:
    """The mail as SES's S3 action stores it: SES's own headers on top (Received naming the SMTP recipient, verdicts)."""
    head = (
        "Return-Path: <ada@example.com>\r\n"
        "Received: from mail.example.com (mail.example.com [192.0.2.1])\r\n"
        f" by inbound-smtp.us-east-1.amazonaws.com with SMTP id {uuid.uuid4().hex}\r\n"
        f" for {rcpt};\r\n Sun, 06 Dec 2026 09:00:00 +0000 (UTC)\r\n"
        f"X-SES-Spam-Verdict: {spam}\r\n"
        f"X-SES-Virus-Verdict: {virus}\r\n"
        "X-SES-RECEIPT: AEFBQUFBQUFBQUFHbFd0\r\n"
    )
    return head.encode() + raw


def drop(aws, raw: bytes) -> str:
    """Put a mail where SES's receipt rule writes it (the rule's bucket and prefix); returns the key."""
    from parley.dal.aws import client

    action = aws.receipt_rules[0]["Actions"][0]["S3Action"]
    key = action["ObjectKeyPrefix"] + uuid.uuid4().hex
    client("s3").put_object(Bucket=action["BucketName"], Key=key, Body=raw)
    return key


def inbound_queue(aws) -> tuple[str, str]:
    arn = next(a for a in aws.queues if a.endswith("-InboundMailQueue"))
    return arn, aws.queues[arn]


def results(caplog) -> list[str]:
    """The outcomes InboundMailFunction logged (its ``inbound mail`` lines), in order; S3's test event left out."""
    out = []
    for record in caplog.records:
        if record.getMessage() == "inbound mail":
            out.extend(getattr(record, "results", []))
    return [r for r in out if r != "test"]


def inbound_messages(table_items) -> list[dict]:
    return [i for i in table_items() if i.get("type") == "message" and i.get("direction") == "inbound"]


@pytest.fixture
def acme(handler, tenant):
    from parley.domain.auth import configure_tenant

    t, _ = tenant
    t = configure_tenant(t.id, reply_domain=REPLY_DOMAIN)
    handler(INBOUND)  # its environment (INBOUND_BUCKET) for the helpers
    return t


@pytest.fixture
def sent(handler, acme, send_queue, drain):
    """An email sent to Ada through the candidate API and dispatched to (moto) SES."""
    from parley.dal import messages

    payload = {"subject": "Your interview", "emailContent": "See you on Tuesday.", "toEmail": "ada@example.com"}
    event = api_event("candidate/send_email", body=payload, headers={"Idempotency-Key": None, "x-ph-userid": "recruiter-9"})
    event["requestContext"]["authorizer"] = ctx_of(acme)
    out = handler(SEND)(event)
    assert out["statusCode"] == 200, out
    message_id = body(out)["data"]["emailActivityId"]
    arn, url = send_queue
    assert handler(DISPATCHER)({"Records": [_sqs_record(m, arn) for m in drain(url)]}) == {"batchItemFailures": []}
    msg = messages.get(acme.id, message_id)
    assert msg.status == "SENT" and msg.reply_to == f"reply+{msg.conversation_id}@{REPLY_DOMAIN}"
    return msg


# ── SES receiving ──


def test_a_reply_received_by_ses_threads_into_the_conversation_and_history(handler, aws, acme, sent, caplog):
    from parley.dal import messages

    raw = as_ses_stored(reply_mime(to=f"Acme <{sent.reply_to}>", message_id="<ses-r1@mail.example.com>"), rcpt=sent.reply_to)
    key = drop(aws, raw)
    deliver_inbound(handler)
    assert results(caplog) == ["stored"]
    stored = [m for m in messages_of(acme.id) if m.direction == "inbound"]
    assert len(stored) == 1
    r = stored[0]
    assert (r.provider, r.kind, r.status, r.sender, r.recipient) == ("ses-inbound", "reply", "RECEIVED", "ada@example.com", sent.reply_to)
    assert (r.conversation_id, r.parent_id, r.candidate_id) == (sent.conversation_id, sent.id, sent.candidate_id)
    assert r.recruiter_id == "recruiter-9"
    assert r.body.strip() == "Tuesday works." and r.internet_message_id == "<ses-r1@mail.example.com>"
    assert r.raw_ref == f"s3://{aws.receipt_rules[0]['Actions'][0]['S3Action']['BucketName']}/{key}"
    # the candidate API's history shows it after the outbound email
    q = {"fromTime": "2000-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": "50", "offset": "0", "email": "ada@example.com"}
    event = api_event("candidate/email_history", query=q)
    event["requestContext"]["authorizer"] = ctx_of(acme)
    rows = body(handler(HISTORY)(event))["data"]
    assert [row["messageType"] for row in rows] == ["outbound", "inbound"]
    assert messages.get(acme.id, r.id).conversation_id == sent.conversation_id


def messages_of(tenant_id):
    from parley.dal import keys, messages, table

    items = table.query_all(key_condition="GSI1PK = :pk", expr_values=table.values(pk=keys.timeline_pk(tenant_id, "email")), index="GSI1")
    return [messages.get(tenant_id, i["id"]) for i in items]


def test_without_a_token_it_threads_by_in_reply_to_the_ses_message_id(handler, aws, acme, sent, caplog):
    ses_mid = f"<{sent.provider_message_id}@email.amazonses.com>"
    raw = as_ses_stored(reply_mime(to=f"jobs@{REPLY_DOMAIN}", in_reply_to=ses_mid), rcpt=f"jobs@{REPLY_DOMAIN}")
    drop(aws, raw)
    deliver_inbound(handler)
    assert results(caplog) == ["stored"]
    (r,) = [m for m in messages_of(acme.id) if m.direction == "inbound"]
    assert r.conversation_id == sent.conversation_id and r.in_reply_to == ses_mid


def test_redelivery_and_a_duplicate_message_id_store_one_message(handler, aws, acme, sent, caplog, table_items):
    arn, url = inbound_queue(aws)
    raw = reply_mime(to=sent.reply_to, message_id="<dup@mail.example.com>")
    drop(aws, as_ses_stored(raw, rcpt=sent.reply_to))
    from parley.dal.aws import client

    waiting = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    event = [m for m in waiting if '"Records"' in m["Body"]]
    assert len(event) == 1
    consumer = handler(INBOUND)
    # the same notification delivered twice (SQS at-least-once), then the same mail received again (a retrying MTA)
    for _ in range(2):
        assert consumer({"Records": [_sqs_record(event[0], arn)]}) == {"batchItemFailures": []}
    drop(aws, as_ses_stored(raw, rcpt=sent.reply_to))
    deliver_inbound(handler)
    assert results(caplog) == ["stored", "duplicate", "duplicate"]
    stored = inbound_messages(table_items)
    assert [m["internet_message_id"] for m in stored] == ["<dup@mail.example.com>"]


@pytest.mark.parametrize(("spam", "virus"), [("FAIL", "PASS"), ("PASS", "FAIL"), ("GRAY", "FAIL")])
def test_a_spam_or_virus_verdict_fail_is_refused_and_recorded(handler, aws, acme, sent, caplog, table_items, spam, virus):
    from parley.dal import inbound_mail

    raw = as_ses_stored(reply_mime(to=sent.reply_to, message_id="<bad@mail.example.com>"), rcpt=sent.reply_to, spam=spam, virus=virus)
    key = drop(aws, raw)
    deliver_inbound(handler)
    assert results(caplog) == ["rejected"]
    assert inbound_messages(table_items) == []
    receipt = inbound_mail.get_receipt(acme.id, "<bad@mail.example.com>")
    assert (receipt["outcome"], receipt["spam_verdict"], receipt["virus_verdict"], receipt["object_key"]) == ("rejected", spam, virus, key)


def test_a_forged_pass_below_ses_fail_is_still_refused(handler, aws, acme, sent, caplog, table_items):
    forged = b"X-SES-Spam-Verdict: PASS\r\n" + reply_mime(to=sent.reply_to)
    drop(aws, as_ses_stored(forged, rcpt=sent.reply_to, spam="FAIL"))
    deliver_inbound(handler)
    assert results(caplog) == ["rejected"]
    assert inbound_messages(table_items) == []


def test_unknown_domain_and_unknown_token_are_dropped_without_error(handler, aws, acme, sent, caplog, table_items):
    from parley.dal import inbound_mail

    elsewhere = f"reply+{sent.conversation_id}@elsewhere.example"
    drop(aws, as_ses_stored(reply_mime(to=elsewhere), rcpt=elsewhere))
    unknown = f"reply+{uuid.uuid4()}@{REPLY_DOMAIN}"
    drop(aws, as_ses_stored(reply_mime(to=unknown, message_id="<lost@mail.example.com>"), rcpt=unknown))
    deliver_inbound(handler)  # every record acknowledged
    assert results(caplog) == ["unknown_domain", "unmatched"]
    assert inbound_messages(table_items) == []
    assert inbound_mail.get_receipt(acme.id, "<lost@mail.example.com>")["outcome"] == "unmatched"


def test_an_object_that_is_not_a_mail_is_acknowledged_and_dropped(handler, aws, acme, caplog, table_items):
    drop(aws, b"\x00\x01 not a mail at all")
    deliver_inbound(handler)  # acknowledged: retrying cannot make it a mail
    assert results(caplog) == ["invalid"]
    assert inbound_messages(table_items) == []


def test_another_tenants_token_on_its_own_domain_threads_nowhere(handler, aws, acme, sent, other_tenant, caplog, table_items):
    from parley.domain.auth import configure_tenant

    globex, _ = other_tenant
    configure_tenant(globex.id, reply_domain="reply.globex.example")
    # Acme's conversation token, sent to Globex's reply domain: Globex has no such conversation, Acme does not own the domain
    forged = f"reply+{sent.conversation_id}@reply.globex.example"
    drop(aws, as_ses_stored(reply_mime(to=forged, in_reply_to=f"<{sent.provider_message_id}@email.amazonses.com>"), rcpt=forged))
    deliver_inbound(handler)
    assert results(caplog) == ["unmatched"]
    assert inbound_messages(table_items) == []


def test_changing_the_reply_domain_moves_who_receives_it(handler, aws, acme, sent, caplog, table_items):
    from parley.dal import inbound_mail
    from parley.domain.auth import configure_tenant

    assert inbound_mail.tenants_for_domain(REPLY_DOMAIN.upper()) == [acme.id]
    configure_tenant(acme.id, reply_domain="mail.acme.example")
    assert inbound_mail.tenants_for_domain(REPLY_DOMAIN) == []
    drop(aws, as_ses_stored(reply_mime(to=sent.reply_to), rcpt=sent.reply_to))
    deliver_inbound(handler)
    assert results(caplog) == ["unknown_domain"]


def test_a_large_attachment_stays_in_s3_not_in_the_item(handler, aws, acme, sent, caplog, table_items):
    from parley.dal.aws import client

    pdf = b"%PDF-1.7\n" + bytes(range(256)) * (3 * 1024 * 1024 // 256)
    key = drop(aws, as_ses_stored(reply_mime(to=sent.reply_to, attachment=pdf), rcpt=sent.reply_to))
    deliver_inbound(handler)
    assert results(caplog) == ["stored"]
    (item,) = inbound_messages(table_items)
    assert item["attachments"] == [{"filename": "cv.pdf", "contentType": "application/pdf", "size": len(pdf)}]
    assert len(json.dumps(item, default=str)) < 8_000  # metadata only
    bucket = aws.receipt_rules[0]["Actions"][0]["S3Action"]["BucketName"]
    assert item["raw_ref"] == f"s3://{bucket}/{key}"
    raw = client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    assert len(raw) > len(pdf)  # the raw mail, attachment included


# ── Inbound Parse, asynchronous ──


def form(fields: dict[str, bytes | str]) -> bytes:
    out = b""
    for name, value in fields.items():
        data = value.encode() if isinstance(value, str) else value
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def parse_post(handler, tenant, raw_email: bytes, to: str):
    fields = {
        "email": raw_email, "to": to, "from": "Ada Lovelace <ada@example.com>", "subject": "Re: Your interview",
        "envelope": json.dumps({"to": [to], "from": "ada@example.com"}), "charsets": json.dumps({"to": "UTF-8"}),
    }  # fmt: skip
    event = api_event("candidate/email_reply", headers={"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    event["requestContext"]["authorizer"] = ctx_of(tenant)
    event["body"], event["isBase64Encoded"] = base64.b64encode(form(fields)).decode(), True
    out = handler(REPLY)(event)
    assert out["statusCode"] == 200, out
    return body(out)["data"]["MessageSid"]


def test_inbound_parse_keeps_the_post_and_queues_it_then_stores_it_once(handler, aws, acme, sent, caplog, table_items):
    from parley.dal import messages
    from parley.dal.aws import client

    pdf = b"%PDF" + b"\x01" * (2 * 1024 * 1024)
    raw = reply_mime(to=sent.reply_to, message_id="<parse-async@mail.example.com>", attachment=pdf)
    sid = parse_post(handler, acme, raw, sent.reply_to)
    # answered before anything was parsed or stored: the raw post is kept, a pointer is queued
    assert messages.get(acme.id, sid) is None
    arn, url = inbound_queue(aws)
    got = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    waiting = [m for m in got if "inbound-parse" in m["Body"]]
    assert len(waiting) == 1
    pointer = json.loads(waiting[0]["Body"])
    assert (pointer["tenant_id"], pointer["message_id"], pointer["key"]) == (acme.id, sid, f"parse/{acme.id}/{sid}")
    bucket = aws.receipt_rules[0]["Actions"][0]["S3Action"]["BucketName"]
    assert len(client("s3").get_object(Bucket=bucket, Key=pointer["key"])["Body"].read()) > len(pdf)
    # the consumer stores it under the MessageSid already answered; a redelivered pointer stores nothing more
    consumer = handler(INBOUND)
    for _ in range(2):
        assert consumer({"Records": [_sqs_record(waiting[0], arn)]}) == {"batchItemFailures": []}
    # SendGrid retries the post: the same MessageSid, nothing queued again
    assert parse_post(handler, acme, raw, sent.reply_to) == sid
    deliver_inbound(handler)
    assert results(caplog) == ["stored", "duplicate"]
    stored = messages.get(acme.id, sid)
    assert (stored.provider, stored.conversation_id) == ("sendgrid-inbound", sent.conversation_id)
    assert stored.attachments == [{"filename": "cv.pdf", "contentType": "application/pdf", "size": len(pdf)}]
    assert stored.raw_ref == f"s3://{bucket}/parse/{acme.id}/{sid}"
    assert len(inbound_messages(table_items)) == 1
