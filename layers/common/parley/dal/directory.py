"""The courier directory (organizations, users, individuals, individual-groups) in the single table
(docs/data-model.md §6.9). Tenant-scoped keys; every read is a GetItem or a Query, never a Scan.

- ``PK = TENANT#<t>#DIR#<type>``, ``SK = DIR#<id>``: ``{type: "directory", entity_type, entity_id, sync_time, attrs}``
  (the ``DIR#`` prefix keeps an id such as ``MSG`` out of the table stream's filter for ``TallyFunction``;
  ``attrs``: the seed's attributes, dasherized, as JSON text — free-form members such as
  ``communication-preferences`` need no DynamoDB mapping). One partition per tenant and type lists it in id order.
- equality lookups on the non-tallied generic indexes (``dal/tallies.RULES`` reads GSI1/2/4/5/7 only):
  GSI3 ``TENANT#<t>#DIR#<type>#<attr>#<lower value>`` (organizations: name; users: email), and
  GSI6 the same for users' username; ``GSI3SK``/``GSI6SK`` = ``DIR#<id>``. An attribute without a value has none.
- replica writes are conditional on ``sync_time``: ``attribute_not_exists(PK) OR sync_time < :t``, so an older update
  never overwrites a newer one, and the same update twice writes once.
- a user's local ``notifications`` override (the deprecated ``PATCH /v1/users/{id}/``) lives on the same item, beside
  the replica's attributes: ``local_notifications`` (JSON text), ``local_base`` (the replica's ``notifications`` it
  was made over, canonical JSON), ``local_time``. It applies while the replica's value is still its base
  (``domain/directory``); a replica write that changes that value drops it.
- a delete puts a tombstone in the entity's place, under the same condition: ``{…, sync_time, deleted: true}`` with
  no ``attrs`` and no index keys (so no lookup finds it). ``get`` answers None for it and ``page`` filters it out
  (``attribute_not_exists(deleted)``); it is kept (no TTL) so that an older upsert arriving any time later is ignored.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table

ITEM_TYPE = "directory"

# The equality filters a key serves, by entity type: attribute -> index (its PK/SK attribute names).
LOOKUPS: dict[str, dict[str, str]] = {
    "organizations": {"name": "GSI3"},
    "users": {"email": "GSI3", "username": "GSI6"},
    "individuals": {},
    "individual-groups": {},
}


def pk(tenant_id: str, entity_type: str) -> str:
    return f"TENANT#{tenant_id}#DIR#{entity_type}"


def sk(entity_id: str) -> str:
    return f"DIR#{entity_id}"


def lookup_pk(tenant_id: str, entity_type: str, attr: str, value: str) -> str:
    return f"{pk(tenant_id, entity_type)}#{attr}#{value.lower()}"


def _keys(tenant_id: str, entity_type: str, entity_id: str, sync_time: str) -> dict[str, Any]:
    """What an entity's item and its tombstone both hold: the keys, the type and the replica's ordering time."""
    return {"PK": pk(tenant_id, entity_type), "SK": sk(entity_id), "type": ITEM_TYPE, "entity_type": entity_type,
            "entity_id": entity_id, "sync_time": sync_time}  # fmt: skip


def item(tenant_id: str, entity_type: str, entity_id: str, sync_time: str, attrs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        **_keys(tenant_id, entity_type, entity_id, sync_time),
        "attrs": json.dumps(attrs, separators=(",", ":"), sort_keys=True),  # the seed's attributes, as JSON text
    }
    for attr, index in LOOKUPS[entity_type].items():
        value = attrs.get(attr)
        if isinstance(value, str) and value:
            out[f"{index}PK"] = lookup_pk(tenant_id, entity_type, attr, value)
            out[f"{index}SK"] = f"DIR#{entity_id}"
    return out


def tombstone(tenant_id: str, entity_type: str, entity_id: str, sync_time: str) -> dict[str, Any]:
    return {
        **_keys(tenant_id, entity_type, entity_id, sync_time),
        "deleted": True,
    }


def put_if_newer(tenant_id: str, entity_type: str, entity_id: str, sync_time: str, attrs: dict[str, Any]) -> bool:
    """Write the entity unless the stored one (or its tombstone) is as new or newer (``sync_time``: fixed-width ISO
    ``Z``, so string order is time order). True when written.

    An ``UpdateItem`` that sets every replica attribute (and removes a lookup key the entity no longer has), so a user's
    local notifications override (``set_override``) survives the write; when the write changes the replica's
    ``notifications`` away from the value the override was made over, the override is dropped (the platform's newer
    change wins: docs/courier.md, "The deprecated users PATCH")."""
    full = item(tenant_id, entity_type, entity_id, sync_time, attrs)
    names: dict[str, str] = {"#pk": "PK", "#st": "sync_time"}
    values: dict[str, Any] = {":t": sync_time}
    sets, removes = [], []
    for n, (name, value) in enumerate((k, v) for k, v in full.items() if k not in ("PK", "SK")):
        names[f"#a{n}"], values[f":a{n}"] = name, value
        sets.append(f"#a{n} = :a{n}")
    for n, index in enumerate(sorted(set(LOOKUPS[entity_type].values()))):
        if f"{index}PK" not in full:
            names[f"#r{n}p"], names[f"#r{n}s"] = f"{index}PK", f"{index}SK"
            removes.append(f"#r{n}p, #r{n}s")
    names["#deleted"] = "deleted"  # a newer upsert over a tombstone brings the entity back
    removes.append("#deleted")
    try:
        out = table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(full["PK"], full["SK"]),
            UpdateExpression="SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
            ConditionExpression="attribute_not_exists(#pk) OR #st < :t",
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=table.marshal(values),
            ReturnValues="ALL_OLD",
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    old = table.unmarshal(out.get("Attributes") or {})
    if old.get("local_time") and old.get("local_base") != canonical(attrs.get("notifications")):
        clear_override(tenant_id, entity_type, entity_id, made_at=old.get("local_time"))
    return True


def delete_if_newer(tenant_id: str, entity_type: str, entity_id: str, sync_time: str) -> bool:
    """Replace the entity by a tombstone unless what is stored is as new or newer. True when written (also when
    nothing was stored: the tombstone keeps an older upsert that arrives later out). A ``PutItem``: the tombstone
    replaces everything, a local override included."""
    record = tombstone(tenant_id, entity_type, entity_id, sync_time)
    try:
        table.ddb().put_item(
            TableName=table.table_name(),
            Item=table.marshal(record),
            ConditionExpression="attribute_not_exists(#pk) OR #st < :t",
            ExpressionAttributeNames={"#pk": "PK", "#st": "sync_time"},
            ExpressionAttributeValues=table.values(t=sync_time),
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def canonical(value: Any) -> str:
    """One JSON text per value (compact, keys sorted): what an override's base is stored and compared as."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# ───────────── local overrides (the deprecated users PATCH) ─────────────
