"""The archival history of one channel (GET /communications/{email|sms}/v1/history): both directions, oldest first."""

from __future__ import annotations

from typing import Literal

from parley import clock
from parley.dal import messages
from parley.domain import phones, windows
from parley.domain.context import Caller
from parley.domain.windows import OffsetPage
from parley.models.candidate import EmailCommunicationData, EmailHistoryResponse, Pagination
from parley.models.domain import Message
from parley.models.sms import SmsCommunicationData, SmsHistoryResponse


def channel_history(
    tenant_id: str,
    channel: Literal["email", "sms"],
    *,
    from_time: str,
    to_time: str,
    limit: int,
    offset: int,
    address: str | None = None,
    candidate_id: str | None = None,
    region: str = phones.DEFAULT_REGION,
) -> tuple[list[Message], OffsetPage]:
    """Messages of ``channel`` in the window, optionally only those exchanged with ``address`` (an email
    address, or a phone number: read as E.164 in the tenant's ``region``) and/or filed under ``candidate_id``:
    a page and its paging facts."""
    span = windows.window(from_time, to_time)
    windows.check_paging(offset, limit)
    if channel == "sms" and address:
        address = phones.require(address, region, "phone")
    found, total = messages.history(
        tenant_id,
        channel=channel,
        start=span.start,
        end=span.end,
        offset=offset,
        limit=limit,
        address=address or None,
        candidate_id=candidate_id or None,
    )
    return found, OffsetPage(offset=offset, limit=limit, total=total, returned=len(found))


def email_history(caller: Caller, from_time: str, to_time: str, limit: int, offset: int, *, address: str | None = None,
                  candidate_id: str | None = None) -> EmailHistoryResponse:  # fmt: skip
    """``GET /communications/email/v1/history``: the page, as the candidate API answers it."""
    found, page = channel_history(caller.tenant_id, "email", from_time=from_time, to_time=to_time, limit=limit, offset=offset,
                                  address=address, candidate_id=candidate_id)  # fmt: skip
    data = [
        EmailCommunicationData(sender=m.sender, recipient=m.recipient, timeStamp=clock.iso(m.created_at), subject=m.subject,
                               emailBody=m.body, messageType=m.direction, recruiterId=m.recruiter_id, candidateId=m.candidate_id)
        for m in found
    ]  # fmt: skip
    return EmailHistoryResponse(pagination=Pagination(**page.as_pagination), data=data, status=200)


def sms_history(caller: Caller, from_time: str, to_time: str, limit: int, offset: int, *, address: str | None = None,
                candidate_id: str | None = None) -> SmsHistoryResponse:  # fmt: skip
    """``GET /communications/sms/v1/history``: the page, as the candidate API answers it (``address`` read in the
    tenant's country)."""
    found, page = channel_history(caller.tenant_id, "sms", from_time=from_time, to_time=to_time, limit=limit, offset=offset,
                                  address=address, candidate_id=candidate_id, region=caller.default_country)  # fmt: skip
    data = [
        SmsCommunicationData(sender=m.sender, recipient=m.recipient, timeStamp=clock.iso(m.created_at), messageBody=m.body,
                             messageType=m.direction, recruiterId=m.recruiter_id, candidateId=m.candidate_id)
        for m in found
    ]  # fmt: skip
    return SmsHistoryResponse(pagination=Pagination(**page.as_pagination), data=data, status=200)
