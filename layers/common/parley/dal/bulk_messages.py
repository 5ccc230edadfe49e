"""The courier's bulk messages in the single table (docs/data-model.md §6.25). Tenant-scoped keys; every read is a
GetItem or a Query, never a Scan.

- the bulk message: ``PK = TENANT#<t>#BULK#<id>``, ``SK = BULK``, ``type = bulk_message``.
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

ITEM_TYPE = "bulk_message"
SK = "BULK"


def pk(tenant_id: str, bulk_id: str) -> str:
    return f"TENANT#{tenant_id}#BULK#{bulk_id}"


def get(tenant_id: str, bulk_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, bulk_id), SK, consistent=consistent)
