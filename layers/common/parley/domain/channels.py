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
        _publish(tenant_id, channel_id, "members-added", list(people), actor=creator_individual_id, at=now,
                 data={"channel_created": True})  # fmt: skip
    return channel, True


def _publish(tenant_id: str, channel_id: str, kind: Any, individual_ids: list[str] | None, *, actor: str | None, at: str,
             data: dict[str, Any] | None = None) -> None:  # fmt: skip
    from parley.domain import channel_events

    payload = dict(data or {})
    if individual_ids is not None:
        payload["individual_ids"] = sorted(individual_ids)
    channel_events.publish(channel_events.new(tenant_id, channel_id, kind, actor_individual_id=actor, data=payload))


# ── the routes' domain (docs/courier.md "Channels") ──
POINTER = "/data/attributes/"
# PATCH's whitelist: the seed's op paths (``name``, ``/name``, ``/event-settings/enabled`` …) → the stored field
PATCHABLE = {
    "name": "name",
    "label": "label",
    "subscription-type": "subscription_type",
    "event-settings": "event_settings",
    "event-settings/enabled": "event_settings.enabled",
    "observation-id": "observation_id",
    "text-number-id": "text_number_id",
    "archived": "archived",
}
CLEARABLE = {"name", "label", "observation_id", "text_number_id"}


def _directory() -> Any:
    from parley.dal import directory

    return directory


def require_organization(tenant_id: str, organization_id: str, *, pointer: str | None = None, parameter: str | None = None) -> None:
    if _directory().get(tenant_id, "organizations", organization_id) is None:
        raise NotFound(f"no organization {organization_id!r}", pointer=pointer, parameter=parameter, code="not-found")


def require_individuals(tenant_id: str, individual_ids: list[str], *, pointer: str) -> None:
    """Every id an individual of the tenant's directory (one BatchGetItem): else 404 naming the first unknown one
    (``pointer/<index>``)."""
    from parley.dal import table

    directory = _directory()
    found = table.batch_get([(directory.pk(tenant_id, "individuals"), directory.sk(i)) for i in individual_ids], attributes=("deleted",))
    for n, ind in enumerate(individual_ids):
        got = found.get((directory.pk(tenant_id, "individuals"), directory.sk(ind)))
        if got is None or got.get("deleted"):
            raise NotFound(f"no individual {ind!r}", pointer=f"{pointer}/{n}", code="not-found")


def group_members(tenant_id: str, group_id: str) -> tuple[dict[str, Any], list[str]] | None:
    """The individual-group's attributes and its individuals' ids, or None when the tenant has no such group."""
    directory = _directory()
    stored = directory.get(tenant_id, "individual-groups", group_id, consistent=True)
    if stored is None:
        return None
    attrs = directory.attributes(stored)
    return attrs, list(dict.fromkeys(m["id"] for m in attrs.get("individuals") or []))


def create(tenant_id: str, individual_id: str, attrs: Any, *, user_id: str | None) -> tuple[dict[str, Any], bool]:
    """``POST /v1/messaging-channels/``: checks every id it names against the tenant (404 with the pointer), then
    ``create_channel``. ``attrs`` is a ``ChannelCreate``."""
    from parley.errors import Unprocessable

    if not attrs.organization_id:
        raise Unprocessable("organization-id is required", pointer=POINTER + "organization-id", code="missing-member")
    require_organization(tenant_id, attrs.organization_id, pointer=POINTER + "organization-id")
    if attrs.individual_group_id and attrs.floating:
        raise Unprocessable("a channel is bound to an individual-group or floating, not both", pointer=POINTER + "floating",
                            code="conflicting-members")  # fmt: skip
    ids = list(dict.fromkeys(attrs.individual_ids or []))
    group_ids: list[str] = []
    if attrs.individual_group_id:
        found = group_members(tenant_id, attrs.individual_group_id)
        if found is None:
            raise NotFound(f"no individual-group {attrs.individual_group_id!r}", pointer=POINTER + "individual-group-id", code="not-found")
        group_attrs, group_ids = found
        if group_attrs.get("organization-id") not in (None, attrs.organization_id):
            raise Unprocessable("the individual-group belongs to another organization", pointer=POINTER + "individual-group-id",
                                code="organization-mismatch")  # fmt: skip
    elif not attrs.floating and not [i for i in ids if i != individual_id]:
        raise Unprocessable("individual-ids is required for a direct channel (or give individual-group-id, or floating: true)",
                            pointer=POINTER + "individual-ids", code="missing-member")  # fmt: skip
    if ids:
        require_individuals(tenant_id, ids, pointer=POINTER + "individual-ids")
    if attrs.text_number_id:
        _require_text_number(tenant_id, attrs.text_number_id, pointer=POINTER + "text-number-id")
    return create_channel(
        tenant_id,
        organization_id=attrs.organization_id,
        creator_individual_id=individual_id,
        individual_ids=ids,
        individual_group_id=attrs.individual_group_id,
        group_individual_ids=group_ids,
        floating=attrs.floating,
        name=attrs.name,
        label=attrs.label,
        subscription_type=attrs.subscription_type or "none",
        event_settings=attrs.event_settings.model_dump() if attrs.event_settings else {"enabled": False},
        observation_id=attrs.observation_id,
        text_number_id=attrs.text_number_id,
        created_by_user=user_id,
    )


