"""Bookmarks: messages pinned in a channel (messaging-bookmarks, seed 003; docs/courier.md "Attachments and bookmarks").

Only the channel's members see or make them (a non-member, and another tenant, gets 404 as for an unknown id).
``allow-multi-message=false`` (the default) keeps one per channel: the channel's other bookmarks are deleted. The
same message pinned again answers its existing bookmark. The channel item's ``bookmark`` ``{id, message_id,
created_at}`` is the newest (set conditionally on being newer; when the newest is deleted, the next newest takes its
place), which the inbox and the channel read.
"""

from __future__ import annotations

from typing import Any

from parley import clock
from parley.dal import channel_bookmarks as store
from parley.dal import directory
from parley.domain.ids import new_id
from parley.errors import NotFound, Unprocessable
from parley.models.channel_bookmarks import BookmarkAttributes, BookmarkCreateAttributes, Ref


def _require_member(tenant_id: str, channel_id: str, individual_id: str, **where: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from parley.domain import channels  # helper A's interface

    return channels.require_member(tenant_id, channel_id, individual_id, **where)


def _require_message(tenant_id: str, message_id: str, individual_id: str, **where: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    from parley.domain import channel_messages  # helper B's interface

    return channel_messages.require_message(tenant_id, message_id, individual_id, **where)


def _attributes(item: dict[str, Any]) -> BookmarkAttributes:
    return BookmarkAttributes(
        channel=Ref(id=item["channel_id"]),
        created_at=item["created_at"],
        created_by=Ref(id=item["created_by"]) if item.get("created_by") else None,  # None: its creator was purged
        message=Ref(id=item["message_id"]),
        organization_id=item.get("organization_id"),
    )


def _summary(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "message_id": item["message_id"], "created_at": item["created_at"]}


def create(
    tenant_id: str, individual_id: str, attrs: BookmarkCreateAttributes, *, user_id: str | None = None
) -> tuple[tuple[str, BookmarkAttributes], bool]:
    """The bookmark and whether it is new (False: this message was pinned in the channel already)."""
    channel, _ = _require_member(tenant_id, attrs.channel_id, individual_id, pointer="/data/attributes/channel-id")
    message, message_channel = _require_message(tenant_id, attrs.message_id, individual_id, pointer="/data/attributes/message-id")
    if str(message.get("channel_id") or message_channel.get("id")) != attrs.channel_id:
        raise Unprocessable("the message is not in this channel", pointer="/data/attributes/message-id", code="message-not-in-channel")
    existing = store.of_channel(tenant_id, attrs.channel_id)
    same = next((b for b in existing if b["message_id"] == attrs.message_id), None)
    if same is None:
        item = {
            "tenant_id": tenant_id,
            "id": new_id(),
            "channel_id": attrs.channel_id,
            "message_id": attrs.message_id,
            "organization_id": channel.get("organization_id"),
            "created_at": clock.iso(clock.now()),
            "created_by": individual_id,
            **({"created_by_user": user_id} if user_id else {}),
        }
        store.create(item)
        if store.set_newest(tenant_id, attrs.channel_id, _summary(item)):
            _copies_follow(tenant_id, attrs.channel_id, individual_id)
    else:
        item = same
    if not attrs.allow_multi_message:
        for other in existing:
            if other["id"] != item["id"]:
                store.delete(tenant_id, other["id"])
        if same is not None:  # the kept one is the newest now
            _renew(tenant_id, attrs.channel_id, item)
    return (item["id"], _attributes(item)), same is None


def _renew(tenant_id: str, channel_id: str, kept: dict[str, Any]) -> None:
    """After deletions: the channel's ``bookmark`` is ``kept`` (it was another, deleted one, or this one)."""
    if store.put_newest(tenant_id, channel_id, _summary(kept)):
        _copies_follow(tenant_id, channel_id, None)


def _copies_follow(tenant_id: str, channel_id: str, actor: str | None) -> None:
    """The channel's ``bookmark`` is in its members' channel copies (``channel_inbox.channel_changed``)."""
    from parley.domain import channel_inbox

    channel_inbox.channel_changed(tenant_id, channel_id, actor=actor)


def get(tenant_id: str, individual_id: str, bookmark_id: str) -> tuple[str, BookmarkAttributes]:
    item = store.get(tenant_id, bookmark_id)
    if item is not None:
        try:
            _require_member(tenant_id, item["channel_id"], individual_id)
        except NotFound:
            item = None
    if item is None:
        raise NotFound(f"no messaging-bookmark {bookmark_id}", code="not-found")
    return bookmark_id, _attributes(item)


def page(
    tenant_id: str, individual_id: str, organization_id: str, *, channel_id: str | None, offset: int, limit: int
) -> tuple[list[tuple[str, BookmarkAttributes]], int]:
    """The organization's bookmarks in the caller's channels (creation order); with ``channel_id`` that channel's
    (a key Query each: GSI6 per channel, GSI3 per organization, whose items are kept where the caller is a member)."""
    if directory.get(tenant_id, "organizations", organization_id) is None:
        raise NotFound(f"no organization {organization_id}", parameter="organization-id", code="not-found")
    if channel_id is not None:
        channel, _ = _require_member(tenant_id, channel_id, individual_id, parameter="filter[channel-id]")
        if channel.get("organization_id") not in (None, organization_id):
            return [], 0
        items, total = store.page_of_channel(tenant_id, channel_id, offset=offset, limit=limit)
        return [(i["id"], _attributes(i)) for i in items], total
    from parley.dal import channels

    every = store.of_organization(tenant_id, organization_id)
    mine = channels.members_by_channel(tenant_id, sorted({i["channel_id"] for i in every}), individual_id)
    visible = [i for i in every if i["channel_id"] in mine]
    return [(i["id"], _attributes(i)) for i in visible[offset : offset + limit]], len(visible)
