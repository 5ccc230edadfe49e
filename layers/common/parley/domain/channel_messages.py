"""Courier channel messages (seed 003 ``messaging-messages``; docs/courier.md "Messages and the inbox").

- **post**: a posted message takes the channel's next sequence number (``seq``) in ONE transaction with the channel's
  ``last_message``/``last_time`` (compare-and-set on the channel's ``seq``: a seq is never used twice or skipped, so
  ``unread = head_seq - ack_seq`` is exact). A draft takes no seq until it is published (PATCH ``draft: false``).
  The members' inbox state (``parley.domain.channel_inbox``) is written before the answer for a channel of at most
  ``SYNC_MEMBERS`` members, else by ChannelEventsFunction from the ``message-posted`` event. The author's read
  marker moves to the post (the seed's ``auto-ack``, true unless ``false``): your own message is never unread.
- **require_message**: 404 unless the message exists in the tenant and the individual is a member of its channel;
  a draft is its author's only (404 to everyone else).
- **edit** (author only, 403 otherwise): ``message`` (edit), ``draft: false`` (publish), ``removed: true`` (soft delete;
  the text stays stored but is answered as ""). A removed message cannot be edited (409).
- **ack**: the caller's marker moves forward to the message (``allow-past``: also back); receipts are read from the
  members' markers (``ack_seq ≥ seq`` → read).
- **reactions**: six types, one per individual and type (a map key ``<type>#<individual>``: adding twice is one).
"""

from __future__ import annotations

import random
import time
import uuid
from typing import Any

from parley import clock
from parley.dal import channel_messages as store
from parley.domain.ids import new_id
from parley.errors import Conflict, Forbidden, NotFound, Unprocessable
from parley.models.channel_messages import REACTION_TYPES

SYNC_MEMBERS = 25  # a channel with more members gets its inbox state from the message-posted event (asynchronously)
# the system sets sms (the SMS bridge), bulk (a bulk message), announcer (an announcer), system (a join/leave message,
# ``channel_system_messages``); clients the rest (ClientSource)
SOURCES = ("api", "app", "web", "auto-responder", "sms", "bulk", "announcer", "system")
SYSTEM = "system"  # a join/leave message: posted by the membership change (channel_system_messages); nobody may change it
POST_ATTEMPTS = 50  # compare-and-set attempts on the channel's seq (concurrent posts to one channel)


def _channels() -> Any:
    from parley.domain import channels

    return channels


def _now() -> str:
    return clock.iso(clock.now())


def _backoff(attempt: int) -> None:
    time.sleep(min(0.002 * 2**attempt, 0.1) * random.random())


def require_message(tenant_id: str, message_id: str, individual_id: str, *, parameter: str | None = None,
                    pointer: str | None = None) -> tuple[dict, dict]:  # fmt: skip
    """(message item, channel item): 404 (the same body as an unknown id) unless the individual is a member of the
    message's channel, and for a draft its author."""
    message = store.get_message(tenant_id, message_id)
    missing = NotFound(f"no message {message_id!r}", parameter=parameter, pointer=pointer, code="not-found")
    if message is None or (message.get("draft") and message.get("individual_id") != individual_id):
        raise missing
    try:
        channel, _member = _channels().require_member(tenant_id, message["channel_id"], individual_id)
    except NotFound:
        raise missing from None
    return message, channel


def stored(tenant_id: str, message_id: str) -> dict:
    """The tenant's message (any member's or not): 404 when the tenant has none. The routes ask this before the acting
    individual, so another tenant's id is a 404 whoever calls (docs/courier.md)."""
    message = store.get_message(tenant_id, message_id)
    if message is None:
        raise NotFound(f"no message {message_id!r}", code="not-found")
    return message


def require_channel(tenant_id: str, channel_id: str, *, parameter: str | None = None, pointer: str | None = None) -> dict:
    """The tenant's channel: 404 naming the parameter when it has none."""
    channel = _channels().get_channel_item(tenant_id, channel_id)
    if channel is None:
        raise NotFound(f"no messaging-channel {channel_id!r}", parameter=parameter, pointer=pointer, code="not-found")
    return channel


