"""SMS opt-in (consent) per phone number or email, with its history.

A phone number is keyed in E.164 (``domain.phones.require``, read in the tenant's ``default_country``), so
``(555) 555-0100`` written by the API and Twilio's ``+15555550100`` are one consent record."""

from __future__ import annotations

import math
from typing import Any

from parley import clock
from parley.dal import optins
from parley.domain import phones, windows
from parley.domain.ids import new_id
from parley.errors import BadRequest


def _addresses(phone: str | None, email: str | None) -> list[str]:
    found = [a for a in (phone, email.lower() if email else None) if a]
    if not found:
        raise BadRequest("phoneNumber or email is required")
    return found


def status(tenant_id: str, *, phone: str | None, email: str | None, region: str = phones.DEFAULT_REGION) -> tuple[bool, str]:
    """(opted in?, the address it was decided by). No record means not opted in."""
    phone = phones.optional(phone, region)
    for address in _addresses(phone, email):
        state = optins.get_state(tenant_id, address)
        if state is not None:
            return bool(state["opted_in"]), address
    return False, _addresses(phone, email)[0]


def update(
    tenant_id: str,
    *,
    phone: str | None,
    email: str | None,
    opt_in: bool,
    reason: str,
    communication_id: str | None = None,
    region: str = phones.DEFAULT_REGION,
) -> list[str]:
    """Set consent for each given address (a phone number in E.164); every change appends a history entry."""
    phone = phones.optional(phone, region)
    now_ms = clock.epoch_ms(clock.now())
    addresses = _addresses(phone, email)
    for address in addresses:
        entry = history_entry(address, phone=phone, opt_in=opt_in, reason=reason, communication_id=communication_id, now_ms=now_ms)
        optins.record(tenant_id, address, opted_in=opt_in, entry=entry)
    return addresses


def history_entry(
    address: str, *, phone: str | None, opt_in: bool, reason: str, communication_id: str | None, now_ms: int
) -> dict[str, Any]:
    """One change of an address's consent, as its history keeps it."""
    entry: dict[str, Any] = {
        "id": new_id(),
        "phone_number": phone or "",
        "address": address,
        "action_type": "OPT_IN" if opt_in else "OPT_OUT",
        "reason": reason,
        "created_ms": now_ms,
    }
    if communication_id:
        entry["communication_id"] = communication_id
    return entry


def history(
    tenant_id: str, *, phone: str, page: int, size: int, communication_id: str | None, region: str = phones.DEFAULT_REGION
) -> dict[str, Any]:
    """The seed's Spring ``Page`` of changes, newest first. ``offset`` is the page index (PageRequest.of)."""
    windows.check_paging(page, size, limit_name="size")
    phone = phones.require(phone, region)
    items, total = optins.history_page(tenant_id, phone, page=page, size=size, communication_id=communication_id)
    content = [
        {
            "phoneNumber": i["phone_number"] or i["address"],
            "actionType": i["action_type"],
            "reason": i["reason"],
            "createdDate": i["created_ms"],
        }
        for i in items
    ]
    pages = math.ceil(total / size)
    return {
        "content": content,
        "pageable": {"pageNumber": page, "pageSize": size, "offset": page * size},
        "last": page >= pages - 1,
        "totalElements": total,
        "totalPages": pages,
        "first": page == 0,
        "size": size,
        "number": page,
        "numberOfElements": len(content),
        "empty": not content,
    }