def set_override(
    tenant_id: str, entity_type: str, entity_id: str, notifications: list[str], *, base: Any, seen_sync_time: str, made_at: str
) -> bool:
    """Store a local ``notifications`` override on the entity's item (``local_notifications``), made over ``base``, the
    replica's value as stored at ``seen_sync_time`` (``local_base``, canonical JSON): written only if the item exists
    and no replica write came since. True when written."""
    return table.try_update(
        pk(tenant_id, entity_type),
        sk(entity_id),
        "SET local_notifications = :n, local_base = :b, local_time = :m",
        condition="attribute_exists(#pk) AND #st = :seen",
        names={"#pk": "PK", "#st": "sync_time"},
        values=table.values(n=canonical(notifications), b=canonical(base), m=made_at, seen=seen_sync_time),
    )


def clear_override(
    tenant_id: str, entity_type: str, entity_id: str, *, made_at: str | None = None, seen_sync_time: str | None = None
) -> bool:
    """Drop the entity's local override: the one made at ``made_at`` (so a newer PATCH is kept), or, with
    ``seen_sync_time``, whichever there is while no replica write came since. True when the item was written."""
    if made_at is not None:
        condition, names, vals = "local_time = :m", None, table.values(m=made_at)
    else:
        condition, names, vals = (
            "attribute_exists(#pk) AND #st = :seen",
            {"#pk": "PK", "#st": "sync_time"},
            table.values(seen=seen_sync_time),
        )
    return table.try_update(
        pk(tenant_id, entity_type),
        sk(entity_id),
        "REMOVE local_notifications, local_base, local_time",
        condition=condition,
        names=names,
        values=vals,
    )


def override(stored: dict[str, Any]) -> tuple[list[str], str] | None:
    """A stored item's local notifications override and its base (canonical JSON of the replica value it was made
    over), if it has one."""
    if "local_notifications" not in stored:
        return None
    return json.loads(stored["local_notifications"]), stored["local_base"]


def get(tenant_id: str, entity_type: str, entity_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    """The entity, or None when there is none or it was deleted (its tombstone)."""
    stored = table.get(pk(tenant_id, entity_type), sk(entity_id), consistent=consistent)
    return None if stored is None or stored.get("deleted") else stored


def get_any(tenant_id: str, entity_type: str, entity_id: str) -> dict[str, Any] | None:
    """The stored item, tombstone included."""
    return table.get(pk(tenant_id, entity_type), sk(entity_id))


def entity_ids(tenant_id: str, entity_type: str) -> list[str]:
    """Every id of the type's partition, tombstones included (one Query of the partition; the purge walks the tenant's
    organizations this way)."""
    items = table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=pk(tenant_id, entity_type)))
    return [str(i["entity_id"]) for i in items if i.get("entity_id")]


def page(tenant_id: str, entity_type: str, *, offset: int, limit: int, descending: bool = False) -> tuple[list[dict[str, Any]], int]:
    """Items ``offset``..``offset+limit`` of the type's partition in id order, and how many there are (tombstones are
    read but neither answered nor counted)."""
    return table.offset_page(
        offset,
        limit,
        KeyConditionExpression="PK = :pk",
        FilterExpression="attribute_not_exists(#deleted)",  # tombstones
        ExpressionAttributeNames={"#deleted": "deleted"},
        ExpressionAttributeValues=table.values(pk=pk(tenant_id, entity_type)),
        ScanIndexForward=not descending,
    )


def page_where(
    tenant_id: str, entity_type: str, attr: str, value: str, *, offset: int, limit: int, descending: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """The same, of the entities whose ``attr`` equals ``value`` (case-insensitively: the key is lower-cased), on the
    attribute's index (``LOOKUPS``)."""
    index = LOOKUPS[entity_type][attr]
    return table.offset_page(
        offset,
        limit,
        IndexName=index,
        KeyConditionExpression=f"{index}PK = :pk",
        ExpressionAttributeValues=table.values(pk=lookup_pk(tenant_id, entity_type, attr, value)),
        ScanIndexForward=not descending,
    )


def attributes(stored: dict[str, Any]) -> dict[str, Any]:
    """The seed's attributes of a stored item."""
    return json.loads(stored["attrs"])
