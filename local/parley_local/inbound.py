"""Mail SES receives, simulated: a reply is written where the receipt rule's S3 action writes it.

On AWS, SES accepts the mail for the reply domain (MX → inbound-smtp.<region>.amazonaws.com), runs the
active rule set's rule (spam and virus scan, then the S3 action) and S3 notifies the inbound queue. Locally
moto holds the rule set but receives no mail, so ``simulate_reply`` plays SES's part: it adds the headers
SES adds (``Return-Path``, a ``Received`` naming the SMTP recipient, the verdicts) and puts the mail into the
rule's bucket under its prefix. From there everything is real: moto's S3 sends the event notification to
the queue, the local stack polls it and runs ``InboundMailFunction``.
"""

from __future__ import annotations

import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from typing import Any

from parley import clock

VERDICTS = ("PASS", "FAIL", "GRAY", "PROCESSING_FAILED")


class SimulationError(ValueError):
    pass


def compose(*, to: str, frm: str, subject: str, text: str, in_reply_to: str | None = None) -> bytes:
    """A plain reply, as a mail client would send it."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = frm, to, subject
    msg["Date"] = format_datetime(clock.now())
    msg["Message-ID"] = make_msgid(domain=(parseaddr(frm)[1].rpartition("@")[2] or "mail.example"))
    if in_reply_to:
        msg["In-Reply-To"] = msg["References"] = in_reply_to
    msg.set_content(text)
    return msg.as_bytes()


def as_received(raw: bytes, *, to_address: str, spam: str = "PASS", virus: str = "PASS") -> bytes:
    """The mail as SES's S3 action stores it: SES's headers on top of the mail as sent."""
    for name, verdict in (("spam", spam), ("virus", virus)):
        if verdict not in VERDICTS:
            raise SimulationError(f"{name} verdict must be one of {', '.join(VERDICTS)}")
    sender = parseaddr(_header(raw, "From"))[1] or "unknown@example.com"
    head = (
        f"Return-Path: <{sender}>\r\n"
        "Received: from parley-local (localhost [127.0.0.1])\r\n"
        f" by inbound-smtp.local.amazonaws.com with SMTP id {uuid.uuid4().hex}\r\n"
        f" for {to_address};\r\n {format_datetime(clock.now())}\r\n"
        f"X-SES-Spam-Verdict: {spam}\r\n"
        f"X-SES-Virus-Verdict: {virus}\r\n"
    )
    return head.encode() + raw


def _header(raw: bytes, name: str) -> str:
    from email import policy
    from email.parser import BytesHeaderParser

    return str(BytesHeaderParser(policy=policy.default).parsebytes(raw).get(name) or "")


def simulate_reply(
    s3: Any, receipt_rules: list[dict[str, Any]], to_address: str, raw_mime: bytes, *, tenant: Any = None, spam: str = "PASS",
    virus: str = "PASS",
) -> dict[str, str]:  # fmt: skip
    """Put ``raw_mime`` (sent to ``to_address``) where the active receipt rule's S3 action writes mail; returns
    ``{bucket, key}``. With ``tenant`` (a ``Tenant``), the address must be on its reply domain."""
    to_address = to_address.strip()
    if "@" not in to_address:
        raise SimulationError("to must be an email address")
    if tenant is not None:
        domain = to_address.rpartition("@")[2].lower()
        if not tenant.reply_domain or domain != tenant.reply_domain.lower():
            raise SimulationError(f"{to_address} is not on the tenant's reply domain ({tenant.reply_domain or 'none set'})")
    rule = _rule_for(receipt_rules, to_address)
    action = next(a["S3Action"] for a in rule["Actions"] if "S3Action" in a)
    key = (action.get("ObjectKeyPrefix") or "") + uuid.uuid4().hex
    s3.put_object(Bucket=action["BucketName"], Key=key, Body=as_received(raw_mime, to_address=to_address, spam=spam, virus=virus))
    return {"bucket": action["BucketName"], "key": key}


def _rule_for(rules: list[dict[str, Any]], address: str) -> dict[str, Any]:
    domain = address.rpartition("@")[2].lower()
    for rule in rules:
        if not rule.get("Enabled", True) or not any("S3Action" in a for a in rule.get("Actions") or []):
            continue
        recipients = [r.lower() for r in rule.get("Recipients") or []]
        subdomain = any(domain.endswith("." + r.lstrip(".")) for r in recipients)
        if not recipients or address.lower() in recipients or domain in recipients or subdomain:
            return rule
    raise SimulationError(f"no receipt rule receives mail for {address}")
