"""The CRM's send side (seed 001): send, send-template, schedule, the scheduled list, cancel and resend.

Each send makes one communication record: one outbound email with every To, Cc and Bcc address,
stored and handed to the same pipeline every Parley email takes (``emails.submit`` → send queue →
dispatcher, or ``emails.schedule`` → EventBridge Scheduler → send queue → dispatcher). The response
is the record as accepted: ``PENDING`` (queued) or ``SCHEDULED``; the dispatcher moves it to ``SENT``
(``sentAt``, ``messageId``) or ``FAILED`` (``errorMessage``) a moment later, with a STATUS_CHANGE event.

Before anything is stored every addressee is checked against the tenant's suppression list (400
naming the address), and the record is checked to fit one table item. A resend is a new record in
the same conversation (``parent_id`` = the original), and the original gets a RESEND event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aws_lambda_powertools import Logger

from parley import clock
from parley.dal import messages, records
from parley.domain import candidates, emails, limits, templates, tracking
from parley.domain.context import Caller, Sender
from parley.domain.crm_records import crm_status, to_record
from parley.domain.idempotency import send_once
from parley.domain.ids import new_id
from parley.errors import BadRequest, NotFound
from parley.models.crm import (
    MAX_RECIPIENTS,
    CommunicationRecord,
    ScheduleEmailRequest,
    SendEmailRequest,
    SendTemplateRequest,
)
from parley.models.domain import Message, MessageStatus, TimelineEntry

logger = Logger(child=True)

MAX_VARIABLES_BYTES = 32 * 1024  # of a send's variables as JSON: they are kept in the record's item
# UTF-8 bytes of what stays in the item whatever the body's size (a body over 32 KB goes to S3, but the
# submitted body of a tracked email, a text alternative and the variables do not): the item, with its
# events and links, must stay under DynamoDB's 400 KB.
MAX_INLINE_BYTES = 256 * 1024
MAX_SCHEDULED = 1000  # records GET /scheduled returns (the earliest due)
FIRST_SCHEDULED_PAGE = 100  # records its first Query asks for, before their size is known
RESPONSE_BUDGET = 5 * 1024 * 1024  # bytes of JSON per answer (under Lambda's 6 MB response limit)
RESENDABLE = (MessageStatus.SENT, MessageStatus.FAILED)

SendRequest = SendEmailRequest | SendTemplateRequest


class CrmCaller(Protocol):
    """Who sends (``parley.api.crm.CrmCaller``): the key's tenant and its settings, and the acting user."""

    @property
    def caller(self) -> Caller: ...

    @property
    def user_id(self) -> str | None: ...

    @property
    def tenant_id(self) -> str: ...


@dataclass(frozen=True)
class Content:
    """What an email says, from the request (send, schedule) or a rendered template (send-template)."""

    subject: str
    body: str
    body_text: str | None = None  # a plain-text alternative of an HTML body
    template_id: str | None = None
    template_name: str | None = None
    category: str | None = None  # the template's type: the request's ``type`` wins over it


# ───────────── building a record ─────────────


def _casefold_unique(addresses: list[str], seen: set[str]) -> list[str]:
    out = []
    for address in addresses:
        key = address.lower()
        if key not in seen:
            seen.add(key)
            out.append(address)
    return out


def addressees(to: list[str], cc: list[str], bcc: list[str]) -> tuple[list[str], list[str], list[str]]:
    """To, Cc and Bcc with every address once (case-insensitively; To before Cc before Bcc), at most
    ``MAX_RECIPIENTS`` together (what SES takes in one message)."""
    seen: set[str] = set()
    to, cc, bcc = _casefold_unique(to, seen), _casefold_unique(cc, seen), _casefold_unique(bcc, seen)
    total = len(to) + len(cc) + len(bcc)
    if not to:
        raise BadRequest("recipients: at least one recipient is required")
    if total > MAX_RECIPIENTS:
        raise BadRequest(f"at most {MAX_RECIPIENTS} addresses per email (recipients, cc and bcc together); this one has {total}")
    return to, cc, bcc


