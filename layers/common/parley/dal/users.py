"""The users directory: a tenant's recruiters (``x-ph-userid`` / ``recruiter_id``), their names, and the
stable integer each is given when first written (its first send, or ``upsert-user``: the ATS's ``created_by``;
reads never number).

- ``PK = TENANT#<t>#USER#<user id>``, ``SK = USER``: ``{user_id, numeric_id?, firstname, lastname}``
- ``PK = TENANT#<t>``, ``SK = USERSEQ``: ``{last}``, the last integer handed out (atomic ``ADD``)
"""

from __future__ import annotations

from typing import Any

from parley import clock
from parley.dal import keys, table


def get(tenant_id: str, user_id: str) -> dict[str, Any] | None:
    return table.get(keys.user_pk(tenant_id, user_id), keys.USER_SK)


def batch_get(tenant_id: str, user_ids: set[str]) -> dict[str, dict[str, Any]]:
    """Several users in BatchGetItem calls of up to 100 keys: ``{user_id: item}``."""
    found = table.batch_get((keys.user_pk(tenant_id, u), keys.USER_SK) for u in sorted(user_ids))
    return {item["user_id"]: item for item in found.values()}


def set_names(tenant_id: str, user_id: str, *, firstname: str | None, lastname: str | None) -> dict[str, Any]:
    """Create the user, or change its names (None leaves a name as it is); the integer id is untouched."""
    sets = {"type": "user", "user_id": user_id, **({"firstname": firstname} if firstname is not None else {})}
    sets |= {"lastname": lastname} if lastname is not None else {}
    names = {f"#a{i}": k for i, k in enumerate(sets)}
    vals = {f"v{i}": v for i, v in enumerate(sets.values())}
    expr = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(sets))) + ", #c = if_not_exists(#c, :now)"
    out = table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(keys.user_pk(tenant_id, user_id), keys.USER_SK),
        UpdateExpression=expr,
        ExpressionAttributeNames={**names, "#c": "created_at"},
        ExpressionAttributeValues=table.values(**vals, now=clock.iso(clock.now())),
        ReturnValues="ALL_NEW",
    )
    return table.unmarshal(out["Attributes"])


def next_number(tenant_id: str) -> int:
    """The tenant's next user integer (1, 2, …): an atomic counter, so two callers never get the same one."""
    out = table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(keys.tenant_pk(tenant_id), keys.USER_COUNTER_SK),
        UpdateExpression="SET #t = :type ADD #last :one",
        ExpressionAttributeNames={"#t": "type", "#last": "last"},
        ExpressionAttributeValues=table.values(type="user_counter", one=1),
        ReturnValues="UPDATED_NEW",
    )
    return int(table.unmarshal(out["Attributes"])["last"])


def claim_number(tenant_id: str, user_id: str, number: int) -> bool:
    """Give ``user_id`` the integer ``number`` unless it has one already (creating the user if needed)."""
    return table.try_update(
        keys.user_pk(tenant_id, user_id), keys.USER_SK, "SET #n = :n, #t = :type, #u = :uid, #c = if_not_exists(#c, :now)",
        condition="attribute_not_exists(#n)", names={"#n": "numeric_id", "#t": "type", "#u": "user_id", "#c": "created_at"},
        values=table.values(n=number, type="user", uid=user_id, now=clock.iso(clock.now())),
    )  # fmt: skip
