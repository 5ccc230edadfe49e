"""Offline members' pushes (docs/courier.md "Messaging" → "SMS bridge and offline pushes"): a hook of
``parley.domain.channel_events``.

For each ``message-posted``, every member other than the author who is offline (no open WebSocket connection:
``parley.domain.live.connected``), keeps the channel's notifications on (the member item's ``notify``, default on)
and is not SMS-bridged gets one push on each of their owner user's devices (``parley.domain.push.deliver``: at most
once per notification and device), with

- **collapse id = the channel**: a platform that holds several pushes of one channel shows the newest only;
- **a burst is one push**: a member is pushed for a channel at most once per ``COLLAPSE_SECONDS`` unless they read the
  channel since the last push (``ack_time`` after ``push_at``): a conditional write on the member item decides;
- **badge** = the member's unread total over their channels (the messages area's ``unread`` on their member items).

The notification id is a ``uuid5`` of the event and the member: a redelivered event claims nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from parley import clock
from parley.dal import channel_bridge as store

COLLAPSE_SECONDS = 60
MAX_BODY = 240
_NAMESPACE = uuid.UUID("5b7a2d14-3c9e-4f61-8e0a-b6c4d2e1f907")


def notification_id(event_id: str, individual_id: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{event_id}\n{individual_id}\npush"))


def unread_total(tenant_id: str, individual_id: str) -> int:
    """The individual's unread messages over all their channels (their member items' ``unread``)."""
    return sum(max(int(i.get("unread") or 0), 0) for i in store.unread_counts(tenant_id, individual_id))


def content(channel: dict[str, Any], author: str | None, text: str, event: Any) -> Any:
    from parley.models.notifications import NotificationData, PushContent

    title = channel.get("name") or channel.get("label") or "New message"
    body = f"{author}: {text}" if author else text
    body = body if len(body) <= MAX_BODY else body[: MAX_BODY - 1] + "…"
    data = {"type": "messaging-message", "channel-id": event.channel_id, "message-id": event.message_id}
    push = PushContent(title=str(title), body=body, category="messaging-message", data=data)
    return NotificationData(apn=push, fcm=push, web={"title": str(title), "body": body, "data": data})


def apply(event: Any) -> None:
    if event.kind != "message-posted" or event.data.get("source") == "system":  # a join/leave message is not pushed
        return
    from parley.domain import channel_bridge, channels, live, push

    channel = channels.get_channel_item(event.tenant_id, event.channel_id)
    if channel is None:
        return
    author = event.data.get("individual_id") or event.actor_individual_id
    text = str(event.data.get("message") or "").strip()
    if not text:
        return
    members = channel_bridge.member_items(event.tenant_id, event.channel_id)
    if event.member_ids is not None:
        wanted = set(event.member_ids)
        members = [m for m in members if m["individual_id"] in wanted]
    targets = [m for m in members if m["individual_id"] != author and m.get("notify", True) is not False and not m.get("sms")]
    if not targets:
        return
    region = "US"
    who = channel_bridge.people(event.tenant_id, [m["individual_id"] for m in targets] + ([author] if author else []), region)
    name = who[author].name if author and author in who else None
    data = content(channel, name, text, event)
    for m in targets:
        individual = m["individual_id"]
        person = who.get(individual)
        if person is None or person.user_id is None or not person.has_app:
            continue  # no device that takes a push
        if live.connected(event.tenant_id, individual):
            continue  # they see it live
        now = clock.now()
        if not store.claim_push(event.tenant_id, event.channel_id, individual, event.id, clock.iso(now),
                                clock.iso(now - timedelta(seconds=COLLAPSE_SECONDS))):  # fmt: skip
            continue  # pushed for this channel moments ago, not read since: the burst is one push
        push.deliver(event.tenant_id, person.user_id, notification_id(event.id, individual), data,
                     badge=unread_total(event.tenant_id, individual), collapse_id=event.channel_id)  # fmt: skip