def build_message(
    who: CrmCaller,
    req: SendRequest,
    content: Content,
    *,
    candidate_id: str | None = None,
    description: str,
) -> Message:
    """The record a send request describes (QUEUED, not stored, not instrumented for tracking)."""
    to, cc, bcc = addressees(list(req.recipients), list(req.cc), list(req.bcc))
    if not content.body.strip():
        raise BadRequest("body must not be blank")
    if (req.relatedEntityType is None) != (req.relatedEntityId is None):
        raise BadRequest("relatedEntityType and relatedEntityId go together: give both or neither")
    variables_size = len(json.dumps(req.variables, ensure_ascii=False, default=str).encode())
    if variables_size > MAX_VARIABLES_BYTES:
        raise BadRequest(f"variables must be at most {MAX_VARIABLES_BYTES} bytes as JSON (these are {variables_size})")
    msg = emails.new_outbound_email(
        who.caller, source_api="crm", recipient=to[0], subject=content.subject, body=content.body, candidate_id=candidate_id
    )
    now = msg.created_at
    return msg.model_copy(
        update={
            "sender_name": req.senderName if req.senderName is not None else who.caller.sender_name,
            "reply_to": req.replyTo or msg.reply_to,
            "recipients": to,
            "cc": cc,
            "bcc": bcc,
            "body_text": content.body_text,
            "category": req.type or content.category,
            "template_id": content.template_id,
            "template_name": content.template_name,
            "variables": dict(req.variables),
            "related_entity_type": req.relatedEntityType,
            "related_entity_id": req.relatedEntityId,
            "recipient_list_id": req.recipientListId,
            "created_by": who.user_id,
            "tracking_enabled": req.trackingEnabled,
            "link_tracking_enabled": req.linkTrackingEnabled,
            "timeline": [TimelineEntry(id=new_id(), type="CREATE", date=now, author_id=who.user_id, description=description)],
        }
    )


def check_fits(msg: Message) -> None:
    """400 when what the record keeps in its item (beyond a body S3 can take) is too large to store."""
    inline = sum(len((text or "").encode()) for text in (msg.original_body, msg.body_text, msg.subject))
    inline += len(json.dumps(msg.variables, ensure_ascii=False, default=str).encode())
    inline += sum(len(link.url.encode()) + len(link.original_url.encode()) + 64 for link in msg.links)
    if inline > MAX_INLINE_BYTES:
        raise BadRequest(
            f"this email is too large to keep: with tracking its submitted body, text alternative, links and variables take "
            f"{inline} bytes; at most {MAX_INLINE_BYTES}"
        )


def _instrument(msg: Message, base_url: str) -> Message:
    """Tracking pixel and links (when asked for); the submitted body is kept only when it differs from
    what is sent (``originalBody`` reads as ``body`` otherwise), so an untracked body is stored once."""
    msg = tracking.prepare(msg, base_url)
    if msg.original_body == msg.body:
        msg = msg.model_copy(update={"original_body": None})
    check_fits(msg)
    return msg


def _candidate_of(tenant_id: str, address: str) -> str | None:
    found = candidates.find(tenant_id, email=address)
    return found.id if found else None


def _accept(msg: Message, base_url: str, *, at: datetime | None = None, tz_name: str | None = None) -> Message:
    """Check, instrument and store ``msg``: queued now, or scheduled for ``at``. ``emails.submit``/``schedule``
    refuse suppressed addressees before anything is stored; the tracking-token lookup is written in the
    record's own create transaction, so a refused or failed send leaves no token behind."""
    msg = _instrument(msg, base_url)
    token_op = tracking.register_op(msg)
    extra_ops = [token_op] if token_op else []
    return emails.submit(msg, extra_ops=extra_ops) if at is None else emails.schedule(msg, at, tz_name, extra_ops=extra_ops)


def _once(who: Sender, scope: str, payload: dict[str, Any], fn: Callable[[], Message]) -> CommunicationRecord:
    """Run ``fn`` once per Idempotency-Key: the first call answers with the record it made, a repeat with
    that record as it is now (it may have been sent meanwhile)."""
    made: list[Message] = []

    @limits.sending(who.caller)  # the tenant's send rate and daily quota (429 beyond), counted once per accepted send
    def run() -> dict[str, Any]:
        made.append(fn())
        return {"message_id": made[0].id}

    result = send_once(who, scope, {**payload, "user": who.user_id}, run)
    if made:
        return to_record(made[0])
    return to_record(_record(who.tenant_id, result["message_id"]))


# ───────────── the endpoints ─────────────


def _request_content(who: CrmCaller, req: SendEmailRequest) -> Content:
    if req.templateId is None:
        return Content(subject=req.subject, body=req.body)
    # A templateId on /send labels the record (analytics by template): it must be one of the tenant's.
    template = templates.get(who.tenant_id, req.templateId)
    return Content(subject=req.subject, body=req.body, template_id=template.id, template_name=template.name, category=template.type)


