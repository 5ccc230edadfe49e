"""The inbox (seed 003 ``GET /v1/communication-messages/``; docs/courier.md "Messages and the inbox",
docs/data-model.md §6.20): each member's per-channel state, kept on the member item when messages are posted and
acknowledged, and read a page at a time.

State (on the member item): ``head_seq`` — the newest posted seq applied to this member; ``ack_seq`` — the read
marker (with ``ack_message_id``, ``ack_time``); ``unread = head_seq - ack_seq`` stored with them; ``last_time`` — the
newest post's time. Every change is a compare-and-set on the item's inbox version ``iv`` (read, compute, write under
``iv = <read>``, retry): concurrent posts and acks never lose an update, so the count is exact. ``head_seq`` only
grows (a post applied twice, or late, changes nothing: idempotent under SQS redelivery). The index keys move with
the state: GSI6 (last activity), GSI7 (unread count), GSI5 (read-marker time).

Who writes it: for a channel of at most ``channel_messages.SYNC_MEMBERS`` members, the API function before it
answers; for a larger one, this module's ``apply`` (a hook of ChannelEventsFunction, ``channel_events.HOOKS``) on
the ``message-posted`` event (``data.inbox == "async"``), member by member (the author's own state is always written
synchronously). ``members-added`` gives a new member its state (head = ack = the channel's seq: history before
joining is not unread) and its place on the unread and ack indexes.

The channel copy (``ch``, version ``ch_v``, on the member item; ``parley.dal.channels.COPY_FIELDS``): the channel's
fields the inbox answers, so that a page reads no channel item. It is written with the member item, and after every
write that changes a copied field (the write bumps the channel's ``cv``) by ``channel_changed``: for a channel of at
most ``channel_messages.SYNC_MEMBERS`` members at once (``refresh_copies``), for a larger one by this hook on a
``channel-changed`` event. A post's copy (its ``last_message``) rides with each member's inbox state, in the same
update (``apply_post``: by the post for a small channel, by this hook on ``message-posted`` for a large one). A copy
is written only over an older one (``ch_v < cv``; with the inbox state: only if ``ch_v`` is still the one read): late,
replayed or concurrent refreshes never undo a newer copy. A member item without a copy (written
before copies existed) is answered from its channel item, read for it alone.
"""

from __future__ import annotations

import random
import time
from typing import Any

from parley import clock
from parley.dal import channel_messages as store
from parley.models.channel_events import ChannelEvent

CAS_ATTEMPTS = 100
FANOUT = 16  # member states written at once by the hook for a large channel's post


def small_channel_members(tenant_id: str, channel_id: str, n: int) -> list[str] | None:
    return store.member_ids_upto(tenant_id, channel_id, n)


def _state(tenant_id: str, channel_id: str, individual_id: str, head: int, ack: int, ack_message_id: str | None,
           ack_time: str | None, last_time: str) -> dict[str, Any]:  # fmt: skip
    unread = max(head - ack, 0)
    return {
        "head_seq": head,
        "ack_seq": ack,
        "ack_message_id": ack_message_id,
        "ack_time": ack_time,
        "unread": unread,
        "last_time": last_time,
        "GSI6PK": store.inbox_pk(tenant_id, individual_id),
        "GSI6SK": f"{last_time}#{channel_id}",
        "GSI7PK": store.unread_pk(tenant_id, individual_id),
        "GSI7SK": store.unread_sk(unread, last_time, channel_id),
        "GSI5PK": store.acked_pk(tenant_id, individual_id),
        "GSI5SK": f"{ack_time or store.NO_ACK_TIME}#{channel_id}",
    }


