"""POST /communications/email/v1/reply on moto: send → dispatch → reply (by token, by In-Reply-To), threading,
candidates, history, replays, tenant isolation, bad input, Basic auth through the authorizer."""

from __future__ import annotations

import base64
import copy
import json
from email.message import EmailMessage
from urllib.parse import urlencode

import pytest

from helpers import api_event, body, deliver_inbound, load_event
from parley_local.workers import _sqs_record

SEND = "CandidateApi.SendEmailFunction"
REPLY = "CandidateApi.EmailReplyFunction"
HISTORY = "CandidateApi.EmailHistoryFunction"
DISPATCHER = "root.DispatcherFunction"
AUTHORIZER = "root.AuthorizerFunction"
REPLY_DOMAIN = "reply.parley.example"
BOUNDARY = "----sgBoundary7MA4YWxkTrZu0gW"


# ── helpers ──


def authorize(handler, authorization: str) -> dict:
    """The authorizer's context for this Authorization header, as API Gateway hands it to the function."""
    event = copy.deepcopy(load_event("core/authorizer"))
    event["headers"] = {"Authorization": authorization}
    event["multiValueHeaders"] = {"Authorization": [authorization]}
    out = handler(AUTHORIZER)(event)
    return {**out["context"], "principalId": out["principalId"]}


def with_context(event: dict, ctx: dict) -> dict:
    event["requestContext"]["authorizer"] = dict(ctx)
    return event


def send(handler, ctx, to="ada@example.com", subject="Your interview"):
    payload = {"subject": subject, "emailContent": "Hi, see you on Tuesday at 10:00.", "toEmail": to}
    event = with_context(api_event("candidate/send_email", body=payload, headers={"Idempotency-Key": None}), ctx)
    out = handler(SEND)(event)
    assert out["statusCode"] == 200, out
    return body(out)["data"]["emailActivityId"]


def dispatch_all(handler, send_queue, drain):
    arn, url = send_queue
    records = [_sqs_record(m, arn) for m in drain(url)]
    assert records
    assert handler(DISPATCHER)({"Records": records}) == {"batchItemFailures": []}


def mime(*, frm="Ada Lovelace <ada@example.com>", to="jobs@acme.example", subject="Re: Your interview", text="Works for me!",
         message_id=None, in_reply_to=None, references=None) -> bytes:  # fmt: skip
    msg = EmailMessage()
    msg["From"] = frm
    msg["To"] = to
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    msg.set_content(text)
    return msg.as_bytes()


def form(fields: dict[str, str | bytes | None], files=()) -> bytes:
    out = b""
    for name, value in fields.items():
        if value is None:
            continue
        data = value.encode() if isinstance(value, str) else value
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"
    for name, filename, ctype, data in files:
        head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        out += head.encode() + data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def inbound_fields(*, to="jobs@acme.example", frm="Ada Lovelace <ada@example.com>", email=..., **extra) -> dict:
    """SendGrid Inbound Parse fields (raw mode); ``email=None`` leaves the raw email out."""
    fields = {
        "headers": None,
        "dkim": "{@example.com : pass}",
        "email": mime(frm=frm, to=to) if email is ... else email,
        "to": to,
        "from": frm,
        "sender_ip": "192.168.1.1",
        "envelope": json.dumps({"to": [a.strip().split("<")[-1].rstrip(">") for a in to.split(",")], "from": "ada@example.com"}),
        "subject": "Re: Your interview",
        "SPF": "pass",
        "spam_score": "0.012",
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
    }
    fields.update(extra)
    return fields


