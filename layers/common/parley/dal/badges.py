"""The courier's badge counters in the single table (docs/data-model.md §6.16). Tenant-scoped keys; every read is a
GetItem or a Query, never a Scan.

- the counter: ``PK = TENANT#<t>#BADGE#<id>``, ``SK = BADGE``, ``type = badge_count``: ``individual_id``, ``kind`` (the
  seed's ``type``: appointment, …), ``count``, ``timestamp`` (when the count was true: orders the writes),
  ``organization_id``, ``last_modified_at``. One counter per individual and kind: its id is derived from them
  (``counter_id``), so a write is an upsert by key;
- an individual's counters: GSI3 ``GSI3PK = TENANT#<t>#BADGE#IND#<individual>``, ``GSI3SK = <kind>`` (non-tallied).

A write is a ``PutItem`` conditional on ``attribute_not_exists(PK) OR #ts <= :ts``: a write older than the stored one
changes nothing (last write by ``timestamp`` wins; an equal timestamp: the later arrival).
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table

ITEM_TYPE = "badge_count"
SK = "BADGE"
INDEX = "GSI3"
_NAMESPACE = uuid.UUID("6f0c7f4e-2b8a-4d0e-9a43-0b7d3c1e5a21")


def counter_id(tenant_id: str, individual_id: str, kind: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{tenant_id}\n{individual_id}\n{kind}"))


def pk(tenant_id: str, badge_id: str) -> str:
    return f"TENANT#{tenant_id}#BADGE#{badge_id}"


def individual_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#BADGE#IND#{individual_id}"


def put_if_newer(tenant_id: str, fields: dict[str, Any]) -> tuple[bool, dict[str, Any]]:
    """Upsert the counter of ``fields["individual_id"]`` and ``fields["kind"]`` unless the stored one has a later
    ``timestamp``: ``(written, the counter as stored now)``."""
    badge_id = counter_id(tenant_id, fields["individual_id"], fields["kind"])
    stored = {
        "PK": pk(tenant_id, badge_id),
        "SK": SK,
        "type": ITEM_TYPE,
        "tenant_id": tenant_id,
        "id": badge_id,
        "GSI3PK": individual_pk(tenant_id, fields["individual_id"]),
        "GSI3SK": fields["kind"],
        **{k: v for k, v in fields.items() if v is not None},
    }
    try:
        table.ddb().put_item(
            TableName=table.table_name(),
            Item=table.marshal(stored),
            ConditionExpression="attribute_not_exists(PK) OR #ts <= :ts",
            ExpressionAttributeNames={"#ts": "timestamp"},
            ExpressionAttributeValues=table.values(ts=fields["timestamp"]),
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as err:
        if not table.is_condition_failure(err):
            raise
        old = err.response.get("Item")
        return False, table.unmarshal(old) if old else (get(tenant_id, badge_id, consistent=True) or stored)
    return True, stored


def get(tenant_id: str, badge_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, badge_id), SK, consistent=consistent)


def of_individual(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """The individual's counters, by kind (one Query; an individual has a handful)."""
    return table.query_raw(
        IndexName=INDEX,
        KeyConditionExpression="GSI3PK = :pk",
        ExpressionAttributeValues=table.values(pk=individual_pk(tenant_id, individual_id)),
    )


def keys_of_individual(tenant_id: str, individual_id: str) -> list[tuple[str, str]]:
    return [(i["PK"], i["SK"]) for i in of_individual(tenant_id, individual_id)]