def _require_text_number(tenant_id: str, number_id: str, *, pointer: str) -> None:
    from parley.dal import text_numbers

    if text_numbers.get_number(tenant_id, number_id) is None:
        raise NotFound(f"no text-number {number_id!r}", pointer=pointer, code="not-found")


def _touch(fields: dict[str, Any]) -> dict[str, Any]:
    return {**fields, "last_modified_at": clock.iso(clock.now())}


def patch_fields(operations: list[Any] | None, partial: Any | None) -> tuple[dict[str, Any], list[str]]:
    """The stored fields a PATCH sets and removes, from the seed's operations (``replace`` on ``PATCHABLE``; any other
    path is a 422 naming the operation) or from a partial object (``ChannelPatch``: only the members sent)."""
    from pydantic import TypeAdapter, ValidationError

    from parley.errors import BadRequest, Unprocessable
    from parley.models.messaging_channels import ChannelPatch

    changes: dict[str, Any] = {}
    where: dict[str, str] = {}  # member → the pointer of the operation that set it
    if operations is not None:
        for n, op in enumerate(operations):
            path = op.path.strip("/")
            if path.startswith("data/attributes/"):
                path = path[len("data/attributes/") :]
            field = PATCHABLE.get(path)
            if field is None:
                raise Unprocessable(f"path {op.path!r} cannot be replaced (replaceable: {', '.join(sorted(PATCHABLE))})",
                                    pointer=f"{POINTER}{n}/path", code="not-patchable")  # fmt: skip
            member = path.split("/")[0]
            value = {"enabled": op.value} if path == "event-settings/enabled" else op.value
            try:
                checked = TypeAdapter(ChannelPatch).validate_python({member: value})
            except ValidationError as err:
                problem = err.errors()[0]
                raise BadRequest(f"{op.path}: {problem['msg']}", pointer=f"{POINTER}{n}/value", code="invalid-value") from None
            changes[member] = getattr(checked, member.replace("-", "_"))
            where[member] = f"{POINTER}{n}/value"
    else:
        changes = {name.replace("_", "-"): getattr(partial, name) for name in partial.model_fields_set}
    sets: dict[str, Any] = {}
    removes: list[str] = []
    for member, value in changes.items():
        field = member.replace("-", "_")
        if value is None:
            if field not in CLEARABLE:
                raise BadRequest(f"{member} cannot be null", pointer=where.get(member, POINTER + member), code="invalid-value")
            removes.append(field)
        else:
            sets[field] = value.model_dump() if hasattr(value, "model_dump") else value
    return sets, removes