def post_reply(handler, ctx, raw_body: bytes, content_type=f"multipart/form-data; boundary={BOUNDARY}", b64=False, consume=True):
    """POST the webhook; then (``consume``) let InboundMailFunction store what it queued."""
    event = with_context(api_event("candidate/email_reply", headers={"Content-Type": content_type}), ctx)
    if b64:
        event["body"], event["isBase64Encoded"] = base64.b64encode(raw_body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = raw_body.decode("utf-8"), False
    out = handler(REPLY)(event)
    if consume and out["statusCode"] == 200:
        deliver_inbound(handler)
    return out


def sid_of(out) -> str:
    assert out["statusCode"] == 200, out
    res = body(out)
    assert set(res) == {"status", "data"} and res["status"] == 200
    assert set(res["data"]) == {"MessageSid"}
    return res["data"]["MessageSid"]


def conversation(tenant_id, conversation_id):
    from parley.dal import keys, table

    return table.query_all(
        index="GSI3", key_condition="GSI3PK = :pk", expr_values=table.values(pk=keys.conversation_pk(tenant_id, conversation_id))
    )


def history(handler, ctx, email):
    q = {"fromTime": "2000-01-01T00:00:00Z", "toTime": "2100-01-01T00:00:00Z", "limit": "50", "offset": "0", "email": email}
    out = handler(HISTORY)(with_context(api_event("candidate/email_history", query=q), ctx))
    assert out["statusCode"] == 200, out
    return body(out)["data"]


@pytest.fixture
def replying_tenant(handler, tenant):
    """A tenant with a reply domain, and its authorizer context (Bearer key)."""
    from parley.domain.auth import configure_tenant

    t, key = tenant
    configure_tenant(t.id, reply_domain=REPLY_DOMAIN)
    ctx = authorize(handler, f"Bearer {key}")
    assert ctx["tenantId"] == t.id and ctx["replyDomain"] == REPLY_DOMAIN
    return t, key, ctx


@pytest.fixture
def sent(handler, replying_tenant, send_queue, drain):
    """One email sent through the send handler and dispatched to (moto) SES; the SES request is captured."""
    from parley.dal import messages
    from parley.dal.aws import client
    from parley.models.domain import MessageStatus

    t, _key, ctx = replying_tenant
    message_id = send(handler, ctx)
    dispatcher = handler(DISPATCHER)
    requests: list[dict] = []
    client("sesv2", retry=False).meta.events.register("provide-client-params.sesv2.SendEmail", lambda params, **_: requests.append(params))
    arn, url = send_queue
    assert dispatcher({"Records": [_sqs_record(m, arn) for m in drain(url)]}) == {"batchItemFailures": []}
    msg = messages.get(t.id, message_id)
    assert msg.status == MessageStatus.SENT
    return t, ctx, msg, requests


# ── threading ──


def test_outbound_email_carries_the_reply_to_token(sent):
    _t, _ctx, msg, requests = sent
    assert msg.reply_to == f"reply+{msg.conversation_id}@{REPLY_DOMAIN}"
    assert msg.conversation_id == msg.id
    (request,) = requests
    assert request["ReplyToAddresses"] == [msg.reply_to]


def test_no_reply_domain_no_reply_to(handler, tenant, send_queue, drain):
    from parley.dal import messages

    t, key = tenant
    ctx = authorize(handler, f"Bearer {key}")
    mid = send(handler, ctx)
    assert messages.get(t.id, mid).reply_to is None


def test_reply_by_token_then_by_in_reply_to_then_by_inbound_message_id(handler, sent):
    from parley.dal import messages
    from parley.models.domain import MessageStatus

    t, ctx, out_msg, _ = sent
    token_addr = out_msg.reply_to
    ses_mid = f"<{out_msg.provider_message_id}@email.amazonses.com>"
    assert out_msg.internet_message_id == ses_mid

    # 1. by the reply token only (no threading headers)
    raw1 = mime(to=f"Acme Talent Team <{token_addr}>", message_id="<r1@mail.example.com>", text="Tuesday works.")
    sid1 = sid_of(post_reply(handler, ctx, form(inbound_fields(to=f"Acme Talent Team <{token_addr}>", email=raw1))))
    r1 = messages.get(t.id, sid1)
    assert (r1.channel, r1.direction, r1.status, r1.kind, r1.source_api, r1.provider) == (
        "email", "inbound", MessageStatus.RECEIVED, "reply", "candidate", "sendgrid-inbound"
    )  # fmt: skip
    assert r1.conversation_id == out_msg.conversation_id
    assert r1.candidate_id == out_msg.candidate_id is not None
    assert r1.recruiter_id == out_msg.recruiter_id == "recruiter-42"
    assert (r1.sender, r1.sender_name, r1.recipient) == ("ada@example.com", "Ada Lovelace", token_addr)
    assert r1.subject == "Re: Your interview"
    assert r1.body.strip() == r1.body_text.strip() == "Tuesday works."
    assert r1.internet_message_id == "<r1@mail.example.com>"
    assert r1.in_reply_to is None and r1.references == []

    # 2. by In-Reply-To only (the SES Message-ID), sent to an address without a token
    raw2 = mime(message_id="<r2@mail.example.com>", in_reply_to=ses_mid, references=ses_mid, text="One more question.")
    sid2 = sid_of(post_reply(handler, ctx, form(inbound_fields(email=raw2))))
    r2 = messages.get(t.id, sid2)
    assert sid2 != sid1
    assert r2.conversation_id == out_msg.conversation_id
    assert r2.candidate_id == out_msg.candidate_id
    assert r2.recruiter_id == "recruiter-42"
    assert r2.in_reply_to == ses_mid and r2.references == [ses_mid]
    assert r2.recipient == "jobs@acme.example"

    # 3. from another address of hers, answering reply 1 (an inbound Message-ID): same thread, same candidate
    raw3 = mime(frm="Ada <ada.l@home.example>", message_id="<r3@home.example>", in_reply_to="<r1@mail.example.com>", text="PS")
    sid3 = sid_of(post_reply(handler, ctx, form(inbound_fields(frm="Ada <ada.l@home.example>", email=raw3))))
    r3 = messages.get(t.id, sid3)
    assert r3.conversation_id == out_msg.conversation_id
    assert r3.candidate_id == out_msg.candidate_id
    assert r3.sender == "ada.l@home.example"

    convo = conversation(t.id, out_msg.conversation_id)
    assert [(i["id"], i["direction"]) for i in convo] == [(out_msg.id, "outbound"), (sid1, "inbound"), (sid2, "inbound"), (sid3, "inbound")]

    rows = history(handler, ctx, "ada@example.com")
    assert [(r["messageType"], r["subject"]) for r in rows] == [
        ("outbound", "Your interview"),
        ("inbound", "Re: Your interview"),
        ("inbound", "Re: Your interview"),
    ]
    inbound = rows[1]
    assert inbound["sender"] == "ada@example.com" and inbound["recipient"] == token_addr
    assert inbound["candidateId"] == out_msg.candidate_id and inbound["recruiterId"] == "recruiter-42"
    assert inbound["emailBody"].strip() == "Tuesday works."
    assert [r["messageType"] for r in history(handler, ctx, "ada.l@home.example")] == ["inbound"]


def test_unthreaded_reply_starts_a_conversation_under_the_senders_candidate(handler, sent):
    from parley.dal import messages
    from parley.domain import candidates

    t, ctx, out_msg, _ = sent
    sid = sid_of(post_reply(handler, ctx, form(inbound_fields(email=mime(message_id="<fresh@mail.example.com>")))))
    msg = messages.get(t.id, sid)
    assert msg.conversation_id == sid != out_msg.conversation_id
    assert msg.candidate_id == out_msg.candidate_id  # same sender address → same candidate
    assert msg.recruiter_id is None

    new = sid_of(post_reply(handler, ctx, form(inbound_fields(frm="Bob <bob@new.example>", email=mime(frm="Bob <bob@new.example>")))))
    bob = messages.get(t.id, new)
    assert bob.candidate_id == candidates.find(t.id, email="bob@new.example").id
    assert bob.conversation_id == new


def test_another_tenants_token_and_message_id_do_not_thread(handler, sent, other_tenant, send_queue, drain):
    from parley.dal import messages
    from parley.domain.auth import configure_tenant

    t, ctx, out_msg, _ = sent
    o, okey = other_tenant
    configure_tenant(o.id, reply_domain=REPLY_DOMAIN)
    octx = authorize(handler, f"Bearer {okey}")
    other_id = send(handler, octx, to="ada@example.com", subject="Globex offer")
    dispatch_all(handler, send_queue, drain)
    other = messages.get(o.id, other_id)
    assert other.reply_to and other.provider_message_id

    # tenant t receives mail naming tenant o's conversation and SES message
    raw = mime(to=other.reply_to, message_id="<x@mail.example.com>", in_reply_to=f"<{other.provider_message_id}@email.amazonses.com>")
    sid = sid_of(post_reply(handler, ctx, form(inbound_fields(to=other.reply_to, email=raw))))
    msg = messages.get(t.id, sid)
    assert msg.tenant_id == t.id
    assert msg.conversation_id == sid  # unthreaded: a new conversation of its own
    assert msg.recruiter_id is None
    assert msg.candidate_id == out_msg.candidate_id  # t's own directory entry for the sender
    assert messages.get(o.id, sid) is None
    assert [i["id"] for i in conversation(o.id, other.conversation_id)] == [other_id]


# ── idempotency ──


def test_replay_returns_the_same_message_sid_and_stores_one_message(handler, sent, table_items):
    _t, ctx, out_msg, _ = sent
    raw = mime(to=out_msg.reply_to, message_id="<same@mail.example.com>")
    payload = form(inbound_fields(to=out_msg.reply_to, email=raw))
    first = sid_of(post_reply(handler, ctx, payload))
    before = len(table_items())
    again = sid_of(post_reply(handler, ctx, payload))
    # SendGrid's retry is the same email; even re-encoded differently it is the same Message-ID
    fields = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in inbound_fields(to=out_msg.reply_to, email=raw).items() if v}
    urlenc = sid_of(post_reply(handler, ctx, urlencode(fields).encode(), content_type="application/x-www-form-urlencoded"))
    assert first == again == urlenc
    assert len(table_items()) == before
    stored = [i for i in table_items() if i.get("type") == "message" and i.get("internet_message_id") == "<same@mail.example.com>"]
    assert [i["id"] for i in stored] == [first]
    refs = [i for i in table_items() if i.get("type") == "imid_ref"]
    assert [r["message_id"] for r in refs] == [first]


