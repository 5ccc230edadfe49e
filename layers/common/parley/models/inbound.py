"""Inbound email (Inbound Parse → POST /communications/email/v1/reply, SES receiving): the parsed mail, the queue pointer, the response."""

from typing import Literal

from pydantic import ConfigDict, Field

from parley.models.base import Model


class Address(Model):
    name: str = ""
    address: str  # as written; compare lower-cased


class AttachmentInfo(Model):
    """Metadata only: the content is not stored."""

    filename: str = ""
    contentType: str = "application/octet-stream"
    size: int = 0


class InboundEmail(Model):
    """What a SendGrid Inbound Parse post says, decoded: form fields plus the parsed MIME message."""

    model_config = ConfigDict(extra="ignore")

    sender: Address
    to: list[Address] = []
    cc: list[Address] = []
    envelope_to: list[str] = []
    envelope_from: str = ""
    subject: str = ""
    text: str | None = None
    html: str | None = None
    message_id: str | None = None  # RFC 5322 Message-ID, "<…@…>"
    in_reply_to: list[str] = []  # message ids, "<…@…>", in header order
    references: list[str] = []
    attachments: list[AttachmentInfo] = []
    sender_ip: str = ""
    spf: str = ""
    dkim: str = ""
    spam_score: str = ""
    fingerprint: str  # sha256 of the raw content: the dedupe key when there is no Message-ID

    def recipients(self) -> list[str]:
        """Every address the mail was delivered or addressed to (envelope first), lower-cased, without repeats."""
        seen: dict[str, None] = {}
        for addr in [*self.envelope_to, *(a.address for a in self.to), *(a.address for a in self.cc)]:
            if addr:
                seen.setdefault(addr.strip().lower(), None)
        return list(seen)


class ParsePointer(Model):
    """The inbound queue's message for a kept Inbound Parse post (``inbound_email.accept_reply``)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["inbound-parse"] = "inbound-parse"
    tenant_id: str
    message_id: str  # claimed for the post's Message-ID (``ref``): the MessageSid already answered
    ref: str
    key: str  # the raw post in the inbound bucket
    content_type: str = ""  # the post's Content-Type (boundary included)


class ReplyAck(Model):
    model_config = ConfigDict(extra="forbid")

    MessageSid: str = Field(description="The unique message identifier generated for the reply.")


class WebhookEmailReplyResponse(Model):
    """``{"status": 200, "data": {"MessageSid": "<uuid>"}}``."""

    status: int
    data: ReplyAck
