"""The courier's user-notifications and their daily counts in the single table (docs/data-model.md §6.16). Tenant-scoped
keys; every read is a GetItem or a Query, never a Scan.

- the notification: ``PK = TENANT#<t>#NOTIF#<id>``, ``SK = NOTIF``, ``type = user_notification``: ``user_id``,
  ``individual_id``, ``organization_id``, ``category``, ``data`` (the per-transport payloads as JSON text: free-form
  ``data`` members need no DynamoDB mapping), ``email`` (the email content, JSON text, when one was given),
  ``acknowledged``, ``created_at``, ``user_first_name`` / ``user_last_name`` (the user's names when it was created),
  ``source`` (who made it: a multicast, …) and ``deliveries`` (a map per transport: ``outcome``, ``reason``,
  ``message_ids``, ``devices``, ``at``), written once the transports are done;
- the user's notifications: GSI3 ``GSI3PK = TENANT#<t>#NOTIF#USER#<user>``, ``GSI3SK = <created_at>#<id>`` (newest
  first read backwards; a created-at bound is a key range);
- an individual's notifications (the purge of an individual): GSI6 ``GSI6PK = TENANT#<t>#NOTIF#IND#<individual>``,
  ``GSI6SK = <created_at>#<id>``;
- the daily count of a user: ``PK = TENANT#<t>#NOTIFDAY#USER#<user>``, ``SK = DAY#<YYYY-MM-DD>`` (UTC), ``n``, added to in
  the notification's own create transaction (so a notification counts once, exactly when it is created); the tenant's
  counts by day: GSI3 ``GSI3PK = TENANT#<t>#NOTIFDAY``, ``GSI3SK = <YYYY-MM-DD>#<user>``.

GSI3 and GSI6 are non-tallied indexes (``dal/tallies.RULES`` reads GSI1/2/4/5/7 only); no SK here matches the table
stream's filter for ``TallyFunction``.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table

ITEM_TYPE = "user_notification"
COUNT_TYPE = "user_notification_day"
SK = "NOTIF"
USER_INDEX = "GSI3"
INDIVIDUAL_INDEX = "GSI6"
HIGHEST = "\uffff"


def pk(tenant_id: str, notification_id: str) -> str:
    return f"TENANT#{tenant_id}#NOTIF#{notification_id}"


def user_pk(tenant_id: str, user_id: str) -> str:
    return f"TENANT#{tenant_id}#NOTIF#USER#{user_id}"


def individual_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#NOTIF#IND#{individual_id}"


def day_pk(tenant_id: str, user_id: str) -> str:
    return f"TENANT#{tenant_id}#NOTIFDAY#USER#{user_id}"


def days_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#NOTIFDAY"


def item(tenant_id: str, notification_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The notification's item: its keys, its index keys and ``fields`` (``None`` left out; ``data`` and ``email``
    as JSON text)."""
    stored: dict[str, Any] = {
        "PK": pk(tenant_id, notification_id),
        "SK": SK,
        "type": ITEM_TYPE,
        "tenant_id": tenant_id,
        "id": notification_id,
        "GSI3PK": user_pk(tenant_id, fields["user_id"]),
        "GSI3SK": f"{fields['created_at']}#{notification_id}",
        **{k: v for k, v in fields.items() if v is not None},
    }
    if fields.get("individual_id"):
        stored["GSI6PK"] = individual_pk(tenant_id, fields["individual_id"])
        stored["GSI6SK"] = f"{fields['created_at']}#{notification_id}"
    for name in ("data", "email"):
        if name in stored and not isinstance(stored[name], str):
            stored[name] = json.dumps(stored[name], separators=(",", ":"), sort_keys=True)
    return stored


