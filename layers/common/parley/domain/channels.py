"""Courier messaging channels (seed 003, docs/courier.md "Messaging" → "Channels"): who is in a conversation.

A channel belongs to one organization and is one of three kinds:

- **group**-bound (``individual-group-id``): its members are the individual-group's individuals (plus its creator),
  kept in step when the directory changes the group (``sync_group``, called by ``directory.apply``);
- **direct** (``individual-ids``, not floating): one per set of people (the creator included) in an organization: a
  second create with the same set finds the existing channel (``created`` False) instead of a duplicate;
- **floating**: members come and go by subscribe/unsubscribe only.

Membership is the rule for everything in a channel: only a member reads it or anything in it; anyone else — another
tenant included — gets the same 404 as for an unknown id (``require_member``).

Every change of members or settings publishes one ``ChannelEvent`` after its write commits (members-added,
members-removed, channel-updated; data ``{"individual_ids": [...]}`` for the member events).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from parley import clock
from parley.dal import channels as store
from parley.domain.ids import new_id
from parley.errors import NotFound

KIND_GROUP, KIND_DIRECT, KIND_FLOATING = "group", "direct", "floating"
VIA_GROUP, VIA_DIRECT = "group", "direct"
# A transaction holds up to 100 items: smaller channels are created (channel, pointers, members) all at once.
_ONE_TRANSACTION = 100


def _not_found(channel_id: str, parameter: str | None, pointer: str | None) -> NotFound:
    return NotFound(f"no messaging-channel {channel_id!r}", parameter=parameter, pointer=pointer, code="not-found")


# ── the interface the other areas use ──
def get_channel_item(tenant_id: str, channel_id: str) -> dict[str, Any] | None:
    """The stored channel (strongly consistent), or None."""
    return store.get_channel(tenant_id, channel_id, consistent=True)


def member_items(tenant_id: str, channel_id: str) -> list[dict[str, Any]]:
    """Every member item of the channel (Query ``PK``, ``SK begins_with MEMBER#``)."""
    return store.members(tenant_id, channel_id, consistent=True)


def member_ids(tenant_id: str, channel_id: str) -> list[str]:
    return [m["individual_id"] for m in member_items(tenant_id, channel_id)]


def require_member(
    tenant_id: str, channel_id: str, individual_id: str, *, parameter: str | None = None, pointer: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(channel item, member item)`` when ``individual_id`` is a member of the tenant's channel; else NotFound (404,
    the same body for an unknown id, another tenant's and a channel the individual is not in), with ``parameter`` /
    ``pointer`` as its source."""
    found = store.channels_and_member(tenant_id, channel_id, individual_id)
    if found is None:
        raise _not_found(channel_id, parameter, pointer)
    return found


# ── writes ──
def create_channel(
    tenant_id: str,
    *,
    organization_id: str,
    creator_individual_id: str,
    individual_ids: Iterable[str] = (),
    individual_group_id: str | None = None,
    group_individual_ids: Iterable[str] = (),
    floating: bool = False,
    name: str | None = None,
    label: str | None = None,
    subscription_type: str | None = None,
    event_settings: dict[str, Any] | None = None,
    observation_id: str | None = None,
    text_number_id: str | None = None,
    created_by_user: str | None = None,
    publish: bool = True,
) -> tuple[dict[str, Any], bool]:
    """A new channel with its members (the creator an admin); ``(channel item, created)``. The ids are not checked
    here (the API checks them against the directory first); ``group_individual_ids`` are the group's individuals.
    A direct channel (no group, not floating) whose set of people exists already in the organization is answered as
    it is (``created`` False) and nothing is written."""
    kind = KIND_GROUP if individual_group_id else KIND_FLOATING if floating else KIND_DIRECT
    now = clock.iso(clock.now())
    people: dict[str, str] = {}  # individual → how it came in
    for ind in group_individual_ids:
        people[ind] = VIA_GROUP
    for ind in [*individual_ids, creator_individual_id]:
        people.setdefault(ind, VIA_DIRECT)
    if kind == KIND_DIRECT:
        existing = store.get_direct(tenant_id, organization_id, people)
        if existing is not None:
            found = get_channel_item(tenant_id, existing["channel_id"])
            if found is not None:
                return found, False
    channel_id = new_id()
    channel = store.channel_item(
        tenant_id,
        channel_id,
        {
            "organization_id": organization_id,
            "kind": kind,
            "floating": floating,
            "individual_group_id": individual_group_id,
            "name": name,
            "label": label,
            "subscription_type": subscription_type,
            "event_settings": event_settings,
            "observation_id": observation_id,
            "text_number_id": text_number_id,
            "archived": False,
            "created_at": now,
            "last_modified_at": now,
            "created_by": creator_individual_id,
            "created_by_user": created_by_user,
        },
    )
    defaults = {"pinned": False, "notify": True, "joined_at": now}
    members = [
        store.member_item(tenant_id, channel, ind, {**defaults, "admin": ind == creator_individual_id, "via": via})
        for ind, via in people.items()
    ]
    head = [store.put_op(channel)]
    if kind == KIND_DIRECT:
        head.append(store.put_op(store.direct_item(tenant_id, organization_id, people, channel_id)))
    if individual_group_id:
        head.append(store.put_op(store.group_item(tenant_id, individual_group_id, channel_id), new=False))
    member_ops = [store.put_op(m) for m in members]
    if len(head) + len(member_ops) <= _ONE_TRANSACTION:
        written = store.transact(head + member_ops)
    else:
        written = store.transact(head)
        if written:
            store.write(member_ops)
    if not written:  # a concurrent create of the same direct channel won: answer that one
        existing = store.get_direct(tenant_id, organization_id, people)
        found = get_channel_item(tenant_id, existing["channel_id"]) if existing else None
        if found is None:
            raise RuntimeError("the direct channel's pointer was taken, but its channel is not found")
        return found, False
    if publish:
        _publish(tenant_id, channel_id, "members-added", list(people), actor=creator_individual_id, at=now)
    return channel, True


def _publish(tenant_id: str, channel_id: str, kind: Any, individual_ids: list[str] | None, *, actor: str | None, at: str,
             data: dict[str, Any] | None = None) -> None:  # fmt: skip
    from parley.domain import channel_events

    payload = dict(data or {})
    if individual_ids is not None:
        payload["individual_ids"] = sorted(individual_ids)
    channel_events.publish(channel_events.new(tenant_id, channel_id, kind, actor_individual_id=actor, data=payload))
