"""Auto-responders (messaging-responders, seed 003; docs/data-model.md §6.27).

- responder ``PK = TENANT#<t>#RESPONDER#<id>``, ``SK = RESPONDER``: ``{type: "responder", tenant_id, id,
  organization_id, individual_group_id, name, type_, args (JSON text), calendar (JSON text: {timezone, rules}),
  start_at?, end_at?, enabled, created_at, created_by?, last_modified_at, last_modified_by?}``;
  an organization's responders on GSI3 (``GSI3PK = TENANT#<t>#RESPONDERS#ORG#<org>``, ``GSI3SK = <created_at>#<id>``),
  and — only while enabled (a sparse index) — on GSI6 (``GSI6PK = TENANT#<t>#RESPONDERS#ON#ORG#<org>``, same sort):
  what the auto-reply hook reads for each message (reads ∝ the organization's enabled responders).
- reply marker ``PK = TENANT#<t>#RESPONDER#<id>``, ``SK = REPLY#<channel>#<period start>``: ``{type:
  "responder_reply", event_id, claimed_at, message_id?}`` — one auto-reply per (responder, conversation, period),
  taken by a conditional put before the reply is posted.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table

ITEM_TYPE = "responder"
MARKER_TYPE = "responder_reply"
SK = "RESPONDER"


def pk(tenant_id: str, responder_id: str) -> str:
    return f"TENANT#{tenant_id}#RESPONDER#{responder_id}"


def org_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#RESPONDERS#ORG#{organization_id}"


def enabled_pk(tenant_id: str, organization_id: str) -> str:
    return f"TENANT#{tenant_id}#RESPONDERS#ON#ORG#{organization_id}"


def marker_sk(channel_id: str, period: str) -> str:
    return f"REPLY#{channel_id}#{period}"


def _stored(item: dict[str, Any]) -> dict[str, Any]:
    t, sort = item["tenant_id"], f"{item['created_at']}#{item['id']}"
    out = {k: v for k, v in item.items() if v is not None and not k.startswith("GSI")}
    out.update(PK=pk(t, item["id"]), SK=SK, type=ITEM_TYPE, GSI3PK=org_pk(t, item["organization_id"]), GSI3SK=sort)
    if item.get("enabled"):
        out.update(GSI6PK=enabled_pk(t, item["organization_id"]), GSI6SK=sort)
    return out


def create(item: dict[str, Any]) -> dict[str, Any]:
    stored = _stored(item)
    table.put_item(stored, condition="attribute_not_exists(PK)")
    return stored


def replace(item: dict[str, Any], *, expected_modified: str) -> bool:
    """Write the whole responder again (its index keys follow ``enabled``) if nobody changed it since
    ``expected_modified``; False when someone did (the caller reads again and retries)."""
    return _put_conditional(_stored(item), "attribute_exists(PK) AND last_modified_at = :m", table.values(m=expected_modified)) is not None


def _put_conditional(item: dict[str, Any], condition: str, values: dict[str, Any]) -> dict[str, Any] | None:
    """The conditional put: None when the condition failed, else the item it replaced (``{}`` when there was none)."""
    try:
        out = table.ddb().put_item(TableName=table.table_name(), Item=table.marshal(item), ConditionExpression=condition,
                                   ExpressionAttributeValues=values, ReturnValues="ALL_OLD")  # fmt: skip
    except ClientError as err:
        if table.is_condition_failure(err):
            return None
        raise
    return table.unmarshal(out["Attributes"]) if out.get("Attributes") else {}


def get(tenant_id: str, responder_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, responder_id), SK, consistent=consistent)


def of_organization(tenant_id: str, organization_id: str) -> list[dict[str, Any]]:
    """The organization's responders, oldest first (GSI3)."""
    return table.query_all(key_condition="GSI3PK = :pk", expr_values=table.values(pk=org_pk(tenant_id, organization_id)), index="GSI3")


def enabled_of_organization(tenant_id: str, organization_id: str) -> list[dict[str, Any]]:
    """The organization's enabled responders (the sparse GSI6): the hook's read. An index read is eventually
    consistent; a responder enabled a moment ago may miss a message posted in the same moment."""
    return table.query_all(key_condition="GSI6PK = :pk", expr_values=table.values(pk=enabled_pk(tenant_id, organization_id)), index="GSI6")


# ── reply markers ──
def claim(tenant_id: str, responder_id: str, channel_id: str, period: str, *, event_id: str, at: str) -> str | None:
    """Take the (responder, channel, period) reply: ``"new"``, or ``"again"`` when this same event had taken it and
    recorded no reply (a redelivery after a failure: the reply may have been posted); None when it was replied to
    already or another event holds it."""
    item = {"PK": pk(tenant_id, responder_id), "SK": marker_sk(channel_id, period), "type": MARKER_TYPE, "tenant_id": tenant_id,
            "responder_id": responder_id, "channel_id": channel_id, "period": period, "event_id": event_id, "claimed_at": at}  # fmt: skip
    condition = "attribute_not_exists(PK) OR (event_id = :e AND attribute_not_exists(message_id))"
    old = _put_conditional(item, condition, table.values(e=event_id))
    return None if old is None else "again" if old else "new"


def get_marker(tenant_id: str, responder_id: str, channel_id: str, period: str) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, responder_id), marker_sk(channel_id, period), consistent=True)


def record_reply(tenant_id: str, responder_id: str, channel_id: str, period: str, message_id: str) -> None:
    table.try_update(pk(tenant_id, responder_id), marker_sk(channel_id, period), "SET message_id = :m",
                     condition="attribute_exists(PK)", values=table.values(m=message_id))  # fmt: skip


def release(tenant_id: str, responder_id: str, channel_id: str, period: str, *, event_id: str) -> None:
    """Give a claim back (the reply could not be posted: e.g. the channel was archived meanwhile)."""
    try:
        table.ddb().delete_item(TableName=table.table_name(), Key=table.key(pk(tenant_id, responder_id), marker_sk(channel_id, period)),
                                ConditionExpression="event_id = :e AND attribute_not_exists(message_id)",
                                ExpressionAttributeValues=table.values(e=event_id))  # fmt: skip
    except ClientError as err:
        if not table.is_condition_failure(err):
            raise


def markers(tenant_id: str, responder_id: str) -> list[dict[str, Any]]:
    """The responder's reply markers (its own partition)."""
    return table.query_all(key_condition="PK = :pk AND begins_with(SK, :r)",
                           expr_values=table.values(pk=pk(tenant_id, responder_id), r="REPLY#"))  # fmt: skip
