"""video-participants and video-compositions in the single table (docs/data-model.md §6.34): every read a GetItem or
a Query, never a Scan.

- participant ``PK = TENANT#<t>#VIDEOPART#<id>``, ``SK = VIDEOPART``: ``{type: "video_participant", tenant_id, id,
  channel_id, individual_id, account_type?, status, audio_state, disconnected, connected_at?, disconnected_at?, note?,
  room_sid?, participant_sid?, last_seq, created_at, last_modified_at, last_modified_by?}``. One per (channel,
  individual): ``id = uuid5(channel id, individual id)``. Listed by channel on GSI3 (``GSI3PK =
  TENANT#<t>#VIDEOPARTS#<channel>``, ``GSI3SK = <individual id>``: one individual's is a key condition); an
  individual's (a person's purge) on GSI4 (``GSI4PK = TENANT#<t>#VIDEOPARTS#IND#<individual>``, ``GSI4SK = <channel>``).
- composition ``PK = TENANT#<t>#VIDEOCOMP#<id>``, ``SK = VIDEOCOMP``: ``{type: "video_composition", tenant_id, id,
  channel_id, room_sid, account_sid?, composition_sid?, status, processing_status, processing_pct, size?, duration?,
  error?, last_seq, created_at, last_modified_at}``. One per (channel, room): ``id = uuid5(channel id, room sid)``.
  Listed by channel on GSI3 (``GSI3PK = TENANT#<t>#VIDEOCOMPS#<channel>``, ``GSI3SK = <created_at>#<id>``).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from parley.dal import table

PART_TYPE, PART_SK = "video_participant", "VIDEOPART"
COMP_TYPE, COMP_SK = "video_composition", "VIDEOCOMP"


def participant_pk(tenant_id: str, participant_id: str) -> str:
    return f"TENANT#{tenant_id}#VIDEOPART#{participant_id}"


def participants_pk(tenant_id: str, channel_id: str) -> str:
    return f"TENANT#{tenant_id}#VIDEOPARTS#{channel_id}"


def individual_pk(tenant_id: str, individual_id: str) -> str:
    return f"TENANT#{tenant_id}#VIDEOPARTS#IND#{individual_id}"


def composition_pk(tenant_id: str, composition_id: str) -> str:
    return f"TENANT#{tenant_id}#VIDEOCOMP#{composition_id}"


def compositions_pk(tenant_id: str, channel_id: str) -> str:
    return f"TENANT#{tenant_id}#VIDEOCOMPS#{channel_id}"


# ── participants ──
def get_participant(tenant_id: str, participant_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(participant_pk(tenant_id, participant_id), PART_SK, consistent=consistent)


def put_participant_if_absent(item: dict[str, Any]) -> bool:
    """Store a new participant; False (nothing written) when it exists already."""
    t = item["tenant_id"]
    stored = {**item, "PK": participant_pk(t, item["id"]), "SK": PART_SK, "type": PART_TYPE,
              "GSI3PK": participants_pk(t, item["channel_id"]), "GSI3SK": item["individual_id"],
              "GSI4PK": individual_pk(t, item["individual_id"]), "GSI4SK": item["channel_id"]}  # fmt: skip
    try:
        table.put_item(stored, condition="attribute_not_exists(PK)")
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def _update(pk: str, sk: str, changes: dict[str, Any], condition: str, condition_values: dict[str, Any],
            remove: tuple[str, ...] = ()) -> bool:  # fmt: skip
    names = {f"#a{i}": k for i, k in enumerate(changes)}
    values = {f"v{i}": v for i, v in enumerate(changes.values())}
    expr = "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(len(changes)))
    if remove:
        names.update({f"#r{i}": k for i, k in enumerate(remove)})
        expr += " REMOVE " + ", ".join(f"#r{i}" for i in range(len(remove)))
    values.update(condition_values)
    return table.try_update(pk, sk, expr, condition=condition, values=table.values(**values), names=names)


def update_participant(tenant_id: str, current: dict[str, Any], changes: dict[str, Any], *, remove: tuple[str, ...] = ()) -> bool:
    """Write ``changes`` if the participant is still as read (its ``last_modified_at``); False otherwise."""
    return _update(participant_pk(tenant_id, current["id"]), PART_SK, changes, "attribute_exists(PK) AND last_modified_at = :seen",
                   {"seen": current["last_modified_at"]}, remove)  # fmt: skip


def apply_participant_event(tenant_id: str, participant_id: str, changes: dict[str, Any], seq: int) -> bool:
    """Write a room event's ``changes`` only when ``seq`` is newer than the participant's last applied event (Twilio's
    per-room ``SequenceNumber``): a replayed or late event changes nothing. False when it was not newer."""
    return _update(participant_pk(tenant_id, participant_id), PART_SK, {**changes, "last_seq": seq},
                   "attribute_exists(PK) AND last_seq < :seq", {"seq": seq})  # fmt: skip


def participants_of(
    tenant_id: str, channel_id: str, *, individual_id: str | None, offset: int, limit: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of the channel's participants (by individual id), one individual's only when given; and how many."""
    condition = "GSI3PK = :pk" + (" AND GSI3SK = :ind" if individual_id else "")
    values: dict[str, Any] = {"pk": participants_pk(tenant_id, channel_id)}
    if individual_id:
        values["ind"] = individual_id
    return table.offset_page(offset, limit, IndexName="GSI3", KeyConditionExpression=condition,
                             ExpressionAttributeValues=table.values(**values))  # fmt: skip