def update(tenant_id: str, channel_id: str, individual_id: str, sets: dict[str, Any], removes: list[str]) -> dict[str, Any]:
    """Apply a PATCH's fields (a member's); publishes channel-updated with the changed members when anything changed."""
    channel, _ = require_member(tenant_id, channel_id, individual_id, parameter="id")
    if sets.get("text_number_id"):
        _require_text_number(tenant_id, sets["text_number_id"], pointer=POINTER + "text-number-id")
    changed = sorted({k for k, v in sets.items() if channel.get(k) != v} | {k for k in removes if k in channel})
    if not changed:
        return channel
    updated = store.update_channel(tenant_id, channel_id, _touch(sets), remove=removes)
    if updated is None:
        raise _not_found(channel_id, "id", None)
    _copies_follow(tenant_id, channel_id, actor=individual_id)
    _publish(tenant_id, channel_id, "channel-updated", None, actor=individual_id, at=updated["last_modified_at"],
             data={"fields": [k.replace("_", "-") for k in changed]})  # fmt: skip
    return updated


def set_archived(tenant_id: str, channel_id: str, individual_id: str, archived: bool) -> dict[str, Any]:
    """archive / unarchive (the channel's, for every member): idempotent; an event only when it changed."""
    return update(tenant_id, channel_id, individual_id, {"archived": archived}, [])


def subscribe(tenant_id: str, channel_id: str, individual_id: str, individual_ids: list[str]) -> dict[str, Any]:
    """Add members (a member's request): the ones already in are left as they are; members-added names the new ones.
    A direct channel's set of people is its identity: its dedupe pointer moves with it (409 when another direct
    channel already has the new set)."""
    channel, _ = require_member(tenant_id, channel_id, individual_id, parameter="id")
    wanted = list(dict.fromkeys(individual_ids))
    require_individuals(tenant_id, wanted, pointer="/individual-ids")
    current = {m["individual_id"] for m in member_items(tenant_id, channel_id)}
    new = [i for i in wanted if i not in current]
    if new:
        _change_members(channel, current, add=new, remove=[])
        _publish(tenant_id, channel_id, "members-added", new, actor=individual_id, at=clock.iso(clock.now()))
        _system_message(channel, "members-added", new)
    return get_channel_item(tenant_id, channel_id) or channel


def unsubscribe(tenant_id: str, channel_id: str, individual_id: str, individual_ids: list[str]) -> dict[str, Any]:
    """Remove members: an individual may remove itself, an admin anyone (403 ``not-admin`` otherwise); a member the
    individual-group brought in is the directory's (422 ``group-member``). Ids that are not members are ignored."""
    from parley.errors import Forbidden, Unprocessable

    channel, me = require_member(tenant_id, channel_id, individual_id, parameter="id")
    members = {m["individual_id"]: m for m in member_items(tenant_id, channel_id)}
    gone = [i for i in dict.fromkeys(individual_ids) if i in members]
    for n, ind in enumerate(individual_ids):
        if ind in members and ind != individual_id and not me.get("admin"):
            raise Forbidden("only an admin of the channel removes other members", pointer=f"/individual-ids/{n}", code="not-admin")
        if ind in members and members[ind].get("via") == VIA_GROUP and channel.get("individual_group_id"):
            raise Unprocessable("this member comes from the channel's individual-group: the directory removes it",
                                pointer=f"/individual-ids/{n}", code="group-member")  # fmt: skip
    if gone:
        _change_members(channel, set(members), add=[], remove=gone)
        _publish(tenant_id, channel_id, "members-removed", gone, actor=individual_id, at=clock.iso(clock.now()))
        _system_message(channel, "members-removed", gone)
    return get_channel_item(tenant_id, channel_id) or channel


def _copies_follow(tenant_id: str, channel_id: str, *, members: list[str] | None = None, actor: str | None = None) -> None:
    """The members' channel copies follow a write to the channel item (``channel_inbox.channel_changed``)."""
    from parley.domain import channel_inbox

    channel_inbox.channel_changed(tenant_id, channel_id, members=members, actor=actor)


def _system_message(channel: dict[str, Any], kind: str, individual_ids: list[str]) -> None:
    """The join/leave message, when the channel's ``event-settings`` say so (``channel_system_messages``)."""
    if (channel.get("event_settings") or {}).get("enabled"):
        from parley.domain import channel_system_messages

        channel_system_messages.post(channel, kind, individual_ids)


def _change_members(channel: dict[str, Any], current: set[str], *, add: list[str], remove: list[str], via: str = VIA_DIRECT) -> None:
    """Add and remove members in transactions, with the channel's ``last_modified_at`` (and ``cv``); then every
    member's channel copy follows."""
    _write_members(channel, current, add=add, remove=remove, via=via)
    _copies_follow(channel["tenant_id"], channel["id"])


