"""The courier events (docs/courier.md "Announcers and the courier events bus"): what Parley's courier write paths
emit on the EventBridge bus ``CourierEventsBus`` (source ``parley.courier``, detail-type = the event's name), which a
rule delivers to AutomationQueue, where each becomes an ``announce`` job (parley.domain.announcers.run).

Every event's detail carries ``tenant-id`` and ``event-id``: a DETERMINISTIC id (uuid5 of what happened), so that a
write path that runs twice (a redelivered directory event) emits the same id and announcers post once per
``(announcer, event-id)``.

Events (the announcers' ``event`` enum):

- ``individual-shared``: an individual was added to an individual-group by the directory (the group is "shared" with
  it: it joins the group's channels). Detail: ``individual-id``, ``individual-group-id``, ``organization-id`` (the
  group's, if it has one), ``sync-time`` (the directory change's last-sync-time).
- ``individual-unshared``: an individual left an individual-group (same detail).

Emitting is configured by ``COURIER_EVENTS_BUS_NAME`` (the functions that emit have it; see template.yaml): where
it is empty (a tool run without the stack) nothing is emitted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Literal

EventName = Literal["individual-shared", "individual-unshared"]
EVENTS: tuple[str, ...] = ("individual-shared", "individual-unshared")
_NAMESPACE = uuid.UUID("6f1c8e52-3b7d-4c53-9a0e-5c1b1e6f0a19")


def event_id(tenant_id: str, name: str, *parts: str) -> str:
    """The deterministic id of an event: the same happening gives the same id."""
    return str(uuid.uuid5(_NAMESPACE, "\n".join([tenant_id, name, *parts])))


def emit(tenant_id: str, events: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Put ``(name, detail)`` events on the bus (``tenant-id`` added); returns how many (0 when no bus is configured)."""
    from parley.dal import courier_events as bus

    entries = [(name, {**detail, "tenant-id": tenant_id}) for name, detail in events]
    if not entries or not bus.bus_name():
        return 0
    bus.put(entries)
    return len(entries)


def group_changed(tenant_id: str, group_id: str, before: Iterable[str], after: Iterable[str], *, organization_id: str | None,
                  sync_time: str) -> int:  # fmt: skip
    """``individual-shared`` for each individual new to the group, ``individual-unshared`` for each who left it."""
    old, new = set(before), set(after)
    out: list[tuple[str, dict[str, Any]]] = []
    for name, ids in (("individual-shared", sorted(new - old)), ("individual-unshared", sorted(old - new))):
        for ind in ids:
            detail = {"event-id": event_id(tenant_id, name, group_id, ind, sync_time), "individual-id": ind,
                      "individual-group-id": group_id, "sync-time": sync_time}  # fmt: skip
            if organization_id:
                detail["organization-id"] = organization_id
            out.append((name, detail))
    return emit(tenant_id, out)
