"""Amazon SES v2 email provider."""

from __future__ import annotations

from email.utils import formataddr
from typing import Any

from parley.dal.aws import client
from parley.providers.aws_errors import provider_errors
from parley.providers.base import OutboundEmail, Receipt
from parley.providers.mime import build_mime
from parley.settings import get_settings


class SesEmailProvider:
    name = "ses"

    def __init__(self, tenant_id: str = "") -> None:
        self.tenant_id = tenant_id

    @staticmethod
    def _content(email: OutboundEmail, body: dict[str, dict[str, str]]) -> dict[str, Any]:
        """``Simple`` content, or — for an email with attachments — a ``Raw`` MIME message (multipart/mixed) built from
        the same fields; the Destination still names every recipient (Bcc included, which no header shows)."""
        if not email.attachments:
            return {"Simple": {"Subject": {"Data": email.subject, "Charset": "UTF-8"}, "Body": body}}
        raw = build_mime(
            sender=email.sender,
            sender_name=email.sender_name,
            to=email.to_addresses,
            cc=email.cc,
            subject=email.subject,
            text=email.text,
            html=email.html,
            reply_to=email.reply_to,
            headers=email.headers,
            attachments=email.attachments,
        )
        return {"Raw": {"Data": raw}}

    def send(self, email: OutboundEmail) -> Receipt:
        body: dict[str, dict[str, str]] = {}
        if email.html is not None:
            body["Html"] = {"Data": email.html, "Charset": "UTF-8"}
        if email.text is not None:
            body["Text"] = {"Data": email.text, "Charset": "UTF-8"}
        params = {
            "FromEmailAddress": formataddr((email.sender_name, email.sender)) if email.sender_name else email.sender,
            "Destination": {
                "ToAddresses": email.to_addresses,
                **({"CcAddresses": list(email.cc)} if email.cc else {}),
                **({"BccAddresses": list(email.bcc)} if email.bcc else {}),
            },
            "Content": self._content(email, body),
            # Tags come back on SES events, which is how they find their message again.
            "EmailTags": [
                {"Name": "parley_message_id", "Value": email.message_id},
                {"Name": "parley_tenant_id", "Value": email.tenant_id},
            ],
        }
        if email.reply_to and not email.attachments:  # a raw message carries its own Reply-To header
            params["ReplyToAddresses"] = [email.reply_to]
        config_set = get_settings().ses_configuration_set
        if config_set:
            params["ConfigurationSetName"] = config_set
        with provider_errors("ses"):
            out = client("sesv2", retry=False).send_email(**params)
        # SES replaces any Message-ID with its own: <MessageId@email.amazonses.com>. Replies quote it.
        return Receipt(
            provider=self.name, provider_message_id=out["MessageId"], internet_message_id=f"<{out['MessageId']}@email.amazonses.com>"
        )
