"""Texting accounts, numbers, lookups, number maps and number logs in the single table (docs/data-model.md §6.18).
Tenant-scoped keys except the one global item that routes an inbound SMS by its receiving number; every read is a
GetItem or a Query (of a key or GSI3/GSI6, which the tallies do not read), never a Scan.

- account ``TENANT#<t>#TEXTACCT#<id>`` / ``TEXTACCT``: GSI3 ``TENANT#<t>#TEXTACCT`` (all), GSI6
  ``TENANT#<t>#TEXTACCT#ORG#<org>``, both ``<created_at>#<id>``;
- number ``TENANT#<t>#TEXTNUM#<id>`` / ``TEXTNUM``: GSI3 ``TENANT#<t>#TEXTNUM``, GSI6 ``TENANT#<t>#TEXTNUM#ACCT#<account>``;
  and the global ``TEXTNUM#E164#<e164>`` / ``TEXTNUM`` → ``tenant_id``, ``number_id`` (written with the number in one
  transaction, never over another tenant's);
- lookup ``TENANT#<t>#NUMINFO#<id>`` / ``NUMINFO`` and its pointer ``TENANT#<t>#NUMINFO#E164#<e164>`` / ``NUMINFO``
  (one record per tenant and number);
- map ``TENANT#<t>#NUMMAP#<id>`` / ``NUMMAP``: GSI3 ``TENANT#<t>#NUMMAP#USER#<user>``, GSI6
  ``TENANT#<t>#NUMMAP#NUM#<number>``; and its organization entry ``TENANT#<t>#NUMMAP#ORG#<org>`` / ``USER#<user>``
  (one map per user and organization; GSI3 ``TENANT#<t>#NUMMAP`` lists all);
- log ``TENANT#<t>#NUMLOG#<number>`` / ``LOG#<created_at>#<id>`` (``ttl``: kept ``LOG_DAYS``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table

LOG_DAYS = 90


def account_pk(t: str, account_id: str) -> str:
    return f"TENANT#{t}#TEXTACCT#{account_id}"


def number_pk(t: str, number_id: str) -> str:
    return f"TENANT#{t}#TEXTNUM#{number_id}"


def route_pk(e164: str) -> str:
    return f"TEXTNUM#E164#{e164}"


def info_pk(t: str, info_id: str) -> str:
    return f"TENANT#{t}#NUMINFO#{info_id}"


def info_pointer_pk(t: str, e164: str) -> str:
    return f"TENANT#{t}#NUMINFO#E164#{e164}"


def map_pk(t: str, map_id: str) -> str:
    return f"TENANT#{t}#NUMMAP#{map_id}"


def map_org_pk(t: str, org: str) -> str:
    return f"TENANT#{t}#NUMMAP#ORG#{org}"


def log_pk(t: str, number_id: str) -> str:
    return f"TENANT#{t}#NUMLOG#{number_id}"


def _clean(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


def lost_race(err: BaseException) -> bool:
    return isinstance(err, ClientError) and table.is_condition_failure(err)


def _page(index: str, pk_name: str, pk: str, *, offset: int, limit: int, newest_first: bool = True,
          filters: dict[str, str] | None = None) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    params: dict[str, Any] = {"KeyConditionExpression": f"{pk_name} = :pk", "ScanIndexForward": not newest_first}
    values: dict[str, Any] = {"pk": pk}
    if index:
        params["IndexName"] = index
    if filters:
        names = {f"#f{i}": k for i, k in enumerate(filters)}
        params["FilterExpression"] = " AND ".join(f"#f{i} = :f{i}" for i in range(len(filters)))
        params["ExpressionAttributeNames"] = names
        values.update({f"f{i}": v for i, v in enumerate(filters.values())})
    params["ExpressionAttributeValues"] = table.values(**values)
    return table.offset_page(offset, limit, **params)


# ── accounts ──


def account_item(t: str, account_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    order = f"{fields['created_at']}#{account_id}"
    return _clean({
        "PK": account_pk(t, account_id), "SK": "TEXTACCT", "type": "text_account", "tenant_id": t, "id": account_id,
        "GSI3PK": f"TENANT#{t}#TEXTACCT", "GSI3SK": order,
        "GSI6PK": f"TENANT#{t}#TEXTACCT#ORG#{fields['organization_id']}", "GSI6SK": order,
        **fields,
    })  # fmt: skip


def put_account(item: dict[str, Any]) -> None:
    table.put_item(item, condition="attribute_not_exists(PK)")


def get_account(t: str, account_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(account_pk(t, account_id), "TEXTACCT", consistent=consistent)


def update_account(t: str, account_id: str, changes: dict[str, Any], remove: list[str], *, condition: str = "") -> dict[str, Any]:
    """Set ``changes``, remove ``remove``; ``condition`` (on top of the account existing) makes a lost race a condition
    failure (``lost_race``)."""
    sets = ", ".join(f"#{k} = :{k}" for k in changes)
    expr = f"SET {sets}" + (f" REMOVE {', '.join(f'#{k}' for k in remove)}" if remove else "")
    out = table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(account_pk(t, account_id), "TEXTACCT"),
        UpdateExpression=expr,
        ConditionExpression="attribute_exists(PK)" + (f" AND ({condition})" if condition else ""),
        ExpressionAttributeNames={f"#{k}": k for k in [*changes, *remove]},
        ExpressionAttributeValues=table.values(**changes),
        ReturnValues="ALL_NEW",
    )
    return table.unmarshal(out["Attributes"])


def accounts(t: str, organization_id: str | None, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    if organization_id:
        return _page("GSI6", "GSI6PK", f"TENANT#{t}#TEXTACCT#ORG#{organization_id}", offset=offset, limit=limit)
    return _page("GSI3", "GSI3PK", f"TENANT#{t}#TEXTACCT", offset=offset, limit=limit)


# ── numbers ──


def number_item(t: str, number_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    order = f"{fields['created_at']}#{number_id}"
    return _clean({
        "PK": number_pk(t, number_id), "SK": "TEXTNUM", "type": "text_number", "tenant_id": t, "id": number_id,
        "GSI3PK": f"TENANT#{t}#TEXTNUM", "GSI3SK": order,
        "GSI6PK": f"TENANT#{t}#TEXTNUM#ACCT#{fields['account_id']}", "GSI6SK": order,
        **fields,
    })  # fmt: skip


def create_number(item: dict[str, Any]) -> None:
    """The number and its global routing item, in one transaction; a number routed already (to any tenant) fails
    the condition (``lost_race``)."""
    route = {
        "PK": route_pk(item["phone_number"]), "SK": "TEXTNUM", "type": "text_number_route",
        "tenant_id": item["tenant_id"], "number_id": item["id"], "account_id": item["account_id"],
    }  # fmt: skip
    table.transact([
        {"Put": {"Item": table.marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Put": {"Item": table.marshal(route), "ConditionExpression": "attribute_not_exists(PK)"}},
    ])  # fmt: skip


def get_number(t: str, number_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(number_pk(t, number_id), "TEXTNUM", consistent=consistent)


def route(e164: str) -> dict[str, Any] | None:
    return table.get(route_pk(e164), "TEXTNUM")


def update_number(t: str, number_id: str, changes: dict[str, Any], remove: list[str]) -> dict[str, Any]:
    sets = ", ".join(f"#{k} = :{k}" for k in changes)
    expr = f"SET {sets}" + (f" REMOVE {', '.join(f'#{k}' for k in remove)}" if remove else "")
    out = table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(number_pk(t, number_id), "TEXTNUM"),
        UpdateExpression=expr,
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames={f"#{k}": k for k in [*changes, *remove]},
        ExpressionAttributeValues=table.values(**changes),
        ReturnValues="ALL_NEW",
    )
    return table.unmarshal(out["Attributes"])


def numbers(t: str, account_id: str | None, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    if account_id:
        return _page("GSI6", "GSI6PK", f"TENANT#{t}#TEXTNUM#ACCT#{account_id}", offset=offset, limit=limit)
    return _page("GSI3", "GSI3PK", f"TENANT#{t}#TEXTNUM", offset=offset, limit=limit)


def account_numbers(t: str, account_id: str) -> list[dict[str, Any]]:
    """Every number of an account, oldest first (an account has a handful)."""
    return table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=f"TENANT#{t}#TEXTNUM#ACCT#{account_id}"),
                           index="GSI6")  # fmt: skip


# ── lookups ──


def get_info(t: str, info_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(info_pk(t, info_id), "NUMINFO", consistent=consistent)


def info_for(t: str, e164: str) -> dict[str, Any] | None:
    pointer = table.get(info_pointer_pk(t, e164), "NUMINFO", consistent=True)
    return get_info(t, pointer["info_id"], consistent=True) if pointer else None


def create_info(item: dict[str, Any]) -> None:
    """A new lookup record and its pointer (one per tenant and number: a concurrent create fails, ``lost_race``)."""
    t, e164 = item["tenant_id"], item["number"]
    pointer = {"PK": info_pointer_pk(t, e164), "SK": "NUMINFO", "type": "number_info_pointer", "tenant_id": t, "info_id": item["id"]}
    table.transact([
        {"Put": {"Item": table.marshal({"PK": info_pk(t, item["id"]), "SK": "NUMINFO", "type": "number_info", **_clean(item)}),
                 "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Put": {"Item": table.marshal(pointer), "ConditionExpression": "attribute_not_exists(PK)"}},
    ])  # fmt: skip


def replace_info(item: dict[str, Any]) -> None:
    table.put_item({"PK": info_pk(item["tenant_id"], item["id"]), "SK": "NUMINFO", "type": "number_info", **_clean(item)})


def delete_info(t: str, e164: str) -> int:
    pointer = table.get(info_pointer_pk(t, e164), "NUMINFO", consistent=True)
    if pointer is None:
        return 0
    table.transact([
        {"Delete": {"Key": table.key(info_pk(t, pointer["info_id"]), "NUMINFO")}},
        {"Delete": {"Key": table.key(info_pointer_pk(t, e164), "NUMINFO")}},
    ])  # fmt: skip
    return 1


# ── maps ──


def create_map(item: dict[str, Any]) -> None:
    """The map and its organization entry (one map per user and organization: a second fails, ``lost_race``)."""
    t, org, user = item["tenant_id"], item["organization_id"], item["user_id"]
    main = {
        "PK": map_pk(t, item["id"]), "SK": "NUMMAP", "type": "number_map", **item,
        "GSI3PK": f"TENANT#{t}#NUMMAP#USER#{user}", "GSI3SK": f"{item['created_at']}#{item['id']}",
        "GSI6PK": f"TENANT#{t}#NUMMAP#NUM#{item['number_id']}", "GSI6SK": f"{item['created_at']}#{item['id']}",
    }  # fmt: skip
    entry = {
        "PK": map_org_pk(t, org), "SK": f"USER#{user}", "type": "number_map_entry", **item,
        "GSI3PK": f"TENANT#{t}#NUMMAP", "GSI3SK": f"{item['created_at']}#{item['id']}",
    }  # fmt: skip
    table.transact([
        {"Put": {"Item": table.marshal(main), "ConditionExpression": "attribute_not_exists(PK)"}},
        {"Put": {"Item": table.marshal(entry), "ConditionExpression": "attribute_not_exists(PK)"}},
    ])  # fmt: skip


def get_map(t: str, map_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(map_pk(t, map_id), "NUMMAP", consistent=consistent)


def maps(t: str, *, number_id: str | None, organization_id: str | None, user_id: str | None, offset: int,
         limit: int) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """The maps matching the filters: by user (GSI3), else by number (GSI6), else by organization (its entries), else
    all (GSI3); the other filters on that key's items."""
    rest = {k: v for k, v in (("number_id", number_id), ("organization_id", organization_id), ("user_id", user_id)) if v}
    if user_id:
        rest.pop("user_id")
        return _page("GSI3", "GSI3PK", f"TENANT#{t}#NUMMAP#USER#{user_id}", offset=offset, limit=limit, filters=rest)
    if number_id:
        rest.pop("number_id")
        return _page("GSI6", "GSI6PK", f"TENANT#{t}#NUMMAP#NUM#{number_id}", offset=offset, limit=limit, filters=rest)
    if organization_id:
        return _page("", "PK", map_org_pk(t, organization_id), offset=offset, limit=limit, newest_first=False)
    return _page("GSI3", "GSI3PK", f"TENANT#{t}#NUMMAP", offset=offset, limit=limit)


