"""A tenant's suppression list: addresses its email must not go to any more.

Layout: one partition per tenant, one item per address (``PK = TENANT#<t>#SUPPRESSION``,
``SK = ADDR#<lower-cased address>``): a send checks all its addresses with one BatchGetItem, the whole list is one Query.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table
from parley.models.email_events import Suppression


def suppression_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#SUPPRESSION"


def suppression_sk(address: str) -> str:
    return f"ADDR#{address.strip().lower()}"


def add(entry: Suppression) -> bool:
    """Put ``entry`` on the list. The first reason is kept: returns False if the address was already there."""
    item: dict[str, Any] = {
        "PK": suppression_pk(entry.tenant_id),
        "SK": suppression_sk(entry.address),
        "type": "suppression",
        **entry.model_dump(mode="json", exclude_none=True),
        "address": entry.address.strip().lower(),
    }
    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def get(tenant_id: str, address: str) -> Suppression | None:
    item = table.get(suppression_pk(tenant_id), suppression_sk(address))
    return Suppression.model_validate(item) if item else None


def get_many(tenant_id: str, addresses: Iterable[str]) -> dict[str, Suppression]:
    """Which of ``addresses`` are on the list, in one BatchGetItem per 100 addresses:
    ``{lower-cased address: entry}`` (addresses not on the list are left out)."""
    wanted = {suppression_sk(a): a for a in addresses}
    if not wanted:
        return {}
    found = table.batch_get((suppression_pk(tenant_id), sk) for sk in wanted)
    return {sk.removeprefix("ADDR#"): Suppression.model_validate(item) for (_, sk), item in found.items()}


def list_all(tenant_id: str) -> list[Suppression]:
    items = table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=suppression_pk(tenant_id)))
    return [Suppression.model_validate(i) for i in items]


def remove(tenant_id: str, address: str) -> None:
    """Take an address off the list (operators; e.g. after the recipient asked to be mailed again)."""
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(suppression_pk(tenant_id), suppression_sk(address)))
