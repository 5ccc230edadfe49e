"""Courier replicators in the single table (docs/data-model.md §6.9): one partition per tenant,
``PK = TENANT#<t>#REPLICATOR``, ``SK = REPLICATOR#<id>`` (``type: "replicator"``); read by GetItem and a Query of
the partition, never a Scan. ``last_poll_time`` only moves forward (a conditional update), so two overlapping polls
can never set it back."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table
from parley.dal.aws import client
from parley.models.courier_replicators import Replicator
from parley.settings import get_settings

ITEM_TYPE = "replicator"


def pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#REPLICATOR"


def sk(replicator_id: str) -> str:
    return f"REPLICATOR#{replicator_id}"


def create(rep: Replicator) -> None:
    item: dict[str, Any] = {"PK": pk(rep.tenant_id), "SK": sk(rep.replicator_id), "type": ITEM_TYPE, **rep.model_dump(exclude_none=True)}
    table.put_item(item, condition="attribute_not_exists(PK)")


def get(tenant_id: str, replicator_id: str) -> Replicator | None:
    item = table.get(pk(tenant_id), sk(replicator_id), consistent=True)
    return Replicator.model_validate(item) if item else None


def all_of(tenant_id: str) -> list[Replicator]:
    """The tenant's replicators in id order (a handful: ``domain/replicators.MAX_PER_TENANT``)."""
    items = table.query_all(key_condition="PK = :pk", expr_values=table.values(pk=pk(tenant_id)))
    return [Replicator.model_validate(i) for i in items]


def delete(tenant_id: str, replicator_id: str) -> bool:
    """True when there was one to delete."""
    out = table.ddb().delete_item(TableName=table.table_name(), Key=table.key(pk(tenant_id), sk(replicator_id)), ReturnValues="ALL_OLD")
    return "Attributes" in out


def advance(tenant_id: str, replicator_id: str, *, poll_time: str, attempt_time: str) -> bool:
    """A successful poll: ``last_poll_time`` = ``poll_time`` unless it is already as late (an overlapping poll that
    started later finished first), and the last error cleared. False when nothing was written."""
    return table.try_update(
        pk(tenant_id),
        sk(replicator_id),
        "SET last_poll_time = :p, last_attempt_time = :a REMOVE last_error",
        condition="attribute_exists(PK) AND (attribute_not_exists(last_poll_time) OR last_poll_time < :p)",
        values=table.values(p=poll_time, a=attempt_time),
    )


def record_failure(tenant_id: str, replicator_id: str, *, attempt_time: str, error: str) -> bool:
    """A failed poll: why, and when (``last_poll_time`` untouched: the next poll starts from the same time)."""
    return table.try_update(
        pk(tenant_id),
        sk(replicator_id),
        "SET last_attempt_time = :a, last_error = :e",
        condition="attribute_exists(PK)",
        values=table.values(a=attempt_time, e=error[:1000]),
    )


# ───────────── the schedule that runs each one (EventBridge Scheduler) ─────────────
def schedule_name(tenant_id: str, replicator_id: str) -> str:
    """≤ 64 characters of ``[0-9A-Za-z-_.]``: the replicator's id (a uuid) is unique on its own."""
    return f"replicator-{replicator_id}"


def create_schedule(rep: Replicator, *, start: str) -> None:
    """A ``rate()`` schedule invoking the poller with the replicator's tenant and id, from ``start`` (ISO) on. A run
    that fails is not retried by the scheduler: the next run starts from the same ``last_poll_time``."""
    s = get_settings()
    unit = "minute" if rep.every_minutes == 1 else "minutes"
    client("scheduler").create_schedule(
        Name=rep.schedule_name,
        GroupName=s.replicator_schedule_group,
        ScheduleExpression=f"rate({rep.every_minutes} {unit})",
        FlexibleTimeWindow={"Mode": "OFF"},
        StartDate=start,
        Target={
            "Arn": s.replicator_function_arn,
            "RoleArn": s.scheduler_role_arn,
            "Input": json.dumps({"tenant-id": rep.tenant_id, "replicator-id": rep.replicator_id}),
            "RetryPolicy": {"MaximumRetryAttempts": 0},
        },
    )


def delete_schedule(rep: Replicator) -> bool:
    try:
        client("scheduler").delete_schedule(Name=rep.schedule_name, GroupName=get_settings().replicator_schedule_group)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True
