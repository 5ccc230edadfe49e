"""Courier messaging channels and their members in the single table (docs/data-model.md §6.20). Tenant-scoped keys;
every read is a GetItem or a Query, never a Scan.

- a channel: ``PK = TENANT#<t>#CHAN#<id>``, ``SK = CHAN``, ``type = channel``; an organization's channels on GSI3
  (``GSI3PK = TENANT#<t>#CHANS#ORG#<org>``, ``GSI3SK = <created_at>#<id>``). Other areas keep their fields on it:
  ``seq``, ``last_message``, ``last_time`` (messages), ``bookmark`` (bookmarks), ``sms`` (the SMS bridge).
- a member: ``PK = TENANT#<t>#CHAN#<id>``, ``SK = MEMBER#<individual>``, ``type = channel_member`` (``admin``,
  ``pinned``, ``notify``, ``joined_at``, ``via``: ``group`` when the individual-group brought it in, else ``direct``);
  the individual's channels on GSI6 (``GSI6PK = TENANT#<t>#INBOX#<individual>``, ``GSI6SK = <last_time>#<channel>``;
  the messages area moves it on each post). ``ch`` is the member's copy of the channel's fields the inbox answers
  (``COPY_FIELDS``) and ``ch_v`` the channel's ``cv`` it was copied at: the inbox page reads no channel item
  (docs/data-model.md §6.20, "the channel copy").
- the channel's ``cv``: its version, +1 (``ADD cv :one``) on every write that changes a copied field; a copy is
  written only over an older one (``ch_v < cv``), so a late or replayed copy never undoes a newer one.
- a direct channel's dedupe pointer: ``PK = TENANT#<t>#CHANDIRECT#<org>#<sha256 of the sorted individual ids>``,
  ``SK = DIRECT`` → ``channel_id`` (put only if absent: one direct channel per set of people in an organization).
- a group binding: ``PK = TENANT#<t>#CHANGROUP#<group>``, ``SK = CHAN#<channel>`` (the channels bound to an
  individual-group, for keeping their members in step with the directory).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from parley.dal import table

CHANNEL_SK, DIRECT_SK, MEMBER_PREFIX = "CHAN", "DIRECT", "MEMBER#"


# ── keys ──
def channel_pk(tenant_id: str, channel_id: str) -> str:
    return f"TENANT#{tenant_id}#CHAN#{channel_id}"


def member_sk(individual_id: str) -> str:
    return f"{MEMBER_PREFIX}{individual_id}"


def org_channels_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#CHANS#ORG#{organization_id}"


def inbox_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#INBOX#{individual_id}"


def people_digest(individual_ids: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(set(individual_ids))).encode()).hexdigest()


def direct_pk(tenant_id: str, organization_id: str, individual_ids: Iterable[str]) -> str:
    return f"TENANT#{tenant_id}#CHANDIRECT#{organization_id}#{people_digest(individual_ids)}"


def group_pk(tenant_id: str, group_id: str) -> str:
    return f"TENANT#{tenant_id}#CHANGROUP#{group_id}"


def group_sk(channel_id: str) -> str:
    return f"CHAN#{channel_id}"


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


# The channel's fields a member item carries a copy of (``ch``): what the inbox answers and filters on
# (``parley.domain.channel_inbox.attributes`` / ``channel_filter``).
COPY_FIELDS = (
    "archived", "bookmark", "created_at", "created_by", "event_settings", "floating", "individual_group_id", "kind", "label",
    "last_message", "last_modified_at", "name", "observation_id", "organization_id", "subscription_type",
)  # fmt: skip


def channel_copy(channel: dict[str, Any]) -> dict[str, Any]:
    """The member's copy of ``channel`` (absent fields left out: a cleared label is absent from the copy too)."""
    return {k: channel[k] for k in COPY_FIELDS if channel.get(k) is not None}


def channel_version(channel: dict[str, Any]) -> int:
    return int(channel.get("cv") or 0)


# ── items ──
def channel_item(tenant_id: str, channel_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "PK": channel_pk(tenant_id, channel_id),
        "SK": CHANNEL_SK,
        "type": "channel",
        "tenant_id": tenant_id,
        "id": channel_id,
        "GSI3PK": org_channels_pk(tenant_id, fields["organization_id"]),
        "GSI3SK": f"{fields['created_at']}#{channel_id}",
        "cv": 1,
        **_clean(fields),
    }


