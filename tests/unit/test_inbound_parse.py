"""Inbound Parse: form bodies, MIME, charsets, attachments, reply tokens, Basic auth key (no AWS)."""

from __future__ import annotations

import base64
import json
from email.message import EmailMessage
from urllib.parse import urlencode

import pytest

from parley.domain.auth import basic_key, bearer_token
from parley.domain.inbound_email import message_ids, parse_addresses, parse_form, parse_mime, parse_request, reply_token
from parley.errors import BadRequest

BOUNDARY = "xYzZY"
CT = f"multipart/form-data; boundary={BOUNDARY}"


def multipart(fields: list[tuple[str, bytes | str]], files: list[tuple[str, str, str, bytes]] = (), boundary: str = BOUNDARY) -> bytes:
    out = b""
    for name, value in fields:
        data = value.encode() if isinstance(value, str) else value
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode() + data + b"\r\n"
    for name, filename, ctype, data in files:
        head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        out += head.encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


RAW = (
    b"From: Ada Lovelace <ada@example.com>\r\n"
    b"To: reply+conv-1@reply.parley.example\r\n"
    b"Subject: Re: Interview\r\n"
    b"Message-ID: <reply-1@mail.example.com>\r\n"
    b"In-Reply-To: <0100abc-000000@email.amazonses.com>\r\n"
    b"References: <first@x.example> <0100abc-000000@email.amazonses.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=UTF-8\r\n"
    b"\r\n"
    b"Works for me.\r\n"
)


def base_fields(email: bytes = RAW, **over: str | bytes | None) -> list[tuple[str, bytes | str]]:
    fields: dict[str, bytes | str | None] = {
        "to": "Acme <reply+conv-1@reply.parley.example>",
        "from": "Ada Lovelace <ada@example.com>",
        "envelope": json.dumps({"to": ["reply+conv-1@reply.parley.example"], "from": "ada@example.com"}),
        "subject": "Re: Interview",
        "charsets": json.dumps({"to": "UTF-8", "from": "UTF-8", "subject": "UTF-8"}),
        "email": email,
        "SPF": "pass",
        "spam_score": "0.1",
        "unknown_field": "ignored",
    }
    fields.update(over)
    return [(k, v) for k, v in fields.items() if v is not None]


# ── form bodies ──


@pytest.mark.parametrize("quick", [False, True])
def test_multipart_fields_are_byte_exact_and_names_case_insensitive(quick):
    body = multipart([("Subject", b"h\xe9llo\r\nline2"), ("email", RAW)], [("attachment1", "r.pdf", "application/pdf", b"%PDF\x00\xff")])
    parts = {p.name: p for p in parse_form(CT, body, quick=quick)}
    assert parts["subject"].data == b"h\xe9llo\r\nline2"
    assert parts["email"].data == RAW
    assert parts["attachment1"].data == b"%PDF\x00\xff"
    assert parts["attachment1"].filename == "r.pdf"
    assert parts["attachment1"].content_type == "application/pdf"


def test_urlencoded_and_json_bodies_give_the_same_fields():
    fields = dict(base_fields())
    fields["email"] = RAW.decode()
    url = parse_request("application/x-www-form-urlencoded", urlencode(fields).encode())
    js = parse_request("application/json", json.dumps(fields).encode())
    mp = parse_request(CT, multipart(base_fields()))
    assert url.model_dump() == js.model_dump() == mp.model_dump()
    assert mp.sender.address == "ada@example.com" and mp.sender.name == "Ada Lovelace"
    assert mp.spf == "pass" and mp.spam_score == "0.1"


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("text/plain", b"hello", "Content-Type must be multipart/form-data"),
        (None, b"hello", "Content-Type must be multipart/form-data"),
        ("multipart/form-data", b"--x\r\n", "no boundary"),
        (CT, b"not multipart at all", "not valid multipart/form-data"),
        (CT, b"", "request body is required"),
        ("application/json", b"[1]", "must be a JSON object"),
        ("application/json", b"{bad", "not valid JSON"),
    ],
)
@pytest.mark.parametrize("quick", [False, True])
def test_unparseable_bodies_are_400(content_type, body, message, quick):
    with pytest.raises(BadRequest) as err:
        parse_request(content_type, body, quick=quick)
    assert message in err.value.message


