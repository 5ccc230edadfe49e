"""Twilio's webhooks at Lambda Function URLs: inbound SMS (with STOP/START keywords) and status callbacks.

Twilio is configured with ``<function url>?tenant=<tenantId>``. Every request must carry a valid
``X-Twilio-Signature`` computed with that tenant's auth token (``twilio_auth_token`` in the tenant's
credentials secret) over the full public URL, query string included, and the form parameters. A
missing or wrong signature, an unknown tenant and a tenant without a token are all the same 403.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import messages, secrets, sms_status
from parley.domain import candidates, phones
from parley.domain import optins as optin_domain
from parley.domain.ids import new_id
from parley.errors import BadRequest, ParleyError
from parley.models.domain import ActivityEvent, Message, MessageStatus

logger = Logger(child=True)

PROVIDER = "twilio"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})

# Twilio's outbound message states, in the order they can happen. A callback only moves a message
# forward: delivered/undelivered/failed are final (same rank, so one never replaces another), "read"
# (WhatsApp/RCS) may still follow them.
STATUS_RANK: dict[str, int] = {
    "accepted": 0,
    "scheduled": 0,
    "queued": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "canceled": 4,
    "read": 5,
}

MAX_BODY_CHARS = 16_000  # Twilio caps an SMS body at 1,600 characters; anything far beyond is not Twilio
_TENANT_ID = re.compile(r"[A-Za-z0-9_-]{1,128}")
_PHONE = re.compile(r"\+?[0-9]{3,15}")


class Forbidden(ParleyError):
    """The request is not signed by the tenant's Twilio account (whatever the reason: never said which)."""

    status = 403


FORBIDDEN_MESSAGE = "invalid Twilio signature"


# ── pure helpers ──
def keyword(body: str) -> tuple[bool, str] | None:
    """``(opt in?, KEYWORD)`` when the whole body (trimmed, any case) is an opt-out or opt-in keyword."""
    word = (body or "").strip().upper()
    if word in STOP_KEYWORDS:
        return False, word
    if word in START_KEYWORDS:
        return True, word
    return None


def rank(status: str) -> int | None:
    """Where a Twilio ``MessageStatus`` sits in the forward-only order (None: not an outbound delivery state)."""
    return STATUS_RANK.get((status or "").strip().lower())


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def public_url(event: dict[str, Any]) -> str:
    """The URL the caller requested, as it signed it, rebuilt from a Function URL (payload 2.0) event.

    Host from the ``host`` header (else ``requestContext.domainName``); scheme https unless
    ``x-forwarded-proto`` says http; ``x-forwarded-prefix`` is where the local gateway mounts the
    function (``/_url/<LogicalId>``); then the raw path and the raw query string, untouched.
    """
    headers = _headers(event)
    host = headers.get("host") or (event.get("requestContext") or {}).get("domainName") or ""
    proto = headers.get("x-forwarded-proto", "https").split(",")[0].strip().lower()
    if proto not in ("http", "https"):
        proto = "https"
    prefix = headers.get("x-forwarded-prefix", "").rstrip("/")
    if prefix and not prefix.startswith("/"):
        prefix = ""
    path = event.get("rawPath") or "/"
    query = event.get("rawQueryString") or ""
    return f"{proto}://{host}{prefix}{path}" + (f"?{query}" if query else "")


def tenant_of(event: dict[str, Any]) -> str | None:
    """The ``tenant`` query parameter (the last one if repeated), if it looks like a tenant id."""
    values = parse_qs(event.get("rawQueryString") or "", keep_blank_values=True).get("tenant") or []
    value = values[-1] if values else ""
    return value if _TENANT_ID.fullmatch(value) else None


class Form(dict[str, list[str]]):
    """Form parameters, every value a list (repeated names kept); ``getlist`` is what Twilio's validator reads."""

    def getlist(self, name: str) -> list[str]:
        return self[name]

    def one(self, name: str) -> str:
        values = self.get(name) or [""]
        return values[-1]


