"""The archival history of one channel (GET /communications/{email|sms}/v1/history): both directions, oldest first."""

from __future__ import annotations

from typing import Literal

from parley.dal import messages
from parley.domain import phones, windows
from parley.domain.windows import OffsetPage
from parley.models.domain import Message


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