def test_replay_without_message_id_dedupes_on_content(handler, sent, table_items):
    _t, ctx, out_msg, _ = sent
    payload = form(inbound_fields(to=out_msg.reply_to, email=mime(to=out_msg.reply_to, text="no message id")))
    a = sid_of(post_reply(handler, ctx, payload))
    b = sid_of(post_reply(handler, ctx, payload, b64=True))
    assert a == b
    assert len([i for i in table_items() if i.get("type") == "message" and i.get("direction") == "inbound"]) == 1


def test_a_claim_left_by_a_crashed_attempt_is_completed_on_retry(handler, sent):
    from parley.dal import messages, threads

    t, ctx, out_msg, _ = sent
    threads.claim_ref(t.id, "<crashed@mail.example.com>", "11111111-2222-4333-8444-555555555555")  # ref written, message not
    raw = mime(to=out_msg.reply_to, message_id="<crashed@mail.example.com>")
    sid = sid_of(post_reply(handler, ctx, form(inbound_fields(to=out_msg.reply_to, email=raw))))
    assert sid == "11111111-2222-4333-8444-555555555555"
    assert messages.get(t.id, sid).conversation_id == out_msg.conversation_id


# ── content ──


def test_parsed_mode_latin1_fields_html_only_and_attachments(handler, replying_tenant):
    from parley.dal import messages

    t, _key, ctx = replying_tenant
    fields = inbound_fields(
        email=None,
        frm="Jürgen Groß <jg@example.com>".encode("iso-8859-1"),
        subject="Grüße".encode("iso-8859-1"),
        charsets=json.dumps({"to": "UTF-8", "from": "iso-8859-1", "subject": "iso-8859-1", "html": "iso-8859-1"}),
        headers="From: jg@example.com\nMessage-ID: <parsed-1@example.com>\nSubject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=\n",
        html="<p>Grüße aus <b>Köln</b></p>".encode("iso-8859-1"),
        attachments="1",
        **{"attachment-info": json.dumps({"attachment1": {"filename": "cv.pdf", "name": "cv.pdf", "type": "application/pdf"}})},
    )
    sid = sid_of(post_reply(handler, ctx, form(fields, [("attachment1", "cv.pdf", "application/pdf", b"%PDF\x00" * 100)]), b64=True))
    msg = messages.get(t.id, sid)
    assert (msg.sender, msg.sender_name, msg.subject) == ("jg@example.com", "Jürgen Groß", "Grüße")
    assert msg.body == "<p>Grüße aus <b>Köln</b></p>"
    assert msg.body_text == "Grüße aus Köln"
    assert msg.attachments == [{"filename": "cv.pdf", "contentType": "application/pdf", "size": 500}]
    assert msg.internet_message_id == "<parsed-1@example.com>"