def parse_form(event: dict[str, Any]) -> Form:
    """The ``application/x-www-form-urlencoded`` body of a Function URL event (base64 or not). 400 if it is not one."""
    ctype = _headers(event).get("content-type", "application/x-www-form-urlencoded").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        raise BadRequest("Content-Type must be application/x-www-form-urlencoded")
    raw = event.get("body") or ""
    try:
        data = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else raw.encode()
        text = data.decode("utf-8")
        pairs = parse_qs(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict", max_num_fields=200)
    except (binascii.Error, UnicodeError, ValueError) as err:
        raise BadRequest("request body is not a valid form-encoded body") from err
    return Form(pairs)


def signature_valid(token: str, url: str, form: Form, signature: str, settings_header: str | None = None) -> bool:
    """Twilio's own check (``twilio.request_validator``, imported only here: it is only needed here)."""
    from twilio.request_validator import RequestValidator, get_signature_algorithm

    algorithm = get_signature_algorithm(settings_header)
    return bool(RequestValidator(token).validate(url, form, signature, algorithm=algorithm))


# ── flows ──
@dataclass(frozen=True)
class Verified:
    tenant_id: str
    form: Form


def verify(event: dict[str, Any]) -> Verified:
    """The tenant and the form of a request signed by that tenant's Twilio account; else 403 (or 400 for a body
    that is not a form at all, which cannot be checked)."""
    form = parse_form(event)
    tenant_id = tenant_of(event)
    headers = _headers(event)
    signature = headers.get("x-twilio-signature", "").strip()
    if not tenant_id or not signature:
        raise Forbidden(FORBIDDEN_MESSAGE)
    token = str(secrets.tenant_secret(tenant_id).get("twilio_auth_token") or "")
    if not token:
        logger.warning("Twilio webhook for a tenant without a twilio_auth_token", extra={"tenant_id": tenant_id})
        raise Forbidden(FORBIDDEN_MESSAGE)
    if not signature_valid(token, public_url(event), form, signature, headers.get("x-twilio-webhooks-signature-settings")):
        logger.warning("Twilio webhook with an invalid signature", extra={"tenant_id": tenant_id, "url": public_url(event)})
        raise Forbidden(FORBIDDEN_MESSAGE)
    return Verified(tenant_id, form)


def _required(form: Form, *names: str) -> list[str]:
    values = [form.one(n).strip() for n in names]
    missing = [n for n, v in zip(names, values, strict=True) if not v]
    if missing:
        raise BadRequest(f"missing form parameters: {', '.join(missing)}")
    return values


def _phone(value: str, name: str) -> str:
    cleaned = re.sub(r"[\s().-]", "", value)
    if not _PHONE.fullmatch(cleaned):
        raise BadRequest(f"{name} must be a phone number")
    return cleaned


@dataclass(frozen=True)
class Inbound:
    message_id: str
    created: bool  # False: this MessageSid was stored already (a Twilio retry)
    keyword: str | None


def check_inbound(form: Form) -> tuple[str, str, str, str]:
    """An inbound SMS form's ``(MessageSid, From, To, Body)``, or ``BadRequest`` (checked before it is queued)."""
    sid, sender, recipient = _required(form, "MessageSid", "From", "To")
    sender = _phone(sender, "From")
    body = form.one("Body")
    if len(sid) > 64 or len(recipient) > 64:
        raise BadRequest("MessageSid and To must be at most 64 characters")
    if len(body) > MAX_BODY_CHARS:
        raise BadRequest(f"Body must be at most {MAX_BODY_CHARS} characters")
    return sid, sender, recipient, body


def sender_e164(tenant_id: str, sender: str) -> str:
    """The sender as the key its consent and its messages are kept under: E.164 (Twilio sends ``From`` so; a number
    without ``+`` is read in the tenant's default country). A sender that is no possible number (a short code) is
    kept as sent."""
    region = phones.DEFAULT_REGION
    if not sender.startswith("+"):
        from parley.dal import tenants

        tenant = tenants.get(tenant_id)
        region = tenant.default_country if tenant else region
    return phones.best_effort(sender, region)


def receive_sms(tenant_id: str, form: Form) -> Inbound:
    """Store an inbound SMS once per MessageSid; a STOP/START keyword changes the sender's consent in the same write."""
    sid, sender, recipient, body = check_inbound(form)
    sender = sender_e164(tenant_id, sender)
    existing = messages.find_by_provider_id(tenant_id, PROVIDER, sid)
    if existing:
        return Inbound(existing, False, None)
    message_id = new_id()
    now = clock.now()
    media = []
    for i in range(min(_int(form.one("NumMedia")), 10)):
        url = form.one(f"MediaUrl{i}")
        if url:
            media.append({"url": url, "contentType": form.one(f"MediaContentType{i}")})
    msg = Message(
        tenant_id=tenant_id,
        id=message_id,
        channel="sms",
        direction="inbound",
        status=MessageStatus.RECEIVED,
        source_api="candidate",
        kind="reply",
        sender=sender,
        recipient=recipient,
        body=body,
        candidate_id=candidates.resolve(tenant_id, phone=sender),
        conversation_id=sms_status.latest_conversation(tenant_id, sender) or message_id,
        provider=PROVIDER,
        provider_message_id=sid,
        attachments=media,
        created_at=now,
    )
    found = keyword(body) or keyword(form.one("OptOutType"))  # OptOutType: Twilio Advanced Opt-Out's own reading
    optin = None
    if found is not None:
        opt_in, word = found
        entry = optin_domain.history_entry(
            sender, phone=sender, opt_in=opt_in, reason=f"keyword {word}", communication_id=message_id, now_ms=clock.epoch_ms(now)
        )
        optin = (opt_in, entry)
    if not sms_status.store_inbound(msg, optin=optin):
        # stored meanwhile by a concurrent delivery of the same MessageSid
        return Inbound(messages.find_by_provider_id(tenant_id, PROVIDER, sid) or message_id, False, None)
    return Inbound(message_id, True, found[1] if found else None)


def _int(value: str) -> int:
    try:
        return max(int(value), 0)
    except ValueError:
        return 0


@dataclass(frozen=True)
class StatusOutcome:
    result: str  # applied | stale | unknown_message | ignored_status
    message_id: str | None = None


def check_status(form: Form) -> tuple[str, str]:
    """A status callback form's ``(MessageSid, status)``, or ``BadRequest`` (checked before it is queued)."""
    (sid,) = _required(form, "MessageSid")
    status = (form.one("MessageStatus") or form.one("SmsStatus")).strip().lower()
    if not status:
        raise BadRequest("missing form parameters: MessageStatus")
    if len(sid) > 64:
        raise BadRequest("MessageSid must be at most 64 characters")
    return sid, status


def apply_status(tenant_id: str, form: Form) -> StatusOutcome:
    """Record a status callback on our message: forward only, with its activity event, atomically."""
    sid, status = check_status(form)
    position = rank(status)
    if position is None:
        logger.info("Twilio status callback with a state we do not track", extra={"tenant_id": tenant_id, "status": status[:40]})
        return StatusOutcome("ignored_status")
    message_id = messages.find_by_provider_id(tenant_id, PROVIDER, sid)
    if message_id is None:
        logger.warning("Twilio status callback for an unknown MessageSid", extra={"tenant_id": tenant_id, "sid": sid})
        return StatusOutcome("unknown_message")
    error_code = form.one("ErrorCode").strip()[:32] or None
    response = f"twilio: {status}" + (f" (ErrorCode {error_code})" if error_code else "")
    event = ActivityEvent(
        message_id=message_id,
        event_id=new_id(),
        event=status,
        email=phones.best_effort(form.one("To").strip()[:64]),
        created_ms=clock.epoch_ms(clock.now()),
        response=response,
    )
    applied = sms_status.advance(tenant_id, message_id, delivery_status=status.upper(), rank=position, event=event, error_code=error_code)
    return StatusOutcome("applied" if applied else "stale", message_id)
