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
- ``channel-created``: a messaging channel was created (API, bulk auto-create, …). Detail: ``channel-id``,
  ``organization-id``, ``individual-group-id`` (when bound), ``individual-ids`` (its first members; at most 500) and
  ``individual-count``,
  ``actor-individual-id``.
- ``members-added``: individuals joined an existing channel (subscribe, the directory, move-group). Detail:
  ``channel-id``, ``organization-id``, ``individual-group-id``?, ``individual-ids`` (the new ones), ``actor-individual-id``.

The channel events come from the channel-events hook ``apply`` (ChannelEventsFunction, after the inbox, live, bridge
and push hooks): the channel's write paths already publish a ChannelEvent, so no API function needs the bus.

Emitting is configured by ``COURIER_EVENTS_BUS_NAME`` (the functions that emit have it; see template.yaml): where
it is empty (a tool run without the stack) nothing is emitted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Literal

EventName = Literal["individual-shared", "individual-unshared", "channel-created", "members-added"]
EVENTS: tuple[str, ...] = ("individual-shared", "individual-unshared", "channel-created", "members-added")
MAX_IDS = 500  # an event's detail is at most 256 KB: a larger channel's first 500 (individual-count says how many)
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


def apply(event: Any) -> None:
    """The channel-events hook: a ``members-added`` ChannelEvent becomes ``channel-created`` (the creation's, marked
    ``data.channel_created``) or ``members-added`` on the bus; its id derives from the channel event's (a redelivered
    or member-batched event emits the same id: announcers post once)."""
    if event.kind != "members-added" or not event.data.get("individual_ids"):
        return
    from parley.dal import courier_events as bus

    if not bus.bus_name():
        return
    from parley.dal import channels

    channel = channels.get_channel(event.tenant_id, event.channel_id)
    if channel is None:
        return
    name = "channel-created" if event.data.get("channel_created") else "members-added"
    detail: dict[str, Any] = {
        "event-id": event_id(event.tenant_id, name, event.id),
        "channel-id": event.channel_id,
        "organization-id": channel.get("organization_id"),
        "individual-ids": list(event.data["individual_ids"])[:MAX_IDS],
        "individual-count": len(event.data["individual_ids"]),
    }
    if channel.get("individual_group_id"):
        detail["individual-group-id"] = channel["individual_group_id"]
    if event.actor_individual_id:
        detail["actor-individual-id"] = event.actor_individual_id
    emit(event.tenant_id, [(name, {k: v for k, v in detail.items() if v is not None})])