def user_maps(t: str, user_id: str) -> list[dict[str, Any]]:
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=f"TENANT#{t}#NUMMAP#USER#{user_id}"),
                           index="GSI3")  # fmt: skip


def delete_map(stored: dict[str, Any]) -> None:
    t = stored["tenant_id"]
    table.transact([
        {"Delete": {"Key": table.key(map_pk(t, stored["id"]), "NUMMAP")}},
        {"Delete": {"Key": table.key(map_org_pk(t, stored["organization_id"]), f"USER#{stored['user_id']}")}},
    ])  # fmt: skip


# ── logs ──


def put_log(t: str, number_id: str, log_id: str, created_at: str, log: str, ttl: int) -> None:
    table.put_item({
        "PK": log_pk(t, number_id), "SK": f"LOG#{created_at}#{log_id}", "type": "number_log", "tenant_id": t,
        "id": log_id, "number_id": number_id, "created_at": created_at, "log": log, "ttl": ttl,
    })  # fmt: skip


def logs(t: str, number_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return _page("", "PK", log_pk(t, number_id), offset=offset, limit=limit)


def delete_partition(pk: str) -> int:
    """Delete every item of one partition (a number's logs): their keys are queried, then deleted 25 at a time."""
    keys = [
        {"PK": i["PK"], "SK": i["SK"]}
        for i in table.query_raw(
            KeyConditionExpression="PK = :pk", ExpressionAttributeValues=table.values(pk=pk), ProjectionExpression="PK, SK"
        )
    ]
    client = table.ddb()
    for start in range(0, len(keys), 25):
        request = {table.table_name(): [{"DeleteRequest": {"Key": table.key(k["PK"], k["SK"])}} for k in keys[start : start + 25]]}
        while request:
            out = client.batch_write_item(RequestItems=request)
            request = out.get("UnprocessedItems") or {}
    return len(keys)


def all_numbers(t: str) -> list[dict[str, Any]]:
    """Every number of the tenant (GSI3; a tenant has a handful): ids only."""
    pk = table.values(pk=f"TENANT#{t}#TEXTNUM")
    return table.query_raw(IndexName="GSI3", KeyConditionExpression="GSI3PK = :pk", ExpressionAttributeValues=pk, ProjectionExpression="id")


def delete_logs_naming(t: str, number_id: str, phones: list[str]) -> int:
    """Delete the number's log lines whose text contains one of ``phones`` (one filtered Query of its partition)."""
    names = {"#log": "log"}
    condition = " OR ".join(f"contains(#log, :p{i})" for i in range(len(phones)))
    found = table.query_raw(
        KeyConditionExpression="PK = :pk", FilterExpression=condition, ExpressionAttributeNames=names, ProjectionExpression="PK, SK",
        ExpressionAttributeValues=table.values(pk=log_pk(t, number_id), **{f"p{i}": p for i, p in enumerate(phones)}),
    )  # fmt: skip
    for item in found:
        table.ddb().delete_item(TableName=table.table_name(), Key=table.key(item["PK"], item["SK"]))
    return len(found)