def _last_message(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "message": "" if item.get("removed") else item["message"], "posted_time": item.get("posted_time"),
            "removed": bool(item.get("removed")), "individual_id": item.get("individual_id")}  # fmt: skip


def post(tenant_id: str, channel_id: str, individual_id: str, text: str, *, source: str = "api", user_id: str | None = None,
         draft: bool = False, attachment_ids: tuple[str, ...] | list[str] = (), auto_ack: bool = True,
         publish: bool = True, message_id: str | None = None, out: dict[str, Any] | None = None) -> dict:  # fmt: skip
    """Post ``text`` (or store a draft) in the channel as ``individual_id`` (a member: 404 otherwise). Returns the
    stored message item. A posted message publishes ``message-posted`` (data: seq, message, individual_id, source,
    posted_time, inbox ``sync``|``async``). ``out``: filled with the author's ``member`` item as the post left it
    (what the answer needs: no read again).

    ``message_id`` (a deterministic id, e.g. a bulk message's per recipient; not with ``draft``): the message is
    written only if no message has that id (the same conditional put that guards every post). When it exists already
    (a redelivered job posting again), nothing new is posted: the stored message is returned, after its inbox state
    and its ``message-posted`` event are applied again (both idempotent: the inbox by seq, the event by its id, derived
    from the message id), in case the earlier attempt stopped between the write and them."""
    if message_id is not None:
        if draft:
            raise ValueError("a deterministic message_id is for posted messages, not drafts")
        existing = store.get_message(tenant_id, message_id, consistent=True)
        if existing is not None:
            if not existing.get("draft"):
                _after_post(tenant_id, existing["channel_id"], existing, auto_ack=auto_ack, publish=publish)
            return existing
    if source not in SOURCES:
        raise Unprocessable(f"source must be one of {', '.join(SOURCES)}", pointer="/data/attributes/source", code="invalid-source")
    if source == SYSTEM:  # its individual is the one who joined or left: perhaps no longer a member
        channel = require_channel(tenant_id, channel_id, pointer="/data/attributes/channel-id")
    else:
        channel, author_member = _channels().require_member(tenant_id, channel_id, individual_id, pointer="/data/attributes/channel-id")
        if out is not None:
            out["member"] = author_member
    if channel.get("archived"):
        raise Conflict("the channel is archived: unarchive it to post", pointer="/data/attributes/channel-id", code="channel-archived")
    now = _now()
    fields: dict[str, Any] = {"id": message_id or new_id(), "channel_id": channel_id, "individual_id": individual_id, "user_id": user_id,
                              "message": text, "message_lc": text.lower(), "source": source, "draft": bool(draft),
                              "removed": False, "created_at": now, "last_modified_time": now,
                              "has_attachments": True if attachment_ids else None}  # fmt: skip
    if attachment_ids:  # helper C's: each a ready attachment of this channel (404 / 422 naming its index) before any write
        _attachments().check(tenant_id, channel_id, list(attachment_ids))
    if draft:
        item = store.message_item(tenant_id, fields)
        store.put_draft(item)
    else:
        item, after_post = _take_seq(tenant_id, channel_id, channel, fields, fixed_id=message_id is not None)
        if item.get("_existing"):  # a concurrent post of the same deterministic id won: that one is the message
            existing = {k: v for k, v in item.items() if k != "_existing"}
            _after_post(tenant_id, channel_id, existing, auto_ack=auto_ack, publish=publish)
            return existing
    if attachment_ids:
        _attachments().attach(tenant_id, item["id"], list(attachment_ids), channel_id=channel_id)
    if not draft:
        after = _after_post(tenant_id, channel_id, item, auto_ack=auto_ack, publish=publish,
                            known=out.get("member") if out is not None else None, channel=after_post)  # fmt: skip
        if out is not None and after is not None:
            out["member"] = after
    return item


