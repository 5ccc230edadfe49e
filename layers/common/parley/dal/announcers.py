"""Announcers and their announcements in the single table (docs/data-model.md §6.28). Every read is a GetItem or a
Query on a key or an index.

- an announcer: ``PK = TENANT#<t>#ANNOUNCER#<id>``, ``SK = ANNOUNCER``, ``type = announcer`` ``{id, tenant_id,
  organization_id, name, name_lc, event, kind (the seed's type), args, created_at, created_by, last_modified_at,
  last_modified_by}``; the tenant's on GSI6 (``GSI6PK = TENANT#<t>#ANNOUNCERS``, ``GSI6SK = <created_at>#<id>``), an
  organization's on GSI3 (``GSI3PK = TENANT#<t>#ANNOUNCERS#ORG#<org>``, same sort), by event on GSI4
  (``GSI4PK = TENANT#<t>#ANNOUNCERS#EVENT#<event>``, ``GSI4SK = <id>``: what an ``announce`` job reads).
- an announcement (one per announcer and event): ``PK = TENANT#<t>#ANNOUNCER#<id>``, ``SK = ANN#<event-id>``,
  ``type = announcement`` ``{state: claimed|done, pending?, posted [{channel_id, message_id}], skipped [{channel_id, reason}],
  at}``, put only if absent (the claim), with a ``ttl`` of 30 days.
"""

from __future__ import annotations

from typing import Any

from parley.dal import table

ITEM_TYPE, SK, ANN_PREFIX = "announcer", "ANNOUNCER", "ANN#"
ANNOUNCEMENT_TTL_DAYS = 30


def pk(tenant_id: str, announcer_id: str) -> str:
    return f"TENANT#{tenant_id}#ANNOUNCER#{announcer_id}"


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#ANNOUNCERS"


def org_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#ANNOUNCERS#ORG#{organization_id}"


def event_pk(tenant_id: str, event: str) -> str:
    return f"TENANT#{tenant_id}#ANNOUNCERS#EVENT#{event}"


def _keys(item: dict[str, Any]) -> dict[str, Any]:
    t, sort = item["tenant_id"], f"{item['created_at']}#{item['id']}"
    return {
        "PK": pk(t, item["id"]),
        "SK": SK,
        "type": ITEM_TYPE,
        "GSI6PK": tenant_pk(t),
        "GSI6SK": sort,
        "GSI3PK": org_pk(t, item["organization_id"]),
        "GSI3SK": sort,
        "GSI4PK": event_pk(t, item["event"]),
        "GSI4SK": item["id"],
    }


def create(item: dict[str, Any]) -> None:
    table.put_item({**item, **_keys(item)}, condition="attribute_not_exists(PK)")


def replace(item: dict[str, Any], *, previous_modified_at: str) -> bool:
    """Put the edited announcer over the stored one, unless it changed meanwhile (False)."""
    from botocore.exceptions import ClientError

    try:
        table.ddb().put_item(TableName=table.table_name(), Item=table.marshal({**item, **_keys(item)}),
                             ConditionExpression="attribute_exists(PK) AND last_modified_at = :at",
                             ExpressionAttributeValues=table.values(at=previous_modified_at))  # fmt: skip
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def get(tenant_id: str, announcer_id: str) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, announcer_id), SK, consistent=True)


def page(tenant_id: str, *, organization_id: str | None, name_lc: str | None, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Oldest first: an organization's (GSI3) or the tenant's (GSI6); ``name_lc`` an equality filter on the Query."""
    index, key = ("GSI3", org_pk(tenant_id, organization_id)) if organization_id else ("GSI6", tenant_pk(tenant_id))
    params: dict[str, Any] = {"IndexName": index, "KeyConditionExpression": f"{index}PK = :pk"}
    values: dict[str, Any] = {"pk": key}
    if name_lc is not None:
        params["FilterExpression"] = "name_lc = :n"
        values["n"] = name_lc
    params["ExpressionAttributeValues"] = table.values(**values)
    return table.offset_page(offset, limit, **params)


def all_of_tenant(tenant_id: str) -> list[dict[str, Any]]:
    """Every announcer of the tenant (GSI6)."""
    return table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=tenant_pk(tenant_id)), index="GSI6")


def scrub(tenant_id: str, announcer_id: str, *, remove: list[str], args: dict[str, Any] | None) -> None:
    """REMOVE ``remove`` (and SET ``args`` when given) on the announcer (a person's purge)."""
    parts, names, values = [], {f"#r{n}": f for n, f in enumerate(remove)}, {}
    if args is not None:
        parts.append("SET args = :a")
        values = table.values(a=args)
    if remove:
        parts.append("REMOVE " + ", ".join(f"#r{n}" for n in range(len(remove))))
    if parts:
        table.try_update(pk(tenant_id, announcer_id), SK, " ".join(parts), condition="attribute_exists(PK)", names=names or None,
                         values=values or None)  # fmt: skip


def of_event(tenant_id: str, event: str) -> list[dict[str, Any]]:
    """The tenant's announcers of ``event`` (GSI4)."""
    return table.query_all(key_condition="GSI4PK = :pk", expr_values=table.values(pk=event_pk(tenant_id, event)), index="GSI4")


# ── announcements ──
def announcement_sk(event_id: str) -> str:
    return f"{ANN_PREFIX}{event_id}"


def claim(tenant_id: str, announcer_id: str, event_id: str, at: str, ttl: int) -> bool:
    """The announcement of ``event_id`` by this announcer, claimed (put only if absent): False when it exists."""
    from botocore.exceptions import ClientError

    item = {"PK": pk(tenant_id, announcer_id), "SK": announcement_sk(event_id), "type": "announcement", "tenant_id": tenant_id,
            "announcer_id": announcer_id, "event_id": event_id, "state": "claimed", "at": at, "ttl": ttl}  # fmt: skip
    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def progress(tenant_id: str, announcer_id: str, event_id: str, posted: list[dict[str, str]], skipped: list[dict[str, str]], *,
             pending: str | None) -> None:  # fmt: skip
    """Record what was posted and skipped so far, and the channel about to be posted (``pending``) or none."""
    sets = "SET #s = :s, posted = :p, skipped = :k" + (", pending = :c" if pending else "")
    table.try_update(
        pk(tenant_id, announcer_id),
        announcement_sk(event_id),
        sets + ("" if pending else " REMOVE pending"),
        condition="attribute_exists(PK)",
        names={"#s": "state"},
        values=table.values(s="claimed", p=posted, k=skipped, **({"c": pending} if pending else {})),
    )


def done(tenant_id: str, announcer_id: str, event_id: str, posted: list[dict[str, str]], skipped: list[dict[str, str]]) -> None:
    table.try_update(
        pk(tenant_id, announcer_id),
        announcement_sk(event_id),
        "SET #s = :s, posted = :p, skipped = :k REMOVE pending",
        condition="attribute_exists(PK)",
        names={"#s": "state"},
        values=table.values(s="done", p=posted, k=skipped),
    )


def get_announcement(tenant_id: str, announcer_id: str, event_id: str) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, announcer_id), announcement_sk(event_id), consistent=True)