def member_item(tenant_id: str, channel: dict[str, Any], individual_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A member of ``channel``; on the individual's inbox index from ``last_time`` (default: when it joined); with its
    copy of the channel as ``channel`` is (``ch`` at version ``ch_v``)."""
    last_time = fields.get("last_time") or channel.get("last_time") or fields["joined_at"]
    return {
        "PK": channel_pk(tenant_id, channel["id"]),
        "SK": member_sk(individual_id),
        "type": "channel_member",
        "tenant_id": tenant_id,
        "channel_id": channel["id"],
        "individual_id": individual_id,
        "organization_id": channel["organization_id"],
        "GSI6PK": inbox_pk(tenant_id, individual_id),
        "GSI6SK": f"{last_time}#{channel['id']}",
        "last_time": last_time,
        "ch": channel_copy(channel),
        "ch_v": channel_version(channel),
        **_clean(fields),
    }


def direct_item(tenant_id: str, organization_id: str, individual_ids: Iterable[str], channel_id: str) -> dict[str, Any]:
    return {"PK": direct_pk(tenant_id, organization_id, individual_ids), "SK": DIRECT_SK, "type": "channel_direct",
            "tenant_id": tenant_id, "channel_id": channel_id}  # fmt: skip


def group_item(tenant_id: str, group_id: str, channel_id: str) -> dict[str, Any]:
    return {"PK": group_pk(tenant_id, group_id), "SK": group_sk(channel_id), "type": "channel_group", "tenant_id": tenant_id,
            "group_id": group_id, "channel_id": channel_id}  # fmt: skip


def put_op(item: dict[str, Any], *, new: bool = True) -> dict[str, Any]:
    op: dict[str, Any] = {"Put": {"Item": table.marshal(item)}}
    if new:
        op["Put"]["ConditionExpression"] = "attribute_not_exists(PK)"
    return op


def delete_op(pk: str, sk: str) -> dict[str, Any]:
    return {"Delete": {"Key": table.key(pk, sk)}}


# ── reads ──
def get_channel(tenant_id: str, channel_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(channel_pk(tenant_id, channel_id), CHANNEL_SK, consistent=consistent)


def get_member(tenant_id: str, channel_id: str, individual_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(channel_pk(tenant_id, channel_id), member_sk(individual_id), consistent=consistent)


def channels_and_member(tenant_id: str, channel_id: str, individual_id: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The channel and the individual's member item (one strongly consistent BatchGetItem), or None unless both exist."""
    pk = channel_pk(tenant_id, channel_id)
    found = table.batch_get([(pk, CHANNEL_SK), (pk, member_sk(individual_id))], consistent=True)
    channel, member = found.get((pk, CHANNEL_SK)), found.get((pk, member_sk(individual_id)))
    return (channel, member) if channel is not None and member is not None else None


def members(tenant_id: str, channel_id: str, *, consistent: bool = False) -> list[dict[str, Any]]:
    """Every member item of the channel (one Query on its partition, ``SK begins_with MEMBER#``)."""
    params: dict[str, Any] = {
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :m)",
        "ExpressionAttributeValues": table.values(pk=channel_pk(tenant_id, channel_id), m=MEMBER_PREFIX),
    }
    if consistent:
        params["ConsistentRead"] = True
    return table.query_raw(**params)


def get_direct(tenant_id: str, organization_id: str, individual_ids: Iterable[str]) -> dict[str, Any] | None:
    return table.get(direct_pk(tenant_id, organization_id, individual_ids), DIRECT_SK, consistent=True)


def group_channel_ids(tenant_id: str, group_id: str) -> list[str]:
    items = table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=group_pk(tenant_id, group_id)))
    return [i["channel_id"] for i in items]


