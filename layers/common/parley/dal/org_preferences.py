"""Organization preferences of the courier API (``/v1/org-preferences/``) in the single table (docs/data-model.md §6.10).

- ``PK = TENANT#<t>#ORGPREF#<organization id>``, ``SK = PREF#<name>``: ``{type: "org_preference", organization_id,
  name, value (canonical JSON text), created_at}``; one partition per organization holds its (at most three) set
  preferences. Read by one ``Query`` of the partition (or a ``GetItem`` for one name), written by one ``UpdateItem``
  (an upsert: ``created_at`` is kept from the first write).
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

ITEM_TYPE = "org_preference"


def pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#ORGPREF#{organization_id}"


def sk(name: str) -> str:
    return f"PREF#{name}"


def upsert(tenant_id: str, organization_id: str, name: str, value: str, *, now: str) -> dict[str, Any]:
    """Set the preference's value (JSON text); ``created_at`` is ``now`` on the first write and kept after. Returns
    the item as stored."""
    out = table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(pk(tenant_id, organization_id), sk(name)),
        UpdateExpression=(
            "SET #type = :type, organization_id = :org, #name = :name, #value = :value, created_at = if_not_exists(created_at, :now)"
        ),
        ExpressionAttributeNames={"#type": "type", "#name": "name", "#value": "value"},
        ExpressionAttributeValues=table.values(type=ITEM_TYPE, org=organization_id, name=name, value=value, now=now),
        ReturnValues="ALL_NEW",
    )
    return table.unmarshal(out["Attributes"])


def get(tenant_id: str, organization_id: str, name: str) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, organization_id), sk(name))


def of_organization(tenant_id: str, organization_id: str) -> list[dict[str, Any]]:
    """The organization's set preferences, by name."""
    return table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=pk(tenant_id, organization_id)))
