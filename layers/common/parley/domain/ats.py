"""The ATS messages of one applicant (seed 002): every email exchanged with one candidate, any API."""

from __future__ import annotations

import html

from parley import clock
from parley.dal import contacts, messages
from parley.domain import candidates, users
from parley.domain.rendering import html_to_text, looks_like_html
from parley.errors import BadRequest, NotFound
from parley.models.ats import FIELDS, AtsAuthor, AtsCandidate, AtsMail, AtsMessage
from parley.models.domain import Message, MessageStatus

# Delivery states a provider reports for mail that did not reach the mailbox.
UNDELIVERED = frozenset({"BOUNCED", "BOUNCE", "UNDELIVERED", "FAILED", "DROPPED", "BLOCKED", "REJECTED"})
MAX_ID = 128


def parse_fields(raw: str | None) -> set[str]:
    """``"author, mail,,candidate"`` → ``{"author", "mail", "candidate"}``; an unknown name → 400."""
    names = {f.strip() for f in (raw or "").split(",") if f.strip()}
    unknown = sorted(names - set(FIELDS))
    if unknown:
        raise BadRequest(f"unknown fields: {', '.join(unknown)} (known: {', '.join(FIELDS)})")
    return names


def _delivered(msg: Message) -> bool:
    if msg.direction == "inbound":
        return True
    return msg.status == MessageStatus.SENT and (msg.delivery_status or "").upper() not in UNDELIVERED


def _deliver_at(msg: Message) -> str | None:
    when = msg.sent_at or msg.scheduled_at or (msg.created_at if msg.direction == "inbound" else None)
    return clock.iso(when) if when else None


def _mail(msg: Message) -> AtsMail:
    body = messages.load_body(msg).body
    if looks_like_html(body):
        html_body, text = body, msg.body_text or html_to_text(body)
    else:
        text = msg.body_text or body
        html_body = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in text.split("\n\n") if p.strip())
    return AtsMail(subject=msg.subject, text=text, html=html_body, status=msg.delivery_status)


def _replied(msgs: list[Message]) -> dict[str, bool]:
    """Per message: did the other side write later in the same conversation (an inbound message after an
    outbound one; an outbound answer after an inbound one)."""
    latest: dict[tuple[str, str], str] = {}
    for m in msgs:
        key = (m.conversation_id, m.direction)
        latest[key] = max(latest.get(key, ""), clock.iso(m.created_at))
    other = {"outbound": "inbound", "inbound": "outbound"}
    return {m.id: latest.get((m.conversation_id, other[m.direction]), "") > clock.iso(m.created_at) for m in msgs}


def applicant_messages(tenant_id: str, company_id: str, applicant_id: str, fields: set[str]) -> list[dict]:
    """GET /company/{companyID}/applicant/{applicantID}/messages: the applicant's email, oldest first.

    ``companyID`` is the caller's tenant id and ``applicantID`` a candidate id of that tenant; anything
    else is 404 (another tenant's ids included). Messages come from the candidate index (GSI4, EMAIL
    range), so mail sent or received through any API family is listed. Read-only: a recruiter the users
    directory has not numbered (``users.number`` runs on the send paths) shows ``created_by`` null.
    """
    if company_id != tenant_id:
        raise NotFound("no such company")
    candidate = candidates.get(tenant_id, applicant_id) if 0 < len(applicant_id) <= MAX_ID else None
    if candidate is None:
        raise NotFound("no such applicant")
    msgs = contacts.candidate_messages(tenant_id, applicant_id, "email")
    authors = users.known(tenant_id, {m.recruiter_id for m in msgs if m.direction == "outbound" and m.recruiter_id})
    replied = _replied(msgs) if "replied" in fields else {}
    out = []
    for m in msgs:
        author = authors.get(m.recruiter_id or "") if m.direction == "outbound" else None
        item = AtsMessage(
            id=m.id,
            created_by=author.numeric_id if author else None,
            created_at=clock.iso(m.created_at),
            auto=m.auto,
            delivered=_delivered(m),
            deliver_at=_deliver_at(m),
        )
        if "mail" in fields:
            item.mail = _mail(m)
        if "author" in fields:
            if m.direction == "inbound":  # the candidate wrote it
                item.author = AtsAuthor(firstname=candidate.firstname, lastname=candidate.lastname)
            elif author is not None or m.recruiter_id:  # a recruiter the directory lacks has "" names
                item.author = AtsAuthor(firstname=author.firstname if author else "", lastname=author.lastname if author else "")
            else:
                item.author = AtsAuthor()
        if "candidate" in fields:
            item.candidate = AtsCandidate(firstname=candidate.firstname, lastname=candidate.lastname, email=candidate.email)
        if "attachments" in fields:
            item.attachments = list(m.attachments)
        if "replied" in fields:
            item.replied = replied[m.id]
        out.append(item.shown())
    return out