def all_participants(tenant_id: str, channel_id: str) -> list[dict[str, Any]]:
    return table.query_raw(IndexName="GSI3", KeyConditionExpression="GSI3PK = :pk",
                           ExpressionAttributeValues=table.values(pk=participants_pk(tenant_id, channel_id)))  # fmt: skip


def participant_keys_of_individual(tenant_id: str, individual_id: str) -> list[tuple[str, str]]:
    """The keys of the individual's participants, in every channel (GSI4)."""
    items = table.query_raw(IndexName="GSI4", KeyConditionExpression="GSI4PK = :pk",
                            ExpressionAttributeValues=table.values(pk=individual_pk(tenant_id, individual_id)))  # fmt: skip
    return [(i["PK"], i["SK"]) for i in items]


# ── compositions ──
def get_composition(tenant_id: str, composition_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
    return table.get(composition_pk(tenant_id, composition_id), COMP_SK, consistent=consistent)


def put_composition_if_absent(item: dict[str, Any]) -> bool:
    t = item["tenant_id"]
    stored = {**item, "PK": composition_pk(t, item["id"]), "SK": COMP_SK, "type": COMP_TYPE,
              "GSI3PK": compositions_pk(t, item["channel_id"]), "GSI3SK": f"{item['created_at']}#{item['id']}"}  # fmt: skip
    try:
        table.put_item(stored, condition="attribute_not_exists(PK)")
    except ClientError as err:
        if table.is_condition_failure(err):
            return False
        raise
    return True


def set_composition(tenant_id: str, composition_id: str, changes: dict[str, Any]) -> bool:
    """Record Twilio's answer to the composition's create (its sid, or the failure)."""
    return _update(composition_pk(tenant_id, composition_id), COMP_SK, changes, "attribute_exists(PK)", {})


def apply_composition_event(tenant_id: str, composition_id: str, changes: dict[str, Any], rank: int, pct: int) -> bool:
    """Write a composition event's ``changes`` only when it moves the composition forward: a later state (``rank``), or
    the same state with a higher percent. False otherwise (nothing written)."""
    return _update(composition_pk(tenant_id, composition_id), COMP_SK, {**changes, "last_seq": rank, "processing_pct": pct},
                   "attribute_exists(PK) AND (last_seq < :rank OR (last_seq = :rank AND processing_pct < :pct))",
                   {"rank": rank, "pct": pct})  # fmt: skip


def compositions_of(tenant_id: str, channel_id: str, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    return table.offset_page(offset, limit, IndexName="GSI3", KeyConditionExpression="GSI3PK = :pk",
                             ExpressionAttributeValues=table.values(pk=compositions_pk(tenant_id, channel_id)))  # fmt: skip
