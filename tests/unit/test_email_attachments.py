"""user-email-attachments without AWS: the type check by bytes (``sniff``), the declared content-type's rules, the
attribute models (file names), and the raw MIME message the send path builds (attachments byte-identical)."""

from __future__ import annotations

import io
import os
import zipfile
from email import message_from_bytes
from email.policy import default

import pytest
from pydantic import ValidationError

from parley.domain import email_attachments as att
from parley.errors import Unprocessable
from parley.models.courier_email_attachments import AttachmentCreateAttributes, UploadTicket


def office(part: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr(part, "<x/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("kind", "data", "ok"),
    [
        ("application/pdf", b"%PDF-1.4\n...", True),
        ("application/pdf", b"<html>%PDF-", False),
        ("image/png", b"\x89PNG\r\n\x1a\n....", True),
        ("image/png", b"\x89PNG", False),  # truncated signature
        ("image/jpeg", b"\xff\xd8\xff\xdb", True),
        ("image/gif", b"GIF87a..", True),
        ("image/gif", b"GIF90a..", False),
        (att.DOCX, office("word/document.xml"), True),
        (att.XLSX, office("xl/workbook.xml"), True),
        (att.XLSX, office("word/document.xml"), False),
        (att.DOCX, b"PK\x03\x04 not a zip", False),
        (att.DOCX, b"%PDF-", False),
        ("text/plain", "héllo\r\nwörld".encode(), True),
        ("text/plain", b"", True),
        ("text/csv", b"a,b\n1,2\n", True),
        ("text/plain", b"\xff\xfe h\x00i", False),  # UTF-16
        ("text/plain", b"a\x00b", False),
        ("text/plain", b"%PDF-1.4 pretending", False),
        ("text/plain", office("word/document.xml"), False),
        ("application/zip", b"PK\x03\x04", False),  # not an allowed type at all
    ],
)
def test_sniff_checks_the_bytes_against_the_declared_type(kind, data, ok):
    assert att.sniff(kind, data[: att.SNIFF_BYTES], data) is ok


def test_sniff_of_a_head_allows_a_utf8_character_cut_at_its_end():
    text = "é" * 10
    head = text.encode()[:5]  # the third é cut in half
    assert att.sniff("text/plain", head, None) is True
    assert att.sniff("text/plain", head, head) is False  # as a whole file: invalid UTF-8


@pytest.mark.parametrize(
    ("declared", "kind"),
    [("application/PDF", "application/pdf"), ("text/plain; charset=UTF-8", "text/plain"), (' text/csv ; charset="us-ascii"', "text/csv")],
)
def test_media_type_normalises_allowed_types(declared, kind):
    assert att.media_type(declared) == kind


@pytest.mark.parametrize(
    "declared", ["text/html", "application/octet-stream", "image/svg+xml", "text/plain; charset=latin-1", "image/png; x=1"]
)
def test_media_type_refuses_others_naming_the_attribute(declared):
    with pytest.raises(Unprocessable) as err:
        att.media_type(declared)
    assert err.value.pointer == "/data/attributes/content-type" and err.value.code == "type-not-allowed"


@pytest.mark.parametrize("name", ["report.pdf", "Résumé 2026.docx", "a" * 255, ".profile"])
def test_file_names_taken(name):
    assert AttachmentCreateAttributes(content_type="text/plain", email_id="e-1", filename=name).filename == name


@pytest.mark.parametrize("name", ["", "a/b.pdf", "..\\x", "a\nb", "x\x00", "..", " lead.pdf", "trail.pdf ", "a" * 256])
def test_file_names_refused(name):
    with pytest.raises(ValidationError):
        AttachmentCreateAttributes.model_validate({"content-type": "text/plain", "email-id": "e-1", "filename": name})


def test_upload_ticket_is_dasherized_plain_json():
    ticket = UploadTicket(id="a-1", upload_url="https://b.s3.amazonaws.com/", upload_data={"key": "k"}, expiration_time=1_800_000_000)
    assert ticket.model_dump(by_alias=True) == {
        "id": "a-1",
        "upload-url": "https://b.s3.amazonaws.com/",
        "upload-data": {"key": "k"},
        "expiration-time": 1_800_000_000,
    }


def test_build_mime_attachments_parse_back_byte_identical():
    files = [
        att.ReadyAttachment("care-plan.pdf", "application/pdf", b"%PDF-1.7\n" + os.urandom(5000)),
        att.ReadyAttachment("Überweisung.png", "image/png", b"\x89PNG\r\n\x1a\n" + os.urandom(3000)),
        att.ReadyAttachment("notes.txt", "text/plain", b"line one\r\nline two\nno final newline"),
        att.ReadyAttachment("sheet.xlsx", att.XLSX, office("xl/workbook.xml")),
    ]
    raw = att.build_mime(
        sender="no-reply@parley.example", sender_name="Northside Clinic", to=["pat@example.com", "sam@example.com"],
        subject="Your care plan, ünïcode", text="See attached.", html="<p>See attached.</p>", attachments=files,
        reply_to="care@parley.example",
    )  # fmt: skip
    assert b"\r\n" in raw and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    msg = message_from_bytes(raw, policy=default)
    assert msg.get_content_type() == "multipart/mixed"
    assert msg["Subject"] == "Your care plan, ünïcode" and msg["To"] == "pat@example.com, sam@example.com"
    assert msg["From"] == "Northside Clinic <no-reply@parley.example>" and msg["Reply-To"] == "care@parley.example"
    assert msg["Message-ID"].endswith("@parley.example>")
    body = msg.get_body(preferencelist=("plain",))
    assert body.get_content().strip() == "See attached."
    assert msg.get_body(preferencelist=("html",)).get_content().strip() == "<p>See attached.</p>"
    parts = list(msg.iter_attachments())
    assert [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in parts] == [
        (f.filename, f.content_type, f.data) for f in files
    ]
    assert all(p.get_content_disposition() == "attachment" and p["Content-Transfer-Encoding"] == "base64" for p in parts)


def test_build_mime_without_attachments_or_text():
    raw = att.build_mime(sender="a@parley.example", to=["b@example.com"], subject="Hi", html="<b>Hi</b>")
    msg = message_from_bytes(raw, policy=default)
    assert msg.get_content_type() == "text/html" and list(msg.iter_attachments()) == []
    assert msg.get_content().strip() == "<b>Hi</b>"


def _outbound(**kw):
    from parley.providers.base import OutboundEmail

    base = dict(message_id="m-1", tenant_id="t-1", sender="no-reply@parley.example", sender_name="Clinic", recipient="pat@example.com",
                subject="Plan", html=None, text="See attached.", bcc=("audit@example.com",), reply_to="care@parley.example")  # fmt: skip
    return OutboundEmail(**{**base, **kw})


def test_ses_sends_raw_mime_only_when_there_are_attachments():
    from parley.providers.ses import SesEmailProvider

    files = (att.Attachment("a.pdf", "application/pdf", b"%PDF-1\x00\xff"),)
    assert set(SesEmailProvider._content(_outbound(), {})) == {"Simple"}
    raw = SesEmailProvider._content(_outbound(attachments=files), {})["Raw"]["Data"]
    msg = message_from_bytes(raw, policy=default)
    assert msg["Reply-To"] == "care@parley.example" and msg["Bcc"] is None  # Bcc only in the envelope
    assert [(p.get_filename(), p.get_payload(decode=True)) for p in msg.iter_attachments()] == [("a.pdf", b"%PDF-1\x00\xff")]


def test_sendgrid_payload_carries_the_attachments_base64():
    import base64

    from parley.providers.sendgrid import SendGridEmailProvider

    assert "attachments" not in SendGridEmailProvider.payload(_outbound())
    files = (att.Attachment("n.txt", "text/plain", "Zoë".encode()),)
    (part,) = SendGridEmailProvider.payload(_outbound(attachments=files))["attachments"]
    assert part == {
        "content": base64.b64encode("Zoë".encode()).decode(),
        "type": "text/plain",
        "filename": "n.txt",
        "disposition": "attachment",
    }