@pytest.mark.parametrize("quick", [False, True])
def test_truncated_multipart_is_400(quick):
    body = multipart(base_fields())
    with pytest.raises(BadRequest, match="multipart"):
        parse_request(CT, body[: -len(f"--{BOUNDARY}--\r\n")], quick=quick)


@pytest.mark.parametrize("missing", ["to", "from", "envelope", "subject", "email", "charsets"])
@pytest.mark.parametrize("quick", [False, True])
def test_each_required_field_is_named_when_missing(missing, quick):
    with pytest.raises(BadRequest) as err:
        parse_request(CT, multipart(base_fields(**{missing: None})), quick=quick)
    assert err.value.message == f"missing required field(s): {missing}"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("envelope", "{not json", "envelope is not valid JSON"),
        ("envelope", "[]", "envelope must be a JSON object"),
        ("envelope", '{"to": 5}', "envelope.to must be a list"),
        ("charsets", "nope", "charsets is not valid JSON"),
        ("charsets", '{"to": 1}', "charsets must map"),
        ("from", "no address here", "from must contain an email address"),
        ("email", "   ", "email must not be empty"),
        ("email", "just some words without any header", "not a MIME message"),
    ],
)
@pytest.mark.parametrize("quick", [False, True])
def test_malformed_fields_are_400(field, value, message, quick):
    over = {field: value}
    if field == "from":  # no address in the field, the MIME From or the envelope
        over["envelope"] = json.dumps({"to": ["x@y.example"]})
        over["email"] = RAW.replace(b"From: Ada Lovelace <ada@example.com>\r\n", b"")
    with pytest.raises(BadRequest) as err:
        parse_request(CT, multipart(base_fields(**over)), quick=quick)
    assert message in err.value.message


def test_charsets_decode_each_field():
    body = multipart(
        base_fields(
            subject="Réponse über".encode("iso-8859-1"),
            **{"from": "Jürgen Groß <jg@example.com>".encode("iso-8859-1")},
            charsets=json.dumps({"subject": "ISO-8859-1", "from": "iso-8859-1", "to": "UTF-8"}),
        )
    )
    got = parse_request(CT, body)
    assert got.subject == "Réponse über"
    assert got.sender.name == "Jürgen Groß"
    assert got.sender.address == "jg@example.com"


def test_unknown_charset_falls_back_to_utf8():
    body = multipart(base_fields(subject="naïve", charsets=json.dumps({"subject": "x-no-such-charset"})))
    assert parse_request(CT, body).subject == "naïve"


# ── MIME ──


def test_threading_headers_and_plain_body():
    got = parse_mime(RAW)
    assert got.message_id == "<reply-1@mail.example.com>"
    assert got.in_reply_to == ["<0100abc-000000@email.amazonses.com>"]
    assert got.references == ["<first@x.example>", "<0100abc-000000@email.amazonses.com>"]
    assert got.text == "Works for me.\r\n" or got.text.strip() == "Works for me."
    assert got.html is None
    assert got.attachments == []


