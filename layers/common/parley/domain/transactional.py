"""Archival reads of communication with candidates.

The transactional archive (candidate API): which candidates a tenant exchanged email (or SMS)
   with in a time window.

Served by the contact index (``dal/contacts.py``): one item per candidate per channel per UTC day,
written with each message. A window is read one day-partition at a time (a key range each, no Scan,
no message read), the times kept in each item decide the partial first and last days exactly, and the
candidates are de-duplicated across days. Read amplification: items read = Σ over the window's days
of the distinct candidates contacted that day (≤ the messages in the window), in ⌈days⌉ Queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from parley import clock
from parley.dal import contacts
from parley.domain import windows
from parley.domain.context import Caller
from parley.domain.windows import OffsetPage
from parley.errors import BadRequest
from parley.models.candidate import Pagination
from parley.models.profiles import EmailContact, SmsContact, TransactionalEmailResponse, TransactionalSmsResponse

MAX_DAYS = 366  # one Query per day: a longer window is refused rather than left to time out


@dataclass(frozen=True)
class Contact:
    candidate_id: str
    address: str
    first_ms: int  # the candidate's first message time inside the window


def contacted(tenant_id: str, channel: str, *, from_time: str, to_time: str, limit: int, offset: int) -> tuple[list[Contact], OffsetPage]:
    """The distinct candidates with at least one ``channel`` message (either direction) in the window,
    ordered by their first message in it (then by id): a page of them and the paging facts."""
    span = windows.window(from_time, to_time)
    windows.check_paging(offset, limit, limit_name="pageLimit")
    first_day, last_day = span.start.date(), span.end.date()
    days = (last_day - first_day).days + 1
    if days > MAX_DAYS:
        raise BadRequest(f"the window spans {days} days; at most {MAX_DAYS} are allowed")
    lo, hi = clock.epoch_ms(span.start), clock.epoch_ms(span.end)
    found: dict[str, Contact] = {}
    for n in range(days):
        for item in contacts.on_day(tenant_id, channel, first_day + timedelta(days=n)):
            inside = [t for t in item.get("times", ()) if lo <= t <= hi]
            if not inside:
                continue
            cid = item["candidate_id"]
            seen = found.get(cid)
            # the address of the latest day wins (a candidate's address may change)
            found[cid] = Contact(cid, item.get("address", ""), min(inside) if seen is None else min(seen.first_ms, *inside))
    ordered = sorted(found.values(), key=lambda c: (c.first_ms, c.candidate_id))
    page = ordered[offset : offset + limit]
    return page, OffsetPage(offset=offset, limit=limit, total=len(ordered), returned=len(page))


def email_contacts(caller: Caller, from_time: str, to_time: str, limit: int, offset: int) -> TransactionalEmailResponse:
    """``GET /communications/email/v1/transactional/email``, as the candidate API answers it."""
    found, page = contacted(caller.tenant_id, "email", from_time=from_time, to_time=to_time, limit=limit, offset=offset)
    data = [EmailContact(candidateId=c.candidate_id, candidateEmail=c.address) for c in found]
    return TransactionalEmailResponse(pagination=Pagination(**page.as_pagination), data=data, status=200)


def sms_contacts(caller: Caller, from_time: str, to_time: str, limit: int, offset: int) -> TransactionalSmsResponse:
    """``GET /communications/sms/v1/transactional/sms``, as the candidate API answers it."""
    found, page = contacted(caller.tenant_id, "sms", from_time=from_time, to_time=to_time, limit=limit, offset=offset)
    data = [SmsContact(candidateId=c.candidate_id, candidatePhone=c.address) for c in found]
    return TransactionalSmsResponse(pagination=Pagination(**page.as_pagination), data=data, status=200)