def memberships(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """Every member item of the individual (GSI6, newest activity first)."""
    return table.query_raw(
        IndexName="GSI6",
        KeyConditionExpression="GSI6PK = :pk",
        ExpressionAttributeValues=table.values(pk=inbox_pk(tenant_id, individual_id)),
        ScanIndexForward=False,
    )


def org_channels(tenant_id: str, organization_id: str) -> list[dict[str, Any]]:
    """The organization's channels (GSI3), newest first."""
    return table.query_raw(
        IndexName="GSI3",
        KeyConditionExpression="GSI3PK = :pk",
        ExpressionAttributeValues=table.values(pk=org_channels_pk(tenant_id, organization_id)),
        ScanIndexForward=False,
    )


def channels_by_id(tenant_id: str, channel_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    found = table.batch_get((channel_pk(tenant_id, c), CHANNEL_SK) for c in channel_ids)
    return {item["id"]: item for item in found.values()}


def members_by_channel(tenant_id: str, channel_ids: Iterable[str], individual_id: str) -> dict[str, dict[str, Any]]:
    """The individual's member items of these channels (BatchGetItem): ``{channel_id: item}``, non-members left out."""
    found = table.batch_get((channel_pk(tenant_id, c), member_sk(individual_id)) for c in channel_ids)
    return {item["channel_id"]: item for item in found.values()}


# ── writes ──
def transact(ops: list[dict[str, Any]]) -> bool:
    """The ops in one transaction; False when a condition failed (nothing written)."""
    return table.try_transact(ops)


def write(ops: list[dict[str, Any]]) -> None:
    """Unconditional puts and deletes, up to 100 per transaction (each chunk all or nothing)."""
    for start in range(0, len(ops), 100):
        table.transact(ops[start : start + 100])


def put_member(item: dict[str, Any]) -> bool:
    """A new member (never over an existing one): False when the individual is a member already."""
    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
    except Exception as err:
        if _condition_failed(err):
            return False
        raise
    return True


def delete_member(tenant_id: str, channel_id: str, individual_id: str) -> bool:
    """Remove the member: False when it was not one."""
    from botocore.exceptions import ClientError

    try:
        table.ddb().delete_item(
            TableName=table.table_name(),
            Key=table.key(channel_pk(tenant_id, channel_id), member_sk(individual_id)),
            ConditionExpression="attribute_exists(PK)",
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def update_channel(tenant_id: str, channel_id: str, fields: dict[str, Any], *, remove: Iterable[str] = ()) -> dict[str, Any] | None:
    """SET ``fields`` (and REMOVE ``remove``) on an existing channel, its version ``cv`` + 1; the item as it is after, or
    None when there is none. The caller refreshes the members' copies (``channel_inbox.channel_changed``)."""
    return _update(channel_pk(tenant_id, channel_id), CHANNEL_SK, fields, remove, bump=True)


def update_member(tenant_id: str, channel_id: str, individual_id: str, fields: dict[str, Any]) -> dict[str, Any] | None:
    return _update(channel_pk(tenant_id, channel_id), member_sk(individual_id), fields, ())


def _update(pk: str, sk: str, fields: dict[str, Any], remove: Iterable[str], *, bump: bool = False) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    names = {f"#f{i}": k for i, k in enumerate(fields)}
    values = {f":v{i}": v for i, v in enumerate(fields.values())}
    removed = list(remove)
    names |= {f"#r{i}": k for i, k in enumerate(removed)}
    parts = []
    if fields:
        parts.append("SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))))
    if removed:
        parts.append("REMOVE " + ", ".join(f"#r{i}" for i in range(len(removed))))
    if not parts:
        return table.get(pk, sk, consistent=True)
    if bump:
        parts.append("ADD cv :one")
        values[":one"] = 1
    params: dict[str, Any] = {
        "TableName": table.table_name(),
        "Key": table.key(pk, sk),
        "UpdateExpression": " ".join(parts),
        "ConditionExpression": "attribute_exists(PK)",
        "ExpressionAttributeNames": names,
        "ReturnValues": "ALL_NEW",
    }
    if values:
        params["ExpressionAttributeValues"] = {k: table.attribute(v) for k, v in values.items()}
    try:
        out = table.ddb().update_item(**params)
    except ClientError as err:
        if table.is_condition_failure(err):
            return None
        raise
    return table.unmarshal(out["Attributes"])


def write_copy(tenant_id: str, channel_id: str, individual_id: str, copy: dict[str, Any], version: int) -> bool:
    """The member's channel copy := ``copy`` (the channel at version ``version``) unless it holds this version or a newer
    one already (False then, or when it is no member: nothing written)."""
    return table.try_update(channel_pk(tenant_id, channel_id), member_sk(individual_id), "SET ch = :c, ch_v = :v",
                            condition="attribute_exists(PK) AND (attribute_not_exists(ch_v) OR ch_v < :v)",
                            values=table.values(c=copy, v=version))  # fmt: skip


def _condition_failed(err: BaseException) -> bool:
    from botocore.exceptions import ClientError

    return isinstance(err, ClientError) and table.is_condition_failure(err)