def create(stored: dict[str, Any]) -> bool:
    """Store a new notification and count it in its user's day, in one transaction: True when created, False when a
    notification with this id exists already (a redelivered notify: nothing is written, nothing counted twice)."""
    tenant_id, user_id, day = stored["tenant_id"], stored["user_id"], stored["created_at"][:10]
    ops = [
        {"Put": {"Item": table.marshal(stored), "ConditionExpression": "attribute_not_exists(PK)"}},
        {
            "Update": {
                "Key": table.key(day_pk(tenant_id, user_id), f"DAY#{day}"),
                "UpdateExpression": "ADD #n :one SET #t = :type, user_id = :u, #d = :day, GSI3PK = :gpk, GSI3SK = :gsk",
                "ExpressionAttributeNames": {"#n": "n", "#t": "type", "#d": "day"},
                "ExpressionAttributeValues": table.values(
                    one=1, type=COUNT_TYPE, u=user_id, day=day, gpk=days_pk(tenant_id), gsk=f"{day}#{user_id}"
                ),
            }
        },
    ]
    if stored.get("individual_id"):  # the individual's communication summary counts it in the same transaction
        from parley.dal import communication_summaries

        ops.append(communication_summaries.notification_op(tenant_id, stored["individual_id"]))
    return table.try_transact(ops, decisive=[0])


def get(tenant_id: str, notification_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, notification_id), SK, consistent=consistent)


def record_deliveries(
    tenant_id: str,
    notification_id: str,
    deliveries: dict[str, dict[str, Any]],
    *,
    individual_id: str | None = None,
    provider_messages: int = 0,
) -> bool:
    """Set what each transport did (``deliveries.<transport>``), in one ``UpdateItem``. False when the notification is
    gone (purged meanwhile): nothing is written. With ``individual_id`` and ``provider_messages`` (the SMS/email
    messages these deliveries queued), the individual's communication summary counts them in the same transaction,
    conditional on these transports not being recorded yet (a concurrent notify that recorded them first: the
    deliveries are written without counting again)."""
    if not deliveries:
        return True
    names = {f"#t{i}": transport for i, transport in enumerate(deliveries)}
    values = {f"d{i}": {k: v for k, v in d.items() if v is not None} for i, d in enumerate(deliveries.values())}
    if individual_id and provider_messages:
        from parley.dal import communication_summaries

        fresh = " AND ".join(f"attribute_not_exists(deliveries.#t{i})" for i in range(len(deliveries)))
        ops = [
            {
                "Update": {
                    "Key": table.key(pk(tenant_id, notification_id), SK),
                    "UpdateExpression": "SET " + ", ".join(f"deliveries.#t{i} = :d{i}" for i in range(len(deliveries))),
                    "ConditionExpression": f"attribute_exists(PK) AND {fresh}",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": table.values(**values),
                }
            },
            communication_summaries.provider_messages_op(tenant_id, individual_id, provider_messages),
        ]
        if table.try_transact(ops, decisive=[0]):
            return True
    return table.try_update(
        pk(tenant_id, notification_id),
        SK,
        "SET " + ", ".join(f"deliveries.#t{i} = :d{i}" for i in range(len(deliveries))),
        condition="attribute_exists(PK)",
        names=names,
        values=table.values(**values),
    )


