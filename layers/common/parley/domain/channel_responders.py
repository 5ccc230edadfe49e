"""The auto-reply hook (the last of ``parley.domain.channel_events.HOOKS``; docs/courier.md "Responders").

On ``message-posted`` by a person (source ``api``, ``app``, ``web`` or ``sms``; never ``auto-responder`` — so two
responders never answer each other — nor the system's ``bulk`` and ``announcer`` broadcasts), in a channel that is not
archived:

1. the organization's enabled responders (one Query of a sparse index; most messages stop here when there are none)
   that are active at the post's time (``responders.active_period``);
2. a responder answers for its individual-group in a conversation where one of the group's people (its leaders and
   its individuals, in the directory now) is a member other than the author — a channel bound to the group, a direct
   or floating channel with one of them — and the author is not one of the group's people (a group does not answer
   its own);
3. the reply is posted by the first of the group's people (leaders first, then individuals, in the directory's order)
   who is a member of the channel and not the author, with ``source = auto-responder``; its text is
   ``args.message-js[<the author's user's locale>]`` (exact, else the same language), else ``args.message``;
4. once per (responder, channel, period): a conditional put of the reply marker before the post. A redelivered event
   finds the marker taken (by itself, with no message recorded, only when the post did not complete: it then posts
   again with the same deterministic message id, which ``channel_messages.post`` writes only if absent — a reply that
   went through before the worker died is answered, not posted twice).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from parley import clock
from parley.dal import responders as store
from parley.models.channel_events import ChannelEvent

REPLY_TO = frozenset({"api", "app", "web", "sms"})


def apply(event: ChannelEvent) -> None:
    if event.kind != "message-posted" or (event.data.get("source") or "api") not in REPLY_TO:
        return
    from parley.domain import channels

    tenant_id, channel_id = event.tenant_id, event.channel_id
    channel = channels.get_channel_item(tenant_id, channel_id)
    if channel is None or channel.get("archived"):
        return
    found = store.enabled_of_organization(tenant_id, channel["organization_id"])
    if not found:
        return
    at = clock.parse_iso(event.data.get("posted_time") or event.at)
    from parley.domain import responders

    active = [(r, p) for r in found if (p := responders.active_period(r, at))]
    if not active:
        return
    author = event.data.get("individual_id") or event.actor_individual_id
    others = set(channels.member_ids(tenant_id, channel_id)) - {author}
    people = _groups(tenant_id, {r["individual_group_id"] for r, _ in active})
    for responder, period in sorted(active, key=lambda rp: (rp[0]["created_at"], rp[0]["id"])):
        group = people.get(responder["individual_group_id"])
        if not group or author in group:
            continue
        replier = next((i for i in group if i in others), None)
        if replier is not None:
            _reply(event, responder, period, replier, author)


def _groups(tenant_id: str, group_ids: set[str]) -> dict[str, list[str]]:
    """Each individual-group's people: leaders first, then individuals (one BatchGetItem)."""
    from parley.dal import directory, table

    found = table.batch_get([(directory.pk(tenant_id, "individual-groups"), directory.sk(g)) for g in group_ids])
    out: dict[str, list[str]] = {}
    for item in found.values():
        if item.get("deleted") or not item.get("attrs"):
            continue
        attrs = directory.attributes(item)
        ids = [m["id"] for m in (attrs.get("leaders") or []) + (attrs.get("individuals") or []) if isinstance(m, dict) and m.get("id")]
        out[item["entity_id"]] = list(dict.fromkeys(ids))
    return out


def _reply(event: ChannelEvent, responder: dict[str, Any], period: str, replier: str, author: str | None) -> None:
    from parley.domain import channel_messages
    from parley.errors import ParleyError

    tenant_id, channel_id, rid = event.tenant_id, event.channel_id, responder["id"]
    claimed = store.claim(tenant_id, rid, channel_id, period, event_id=event.id, at=clock.iso(clock.now()))
    if claimed is None:
        return  # replied already in this conversation and period (or another event is replying now)
    text = _text(tenant_id, responder, event)
    try:
        posted = channel_messages.post(tenant_id, channel_id, replier, text, source="auto-responder",
                                       message_id=reply_id(rid, channel_id, period))["id"]  # fmt: skip
    except ParleyError:  # the channel was archived or the replier left meanwhile: no reply, the claim is given back
        store.release(tenant_id, rid, channel_id, period, event_id=event.id)
        return
    store.record_reply(tenant_id, rid, channel_id, period, posted)


def reply_id(responder_id: str, channel_id: str, period: str) -> str:
    """The id of a responder's one reply in a conversation and period: the same on every attempt."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"parley:auto-reply:{responder_id}:{channel_id}:{period}"))


def _text(tenant_id: str, responder: dict[str, Any], event: ChannelEvent) -> str:
    args = json.loads(responder.get("args") or "{}")
    translations = args.get("message-js") or {}
    if translations:
        locale = _author_locale(tenant_id, event)
        if locale:
            if locale in translations:
                return translations[locale]
            language = locale.replace("-", "_").split("_")[0].lower()
            for key, value in translations.items():
                if key.replace("-", "_").split("_")[0].lower() == language:
                    return value
    return args["message"]


def _author_locale(tenant_id: str, event: ChannelEvent) -> str | None:
    from parley.dal import channel_messages as messages
    from parley.dal import directory

    message = messages.get_message(tenant_id, event.message_id) if event.message_id else None
    user_id = (message or {}).get("user_id")
    user = directory.get(tenant_id, "users", user_id) if user_id else None
    return directory.attributes(user).get("locale") if user else None
