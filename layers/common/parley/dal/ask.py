"""Alexa skills, subscriptions, skill requests and reminders in the single table (docs/data-model.md §6.35): every
read a GetItem or a Query, never a Scan.

- skill ``PK = TENANT#<t>#ASKAPP#<alexa application id>``, ``SK = ASKSKILL``: ``{type: "ask_skill", id (uuid: the
  seed's skill-id), tenant_id, organization_id, alexa_app_id, secret_name, development, created_at}``; its LWA client
  id and secret are the secret ``parley/alexa/<tenant>/<skill id>``.
- subscription ``PK = TENANT#<t>#ASKSUB#<id>``, ``SK = ASKSUB`` (id = uuid5(skill id, Alexa user id)): ``{type:
  "ask_subscription", id, tenant_id, organization_id, skill_id, alexa_app_id, alexa_user_id, user_id?,
  registered_events, created_at, last_modified_at}``; listed by organization on GSI3 (``GSI3PK =
  TENANT#<t>#ASKSUBS#ORG#<org>``, ``GSI3SK = <created_at>#<id>``) and by linked user on GSI4 (``GSI4PK =
  TENANT#<t>#ASKSUBS#USER#<user>``, ``GSI4SK = <created_at>#<id>``).
- skill request ``PK = TENANT#<t>#ASKREQ#<alexa application id>#<request id>``, ``SK = ASKREQ``: ``{request_type,
  alexa_user_id, timestamp, received_at, ttl}`` — the record of a verified request (written only if absent: a
  replayed request id is refused), expiring after a day (Amazon's 150 s window is long gone by then).
- reminder ``PK = TENANT#<t>#ASKREM#<id>``, ``SK = ASKREM``: ``{type: "ask_reminder", id, tenant_id, individual_id,
  name, reminder_content, reminder_rrule, reminder_time_local, tz_info, account_id?, alexa_reminder_id?,
  synced_to_alexa, created_at, created_by, last_modified_at}``; listed by individual on GSI3 (``GSI3PK =
  TENANT#<t>#ASKREMS#IND#<individual>``, ``GSI3SK = <created_at>#<id>``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table


def skill_pk(tenant_id: str, alexa_app_id: str) -> str:
    return f"TENANT#{tenant_id}#ASKAPP#{alexa_app_id}"


def sub_pk(tenant_id: str, sub_id: str) -> str:
    return f"TENANT#{tenant_id}#ASKSUB#{sub_id}"


def subs_org_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#ASKSUBS#ORG#{organization_id}"


def subs_user_pk(tenant_id: str, user_id: str) -> str:
    return f"TENANT#{tenant_id}#ASKSUBS#USER#{user_id}"


def rem_pk(tenant_id: str, reminder_id: str) -> str:
    return f"TENANT#{tenant_id}#ASKREM#{reminder_id}"


def rems_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#ASKREMS#IND#{individual_id}"


# ───────────── skills ─────────────
def put_skill(item: dict[str, Any]) -> None:
    table.put_item({**item, "PK": skill_pk(item["tenant_id"], item["alexa_app_id"]), "SK": "ASKSKILL", "type": "ask_skill"})


def skill(tenant_id: str, alexa_app_id: str) -> dict[str, Any] | None:
    return table.get(skill_pk(tenant_id, alexa_app_id), "ASKSKILL")


# ───────────── skill requests ─────────────
def record_request(tenant_id: str, alexa_app_id: str, request_id: str, fields: dict[str, Any]) -> bool:
    """Record a verified request; False (nothing written) when its id was recorded before: a replay."""
    item = {"PK": f"TENANT#{tenant_id}#ASKREQ#{alexa_app_id}#{request_id}", "SK": "ASKREQ", "type": "ask_request", "tenant_id": tenant_id,
            "request_id": request_id, **fields}  # fmt: skip
    try:
        table.put_item(item, condition="attribute_not_exists(PK)")
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def request(tenant_id: str, alexa_app_id: str, request_id: str) -> dict[str, Any] | None:
    return table.get(f"TENANT#{tenant_id}#ASKREQ#{alexa_app_id}#{request_id}", "ASKREQ")


# ───────────── subscriptions ─────────────
def put_subscription(item: dict[str, Any]) -> None:
    t = item["tenant_id"]
    stored = {**item, "PK": sub_pk(t, item["id"]), "SK": "ASKSUB", "type": "ask_subscription",
              "GSI3PK": subs_org_pk(t, item["organization_id"]), "GSI3SK": f"{item['created_at']}#{item['id']}"}  # fmt: skip
    if item.get("user_id"):
        stored.update({"GSI4PK": subs_user_pk(t, item["user_id"]), "GSI4SK": f"{item['created_at']}#{item['id']}"})
    table.put_item(stored)


def subscription(tenant_id: str, sub_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(sub_pk(tenant_id, sub_id), "ASKSUB", consistent=consistent)


def delete_subscription(tenant_id: str, sub_id: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(sub_pk(tenant_id, sub_id), "ASKSUB"))


def subscriptions_of_org(
    tenant_id: str, organization_id: str, *, skill_id: str | None, user_id: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the organization's subscriptions in creation order (``skill_id`` / ``user_id`` filter the
    organization's few) and how many match."""
    params: dict[str, Any] = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk"}
    values: dict[str, Any] = {"pk": subs_org_pk(tenant_id, organization_id)}
    filters = []
    if skill_id is not None:
        filters.append("skill_id = :sk")
        values["sk"] = skill_id
    if user_id is not None:
        filters.append("user_id = :u")
        values["u"] = user_id
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
    params["ExpressionAttributeValues"] = table.values(**values)
    return table.offset_page(offset, limit, **params)


def subscriptions_of_user(tenant_id: str, user_id: str) -> list[dict[str, Any]]:
    """The subscriptions linked to a user (GSI4), oldest first."""
    return table.query_all(key_condition="GSI4PK = :pk", expr_values=table.values(pk=subs_user_pk(tenant_id, user_id)), index="GSI4")


# ───────────── reminders ─────────────
def put_reminder(item: dict[str, Any]) -> None:
    t = item["tenant_id"]
    table.put_item({**item, "PK": rem_pk(t, item["id"]), "SK": "ASKREM", "type": "ask_reminder",
                    "GSI3PK": rems_pk(t, item["individual_id"]), "GSI3SK": f"{item['created_at']}#{item['id']}"})  # fmt: skip


def reminder(tenant_id: str, reminder_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(rem_pk(tenant_id, reminder_id), "ASKREM", consistent=consistent)


def reminders_of_individual(tenant_id: str, individual_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    params: dict[str, Any] = {"IndexName": "GSI3", "KeyConditionExpression": "GSI3PK = :pk",
                              "ExpressionAttributeValues": table.values(pk=rems_pk(tenant_id, individual_id))}  # fmt: skip
    return table.offset_page(offset, limit, **params)


def all_reminders_of_individual(tenant_id: str, individual_id: str) -> list[dict[str, Any]]:
    """Every reminder of the individual (GSI3), for the purge."""
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=rems_pk(tenant_id, individual_id)), index="GSI3")


def delete_reminder(tenant_id: str, reminder_id: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(rem_pk(tenant_id, reminder_id), "ASKREM"))
