"""The transactional-archive index: one item per (tenant, channel, UTC day, candidate).

Written with every message that is filed under a candidate (``messages.create`` adds the update to
the message's own transaction), read by the transactional endpoints one day-partition at a time.
Each item remembers the times (epoch ms, a number set) of that day's messages with the candidate,
so a window that starts or ends mid-day is answered exactly without reading any message.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from parley import clock
from parley.dal import keys, table
from parley.models.domain import Message


def day_of(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%d")


def counterpart(msg: Message) -> str:
    return msg.recipient if msg.direction == "outbound" else msg.sender


def record_op(msg: Message) -> dict[str, Any] | None:
    """The ``Update`` (for a TransactWriteItems) that notes ``msg`` in its day's contact item; None if
    the message is not filed under a candidate. Idempotent: the times are a set."""
    if not msg.candidate_id:
        return None
    return {
        "Update": {
            "Key": table.key(keys.contact_pk(msg.tenant_id, msg.channel, day_of(msg.created_at)), keys.contact_sk(msg.candidate_id)),
            "UpdateExpression": "SET #type = :type, #cand = :cand, #addr = :addr ADD #times :ms",
            "ExpressionAttributeNames": {"#type": "type", "#cand": "candidate_id", "#addr": "address", "#times": "times"},
            "ExpressionAttributeValues": table.values(
                type="contact", cand=msg.candidate_id, addr=counterpart(msg), ms={clock.epoch_ms(msg.created_at)}
            ),
        }
    }


def on_day(tenant_id: str, channel: str, day: date) -> list[dict[str, Any]]:
    """Every contact item of one day: ``{candidate_id, address, times: set[int]}`` (one Query, paged)."""
    return table.query_all(
        key_condition="PK = :pk AND begins_with(SK, :cand)",
        expr_values=table.values(pk=keys.contact_pk(tenant_id, channel, day.isoformat()), cand="CAND#"),
    )


def latest_message(tenant_id: str, candidate_id: str) -> dict[str, Any] | None:
    """The candidate's most recent message of any channel (GSI4, one item read), or None."""
    items, _ = table.query(
        index="GSI4",
        key_condition="GSI4PK = :pk",
        expr_values=table.values(pk=keys.candidate_pk(tenant_id, candidate_id)),
        forward=False,
        limit=1,
    )
    return items[0] if items else None


def candidate_messages(tenant_id: str, candidate_id: str, channel: str) -> list[Message]:
    """Every message of one channel filed under the candidate, oldest first (GSI4 key range; bodies kept
    in S3 are not loaded: ``messages.load_body`` fetches one)."""
    items = table.query_all(
        index="GSI4",
        key_condition="GSI4PK = :pk AND begins_with(GSI4SK, :ch)",
        expr_values=table.values(pk=keys.candidate_pk(tenant_id, candidate_id), ch=f"{channel.upper()}#"),
    )
    return [Message.model_validate(i) for i in items if i.get("type") == "message"]