def _write_members(channel: dict[str, Any], current: set[str], *, add: list[str], remove: list[str], via: str) -> None:
    from parley.errors import Conflict

    tenant_id, channel_id = channel["tenant_id"], channel["id"]
    now = clock.iso(clock.now())
    defaults = {"admin": False, "pinned": False, "notify": True, "joined_at": now, "via": via}
    ops = [store.put_op(store.member_item(tenant_id, channel, i, defaults)) for i in add]
    ops += [store.delete_op(store.channel_pk(tenant_id, channel_id), store.member_sk(i)) for i in remove]
    ops.append({"Update": {"Key": store.table.key(store.channel_pk(tenant_id, channel_id), store.CHANNEL_SK),
                           "UpdateExpression": "SET last_modified_at = :now ADD cv :one", "ConditionExpression": "attribute_exists(PK)",
                           "ExpressionAttributeValues": store.table.values(now=now, one=1)}})  # fmt: skip
    if channel.get("kind") == KIND_DIRECT:
        org = channel["organization_id"]
        after = (current | set(add)) - set(remove)
        old_pk = store.direct_pk(tenant_id, org, current)
        ops.append({"Delete": {"Key": store.table.key(old_pk, store.DIRECT_SK)}})
        ops.append(store.put_op(store.direct_item(tenant_id, org, after, channel_id)))
        if len(ops) > _ONE_TRANSACTION:
            from parley.errors import Unprocessable

            raise Unprocessable("a direct channel changes at most 96 members at once", pointer="/individual-ids", code="too-many")
        if not store.transact(ops):
            raise Conflict("a direct channel with these people exists already in the organization", pointer="/individual-ids",
                           code="direct-channel-exists")  # fmt: skip
        return
    for start in range(0, len(ops), _ONE_TRANSACTION):  # a member put only if absent: a concurrent change is a 409, never a 500
        if not store.transact(ops[start : start + _ONE_TRANSACTION]):
            raise Conflict("the channel's members changed at the same time: try again", pointer="/individual-ids", code="concurrent-change")


def sync_group(tenant_id: str, group_id: str) -> int:
    """Keep the channels bound to the individual-group in step with its individuals (called by ``directory.apply``
    after it wrote the group): the individuals new to the group join (``via: group``), the group members who left it
    leave (a member added by subscribe, or the creator, stays). Publishes members-added / members-removed per channel
    (actor None: the directory). Returns how many channels changed. A group that is deleted keeps its channels' members."""
    channel_ids = store.group_channel_ids(tenant_id, group_id)
    if not channel_ids:
        return 0
    found = group_members(tenant_id, group_id)
    if found is None:
        return 0
    wanted = set(found[1])
    changed = 0
    for channel_id in channel_ids:
        channel = get_channel_item(tenant_id, channel_id)
        if channel is None:
            continue
        members = {m["individual_id"]: m for m in member_items(tenant_id, channel_id)}
        add = sorted(wanted - set(members))
        remove = sorted(i for i, m in members.items() if m.get("via") == VIA_GROUP and i not in wanted)
        if not add and not remove:
            continue
        _change_members(channel, set(members), add=add, remove=remove, via=VIA_GROUP)
        now = clock.iso(clock.now())
        if add:
            _publish(tenant_id, channel_id, "members-added", add, actor=None, at=now)
            _system_message(channel, "members-added", add)
        if remove:
            _publish(tenant_id, channel_id, "members-removed", remove, actor=None, at=now)
            _system_message(channel, "members-removed", remove)
        changed += 1
    return changed


def set_preferences(tenant_id: str, channel_id: str, individual_id: str, values: list[Any]) -> dict[str, Any]:
    """The member's own preferences: ``notify`` (pushes for this channel) and ``pinned``; a value is a boolean or
    ``"true"``/``"false"`` (also on/off, 1/0, yes/no), else 400 naming it."""
    from parley.errors import BadRequest

    channel, _ = require_member(tenant_id, channel_id, individual_id, parameter="id")
    fields: dict[str, Any] = {}
    for n, item in enumerate(values):
        value = item.value
        if isinstance(value, str):
            word = value.strip().lower()
            if word not in _TRUE | _FALSE:
                raise BadRequest(f"{item.name}: {value!r} is not a boolean (true or false)", pointer=f"/values/{n}/value",
                                 code="invalid-value")  # fmt: skip
            value = word in _TRUE
        fields[item.name] = value
    store.update_member(tenant_id, channel_id, individual_id, fields)
    return channel


