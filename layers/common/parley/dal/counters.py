"""Counters of a tenant's email, kept as events happen so analytics never reads the records.

Layout (``PK = TENANT#<t>#STATS``):
- ``SK = DAY#<YYYY-MM-DD>``: one item per UTC day with flat counter attributes, so one UpdateItem
  bumps every dimension at once: ``sent``, ``failed``, ``opened``, ``clicked``; per CRM type
  ``t:<type>:<counter>``; per template ``p:<templateId>:<counter>`` and ``p:<templateId>:name``.
- ``SK = RECORDS``: ``count``, the number of stored records (outbound emails), for page totals.

Counters are bumped by whoever wins the conditional state change they count (the dispatcher's
SENDING → SENT, the first open of a record, …), in a write of their own after it: in the same
transaction, every send of a tenant would contend for one day item (TransactionConflict).
"""

from __future__ import annotations

from typing import Any

from parley.dal import keys, table

COUNTERS = ("sent", "failed", "opened", "clicked")


def bump(tenant_id: str, day: str, counter: str, *, category: str | None = None, template_id: str | None = None,
         template_name: str | None = None, by: int = 1) -> None:  # fmt: skip
    """Add ``by`` to ``counter`` of ``day``, and to the same counter of the type and template given."""
    assert counter in COUNTERS, counter
    names = {"#c": counter}
    vals: dict[str, Any] = {"by": by}
    adds = ["#c :by"]
    sets = []
    if category:
        names["#t"] = f"t:{category}:{counter}"
        adds.append("#t :by")
    if template_id:
        names["#p"] = f"p:{template_id}:{counter}"
        adds.append("#p :by")
        if template_name is not None:
            names["#pn"] = f"p:{template_id}:name"
            vals["pn"] = template_name
            sets.append("#pn = :pn")
    expr = ("SET " + ", ".join(sets) + " " if sets else "") + "ADD " + ", ".join(adds)
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(keys.stats_pk(tenant_id), keys.stats_day_sk(day)),
        UpdateExpression=expr,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=table.values(**vals),
    )


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
