"""EventBridge Scheduler one-time schedules that drop a SendJob on the send queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError

from parley.dal.aws import client
from parley.models.domain import SendJob
from parley.settings import get_settings


def schedule_name(message_id: str) -> str:
    return f"send-{message_id}"  # ≤ 64 chars of [0-9A-Za-z-_.]


def at_expression(at: datetime) -> str:
    """``at()`` has whole-second resolution: round up, so a message never goes out early."""
    at = at.astimezone(UTC)
    if at.microsecond:
        at = at.replace(microsecond=0) + timedelta(seconds=1)
    return f"at({at:%Y-%m-%dT%H:%M:%S})"


def create_at(job: SendJob, at: datetime) -> str:
    s = get_settings()
    name = schedule_name(job.message_id)
    client("scheduler").create_schedule(
        Name=name,
        GroupName=s.schedule_group,
        ScheduleExpression=at_expression(at),
        ScheduleExpressionTimezone="UTC",
        FlexibleTimeWindow={"Mode": "OFF"},
        ActionAfterCompletion="DELETE",
        Target={
            "Arn": s.send_queue_arn,
            "RoleArn": s.scheduler_role_arn,
            "Input": job.model_dump_json(),
            "RetryPolicy": {"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400},
            # A schedule that cannot reach the queue for a day lands in the DLQ, not nowhere.
            **({"DeadLetterConfig": {"Arn": s.send_dlq_arn}} if s.send_dlq_arn else {}),
        },
    )
    return name


def delete(message_id: str) -> bool:
    """Delete the schedule; False if it no longer exists (already fired or deleted)."""
    try:
        client("scheduler").delete_schedule(Name=schedule_name(message_id), GroupName=get_settings().schedule_group)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return False
        raise
    return True