def _mime_with_attachments(text_charset: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Zoë <zoe@example.com>"
    msg["To"] = "reply+abc@reply.parley.example"
    msg["Subject"] = "Re: Offer"
    msg["Message-ID"] = "<m-2@example.com>"
    msg.set_content("Grüße aus Köln, ça va", charset=text_charset)
    msg.add_alternative("<p>Grüße aus <b>Köln</b></p>", subtype="html", charset=text_charset)
    msg.add_attachment(b"%PDF-1.4 \x00\x01\x02" * 10, maintype="application", subtype="pdf", filename="cv.pdf")
    msg.add_attachment("a,b\n1,2\n", subtype="csv", filename="data.csv")
    return msg.as_bytes()


@pytest.mark.parametrize("charset", ["iso-8859-1", "windows-1252", "utf-8"])
def test_non_utf8_bodies_and_attachment_metadata(charset):
    raw = _mime_with_attachments(charset)
    assert f"charset={charset}".encode() in raw or f'charset="{charset}"'.encode() in raw
    got = parse_mime(raw)
    assert got.text.strip() == "Grüße aus Köln, ça va"
    assert "<b>Köln</b>" in got.html
    assert [(a.filename, a.contentType, a.size) for a in got.attachments] == [
        ("cv.pdf", "application/pdf", 120),
        ("data.csv", "text/csv", len(b"a,b\n1,2\n")),
    ]


def test_latin1_body_decoded_exactly():
    raw = (
        b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        b"Gr\xfc\xdfe aus K\xf6ln\r\n"
    )
    assert parse_mime(raw).text.strip() == "Grüße aus Köln"


def test_html_only_mail_has_no_text():
    raw = b"From: a@example.com\r\nSubject: x\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hi</p>\r\n"
    got = parse_mime(raw)
    assert got.text is None
    assert got.html.strip() == "<p>Hi</p>"


def test_parsed_mode_uses_text_html_headers_and_attachment_info():
    headers = "From: Ada <ada@example.com>\nMessage-ID: <p-1@example.com>\nIn-Reply-To: <0100x@email.amazonses.com>\nSubject: Re: hi\n"
    fields = base_fields(email=None, headers=headers, text="Thanks!", html="<p>Thanks!</p>")
    fields.append(("attachments", "1"))
    fields.append(("attachment-info", json.dumps({"attachment1": {"filename": "cv.pdf", "name": "cv.pdf", "type": "application/pdf"}})))
    got = parse_request(CT, multipart(fields, [("attachment1", "cv.pdf", "application/pdf", b"12345")]))
    assert got.text == "Thanks!" and got.html == "<p>Thanks!</p>"
    assert got.message_id == "<p-1@example.com>"
    assert got.in_reply_to == ["<0100x@email.amazonses.com>"]
    assert [a.model_dump() for a in got.attachments] == [{"filename": "cv.pdf", "contentType": "application/pdf", "size": 5}]


def test_parsed_mode_needs_text_or_html():
    with pytest.raises(BadRequest, match="missing required field"):
        parse_request(CT, multipart(base_fields(email=None, headers="Subject: x\n")))


def test_same_content_same_fingerprint():
    a = parse_request(CT, multipart(base_fields()))
    b = parse_request(CT, multipart(base_fields()))
    c = parse_request(CT, multipart(base_fields(email=RAW.replace(b"Works", b"Fine"))))
    assert a.fingerprint == b.fingerprint != c.fingerprint


# ── addresses, ids, tokens ──


def test_addresses_with_names_lists_and_encoded_words():
    assert [(a.name, a.address) for a in parse_addresses('Ada <ada@x.example>, "Doe, J" <j@y.example>, c@z.example')] == [
        ("Ada", "ada@x.example"),
        ("Doe, J", "j@y.example"),
        ("", "c@z.example"),
    ]
    assert parse_addresses("=?UTF-8?B?SsO2aG4=?= <j@x.com>")[0].name == "Jöhn"
    assert parse_addresses("") == []
    assert parse_addresses("garbage") == []


def test_message_ids():
    assert message_ids("<a@b> <c@d>\r\n <a@b>") == ["<a@b>", "<c@d>"]
    assert message_ids("a@b") == ["<a@b>"]
    assert message_ids("") == []
    assert message_ids(None) == []


@pytest.mark.parametrize(
    ("address", "token"),
    [
        ("reply+6f1c3a52-2d7e-4a51-9b1e-0c8f7d2a9e11@reply.parley.example", "6f1c3a52-2d7e-4a51-9b1e-0c8f7d2a9e11"),
        ("REPLY+abc@Reply.Example", "abc"),
        (" reply+abc@x.example ", "abc"),
        ("reply@x.example", None),
        ("reply+@x.example", None),
        ("noreply+abc@x.example", None),
        ("reply+abc", None),
        ("reply+a b@x.example", None),
        ("reply+abc@x@y", None),
    ],
)
def test_reply_token(address, token):
    assert reply_token(address) == token


def test_recipients_union_envelope_to_cc():
    got = parse_request(
        CT,
        multipart(
            base_fields(
                to="A <A@x.example>",
                cc="reply+tok@r.example, a@x.example",
                envelope=json.dumps({"to": ["reply+tok@r.example"], "from": "s@x.example"}),
            )
        ),
    )
    assert got.recipients() == ["reply+tok@r.example", "a@x.example"]


# ── Basic auth carrying the API key ──


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("header", "key"),
    [
        (_basic("sendgrid", "prl_secret"), "prl_secret"),
        (_basic("prl_secret", ""), "prl_secret"),
        ("basic " + base64.b64encode(b"x:prl_k:with:colons").decode(), "prl_k:with:colons"),
        (_basic("sendgrid", "not-a-key"), None),
        ("Basic !!!notbase64", None),
        ("Basic " + base64.b64encode(b"no-colon-prl_x").decode(), None),
        ("Basic ", None),
        ("Bearer prl_secret", None),
        (None, None),
    ],
)
def test_basic_key(header, key):
    assert basic_key(header) == key