def send(who: Sender, req: SendEmailRequest) -> CommunicationRecord:
    """POST /send: accept an email for immediate sending; the answer is the record, PENDING."""

    def accept() -> Message:
        msg = build_message(who, req, _request_content(who, req), description="Email created and queued for sending")
        msg = msg.model_copy(update={"candidate_id": _candidate_of(who.tenant_id, msg.recipient)})
        return _accept(msg, who.base_url)

    return _once(who, "crm.send", req.model_dump(mode="json"), accept)


def send_template(who: Sender, template_id: str, req: SendTemplateRequest) -> CommunicationRecord:
    """POST /send-template/{templateId}: render the tenant's template with ``variables`` and send it.
    404 for an unknown template, 400 naming missing variables."""

    def accept() -> Message:
        rendered = templates.render_for_send(who.tenant_id, template_id, dict(req.variables))
        both = rendered.html is not None and rendered.text is not None
        content = Content(
            subject=rendered.subject,
            body=rendered.html if rendered.html is not None else rendered.text or "",
            body_text=rendered.text if both else None,
            template_id=rendered.template_id,
            template_name=rendered.template_name,
            category=rendered.category,
        )
        msg = build_message(who, req, content, description=f"Email created from template {rendered.template_name} and queued for sending")
        msg = msg.model_copy(update={"candidate_id": _candidate_of(who.tenant_id, msg.recipient)})
        return _accept(msg, who.base_url)

    payload = {"templateId": template_id, **req.model_dump(mode="json")}
    return _once(who, "crm.send_template", payload, accept)


def schedule_time(at: datetime, tz_name: str | None) -> datetime:
    """``scheduledAt`` as an aware time: its own offset, or (without one) a wall-clock time in ``timeZone``.
    An unknown zone, neither an offset nor a zone, or a time not in the future → 400."""
    zone = None
    if tz_name is not None:
        try:
            zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise BadRequest(f"timeZone {tz_name!r} is not an IANA time zone (e.g. Europe/Amsterdam)") from err
    if at.tzinfo is None:
        if zone is None:
            raise BadRequest("scheduledAt must carry an offset (e.g. 2026-05-04T09:30:00+02:00 or …Z), or timeZone must name its zone")
        at = at.replace(tzinfo=zone)
    if at - clock.now() < emails.MIN_SCHEDULE_LEAD:  # checked again by emails.schedule; here before anything is stored
        raise BadRequest(f"scheduledAt must be in the future (at least {emails.MIN_SCHEDULE_LEAD.seconds} s from now)")
    return at


def schedule(who: Sender, req: ScheduleEmailRequest) -> CommunicationRecord:
    """POST /schedule: store the email SCHEDULED and create its one-time schedule; 400 for a time in the past."""

    def accept() -> Message:
        at = schedule_time(req.scheduledAt, req.timeZone)
        msg = build_message(who, req, _request_content(who, req), description=f"Email scheduled for {clock.iso(at)}")
        msg = msg.model_copy(update={"candidate_id": _candidate_of(who.tenant_id, msg.recipient)})
        return _accept(msg, who.base_url, at=at, tz_name=req.timeZone)

    return _once(who, "crm.schedule", req.model_dump(mode="json"), accept)


