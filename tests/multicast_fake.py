"""The notify() boundary of the multicast pipeline, for its tests before the real one (parley.domain.notifications,
helper B's) is merged: a stand-in with the same signature and the same contract — idempotent by notification id —
that stores what it was asked in the table (so a killed worker's calls survive it), and counts every call.

- ``PK = TESTNOTIF#<tenant>#<notification id>``, ``SK = TESTNOTIF``: ``user_id``, ``individual_id``, ``subject``,
  ``body``, ``html``, ``sms``, ``source``, ``calls`` (how many times notify was called with this id; the effect, the
  item's creation, happens once).
"""

from __future__ import annotations

from typing import Any

PREFIX = "TESTNOTIF#"


def notify(tenant_id: str, *, notification_id: str, user_id: str, individual_id: str | None, organization_id: str | None,
           category: str | None, data: Any, email: Any, source: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    from parley.dal import table

    fields = {
        "user_id": user_id,
        "individual_id": individual_id or "",
        "organization_id": organization_id or "",
        "category": category or "",
        "subject": data.apn.title if data.apn else "",
        "body": data.apn.body if data.apn else "",
        "sms": list(data.sms.bodies) if data.sms else [],
        "html": email.html if email else "",
        "text": email.text if email else "",
        "multicast_id": source.get("multicast-id", ""),
    }
    names = {f"#f{i}": k for i, k in enumerate(fields)}
    sets = ", ".join(f"#f{i} = if_not_exists(#f{i}, :f{i})" for i in range(len(fields)))
    table.ddb().update_item(
        TableName=table.table_name(),
        Key=table.key(f"{PREFIX}{tenant_id}#{notification_id}", "TESTNOTIF"),
        UpdateExpression=f"SET {sets} ADD calls :one",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=table.values(one=1, **{f"f{i}": v for i, v in enumerate(fields.values())}),
    )
    return {"notification_id": notification_id}


def install(monkeypatch: Any) -> None:
    from parley.domain import multicasts

    monkeypatch.setattr(multicasts, "_notify", notify)


def notifications(tenant_id: str | None = None) -> list[dict[str, Any]]:
    """Every stand-in notification (of one tenant), read with a Scan (tests only)."""
    from parley.dal import table

    prefix = PREFIX + (f"{tenant_id}#" if tenant_id else "")
    return [i for i in table.scan_all(FilterExpression="begins_with(PK, :p)", ExpressionAttributeValues=table.values(p=prefix))]
