"""Dead letters: why each message failed (table items), and the dead-letter queues themselves (SQS).

SQS moves a message to its queue's DLQ after ``maxReceiveCount`` receives without a word on why. So a consumer,
on a message's last receive, keeps the reason in a *dead-letter reason* item (``PK = DEADLETTER#<queue>``,
``SK = <SQS MessageId>``: SQS keeps a message's id when it moves it to the DLQ), which expires (``ttl``) a day
after the DLQ would have dropped the message (14 days). ``python -m parley.admin dlq`` reads both
(``parley.domain.dead_letters``).

The SQS side: read a DLQ without consuming it (``peek``: received with a visibility timeout, then made visible
again with ``release``), find the queue it is the DLQ of (``sources``), send a message back there and delete it
from the DLQ.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from parley import clock
from parley.dal import table
from parley.dal.aws import client

REASON_TTL_SECONDS = 15 * 86400  # the DLQs keep a message 14 days (MessageRetentionPeriod)
MAX_REASON_CHARS = 4000


def reason_pk(queue: str) -> str:
    return f"DEADLETTER#{queue}"


def put_reason(queue: str, sqs_message_id: str, *, reason: str, error_type: str, receive_count: int, at: datetime,
               details: dict[str, Any] | None = None) -> None:  # fmt: skip
    """Why ``sqs_message_id`` of ``queue`` failed its last receive (replaces an earlier reason of the same message)."""
    table.put_item(
        {
            "PK": reason_pk(queue),
            "SK": sqs_message_id,
            "type": "dead_letter",
            "queue": queue,
            "sqs_message_id": sqs_message_id,
            "reason": reason[:MAX_REASON_CHARS],
            "error_type": error_type,
            "receive_count": receive_count,
            "failed_at": clock.iso(at),
            "ttl": int(at.timestamp()) + REASON_TTL_SECONDS,
            **(details or {}),
        }
    )


def reasons(queue: str, sqs_message_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The reason items of these messages that exist, by SQS MessageId (one BatchGetItem per 100)."""
    pk = reason_pk(queue)
    found = table.batch_get([(pk, i) for i in dict.fromkeys(sqs_message_ids)])
    return {sk: item for (_, sk), item in found.items()}


def forget(queue: str, sqs_message_id: str) -> None:
    table.ddb().delete_item(TableName=table.table_name(), Key=table.key(reason_pk(queue), sqs_message_id))


# ───────────── the queues ─────────────
def _sqs() -> Any:
    return client("sqs")


def depth(url: str) -> dict[str, int]:
    """``{"visible": …, "in_flight": …}`` (SQS's approximate counts)."""
    attrs = _sqs().get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    visible, in_flight = attrs.get("ApproximateNumberOfMessages", 0), attrs.get("ApproximateNumberOfMessagesNotVisible", 0)
    return {"visible": int(visible), "in_flight": int(in_flight)}


def peek(url: str, *, limit: int, hide_seconds: int) -> list[dict[str, Any]]:
    """Up to ``limit`` messages of the queue, each with its attributes and message attributes, hidden from other
    readers for ``hide_seconds`` (they come back by themselves then, or at once with ``release``)."""
    out: list[dict[str, Any]] = []
    sqs = _sqs()
    while len(out) < limit:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=min(10, limit - len(out)),
            VisibilityTimeout=hide_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            # long polling asks every SQS server: a short poll of a small queue may answer nothing though it holds some
            WaitTimeSeconds=1,
        ).get("Messages", [])
        if not got:
            break
        out.extend(got)
    return out


def release(url: str, messages: Iterable[dict[str, Any]]) -> None:
    """Make peeked messages visible again at once (10 per ChangeMessageVisibilityBatch)."""
    handles = [m["ReceiptHandle"] for m in messages]
    sqs = _sqs()
    for start in range(0, len(handles), 10):
        chunk = handles[start : start + 10]
        sqs.change_message_visibility_batch(
            QueueUrl=url, Entries=[{"Id": str(n), "ReceiptHandle": h, "VisibilityTimeout": 0} for n, h in enumerate(chunk)]
        )


def sources(url: str) -> list[str]:
    """The URLs of the queues whose redrive policy names this queue as their DLQ."""
    return list(_sqs().list_dead_letter_source_queues(QueueUrl=url).get("queueUrls", []))


def resend(url: str, message: dict[str, Any]) -> str:
    """Send a peeked message's body and message attributes to ``url`` as a new message; its new MessageId."""
    attrs = {
        name: {k: v for k, v in value.items() if k in ("DataType", "StringValue", "BinaryValue")}
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    extra = {"MessageAttributes": attrs} if attrs else {}
    return _sqs().send_message(QueueUrl=url, MessageBody=message["Body"], **extra)["MessageId"]


def delete(url: str, message: dict[str, Any]) -> None:
    _sqs().delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