def test_bearer_parsing_is_unchanged_by_basic_support():
    assert bearer_token(_basic("u", "prl_x")) is None


# ── the quick parse (answering the webhook at once) and SES's headers ──


@pytest.mark.parametrize("newline", [b"\r\n", b"\n"])
def test_quick_parse_reads_what_the_full_parse_reads_from_the_headers(newline):
    em = EmailMessage()
    em["From"], em["To"], em["Subject"] = "Ada <ada@example.com>", "reply+conv-1@reply.parley.example", "Re: CV"
    em["Message-ID"], em["In-Reply-To"] = "<q-1@mail.example.com>", "<0100abc-000000@email.amazonses.com>"
    em.set_content("Attached.")
    em.add_attachment(b"%PDF" + bytes(range(256)) * 64, maintype="application", subtype="pdf", filename="cv.pdf")
    raw = em.as_bytes().replace(b"\n", newline) if newline == b"\r\n" else em.as_bytes()
    body = multipart(base_fields(email=raw)).replace(b"\r\n", newline) if newline == b"\n" else multipart(base_fields(email=raw))
    full, quick = parse_request(CT, body), parse_request(CT, body, quick=True)
    same = ("sender", "to", "cc", "envelope_to", "subject", "message_id", "in_reply_to", "references", "fingerprint")
    assert {k: getattr(quick, k) for k in same} == {k: getattr(full, k) for k in same}
    assert full.attachments and not quick.attachments and quick.text is None  # the bodies are left to the full parse


def test_quick_split_decodes_a_base64_part_and_skips_parts_without_a_name():
    body = (
        f'preamble\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="text"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
        f"{base64.b64encode(b'hello').decode()}\r\n--{BOUNDARY}\r\nContent-Type: text/plain\r\n\r\nno name\r\n--{BOUNDARY}--\r\n"
    ).encode()
    assert [(p.name, p.data) for p in parse_form(CT, body, quick=True)] == [("text", b"hello")]


def test_ses_verdicts_take_fail_from_any_copy_and_the_envelope_recipient_from_the_top_received():
    from email import policy
    from email.parser import BytesParser

    from parley.domain.inbound_email import _verdicts, ses_envelope_recipients

    head = (
        b"Received: from mx.example.com by inbound-smtp.us-east-1.amazonaws.com with SMTP id abc\r\n for reply+c-1@reply.acme.example;"
        b" Sun, 06 Dec 2026 09:00:00 +0000\r\nX-SES-Spam-Verdict: PASS\r\nX-SES-Virus-Verdict: PASS\r\n"
        b"Received: from evil by somewhere for <someone@else.example>; Sun, 06 Dec 2026 08:00:00 +0000\r\nX-SES-Virus-Verdict: FAIL\r\n\r\n"
    )
    msg = BytesParser(policy=policy.default).parsebytes(head)
    assert _verdicts(msg) == ("PASS", "FAIL")
    assert ses_envelope_recipients(msg) == ["reply+c-1@reply.acme.example"]
