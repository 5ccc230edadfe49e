"""Put the SCHEDULED records stored before the due index existed on it (``python -m parley.admin backfill-due-index``).

``GET /scheduled`` reads the due index (GSI9, ``keys.due_pk``), which ``messages.create`` writes for every record
stored SCHEDULED since it exists. A record scheduled before then carries no ``GSI9PK``/``GSI9SK``, so the list
would leave it out until it is sent. This walks each tenant's SCHEDULED records (GSI7 ``STATUS#SCHEDULED``: one
paged Query per tenant, only the attributes the keys need) and sets the two attributes on each record that lacks
them, with one conditional ``UpdateItem`` each: only while the record is still SCHEDULED, so a record sent or
cancelled meanwhile stays off the index (every change away from SCHEDULED removes them).

Run it once after the deploy that adds GSI9 (docs/architecture.md §3.2). Idempotent: a record
already on the index is counted and left alone, so a second run writes nothing. Without ``tenant_id`` the tenants
are found with one Scan of the table filtered to tenant items (tenants are in no index): it reads the whole table
once, like ``migrate-phones``; with ``tenant_id``, nothing is scanned. ``dry_run`` counts and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from parley import clock
from parley.dal import keys, table
from parley.dal.messages import due_keys
from parley.models.domain import MessageStatus

_ATTRIBUTES = ("PK", "SK", "id", "tenant_id", "status", "created_at", "scheduled_at", "GSI9PK", "GSI9SK")
_PAGE = 100


def tenant_ids() -> list[str]:
    """Every tenant's id: a Scan filtered to tenant items (see the module doc)."""
    tenants = table.scan_all(
        FilterExpression="#t = :t", ProjectionExpression="#id", ExpressionAttributeNames={"#t": "type", "#id": "id"},
        ExpressionAttributeValues=table.values(t="tenant"),
    )  # fmt: skip
    ids = [t["id"] for t in tenants]
    return sorted(ids)


def scheduled_items(tenant_id: str) -> Iterator[dict[str, Any]]:
    """The tenant's SCHEDULED records from its GSI7 status partition, ``_PAGE`` at a time, with only the
    attributes the due keys need."""
    names = {f"#p{i}": name for i, name in enumerate(_ATTRIBUTES)}
    start = None
    while True:
        out = table.ddb().query(
            TableName=table.table_name(),
            IndexName="GSI7",
            KeyConditionExpression="GSI7PK = :pk",
            ExpressionAttributeValues=table.values(pk=keys.status_pk(tenant_id, MessageStatus.SCHEDULED.value)),
            ProjectionExpression=", ".join(names),
            ExpressionAttributeNames=names,
            Limit=_PAGE,
            **({"ExclusiveStartKey": start} if start else {}),
        )
        yield from (table.unmarshal(i) for i in out.get("Items", []))
        start = out.get("LastEvaluatedKey")
        if not start:
            return


def wanted_keys(item: dict[str, Any]) -> dict[str, str]:
    """The due-index attributes a SCHEDULED record item should carry."""
    scheduled_at = item.get("scheduled_at")
    return due_keys(
        item["tenant_id"],
        item["id"],
        scheduled_at=clock.parse_iso(scheduled_at) if scheduled_at else None,
        created_at=clock.parse_iso(item["created_at"]),
    )


def index_one(item: dict[str, Any]) -> bool:
    """Set the due-index attributes of one record item if it is still SCHEDULED; False when it is not (any more)."""
    attrs = wanted_keys(item)
    return table.try_update(
        item["PK"], item["SK"], "SET GSI9PK = :pk, GSI9SK = :sk", condition="#s = :sched", names={"#s": "status"},
        values=table.values(pk=attrs["GSI9PK"], sk=attrs["GSI9SK"], sched=MessageStatus.SCHEDULED.value),
    )  # fmt: skip


def backfill(tenant_id: str | None = None, *, dry_run: bool = False) -> dict[str, Any]:
    """Put one tenant's (or every tenant's) SCHEDULED records on the due index; returns what it found and did."""
    tenants = [tenant_id] if tenant_id else tenant_ids()
    report: dict[str, Any] = {"dry_run": dry_run, "tenants": len(tenants), "scheduled": 0, "indexed": 0, "already_indexed": 0,
                              "changed_meanwhile": 0}  # fmt: skip
    for tid in tenants:
        for item in scheduled_items(tid):
            report["scheduled"] += 1
            attrs = wanted_keys(item)
            if all(item.get(name) == value for name, value in attrs.items()):
                report["already_indexed"] += 1
            elif dry_run or index_one(item):  # a dry run counts what it would index
                report["indexed"] += 1
            else:
                report["changed_meanwhile"] += 1
    return report
