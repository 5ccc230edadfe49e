"""Changing CRM records: a comment in a message's audit trail (POST /{id}/comment), and deleting records
(DELETE /{id}, DELETE /delete-list).

- A comment goes on any email of the tenant, outbound record or inbound reply (both show ``events[]``).
- Only records (outbound emails, any API) are deleted; inbound replies are not records (decision K5)
  and read as unknown ids here. A scheduled record is cancelled first (its schedule removed), so a
  schedule firing meanwhile finds nothing to send; a record a dispatcher is handing to the provider
  right now (a fresh SENDING claim) is refused with 409, since it may go out whatever is deleted.
- Deleting removes the record's item, its activity events, its tracking-token and provider-id lookup
  items and its S3 body, and lowers the record total. The analytics day counters are history (what was
  sent, opened, clicked on a day) and keep counting it.
"""

from __future__ import annotations

import json
from datetime import timedelta

from parley import clock
from parley.dal import messages, records, schedules
from parley.domain import emails
from parley.domain.ids import new_id
from parley.errors import BadRequest, Conflict, NotFound
from parley.models.domain import TIMELINE_LIMIT, Message, MessageStatus, TimelineEntry
from parley.settings import get_settings

MAX_COMMENT = 4000  # characters of one comment (after trimming)
COMMENT_FIELDS = ("comment", "text", "description")  # a JSON object body carries the text in the first present
_DELETE_ATTEMPTS = 5  # re-reads when the record changes state under a delete


# ───────────── comments ─────────────


def comment_text(body: str | None) -> str:
    """The comment a request body carries: the raw text (the seed's curl sends ``-d 'string'`` as
    application/json), a JSON string literal (unquoted), or a JSON object with ``comment``, ``text`` or
    ``description``. Trimmed; blank or longer than ``MAX_COMMENT`` → 400. Line breaks are kept."""
    if body is None or not body.strip():
        raise BadRequest("the comment text (the request body) is required")
    text = body
    stripped = body.strip()
    if stripped[0] in '"{':
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None  # not JSON after all: the raw text is the comment
        if isinstance(value, str):
            text = value
        elif isinstance(value, dict):
            field = next((f for f in COMMENT_FIELDS if f in value), None)
            if field is None:
                raise BadRequest('a JSON object body must carry the comment in "comment", "text" or "description"')
            if not isinstance(value[field], str):
                raise BadRequest(f"{field} must be a string")
            text = value[field]
    text = text.strip()
    if not text:
        raise BadRequest("the comment must not be blank")
    if len(text) > MAX_COMMENT:
        raise BadRequest(f"the comment must be at most {MAX_COMMENT} characters")
    return text


def add_comment(tenant_id: str, message_id: str, text: str, *, user_id: str | None) -> TimelineEntry:
    """Append a COMMENT event by ``user_id`` to an email of the tenant (and stamp updated/updatedBy)."""
    msg = messages.get(tenant_id, message_id, load_body=False)
    if msg is None or msg.channel != "email":
        raise NotFound(f"communication {message_id} not found")
    entry = TimelineEntry(id=new_id(), type="COMMENT", date=clock.now(), author_id=user_id, description=text)
    try:
        stored = records.append_timeline(tenant_id, message_id, entry, updated_by=user_id)
    except records.TimelineFull as err:
        raise BadRequest(f"communication {message_id} has {TIMELINE_LIMIT} events already; no more comments can be added") from err
    if not stored:
        raise NotFound(f"communication {message_id} not found")
    return entry


# ───────────── deletion ─────────────


def _being_sent(msg: Message) -> bool:
    """A SENDING claim a dispatcher may still be acting on. An older claim is one whose worker died; the
    dispatcher itself gives such a message up (UNCONFIRMED, outcome unknown), so deleting it is safe."""
    if msg.status != MessageStatus.SENDING:
        return False
    if msg.claimed_at is None:
        return True
    return clock.now() - msg.claimed_at < timedelta(seconds=get_settings().send_claim_seconds)


def _delete(msg: Message) -> bool:
    """Delete one record as read; True when this call deleted it, False when it was gone already."""
    cancelled_here = False
    for _ in range(_DELETE_ATTEMPTS):
        if msg.status == MessageStatus.SCHEDULED:
            try:
                cancelled_here = emails.cancel(msg.tenant_id, msg.id)  # SCHEDULED → CANCELLED, schedule deleted, race-safe
            except NotFound:
                return False
        else:
            if _being_sent(msg):
                raise Conflict(f"communication {msg.id} is being sent right now; try again in a moment")
            pending = msg.status == MessageStatus.CANCELLED and msg.scheduled_at and msg.scheduled_at > clock.now()
            if pending and not cancelled_here:
                schedules.delete(msg.id)  # an earlier cancel may have stopped before removing its schedule
            if records.delete_record(msg):
                return True
        current = messages.get(msg.tenant_id, msg.id, load_body=False)
        if current is None:
            return False
        msg = current
    raise Conflict(f"communication {msg.id} changed while it was being deleted; try again")


def delete(tenant_id: str, message_id: str) -> None:
    """DELETE /{id}: the tenant's record, or 404 (unknown, another tenant's, an inbound reply, an SMS)."""
    msg = messages.get(tenant_id, message_id, load_body=False)
    if msg is None or not messages.is_record(msg):
        raise NotFound(f"communication record {message_id} not found")
    _delete(msg)  # False: a concurrent delete won; the record is gone either way


def delete_many(tenant_id: str, ids: list[str]) -> int:
    """DELETE /delete-list: every listed record of the tenant; ids that name none are ignored. Returns how
    many this call deleted. Records being sent are left, after the others are deleted, and named in a 409."""
    if not ids:
        raise BadRequest("ids is required (?ids=a&ids=b or ?ids=a,b)")
    deleted = 0
    busy: list[str] = []
    for msg in records.get_many(tenant_id, ids):
        if not messages.is_record(msg):
            continue
        try:
            deleted += _delete(msg)
        except Conflict:
            busy.append(msg.id)
    if busy:
        raise Conflict(f"not deleted, being sent right now (try again in a moment): {', '.join(busy)}; the other records were deleted")
    return deleted