def _change(
    tenant_id: str, channel_id: str, individual_id: str, compute: Any, *, known: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """Read the member, ``compute(member) -> new state | None`` (None: nothing to change), write it under the inbox
    version read; retry on a concurrent change. None when the individual is not a member. ``known``: the member item
    as the caller read it (consistently) moments ago: the first attempt starts from it instead of reading it again."""
    for attempt in range(CAS_ATTEMPTS):
        member = known if attempt == 0 and known is not None else store.get_member(tenant_id, channel_id, individual_id)
        if member is None:
            return None
        state = compute(member)
        if state is None:
            return member
        version = int(member["iv"]) if member.get("iv") is not None else None
        copy_read = int(member["ch_v"]) if member.get("ch_v") is not None else None
        if store.write_inbox_state(tenant_id, channel_id, individual_id, state, version=version, copy_read=copy_read):
            return {**member, **state, "iv": (version or 0) + 1}
        time.sleep(min(0.002 * 2**attempt, 0.05) * random.random())
    raise RuntimeError(f"inbox state of {individual_id} in {channel_id} kept changing")


def _current(member: dict[str, Any]) -> tuple[int | None, int, str | None, str | None, str]:
    head = int(member["head_seq"]) if member.get("head_seq") is not None else None
    ack = int(member.get("ack_seq") or 0)
    last_time = member.get("last_time") or member.get("joined_at") or clock.iso(clock.now())
    return head, ack, member.get("ack_message_id"), member.get("ack_time"), last_time


def apply_post(tenant_id: str, channel_id: str, individual_id: str, message: dict[str, Any], *, author: bool = False,
               copy: tuple[dict[str, Any], int] | None = None, known: dict[str, Any] | None = None) -> dict | None:  # fmt: skip
    """A posted message (seq ``message['seq']``) reaches the member's inbox state; ``author``: the marker moves to it.
    ``copy``: the channel's copy and version (read after the post), written in the same update when newer than the
    member's."""
    seq, posted = int(message["seq"]), message["posted_time"]

    def compute(member: dict[str, Any]) -> dict[str, Any] | None:
        head, ack, ack_id, ack_time, last_time = _current(member)
        changed = head is None
        if head is None:  # no state yet (joined before any event gave it one): what came before is not unread
            head, ack = seq - 1, max(ack, seq - 1)
        if seq > head:
            head, last_time, changed = seq, posted, True
        if author and seq > ack:
            ack, ack_id, ack_time, changed = seq, message["id"], posted, True
        newer_copy = copy is not None and copy[1] > int(member.get("ch_v") or 0)
        if not changed and not newer_copy:
            return None
        state = _state(tenant_id, channel_id, individual_id, head, ack, ack_id, ack_time, last_time)
        if newer_copy:
            state.update(ch=copy[0], ch_v=copy[1])
        return state

    return _change(tenant_id, channel_id, individual_id, compute, known=known)


def apply_ack(tenant_id: str, channel_id: str, individual_id: str, message: dict[str, Any], *,
              allow_past: bool = False) -> tuple[dict | None, bool]:  # fmt: skip
    """Move the marker to ``message`` (forward; back too with ``allow_past``): (state after, whether it moved)."""
    seq = int(message["seq"])
    moved = {"v": False}

    def compute(member: dict[str, Any]) -> dict[str, Any] | None:
        head, ack, _ack_id, _ack_time, last_time = _current(member)
        head = seq if head is None else max(head, seq)
        if seq == ack or (seq < ack and not allow_past):
            moved["v"] = False
            return None
        moved["v"] = True
        return _state(tenant_id, channel_id, individual_id, head, seq, message["id"], clock.iso(clock.now()), last_time)

    after = _change(tenant_id, channel_id, individual_id, compute)
    return after, moved["v"]


def init_member(tenant_id: str, channel_id: str, individual_id: str) -> dict | None:
    """A new member's state (if it has none): head = ack = the channel's seq now."""
    from parley.dal import channels as channel_store

    channel = channel_store.get_channel(tenant_id, channel_id, consistent=True)
    if channel is None:
        return None
    seq = int(channel.get("seq") or 0)

    def compute(member: dict[str, Any]) -> dict[str, Any] | None:
        if member.get("head_seq") is not None:
            return None
        _h, _a, _i, _t, last_time = _current(member)
        return _state(tenant_id, channel_id, individual_id, seq, seq, None, None, last_time)

    return _change(tenant_id, channel_id, individual_id, compute)


# ── the members' channel copies ──
def _sync_members() -> int:
    from parley.domain.channel_messages import SYNC_MEMBERS

    return SYNC_MEMBERS


def copy_of(channel: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The channel's copy and version, from a channel item known to be current (as a write left it)."""
    from parley.dal import channels as channel_store

    return channel_store.channel_copy(channel), channel_store.channel_version(channel)


def current_copy(tenant_id: str, channel_id: str) -> tuple[dict[str, Any], int] | None:
    """The channel's copy and version as it is now (strongly consistent), or None when it is gone."""
    from parley.dal import channels as channel_store

    channel = channel_store.get_channel(tenant_id, channel_id, consistent=True)
    return None if channel is None else copy_of(channel)


def refresh_copies(tenant_id: str, channel_id: str, individual_ids: list[str] | None = None) -> int:
    """Copy the channel as it is now (strongly consistent read) to these members (None: every member), up to FANOUT at
    once; each written only over an older copy. How many copies were written."""
    from parley.dal import channels as channel_store

    channel = channel_store.get_channel(tenant_id, channel_id, consistent=True)
    if channel is None:
        return 0
    copy, version = channel_store.channel_copy(channel), channel_store.channel_version(channel)
    ids = individual_ids if individual_ids is not None else _member_ids(tenant_id, channel_id)
    if len(ids) <= 1:
        return sum(channel_store.write_copy(tenant_id, channel_id, ind, copy, version) for ind in ids)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=min(FANOUT, len(ids))) as pool:
        return sum(pool.map(lambda ind: channel_store.write_copy(tenant_id, channel_id, ind, copy, version), ids))


def channel_changed(tenant_id: str, channel_id: str, *, members: list[str] | None = None, actor: str | None = None) -> None:
    """After a write that bumped the channel's ``cv``: a small channel's copies are refreshed now (``members``: its
    member ids when the caller has them), a large one's by ChannelEventsFunction (a ``channel-changed`` event)."""
    few = members if members is not None else small_channel_members(tenant_id, channel_id, _sync_members())
    if few is not None:
        refresh_copies(tenant_id, channel_id, few)
        return
    from parley.domain import channel_events

    channel_events.publish(channel_events.new(tenant_id, channel_id, "channel-changed", actor_individual_id=actor))


def apply(event: ChannelEvent) -> None:
    """ChannelEventsFunction's hook: a large channel's post reaches every member (its state and channel copy); a
    large channel's change reaches every member's copy; new members get their state."""
    if event.kind == "message-posted" and event.data.get("inbox") == "async" and event.message_id:
        message = store.get_message(event.tenant_id, event.message_id)
        if message is None or message.get("draft"):
            return
        ids = event.member_ids if event.member_ids is not None else _member_ids(event.tenant_id, event.channel_id)
        from concurrent.futures import ThreadPoolExecutor

        # members are independent items: up to FANOUT at once (a failure is raised: the event is retried, and what was
        # applied already is not applied twice)
        copy = current_copy(event.tenant_id, event.channel_id)  # the post changed last_message: the copies follow
        with ThreadPoolExecutor(max_workers=FANOUT) as pool:
            list(pool.map(lambda ind: apply_post(event.tenant_id, event.channel_id, ind, message, author=False, copy=copy), ids))
    elif event.kind == "channel-changed":
        refresh_copies(event.tenant_id, event.channel_id, list(event.member_ids) if event.member_ids is not None else None)
    elif event.kind == "members-added":
        for ind in event.data.get("individual_ids") or []:
            init_member(event.tenant_id, event.channel_id, ind)
            store.recount_inbox(event.tenant_id, ind, event.at)
    elif event.kind == "members-removed":
        for ind in event.data.get("individual_ids") or []:
            store.recount_inbox(event.tenant_id, ind, event.at)


def _member_ids(tenant_id: str, channel_id: str) -> list[str]:
    from parley.domain import channels

    return channels.member_ids(tenant_id, channel_id)


# ── the inbox (GET /v1/communication-messages/) ──
SORTS = {"last-timestamp": "GSI6", "unread-count": "GSI7", "ack-timestamp": "GSI5"}
TYPES = ("direct-message", "group-message", "multicast", "none", "open", "single")
_KINDS = {"direct-message": "direct", "group-message": "group", "multicast": "multicast"}


def channel_filter(*, archived: bool | None = None, bookmarked: bool | None = None, kind: str | None = None, text: str | None = None,
                   group_id: str | None = None, modified: Any = None) -> Any:  # fmt: skip
    """A predicate on the channel item for the filters that read it (None when no such filter is asked)."""
    asked = [archived, bookmarked, kind, text, group_id, modified]
    if all(v is None for v in asked):
        return None
    needle = text.lower() if text else None

    def keep(channel: dict[str, Any]) -> bool:
        if archived is not None and bool(channel.get("archived")) != archived:
            return False
        if bookmarked is not None and bool(channel.get("bookmark")) != bookmarked:
            return False
        if kind is not None:
            if kind in _KINDS and channel.get("kind") != _KINDS[kind]:
                return False
            if kind not in _KINDS and (channel.get("subscription_type") or "none") != kind:
                return False
        if group_id is not None and channel.get("individual_group_id") != group_id:
            return False
        if modified is not None:
            at = channel.get("last_modified_at") or channel.get("created_at")
            if not at or not modified.contains(clock.parse_iso(at)):
                return False
        if needle is not None:
            last = channel.get("last_message") or {}
            hay = " ".join(
                str(v) for v in (channel.get("name"), channel.get("label"), "" if last.get("removed") else last.get("message")) if v
            )
            if needle not in hay.lower():
                return False
        return True

    return keep


def page(tenant_id: str, individual_id: str, *, sort: str = "last-timestamp", descending: bool = True, offset: int, limit: int,
         organization_id: str | None = None, keep: Any = None) -> tuple[list[tuple[dict, dict]], int, dict[str, int]]:  # fmt: skip
    """A page of the individual's channels: ``[(channel item, member item)]``, the total, and what it cost
    (``{"members": items transferred, "channels": channel items read, "counted": items counted, not transferred}``).

    Without a channel filter (``keep``) the page is read from the sort's index (``table.offset_page``: COUNT queries
    over the offset and after the page, one Query for the page); each member item carries its channel's copy
    (``ch``), so no channel item is read (but for member items without a copy: one BatchGetItem for those). A channel
    filter (archived, bookmarked, type, text, group, modified time) reads the caller's member items on the index in
    order, filtering their copies, until the page is full and then counts the rest: reads ∝ the caller's channels
    (docs/data-model.md §6.20)."""
    index = SORTS[sort]
    filters, values = [], {}
    if organization_id:
        filters.append("organization_id = :org")
        values["org"] = organization_id
    cost = {"members": 0, "channels": 0, "counted": 0}
    known = store.get_inbox_count(tenant_id, individual_id) if keep is None and not organization_id else None
    if known is not None:  # the count kept by this hook: no COUNT for the total; a page past the middle is read from the end
        cost["channels"] += 1  # the count item
        total = known
        if offset >= total:
            return [], total, cost
        size = min(limit, total - offset)
        from_end = total - offset - size
        if from_end < offset:
            members = list(
                reversed(store.inbox_window(tenant_id, individual_id, index=index, descending=not descending, skip=from_end, limit=size))
            )
            cost["counted"] = from_end
        else:
            members = store.inbox_window(tenant_id, individual_id, index=index, descending=descending, skip=offset, limit=limit)
            cost["counted"] = offset
            # a short page ends the inbox: its size is exact (a count not yet updated by the hook is corrected)
            total = offset + len(members) if len(members) < limit else max(total, offset + len(members))
        pairs, read = _with_channels(tenant_id, members)
        cost.update(members=len(members), channels=cost["channels"] + read)
        return pairs, total, cost
    if keep is None:
        members, total = store.inbox_page(tenant_id, individual_id, index=index, descending=descending, offset=offset, limit=limit,
                                          filters=filters, values=values)  # fmt: skip
        pairs, read = _with_channels(tenant_id, members)
        cost.update(members=len(members), channels=read, counted=max(total - len(members), 0))
        return pairs, total, cost
    rows: list[tuple[dict, dict]] = []
    total = 0
    for chunk in store.inbox_chunks(tenant_id, individual_id, index=index, descending=descending, filters=filters, values=values):
        cost["members"] += len(chunk)
        pairs, read = _with_channels(tenant_id, chunk)
        cost["channels"] += read
        for ch, m in pairs:
            if keep(ch):
                if offset <= total < offset + limit:
                    rows.append((ch, m))
                total += 1
    return rows, total, cost


def _with_channels(tenant_id: str, members: list[dict[str, Any]]) -> tuple[list[tuple[dict, dict]], int]:
    """``[(channel, member)]`` in the members' order — the channel from the member's copy (``ch``), or, for a member
    item without one (written before copies existed), its channel item (one BatchGetItem for those only) — and how
    many channel items were read."""
    missing = [m["channel_id"] for m in members if not isinstance(m.get("ch"), dict)]
    channels = store.channels_by_ids(tenant_id, missing) if missing else {}
    pairs = []
    for m in members:
        copy = m.get("ch")
        channel = {**copy, "id": m["channel_id"]} if isinstance(copy, dict) else channels.get(m["channel_id"])
        if channel is not None:
            pairs.append((channel, m))
    return pairs, len(channels)


def attributes(channel: dict[str, Any], member: dict[str, Any]) -> Any:
    from parley.models.channel_messages import InboxChannelAttributes

    unread = int(member.get("unread") or 0)
    last = channel.get("last_message")
    bookmark = channel.get("bookmark")
    kind = channel.get("kind")
    return InboxChannelAttributes.model_validate({
        "archived": bool(channel.get("archived")),
        "bookmark": {"id": bookmark["id"], "message-id": bookmark.get("message_id")} if bookmark else None,
        "caller-has-new-message": unread > 0,
        "caller-new-message-count": unread,
        "caller-ack-message-id": member.get("ack_message_id"),
        "caller-ack-time": member.get("ack_time"),
        "created-at": channel.get("created_at"),
        "created-by": channel.get("created_by"),
        "event-settings": channel.get("event_settings"),
        "floating": bool(channel.get("floating")),
        "individual-group-id": channel.get("individual_group_id"),
        "label": channel.get("label"),
        "last-message": {"id": last["id"], "message": last.get("message") or "", "posted-time": last.get("posted_time"),
                         "removed": bool(last.get("removed"))} if last else None,
        "last-modified-time": channel.get("last_modified_at") or channel.get("created_at"),
        "last-timestamp": member.get("last_time"),
        "name": channel.get("name"),
        "observation-id": channel.get("observation_id"),
        "org-id": channel.get("organization_id"),
        "pinned": bool(member.get("pinned")),
        "subscription-type": channel.get("subscription_type"),
        "type": {"direct": "direct-message", "group": "group-message"}.get(kind or "", kind),
    })  # fmt: skip