def test_raw_mime_with_attachment_and_large_body(handler, replying_tenant):
    from parley.dal import messages

    t, _key, ctx = replying_tenant
    em = EmailMessage()
    em["From"] = "ada@example.com"
    em["To"] = "jobs@acme.example"
    em["Subject"] = "CV"
    em["Message-ID"] = "<big@example.com>"
    em.set_content("x" * 40_000, charset="iso-8859-1")
    em.add_attachment(b"\x89PNG" + b"\x00" * 96, maintype="image", subtype="png", filename="photo.png")
    sid = sid_of(post_reply(handler, ctx, form(inbound_fields(email=em.as_bytes())), b64=True))
    msg = messages.get(t.id, sid)
    assert msg.body.strip() == "x" * 40_000  # kept in S3, read back
    assert msg.body_ref and msg.body_text is None
    assert msg.attachments == [{"filename": "photo.png", "contentType": "image/png", "size": 100}]


# ── bad input and auth ──


@pytest.mark.parametrize(
    ("raw_body", "content_type", "message"),
    [
        (form(inbound_fields(envelope=None)), f"multipart/form-data; boundary={BOUNDARY}", "missing required field(s): envelope"),
        (form(inbound_fields(email=None)), f"multipart/form-data; boundary={BOUNDARY}", "missing required field(s): email"),
        (form(inbound_fields(envelope="{oops")), f"multipart/form-data; boundary={BOUNDARY}", "envelope is not valid JSON"),
        (form(inbound_fields(charsets="[1]")), f"multipart/form-data; boundary={BOUNDARY}", "charsets must be a JSON object"),
        (b"to=a%40b.example", "text/plain", "Content-Type must be multipart/form-data"),
        (b"garbage", f"multipart/form-data; boundary={BOUNDARY}", "not valid multipart/form-data"),
        (form(inbound_fields(email=b"no headers here")), f"multipart/form-data; boundary={BOUNDARY}", "not a MIME message"),
    ],
)
def test_bad_input_is_400_and_stores_nothing(handler, replying_tenant, table_items, raw_body, content_type, message):
    _t, _key, ctx = replying_tenant
    before = table_items()
    out = post_reply(handler, ctx, raw_body, content_type=content_type)
    assert out["statusCode"] == 400, out
    res = body(out)
    assert res["status"] == 400 and message in res["message"]
    assert table_items() == before


