"""Open/click tracking in the table: the token lookup item and the atomic updates of a record's counts.

Token item (``PK = TRACK#<token>``, ``SK = TRACK``): ``tenant_id`` and ``message_id`` of the record whose
pixel and links carry the token. Mail clients call the tracking URLs without credentials, so this one
GetItem is how a request finds its tenant; the record itself is then read and written under its own key.

Opens and clicks are single conditional UpdateItems on the message item, returning the item as it was
before (``ALL_OLD``): the caller tells from that old image, race-free, whether this request was the
record's first open or first click (DynamoDB applies the updates of one item one at a time).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from parley import clock
from parley.dal import keys, table
from parley.models.domain import MessageStatus


@dataclass(frozen=True)
class TrackRef:
    tenant_id: str
    message_id: str


@dataclass(frozen=True)
class Recorded:
    """What one open or click did. ``old`` is the message item before the update (None: nothing counted)."""

    counted: bool
    first_open: bool = False
    first_click: bool = False
    old: dict[str, Any] | None = None


NOT_COUNTED = Recorded(counted=False)


def _token_item(token: str, tenant_id: str, message_id: str) -> dict[str, Any]:
    return {"PK": keys.track_pk(token), "SK": keys.TRACK_SK, "type": "track", "tenant_id": tenant_id, "message_id": message_id}


def put(token: str, tenant_id: str, message_id: str) -> None:
    """Store the token → record lookup (never over another record's token)."""
    table.put_item(_token_item(token, tenant_id, message_id), condition="attribute_not_exists(PK)")


def put_op(token: str, tenant_id: str, message_id: str) -> dict[str, Any]:
    """The same write, for a transaction (e.g. with the record's own Put)."""
    return {"Put": {"Item": table.marshal(_token_item(token, tenant_id, message_id)), "ConditionExpression": "attribute_not_exists(PK)"}}


def lookup(token: str) -> TrackRef | None:
    item = table.get(keys.track_pk(token), keys.TRACK_SK)
    if not item or "tenant_id" not in item or "message_id" not in item:
        return None
    return TrackRef(tenant_id=item["tenant_id"], message_id=item["message_id"])


def _update(tenant_id: str, message_id: str, *, expr: str, cond: str, names: dict[str, str], vals: dict[str, Any]) -> dict[str, Any] | None:
    """One conditional UpdateItem of a message item: its old image, or None when the condition failed."""
    try:
        out = table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK),
            UpdateExpression=expr,
            ConditionExpression=cond,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=table.values(**vals),
            ReturnValues="ALL_OLD",
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return None
        raise
    return table.unmarshal(out.get("Attributes") or {})


_SENT = "attribute_exists(PK) AND #s = :sent"


def record_open(tenant_id: str, message_id: str, now: datetime) -> Recorded:
    """One open of a SENT record: ``open_count += 1``, ``opened_at`` set on the first, ``updated_at``.
    Anything else (gone, not SENT) changes nothing and returns ``NOT_COUNTED``."""
    old = _update(
        tenant_id,
        message_id,
        expr="SET open_count = if_not_exists(open_count, :zero) + :one, opened_at = if_not_exists(opened_at, :now), updated_at = :now",
        cond=_SENT,
        names={"#s": "status"},
        vals={"zero": 0, "one": 1, "now": clock.iso(now), "sent": MessageStatus.SENT.value},
    )
    if old is None:
        return NOT_COUNTED
    return Recorded(counted=True, first_open="opened_at" not in old, old=old)


def record_click(tenant_id: str, message_id: str, index: int, now: datetime, *, maybe_first_open: bool) -> Recorded:
    """One click on link ``index`` of a SENT record: its ``click_count += 1`` and ``clicked_at = now``,
    only if that link exists. With ``maybe_first_open`` (the record read had no ``opened_at``) the same
    update also records an open, on the condition that none was recorded since; if one was, the click is
    recorded alone. A click is the first of the record when no link of the old image had a click."""
    link = f"#l[{int(index)}]"
    names = {"#s": "status", "#l": "links", "#cc": "click_count", "#ca": "clicked_at"}
    vals: dict[str, Any] = {"zero": 0, "one": 1, "now": clock.iso(now), "sent": MessageStatus.SENT.value}
    click = f"{link}.#cc = if_not_exists({link}.#cc, :zero) + :one, {link}.#ca = :now, updated_at = :now"
    cond = f"{_SENT} AND attribute_exists({link})"
    first_open = False
    old = None
    if maybe_first_open:
        old = _update(
            tenant_id,
            message_id,
            expr=f"SET {click}, opened_at = :now, open_count = if_not_exists(open_count, :zero) + :one",
            cond=f"{cond} AND attribute_not_exists(opened_at)",
            names=names,
            vals=vals,
        )
        first_open = old is not None
    if old is None:
        old = _update(tenant_id, message_id, expr=f"SET {click}", cond=cond, names=names, vals=vals)
    if old is None:
        return NOT_COUNTED
    first_click = not any(int(item.get("click_count") or 0) > 0 for item in old.get("links") or [])
    return Recorded(counted=True, first_open=first_open, first_click=first_click, old=old)
