"""Messaging operations in the single table (docs/data-model.md §6.28).

- an operation: ``PK = TENANT#<t>#MSGOP#<id>``, ``SK = MSGOP``, ``type = messaging_operation`` ``{id, tenant_id,
  organization_id, kind (the seed's type), args, status (queued|running|completed|failed), logs {...}, created_at,
  created_by, last_modified_at}``; an organization's on GSI3 (``GSI3PK = TENANT#<t>#MSGOPS#ORG#<org>``,
  ``GSI3SK = <created_at>#<id>``), the tenant's on GSI6 (``GSI6PK = TENANT#<t>#MSGOPS``, same sort: a person's purge).
  ``logs`` counters are ADDed once per channel re-homed (the channel's re-pointing is
  the condition that counts it).
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

ITEM_TYPE, SK = "messaging_operation", "MSGOP"


def pk(tenant_id: str, operation_id: str) -> str:
    return f"TENANT#{tenant_id}#MSGOP#{operation_id}"


def org_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#MSGOPS#ORG#{organization_id}"


def create(item: dict[str, Any]) -> None:
    t = item["tenant_id"]
    sort = f"{item['created_at']}#{item['id']}"
    stored = {**item, "PK": pk(t, item["id"]), "SK": SK, "type": ITEM_TYPE, "GSI3PK": org_pk(t, item["organization_id"]),
              "GSI3SK": sort, "GSI6PK": tenant_pk(t), "GSI6SK": sort}  # fmt: skip
    table.put_item(stored, condition="attribute_not_exists(PK)")


def get(tenant_id: str, operation_id: str) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, operation_id), SK, consistent=True)


def page(tenant_id: str, organization_id: str, *, kind: str | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """An organization's operations, newest first (GSI3); ``kind`` an equality filter on the Query."""
    params: dict[str, Any] = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk", "ScanIndexForward": False}
    values: dict[str, Any] = {"pk": org_pk(tenant_id, organization_id)}
    if kind is not None:
        params["FilterExpression"] = "kind = :k"
        values["k"] = kind
    params["ExpressionAttributeValues"] = table.values(**values)
    return table.offset_page(offset, limit, **params)


def set_status(
    tenant_id: str, operation_id: str, status: str, at: str, *, only_from: tuple[str, ...], logs: dict[str, Any] | None = None
) -> bool:
    """``status`` (and ``logs.<k> = v`` for each of ``logs``) when the current status is one of ``only_from``."""
    names = {"#s": "status"}
    sets = ["#s = :s", "last_modified_at = :at"]
    vals: dict[str, Any] = {"s": status, "at": at}
    for n, (k, v) in enumerate((logs or {}).items()):
        names[f"#l{n}"] = k
        sets.append(f"logs.#l{n} = :l{n}")
        vals[f"l{n}"] = v
    cond = " OR ".join(f"#s = :f{n}" for n in range(len(only_from)))
    vals |= {f"f{n}": s for n, s in enumerate(only_from)}
    return table.try_update(pk(tenant_id, operation_id), SK, "SET " + ", ".join(sets), condition=f"attribute_exists(PK) AND ({cond})",
                            names=names, values=table.values(**vals))  # fmt: skip


def set_log(tenant_id: str, operation_id: str, key: str, value: Any, *, if_absent: bool = False) -> None:
    expr = "SET logs.#k = if_not_exists(logs.#k, :v)" if if_absent else "SET logs.#k = :v"
    table.try_update(
        pk(tenant_id, operation_id), SK, expr, condition="attribute_exists(PK)", names={"#k": key}, values=table.values(v=value)
    )


def counts_op(tenant_id: str, operation_id: str, counts: dict[str, int], at: str) -> dict[str, Any]:
    """A transaction's Update adding ``counts`` to the operation's ``logs`` counters (created at 0)."""
    names = {f"#c{n}": k for n, k in enumerate(counts)}
    vals: dict[str, Any] = {f"c{n}": v for n, v in enumerate(counts.values())} | {"at": at}
    sets = [f"logs.#c{n} = logs.#c{n} + :c{n}" for n in range(len(counts))] + ["last_modified_at = :at"]
    return {"Update": {"Key": table.key(pk(tenant_id, operation_id), SK), "UpdateExpression": "SET " + ", ".join(sets),
                       "ConditionExpression": "attribute_exists(PK)", "ExpressionAttributeNames": names,
                       "ExpressionAttributeValues": table.values(**vals)}}  # fmt: skip


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#MSGOPS"


def created_by_any(tenant_id: str, user_ids: set[str]) -> list[dict[str, Any]]:
    """The tenant's operations created by one of ``user_ids`` (GSI6 ``TENANT#<t>#MSGOPS``, filtered)."""
    found = table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=tenant_pk(tenant_id)), index="GSI6")
    return [i for i in found if i.get("created_by") in user_ids]


def scrub_creator(tenant_id: str, operation_id: str) -> None:
    table.try_update(pk(tenant_id, operation_id), SK, "REMOVE created_by", condition="attribute_exists(PK)")