def _page_size(returned: int, used: int, last_page: tuple[int, int]) -> int:
    """How many records the next Query on the due index asks for: what is still wanted, and no more than the
    rest of ``RESPONSE_BUDGET`` holds at the size of the last page's records (``(count, bytes)``; plus the
    one that shows the budget is spent), so an answer the budget cuts short reads little past its end."""
    want = MAX_SCHEDULED - returned
    count, size = last_page
    if not count:
        return min(want, FIRST_SCHEDULED_PAGE)
    return max(1, min(want, (RESPONSE_BUDGET - used) * count // max(size, 1) + 1))


def scheduled(tenant_id: str) -> list[CommunicationRecord]:
    """GET /scheduled: the tenant's records waiting for their time, the earliest due first: at most
    ``MAX_SCHEDULED``, and no more than fit ``RESPONSE_BUDGET`` (the latest due are left out).

    Read in due order from the due index (``records.scheduled_by_due``), each Query asking only for what is
    still wanted: the records read are the records returned (docs/data-model.md #27b)."""
    out: list[CommunicationRecord] = []
    used = 0
    last_page = (0, 0)
    start = None
    while len(out) < MAX_SCHEDULED:
        page, start = records.scheduled_by_due(tenant_id, limit=_page_size(len(out), used, last_page), start_key=start)
        page_bytes = 0
        for msg in page:
            record = to_record(messages.load_body(msg))
            size = len(record.model_dump_json()) + 1
            if used + size > RESPONSE_BUDGET and out:
                return out
            used += size
            page_bytes += size
            out.append(record)
        if start is None:
            break
        last_page = (len(page), page_bytes) if page else last_page
    return out


def _record(tenant_id: str, message_id: str, *, load_body: bool = True) -> Message:
    """The tenant's record ``message_id``; 404 for unknown ids, other tenants' ids, SMS and inbound emails."""
    msg = messages.get(tenant_id, message_id, load_body=load_body) if 0 < len(message_id) <= 128 else None
    if msg is None or not messages.is_record(msg):
        raise NotFound(f"communication {message_id} not found")
    return msg


def cancel(who: CrmCaller, message_id: str) -> CommunicationRecord:
    """POST /{id}/cancel: SCHEDULED → CANCELLED (its schedule deleted). Any other status → 400; a cancel
    losing the race with the firing schedule sees the record already claimed and gets 400 too."""
    msg = _record(who.tenant_id, message_id, load_body=False)
    if msg.status == MessageStatus.SCHEDULED:
        stamp = {"updated_at": clock.iso(clock.now()), **({"updated_by": who.user_id} if who.user_id else {})}
        if emails.cancel(who.tenant_id, message_id, author_id=who.user_id, extra=stamp):
            return to_record(_record(who.tenant_id, message_id))
        msg = _record(who.tenant_id, message_id, load_body=False)
    raise BadRequest(f"communication {message_id} is {crm_status(msg.status)}; only a scheduled email can be cancelled")


def resend(who: Sender, message_id: str) -> CommunicationRecord:
    """POST /{id}/resend: send a SENT or FAILED record again, as a new record in the same conversation
    (``parent_id`` = the original, tracked afresh with a new token); the original gets a RESEND event."""

    def accept() -> Message:
        original = _record(who.tenant_id, message_id)
        if original.status == MessageStatus.UNCONFIRMED:
            # The provider may have it: a resend could deliver it twice. Its events will confirm it SENT.
            raise BadRequest(
                f"communication {message_id} is UNCONFIRMED: the provider may have sent it (its delivery outcome is not known yet), "
                "so it is not resent; it becomes SENT when the provider reports it"
            )
        if original.status not in RESENDABLE:
            raise BadRequest(f"communication {message_id} is {crm_status(original.status)}; only a SENT or FAILED email can be resent")
        msg = resend_message(who, original)
        msg = _accept(msg, who.base_url)
        entry = TimelineEntry(id=new_id(), type="RESEND", date=clock.now(), author_id=who.user_id, description=f"Resent as {msg.id}")
        try:
            records.append_timeline(who.tenant_id, original.id, entry, updated_by=who.user_id)
        except records.TimelineFull:
            # The resend is out already; the new record's parentId still links the two.
            logger.warning("original's events are full; RESEND event not added", extra={"message_id": original.id, "resend_id": msg.id})
        return msg

    return _once(who, "crm.resend", {"id": message_id}, accept)


def resend_message(who: CrmCaller, original: Message) -> Message:
    """A new QUEUED record with the original's content and addressees (the body as first submitted,
    before any tracking), sent from the tenant's current sender, in the original's conversation."""
    now = clock.now()
    return emails.new_outbound(
        who.caller,
        "email",
        source_api="crm",
        recipient=original.recipient,
        sender_name=original.sender_name,
        recipients=original.all_recipients,
        cc=list(original.cc),
        bcc=list(original.bcc),
        subject=original.subject,
        body=original.original_body if original.original_body is not None else original.body,
        body_text=original.body_text,
        recruiter_id=original.recruiter_id,
        candidate_id=original.candidate_id,
        conversation_id=original.conversation_id,
        reply_to=original.reply_to,
        category=original.category,
        template_id=original.template_id,
        template_name=original.template_name,
        variables=dict(original.variables),
        related_entity_type=original.related_entity_type,
        related_entity_id=original.related_entity_id,
        recipient_list_id=original.recipient_list_id,
        parent_id=original.id,
        created_by=who.user_id,
        created_at=now,
        tracking_enabled=original.tracking_enabled,
        link_tracking_enabled=original.link_tracking_enabled,
        timeline=[TimelineEntry(id=new_id(), type="CREATE", date=now, author_id=who.user_id, description=f"Resend of {original.id}")],
    )
