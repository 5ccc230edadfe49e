"""Turn a stored message into what a provider sends."""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from parley.models.domain import Message

if TYPE_CHECKING:
    from parley.providers.base import OutboundEmail

_HTML = re.compile(r"<\s*(html|body|p|div|br|a|span|table|h[1-6]|ul|ol|li|strong|em|b|i|img)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^>]+>")
_INVISIBLE = re.compile(r"<\s*(head|style|script|title)\b[^>]*>.*?<\s*/\s*\1\s*>", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BLOCK = re.compile(r"<\s*(br|/p|/div|/h[1-6]|/li|/tr)\b[^>]*>", re.I)


def looks_like_html(body: str) -> bool:
    return bool(_HTML.search(body))


def html_to_text(body: str) -> str:
    text = _INVISIBLE.sub("", _COMMENT.sub("", body))
    text = _BLOCK.sub("\n", text)
    text = _TAG.sub("", text)
    return html.unescape(re.sub(r"\n{3,}", "\n\n", text)).strip()


def render_email(msg: Message) -> OutboundEmail:
    from parley.providers.base import OutboundEmail  # the dispatcher's; the CRM models need only the text helpers

    if looks_like_html(msg.body):
        # A stored plain-text alternative (a template's text body) wins over one derived from the HTML.
        html_body, text_body = msg.body, msg.body_text if msg.body_text is not None else html_to_text(msg.body)
    else:
        html_body, text_body = None, msg.body
    return OutboundEmail(
        message_id=msg.id,
        tenant_id=msg.tenant_id,
        sender=msg.sender,
        sender_name=msg.sender_name,
        recipient=msg.recipient,
        subject=msg.subject,
        html=html_body,
        text=text_body,
        reply_to=msg.reply_to,
        to=tuple(msg.recipients),
        cc=tuple(msg.cc),
        bcc=tuple(msg.bcc),
    )
