"""Video channels (telehealth visits) in the single table (docs/data-model.md §6.33). Tenant-scoped keys except the one
global item that routes a Twilio Video room callback by its room SID; every read is a GetItem, a BatchGetItem or a
Query, never a Scan.

- the channel: ``PK = TENANT#<t>#VCHAN#<id>``, ``SK = VCHAN``, ``type = video_channel``: ``organization_id``,
  ``created_by`` (the acting individual), ``created_at``, ``last_modified_at``, ``type``, ``appless``, ``recorded``,
  ``with_email``, ``subject_id``, ``messaging_channel_id``, ``note``, ``participants`` (a list of
  ``{individual_id, account_type, audio_state, disconnected, note}``), ``appointment`` (``{id, start, duration,
  join_start}``, UTC ISO-8601 Z), ``channel_state`` (``scheduled`` | ``open`` | ``terminated``), ``room_sid``,
  ``room_name`` (the channel's id: Twilio's ``UniqueName``), ``account_id`` (the texting account whose Twilio
  project hosts the room), ``scheduler_id`` (the reminder's schedule name), ``terminated_at``, ``encounter_id``,
  ``encounter_delivery`` (the one delivery of the finalized encounter);
- membership, one per participant individual: ``PK = TENANT#<t>#VCHAN#IND#<individual>``,
  ``SK = VCHAN#<created_at>#<id>`` (``channel_id``), written with the channel in one transaction: the list of an
  individual's visits is one Query of this key (newest first, read backwards);
- the room route (global): ``PK = VROOM#<room_sid>``, ``SK = VROOM`` → ``tenant_id``, ``channel_id``: written with
  the room's SID once Twilio has created the room, read by the room callbacks (area E's VideoCallbackFunction),
  which learn the tenant from it.

No SK here matches the table stream's filter for ``TallyFunction`` (``MSG``, ``HIST#…``, ``FWD#…``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table

ITEM_TYPE = "video_channel"
SK = "VCHAN"
ROOM_SK = "VROOM"


def pk(tenant_id: str, channel_id: str) -> str:
    return f"TENANT#{tenant_id}#VCHAN#{channel_id}"


def member_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#VCHAN#IND#{individual_id}"


def member_sk(created_at: str, channel_id: str) -> str:
    return f"VCHAN#{created_at}#{channel_id}"


def room_pk(room_sid: str) -> str:
    return f"VROOM#{room_sid}"


def item(tenant_id: str, channel_id: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The channel's item: its keys and ``fields`` (``None`` left out)."""
    return {
        "PK": pk(tenant_id, channel_id),
        "SK": SK,
        "type": ITEM_TYPE,
        "tenant_id": tenant_id,
        "id": channel_id,
        **{k: v for k, v in fields.items() if v is not None},
    }


def create(stored: dict[str, Any]) -> None:
    """The channel (never over an existing id) and one membership per participant individual, in one transaction."""
    t, channel_id, created_at = stored["tenant_id"], stored["id"], stored["created_at"]
    individuals = sorted({p["individual_id"] for p in stored.get("participants", [])})
    ops: list[dict[str, Any]] = [{"Put": {"Item": table.marshal(stored), "ConditionExpression": "attribute_not_exists(PK)"}}]
    for individual in individuals:
        member = {
            "PK": member_pk(t, individual),
            "SK": member_sk(created_at, channel_id),
            "type": "video_channel_member",
            "tenant_id": t,
            "channel_id": channel_id,
            "individual_id": individual,
        }
        ops.append({"Put": {"Item": table.marshal(member)}})
    table.transact(ops)


def get(tenant_id: str, channel_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(pk(tenant_id, channel_id), SK, consistent=consistent)


def channel_ids_of(tenant_id: str, individual_id: str) -> list[str]:
    """The ids of the individual's channels, newest first: one Query of its membership key (paged by DynamoDB)."""
    items = table.query_all(
        KeyConditionExpression="PK = :pk AND begins_with(SK, :vc)",
        ExpressionAttributeValues=table.values(pk=member_pk(tenant_id, individual_id), vc="VCHAN#"),
        ScanIndexForward=False,
    )
    return [i["channel_id"] for i in items]


def batch(tenant_id: str, channel_ids: list[str]) -> dict[str, dict[str, Any]]:
    """These channels by id (one BatchGetItem per 100)."""
    wanted = {c: (pk(tenant_id, c), SK) for c in channel_ids}
    found = table.batch_get(wanted.values())
    return {c: found[k] for c, k in wanted.items() if k in found}


def update(
    tenant_id: str, channel_id: str, changes: dict[str, Any], *, condition: str | None = None, values: dict[str, Any] | None = None
) -> bool:
    """SET ``changes`` on an existing channel (a ``None`` value REMOVEs the attribute); with ``condition`` (over
    ``#state`` = ``channel_state``, ``#enc`` = ``encounter_delivery`` and the ``:``-names of ``values``) only when it
    holds. Answers whether the write happened (False: no such channel, or the condition failed)."""
    names: dict[str, str] = {"#state": "channel_state", "#enc": "encounter_delivery"}
    sets, removes = [], []
    attr_values: dict[str, Any] = dict(values or {})
    for i, (name, value) in enumerate(changes.items()):
        names[f"#f{i}"] = name
        if value is None:
            removes.append(f"#f{i}")
        else:
            sets.append(f"#f{i} = :v{i}")
            attr_values[f"v{i}"] = value
    expression = ("SET " + ", ".join(sets) if sets else "") + (" REMOVE " + ", ".join(removes) if removes else "")
    cond = "attribute_exists(PK)" + (f" AND ({condition})" if condition else "")
    used = {n: v for n, v in names.items() if n in expression or n in cond}
    return table.try_update(
        pk(tenant_id, channel_id),
        SK,
        expression.strip(),
        condition=cond,
        values=table.values(**{k.lstrip(":"): v for k, v in attr_values.items()}) if attr_values else None,
        names=used,
    )


def put_room(tenant_id: str, channel_id: str, room_sid: str) -> bool:
    """The global route of a room's callbacks to its channel, written once per room and never over another
    channel's (False then)."""
    route = {"PK": room_pk(room_sid), "SK": ROOM_SK, "type": "video_room", "tenant_id": tenant_id, "channel_id": channel_id}
    try:
        table.ddb().put_item(
            TableName=table.table_name(),
            Item=table.marshal(route),
            ConditionExpression="attribute_not_exists(PK) OR (tenant_id = :t AND channel_id = :c)",
            ExpressionAttributeValues=table.values(t=tenant_id, c=channel_id),
        )
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def room(room_sid: str) -> dict[str, Any] | None:
    """The room route: ``{tenant_id, channel_id}`` or ``None``."""
    return table.get(room_pk(room_sid), ROOM_SK)
