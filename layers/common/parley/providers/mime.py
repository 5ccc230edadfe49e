"""Raw MIME messages, for an email that carries attachments (SES v2 ``Content.Raw``): stdlib ``email`` only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate, make_msgid


@dataclass(frozen=True)
class Attachment:
    """A file sent as a MIME attachment."""

    filename: str
    content_type: str  # a bare media type: "application/pdf"
    data: bytes


def build_mime(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    text: str | None = None,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    sender_name: str = "",
    cc: Sequence[str] = (),
    reply_to: str | None = None,
    headers: Mapping[str, str] | None = None,
    message_id_domain: str | None = None,
) -> bytes:
    """A raw MIME message: the text and/or HTML body (multipart/alternative when both), and the attachments as
    base64 parts of a multipart/mixed (``Content-Disposition: attachment`` with the filename, RFC 2231 when it is not
    ASCII). No Bcc header (the envelope carries Bcc). CRLF line ends, as SES's raw send takes them."""
    msg = EmailMessage(policy=SMTP)
    msg["From"] = formataddr((sender_name, sender)) if sender_name else sender
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = make_msgid(domain=message_id_domain or sender.rsplit("@", 1)[-1])
    if reply_to:
        msg["Reply-To"] = reply_to
    for name, value in (headers or {}).items():
        msg[name] = value
    if text is not None or html is None:
        msg.set_content(text or "", subtype="plain", charset="utf-8")
        if html is not None:
            msg.add_alternative(html, subtype="html", charset="utf-8")
    else:
        msg.set_content(html, subtype="html", charset="utf-8")
    for att in attachments:
        maintype, _, subtype = att.content_type.partition("/")
        msg.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg.as_bytes()
