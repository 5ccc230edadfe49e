"""Forwarding a candidate's profile to a colleague, and the record of those forwards.

The forward is an email ABOUT the candidate sent to someone else, so its message is not filed under
the candidate (``candidate_id`` stays unset): it never shows up as communication with the candidate
(their history, the ATS messages, the transactional archive). The candidate is named in the forward
activity item instead, which is what GET /forward-profile/activity reads.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import urlsplit

from parley import clock
from parley.dal import contacts, forwards
from parley.domain import candidates, emails, limits, users, windows
from parley.domain.context import Sender
from parley.domain.idempotency import send_once
from parley.domain.windows import OffsetPage
from parley.errors import BadRequest
from parley.models.domain import Candidate

SOURCE = "forward-profile"
KIND = "forward_profile"


def _full_name(firstname: str, lastname: str) -> str:
    return " ".join(p for p in (firstname.strip(), lastname.strip()) if p)


def _last_contact(tenant_id: str, candidate_id: str) -> str:
    item = contacts.latest_message(tenant_id, candidate_id)
    if not item:
        return "no messages yet"
    way = "sent to the candidate" if item.get("direction") == "outbound" else "received from the candidate"
    return f"{item.get('channel', '').upper()} {way} at {item.get('created_at', '')}"


def _safe_link(url: str) -> str | None:
    """``url`` if it is an absolute http(s) URL (never a ``javascript:`` or other scheme in an href)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme in ("http", "https") and parts.netloc else None


def compose(candidate: Candidate, *, forwarded_by: str, last_contact: str) -> tuple[str, str]:
    """The profile email: (HTML, plain text). Every value is HTML-escaped in the HTML part."""
    name = _full_name(candidate.firstname, candidate.lastname) or candidate.email or candidate.phone
    rows = [
        ("Name", name),
        ("Email", candidate.email),
        ("Phone", candidate.phone),
        ("Headline", candidate.headline),
        ("Location", candidate.location),
        ("Profile", candidate.profile_url),
        ("Last contact", last_contact),
    ]
    rows = [(label, value) for label, value in rows if value]
    esc = html.escape
    cells = []
    for label, value in rows:
        link = _safe_link(value) if label == "Profile" else None
        shown = f'<a href="{esc(link, quote=True)}">{esc(value)}</a>' if link else esc(value)
        cells.append(f'<tr><th align="left" style="padding-right:12px">{esc(label)}</th><td>{shown}</td></tr>')
    html_body = f"<p>{esc(forwarded_by)} shared a candidate profile with you.</p><h2>{esc(name)}</h2><table>{''.join(cells)}</table>"
    text_body = "\n".join(
        [f"{forwarded_by} shared a candidate profile with you.", "", name, ""] + [f"{label}: {value}" for label, value in rows]
    )
    return html_body, text_body


def forward_profile(sender: Sender, *, subject: str, to_email: str, candidate_email: str, to_name: str = "") -> str:
    """POST /communications/email/v1/forward-profile: queue the profile email; returns its emailActivityId. The
    sender's user is the recruiter who forwards it."""
    caller, recruiter_id = sender.caller, sender.user_id
    tenant_id = caller.tenant_id
    candidate = candidates.find(tenant_id, email=candidate_email)
    if candidate is None:
        raise BadRequest(f"candidateEmail {candidate_email} is not a candidate of this tenant")

    @limits.sending(caller)  # the tenant's send rate and daily quota (429 beyond), counted once per accepted send
    def accept() -> dict[str, Any]:
        user = users.get(tenant_id, recruiter_id)
        forwarded_by = (_full_name(user.firstname, user.lastname) if user else "") or recruiter_id
        html_body, text_body = compose(candidate, forwarded_by=forwarded_by, last_contact=_last_contact(tenant_id, candidate.id))
        msg = emails.new_outbound_email(
            caller, source_api="candidate", recipient=to_email, subject=subject, body=html_body, recruiter_id=recruiter_id
        )
        msg = msg.model_copy(update={"kind": KIND, "auto": False, "body_text": text_body})
        created_ms = clock.epoch_ms(msg.created_at)
        activity = {
            "createdDate": created_ms,
            "toName": to_name,
            "toEmail": to_email,
            "fromName": msg.sender_name,
            "fromEmail": msg.sender,
            "subject": subject,
            "source": SOURCE,
            "emailActivityId": msg.id,
            "candidateId": candidate.id,
            "recruiterId": recruiter_id,
        }
        key_email = candidate_email.lower()
        forwards.put(tenant_id, key_email, activity)
        try:
            emails.submit(msg)
        except Exception:
            forwards.delete(tenant_id, key_email, created_ms, msg.id)  # no activity for a forward that was not accepted
            raise
        return {"message_id": msg.id}

    payload = {
        "subject": subject,
        "to": to_email.lower(),
        "toName": to_name,
        "candidate": candidate_email.lower(),
        "recruiter": recruiter_id,
    }
    return send_once(sender, "email.forward_profile", payload, accept)["message_id"]


ACTIVITY_FIELDS = ("createdDate", "toName", "subject", "fromName", "toEmail", "fromEmail", "source", "emailActivityId")


def forward_activity(
    tenant_id: str, *, email: str, offset: int, limit: int, communication_id: str | None = None
) -> tuple[list[dict[str, Any]], OffsetPage]:
    """GET /communications/email/v1/forward-profile/activity: a candidate's forwards, newest first."""
    windows.check_paging(offset, limit)
    items, total = forwards.page(tenant_id, email, offset=offset, limit=limit, communication_id=communication_id or None)
    return [{k: i.get(k, "") for k in ACTIVITY_FIELDS} for i in items], OffsetPage(
        offset=offset, limit=limit, total=total, returned=len(items)
    )