def _take_seq(tenant_id: str, channel_id: str, channel: dict[str, Any], fields: dict[str, Any], *,
              replace_draft: bool = False, fixed_id: bool = False) -> tuple[dict[str, Any], dict[str, Any] | None]:  # fmt: skip
    """Store the message with the channel's next seq: (the message item, the channel item as the post left it — the
    one read, at the same version, with the post's changes: the members' channel copy needs no read; None when the
    message was found posted already)."""
    from parley.dal import channels as channel_store

    current = channel
    for attempt in range(POST_ATTEMPTS):
        seq = int(current.get("seq") or 0) + 1
        posted = _now()
        item = store.message_item(tenant_id, {**fields, "draft": False, "seq": seq, "posted_time": posted, "last_modified_time": posted})
        version = channel_store.channel_version(current)
        if store.post_message(tenant_id, channel_id, int(current["seq"]) if current.get("seq") is not None else None, item,
                              _last_message(item), replace_draft=replace_draft, expected_cv=version):  # fmt: skip
            return item, {**current, "seq": seq, "last_message": _last_message(item), "last_time": posted, "cv": version + 1}
        if fixed_id:  # the message's own put may be what failed: its id is taken (posted by an earlier attempt)
            taken = store.get_message(tenant_id, fields["id"], consistent=True)
            if taken is not None:
                return {**taken, "_existing": True}, None
        if replace_draft:
            now_stored = store.get_message(tenant_id, fields["id"], consistent=True)
            if now_stored is None or not now_stored.get("draft"):
                raise Conflict("the draft was published or removed meanwhile", code="concurrent-update")
        _backoff(attempt)
        current = channel_store.get_channel(tenant_id, channel_id, consistent=True)
        if current is None:
            raise NotFound(f"no channel {channel_id!r}", pointer="/data/attributes/channel-id", code="not-found")
    raise Conflict("the channel is too busy right now; try again", code="concurrent-update")


