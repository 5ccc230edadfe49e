"""The tenant's communication records (outbound emails, any API) and the CRM's reads of messages.

Indexes (docs/data-model.md §6.6): GSI5 = every record of a tenant by creation time; GSI6 = every
message (either direction) linked to one CRM entity; GSI7 = the records in one status; GSI3 = a
conversation. Every list here is a key read; nothing Scans.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley import clock
from parley.dal import keys, table
from parley.dal.messages import from_item as as_message
from parley.models.domain import TIMELINE_LIMIT, Message, TimelineEntry


def get_many(tenant_id: str, ids: list[str]) -> list[Message]:
    """The tenant's messages with these ids, in the order asked (unknown ids left out): BatchGetItem,
    100 keys per call. The tenant is part of every key, so another tenant's id is simply not found."""
    found: dict[str, Message] = {}
    wanted = list(dict.fromkeys(ids))
    for i in range(0, len(wanted), 100):
        request: dict[str, Any] = {
            table.table_name(): {"Keys": [table.key(keys.message_pk(tenant_id, m), keys.MESSAGE_SK) for m in wanted[i : i + 100]]}
        }
        while request:
            out = table.ddb().batch_get_item(RequestItems=request)
            for raw in out.get("Responses", {}).get(table.table_name(), []):
                msg = as_message(table.unmarshal(raw))
                found[msg.id] = msg
            request = out.get("UnprocessedKeys") or {}
    return [found[m] for m in wanted if m in found]


def by_status(tenant_id: str, status: str) -> list[Message]:
    """Every record of the tenant in one (Parley) status, oldest first: one GSI7 key read."""
    items = table.query_all(index="GSI7", key_condition="GSI7PK = :pk", expr_values=table.values(pk=keys.status_pk(tenant_id, status)))
    return [as_message(i) for i in items]


def append_timeline(tenant_id: str, message_id: str, entry: TimelineEntry, *, updated_by: str | None) -> bool:
    """Add an entry to a message's own audit trail and stamp ``updated``/``updatedBy``.

    False when the message does not exist (for this tenant). A message whose trail is full
    (``TIMELINE_LIMIT``) raises ``TimelineFull``.
    """
    sets = "#tl = list_append(if_not_exists(#tl, :empty), :entry), updated_at = :now"
    vals: dict[str, Any] = {"entry": [entry.model_dump(mode="json", exclude_none=True)], "empty": [], "max": TIMELINE_LIMIT}
    vals["now"] = clock.iso(clock.now())
    if updated_by:
        sets += ", updated_by = :by"
        vals["by"] = updated_by
    try:
        table.ddb().update_item(
            TableName=table.table_name(),
            Key=table.key(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK),
            UpdateExpression="SET " + sets,
            ConditionExpression="attribute_exists(PK) AND (attribute_not_exists(#tl) OR size(#tl) < :max)",
            ExpressionAttributeNames={"#tl": "timeline"},
            ExpressionAttributeValues=table.values(**vals),
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            if table.get(keys.message_pk(tenant_id, message_id), keys.MESSAGE_SK) is None:
                return False
            raise TimelineFull(message_id) from err
        raise
    return True


class TimelineFull(Exception):
    """The message's audit trail holds ``TIMELINE_LIMIT`` entries already."""
