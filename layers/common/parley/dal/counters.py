"""Counters of a tenant's email, kept as events happen so analytics never reads the records.

Layout (``PK = TENANT#<t>#STATS``):
- ``SK = DAY#<YYYY-MM-DD>``: one item per UTC day with flat counter attributes, so one UpdateItem
  bumps every dimension at once: ``sent``, ``failed``, ``opened``, ``clicked``; per CRM type
  ``t:<type>:<counter>``; per template ``p:<templateId>:<counter>`` and ``p:<templateId>:name``.
- ``SK = RECORDS``: ``count``, the number of stored records (outbound emails), for page totals.

Counters are bumped by whoever wins the conditional state change they count (the dispatcher's
SENDING → SENT, the first open of a record, …), in a write of their own after the change: a counter item
inside the changes' transactions would make concurrent sends of one tenant conflict on it. The dispatcher
gathers a whole batch's bumps (``DayBumps``: the increments summed per day item) and applies them after
the batch's outcomes are recorded, one UpdateItem per day item (usually one per batch). The cost of
keeping them apart: a crash between the two writes loses those counts (never doubles one).
"""

from __future__ import annotations

from typing import Any

from parley.dal import keys, table

COUNTERS = ("sent", "failed", "opened", "clicked")


def increments(counter: str, *, category: str | None = None, template_id: str | None = None, template_name: str | None = None,
               by: int = 1) -> tuple[dict[str, int], dict[str, str]]:  # fmt: skip
    """What ``bump`` changes on a day item: ``({attribute: amount to add}, {attribute: value to set})``."""
    assert counter in COUNTERS, counter
    adds = {counter: by}
    sets: dict[str, str] = {}
    if category:
        adds[f"t:{category}:{counter}"] = by
    if template_id:
        adds[f"p:{template_id}:{counter}"] = by
        if template_name is not None:
            sets[f"p:{template_id}:name"] = template_name
    return adds, sets


def _day_update(tenant_id: str, day: str, adds: dict[str, int], sets: dict[str, str]) -> dict[str, Any]:
    names = {f"#a{i}": k for i, k in enumerate(adds)} | {f"#s{i}": k for i, k in enumerate(sets)}
    vals: dict[str, Any] = {f"a{i}": v for i, v in enumerate(adds.values())} | {f"s{i}": v for i, v in enumerate(sets.values())}
    expr = (
        ("SET " + ", ".join(f"#s{i} = :s{i}" for i in range(len(sets))) + " " if sets else "")
        + "ADD "
        + ", ".join(f"#a{i} :a{i}" for i in range(len(adds)))
    )
    return {
        "Key": table.key(keys.stats_pk(tenant_id), keys.stats_day_sk(day)),
        "UpdateExpression": expr,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": table.values(**vals),
    }


def bump(tenant_id: str, day: str, counter: str, *, category: str | None = None, template_id: str | None = None,
         template_name: str | None = None, by: int = 1) -> None:  # fmt: skip
    """Add ``by`` to ``counter`` of ``day``, and to the same counter of the type and template given."""
    adds, sets = increments(counter, category=category, template_id=template_id, template_name=template_name, by=by)
    table.ddb().update_item(TableName=table.table_name(), **_day_update(tenant_id, day, adds, sets))


class DayBumps:
    """Counter bumps gathered over a batch: ``apply()`` makes one UpdateItem per day item, however many
    bumps it sums."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, str], tuple[dict[str, int], dict[str, str]]] = {}

    def add(self, tenant_id: str, day: str, counter: str, *, category: str | None = None, template_id: str | None = None,
            template_name: str | None = None, by: int = 1) -> None:  # fmt: skip
        adds, sets = increments(counter, category=category, template_id=template_id, template_name=template_name, by=by)
        total, names = self._items.setdefault((tenant_id, day), ({}, {}))
        for attr, n in adds.items():
            total[attr] = total.get(attr, 0) + n
        names.update(sets)

    def __bool__(self) -> bool:
        return bool(self._items)

    def apply(self) -> None:
        for (tenant_id, day), (adds, sets) in self._items.items():
            table.ddb().update_item(TableName=table.table_name(), **_day_update(tenant_id, day, adds, sets))


def days(tenant_id: str, first: str, last: str) -> list[dict[str, Any]]:
    """The day items from ``first`` to ``last`` (YYYY-MM-DD, inclusive), oldest first: one Query."""
    return table.query_all(
        key_condition="PK = :pk AND SK BETWEEN :lo AND :hi",
        expr_values=table.values(pk=keys.stats_pk(tenant_id), lo=keys.stats_day_sk(first), hi=keys.stats_day_sk(last)),
    )


def add_records(tenant_id: str, by: int) -> None:
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(keys.stats_pk(tenant_id), keys.STATS_RECORDS_SK),
        UpdateExpression="ADD #n :by",
        ExpressionAttributeNames={"#n": "count"},
        ExpressionAttributeValues=table.values(by=by),
    )


def records(tenant_id: str) -> int:
    item = table.get(keys.stats_pk(tenant_id), keys.STATS_RECORDS_SK)
    return max(0, int(item["count"])) if item else 0