def test_empty_body_is_400(handler, replying_tenant, table_items):
    _t, _key, ctx = replying_tenant
    before = table_items()
    event = with_context(api_event("candidate/email_reply", body=None), ctx)
    out = handler(REPLY)(event)
    assert out["statusCode"] == 400 and body(out) == {"status": 400, "message": "request body is required"}
    assert table_items() == before


def test_basic_auth_key_goes_through_the_authorizer(handler, tenant):
    from parley.dal import messages

    t, key = tenant
    ctx = authorize(handler, "Basic " + base64.b64encode(f"sendgrid:{key}".encode()).decode())
    assert ctx["tenantId"] == t.id
    sid = sid_of(post_reply(handler, ctx, form(inbound_fields())))
    assert messages.get(t.id, sid).direction == "inbound"
    for bad in (f"sendgrid:{key}x", "sendgrid:prl_nope", f"sendgrid{key}"):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorize(handler, "Basic " + base64.b64encode(bad.encode()).decode())


def test_no_tenant_in_context_is_401(handler):
    event = api_event("candidate/email_reply")
    event["requestContext"]["authorizer"] = {}
    out = handler(REPLY)(event)
    assert out["statusCode"] == 401 and body(out)["status"] == 401


def test_sample_event_is_accepted(handler, tenant):
    t, _ = tenant
    out = handler(REPLY)(api_event("candidate/email_reply", tenant_id=t.id))
    sid_of(out)
