"""Join and leave messages (seed 003 ``event-settings.enabled``: "post system events"; docs/courier.md "Channels").

When a channel whose ``event-settings.enabled`` is true gains or loses members (subscribe, unsubscribe, its
individual-group changing in the directory), one message says so, in the channel, with ``source: "system"``
(answered with ``user-type: "system"``): "Ana Diaz joined", "Ana Diaz and Ben Ng left", "Ana Diaz, Ben Ng and 3
others joined". It is posted by the change itself, right after its membership write (``channels.subscribe``,
``unsubscribe``, ``sync_group``), so the messages are in the order of the changes and the change's answer already
has its message.

- One message per change, whatever the number of people (a directory change that brings 300 people in is one message).
  The names are in alphabetical order; its ``individual-id`` is the first of the people by id: the message is about
  them, it is not theirs to edit (403).
- Posted like any message (the channel's next seq, the members' inbox state, its own ``message-posted`` event: live
  updates see it), but never relayed by SMS, pushed, counted in the communication summaries or auto-replied to.
- The people who joined have read it (their markers move to it); it is unread for the others.
- Not posted: for the members a new channel starts with, in an archived channel, when the setting is off, for a
  change that changed nothing (a retried subscribe), or for a purge (not a member's act).
- If the process stops between the membership write and the message, the change stands without its message (the
  message is a notice; the membership is the record).
"""

from __future__ import annotations

from typing import Any

NAMED = 2  # names written out before "and N others"
WORDS = {"members-added": "joined", "members-removed": "left"}


def enabled(channel: dict[str, Any] | None) -> bool:
    return bool(channel and ((channel.get("event_settings") or {}).get("enabled")) and not channel.get("archived"))


def _display(attrs: dict[str, Any] | None) -> str | None:
    if not attrs:
        return None
    first = attrs.get("preferred-name") or attrs.get("first-name") or attrs.get("first_name")
    last = attrs.get("last-name") or attrs.get("last_name")
    return " ".join(str(p) for p in (first, last) if p) or None


def text(names: list[str], kind: str) -> str:
    """``Ana Diaz joined`` / ``Ana Diaz and Ben Ng joined`` / ``Ana Diaz, Ben Ng and 3 others joined``."""
    verb = WORDS[kind]
    if len(names) == 1:
        return f"{names[0]} {verb}"
    if len(names) == NAMED:
        return f"{names[0]} and {names[1]} {verb}"
    rest = len(names) - NAMED
    return f"{', '.join(names[:NAMED])} and {rest} other{'s' if rest > 1 else ''} {verb}"


def post(channel: dict[str, Any], kind: str, individual_ids: list[str]) -> dict[str, Any] | None:
    """The message for ``kind`` (``members-added`` / ``members-removed``) of ``individual_ids`` in ``channel`` (the
    channel item as read before the change), when its settings say so: the stored message, else None."""
    people = sorted(set(individual_ids))
    if not people or not enabled(channel):
        return None
    from parley.domain import channel_inbox
    from parley.domain import channel_messages as messages
    from parley.errors import Conflict, NotFound

    tenant_id, channel_id = channel["tenant_id"], channel["id"]
    found, _users = messages._people(tenant_id, set(people), set())
    names = sorted((_display(found.get(i)) or "A member" for i in people), key=str.casefold)
    try:
        item = messages.post(tenant_id, channel_id, people[0], text(names, kind), source=messages.SYSTEM, auto_ack=False)
    except (Conflict, NotFound):  # archived or deleted meanwhile: no message
        return None
    if kind == "members-added":  # the people who joined have read the message about them
        for ind in people:
            channel_inbox.apply_post(tenant_id, channel_id, ind, item, author=True)
    return item
