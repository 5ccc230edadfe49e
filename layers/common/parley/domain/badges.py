"""Badge counters (seed 003 ``badge-counts``, docs/courier.md "User notifications and badges"): per individual and type
(``appointment``, …), the numbers an app shows on its icon. A write is an upsert per (individual, type) and the last
write by ``timestamp`` wins (reading-003 §13); ``total`` is the badge an APNs push carries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from parley import clock
from parley.dal import badges as store
from parley.errors import NotFound, Unprocessable
from parley.models.user_notifications import BadgeCountAttributes, BadgeCountInput


def _required(attrs: BadgeCountInput, pointer: str) -> None:
    for name, member in (("individual_id", "individual-id"), ("type", "type"), ("count", "count")):
        if getattr(attrs, name) is None:
            raise Unprocessable(f"{member} is required", pointer=f"{pointer}/{member}", code="missing-member")


def check(attrs: BadgeCountInput, pointer: str = "/data/attributes") -> None:
    """422 naming the first required member missing (``individual-id``, ``type``, ``count``)."""
    _required(attrs, pointer)


def set_count(tenant_id: str, attrs: BadgeCountInput) -> tuple[str, BadgeCountAttributes]:
    """Upsert one counter (``check`` first): the counter as it stands afterwards (the stored one when this write was
    older than it)."""
    now = clock.iso(clock.now())
    fields: dict[str, Any] = {
        "individual_id": attrs.individual_id,
        "kind": attrs.type,
        "count": attrs.count,
        "timestamp": attrs.timestamp or now,
        "organization_id": attrs.organization_id,
        "last_modified_at": now,
    }
    _, stored = store.put_if_newer(tenant_id, fields)
    return stored["id"], view(stored)


def set_many(tenant_id: str, values: list[BadgeCountInput], *, check_individual: Callable[[str, str], None]) -> int:
    """``bulk-badge-counts``: every value checked (required members, ``check_individual(individual, pointer)``) before
    any is written, then upserted in order. Returns how many were written (older ones are not)."""
    for i, attrs in enumerate(values):
        pointer = f"/data/attributes/values/{i}"
        _required(attrs, pointer)
        check_individual(attrs.individual_id or "", f"{pointer}/individual-id")
    written = 0
    for attrs in values:
        now = clock.iso(clock.now())
        fields = {"individual_id": attrs.individual_id, "kind": attrs.type, "count": attrs.count, "timestamp": attrs.timestamp or now,
                  "organization_id": attrs.organization_id, "last_modified_at": now}  # fmt: skip
        written += store.put_if_newer(tenant_id, fields)[0]
    return written


def stored(tenant_id: str, badge_id: str) -> dict[str, Any]:
    found = store.get(tenant_id, badge_id)
    if found is None:
        raise NotFound(f"no badge-count {badge_id!r}", code="not-found")
    return found


def listing(tenant_id: str, individual_id: str, organization_id: str | None = None) -> list[tuple[str, BadgeCountAttributes]]:
    """The individual's counters by type (``organization-id``: only those set for that organization)."""
    items = store.of_individual(tenant_id, individual_id)
    return [(i["id"], view(i)) for i in items if organization_id is None or i.get("organization_id") == organization_id]


def total(tenant_id: str, individual_id: str | None) -> int:
    """The individual's badge: the sum of its counters (0 without an individual or counters)."""
    if not individual_id:
        return 0
    return sum(int(i.get("count", 0)) for i in store.of_individual(tenant_id, individual_id))


def view(stored: dict[str, Any]) -> BadgeCountAttributes:
    return BadgeCountAttributes(
        count=int(stored["count"]),
        individual_id=stored["individual_id"],
        last_modified_at=stored["last_modified_at"],
        organization_id=stored.get("organization_id"),
        timestamp=stored["timestamp"],
        type=stored["kind"],
    )