_TRUE, _FALSE = {"true", "1", "on", "yes"}, {"false", "0", "off", "no"}


def profile_photo(tenant_id: str, channel_id: str, individual_id: str, profile_individual_id: str) -> str | None:
    """get-profile: the photo (the directory's ``photo`` of the individual, or None) of a member, for a member: both
    must be members (404 naming the parameter otherwise)."""
    require_member(tenant_id, channel_id, individual_id, parameter="id")
    if store.get_member(tenant_id, channel_id, profile_individual_id, consistent=True) is None:
        raise NotFound(f"no member {profile_individual_id!r} in the channel", parameter="profile-individual-id", code="not-found")
    directory = _directory()
    stored = directory.get(tenant_id, "individuals", profile_individual_id)
    return directory.attributes(stored).get("photo") if stored else None


def listing(tenant_id: str, individual_id: str, *, organization_id: str | None, archived: bool | None, floating: bool | None,
            group_id: str | None, participant_id: str | None, window: Any, offset: int, limit: int
            ) -> tuple[list[tuple[dict[str, Any], dict[str, Any]]], int]:  # fmt: skip
    """The individual's channels (its member items on GSI6, most recent activity first; each channel by BatchGetItem),
    filtered; ``(channel, member)`` pairs of the page and the total. Reads ∝ the individual's channel count."""
    from parley import clock as clk

    memberships = [m for m in store.memberships(tenant_id, individual_id) if organization_id in (None, m.get("organization_id"))]
    channels = store.channels_by_id(tenant_id, [m["channel_id"] for m in memberships])
    pairs = []
    for m in memberships:
        c = channels.get(m["channel_id"])
        if c is None:
            continue
        if archived is not None and bool(c.get("archived")) != archived:
            continue
        if floating is not None and bool(c.get("floating")) != floating:
            continue
        if group_id is not None and c.get("individual_group_id") != group_id:
            continue
        if window is not None and not window.contains(clk.parse_iso(c["last_modified_at"])):
            continue
        pairs.append((c, m))
    if participant_id is not None:
        theirs = store.members_by_channel(tenant_id, [c["id"] for c, _ in pairs], participant_id)
        pairs = [(c, m) for c, m in pairs if c["id"] in theirs]
    return pairs[offset : offset + limit], len(pairs)


def purge_individuals(tenant_id: str, individual_ids: Iterable[str]) -> dict[str, int]:
    """The purge of a person (``domain/purge.purge_courier``): each individual leaves every channel (its member item,
    found on its inbox index, GSI6), a direct channel's dedupe pointer moves to the remaining people, and the channels
    it created no longer name it (``created_by`` and ``created_by_user`` removed). No event is published (the purge is not a member's act).
    The channels' messages are the messages area's."""
    done = {"channel_memberships": 0, "channels_created": 0}
    for individual in sorted(set(individual_ids)):
        for membership in store.memberships(tenant_id, individual):
            channel = get_channel_item(tenant_id, membership["channel_id"])
            if channel is None:
                continue
            current = set(member_ids(tenant_id, channel["id"]))
            ops = [store.delete_op(store.channel_pk(tenant_id, channel["id"]), store.member_sk(individual))]
            if channel.get("kind") == KIND_DIRECT:
                org = channel["organization_id"]
                ops.append(store.delete_op(store.direct_pk(tenant_id, org, current), store.DIRECT_SK))
                rest = current - {individual}
                if rest and store.get_direct(tenant_id, org, rest) is None:
                    ops.append(store.put_op(store.direct_item(tenant_id, org, rest, channel["id"])))
            store.write(ops)
            done["channel_memberships"] += 1
            if channel.get("created_by") == individual:
                store.update_channel(tenant_id, channel["id"], {}, remove=["created_by", "created_by_user"])
                _copies_follow(tenant_id, channel["id"])
                done["channels_created"] += 1
    return done
