"""The courier API's sniffers and their logs (docs/data-model.md, "Sniffers"; ``parley.domain.sniffers``).

- a sniffer: ``PK = TENANT#<t>#SNIFFER``, ``SK = SNIFFER#<id>``: ``{type: "sniffer", id, user_id, valid_until,
  created_time, ttl}`` (``ttl``: ``valid_until`` + the log retention, so its logs stay readable while they live);
- the tenant item's ``sniffers`` map (sniffer id → ``{user_id, until}``, the sniffers not ended) and
  ``sniffers_version`` (optimistic lock of that map), written in the same transaction as the sniffer: the authorizer
  reads the tenant item anyway, so the map reaches every request's context at no cost (``Caller.sniffed_users``);
- a log: ``PK = TENANT#<t>#SNIFFLOG#<user id>``, ``SK = LOG#<created ISO ms Z>#<log id>``, ``type: "sniffer_log"``, one
  ``PutItem`` per recorded request (the only write a courier request makes for it; the courier functions may put
  nothing else in such a partition: their IAM condition ``dynamodb:LeadingKeys``). A sniffer's logs are its user's
  logs between its ``created_time`` and ``valid_until``: one write per request, however many sniffers overlap.
"""

from __future__ import annotations

from typing import Any

from parley.dal import keys, table

SNIFFER_TYPE, LOG_TYPE = "sniffer", "sniffer_log"


def pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#SNIFFER"


def sk(sniffer_id: str) -> str:
    return f"SNIFFER#{sniffer_id}"


def log_pk(tenant_id: str, user_id: str) -> str:
    return f"TENANT#{tenant_id}#SNIFFLOG#{user_id}"


def log_sk(created_iso: str, log_id: str) -> str:
    return f"LOG#{created_iso}#{log_id}"


def active(tenant_id: str) -> tuple[dict[str, Any], int] | None:
    """The tenant item's ``sniffers`` map and its version (a strongly consistent read); None: no such tenant."""
    item = table.get(keys.tenant_pk(tenant_id), keys.TENANT_SK, consistent=True)
    if item is None:
        return None
    return dict(item.get("sniffers") or {}), int(item.get("sniffers_version") or 0)


def create(tenant_id: str, sniffer: dict[str, Any], ttl: int, sniffers: dict[str, Any], version: int) -> bool:
    """Put the sniffer and set the tenant's map to ``sniffers`` (which holds it), in one transaction, if the map is still
    at ``version``. False (nothing written): another create changed the map first."""
    from parley.dal import tenants

    tenants.forget(tenant_id)
    item = {"PK": pk(tenant_id), "SK": sk(sniffer["id"]), "type": SNIFFER_TYPE, **sniffer, "ttl": ttl}
    unchanged = "sniffers_version = :v" if version else "(attribute_not_exists(sniffers_version) OR sniffers_version = :v)"
    ops = [
        {"Put": {"Item": table.marshal(item), "ConditionExpression": "attribute_not_exists(PK)"}},
        {
            "Update": {
                "Key": table.key(keys.tenant_pk(tenant_id), keys.TENANT_SK),
                "UpdateExpression": "SET sniffers = :m, sniffers_version = :n",
                "ConditionExpression": f"attribute_exists(PK) AND {unchanged}",
                "ExpressionAttributeValues": table.values(m=sniffers, n=version + 1, v=version),
            }
        },
    ]
    return table.try_transact(ops, decisive=[1])


def get(tenant_id: str, sniffer_id: str) -> dict[str, Any] | None:
    return table.get(pk(tenant_id), sk(sniffer_id))


def put_log(tenant_id: str, user_id: str, log: dict[str, Any], ttl: int) -> None:
    """One unconditional ``PutItem`` (the log id is new)."""
    item = {"PK": log_pk(tenant_id, user_id), "SK": log_sk(log["created_time"], log["id"]), "type": LOG_TYPE, **log, "ttl": ttl}
    table.ddb().put_item(TableName=table.table_name(), Item=table.marshal(item))


def logs_page(
    tenant_id: str, user_id: str, since: str, until: str, now: int, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The user's logs created from ``since`` to ``until`` (ISO ms Z, inclusive), oldest first, items ``offset``..
    ``offset+limit`` and how many there are; logs past their ``ttl`` (not yet deleted by DynamoDB) are left out."""
    return table.offset_page(
        offset,
        limit,
        KeyConditionExpression="PK = :pk AND SK BETWEEN :a AND :b",
        FilterExpression="#ttl > :now",
        ExpressionAttributeNames={"#ttl": "ttl"},
        ExpressionAttributeValues=table.values(pk=log_pk(tenant_id, user_id), a=log_sk(since, ""), b=log_sk(until, "\uffff"), now=now),
    )