def page(
    tenant_id: str,
    user_id: str,
    *,
    since: str | None,
    acknowledged: bool | None,
    category: str | None,
    individual_id: str | None,
    organization_id: str | None,
    offset: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """The user's notifications, newest first, created at or after ``since`` (a key range; None: all), with the other
    filters as a ``FilterExpression`` on the user's partition; ``table.offset_page`` (the total is what matches)."""
    names: dict[str, str] = {}
    values: dict[str, Any] = {"pk": user_pk(tenant_id, user_id)}
    condition = "GSI3PK = :pk"
    if since is not None:
        condition += " AND GSI3SK >= :since"
        values["since"] = since
    filters = []
    for attr, value in (("acknowledged", acknowledged), ("category", category), ("individual_id", individual_id),
                        ("organization_id", organization_id)):  # fmt: skip
        if value is not None:
            names[f"#{attr}"] = attr
            values[attr] = value
            filters.append(f"#{attr} = :{attr}")
    params: dict[str, Any] = {
        "IndexName": USER_INDEX,
        "KeyConditionExpression": condition,
        "ExpressionAttributeValues": table.values(**values),
        "ScanIndexForward": False,
    }
    if filters:
        params["FilterExpression"] = " AND ".join(filters)
        params["ExpressionAttributeNames"] = names
    return table.offset_page(offset, limit, **params)


def unacknowledged_before(tenant_id: str, user_id: str, up_to: str) -> list[dict[str, Any]]:
    """Keys of the user's notifications not yet acknowledged whose index key is at most ``up_to`` (``<created_at>#<id>``):
    the ones ``ack-previous`` acknowledges (every page, keys only)."""
    return table.query_raw(
        IndexName=USER_INDEX,
        KeyConditionExpression="GSI3PK = :pk AND GSI3SK <= :upto",
        FilterExpression="acknowledged = :no",
        ExpressionAttributeValues=table.values(pk=user_pk(tenant_id, user_id), upto=up_to, no=False),
        ProjectionExpression="PK, SK",
    )


def acknowledge(tenant_id: str, notification_id: str, now: str) -> None:
    """Mark one notification acknowledged (once: a second ack changes nothing, its ``acknowledged_at`` stays)."""
    try:
        table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(pk(tenant_id, notification_id), SK),
            UpdateExpression="SET acknowledged = :yes, acknowledged_at = :now",
            ConditionExpression="attribute_exists(PK) AND acknowledged = :no",
            ExpressionAttributeValues=table.values(yes=True, no=False, now=now),
        )
    except ClientError as err:
        if not table.is_condition_failure(err):
            raise


def counts_of_user(
    tenant_id: str, user_id: str, first_day: str, last_day: str, *, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """The user's daily counts from ``first_day`` to ``last_day`` (``YYYY-MM-DD``, inclusive), oldest first."""
    params = {
        "KeyConditionExpression": "PK = :pk AND SK BETWEEN :a AND :b",
        "ExpressionAttributeValues": table.values(pk=day_pk(tenant_id, user_id), a=f"DAY#{first_day}", b=f"DAY#{last_day}"),
    }
    return table.offset_page(offset, limit, **params)


def counts_of_tenant(tenant_id: str, first_day: str, last_day: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """Every user's daily counts from ``first_day`` to ``last_day``, by day then user."""
    params = {
        "IndexName": USER_INDEX,
        "KeyConditionExpression": "GSI3PK = :pk AND GSI3SK BETWEEN :a AND :b",
        "ExpressionAttributeValues": table.values(pk=days_pk(tenant_id), a=first_day, b=f"{last_day}#{HIGHEST}"),
    }
    return table.offset_page(offset, limit, **params)


def lost_race(err: BaseException) -> bool:
    """Whether a write failed because its condition did not hold (a message id that exists already)."""
    return isinstance(err, ClientError) and table.is_condition_failure(err)


def keys_of_user(tenant_id: str, user_id: str) -> list[tuple[str, str]]:
    """Every notification and daily-count item of a user (the purge)."""
    found = table.query_raw(
        IndexName=USER_INDEX,
        KeyConditionExpression="GSI3PK = :pk",
        ExpressionAttributeValues=table.values(pk=user_pk(tenant_id, user_id)),
        ProjectionExpression="PK, SK",
    )
    days = table.query_raw(
        KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues=table.values(pk=day_pk(tenant_id, user_id)),
        ProjectionExpression="PK, SK",
    )
    return [(i["PK"], i["SK"]) for i in (*found, *days)]


def keys_of_individual(tenant_id: str, individual_id: str) -> list[tuple[str, str]]:
    found = table.query_raw(
        IndexName=INDIVIDUAL_INDEX,
        KeyConditionExpression="GSI6PK = :pk",
        ExpressionAttributeValues=table.values(pk=individual_pk(tenant_id, individual_id)),
        ProjectionExpression="PK, SK",
    )
    return [(i["PK"], i["SK"]) for i in found]
