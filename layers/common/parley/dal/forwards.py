"""Forward-profile activity: one item per forwarded profile, under the forwarded candidate's email.

``PK = TENANT#<t>#FWD#<candidate email>``, ``SK = FWD#<createdDate ms, 13 digits>#<emailActivityId>``:
a key range read newest first serves GET /communications/email/v1/forward-profile/activity.
"""

from __future__ import annotations

from typing import Any

from parley.dal import keys, table, tallies


def _pk(tenant_id: str, candidate_email: str) -> str:
    return keys.forward_pk(tenant_id, candidate_email)


def put(tenant_id: str, candidate_email: str, activity: dict[str, Any]) -> None:
    """Store one activity (``createdDate`` and ``emailActivityId`` make its key); never overwrites."""
    item = {
        "PK": _pk(tenant_id, candidate_email),
        "SK": keys.forward_sk(activity["createdDate"], activity["emailActivityId"]),
        "type": "forward",
        **activity,
    }
    table.put_item(item, condition="attribute_not_exists(PK)")


def delete(tenant_id: str, candidate_email: str, created_ms: int, message_id: str) -> None:
    table.ddb().delete_item(
        TableName=table.table_name(), Key=table.key(_pk(tenant_id, candidate_email), keys.forward_sk(created_ms, message_id))
    )


def page(
    tenant_id: str, candidate_email: str, *, offset: int, limit: int, communication_id: str | None = None
) -> tuple[list[dict[str, Any]], int]:
    """Activities of one candidate, newest first: (items offset..offset+limit, total). Key range only; without a
    ``communication_id`` from the list's tallies (reads ≈ the page, docs/data-model.md §6.7)."""
    lst = tallies.TimeList("", _pk(tenant_id, candidate_email), "FWD#", epoch_ms=True)
    if not communication_id:
        return tallies.page(lst, offset=offset, limit=limit, forward=False)
    params = lst.query(tallies.EARLIEST, tallies.LATEST, forward=False)
    params["FilterExpression"] = "emailActivityId = :id"
    params["ExpressionAttributeValues"] |= table.values(id=communication_id)
    return table.offset_page(offset, limit, **params)
