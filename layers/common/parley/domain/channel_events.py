"""The channels' events (docs/courier.md "Messaging", docs/architecture.md "Channel events").

``publish`` is called by an API function after its write commits: the event goes to ChannelEventsQueue. ``handle`` is
ChannelEventsFunction's: it applies one event through every hook in ``HOOKS``, in order. A hook is a module with
``apply(event: ChannelEvent) -> None``; it must be idempotent (SQS delivers at least once: ``event.id`` says which
event it is), and must raise only when the whole event should be retried.

The hooks are imported when the first event is handled, never by the API functions (cold start).
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from parley.models.channel_events import ChannelEvent, Kind

# The modules that apply an event, in order (each area adds its own; docs/courier.md "Messaging").
HOOKS: tuple[str, ...] = (
    "parley.domain.channel_inbox",  # the members' inbox state (large channels; small ones are written by the post)
    "parley.domain.communication_summaries",  # the members' communication summaries (received messages, per kind and sender)
    "parley.domain.live",  # live updates: each event to the members' WebSocket connections
    "parley.domain.channel_bridge",  # the SMS bridge: relays to bridged members (after the inbox state and live updates)
    "parley.domain.channel_push",  # offline members' pushes (after the bridge)
    "parley.domain.courier_events",  # channel-created / members-added on the courier events bus (announcers)
    "parley.domain.channel_responders",  # auto-replies (last: a reply is a new post with its own events)
)


def new(tenant_id: str, channel_id: str, kind: Kind, *, actor_individual_id: str | None = None, message_id: str | None = None,
        data: dict[str, Any] | None = None, at: str | None = None) -> ChannelEvent:  # fmt: skip
    """An event with a fresh id, stamped now (UTC) unless ``at`` is given."""
    return ChannelEvent(tenant_id=tenant_id, channel_id=channel_id, kind=kind, id=str(uuid.uuid4()),
                        at=at or datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                        actor_individual_id=actor_individual_id, message_id=message_id, data=data or {})  # fmt: skip


def publish(events: ChannelEvent | Iterable[ChannelEvent]) -> None:
    """Queue the events for ChannelEventsFunction (up to 10 per SendMessageBatch)."""
    from parley.dal import channel_events as queue

    batch = [events] if isinstance(events, ChannelEvent) else list(events)
    if batch:
        queue.send([e.model_dump_json(exclude_none=True) for e in batch])


def handle(event: ChannelEvent) -> None:
    """Apply ``event`` through every hook, in order."""
    for name in HOOKS:
        importlib.import_module(name).apply(event)


def parse(body: str) -> ChannelEvent:
    return ChannelEvent.model_validate_json(body)