def _after_post(tenant_id: str, channel_id: str, item: dict[str, Any], *, auto_ack: bool, publish: bool,
                known: dict[str, Any] | None = None, channel: dict[str, Any] | None = None) -> dict[str, Any] | None:  # fmt: skip
    """The members' inbox state (a small channel's), the author's marker, the event. ``known``: the author's member
    item as read before the post (its first compare-and-set starts from it); ``channel``: the channel item as the post
    left it (``_take_seq``; else it is read for the members' copy). The author's member item after, when this wrote
    it (else None)."""
    from parley.domain import channel_events, channel_inbox

    author = item["individual_id"]
    mine = None
    few = channel_inbox.small_channel_members(tenant_id, channel_id, SYNC_MEMBERS)
    if few is not None:
        copy = channel_inbox.copy_of(channel) if channel is not None else channel_inbox.current_copy(tenant_id, channel_id)
        for ind in few:
            state = channel_inbox.apply_post(tenant_id, channel_id, ind, item, author=ind == author and auto_ack, copy=copy,
                                             known=known if ind == author else None)  # fmt: skip
            mine = state if ind == author else mine
    elif auto_ack:
        mine = channel_inbox.apply_post(tenant_id, channel_id, author, item, author=True, known=known)
    if publish:
        data = {"seq": item["seq"], "message": item["message"], "individual_id": author, "source": item["source"],
                "posted_time": item["posted_time"], "inbox": "sync" if few is not None else "async"}  # fmt: skip
        event = channel_events.new(tenant_id, channel_id, "message-posted", actor_individual_id=author, message_id=item["id"],
                                   data=data, at=item["posted_time"])  # fmt: skip
        # a message is posted once: its event's id follows from its id, so a post applied again (a redelivered bulk or
        # announcer job answering a deterministic message id) publishes the same event, which every hook applies once
        event = event.model_copy(update={"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"parley:message-posted:{item['id']}"))})
        channel_events.publish(event)
    return mine


def _attachments() -> Any:
    from parley.domain import channel_attachments

    return channel_attachments


def edit(tenant_id: str, message_id: str, individual_id: str, *, message: str | None = None, draft: bool | None = None,
         removed: bool | None = None) -> dict:  # fmt: skip
    """The author's change to a message (403 for another member; 404 for a non-member)."""
    from parley.domain import channel_events

    for _attempt in range(5):
        item, channel = require_message(tenant_id, message_id, individual_id)
        if item.get("individual_id") != individual_id or item.get("source") == SYSTEM:
            raise Forbidden("only the message's author may change it (a system message is nobody's)", code="not-author")
        if item.get("removed") and (message is not None or draft is False):
            raise Conflict("the message was removed", code="message-removed")
        if draft is True and not item.get("draft"):
            raise Unprocessable("a posted message cannot become a draft again", pointer="/data/attributes/draft", code="already-posted")
        if removed is False and item.get("removed"):
            raise Unprocessable("a removed message stays removed", pointer="/data/attributes/removed", code="removed")
        now = _now()
        text = message if message is not None else item["message"]
        if item.get("draft") and draft is False and not removed:  # publish: a posted message, with its seq
            base = {k: v for k, v in item.items() if not k.startswith(("PK", "SK", "GSI3"))}
            published = {**base, "message": text, "message_lc": text.lower()}
            posted, after_post = _take_seq(tenant_id, item["channel_id"], channel, published, replace_draft=True)
            _after_post(tenant_id, item["channel_id"], posted, auto_ack=True, publish=True, channel=after_post)
            return posted
        fields: dict[str, Any] = {"last_modified_time": now}
        if message is not None and message != item["message"]:
            fields.update(message=message, message_lc=message.lower(), edited_time=now)
        if removed and not item.get("removed"):
            fields.update(removed=True, removed_time=now)
        if len(fields) == 1:
            return item
        if not store.update_message(tenant_id, message_id, fields, expected_modified=item["last_modified_time"]):
            continue
        after = {**item, **fields}
        if not after.get("draft"):
            cur = channel.get("last_message") or {}
            shown = cur.get("id") == message_id
            if shown and store.update_last_message(tenant_id, item["channel_id"], int(channel["seq"]), _last_message(after)):
                from parley.domain import channel_inbox

                channel_inbox.channel_changed(tenant_id, item["channel_id"], actor=individual_id)
            kind = "message-removed" if "removed" in fields else "message-edited"
            channel_events.publish(channel_events.new(tenant_id, item["channel_id"], kind, actor_individual_id=individual_id,
                                                      message_id=message_id, data={"seq": item.get("seq"),
                                                      "message": "" if after.get("removed") else after["message"]}))  # fmt: skip
        return after
    raise Conflict("the message changed while this request was applied; try again", code="concurrent-update")


def ack(tenant_id: str, message_id: str, individual_id: str, *, allow_past: bool = False) -> tuple[dict, dict | None]:
    """Move the individual's read marker in the message's channel to it (forward only unless ``allow_past``).
    Returns (message, the member's state after)."""
    from parley.domain import channel_events, channel_inbox

    item, _channel = require_message(tenant_id, message_id, individual_id)
    if item.get("draft"):
        raise Unprocessable("a draft cannot be acknowledged", code="draft")
    state, moved = channel_inbox.apply_ack(tenant_id, item["channel_id"], individual_id, item, allow_past=allow_past)
    if moved:
        channel_events.publish(channel_events.new(tenant_id, item["channel_id"], "ack", actor_individual_id=individual_id,
                                                  message_id=message_id, data={"ack_seq": state["ack_seq"],
                                                  "ack_message_id": state["ack_message_id"]}))  # fmt: skip
    return item, state


def react(tenant_id: str, message_id: str, individual_id: str, reaction_type: str, *, add: bool) -> dict:
    from parley.domain import channel_events

    if reaction_type not in REACTION_TYPES:
        raise Unprocessable(f"reaction-type must be one of {', '.join(REACTION_TYPES)}", pointer="/reaction-type")
    item, _channel = require_message(tenant_id, message_id, individual_id)
    if item.get("draft") or item.get("removed"):
        raise Conflict("a draft or removed message takes no reactions", code="not-reactable")
    key = f"{reaction_type}#{individual_id}"
    had = key in (item.get("reactions") or {})
    store.set_reaction(tenant_id, message_id, key, _now() if add else None)
    if had != add:
        channel_events.publish(channel_events.new(tenant_id, item["channel_id"], "reaction-added" if add else "reaction-removed",
                                                  actor_individual_id=individual_id, message_id=message_id,
                                                  data={"reaction_type": reaction_type}))  # fmt: skip
    return store.get_message(tenant_id, message_id, consistent=True) or item


def receipts(tenant_id: str, item: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """(read, unread) member items of the message's channel: read when the member's ``ack_seq`` ≥ the message's seq."""
    members = _channels().member_items(tenant_id, item["channel_id"])
    seq = item.get("seq")
    read = [m for m in members if seq is not None and int(m.get("ack_seq") or 0) >= int(seq)]
    unread = [m for m in members if m not in read]
    return read, unread


def page(tenant_id: str, channel_id: str, individual_id: str, *, offset: int, limit: int, text: str | None = None,
         author_user: str | None = None, acknowledged: bool | None = None, posted: Any = None,
         modified: Any = None, drafts: bool = False) -> tuple[list[dict], int, dict]:  # fmt: skip
    """A page of the channel's posted messages (newest first), the total, and the caller's member item. ``drafts``:
    the caller's own drafts of the channel instead (newest first; ``acknowledged`` and ``author_user`` are a 400)."""
    _channel, member = _channels().require_member(tenant_id, channel_id, individual_id, parameter="channel-id")
    if drafts and (acknowledged is not None or author_user):
        from parley.errors import BadRequest

        raise BadRequest("acknowledged and user-id do not apply to drafts (filter[draft]=true)",
                         parameter="acknowledged" if acknowledged is not None else "user-id", code="invalid-filter")  # fmt: skip
    low, high = 1, 10**store.SEQ_DIGITS - 1
    if acknowledged is not None:
        acked = int(member.get("ack_seq") or 0)
        low, high = (low, acked) if acknowledged else (acked + 1, high)
    filters, values = [], {}
    if text:
        filters.append("contains(message_lc, :text)")
        values["text"] = text.lower()
    if author_user:
        filters.append("user_id = :author")
        values["author"] = author_user
    for name, window in (("posted_time", posted), ("last_modified_time", modified)):
        if window is None:
            continue
        lo, hi = window.key_range("0000", "9999")
        filters.append(f"{name} BETWEEN :{name}_lo AND :{name}_hi")
        values[f"{name}_lo"], values[f"{name}_hi"] = lo, hi
    if drafts:  # the drafts' part of the channel's partition, the caller's only
        filters.append("individual_id = :me")
        values["me"] = individual_id
    items, total = store.message_page(tenant_id, channel_id, offset=offset, limit=limit, low=low, high=high, filters=filters,
                                      values=values, drafts=drafts)  # fmt: skip
    for name, window in (("posted_time", posted), ("last_modified_time", modified)):
        if window is not None:  # an exclusive bound: drop the items exactly on it
            kept = [i for i in items if window.contains(clock.parse_iso(i[name]))]
            total -= len(items) - len(kept)
            items = kept
    return items, total, member


# ── answers ──
def _people(tenant_id: str, individual_ids: set[str], user_ids: set[str]) -> tuple[dict[str, dict], dict[str, dict]]:
    """The directory's individuals and users by id (both in the same BatchGetItem calls, 100 keys each; unknown ones
    left out)."""
    from parley.dal import directory as d
    from parley.dal import table

    kinds = {d.pk(tenant_id, "individuals"): "individuals", d.pk(tenant_id, "users"): "users"}
    keys = [(d.pk(tenant_id, "individuals"), d.sk(i)) for i in individual_ids] + [(d.pk(tenant_id, "users"), d.sk(u)) for u in user_ids]
    out: dict[str, dict[str, dict]] = {"individuals": {}, "users": {}}
    for (pk, _sk), v in (table.batch_get(keys) if keys else {}).items():
        if not v.get("deleted") and v.get("attrs"):
            out[kinds[pk]][v["entity_id"]] = d.attributes(v)
    return out["individuals"], out["users"]


def _name(attrs: dict | None, member: str) -> str | None:
    if not attrs:
        return None
    return attrs.get(member) or attrs.get(member.replace("-", "_"))


def _receipt(m: dict[str, Any], people: dict[str, dict], *, read: bool) -> dict[str, Any]:
    p = people.get(m["individual_id"])
    return {"ack-time": m.get("ack_time") if read else None, "ack-user-time": None, "individual-id": m["individual_id"],
            "individual-first-name": _name(p, "first-name"), "individual-last-name": _name(p, "last-name")}  # fmt: skip


def attributes(tenant_id: str, items: list[dict[str, Any]], caller_member: dict[str, Any] | None, *,
               read_receipts: bool = False, members: list[dict] | None = None) -> list[tuple[str, Any]]:  # fmt: skip
    """The messages as answered to the caller (``ack``: within its read marker; ``read-receipts`` when asked)."""
    from parley.models.channel_messages import MessageAttributes

    if read_receipts and members is None and items:
        members = _channels().member_items(tenant_id, items[0]["channel_id"])
    inds = {i["individual_id"] for i in items if i.get("individual_id")}
    for i in items:
        inds.update(k.split("#", 1)[1] for k in (i.get("reactions") or {}))
    inds.update(m["individual_id"] for m in members or [])
    people, users = _people(tenant_id, inds, {i["user_id"] for i in items if i.get("user_id")})
    acked = int((caller_member or {}).get("ack_seq") or 0)
    out = []
    for i in items:
        author = people.get(i.get("individual_id") or "")
        seq = i.get("seq")
        reactions = [
            {"individual-id": ind, "reaction-type": kind, "first-name": _name(people.get(ind), "first-name"),
             "last-name": _name(people.get(ind), "last-name"), "user-name": None}
            for kind, ind in (k.split("#", 1) for k, _at in sorted((i.get("reactions") or {}).items(), key=lambda kv: kv[1]))
        ]  # fmt: skip
        receipts = None
        if read_receipts:
            receipts = [_receipt(m, people, read=True) for m in members or [] if seq is not None and int(m.get("ack_seq") or 0) >= int(seq)]
        attachments = _attachments().for_message(tenant_id, i["id"]) if i.get("has_attachments") else []  # no Query per message
        attrs = MessageAttributes.model_validate({
            "ack": seq is not None and acked >= int(seq),
            "attachments": attachments,
            "channel-id": i["channel_id"],
            "draft": bool(i.get("draft")),
            "first-name": _name(author, "first-name"),
            "last-name": _name(author, "last-name"),
            "preferred-name": _name(author, "preferred-name"),
            "individual-id": i.get("individual_id"),  # None: a purged author's message
            "last-modified-time": i["last_modified_time"],
            "message": "" if i.get("removed") else i["message"],
            "posted-time": i.get("posted_time"),
            "reactions": reactions,
            "read-receipts": receipts,
            "removed": bool(i.get("removed")),
            "source": i.get("source") or "api",
            "user-id": i.get("user_id"),
            "user-type": SYSTEM if i.get("source") == SYSTEM else "participant",
            "user-name": _name(users.get(i.get("user_id") or ""), "username"),
        })  # fmt: skip
        out.append((i["id"], attrs))
    return out


def receipts_body(tenant_id: str, item: dict[str, Any]) -> dict[str, Any]:
    """``get-receipts``: ``{read: [...], unread: [...]}`` from the members' markers."""
    read, unread = receipts(tenant_id, item)
    people, _ = _people(tenant_id, {m["individual_id"] for m in read + unread}, set())
    return {"read": [_receipt(m, people, read=True) for m in read], "unread": [_receipt(m, people, read=False) for m in unread]}


# ── the data-subject purge (``domain/purge.purge_courier``; docs/courier.md "Messages and the inbox") ──
def purge_individuals(tenant_id: str, individual_ids: Any) -> dict[str, int]:
    """Erase what the channels' messages keep of each individual, before it leaves its channels
    (``channels.purge_individuals``): found on the author index (GSI6), its drafts are deleted and its posted messages
    become anonymous tombstones (``store.anonymise``: text, author, reactions gone, ``removed``; the seq stays, since the
    members' read markers and unread counts number the messages), in both purge modes; the attachments of its messages
    (items and S3 objects) are deleted; a tombstone that is its channel's last message is shown there as removed (the
    members' channel copies follow); its reactions are taken off the messages of the channels it is in or wrote in; the
    bookmarks it made stay, without their creator. No event is published (the purge is not a member's act). Runs again
    without finding what is gone."""
    from parley.dal import channel_attachments as attachment_store
    from parley.dal import channel_bookmarks as bookmark_store
    from parley.dal import channels as channel_store
    from parley.dal import purges
    from parley.dal import uploads as objects

    done = {"channel_messages": 0, "channel_drafts": 0, "channel_attachments": 0, "channel_reactions": 0, "channel_bookmarks": 0}
    now = _now()
    for individual in sorted(set(individual_ids)):
        channel_ids = {m["channel_id"] for m in channel_store.memberships(tenant_id, individual) if m.get("channel_id")}
        tombstones: dict[str, dict[str, dict[str, Any]]] = {}  # channel → message id → the message before it was anonymised
        for item in store.of_author(tenant_id, individual):
            channel_ids.add(item["channel_id"])
            for attachment in attachment_store.all_of_message(tenant_id, item["id"]):
                aid = attachment["id"]
                for key in (attachment_store.upload_key(tenant_id, aid), attachment_store.object_key(tenant_id, aid),
                            attachment_store.thumbnail_key(tenant_id, aid)):  # fmt: skip
                    objects.delete(key)
                done["channel_attachments"] += purges.delete_keys([(attachment["PK"], attachment["SK"])])
            if item.get("draft"):
                store.delete_message(tenant_id, item["id"])
                done["channel_drafts"] += 1
                continue
            store.anonymise(tenant_id, item["id"], now)
            done["channel_messages"] += 1
            tombstones.setdefault(item["channel_id"], {})[item["id"]] = item
        for channel_id, gone in sorted(tombstones.items()):  # one channel read each: does its last message show one?
            channel = channel_store.get_channel(tenant_id, channel_id, consistent=True)
            shown = gone.get(((channel or {}).get("last_message") or {}).get("id") or "")
            if channel and shown is not None:
                removed = _last_message({**shown, "removed": True, "individual_id": None})
                if store.update_last_message(tenant_id, channel_id, int(channel["seq"]), removed):
                    from parley.domain import channel_inbox

                    channel_inbox.channel_changed(tenant_id, channel_id)
        for channel_id in sorted(channel_ids):
            for message in store.reacted_by(tenant_id, channel_id, individual, REACTION_TYPES):
                for key in [k for k in message.get("reactions") or {} if k.endswith(f"#{individual}")]:
                    store.set_reaction(tenant_id, message["id"], key, None)
                    done["channel_reactions"] += 1
        for bookmark in bookmark_store.of_creator(tenant_id, individual):
            done["channel_bookmarks"] += bookmark_store.forget_creator(tenant_id, bookmark["id"])
    return done
